"""From evidence to the touchpoint table a plan is made on, and how sure the plan's figures are.

- **A history** (one row per touchpoint and period): one curve per touchpoint is fitted to the whole history
  (curves/fit.py); today is the window's totals; the plan is for a period of the window's length, each
  touchpoint's money spread over its weeks (or months) as in the window (its pattern scaled: the `spread`
  column, carry-over included), so the period's curve is E(S) = sum_t f(S a_t), a_t the window's (carried-over)
  share of week t. Touchpoints whose curve cannot be identified keep the documented assumption, labelled so.
- **Tabulated curves** (a marketing-mix model's response curves): attached to the touchpoints they name
  (`curve = tabulated`, `curve_points`); linear between points, never beyond the last.
- **The range of a plan's figures**: joint draws of every fitted curve (the fit's covariance, in log
  parameters), or a tabulated curve's band; the plan and today's allocation evaluated on the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import schema as S
from .curves import text as curve_text
from .curves.families import adstock_rows
from .curves.tabulated import TabulatedCurves
from .errors import InputError, Problem
from .history import History
from .risk import LEVEL, PlanRange
from .touchpoints import validate_touchpoints

if TYPE_CHECKING:  # fitting (scipy) is imported when a history is fitted: a touchpoint table never needs it
    from .curves.fit import CurveFits

DRAWS = 500
DISAGREE = 0.1
"""A tabulated curve whose value at today's spend differs from the table's engaged customers by more than this is
named in a notice: the two may count different things."""
SEED = 0


@dataclass
class Evidence:
    """A touchpoint table made from evidence, and what a plan's ranges need."""

    table: pd.DataFrame
    """The validated touchpoint table: curve columns, spread, curve_source, observed_max_spend, fit diagnostics."""
    fits: CurveFits | None = None
    """Per-period fits, one per row of `table` (rows without a fit: family '')."""
    shares: np.ndarray | None = None
    """Per row, the window's (carried-over) share of the period's money in each period (N x T): week t gets S a_t."""
    tabulated: TabulatedCurves | None = None
    """Tabulated curves aligned to `table` (rows without a curve: NaN), with their band where the file gives one."""
    history: History | None = None
    notices: list[str] = field(default_factory=list)

    def report(self) -> pd.DataFrame:
        """The fit table a person reads first: one row per touchpoint, weakest fits first."""
        t = self.table
        order = {"not identified": 0, "weak": 1, "good": 2}
        cols = [S.TOUCHPOINT, S.CURVE, S.CURVE_SOURCE, "fit_verdict", "fit_r2_holdout", "fit_mape_holdout",
                "periods_with_spend", "observed_spend_min", "observed_spend_max", "fit_reason"]
        out = t[[c for c in cols if c in t.columns]].copy()
        if "fit_verdict" in out.columns:
            out = out.sort_values("fit_verdict", key=lambda v: v.map(order).fillna(3), kind="stable")
        return out.reset_index(drop=True)


def from_history(history: History, *, carryover: bool | str = "auto") -> Evidence:
    """Fit every touchpoint of a history and make the table of its window (see the module docstring)."""
    from .curves.fit import NOT_IDENTIFIED, fit_curves
    from .curves.table import fitted_table

    names, spend, engaged, observed = history.matrices()
    fits = fit_curves(spend, engaged, observed, carryover=carryover)
    today = history.today()
    position = {name: i for i, name in enumerate(names)}
    rows = np.array([position[name] for name in today[S.TOUCHPOINT]], dtype=int)
    fits = take_fits(fits, rows)
    periods = history.window.periods
    window = spend[rows, -periods:]
    total = window.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = window / total[:, None]
    lam = np.nan_to_num(fits.carryover)
    # the window's pattern repeated once before it: its carry-over into the window is the pattern's own
    shares = adstock_rows(np.concatenate([share, share], axis=1), lam)[:, periods:]
    fitted = fitted_table(fits, list(today[S.TOUCHPOINT]), today[S.SPEND].to_numpy(float),
                          today[S.ENGAGED].to_numpy(float), periods)
    evident = (fits.verdict != NOT_IDENTIFIED)
    weights = np.where(evident[:, None], shares * periods, np.nan)  # mean 1 over the window's periods
    spread = curve_text.weights_text(weights)
    curve_engaged = _spread_value(fits, shares, today[S.SPEND].to_numpy(float))
    busiest = np.nanmax(np.where(share > 0, share, np.nan), axis=1, initial=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        reach = np.where(busiest > 0, fits.spend_max / busiest, np.nan)  # the period total at which the busiest
    table = today.copy()  # week spends the most ever observed in one period
    for column in fitted.columns:
        if column not in (S.TOUCHPOINT, S.SPEND, S.ENGAGED):
            table[column] = fitted[column].to_numpy()
    table[S.SPREAD] = np.where(evident, spread, "")
    table[S.CURVE_ENGAGED] = np.where(evident, curve_engaged, table[S.ENGAGED])
    table[S.OBSERVED_MAX] = np.where(evident, reach, np.nan)
    table = table.drop(columns=[c for c in ("unit_cost",) if c in table.columns])
    clean = validate_touchpoints(table, source=history.source)
    notices = list(today.attrs.get("notices", []))
    counts = pd.Series(fits.verdict).value_counts()
    notices.append("fitted " + ", ".join(f"{int(counts.get(v, 0))} {v}" for v in ("good", "weak", "not identified"))
                   + " curve(s); a touchpoint whose curve is not identified keeps the default assumption (power, "
                   f"elasticity {S.DEFAULT_ELASTICITY}), labelled 'assumed'")
    clean.attrs = {**today.attrs, "notices": notices}
    return Evidence(clean, fits, shares, None, history, notices)


def with_curves(touchpoints: pd.DataFrame, curves: TabulatedCurves, beyond: float = 1.0) -> Evidence:
    """The touchpoint table with each named touchpoint's curve tabulated (curve_source 'tabulated'); the others
    keep theirs. Touchpoints of the table without a curve, and curves of no touchpoint, are named in notices.
    `beyond` > 1 lets the plan take each curve up to that multiple of its last point, continued at its last slope
    (the `curve_beyond` column; an assumption the plan names where it binds)."""
    match = curves.match(touchpoints)
    have = match.index >= 0
    if not have.any():
        raise InputError([Problem(None, S.TOUCHPOINT, ", ".join(curves.names[:5]),
                                  "no curve names a touchpoint of the table",
                                  "name the curves' touchpoints as in the table (--map touchpoint=COLUMN)",
                                  curves.source)], curves.source)
    aligned = match.curves
    table = touchpoints.drop(columns=[c for c in ("unit_cost",) if c in touchpoints.columns]).copy()
    text = curve_text.points_text(aligned.spend, aligned.engaged)
    curve = table[S.CURVE].astype(object).to_numpy()
    table[S.CURVE] = np.where(have, "tabulated", curve)
    table[S.CURVE_POINTS] = np.where(have, text, table.get(S.CURVE_POINTS, ""))
    table[S.CURVE_SOURCE] = np.where(have, S.TABULATED, table[S.CURVE_SOURCE].to_numpy(object))
    for column in (S.ELASTICITY, S.SATURATION, S.HALF_SATURATION, S.SHAPE, S.CURVE_ENGAGED):
        if column in table.columns:
            table[column] = np.where(have, np.nan, table[column].to_numpy(float))
    if S.SPREAD in table.columns:
        table[S.SPREAD] = np.where(have, "", table[S.SPREAD].to_numpy(object))
    if beyond > 1.0:
        table[S.CURVE_BEYOND] = np.where(have, float(beyond), np.nan)
    clean = validate_touchpoints(table, source=touchpoints.attrs.get("source"))
    notices = list(touchpoints.attrs.get("notices", [])) + list(match.notices)
    on_curve, data = clean[S.CURVE_ENGAGED].to_numpy(float), clean[S.ENGAGED].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        apart = have & (np.abs(on_curve - data) > DISAGREE * np.maximum(data, 1.0))
    if apart.any():
        shown = ", ".join(f"'{n}' ({c:,.0f} on the curve, {d:,.0f} in the table)" for n, c, d in
                          zip(clean.loc[apart, S.TOUCHPOINT][:3], on_curve[apart][:3], data[apart][:3], strict=False))
        notices.append(f"{int(apart.sum())} curve(s) disagree with the table's engaged customers at today's spend by "
                       f"more than {DISAGREE:.0%}: {shown}{' ...' if apart.sum() > 3 else ''}. Do both count the same "
                       "thing (a model's incremental outcome against all customers engaged)? The plan uses the curves")
    if beyond > 1.0:
        notices.append(f"tabulated curves continued beyond their last point up to {beyond:g}x its spend, at their "
                       "last slope (an assumption you chose; the plan names it where it binds)")
    clean.attrs = {**touchpoints.attrs, "notices": notices}
    return Evidence(clean, tabulated=aligned.extended(beyond), notices=notices)


def take_fits(fits: CurveFits, rows: np.ndarray) -> CurveFits:
    """The fits of some touchpoints, in the given order."""
    from dataclasses import fields, replace

    picked = {f.name: getattr(fits, f.name)[rows] for f in fields(fits)
              if isinstance(getattr(fits, f.name), np.ndarray) and len(getattr(fits, f.name)) == len(fits)}
    return replace(fits, **picked)


def _spread_value(fits: CurveFits, shares: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """sum_t f(S a_t): the period's engagement at spend S, each period at its share of it."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.nansum(fits.engaged(spend[:, None] * shares), axis=1)


# ---- how sure: the range of a plan's figures (draws.py draws the curves, risk.py evaluates a plan on them) ---------

def plan_range(plan, evidence: Evidence, draws: int = DRAWS, seed: int = SEED, level: float = LEVEL,
               uncertainty: float | None = None) -> PlanRange | None:
    """Engaged customers of the plan and of today's allocation over `draws` joint draws of the curves that rest on
    a fit (the fit's covariance) or a tabulated band (draws.draw_curves), and, with `uncertainty`, of the others by
    a stated +/- on engagement; curves without either count as given. None when no plan, or no curve varies."""
    from .draws import check_draw_settings, draw_curves
    from .risk import plan_risk

    if not plan.ok:
        return None
    if isinstance(evidence, pd.DataFrame):  # a plain touchpoint table rests on no fit or band
        evidence = Evidence(evidence)
    if evidence.fits is None and evidence.tabulated is None and not uncertainty:  # no curve varies: no draws
        check_draw_settings(draws, uncertainty)
        return None
    sample = draw_curves(evidence, plan.scenario, draws, seed, uncertainty)
    return plan_risk(plan, sample, level)
