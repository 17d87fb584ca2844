"""What the Curves tab draws, as plain frames: per touchpoint, the evidence behind its curve and where the plan puts it.

- A curve fitted to a history is drawn per history period (a week or a month), where the evidence lives: each
  period's spend and engaged customers as points, the fitted curve, its 90 % band (from the fit's draws), the
  range of spend observed, and today's and the plan's average spend per period.
- Any other curve (tabulated from a model, given in the data, assumed) is drawn over the planning period: the
  curve, a tabulated curve's points and band, today's spend and the plan's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from ..curves import Curves
from ..evidence import Evidence, take_fits
from ..plan import Plan

VERDICT_ORDER = {"not identified": 0, "weak": 1, "good": 2}
SOURCE_ORDER = {S.ASSUMED: 0, S.GIVEN: 1, S.TABULATED: 2, S.FITTED: 3}
GRID = 80


def curves_table(plan: Plan, evidence: Evidence | None) -> pd.DataFrame:
    """One row per planned touchpoint: where its curve comes from and how good the fit is, weakest first
    (unidentified, weak, good; then assumed, given, tabulated curves)."""
    tp = plan.inputs
    table = plan.table.iloc[:len(tp)]
    out = pd.DataFrame({
        "touchpoint": tp[S.TOUCHPOINT].to_numpy(object), "curve": tp[S.CURVE].to_numpy(object),
        "rests on": tp[S.CURVE_SOURCE].to_numpy(object),
        "fit": tp["fit_verdict"].to_numpy(object) if "fit_verdict" in tp.columns else "",
        "R2 held out": _column(tp, "fit_r2_holdout").round(2),
        "error held out %": (100 * _column(tp, "fit_mape_holdout")).round(1),
        "periods": _column(tp, "periods_with_spend"),
        "spend today": table["current_spend"].to_numpy(float).round(0),
        "spend in plan": table["proposed_spend"].to_numpy(float).round(0),
        "beyond seen": np.where(table["proposed_spend"].to_numpy(float) > _observed(tp) * (1 + 1e-9), "yes", ""),
    })
    rank = out["fit"].map(VERDICT_ORDER).fillna(3) * 10 + out["rests on"].map(SOURCE_ORDER).fillna(5)
    return out.assign(_rank=rank).sort_values(["_rank", "touchpoint"], kind="stable").drop(columns="_rank") \
        .reset_index(drop=True)


def _column(tp: pd.DataFrame, name: str) -> np.ndarray:
    return tp[name].to_numpy(float) if name in tp.columns else np.full(len(tp), np.nan)


def _observed(tp: pd.DataFrame) -> np.ndarray:
    observed = tp[S.SPEND].to_numpy(float)
    return np.fmax(observed, _column(tp, S.OBSERVED_MAX))


def curve_frames(name: str, plan: Plan, evidence: Evidence | None) -> dict[str, object]:
    """The frames of one touchpoint's chart: `points` (spend, engaged, what), `line` (spend, engaged, lower, upper),
    `marks` (spend, what: today / the plan / observed range ends), `per` ('week', 'month' or 'planning period')
    and `note` (what the chart rests on, in words)."""
    tp = plan.inputs
    i = int(np.flatnonzero(tp[S.TOUCHPOINT].to_numpy(object) == name)[0])
    row = plan.table.iloc[i]
    today, planned = float(row["current_spend"]), float(row["proposed_spend"])
    source = tp[S.CURVE_SOURCE].iloc[i]
    fits = evidence.fits if evidence is not None else None
    if source == S.FITTED and fits is not None and evidence.history is not None and fits.family[i]:
        return _fitted(i, name, today, planned, evidence)
    curves = Curves.from_table(tp.iloc[[i]].reset_index(drop=True))
    top = max(float(row["upper_limit"]), planned, today, 1.0) * 1.1
    spend = np.linspace(0.0, top, GRID)
    line = pd.DataFrame({"spend": spend, "engaged": curves.engaged(spend[None, :])[0]})
    points = pd.DataFrame(columns=["spend", "engaged", "what"])
    tab = evidence.tabulated if evidence is not None else None
    if source == S.TABULATED and tab is not None:
        k = tab.names.index(name) if name in tab.names else -1
        if k >= 0:
            ok = np.isfinite(tab.spend[k])
            points = pd.DataFrame({"spend": tab.spend[k][ok], "engaged": tab.engaged[k][ok],
                                   "what": "the model's points"})
            if np.isfinite(tab.lower[k]).any():
                line["lower"] = np.interp(spend, tab.spend[k][ok], np.nan_to_num(tab.lower[k][ok]))
                line["upper"] = np.interp(spend, tab.spend[k][ok], np.nan_to_num(tab.upper[k][ok]))
    else:
        points = pd.DataFrame({"spend": [today], "engaged": [float(row["current_engaged"])],
                               "what": "today (the data)"})
    marks = pd.DataFrame({"spend": [today, planned], "what": ["today", "the plan"]})
    words = {S.TABULATED: "a response curve tabulated from a model", S.GIVEN: "a curve shape set in the data",
             S.ASSUMED: f"the default assumption (power, elasticity {S.DEFAULT_ELASTICITY}): no evidence",
             S.FITTED: "a curve fitted to its history"}
    return {"points": points, "line": line, "marks": marks, "per": "planning period",
            "note": f"'{name}' rests on {words.get(source, source)}; spend and engaged customers over the planning "
                    "period."}


def _fitted(i: int, name: str, today: float, planned: float, evidence: Evidence) -> dict[str, object]:
    """A fitted curve per history period, with the periods' points, its band and the observed range."""
    history, fits = evidence.history, evidence.fits
    per = "week" if history.frequency == "weekly" else "month"
    names, spend, engaged, observed = history.matrices()
    k = names.index(name)
    seen = observed[k]
    points = pd.DataFrame({"spend": spend[k][seen], "engaged": engaged[k][seen], "what": f"one {per} of history"})
    periods = evidence.shares.shape[1] if evidence.shares is not None else history.window.periods
    today_per, plan_per = today / periods, planned / periods
    top = max(float(np.nanmax(spend[k][seen], initial=0.0)), plan_per, today_per, 1.0) * 1.2
    grid = np.linspace(0.0, top, GRID)
    one = take_fits(fits, np.array([i]))
    line = pd.DataFrame({"spend": grid, "engaged": one.engaged(grid[None, :])[0]})
    low, high = one.band(grid[None, :])
    line["lower"], line["upper"] = low[0], high[0]
    lo, hi = float(fits.spend_min[i]), float(fits.spend_max[i])
    marks = pd.DataFrame({"spend": [today_per, plan_per, lo, hi],
                          "what": [f"today (per {per})", f"the plan (per {per})", "least spend observed",
                                   "most spend observed"]})
    verdict = fits.verdict[i] + (f": {fits.reason[i]}" if fits.reason[i] else "")
    note = (f"'{name}': a {fits.family[i]} curve fitted to {int(fits.periods_with_spend[i])} {per}s with spend "
            f"({verdict}; R2 held out {fits.r2_holdout[i]:.2f}); the band holds 90 % of the curves the fit allows. "
            f"Spend per {per}: the plan spreads its money over the {per}s as in the window.")
    return {"points": points, "line": line, "marks": marks, "per": per, "note": note}
