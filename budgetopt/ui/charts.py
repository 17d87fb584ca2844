"""The page's charts as Vega-Lite specs (plain dicts, no Streamlit): the page hands them to st.vega_lite_chart.

A plain spec rather than an Altair chart: Altair validates every spec against the schema, which cost 0.1 s per
rerun with 1,000 touchpoints.
"""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from . import report

TODAY_COLOR, PLAN_COLOR = "#a3acb9", "#2563eb"
TODAY_MARK, PLAN_MARK = "#4b5563", "#ea580c"  # the frontier's marked points: dark grey, orange


def before_after_bars(frame: pd.DataFrame, by: str) -> dict:
    """Today as a wide grey bar, the plan as a narrow blue bar inside it, one row per group."""
    order = frame[by].unique().tolist()
    whens = [report.TODAY, report.PLAN]
    return {
        "height": 24 * len(order) + 150,  # the height includes the axes, the legend and their padding
        "encoding": {
            "y": {"field": by, "type": "nominal", "sort": order, "title": None, "axis": {"labelOverlap": False}},
            "x": {"field": "spend", "type": "quantitative", "title": "spend", "axis": {"format": "~s"}},
            "color": {"field": "when", "type": "nominal", "title": None, "legend": {"orient": "top"},
                      "scale": {"domain": whens, "range": [TODAY_COLOR, PLAN_COLOR]}},
            "tooltip": [{"field": by}, {"field": "when"}, {"field": "spend", "format": ",.0f"},
                        {"field": "engaged", "format": ",.0f"}, {"field": "cpe", "title": "CPE", "format": ",.2f"}],
        },
        "layer": [{"transform": [{"filter": {"field": "when", "equal": when}}], "mark": {"type": "bar", "size": size}}
                  for when, size in zip(whens, (18, 8), strict=True)],
    }


def single_bars(frame: pd.DataFrame, by: str, field: str, title: str, color: str, axis_format: str = "") -> dict:
    """One bar per group, in the frame's order."""
    order = frame[by].tolist()
    return {
        "height": 26 * len(order) + 60,  # the height includes the axis
        "mark": {"type": "bar", "color": color},
        "encoding": {
            "y": {"field": by, "type": "nominal", "sort": order, "title": None, "axis": {"labelOverlap": False}},
            "x": {"field": field, "type": "quantitative", "title": title, "axis": {"format": axis_format}},
            "tooltip": [{"field": by}, {"field": S.SPEND, "format": ",.0f"},
                        {"field": "cpe", "title": "CPE", "format": ",.2f"}],
        },
    }


def frontier_chart(measure: str) -> dict:
    """The frontier as a line with points; today and the plan as large labelled points."""
    marked = {"filter": {"field": "point", "oneOf": ["today", "the plan"]}}
    return {
        "height": 360,
        "encoding": {
            "x": {"field": "budget", "type": "quantitative", "title": "budget", "axis": {"format": "~s"},
                  "scale": {"zero": False}},
            "y": {"field": "engagement", "type": "quantitative", "title": measure,
                  "axis": {"format": "~s"}, "scale": {"zero": False}},
            "tooltip": [{"field": "point"}, {"field": "budget", "format": ",.0f"},
                        {"field": "engagement", "title": measure, "format": ",.0f"},
                        {"field": "engaged customers", "format": ",.0f"},
                        {"field": "marginal CPE", "format": ",.2f"}],
        },
        "layer": [
            {"transform": [{"filter": {"field": "point", "equal": report.FRONTIER}}],
             "mark": {"type": "line", "point": True, "color": PLAN_COLOR}},
            {"transform": [marked], "mark": {"type": "point", "filled": True, "size": 220, "opacity": 1},
             "encoding": {"color": {"field": "point", "type": "nominal", "title": None, "legend": {"orient": "top"},
                                    "scale": {"domain": ["today", "the plan"], "range": [TODAY_MARK, PLAN_MARK]}}}},
            {"transform": [marked], "mark": {"type": "text", "align": "left", "dx": 10, "dy": -10,
                                             "fontWeight": "bold", "fontSize": 13},
             "encoding": {"text": {"field": "point"}}},
        ],
    }


def compare_chart(figure: str, color: str, order: list[str]) -> dict:
    """One bar per scenario, in the order chosen."""
    return {
        "height": 34 * len(order) + 50,
        "title": {"text": figure, "anchor": "start", "fontSize": 13},
        "mark": {"type": "bar", "color": color},
        "encoding": {
            "y": {"field": "scenario", "type": "nominal", "sort": order, "title": None,
                  "axis": {"labelOverlap": False, "labelLimit": 220}},
            "x": {"field": "value", "type": "quantitative", "title": None, "axis": {"format": "~s"}},
            "tooltip": [{"field": "scenario"}, {"field": "value", "title": figure, "format": ",.0f"}],
        },
    }


def curve_chart(per: str, has_band: bool) -> dict:
    """One touchpoint's response curve: its band (shaded), the curve (line), the evidence (points) and where today
    and the plan sit (vertical rules, labelled). Data: a long frame with a `layer` column (band, curve, points,
    marks), built by ui.curve_view."""
    x = {"field": "spend", "type": "quantitative", "title": f"spend per {per}", "axis": {"format": "~s"}}
    y = {"field": "engaged", "type": "quantitative", "title": f"engaged customers per {per}",
         "axis": {"format": "~s"}}
    layers = []
    if has_band:
        layers.append({"transform": [{"filter": {"field": "layer", "equal": "band"}}],
                       "mark": {"type": "area", "opacity": 0.2, "color": PLAN_COLOR},
                       "encoding": {"x": x, "y": {**y, "field": "lower"}, "y2": {"field": "upper"}}})
    layers += [
        {"transform": [{"filter": {"field": "layer", "equal": "curve"}}],
         "mark": {"type": "line", "color": PLAN_COLOR, "strokeWidth": 2}, "encoding": {"x": x, "y": y}},
        {"transform": [{"filter": {"field": "layer", "equal": "points"}}],
         "mark": {"type": "point", "filled": True, "color": TODAY_MARK, "opacity": 0.7},
         "encoding": {"x": x, "y": y, "tooltip": [{"field": "what"}, {"field": "spend", "format": ",.0f"},
                                                   {"field": "engaged", "format": ",.0f"}]}},
        {"transform": [{"filter": {"field": "layer", "equal": "marks"}}],
         "mark": {"type": "rule", "strokeDash": [4, 3]},
         "encoding": {"x": x, "color": {"field": "what", "type": "nominal", "title": None,
                                        "legend": {"orient": "top"}}}},
    ]
    return {"height": 360, "layer": layers}


def curve_data(frames: dict) -> pd.DataFrame:
    """The frames of ui.curve_view.curve_frames as one long frame for `curve_chart`."""
    line = frames["line"]
    parts = [line.assign(layer="curve"), frames["points"].assign(layer="points"),
             frames["marks"].assign(layer="marks")]
    if "lower" in line.columns:
        parts.insert(0, line.assign(layer="band"))
    return pd.concat(parts, ignore_index=True)
