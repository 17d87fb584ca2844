"""A table's rows written into a worksheet's XML in one go, as XlsxWriter would write them cell by cell.

XlsxWriter spends about 4 us on a cell (a call, checks, a tuple, then the XML of each cell in constant_memory
mode); a plan of 5,000 touchpoints has some 370,000. Here a column's cells become XML strings in one pass:
`<c r="B7" s="3"><v>1234.5</v></c>` for a number (formatted `.16G` as XlsxWriter does), an inline string
(`t="inlineStr"`, XML-escaped, control characters as `_xHHHH_`, `xml:space="preserve"` around edge spaces)
for text, `<c r="B7" s="3"/>` for an empty formatted cell and nothing for an empty plain one; rows are joined and
appended to the sheet's row data. The bytes are those XlsxWriter writes (tests/test_sheet_rows.py compares
whole workbooks). Text that starts with `<r>` and ends with `</r>` is escaped like any other (XlsxWriter would
copy it into the XML as rich text; `export._Book.sheet` stops that on its own path too).

It reads XlsxWriter's worksheet state (the row data file of constant_memory mode, the previous row, the
dimensions); `write_rows` declines (returns False, writing nothing) where that or a value is not the plain case,
and the caller writes cell by cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_LONGEST = 32_767 // 2
"""Text up to this length cannot pass Excel's limit of 32,767 UTF-16 units; longer text goes cell by cell (where
XlsxWriter cuts it)."""
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
"""What XlsxWriter changes in inline text: XML's special characters, control characters and the two
non-characters U+FFFE and U+FFFF (as `_xHHHH_`), and text that reads as such an escape."""
_EDGE_SPACE = re.compile(r"(?:^|\x00)\s|\s(?:\x00|\Z)")
"""A text (of texts joined by \\x00) that starts or ends with white space."""
_NONE = type(None)


def write_rows(ws: object, columns: Sequence[Sequence[object]], styles: Sequence[object | None],
               first: int) -> bool:
    """Write rows `first`, `first`+1, ... (0-based) of a worksheet from cells given column by column (None: an
    empty cell; str, float or int otherwise) with one cell format (or None) per column. Returns False, having
    written nothing, unless the sheet is in constant_memory mode with rows up to `first` - 1 written and plain
    rows (no row formats or heights), the rows and columns within Excel's sheet, and every value is None, text
    within Excel's length, a finite float or an int. (Declining, it may have written out the rows before
    `first`, as XlsxWriter's next write would.) Afterwards, write only below the last row that holds a cell: a
    row written here cannot take more cells."""
    from xlsxwriter.utility import xl_col_to_name  # imported when a workbook is written

    count = len(columns[0]) if columns else 0
    if not count or not _plain_sheet(ws, first) or first + count > ws.xls_rowmax or len(columns) > ws.xls_colmax:
        return False
    ws._write_single_row(first)  # the rows before go out first (constant_memory keeps one row at a time)
    rows = [str(r) for r in range(first + 1, first + count + 1)]
    cells = []
    for j, (values, style) in enumerate(zip(columns, styles, strict=True)):
        column = _column_xml(values, xl_col_to_name(j), style, rows)
        if column is None:
            return False
        cells.append(column)
    held = [j for j, column in enumerate(cells) if any(column)]  # columns with a cell
    if not held:
        return True
    parts, written = [], []
    for at, row_cells in enumerate(zip(*cells, strict=True)):
        row = "".join(row_cells)
        if row:
            parts.append(f'<row r="{rows[at]}">{row}</row>')
            written.append(at)
    ws._check_dimensions(first + written[0], held[0])  # the sheet's extent, as the cells' writes would set it
    ws._check_dimensions(first + written[-1], held[-1])
    ws.fh.write("".join(parts))
    ws.previous_row = first + written[-1]  # rows up to the last with a cell are out: the next write goes below
    return True


def _plain_sheet(ws: object, first: int) -> bool:
    """Whether XlsxWriter would write rows from `first` on as `<row r="n">` with cells only."""
    return (getattr(ws, "constant_memory", False) and not ws.row_info and not ws.comments
            and ws.excel_version == 2007 and ws.default_row_height == ws.original_row_height
            and ws.previous_row < first and not ws.row_data_fh_closed)


def _column_xml(values: Sequence[object], letter: str, style: object | None, rows: list[str]) -> list[str] | None:
    """The cells of one column as XML (an empty string for an empty unformatted cell); None if a value is not
    plain (see `write_rows`)."""
    kinds = {value.__class__ for value in values}
    if not kinds <= {float, int, str, _NONE}:
        return None
    if float in kinds and not all(map(math.isfinite, [value for value in values if value.__class__ is float])):
        return None
    s = "" if style is None else f' s="{style._get_xf_index()}"'
    gap = f'<c r="{letter}{{}}"{s}/>'.format if style is not None else "".format  # an empty cell: formatted or none
    pairs = zip(rows, values, strict=True)
    if str not in kinds:  # numbers (and gaps): most columns, in one pass
        return [f'<c r="{letter}{r}"{s}><v>{value:.16G}</v></c>' if value is not None else gap(r)
                for r, value in pairs]
    texts = [value for value in values if value.__class__ is str]
    if max(map(len, texts)) > _LONGEST:
        return None
    if kinds <= {str, _NONE} and not _NEEDS_ESCAPE.search("".join(texts)):  # plain text (and gaps), in one pass
        if not _EDGE_SPACE.search("\x00".join(texts)):  # no text to keep spaces of (\x00 is in none of them)
            return [f'<c r="{letter}{r}"{s} t="inlineStr"><is><t>{value}</t></is></c>'
                    if value is not None else gap(r) for r, value in pairs]
        return [f'<c r="{letter}{r}"{s} t="inlineStr"><is><t{_space(value)}>{value}</t></is></c>'
                if value is not None else gap(r) for r, value in pairs]
    out = []
    for r, value in pairs:
        kind = value.__class__
        if kind is str:
            text = _escaped(value)  # the space kept is that around the escaped text, as XlsxWriter has it
            space = _space(text)
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            out.append(f'<c r="{letter}{r}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>')
        elif value is None:
            out.append(gap(r))
        else:
            out.append(f'<c r="{letter}{r}"{s}><v>{value:.16G}</v></c>')
    return out


def _space(text: str) -> str:
    """The attribute that keeps a text's leading or trailing white space (none without)."""
    return ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""


def _escaped(text: str) -> str:
    """Control characters and non-characters as Excel's `_xHHHH_` (and text that reads as one escaped itself):
    XlsxWriter's own function."""
    from xlsxwriter.xmlwriter import XMLwriter

    return XMLwriter._escape_control_characters(text)
