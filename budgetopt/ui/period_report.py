"""The figures and charts of a plan over time, for the page (no Streamlit here): each period's money and
engagement, the touchpoint x period heat map, the transfers between periods and the price of moving money."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from .charts import PLAN_COLOR, TODAY_COLOR
from .report import PLAN, TODAY

HEAT_ROWS = 40
"""The heat map shows the touchpoints whose money changes most; the rest are summed in one row."""
HEAT_COLORS = ("#f7fbff", "#08306b")
CHANGE_COLORS = ("#b2182b", "#f7f7f7", "#2166ac")


def has_periods(plan) -> bool:
    """True for a plan over periods that has a solution."""
    return plan is not None and getattr(plan, "by_period", None) is not None and plan.ok


def periods_frame(plan) -> pd.DataFrame:
    """Long rows for the periods chart: period, when (today / plan), spend, and the engaged customers in the
    period."""
    b = plan.by_period
    frames = [pd.DataFrame({"period": b["period"], "when": TODAY, "spend": b["current_spend"],
                            "engaged": b["current_engaged_in_period"]}),
              pd.DataFrame({"period": b["period"], "when": PLAN, "spend": b["proposed_spend"],
                            "engaged": b["engaged_in_period"]})]
    return pd.concat(frames, ignore_index=True)


def periods_chart(order: list[str]) -> dict:
    """Spend per period as bars (today grey, the plan blue, side by side) and the customers engaged in each
    period as a line per the same colours, on its own axis."""
    color = {"field": "when", "type": "nominal", "title": None, "legend": {"orient": "top"},
             "scale": {"domain": [TODAY, PLAN], "range": [TODAY_COLOR, PLAN_COLOR]}}
    x = {"field": "period", "type": "ordinal", "sort": order, "title": None,
         "axis": {"labelAngle": 0 if len(order) <= 13 else -45}}
    tooltip = [{"field": "period"}, {"field": "when"}, {"field": "spend", "format": ",.0f"},
               {"field": "engaged", "title": "engaged in the period", "format": ",.0f"}]
    return {
        "height": 320,
        "encoding": {"x": x, "tooltip": tooltip},
        "layer": [
            {"mark": {"type": "bar"}, "encoding": {
                "y": {"field": "spend", "type": "quantitative", "title": "spend", "axis": {"format": "~s"}},
                "xOffset": {"field": "when", "sort": [TODAY, PLAN]}, "color": color}},
            {"mark": {"type": "line", "point": True, "strokeDash": [4, 3]}, "encoding": {
                "y": {"field": "engaged", "type": "quantitative", "title": "engaged customers in the period",
                      "axis": {"format": "~s"}},
                "color": color}},
        ],
        "resolve": {"scale": {"y": "independent"}},
    }


def heat_frame(plan, measure: str = "proposed_spend", rows: int = HEAT_ROWS) -> pd.DataFrame:
    """Long rows touchpoint, period, value for the heat map: the plan's money (or its change against today's
    steady allocation, measure 'change') of the `rows` - 1 touchpoints whose money changes most over the horizon,
    largest first, and the others summed in one row."""
    t = plan.table
    t = t[t[S.WHAT_IF] != S.REMOVED] if S.WHAT_IF in t.columns else t
    value = t["change"] if measure == "change" else t[measure]
    frame = pd.DataFrame({"touchpoint": t[S.TOUCHPOINT].to_numpy(object), "period": t["period"].to_numpy(object),
                          "value": value.to_numpy(float), "today": t["current_spend"].to_numpy(float),
                          "plan": t["proposed_spend"].to_numpy(float)})
    moved = frame.assign(size=np.abs(frame["plan"] - frame["today"])).groupby("touchpoint", sort=False)["size"].sum()
    order = moved.sort_values(ascending=False, kind="stable").index.tolist()
    if len(order) > rows:
        keep, rest = order[: rows - 1], order[rows - 1:]
        others = frame[frame["touchpoint"].isin(rest)].groupby("period", sort=False)[["value", "today", "plan"]].sum()
        others = others.reset_index().assign(touchpoint=f"the other {len(rest)} touchpoints")
        frame = pd.concat([frame[frame["touchpoint"].isin(keep)], others], ignore_index=True)
        order = keep + [others["touchpoint"].iloc[0]]
    frame["touchpoint"] = pd.Categorical(frame["touchpoint"], categories=order, ordered=True)
    return frame.sort_values(["touchpoint"], kind="stable").reset_index(drop=True).assign(
        touchpoint=lambda f: f["touchpoint"].astype(str))


def heat_chart(frame: pd.DataFrame, periods: list[str], measure: str = "proposed_spend") -> dict:
    """A rectangle per touchpoint and period, coloured by the plan's money (white to dark blue) or by its change
    against today (red: less, blue: more, white: none)."""
    order = list(dict.fromkeys(frame["touchpoint"]))
    if measure == "change":
        top = float(np.abs(frame["value"]).max()) or 1.0
        scale = {"domain": [-top, 0, top], "range": list(CHANGE_COLORS)}
        title = "change against today"
    else:
        scale = {"range": list(HEAT_COLORS)}
        title = "spend in the plan"
    return {
        "height": 22 * len(order) + 60,
        "mark": {"type": "rect", "stroke": "white", "strokeWidth": 0.5},
        "encoding": {
            "x": {"field": "period", "type": "ordinal", "sort": periods, "title": None,
                  "axis": {"labelAngle": 0 if len(periods) <= 13 else -45, "orient": "top"}},
            "y": {"field": "touchpoint", "type": "nominal", "sort": order, "title": None,
                  "axis": {"labelLimit": 260, "labelOverlap": False}},
            "color": {"field": "value", "type": "quantitative", "title": title, "scale": scale,
                      "legend": {"format": "~s", "orient": "right", "gradientLength": 240}},
            "tooltip": [{"field": "touchpoint"}, {"field": "period"},
                        {"field": "today", "title": "spend today", "format": ",.0f"},
                        {"field": "plan", "title": "spend in the plan", "format": ",.0f"}],
        },
    }


def period_table(plan) -> pd.DataFrame:
    """Each period for people: money today and in the plan, the change, the customers engaged in it, and the
    marginal CPE there (empty where more money buys nothing)."""
    b = plan.by_period
    return pd.DataFrame({
        "period": b["period"], "spend today": b["current_spend"].round(0),
        "spend in plan": b["proposed_spend"].round(0),
        "change %": (100 * b["change_pct"]).round(1), "engaged in it today": b["current_engaged_in_period"].round(0),
        "engaged in it in plan": b["engaged_in_period"].round(0),
        "marginal CPE": b["marginal_cpe"].replace([np.inf, -np.inf], np.nan).round(2),
    })


def move_words(plan, currency: str | None = None, top: int = 3) -> list[str]:
    """The price of moving money between periods in sentences: the moves that would gain, largest first, or that
    none does."""
    from .. import units

    prices = plan.move_prices(top=top)
    per = units.per(1000, currency)
    if prices.empty:
        if not np.isfinite(plan.period_value).any():
            return []
        return ["Moving money between periods gains nothing at the margin: every period's last money engages as much "
                "as any other's (only the budget holds the periods together)."]
    return [f"Moving {per} from {p.from_period} to {p.to_period} would add {p.gain_per_1000:,.1f} {plan.measure}: "
            "a rule on the periods holds it back (see what holds the plan back)." for p in prices.itertuples()]
