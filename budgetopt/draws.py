"""K joint draws of every planned touchpoint's response curve, reproducible with a seed (issue 14 part 1).

Each touchpoint's curve is drawn by what it rests on (`Draws.source`):

- **fit**: a curve fitted to a history is drawn from the fit's covariance (theta ~ Normal(theta_hat, cov) in the
  fit's log and logit parameters, `CurveFits.draws`); draw k's period curve is E_k(S) = sum_t f_k(S a_t), a_t the
  window's (carried-over) share of the period's money in week t, as the plan's own curve (evidence.py).
- **band**: a tabulated curve whose file gives a band (an MMM tool's credible interval) is drawn within it: draw k
  is lower + u_k (upper - lower), u_k ~ Uniform(0, 1), one u_k for every banded touchpoint (the bands say nothing
  of how touchpoints move together; one position for all is the widest spread of the total they allow).
- **stated**: a curve with no evidence of its uncertainty gets a stated +/- on engagement when one is given
  (`uncertainty` u, e.g. 0.2): draw k is m_ki E_i(S), m_ki = max(0, 1 + u z_ki / 1.645), z ~ Normal(0, 1)
  independent across touchpoints and draws: 90 % of the draws lie within +/- u of the curve as given.
- **given**: any other curve counts as given (the same in every draw).

A scenario's what-ifs apply to the draws as to the plan: a touchpoint the scenario makes dearer (engaged x f) has
every draw scaled by f; a removed one is left out; an added one has no evidence (stated or given). Draws are
evaluated on any spend, vectorised: spend (N,) gives (K, N), spend (N, M) gives (K, N, M).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import schema as S
from .curves import Curves
from .curves import families as F
from .errors import BudgetOptError
from .evidence import Evidence
from .overrides import apply_overrides
from .scenario import Scenario

if TYPE_CHECKING:  # draws of fits exist only where a history was fitted (and scipy imported for it)
    from .curves.fit import CurveDraws

FIT, BAND, STATED, GIVEN = "fit", "band", "stated", "given"
SOURCES: tuple[str, ...] = (FIT, BAND, STATED, GIVEN)
Z90 = 1.6448536269514722
"""The standard normal's 95 % quantile: a stated +/- u is the 90 % range of the multiplier 1 + u z / Z90."""
MAX_DRAWS = 100_000
CHUNK = 4_000_000
"""Values of fitted curves computed at once (draws x touchpoints x spend points x weeks), to bound memory."""
_ROW = "__draw_row"


@dataclass(frozen=True)
class Draws:
    """K joint draws of the planned touchpoints' curves (see the module docstring). Arrays over N touchpoints are
    in the order of the planned table (the scenario's what-ifs applied)."""

    names: np.ndarray
    """Touchpoint names, the planned table's order."""
    source: np.ndarray
    """Per touchpoint: FIT, BAND, STATED or GIVEN."""
    curves: Curves
    """The curves as planned (the point each draw varies around)."""
    factor: np.ndarray
    """K x N multipliers of every draw: the stated +/- where STATED, the what-ifs' engaged x f where a drawn fit or
    band stands for the curve (the planned curves carry it already), 1 elsewhere."""
    seed: int
    uncertainty: float | None = None
    fitted: CurveDraws | None = None
    """Parameter draws (K x n_fit) of the FIT touchpoints, in the order of `fit_rows`."""
    shares: np.ndarray | None = None
    """Per FIT touchpoint, its share of the period's money in each week (n_fit x T)."""
    band_lower: np.ndarray | None = None
    band_upper: np.ndarray | None = None
    band_spend: np.ndarray | None = None
    """Tabulated points (n_band x P) of the BAND touchpoints: spend, lower and upper engaged."""
    position: np.ndarray | None = None
    """u_k: each draw's position in the bands (K,)."""

    @property
    def count(self) -> int:
        """K, the number of draws."""
        return int(self.factor.shape[0])

    def __len__(self) -> int:
        return len(self.names)

    @property
    def varying(self) -> np.ndarray:
        """Per touchpoint: True where the draws differ (FIT, BAND or STATED)."""
        return self.source != GIVEN

    @property
    def fit_rows(self) -> np.ndarray:
        return np.flatnonzero(self.source == FIT)

    @property
    def band_rows(self) -> np.ndarray:
        return np.flatnonzero(self.source == BAND)

    def engaged(self, spend: np.ndarray) -> np.ndarray:
        """Engaged customers of every touchpoint under every draw: spend (N,) -> (K, N); spend (N, M) -> (K, N, M).

        e_ki(s) = m_ki E_i(s) (given, stated); m_ki sum_t f_ki(s a_it) (fit); m_ki (lo_i(s) + u_k (hi_i(s) - lo_i(s)))
        (band)."""
        s = np.asarray(spend, float)
        single = s.ndim == 1
        s2 = s[:, None] if single else s
        if s2.shape[0] != len(self):
            raise ValueError(f"spend has {s2.shape[0]} touchpoints; the draws have {len(self)}")
        out = np.empty((self.count, *s2.shape))
        out[:] = self.curves.engaged(s2)
        band = self.band_rows
        if len(band):
            low = _interpolate(self.band_spend, self.band_lower, s2[band])
            high = _interpolate(self.band_spend, self.band_upper, s2[band])
            out[:, band] = low[None] + self.position[:, None, None] * (high - low)[None]
        fit = self.fit_rows
        if len(fit):
            out[:, fit] = self._fitted(s2[fit])
        out *= self.factor[:, :, None]
        return out[..., 0] if single else out

    def _fitted(self, spend: np.ndarray) -> np.ndarray:
        """sum_t f_k(S a_t) of the FIT touchpoints at spend (n_fit x M) -> (K, n_fit, M), family by family, in
        chunks of draws (CHUNK values at a time)."""
        d, shares = self.fitted, np.nan_to_num(self.shares)
        n, m = spend.shape
        weeks = shares.shape[1]
        a = (spend[:, :, None] * shares[:, None, :]).reshape(n, m * weeks)
        out = np.zeros((self.count, n, m))
        step = max(1, CHUNK // max(1, n * m * weeks))
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            for family in F.FAMILIES:
                rows = np.flatnonzero(d.family == family)
                if not len(rows):
                    continue
                for k0 in range(0, self.count, step):
                    k = slice(k0, min(k0 + step, self.count))
                    params = [None if v is None else v[k][:, rows, None] for v in
                              (d.scale, d.exponent, d.half_saturation, d.shape)]
                    values = F.response(family, a[rows][None], *params)
                    out[k, rows] = np.nansum(values.reshape(values.shape[0], len(rows), m, weeks), axis=-1)
        return out

    def evenly(self) -> Draws:
        """The same draws with each touchpoint's money spread evenly over the data period's weeks, as a plan over
        periods of another length than the data's spreads it (periods.period_curves): the curves' `spread`
        dropped, and a fit's draw k sum_t f_k(S / T) over its T weeks (shares 1 / T)."""
        curves = replace(self.curves, spread=np.full((len(self), 0), np.nan))
        shares = None if self.shares is None else np.full(self.shares.shape, 1.0 / max(1, self.shares.shape[1]))
        return replace(self, curves=curves, shares=shares)

    def totals(self, spend: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        """sum_i w_i e_ki(s_i) per draw (K,): engaged customers (w = 1) or weighted engagement (w = value)."""
        values = self.engaged(np.asarray(spend, float))
        return values.sum(axis=1) if weight is None else values @ np.asarray(weight, float)

    def counts(self) -> dict[str, int]:
        """How many touchpoints are drawn each way."""
        return {source: int(np.sum(self.source == source)) for source in SOURCES}

    def describe(self) -> str:
        """What the draws rest on, in words: "fitted curves drawn from each fit's covariance (12); as given (3)"."""
        n = self.counts()
        parts = []
        if n[FIT]:
            parts.append(f"fitted curves drawn from each fit's covariance ({n[FIT]})")
        if n[BAND]:
            parts.append(f"tabulated curves drawn within their band ({n[BAND]}; one position in the band for all)")
        if n[STATED]:
            parts.append(f"curves without evidence of their uncertainty varied by a stated +/-{self.uncertainty:.0%} "
                         f"on engagement ({n[STATED]}; an assumption: 90 % of draws within it, independent across "
                         "touchpoints)")
        return "; ".join(parts)


def _interpolate(xs: np.ndarray, ys: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """Row-wise linear interpolation: y_i(s) between the points (xs_i, ys_i) (NaN-padded, sorted), flat beyond the
    last point; spend (n x M) -> (n x M)."""
    count = np.isfinite(xs).sum(axis=1)
    first = np.where(count > 0, xs[:, 0], 0.0)
    last = xs[np.arange(len(xs)), np.maximum(count - 1, 0)]
    s = np.clip(spend, first[:, None], np.nan_to_num(last)[:, None])
    below = np.where(np.isfinite(xs), xs, np.inf)[:, None, :] <= s[:, :, None]
    j = np.clip(below.sum(axis=2) - 1, 0, np.maximum(count - 2, 0)[:, None])
    x0, x1 = np.take_along_axis(xs, j, 1), np.take_along_axis(xs, np.minimum(j + 1, xs.shape[1] - 1), 1)
    y0, y1 = np.take_along_axis(ys, j, 1), np.take_along_axis(ys, np.minimum(j + 1, xs.shape[1] - 1), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = y0 + np.where(x1 > x0, (s - x0) / (x1 - x0), 0.0) * (y1 - y0)
    return np.nan_to_num(out)


def planned_rows(table: pd.DataFrame, scenario: Scenario | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The planned table (the scenario's what-ifs applied), and per planned row its row in `table` (-1: added by the
    scenario) and the factor its engagement is multiplied by (engaged x f of the overrides, 1 where none)."""
    if scenario is None or not (scenario.overrides or scenario.add_touchpoints):
        return table, np.arange(len(table)), np.ones(len(table))
    probe = table.assign(**{S.ENGAGED: 1.0, _ROW: np.arange(len(table), dtype=float)})
    marked = apply_overrides(probe, scenario)
    origin = marked[_ROW].to_numpy(float)
    added = np.isnan(origin)
    factor = np.where(added, 1.0, marked[S.ENGAGED].to_numpy(float))
    return apply_overrides(table, scenario), np.where(added, -1, origin).astype(int), factor


def check_draw_settings(count: int, uncertainty: float | None, seed: int = 0) -> None:
    """Raise BudgetOptError for a number of draws outside 1 to MAX_DRAWS, an uncertainty outside 0 to 1 or a
    negative seed."""
    if not 1 <= count <= MAX_DRAWS:
        raise BudgetOptError(f"draws: {count} is outside 1 to {MAX_DRAWS:,}; use e.g. 500")
    if not 0 <= seed < 2**63:
        raise BudgetOptError(f"seed: {seed} is outside 0 to 2**63 - 1; use e.g. 0 or 42")
    if uncertainty is not None and not 0 <= uncertainty <= 1:
        raise BudgetOptError(f"uncertainty: {uncertainty:g} is outside 0 to 1; write e.g. 0.2 for +/-20 %")


def draw_curves(evidence: Evidence | pd.DataFrame, scenario: Scenario | None = None, count: int = 500,
                seed: int = 0, uncertainty: float | None = None) -> Draws:
    """`count` joint draws of the planned touchpoints' curves (module docstring), reproducible with `seed`.

    evidence: what the table rests on (evidence.Evidence; a plain touchpoint table has no fits or bands);
    uncertainty: the stated +/- on engagement of curves with no evidence of their uncertainty (None: as given)."""
    check_draw_settings(count, uncertainty, seed)
    if isinstance(evidence, pd.DataFrame):
        evidence = Evidence(evidence)
    table = evidence.table
    planned, origin, factor = planned_rows(table, scenario)
    n = len(planned)
    known = origin >= 0
    at = np.where(known, origin, 0)
    source = np.full(n, GIVEN, dtype=object)
    fits_rng, band_rng, stated_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    fitted = shares = None
    if evidence.fits is not None and evidence.shares is not None:
        is_fit = known & (table[S.CURVE_SOURCE].to_numpy(object)[at] == S.FITTED) & (evidence.fits.family[at] != "")
        if is_fit.any():
            from .curves.fit import CurveDraws

            source[is_fit] = FIT
            rows = at[is_fit]
            full = evidence.fits.draws(count, int(fits_rng.integers(2**63)))
            fitted = CurveDraws(full.family[rows], *(v[:, rows] for v in (full.scale, full.exponent,
                                                                         full.half_saturation, full.shape,
                                                                         full.carryover)))
            shares = evidence.shares[rows]
    band_spend = band_lower = band_upper = position = None
    tab = evidence.tabulated
    if tab is not None:
        banded = np.isfinite(tab.lower).any(axis=1) & np.isfinite(tab.upper).any(axis=1)
        is_band = known & banded[at] & (source == GIVEN)
        if is_band.any():
            source[is_band] = BAND
            rows = at[is_band]
            band_spend, band_lower, band_upper = tab.spend[rows], tab.lower[rows], tab.upper[rows]
            position = band_rng.uniform(size=count)
    # the planned curves carry the what-ifs already; drawn fits and bands get them here
    evident = (source == FIT) | (source == BAND)
    column = np.where(evident, factor, 1.0)
    if uncertainty:
        is_stated = source == GIVEN
        source[is_stated] = STATED
        noise = stated_rng.standard_normal((count, n))  # 1 + uncertainty z / Z90, at least 0, in place
        noise *= uncertainty
        noise /= Z90
        noise += 1.0
        np.maximum(noise, 0.0, out=noise)
        if is_stated.all():
            multiplier = noise
        else:
            multiplier = np.broadcast_to(column, (count, n)).copy()
            multiplier[:, is_stated] = noise[:, is_stated]
    else:
        multiplier = np.broadcast_to(column, (count, n)).copy()
    return Draws(planned[S.TOUCHPOINT].to_numpy(object), source, Curves.from_table(planned), multiplier, seed,
                 uncertainty, fitted, shares, band_lower=band_lower, band_upper=band_upper, band_spend=band_spend,
                 position=position)
