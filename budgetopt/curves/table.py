"""Fitted curves as plain, editable columns of the touchpoint table (so a fitted table is a valid input file)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import schema as S
from . import families as F
from .fit import NOT_IDENTIFIED, CurveFits, period_curve

DIAGNOSTICS: tuple[str, ...] = ("fit_r2", "fit_r2_holdout", "fit_mape_holdout", "fit_verdict", "fit_reason",
                                "periods_with_spend", "observed_spend_min", "observed_spend_max")
"""Columns beside the curve's that say how far the fit can be trusted (tag columns for the loader)."""


def fitted_table(fits: CurveFits, names: Sequence[str], today_spend: np.ndarray, today_engaged: np.ndarray,
                 periods: float) -> pd.DataFrame:
    """The touchpoint-table columns of per-period fits for a planning period of `periods` history periods.

    One row per touchpoint: touchpoint, spend, engaged (today's, as given); the period curve
    E(S) = periods * f(S / periods) as curve columns (curve, elasticity, saturation, half_saturation, shape,
    curve_engaged = E(spend today), carryover) with curve_source `fitted`, or where the verdict is
    `not identified` the documented assumption (curve power, elasticity 0.6, anchored at today's point,
    curve_source `assumed`); observed_max_spend (the largest per-period spend x periods: the evidence's reach in
    planning-period money, which the extrapolation guard reads); then the diagnostics: fit_r2, fit_r2_holdout,
    fit_mape_holdout (a fraction), fit_verdict, fit_reason, periods_with_spend, observed_spend_min and
    observed_spend_max (per history period, spend > 0). A touchpoint with no spend today gets `cpe`, the
    fitted curve's average cost at observed_max_spend (the loader makes such a row linear). Add function,
    channel and any other columns before planning on it.
    """
    plan = period_curve(fits, periods)
    spend = np.asarray(today_spend, float)
    engaged = np.asarray(today_engaged, float)
    fitted = plan.verdict != NOT_IDENTIFIED
    family = np.where(fitted, plan.family, S.DEFAULT_CURVE).astype(object)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        on_curve = plan.engaged(spend)
        reach = fits.spend_max * periods
        average = reach / plan.engaged(reach)
    is_power, explicit = family == F.POWER, np.isin(family, (F.SATURATING, F.HILL))
    elasticity = np.where(fitted, np.where(is_power, plan.exponent, np.nan), S.DEFAULT_ELASTICITY)
    frame = pd.DataFrame({
        S.TOUCHPOINT: list(names), S.SPEND: spend, S.ENGAGED: engaged, S.CURVE: family,
        S.ELASTICITY: elasticity,
        S.SATURATION: np.where(fitted & explicit, plan.scale, np.nan),
        S.HALF_SATURATION: np.where(fitted & explicit, plan.half_saturation, np.nan),
        S.SHAPE: np.where(fitted & (family == F.HILL), plan.shape, np.nan),
        S.CURVE_ENGAGED: np.where(fitted, on_curve, engaged),
        S.CARRYOVER: np.where(fitted, plan.carryover, np.nan),
        S.CURVE_SOURCE: np.where(fitted, S.FITTED, S.ASSUMED).astype(object),
        S.CPE: np.where((spend == 0) & fitted & np.isfinite(average) & (average > 0), average, np.nan),
        S.OBSERVED_MAX: reach,
        "fit_r2": fits.r2, "fit_r2_holdout": fits.r2_holdout, "fit_mape_holdout": fits.mape_holdout,
        "fit_verdict": fits.verdict, "fit_reason": fits.reason, "periods_with_spend": fits.periods_with_spend,
        "observed_spend_min": fits.spend_min, "observed_spend_max": fits.spend_max,
    })
    return frame
