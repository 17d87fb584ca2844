"""Small charts as self-contained SVG text (no Streamlit, no JavaScript), shared by the page and the printable
report: the money moving between functions as a Sankey with the amount written on every link, and spend today
against the plan as bars.

Every name from the data is escaped; a hover shows the exact amount (an SVG <title>). Sizes are in the SVG's own
units (its viewBox); the SVG scales to the width it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from . import format as fmt
from .report import Sankey

FONT = "font-family='Source Sans Pro, Helvetica, Arial, sans-serif'"
CHAR = 7.0
"""Width of one character of 13-unit text, roughly: to leave room for labels."""
LINK = "rgba(37, 99, 235, 0.30)"
NODE = "#64748b"
TEXT = "#111827"
TODAY, PLAN = "#a3acb9", "#2563eb"


@dataclass(frozen=True)
class Band:
    """One link of the Sankey: its source end (top y at x0), its target end (top y at x1), its width."""

    source: int
    target: int
    value: float
    y0: float
    y1: float
    width: float


def sankey_svg(links: Sankey, width: float = 900.0, min_band: float = 16.0, gap: float = 14.0,
               scale: float | None = None) -> str:
    """The money moving between functions: givers on the left, receivers on the right, one band per transfer
    with its amount written at the giver's end. A band is at least `min_band` high, so its amount fits."""
    if not links.value:
        return ""
    givers = sorted(set(links.source), key=links.source.index)
    takers = sorted(set(links.target), key=links.target.index)
    total = float(sum(links.value))
    scale = scale if scale is not None else 360.0 / total  # 360 units for the whole flow, before minimums
    widths = [max(min_band, v * scale) for v in links.value]
    # order the bands at each node by the position of the other end, so that they do not cross needlessly
    rank_g = {n: i for i, n in enumerate(givers)}
    rank_t = {n: i for i, n in enumerate(takers)}
    order_out = sorted(range(len(widths)), key=lambda k: (rank_g[links.source[k]], rank_t[links.target[k]]))
    order_in = sorted(range(len(widths)), key=lambda k: (rank_t[links.target[k]], rank_g[links.source[k]]))
    height_of = {}
    for k, w in enumerate(widths):
        height_of[("g", links.source[k])] = height_of.get(("g", links.source[k]), 0.0) + w
        height_of[("t", links.target[k])] = height_of.get(("t", links.target[k]), 0.0) + w
    top = 10.0
    node_y = {}
    for side, nodes in (("g", givers), ("t", takers)):
        y = top
        for n in nodes:
            node_y[(side, n)] = y
            y += height_of[(side, n)] + gap
    height = max(node_y[("g", givers[-1])] + height_of[("g", givers[-1])],
                 node_y[("t", takers[-1])] + height_of[("t", takers[-1])]) + top
    gives = pd.Series(links.value).groupby(pd.Series(links.source)).sum()
    gets = pd.Series(links.value).groupby(pd.Series(links.target)).sum()
    label = {n: f"{links.labels[n]}  {fmt.short(gives[n])}" for n in givers}
    label |= {n: f"{fmt.short(gets[n])}  {links.labels[n]}" for n in takers}
    left_room = CHAR * max(len(label[n]) for n in givers) + 12
    right_room = CHAR * max(len(label[n]) for n in takers) + 12
    node_w = 14.0
    x0, x1 = left_room + node_w, width - right_room - node_w
    if x1 - x0 < 200:  # long names: give the bands room and let the SVG scale down
        width = x0 + 200 + node_w + right_room
        x1 = width - right_room - node_w
    out_y = {n: node_y[("g", n)] for n in givers}
    in_y = {n: node_y[("t", n)] for n in takers}
    bands: dict[int, Band] = {}
    for k in order_out:
        s = links.source[k]
        bands[k] = Band(s, links.target[k], links.value[k], out_y[s], 0.0, widths[k])
        out_y[s] += widths[k]
    for k in order_in:
        t = links.target[k]
        b = bands[k]
        bands[k] = Band(b.source, b.target, b.value, b.y0, in_y[t], b.width)
        in_y[t] += widths[k]
    mid = (x0 + x1) / 2
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width:.0f} {height:.0f}' width='100%' "
             f"role='img' aria-label='Money moving between functions' {FONT} font-size='13'>"]
    for k in range(len(widths)):
        b = bands[k]
        a, c = b.y0, b.y1
        path = (f"M{x0:.1f},{a:.1f} C{mid:.1f},{a:.1f} {mid:.1f},{c:.1f} {x1:.1f},{c:.1f} "
                f"L{x1:.1f},{c + b.width:.1f} C{mid:.1f},{c + b.width:.1f} {mid:.1f},{a + b.width:.1f} "
                f"{x0:.1f},{a + b.width:.1f} Z")
        parts.append(f"<path d='{path}' fill='{LINK}' stroke='white' stroke-width='0.5'>"
                     f"<title>{escape(links.text[k])}</title></path>")
    for k in range(len(widths)):  # amounts on top of every band, at the giver's end
        b = bands[k]
        parts.append(f"<text x='{x0 + 6:.1f}' y='{b.y0 + b.width / 2:.1f}' dominant-baseline='central' "
                     f"font-size='12' font-weight='600' fill='{TEXT}'>{escape(fmt.short(b.value))}"
                     f"<title>{escape(links.text[k])}</title></text>")
    for side, nodes, x, anchor, tx in (("g", givers, x0 - node_w, "end", x0 - node_w - 6),
                                       ("t", takers, x1, "start", x1 + node_w + 6)):
        for n in nodes:
            y, h = node_y[(side, n)], height_of[(side, n)]
            parts.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{node_w:.0f}' height='{h:.1f}' fill='{NODE}'/>")
            parts.append(f"<text x='{tx:.1f}' y='{y + h / 2:.1f}' text-anchor='{anchor}' dominant-baseline='central' "
                         f"fill='{TEXT}'>{escape(label[n])}</text>")
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(frame: pd.DataFrame, by: str, width: float = 900.0, row: float = 22.0) -> str:
    """Spend today (wide grey bar) and in the plan (narrow blue bar) per group, from report.before_after's frame,
    groups in the frame's order, each plan amount written at the end of its bar."""
    groups = frame[by].astype(str).unique().tolist()
    if not groups:
        return ""
    wide = frame.pivot_table(index=by, columns="when", values="spend", aggfunc="sum", sort=False)
    wide.index = wide.index.astype(str)
    wide = wide.reindex(groups).fillna(0.0)
    top = float(np.nanmax(wide.to_numpy())) or 1.0
    left = CHAR * max(len(g) for g in groups) + 10
    right = 70.0
    span = width - left - right
    legend = 22.0
    height = legend + row * len(groups) + 6
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width:.0f} {height:.0f}' width='100%' "
             f"role='img' aria-label='Spend today and in the plan by {escape(by)}' {FONT} font-size='12'>",
             f"<rect x='{left:.0f}' y='4' width='14' height='10' fill='{TODAY}'/>"
             f"<text x='{left + 18:.0f}' y='13' fill='{TEXT}'>today</text>"
             f"<rect x='{left + 70:.0f}' y='6' width='14' height='6' fill='{PLAN}'/>"
             f"<text x='{left + 88:.0f}' y='13' fill='{TEXT}'>plan</text>"]
    for k, group in enumerate(groups):
        y = legend + k * row
        today, plan = float(wide.loc[group].get("today", 0.0)), float(wide.loc[group].get("plan", 0.0))
        tip = escape(f"{group}: today {fmt.money(today)}, plan {fmt.money(plan)}")
        parts.append(f"<g><title>{tip}</title>"
                     f"<text x='{left - 8:.1f}' y='{y + row / 2:.1f}' text-anchor='end' dominant-baseline='central' "
                     f"fill='{TEXT}'>{escape(group)}</text>"
                     f"<rect x='{left:.1f}' y='{y + 3:.1f}' width='{span * today / top:.1f}' height='{row - 6:.1f}' "
                     f"fill='{TODAY}'/>"
                     f"<rect x='{left:.1f}' y='{y + row / 2 - 3:.1f}' width='{span * plan / top:.1f}' height='6' "
                     f"fill='{PLAN}'/>"
                     f"<text x='{left + span * max(today, plan) / top + 6:.1f}' y='{y + row / 2:.1f}' "
                     f"dominant-baseline='central' fill='{TEXT}'>{escape(fmt.short(plan))}</text></g>")
    parts.append("</svg>")
    return "".join(parts)
