"""Response curves: engaged customers as a function of spend, and their piecewise-linear segments.

With one observed point (spend s0, engaged e0) per touchpoint the shape is an assumption,
made explicit per row:

- linear:     e(s) = s / c                       (constant cost per engaged customer c)
- power:      e(s) = e0 * (s / s0) ** a          (0 < a <= 1; a = 1 is linear)
- saturating: e(s) = S * (1 - exp(-s / k))       (k chosen so that e(s0) = e0; S = saturation)

All three are concave, so chords between breakpoints give segments whose slopes fall as spend
rises and an LP fills them in order: the LP is exact for the piecewise curve, and the piecewise
curve lies below the smooth one (a plan's smooth engagement is never less than the LP promised).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S

LINEAR, POWER, SATURATING = 0, 1, 2
_KIND = {"linear": LINEAR, "power": POWER, "saturating": SATURATING}

DEFAULT_SEGMENTS = 12
"""Segments per curve between the touchpoint's lowest and highest allowed spend."""
REFINE_STEPS = np.array([-0.3, -0.1, -0.03, -0.01, 0.01, 0.03, 0.1, 0.3])
"""Where the second pass adds breakpoints, relative to the first pass's spend."""


@dataclass(frozen=True)
class Curves:
    """Vectorized response curves of N touchpoints."""

    kind: np.ndarray
    spend0: np.ndarray
    engaged0: np.ndarray
    unit_cost: np.ndarray
    elasticity: np.ndarray
    saturation: np.ndarray

    @classmethod
    def from_table(cls, touchpoints: pd.DataFrame) -> Curves:
        """Curves of a validated touchpoint table."""
        tp = touchpoints
        saturation = tp[S.SATURATION].to_numpy(float)
        return cls(
            kind=tp[S.CURVE].map(_KIND).to_numpy(np.int8),
            spend0=tp[S.SPEND].to_numpy(float),
            engaged0=tp[S.ENGAGED].to_numpy(float),
            unit_cost=tp["unit_cost"].to_numpy(float),
            elasticity=tp[S.ELASTICITY].to_numpy(float),
            saturation=np.where(np.isnan(saturation), np.inf, saturation),
        )

    def _scale(self) -> np.ndarray:
        """k of the saturating curve, from S * (1 - exp(-s0/k)) = e0."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return -self.spend0 / np.log1p(-self.engaged0 / self.saturation)

    def engaged(self, spend: np.ndarray) -> np.ndarray:
        """e(s) for each touchpoint (spend broadcast against the touchpoint axis, first axis)."""
        s = np.asarray(spend, float)
        shape = (-1,) + (1,) * (s.ndim - 1)
        k, s0, e0 = self.kind.reshape(shape), self.spend0.reshape(shape), self.engaged0.reshape(shape)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            linear = s / self.unit_cost.reshape(shape)
            power = e0 * np.power(np.where(s0 > 0, s / s0, 0.0), self.elasticity.reshape(shape))
            sat = self.saturation.reshape(shape) * -np.expm1(-s / self._scale().reshape(shape))
        out = np.where(k == LINEAR, linear, np.where(k == POWER, power, sat))
        return np.nan_to_num(out, nan=0.0)

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        """e'(s): engaged customers per extra unit of money at spend s."""
        s = np.asarray(spend, float)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            linear = 1.0 / self.unit_cost
            a = self.elasticity
            power = a * self.engaged0 / self.spend0 * np.power(s / self.spend0, a - 1.0)
            k = self._scale()
            sat = self.saturation / k * np.exp(-s / k)
        out = np.where(self.kind == LINEAR, linear, np.where(self.kind == POWER, power, sat))
        return np.nan_to_num(out, nan=0.0, posinf=np.inf)

    def breakpoints(self, lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
        """n + 1 points from lo to hi that equalise the chord error w^2 |e''| / 8 across segments:
        uniform in s^(a/2) for power curves, in exp(-s / 2k) for saturating ones."""
        t = np.linspace(0.0, 1.0, n + 1)[None, :]
        lo_, hi_ = lo[:, None], hi[:, None]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            h = (self.elasticity / 2.0)[:, None]
            u = lo_ ** h + (hi_ ** h - lo_ ** h) * t
            power = u ** (1.0 / h)
            k2 = 2.0 * self._scale()[:, None]
            v = np.exp(-lo_ / k2) + (np.exp(-hi_ / k2) - np.exp(-lo_ / k2)) * t
            sat = -k2 * np.log(v)
        linear = np.where(t > 0, hi_, lo_)
        kind = self.kind[:, None]
        points = np.where(kind == POWER, power, np.where(kind == SATURATING, sat, linear))
        points = np.where(np.isfinite(points), points, linear)
        points[:, 0], points[:, -1] = lo, hi
        return points

    def segments(self, lo: np.ndarray, hi: np.ndarray, n: int = DEFAULT_SEGMENTS,
                 around: np.ndarray | None = None, also: np.ndarray | None = None) -> Segments:
        """Chords of each curve over [lo, hi] between `breakpoints`, today's spend and, when `around`
        is given (a first plan), points at around * (1 +/- 1, 3, 10, 30 %) that refine the curve where
        the optimum lies, and any points in `also` (N x k; e.g. another problem's floors and caps, so two
        problems share one piecewise curve). Linear curves get a single segment, split only at extra points."""
        if n < 1:
            raise ValueError("segments must be at least 1")
        lo = np.asarray(lo, float)
        hi = np.asarray(hi, float)
        today = np.clip(self.spend0, lo, hi)
        extra = [today[:, None]]
        if around is not None:
            curved = (self.kind != LINEAR)[:, None]
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

    def starts(self) -> np.ndarray:
        """Spend at which each segment begins: lo of its touchpoint plus the widths before it."""
        end = np.cumsum(self.width)
        first = np.searchsorted(self.touchpoint, self.touchpoint)
        return self.lo[self.touchpoint] + end - self.width - np.concatenate([[0.0], end])[first]
