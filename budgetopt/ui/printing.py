"""How the page prints (no Streamlit here): a print stylesheet for A4, and static tables that stand in for the
interactive ones on paper.

On paper the sidebar, the buttons and the element toolbars go, the main area takes the whole width, and no card,
chart, table row or list item is split across pages. An interactive table (st.dataframe) is drawn on a canvas
of the screen's width and scrolls: printed, it would be cut. So it is hidden on paper and a plain HTML table
of the same figures (`PRINT_ONLY`, invisible on screen) is printed in its place.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from . import format as fmt

PRINT_ONLY = "budgetopt-print-only"
PRINT_ROWS = 60
"""Rows of a print-only table; a longer table prints its first rows and says how many more the downloads hold."""

STYLE = f"""
<style>
.{PRINT_ONLY} {{ display: none; }}
@media print {{
  @page {{ size: A4; margin: 10mm; }}
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
  [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stElementToolbar"],
  [data-testid="stStatusWidget"], .stButton, .stDownloadButton, .stFormSubmitButton,
  [data-testid="stDataFrame"], [data-testid="stForm"] {{ display: none !important; }}
  [data-testid="stMain"], [data-testid="stAppViewContainer"] {{ margin: 0 !important; padding: 0 !important;
                                                               overflow: visible !important; }}
  [data-testid="stMainBlockContainer"] {{ max-width: 100% !important; padding: 0 !important; }}
  [data-testid="stMetric"], [data-testid="stVegaLiteChart"], [data-testid="stImage"], [data-testid="stTable"],
  [data-testid="stAlert"], [data-testid="stCaptionContainer"], .{PRINT_ONLY} tr, li, h1, h2, h3 {{
    break-inside: avoid; }}
  h1, h2, h3 {{ break-after: avoid; }}
  .{PRINT_ONLY} {{ display: block !important; }}
  .{PRINT_ONLY} table {{ width: 100%; border-collapse: collapse; font-size: 8pt; }}
  .{PRINT_ONLY} th, .{PRINT_ONLY} td {{ padding: 1px 4px; border-bottom: 1px solid #e5e7eb; text-align: left; }}
  .{PRINT_ONLY} td.num, .{PRINT_ONLY} th.num {{ text-align: right; white-space: nowrap; }}
}}
</style>
"""
"""The print stylesheet, for st.html (a <style> element alone adds nothing visible to the page)."""


def html_table(frame: pd.DataFrame, money: tuple[str, ...] = (), cpe: tuple[str, ...] = (),
               percent: tuple[str, ...] = ()) -> str:
    """A plain HTML table of a frame, every cell escaped: money with thousands separators, CPE to the cent,
    percentages (given as numbers of percent) with a sign; other numbers as money."""
    def cell(column: str, value: object) -> tuple[str, bool]:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "", True
        if column in cpe:
            return fmt.cpe(float(value)), True
        if column in percent:
            return fmt.percent(float(value) / 100, signed=True), True
        if column in money or isinstance(value, int | float | np.number) and not isinstance(value, bool):
            return fmt.money(float(value)), True
        return str(value), False

    head = "".join(f"<th class='{'num' if c in (*money, *cpe, *percent) else ''}'>{escape(str(c))}</th>"
                   for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = [cell(str(c), v) for c, v in zip(frame.columns, row, strict=True)]
        body.append("<tr>" + "".join(f"<td class='{'num' if num else ''}'>{escape(text)}</td>" for text, num in cells)
                    + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def print_only(frame: pd.DataFrame, what: str, **formats: tuple[str, ...]) -> str:
    """A table shown only on paper: the first PRINT_ROWS rows, and how many more there are."""
    shown = frame.head(PRINT_ROWS)
    more = len(frame) - len(shown)
    tail = f"<p>… and {more:,} more {escape(what)}: every row is in the downloads.</p>" if more > 0 else ""
    return f"<div class='{PRINT_ONLY}'>{html_table(shown, **formats)}{tail}</div>"
