"""Response curves: engaged customers as a function of spend, and their piecewise-linear segments.

Each touchpoint's curve over the planning period is one of (s0 today's spend, c0 = curve_engaged, the
engaged customers the curve gives at s0, by default today's engaged):

- linear:     e(s) = s / c                          (constant cost per engaged customer c = s0 / c0)
- power:      e(s) = c0 * (s / s0) ** a             (0 < a <= 1; a = 1 is linear)
- saturating: e(s) = S * (1 - exp(-s / k))          (S = saturation; k = half_saturation / ln 2 when given,
                                                     else chosen so that e(s0) = c0)
- hill:       e(s) = S * s^n / (K^n + s^n)          (K = half_saturation, n = shape in [0.5, 6])
- tabulated:  linear between given points (s_j, e_j), from (0, 0) when the first point has spend; flat
              after the last point (no extrapolation: the engine caps spend there)

Linear, power, saturating and hill with n <= 1 are concave: chords between breakpoints give segments whose
slopes fall as spend rises, an LP fills them in order, the LP is exact for the piecewise curve and the
piecewise curve lies below the smooth one. A hill curve with n > 1 is S-shaped and a tabulated curve may
have convex stretches (`Curves.concave` is False): their chords' slopes rise, then fall, and an LP would fill
them out of order; such segments need a MIP (segments filled in order), which the engine decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import InputError, Problem
from . import families as F
from .text import continue_points, read_points, read_weights

LINEAR, POWER, SATURATING, HILL, TABULATED = 0, 1, 2, 3, 4
_KIND = {"linear": LINEAR, "power": POWER, "saturating": SATURATING, "hill": HILL, "tabulated": TABULATED}

DEFAULT_SEGMENTS = 12
"""Segments per curve between the touchpoint's lowest and highest allowed spend."""
REFINE_STEPS = np.array([-0.3, -0.1, -0.03, -0.01, 0.01, 0.03, 0.1, 0.3])
"""Where the second pass adds breakpoints, relative to the first pass's spend."""
HILL_GRID = 256
"""Intervals of the grid on which a hill curve's breakpoints are placed (equal integral of sqrt|e''| between
consecutive breakpoints)."""


def _column(tp: pd.DataFrame, name: str, default: np.ndarray | float) -> np.ndarray:
    """A number column of the table, or the default where the table lacks it."""
    if name in tp.columns:
        return tp[name].to_numpy(float)
    return np.broadcast_to(np.asarray(default, float), (len(tp),)).copy()


def _pad_points(names: list[str], points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Tabulated points as padded arrays (N x P, NaN-padded) in the order of `names`, sorted by spend, with
    (0, 0) put first where a touchpoint's first point has spend. Raises InputError for unknown touchpoints,
    numbers that are missing or negative, and a spend given twice for one touchpoint."""
    missing = [c for c in (S.TOUCHPOINT, S.SPEND, S.ENGAGED) if c not in points.columns]
    source = "the tabulated curves"
    if missing:
        raise InputError([Problem(None, c, None, "required column is missing", f"add a column named '{c}'", source)
                          for c in missing], source)
    position = {name: i for i, name in enumerate(names)}
    tp = points[S.TOUCHPOINT].astype(str).str.strip()
    where = tp.map(position)
    spend = pd.to_numeric(points[S.SPEND], errors="coerce").to_numpy(float)
    engaged = pd.to_numeric(points[S.ENGAGED], errors="coerce").to_numpy(float)
    rows = np.arange(len(points)) + 2
    problems = [Problem(int(r), S.TOUCHPOINT, name, "is not a touchpoint of the table",
                        "use a name from the touchpoint table's 'touchpoint' column", source)
                for r, name in zip(rows[where.isna().to_numpy()], tp[where.isna()], strict=True)]
    for column, values in ((S.SPEND, spend), (S.ENGAGED, engaged)):
        bad = ~np.isfinite(values) | (values < 0)
        problems += [Problem(int(r), column, points[column].iloc[i], "is not a number of zero or more",
                             "write a plain number such as 1200.50", source)
                     for i, r in zip(np.flatnonzero(bad), rows[bad], strict=True)]
    if problems:
        raise InputError(problems, source)
    frame = pd.DataFrame({"i": where.to_numpy(int), "spend": spend, "engaged": engaged, "row": rows})
    twice = frame.duplicated(["i", "spend"], keep="first")
    if twice.any():
        raise InputError([Problem(int(r), S.SPEND, v, "this touchpoint has two points at this spend",
                                  "keep one point per spend level", source)
                          for r, v in zip(frame["row"][twice], frame["spend"][twice], strict=True)], source)
    top = frame.groupby("i")["spend"].transform("max")
    if (top <= 0).any():
        flat = frame["row"][top <= 0]
        raise InputError([Problem(int(r), S.SPEND, 0, "a tabulated curve needs a point with spend",
                                  "add the response at one or more spend levels above 0", source)
                          for r in flat], source)
    first = frame.groupby("i")["spend"].transform("min")
    origin = frame.loc[(frame["spend"] == first) & (first > 0), ["i"]].assign(spend=0.0, engaged=0.0)
    frame = pd.concat([frame[["i", "spend", "engaged"]], origin], ignore_index=True).sort_values(["i", "spend"])
    column = frame.groupby("i").cumcount().to_numpy()
    width = int(column.max()) + 1 if len(frame) else 0
    spend_pts = np.full((len(names), width), np.nan)
    engaged_pts = np.full((len(names), width), np.nan)
    spend_pts[frame["i"].to_numpy(), column] = frame["spend"].to_numpy()
    engaged_pts[frame["i"].to_numpy(), column] = frame["engaged"].to_numpy()
    return spend_pts, engaged_pts


@dataclass(frozen=True)
class Curves:
    """Vectorized response curves of N touchpoints (see the module docstring for the families).

    `curve_engaged` (default engaged0), `half_saturation` and `shape` (default NaN) and the tabulated
    points (N x P, NaN-padded; all NaN on rows that are not tabulated) are optional.
    """

    kind: np.ndarray
    spend0: np.ndarray
    engaged0: np.ndarray
    unit_cost: np.ndarray
    elasticity: np.ndarray
    saturation: np.ndarray
    curve_engaged: np.ndarray | None = None
    half_saturation: np.ndarray | None = None
    shape: np.ndarray | None = None
    points_spend: np.ndarray | None = None
    points_engaged: np.ndarray | None = None
    spread: np.ndarray | None = None
    """How each touchpoint's money is spread over the planning period's weeks: weights with mean 1 (N x T,
    NaN-padded; a row all NaN: evenly). The curve is then mean_t E(S w_t) (module docstring)."""

    def __post_init__(self):
        n = len(self.kind)
        defaults = {"curve_engaged": self.engaged0, "half_saturation": np.full(n, np.nan),
                    "shape": np.full(n, np.nan), "points_spend": np.full((n, 0), np.nan),
                    "points_engaged": np.full((n, 0), np.nan), "spread": np.full((n, 0), np.nan)}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)

    @classmethod
    def from_table(cls, touchpoints: pd.DataFrame, points: pd.DataFrame | None = None) -> Curves:
        """Curves of a validated touchpoint table; `points` (long: touchpoint, spend, engaged, the response
        over the planning period at each spend level) makes those touchpoints' curves tabulated."""
        tp = touchpoints
        saturation = tp[S.SATURATION].to_numpy(float)
        engaged0 = tp[S.ENGAGED].to_numpy(float)
        spend0 = tp[S.SPEND].to_numpy(float)
        curve_engaged = _column(tp, S.CURVE_ENGAGED, engaged0)
        curve_engaged = np.where(np.isnan(curve_engaged), engaged0, curve_engaged)
        unit_cost = tp["unit_cost"].to_numpy(float)
        # a linear curve passes through (s0, curve_engaged): its unit cost is s0 / curve_engaged
        with np.errstate(divide="ignore", invalid="ignore"):
            unit_cost = np.where((curve_engaged != engaged0) & (spend0 > 0), spend0 / curve_engaged, unit_cost)
        kind = tp[S.CURVE].map(_KIND).to_numpy(np.int8)
        spread = read_weights(tp[S.SPREAD]) if S.SPREAD in tp.columns else None
        elasticity = tp[S.ELASTICITY].to_numpy(float)
        if spread is not None and spread.shape[1]:
            # a power curve spread unevenly passes through (s0, curve_engaged): E(s0) = c mean_t w_t^a
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.nansum(np.where(np.isfinite(spread), spread, np.nan) ** elasticity[:, None], axis=1) / (
                    np.isfinite(spread).sum(axis=1))
            curve_engaged = np.where((kind == POWER) & np.isfinite(mean) & (mean > 0), curve_engaged / mean,
                                     curve_engaged)
        curves = cls(
            kind=kind, spend0=spend0, engaged0=engaged0, unit_cost=unit_cost,
            elasticity=elasticity,
            saturation=np.where(np.isnan(saturation), np.inf, saturation),
            curve_engaged=curve_engaged,
            half_saturation=_column(tp, S.HALF_SATURATION, np.nan),
            shape=_column(tp, S.SHAPE, np.nan),
            spread=spread,
        )
        if points is None and S.CURVE_POINTS in tp.columns and (tp[S.CURVE] == "tabulated").any():
            tab = (tp[S.CURVE] == "tabulated").to_numpy()
            xs, es = read_points(tp.loc[tab, S.CURVE_POINTS])
            if S.CURVE_BEYOND in tp.columns:  # continued beyond the last point where the user allows it, and
                beyond = tp.loc[tab, S.CURVE_BEYOND].to_numpy(float)  # on past the plan's cap there (so that
                xs, es = continue_points(xs, es, beyond)  # the cap's price is the slope it holds back)
                xs, es = continue_points(xs, es, np.where(np.nan_to_num(beyond) > 1, 2.0, np.nan))
            rows = np.repeat(tp.loc[tab, S.TOUCHPOINT].to_numpy(object), xs.shape[1])
            ok = np.isfinite(xs.ravel())
            points = pd.DataFrame({S.TOUCHPOINT: rows[ok], S.SPEND: xs.ravel()[ok], S.ENGAGED: es.ravel()[ok]})
        return curves if points is None else curves.with_points(tp[S.TOUCHPOINT], points)

    def _take(self, rows: np.ndarray) -> Curves:
        """The curves of some touchpoints only, evenly spread (for evaluating a spread curve week by week)."""
        return Curves(self.kind[rows], self.spend0[rows], self.engaged0[rows], self.unit_cost[rows],
                      self.elasticity[rows], self.saturation[rows], self.curve_engaged[rows],
                      self.half_saturation[rows], self.shape[rows], self.points_spend[rows],
                      self.points_engaged[rows])

    def _spread_rows(self) -> np.ndarray:
        return np.flatnonzero(np.isfinite(self.spread).any(axis=1)) if self.spread.shape[1] else np.zeros(0, int)

    def _over_spread(self, spend: np.ndarray, out: np.ndarray, derivative: bool) -> np.ndarray:
        """out with the spread touchpoints' values replaced by mean_t E(s w_t) (derivative: mean_t w_t E'(s w_t))."""
        rows = self._spread_rows()
        if not len(rows):
            return out
        s = np.asarray(spend, float)
        s = np.broadcast_to(s.reshape(s.shape + (1,) * (out.ndim - s.ndim)), out.shape)[rows]
        w = self.spread[rows].reshape((len(rows),) + (1,) * (s.ndim - 1) + (-1,))
        given = np.isfinite(w)
        weight = np.where(given, w, 0.0)
        part = self._take(rows)
        scaled = s[..., None] * weight
        with np.errstate(invalid="ignore"):
            values = part.marginal(scaled) * weight if derivative else part.engaged(scaled)
        total = np.where(given, values, 0.0).sum(axis=-1) / np.maximum(given.sum(axis=-1), 1)
        out = np.array(out, dtype=float, copy=True)
        out[rows] = total
        return out

    def with_points(self, names: pd.Series | list[str], points: pd.DataFrame) -> Curves:
        """These curves with the touchpoints named in `points` (columns touchpoint, spend, engaged; names as
        in `names`, the table's touchpoint column) tabulated: sorted by spend, from (0, 0) when the first
        point has spend. Their curve_engaged becomes the tabulated value at today's spend."""
        spend_pts, engaged_pts = _pad_points(list(names), points)
        kind = np.where(np.isfinite(spend_pts).any(axis=1), TABULATED, self.kind).astype(np.int8)
        curves = Curves(kind, self.spend0, self.engaged0, self.unit_cost, self.elasticity, self.saturation,
                        self.curve_engaged, self.half_saturation, self.shape, spend_pts, engaged_pts)
        tab = kind == TABULATED
        at_today = curves._tabulated(self.spend0[:, None])[:, 0]
        spread = np.where(tab[:, None], np.nan, self.spread)  # a tabulated curve is the period's already
        return Curves(kind, self.spend0, self.engaged0, self.unit_cost, self.elasticity, self.saturation,
                      np.where(tab, at_today, self.curve_engaged), self.half_saturation, self.shape,
                      spend_pts, engaged_pts, spread)

    @property
    def concave(self) -> np.ndarray:
        """Per touchpoint: is the curve concave (False for a hill curve with shape > 1 and for tabulated
        points whose slopes rise somewhere)?"""
        hill = (self.kind == HILL) & (self.shape > 1.0)
        slopes = self._slopes()
        with np.errstate(invalid="ignore"):
            rises = np.diff(slopes, axis=1) > 1e-12 * np.nanmax(np.abs(slopes), axis=1, initial=1.0)[:, None]
        tabulated = (self.kind == TABULATED) & rises.any(axis=1)
        return ~(hill | tabulated)

    def _scale(self) -> np.ndarray:
        """k of the saturating curve: half_saturation / ln 2 where given, else from S * (1 - exp(-s0/k)) = c0."""
        with np.errstate(divide="ignore", invalid="ignore"):
            anchored = -self.spend0 / np.log1p(-self.curve_engaged / self.saturation)
            return np.where(np.isnan(self.half_saturation), anchored, self.half_saturation / F.LN2)

    def _slopes(self) -> np.ndarray:
        """Slopes of the tabulated pieces (N x P-1, NaN where no piece)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.diff(self.points_engaged, axis=1) / np.diff(self.points_spend, axis=1)

    def _piece(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For spend s (N x M): the tabulated piece j each s lies in (the one to its right at a point) and s
        clipped to [first point, last point]."""
        ps = self.points_spend
        count = np.isfinite(ps).sum(axis=1)
        first = np.where(count > 0, ps[:, 0], 0.0)
        last = np.where(count > 0, ps[np.arange(len(ps)), np.maximum(count - 1, 0)], 0.0)
        clipped = np.clip(s, first[:, None], last[:, None])
        below = np.where(np.isfinite(ps), ps, np.inf)[:, None, :] <= clipped[:, :, None]
        j = np.clip(below.sum(axis=2) - 1, 0, np.maximum(count - 2, 0)[:, None])
        return j, clipped

    def _tabulated(self, s: np.ndarray) -> np.ndarray:
        """Tabulated engaged at spend s (N x M): linear between points, flat after the last (NaN: no points)."""
        if self.points_spend.shape[1] < 2:
            return np.full(s.shape, np.nan)
        j, clipped = self._piece(s)
        x0 = np.take_along_axis(self.points_spend, j, axis=1)
        e0 = np.take_along_axis(self.points_engaged, j, axis=1)
        slope = np.take_along_axis(np.nan_to_num(self._slopes()), j, axis=1)
        return e0 + slope * (clipped - x0)

    def _tabulated_marginal(self, s: np.ndarray) -> np.ndarray:
        """Slope of the tabulated piece the next dollar at s enters; 0 from the last point on."""
        if self.points_spend.shape[1] < 2:
            return np.full(s.shape, np.nan)
        j, _ = self._piece(s)
        count = np.isfinite(self.points_spend).sum(axis=1)
        last = self.points_spend[np.arange(len(count)), np.maximum(count - 1, 0)]
        slope = np.take_along_axis(np.nan_to_num(self._slopes()), j, axis=1)
        return np.where(s >= last[:, None], 0.0, slope)

    def engaged(self, spend: np.ndarray) -> np.ndarray:
        """e(s) for each touchpoint (spend broadcast against the touchpoint axis, first axis); for a touchpoint
        with a spread, mean_t E(s w_t)."""
        return self._over_spread(spend, self._even(spend), derivative=False)

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        """e'(s): engaged customers per extra unit of money at spend s (one value per touchpoint, or spend's
        shape); for a touchpoint with a spread, mean_t w_t E'(s w_t)."""
        return self._over_spread(spend, self._even_marginal(spend), derivative=True)

    def _families(self) -> dict[int, bool]:
        """Which curve families occur (a formula is evaluated only when some curve has it)."""
        present = set(np.unique(self.kind).tolist())
        return {kind: kind in present for kind in (LINEAR, POWER, SATURATING, HILL, TABULATED)}

    def _even(self, spend: np.ndarray) -> np.ndarray:
        """E(s) of each curve's own formula, the money spread evenly."""
        s = np.asarray(spend, float)
        shape = (-1,) + (1,) * (s.ndim - 1)
        k, s0, c0 = self.kind.reshape(shape), self.spend0.reshape(shape), self.curve_engaged.reshape(shape)
        has = self._families()
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            linear = s / self.unit_cost.reshape(shape)  # always: it gives the result its shape
            power = (c0 * np.power(np.where(s0 > 0, s / s0, 0.0), self.elasticity.reshape(shape))
                     if has[POWER] else np.nan)
            sat = (self.saturation.reshape(shape) * -np.expm1(-s / self._scale().reshape(shape))
                   if has[SATURATING] else np.nan)
            hill = (F.hill(s, self.saturation.reshape(shape), self.half_saturation.reshape(shape),
                           self.shape.reshape(shape)) if has[HILL] else np.nan)  # (needs scipy)
        out = np.select([k == LINEAR, k == POWER, k == SATURATING, k == HILL], [linear, power, sat, hill], np.nan)
        if (self.kind == TABULATED).any():
            flat = np.broadcast_to(s, out.shape).reshape(len(self.kind), -1)
            out = np.where(k == TABULATED, self._tabulated(flat).reshape(out.shape), out)
        return np.nan_to_num(out, nan=0.0)

    def _even_marginal(self, spend: np.ndarray) -> np.ndarray:
        """E'(s) of each curve's own formula."""
        s = np.asarray(spend, float)
        shape = (-1,) + (1,) * (s.ndim - 1) if s.ndim else (-1,)
        if s.ndim == 0:
            s = np.broadcast_to(s, self.kind.shape)

        def col(values: np.ndarray) -> np.ndarray:
            return values.reshape(shape)

        has = self._families()
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            linear = 1.0 / col(self.unit_cost) + 0.0 * s  # always: it gives the result its shape
            a, s0 = col(self.elasticity), col(self.spend0)
            power = a * col(self.curve_engaged) / s0 * np.power(s / s0, a - 1.0) if has[POWER] else np.nan
            if has[SATURATING]:
                k = col(self._scale())
                sat = col(self.saturation) / k * np.exp(-s / k)
            else:
                sat = np.nan
            hill = (F.hill_slope(s, col(self.saturation), col(self.half_saturation), col(self.shape))
                    if has[HILL] else np.nan)  # only with hill curves (it needs scipy)
        kind = col(self.kind)
        out = np.select([kind == LINEAR, kind == POWER, kind == SATURATING, kind == HILL],
                        [linear, power, sat, hill], np.nan)
        if (self.kind == TABULATED).any():
            flat = np.broadcast_to(s, out.shape).reshape(len(self.kind), -1)
            out = np.where(kind == TABULATED, self._tabulated_marginal(flat).reshape(out.shape), out)
        return np.nan_to_num(out, nan=0.0, posinf=np.inf)

    def breakpoints(self, lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
        """Sorted points from lo to hi (N x (n + 3 + P)): n + 1 that equalise the chord error w^2 |e''| / 8
        across segments (uniform in s^(a/2) for power curves, in exp(-s / 2k) for saturating ones, in the
        integral of sqrt|e''| for hill curves); for an S-shaped hill curve also its inflection and the point
        where the concave envelope from lo touches the curve; for a tabulated curve its points instead.
        Points a row does not need repeat lo."""
        t = np.linspace(0.0, 1.0, n + 1)[None, :]
        lo_, hi_ = lo[:, None], hi[:, None]
        has = self._families()
        power = sat = np.nan
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if has[POWER]:
                h = (self.elasticity / 2.0)[:, None]
                u = lo_ ** h + (hi_ ** h - lo_ ** h) * t
                power = u ** (1.0 / h)
            if has[SATURATING]:
                k2 = 2.0 * self._scale()[:, None]
                v = np.exp(-lo_ / k2) + (np.exp(-hi_ / k2) - np.exp(-lo_ / k2)) * t
                sat = -k2 * np.log(v)
        linear = np.where(t > 0, hi_, lo_)
        kind = self.kind[:, None]
        points = np.where(kind == POWER, power, np.where(kind == SATURATING, sat, linear))
        points = np.where(kind == TABULATED, lo_, points)
        points = np.where(np.isfinite(points), points, linear)
        hill = np.flatnonzero(self.kind == HILL)
        special = np.repeat(lo_, 2, axis=1)
        if len(hill):
            points[hill] = self._hill_points(hill, lo[hill], hi[hill], n)
            special[hill] = self._hill_special(hill, lo[hill], hi[hill])
        points[:, 0], points[:, -1] = lo, hi
        tab = np.where((kind == TABULATED) & np.isfinite(self.points_spend), self.points_spend, lo_)
        return np.sort(np.clip(np.column_stack([points, special, tab]), lo_, hi_), axis=1)

    def _hill_points(self, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
        """n + 1 points from lo to hi with equal integral of sqrt|e''| between neighbours (equal chord error on
        both sides of the inflection), on a grid that is dense near lo (e'' may be unbounded at 0)."""
        tau = (np.arange(HILL_GRID + 1) / HILL_GRID)[None, :] ** 3
        x = lo[:, None] + (hi - lo)[:, None] * tau
        mid = 0.5 * (x[:, 1:] + x[:, :-1])
        args = (self.saturation[rows, None], self.half_saturation[rows, None], self.shape[rows, None])
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            density = np.sqrt(np.abs(F.hill_curvature(mid, *args))) * np.diff(x, axis=1)
        total = np.column_stack([np.zeros(len(rows)), np.cumsum(np.nan_to_num(density), axis=1)])
        target = total[:, -1:] * np.linspace(0.0, 1.0, n + 1)[None, :]
        j = np.clip((total[:, None, :] <= target[:, :, None]).sum(axis=2) - 1, 0, HILL_GRID - 1)
        c0, c1 = np.take_along_axis(total, j, 1), np.take_along_axis(total, j + 1, 1)
        x0, x1 = np.take_along_axis(x, j, 1), np.take_along_axis(x, j + 1, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = x0 + np.where(c1 > c0, (target - c0) / (c1 - c0), 0.0) * (x1 - x0)
        uniform = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, n + 1)[None, :]
        return np.where((total[:, -1:] > 0) & np.isfinite(out), out, uniform)

    def _hill_special(self, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The inflection and the tangent point t of the concave envelope from lo, e(t) - e(lo) = e'(t) (t - lo),
        found by bisection on [inflection, hi] (hi when the envelope is the chord to hi); lo where n <= 1."""
        sat, half, shape = self.saturation[rows], self.half_saturation[rows], self.shape[rows]
        inflection = F.hill_inflection(half, shape)
        e_lo = F.hill(lo, sat, half, shape)

        def gap(t: np.ndarray) -> np.ndarray:  # > 0 below the tangent point
            return F.hill_slope(t, sat, half, shape) * (t - lo) - (F.hill(t, sat, half, shape) - e_lo)

        a, b = np.maximum(inflection, lo), hi.copy()
        beyond = gap(b) >= 0
        for _ in range(60):
            m = 0.5 * (a + b)
            below = gap(m) > 0
            a, b = np.where(below, m, a), np.where(below, b, m)
        tangent = np.where(beyond, hi, 0.5 * (a + b))
        s_shaped = (shape > 1.0) & (inflection > lo)
        return np.column_stack([np.where(s_shaped, inflection, lo), np.where(s_shaped, tangent, lo)])

    def segments(self, lo: np.ndarray, hi: np.ndarray, n: int = DEFAULT_SEGMENTS,
                 around: np.ndarray | None = None, also: np.ndarray | None = None) -> Segments:
        """Chords of each curve over [lo, hi] between `breakpoints`, today's spend and, when `around`
        is given (a first plan), points at around * (1 +/- 1, 3, 10, 30 %) that refine the curve where
        the optimum lies, and any points in `also` (N x k; e.g. another problem's floors and caps, so two
        problems share one piecewise curve). Linear curves get a single segment, split only at extra points;
        tabulated curves are cut at their points only."""
        if n < 1:
            raise ValueError("segments must be at least 1")
        lo = np.asarray(lo, float)
        hi = np.asarray(hi, float)
        today = np.clip(self.spend0, lo, hi)
        extra = [today[:, None]]
        if around is not None:
            curved = ((self.kind != LINEAR) & (self.kind != TABULATED))[:, None]
            near = np.asarray(around, float)[:, None] * (1.0 + REFINE_STEPS)[None, :]
            extra.append(np.where(curved, near, lo[:, None]))
        if also is not None:
            extra.append(np.asarray(also, float).reshape(len(lo), -1))
        points = np.column_stack([self.breakpoints(lo, hi, n), *extra])
        points = np.clip(np.sort(points, axis=1), lo[:, None], hi[:, None])
        # Drop points closer than a rounding error to their neighbour (never lo or hi), then take chords
        # between consecutive points that remain: no engagement is lost with a dropped point.
        tol = 1e-9 * np.maximum(1.0, hi)[:, None]
        span = hi - lo
        keep = np.ones(points.shape, dtype=bool)
        keep[:, 1:] = np.diff(points, axis=1) > tol
        keep[:, -1] = span > tol[:, 0]
        near_top = (points[:, -1:] - points) <= tol
        keep[:, 1:-1] &= ~near_top[:, 1:-1]
        values = self.engaged(points)
        rows, cols = np.nonzero(keep)
        p, v = points[rows, cols], values[rows, cols]
        same = rows[1:] == rows[:-1]
        w = (p[1:] - p[:-1])[same]
        slope = (v[1:] - v[:-1])[same] / w
        rows = rows[1:][same]
        return Segments(touchpoint=rows, width=w, slope=slope, base_engaged=values[:, 0], lo=lo, hi=hi)


@dataclass(frozen=True)
class Segments:
    """Flat arrays, one entry per segment: its touchpoint (row position), width and slope.

    spend_i = lo_i + sum_k s_ik,  engaged_i = base_engaged_i + sum_k slope_ik * s_ik,  0 <= s_ik <= width_ik.
    """

    touchpoint: np.ndarray
    width: np.ndarray
    slope: np.ndarray
    base_engaged: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    def __len__(self) -> int:
        return len(self.width)

    def spend(self, values: np.ndarray) -> np.ndarray:
        """x_i = lo_i + the sum of its segments' values."""
        return self.lo + np.bincount(self.touchpoint, weights=values, minlength=len(self.lo))

    def starts(self) -> np.ndarray:
        """Spend at which each segment begins: lo of its touchpoint plus the widths before it."""
        end = np.cumsum(self.width)
        first = np.searchsorted(self.touchpoint, self.touchpoint)
        return self.lo[self.touchpoint] + end - self.width - np.concatenate([[0.0], end])[first]

    def out_of_order(self) -> np.ndarray:
        """Per touchpoint: True where a segment is steeper than the one before it (a convex stretch). An LP
        would fill such segments out of order; they need binaries that fill them in order (engine.solve)."""
        t, g = self.touchpoint, self.slope
        same = t[1:] == t[:-1]
        rises = same & (g[1:] > g[:-1] + 1e-12 * np.maximum(1.0, np.abs(g[:-1])))
        out = np.zeros(len(self.lo), dtype=bool)
        out[t[1:][rises]] = True
        return out

    def restrict(self, lo: np.ndarray, hi: np.ndarray) -> tuple[Segments, np.ndarray, np.ndarray]:
        """The same piecewise curves on a narrower range [lo, hi] whose ends are breakpoints: segments below lo
        are filled (moved into the base), segments above hi are dropped. Also returns which segments are kept
        and which are filled, to map a solution back: values = width where filled, the kept values where kept."""
        t = self.touchpoint
        start = self.starts()
        end = start + self.width
        tol = 1e-9 * np.maximum(1.0, self.width)
        below = end <= lo[t] + tol
        above = start >= hi[t] - tol
        base = self.base_engaged + np.bincount(t[below], weights=(self.slope * self.width)[below],
                                               minlength=len(lo))
        new_lo = self.lo + np.bincount(t[below], weights=self.width[below], minlength=len(lo))
        keep = ~below & ~above
        return (Segments(touchpoint=t[keep], width=self.width[keep], slope=self.slope[keep], base_engaged=base,
                         lo=new_lo, hi=np.minimum(hi, self.hi)), keep, below)

