"""Seasonality: how many customers the same money engages in each season against a touchpoint's fitted curve.

Estimated from a history and its fits (pure numpy). For touchpoint i and season k (month of the year, quarter,
four-week period or week of the year: `horizon.slot_of`), over the history periods t of that season where the
curve is fitted:

    raw_ik = sum_t e_it / sum_t f_i(a_it)        (observed over fitted engagement; a the adstocked spend)

with years_ik = (periods of season k seen) / (periods of season k in a year) of evidence behind it. Shrinkage
toward the index of all touchpoints (the company's season), itself shrunk toward 1, by `kappa` years:

    pool_k   = (Y_k raw_pool_k + kappa) / (Y_k + kappa),     raw_pool_k = sum_i sum_t e / sum_i sum_t f,
    index_ik = (years_ik raw_ik + kappa pool_k) / (years_ik + kappa),

Y_k the most years of any touchpoint. Each touchpoint's index is then divided by its mean over the seasons of a
year (so a year of steady spend engages what its fitted curve says). Touchpoints without a fitted curve take the
pooled index. A history shorter than a year leaves the seasons it has not seen at the pooled index (1 where no
touchpoint saw them): the shrinkage is what keeps one odd month from becoming next year's plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import schema as S
from .curves import text as curve_text
from .curves.families import adstock_rows
from .horizon import SLOTS, Calendar, calendar_of, slot_of

if TYPE_CHECKING:  # fits exist only where a history was fitted (and scipy imported for it)
    from .curves.fit import CurveFits

PERIODS_PER_YEAR = {"weekly": 52.0, "monthly": 12.0}
INDEX_RANGE = (0.05, 20.0)
"""An estimated index is kept within this range (beyond it a season is a data problem, not a season)."""


def estimate(spend: np.ndarray, engaged: np.ndarray, observed: np.ndarray, period_starts: pd.DatetimeIndex,
             frequency: str, fits: CurveFits, kind: str, kappa: float = 1.0) -> np.ndarray:
    """Seasonality index per touchpoint and season of `kind` (N x SLOTS[kind]), from a history (N x H arrays, the
    rows of `fits`) whose periods start on `period_starts` (module docstring)."""
    s = np.where(observed, np.nan_to_num(spend), 0.0)
    e = np.where(observed, np.nan_to_num(engaged), 0.0)
    lam = np.nan_to_num(fits.carryover)
    with np.errstate(all="ignore"):
        fitted = fits.engaged(adstock_rows(s, lam))
    usable = observed & np.isfinite(fitted) & (fitted > 0) & (fits.family != "")[:, None]
    step = pd.Timedelta(days=3) if frequency == "weekly" else pd.Timedelta(days=14)
    season = slot_of(pd.DatetimeIndex(period_starts) + step, kind)
    slots = SLOTS[kind]
    one_hot = np.zeros((len(season), slots))
    one_hot[np.arange(len(season)), season] = 1.0
    seen = np.where(usable, e, 0.0) @ one_hot
    expected = np.where(usable, fitted, 0.0) @ one_hot
    per_year = PERIODS_PER_YEAR[frequency] / slots
    years = (usable.astype(float) @ one_hot) / per_year
    with np.errstate(divide="ignore", invalid="ignore"):
        raw_pool = seen.sum(axis=0) / expected.sum(axis=0)
        cover = years.max(axis=0, initial=0.0)
        pool = np.where(expected.sum(axis=0) > 0, (cover * raw_pool + kappa) / (cover + kappa), 1.0)
        pool = np.where(np.isfinite(pool), pool, 1.0)
        raw = seen / expected
        index = np.where(expected > 0, (years * raw + kappa * pool) / (years + kappa), pool)
    index = np.where(np.isfinite(index), index, pool)
    index = np.clip(index, *INDEX_RANGE)
    return index / index.mean(axis=1, keepdims=True)


def for_horizon(index: np.ndarray, calendar: Calendar) -> np.ndarray:
    """Seasons (N x SLOTS) to the periods of a dated horizon (N x T)."""
    slots = calendar.slots()
    if slots is None:
        raise ValueError("a seasonality estimated by season needs a horizon with dates (a start)")
    return index[:, slots]


def read_index(table: pd.DataFrame, count: int, source: str | None = None) -> np.ndarray:
    """The table's `seasonality` column as N x T indices (1 where empty); raises InputError naming each row whose
    count of indices is not the horizon's."""
    from .errors import InputError, Problem

    n = len(table)
    if S.SEASONALITY not in table.columns:
        return np.ones((n, count))
    values = curve_text.read_numbers(table[S.SEASONALITY])
    if values.shape[1] == 0:
        return np.ones((n, count))
    given = np.isfinite(values).sum(axis=1)
    wrong = (given > 0) & (given != count)
    if wrong.any():
        names = table[S.TOUCHPOINT].to_numpy(object)
        raise InputError([Problem(None, S.SEASONALITY, table[S.SEASONALITY].iloc[i],
                                  f"'{names[i]}' has {given[i]} seasonality indices for a horizon of {count} periods",
                                  "give one index per period of the horizon, or leave it empty (1 in every period)",
                                  source) for i in np.flatnonzero(wrong)[:20]], source)
    out = np.ones((n, count))
    full = given == count
    if full.any():
        out[full] = values[full][:, :count] if values.shape[1] >= count else values[full]
    return out


def index_text(index: np.ndarray) -> list[str]:
    """Indices (N x T) as the `seasonality` column's text, 4 significant digits."""
    return curve_text.weights_text(index)


def for_plan(evidence, scenario) -> pd.DataFrame:
    """The evidence's touchpoint table, with a `seasonality` column over the scenario's horizon estimated from its
    history (`estimate`) when the scenario plans over dated periods with seasonality 'data', the data is a history
    and the table has no seasonality of its own; else the table as it is."""
    table = evidence.table
    periods = getattr(scenario, "periods", None)
    history, fits = getattr(evidence, "history", None), getattr(evidence, "fits", None)
    if (periods is None or periods.seasonality != "data" or history is None or fits is None
            or S.SEASONALITY in table.columns):
        return table
    calendar = calendar_of(table.attrs, periods.horizon, periods.start)
    if calendar.start is None:
        return table
    names, spend, engaged, observed = history.matrices()
    position = {name: i for i, name in enumerate(names)}
    rows = np.array([position[name] for name in table[S.TOUCHPOINT]], dtype=int)
    index = estimate(spend[rows], engaged[rows], observed[rows], history.periods, history.frequency, fits,
                     calendar.kind, periods.shrinkage)
    planned = for_horizon(index, calendar)
    out = table.copy()
    out[S.SEASONALITY] = index_text(planned)
    season = {"month": "month of the year", "quarter": "quarter", "four-week period": "four-week period of the "
              "year", "week": "week of the year"}[calendar.kind]
    notice = (f"seasonality estimated from the history per {season} (observed against fitted engagement, pulled "
              f"toward all touchpoints' by {periods.shrinkage:g} year(s) of evidence): from {planned.min():.2f} "
              f"to {planned.max():.2f} over the horizon ({calendar.labels[0]} to {calendar.labels[-1]})")
    out.attrs = {**table.attrs, "notices": [*table.attrs.get("notices", []), notice], "seasonality": "history"}
    return out
