"""Fit a response curve per touchpoint from its history: pure functions from arrays to parameters and diagnostics.

Model, per touchpoint and observed period t (no intercept: engagement is what the spend causes):

    e_t = f(a_t; theta) + eps_t,   a_t = adstock of the spend s_t with carry-over lam (0 without carry-over)

with f one of `families.FAMILIES`. Spend and outcome are divided by the touchpoint's own reference levels
(mean spend over periods with spend, mean outcome) so every fit is on the same footing; the results are
returned in the user's units.

Method, vectorised over touchpoints:

1. Grid: for each family (and carry-over or not), the scale (b, A or S) is linear given the shape parameters
   (p; K; K and n; lam), so for every point of a shape grid the least-squares scale is closed-form,
   scale = sum(x e) / sum(x^2) (x the family's basis), clipped at 0, with SSE = sum(e^2) - scale sum(x e).
2. Refine: from each variant's best grid point, Levenberg-Marquardt steps vectorised over touchpoints, in
   unbounded parameters theta = (ln scale, logit p, ln K, logit((n - 0.5) / 5.5), logit(lam / 0.9)) with the
   analytic Jacobian. Both steps weight period t by 1 / level_t^NOISE_POWER (noise that grows with the level).
3. Choice: by AICc = n ln(SSE / n) + 2k + 2k(k + 1) / (n - k - 1) (k counts sigma too), never by the best
   in-sample fit; a variant within AICC_TIE of the best that has fewer parameters (or comes first in
   FAMILIES) wins the tie.
4. Polish: the chosen variant by `scipy.optimize.least_squares` from the refined point; the covariance of
   theta is sigma^2 (J'J)^-1 at the optimum, sigma^2 = SSE / (n - k).
5. Held-out check: the chosen variant is refitted on the first 1 - HOLDOUT_SHARE of the touchpoint's observed
   periods and predicts the rest: R2 = 1 - SSE / sum((e - mean e)^2) and MAPE = mean |e - e_hat| / e over
   held-out periods with e > 0.
6. Verdict (`verdict`, with the reason in words in `reason`): `not identified` where the data cannot
   identify a curve, `weak` where the fit is poor or a parameter poorly determined, else `good`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.special import expit, logit

from . import families as F

# Verdict thresholds.
MIN_PERIODS_WITH_SPEND = 8
"""Fewer periods with spend than this: `not identified` (a curve needs spread-out evidence)."""
MIN_SPEND_VARIATION = 0.1
"""Coefficient of variation of spend over periods with spend below this: `not identified` (no variation)."""
WEAK_R2 = 0.5
"""Held-out R2 below this: `weak`."""
WEAK_MAPE = 0.30
"""Held-out MAPE above this (a fraction; 0.30 = 30 %): `weak`."""
RUNAWAY = 1e6
"""A saturating or hill fit whose saturation or half-saturation is over a million times the history's mean period
(engaged customers, spend) has run away: in the data's range it is a straight line, and a simpler family takes its
place (it would otherwise reach the table with numbers no plan can use)."""
HALF_SATURATION_BEYOND = 2.0
"""A half-saturation above this multiple of the largest observed period spend: `weak` (saturation is
extrapolated, not observed)."""
POORLY_DETERMINED_SD = 0.5
"""A standard error of a log-parameter (scale, p, K or n) above this (a factor e^0.5 = 1.65): `weak`."""
GOOD, WEAK, NOT_IDENTIFIED = "good", "weak", "not identified"
VERDICTS: tuple[str, ...] = (GOOD, WEAK, NOT_IDENTIFIED)

# Method settings.
HOLDOUT_SHARE = 0.2
"""Share of a touchpoint's last observed periods held out for the out-of-sample check."""
MIN_HOLDOUT = 3
"""Fewest held-out periods for a held-out R2 and MAPE (else they are NaN and the verdict at most `weak`)."""
AICC_TIE = 2.0
"""AICc differences up to this count as a tie, which goes to the simpler variant."""
REFINE_STEPS = 40
"""At most this many Levenberg-Marquardt steps (vectorised over touchpoints) from the grid's best point, before
the AICc choice."""
EXPONENT_GRID = np.linspace(0.1, 0.95, 10)
HALF_GRID = np.geomspace(0.05, 20.0, 16)
"""Half-saturation grid, as multiples of the touchpoint's mean period spend."""
HILL_HALF_GRID = np.geomspace(0.1, 10.0, 10)
HILL_SHAPE_GRID = np.array([0.6, 1.0, 1.5, 2.5, 3.5, 5.0])
CARRYOVER_GRID = np.array([0.1, 0.3, 0.5, 0.7])
CARRYOVER_ZOOM = np.array([-0.1, 0.1])
"""Carry-over is searched on CARRYOVER_GRID, then at each touchpoint's best + these steps."""
NOISE_POWER = 1.0
"""The fit is weighted as if var(e_t) grows with level_t^NOISE_POWER: 1, as for counts (Poisson-like), between
constant noise (0) and relative noise (2); on synthetic histories it chose the generating family about as
often under either."""
LEVEL_FLOOR = 0.25
"""Levels in the weights are at least this share of the touchpoint's mean level (dark periods do not dominate)."""
DRAWS = 400
"""Draws behind `CurveFits.band`."""

SCALE, EXPONENT, HALF, SHAPE, CARRY = range(5)
"""Slots of theta, the fit's unbounded parameters: ln scale, logit p, ln K, logit((n - 0.5) / 5.5),
logit(lam / 0.9) (scale and K in the touchpoint's reference units). Every value of theta is a valid curve,
so the polish needs no bounds and draws stay in range."""
_SLOTS = {F.LINEAR: (SCALE,), F.POWER: (SCALE, EXPONENT), F.SATURATING: (SCALE, HALF),
          F.HILL: (SCALE, HALF, SHAPE)}
_SHAPE_SPAN = F.SHAPE_MAX - F.SHAPE_MIN
_CLIP = 30.0
"""|theta| is kept below this while fitting (exp(30) is 1e13 reference units: far beyond any evidence)."""


def _natural(theta: np.ndarray) -> tuple[np.ndarray, ...]:
    """(scale, p, K, n, lam) in reference units from theta (..., 5)."""
    t = np.clip(theta, -_CLIP, _CLIP)
    return (np.exp(t[..., SCALE]), expit(t[..., EXPONENT]), np.exp(t[..., HALF]),
            F.SHAPE_MIN + _SHAPE_SPAN * expit(t[..., SHAPE]), F.CARRYOVER_MAX * expit(t[..., CARRY]))


def _log_sd(theta: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Standard errors of ln scale, ln p, ln K and ln n (delta method from theta's covariance), (N, 4)."""
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0.0, None))[..., :CARRY]
    _, p, _, n, _ = _natural(np.nan_to_num(theta))
    factor = np.stack([np.ones_like(p), 1.0 - p, np.ones_like(p),
                       (n - F.SHAPE_MIN) * (F.SHAPE_MAX - n) / _SHAPE_SPAN / n], axis=-1)
    return sd * factor


@dataclass(frozen=True)
class Variant:
    """A family with or without carry-over."""

    family: str
    carry: bool

    @property
    def slots(self) -> tuple[int, ...]:
        return _SLOTS[self.family] + ((CARRY,) if self.carry else ())

    @property
    def k(self) -> int:
        """Parameters counted by AICc: the curve's, lam if any, and sigma."""
        return len(self.slots) + 1

    @property
    def name(self) -> str:
        return self.family + (" + carry-over" if self.carry else "")


def _variants(families: tuple[str, ...], carryover: bool | str) -> list[Variant]:
    """Variants simplest first: by parameter count, then in FAMILIES order."""
    unknown = [f for f in families if f not in F.FAMILIES]
    if unknown or not families:
        raise ValueError(f"unknown families {unknown}; use some of {', '.join(F.FAMILIES)}")
    if carryover not in (True, False, "auto"):
        raise ValueError("carryover must be True, False or 'auto'")
    carries = {"auto": (False, True), True: (True,), False: (False,)}[carryover]
    found = [Variant(f, c) for f in F.FAMILIES if f in families for c in carries]
    return sorted(found, key=lambda v: (v.k, F.FAMILIES.index(v.family)))


def _basis(family: str, x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The family's shape h(x) for every grid point: x (B, T), grid (G, 5) theta -> (B, G, T); f = scale * h."""
    if family == F.LINEAR:
        return np.broadcast_to(x[:, None, :], (x.shape[0], len(grid), x.shape[1]))
    if family == F.SATURATING:
        return -np.expm1(-x[:, None, :] * (F.LN2 / np.exp(grid[:, HALF]))[None, :, None])
    positive = x > 0
    logx = np.where(positive, np.log(np.where(positive, x, 1.0)), -np.inf)[:, None, :]
    if family == F.POWER:
        return np.exp(expit(grid[:, EXPONENT])[None, :, None] * logx)
    n = F.SHAPE_MIN + _SHAPE_SPAN * expit(grid[:, SHAPE])
    return expit(n[None, :, None] * (logx - grid[:, HALF][None, :, None]))


def _shape_grid(family: str) -> np.ndarray:
    """Grid of theta over the family's shape parameters (G, 5; the scale slot is filled in later)."""
    if family == F.LINEAR:
        points = [{}]
    elif family == F.POWER:
        points = [{EXPONENT: logit(p)} for p in EXPONENT_GRID]
    elif family == F.SATURATING:
        points = [{HALF: np.log(k)} for k in HALF_GRID]
    else:
        points = [{HALF: np.log(k), SHAPE: logit((n - F.SHAPE_MIN) / _SHAPE_SPAN)}
                  for k in HILL_HALF_GRID for n in HILL_SHAPE_GRID]
    grid = np.full((len(points), 5), np.nan)
    for g, point in enumerate(points):
        for slot, value in point.items():
            grid[g, slot] = value
    return grid


def _grid_search(variant: Variant, xs: np.ndarray, ys: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best grid point per row with the closed-form scale: theta (R, 5) and its weighted SSE (R,).

    With carry-over, lam runs over CARRYOVER_GRID (one adstock for all rows), then over each row's best
    lam + CARRYOVER_ZOOM."""
    rows, periods = xs.shape
    grid = _shape_grid(variant.family)
    best_sse = np.full(rows, np.inf)
    best = np.full((rows, 5), np.nan)
    wy = w * ys
    syy = np.einsum("rt,rt->r", wy, ys)
    block = max(1, int(1_000_000 // max(1, len(grid) * periods)))

    def search(x: np.ndarray, lam: np.ndarray) -> None:
        for start in range(0, rows, block):
            r = slice(start, start + block)
            h = _basis(variant.family, x[r], grid)
            sxy = np.einsum("bgt,bt->bg", h, wy[r])
            sxx = np.einsum("bgt,bgt,bt->bg", h, h, w[r], optimize=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where((sxy > 0) & (sxx > 0), sxy / sxx, 0.0)
            sse = syy[r, None] - scale * sxy
            g = np.argmin(sse, axis=1)
            at = np.arange(len(g))
            better = sse[at, g] < best_sse[r]
            chosen = grid[g]
            chosen[:, SCALE] = np.log(np.maximum(scale[at, g], np.exp(-_CLIP)))
            if variant.carry:
                chosen[:, CARRY] = logit(lam[r] / F.CARRYOVER_MAX)
            idx = np.arange(start, min(start + block, rows))[better]
            best_sse[idx], best[idx] = sse[at, g][better], chosen[better]

    if not variant.carry:
        search(xs, np.zeros(rows))
        return best, best_sse
    for lam in CARRYOVER_GRID:
        search(F.adstock(xs, float(lam)), np.full(rows, lam))
    found = F.CARRYOVER_MAX * expit(best[:, CARRY])
    for step in CARRYOVER_ZOOM:
        lam = np.clip(found + step, CARRYOVER_GRID[0] / 2, F.CARRYOVER_MAX - 0.02)
        search(F.adstock_rows(xs, lam), lam)
    return best, best_sse


def _model(variant: Variant, theta: np.ndarray, xs: np.ndarray, jac: bool = False):
    """Predictions f(a(theta); theta) of R rows over their periods: theta (R, 5), xs (R, T) -> (R, T) and, with
    jac, d f / d theta[slots] (R, T, k)."""
    amp, p, k, n, lam = (v[:, None] for v in _natural(theta))
    lam_row = lam[:, 0] if variant.carry else np.zeros(len(xs))
    x = F.adstock_rows(xs, lam_row) if variant.carry else xs
    family = variant.family
    positive = x > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logx = np.log(np.where(positive, x, 1.0))
        if family == F.LINEAR:
            h, dhdx, parts = x, np.ones_like(x), {}
        elif family == F.POWER:
            h = np.where(positive, np.exp(p * logx), 0.0)
            dhdx = np.where(positive, p * h / np.where(positive, x, 1.0), 0.0)
            parts = {EXPONENT: h * logx * p * (1.0 - p)}
        elif family == F.SATURATING:
            q = np.exp(-x * F.LN2 / k)
            h, dhdx, parts = 1.0 - q, q * F.LN2 / k, {HALF: -q * F.LN2 * x / k}
        else:
            z = logx - np.log(k)
            h = np.where(positive, expit(n * z), 0.0)
            g = h * (1.0 - h)
            dhdx = np.where(positive, n * g / np.where(positive, x, 1.0), 0.0)
            dn = (n - F.SHAPE_MIN) * (F.SHAPE_MAX - n) / _SHAPE_SPAN
            parts = {HALF: -n * g, SHAPE: np.where(positive, g * z * dn, 0.0)}
    pred = amp * h
    if not jac:
        return pred, None
    columns = []
    for slot in variant.slots:
        if slot == SCALE:
            columns.append(pred)
        elif slot == CARRY:
            dlam = lam * (F.CARRYOVER_MAX - lam) / F.CARRYOVER_MAX
            columns.append(amp * dhdx * F.adstock_derivative(xs, lam_row, x) * dlam)
        else:
            columns.append(amp * parts[slot])
    return pred, np.stack(columns, axis=-1)


def _residuals(variant: Variant, theta: np.ndarray, xs: np.ndarray, ys: np.ndarray, root: np.ndarray):
    """Weighted residuals root (f - y) (R, T), their Jacobian (R, T, k) and SSE (R,)."""
    pred, jac = _model(variant, theta, xs, jac=True)
    r = root * (pred - ys)
    sse = np.einsum("rt,rt->r", r, r)
    return r, root[..., None] * jac, np.where(np.isfinite(sse), sse, np.inf)


def _refine(variant: Variant, theta: np.ndarray, xs: np.ndarray, ys: np.ndarray, w: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Levenberg-Marquardt steps, vectorised over rows, from the grid's best point: solve
    (J'J + mu diag(J'J)) d = -J'r, keep the step where it lowers the weighted SSE (mu / 3), else mu x 4; a row
    stops when a kept step gains less than 1e-10 of its SSE or mu exceeds 1e10."""
    slots = list(variant.slots)
    theta = theta.copy()
    root = np.sqrt(w)
    r, jac, sse = _residuals(variant, theta, xs, ys, root)
    mu = np.full(len(xs), 1e-3)
    active = np.isfinite(sse)
    eye = np.eye(len(slots))
    for _ in range(REFINE_STEPS):
        at = np.flatnonzero(active)
        if len(at) == 0:
            break
        j, res = jac[at], r[at]
        a = np.einsum("rti,rtj->rij", j, j)
        g = np.einsum("rti,rt->ri", j, res)
        diag = np.diagonal(a, axis1=1, axis2=2)
        damp = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
        system = a + (mu[at, None] * damp)[:, :, None] * eye
        ok = np.all(np.isfinite(system), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
        step = np.zeros_like(g)
        if ok.any():
            step[ok] = -np.linalg.solve(system[ok], g[ok][..., None])[..., 0]
        trial = theta[at].copy()
        trial[:, slots] = np.clip(trial[:, slots] + step, -_CLIP, _CLIP)
        r2, jac2, sse2 = _residuals(variant, trial, xs[at], ys[at], root[at])
        better = ok & (sse2 < sse[at])
        gain = np.where(better, sse[at] - sse2, 0.0)
        keep = at[better]
        theta[keep], r[keep], jac[keep], sse[keep] = trial[better], r2[better], jac2[better], sse2[better]
        mu[at] = np.clip(np.where(better, mu[at] / 3.0, mu[at] * 4.0), 1e-12, 1e12)
        done = (better & (gain <= 1e-10 * sse[at])) | (mu[at] > 1e10) | ~ok
        active[at[done]] = False
    return theta, sse


def _polish(variant: Variant, theta0: np.ndarray, xs: np.ndarray, ys: np.ndarray, w: np.ndarray) -> np.ndarray:
    """One row's weighted least squares by scipy's least_squares (Levenberg-Marquardt; theta is unbounded) from
    theta0, in the variant's slots; periods of weight 0 do not count. Returns theta0 where it fails."""
    slots = list(variant.slots)
    mask = w > 0
    if mask.sum() <= len(slots):
        return theta0
    root = np.sqrt(w[mask])[None, :]
    x, y = xs[None, :], ys[mask][None, :]

    def unpack(v: np.ndarray) -> np.ndarray:
        t = theta0.copy()
        t[slots] = np.clip(v, -_CLIP, _CLIP)
        return t[None, :]

    def residuals(v: np.ndarray) -> np.ndarray:
        return (root * (_model(variant, unpack(v), x)[0][:, mask] - y))[0]

    def jacobian(v: np.ndarray) -> np.ndarray:
        return (root[..., None] * _model(variant, unpack(v), x, jac=True)[1][:, mask])[0]

    try:
        with np.errstate(all="ignore"):
            result = least_squares(residuals, np.clip(theta0[slots], -_CLIP, _CLIP), jac=jacobian, method="lm",
                                   x_scale="jac")
    except (ValueError, np.linalg.LinAlgError):
        return theta0
    return unpack(result.x)[0] if result.status > 0 and np.all(np.isfinite(result.x)) else theta0


def _aicc(sse: np.ndarray, n: np.ndarray, k: int | np.ndarray) -> np.ndarray:
    """n ln(SSE / n) + 2k + 2k(k + 1) / (n - k - 1); inf where n <= k + 1."""
    n = np.asarray(n, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = 1e-12 * np.maximum(n, 1.0)
        value = n * np.log(np.maximum(sse, floor) / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
    return np.where((n > k + 1) & np.isfinite(sse), value, np.inf)


@dataclass(frozen=True)
class _Fitted:
    """The chosen fit per row (rows: the touchpoints that were fitted)."""

    variant: np.ndarray  # index into the variant list, -1 where no fit
    theta: np.ndarray  # (R, 5)
    cov: np.ndarray  # (R, 5, 5)
    sse: np.ndarray  # (R,) weighted

    @property
    def ok(self) -> np.ndarray:
        return (self.variant >= 0) & np.isfinite(self.sse)


def _fit(variants: list[Variant], xs: np.ndarray, ys: np.ndarray, w: np.ndarray, only: np.ndarray | None = None,
         polish: bool = True) -> _Fitted:
    """Grid, refine and AICc choice for every row (`only` (R,) fixes each row's variant instead), then the
    chosen variant polished by scipy (with `polish`) and its covariance sigma^2 (J'J)^-1 at the optimum."""
    rows = len(xs)
    n = (w > 0).sum(axis=1)
    thetas = np.full((rows, len(variants), 5), np.nan)
    score = np.full((rows, len(variants)), np.inf)
    for v, variant in enumerate(variants):
        target = np.arange(rows) if only is None else np.flatnonzero(only == v)
        target = target[n[target] > variant.k + 1]
        if len(target) == 0:
            continue
        theta, _ = _grid_search(variant, xs[target], ys[target], w[target])
        theta, sse = _refine(variant, theta, xs[target], ys[target], w[target])
        thetas[target, v] = theta
        score[target, v] = _aicc(sse, n[target], variant.k)
    chosen = np.full(rows, -1)
    theta = np.full((rows, 5), np.nan)
    todo = np.arange(rows)
    for _ in range(len(variants)):  # a chosen fit that runs away (saturation far beyond any data) gives way
        best = score[todo].min(axis=1, keepdims=True)
        tied = np.isfinite(score[todo]) & (score[todo] <= best + AICC_TIE)
        chosen[todo] = np.where(tied.any(axis=1), np.argmax(tied, axis=1), -1)  # variants simplest first
        theta[todo] = thetas[todo, np.maximum(chosen[todo], 0)]
        for v, variant in enumerate(variants):
            at = todo[chosen[todo] == v]
            if polish and len(at):
                theta[at] = [_polish(variant, theta[i], xs[i], ys[i], w[i]) for i in at]
        amp, _, k, _, _ = _natural(np.nan_to_num(theta[todo]))
        saturates = np.array([HALF in variants[v].slots if v >= 0 else False for v in chosen[todo]], dtype=bool)
        runaway = saturates & ~((amp <= RUNAWAY) & (k <= RUNAWAY))
        if not runaway.any():
            break
        score[todo[runaway], chosen[todo[runaway]]] = np.inf
        todo = todo[runaway]
    cov = np.zeros((rows, 5, 5))
    sse = np.full(rows, np.inf)
    for v, variant in enumerate(variants):
        at = np.flatnonzero(chosen == v)
        if len(at) == 0:
            continue
        r, jac, sse[at] = _residuals(variant, theta[at], xs[at], ys[at], np.sqrt(w[at]))
        slots = list(variant.slots)
        dof = np.maximum(n[at] - len(slots), 1)
        with np.errstate(invalid="ignore", over="ignore"):
            inner = np.linalg.pinv(np.nan_to_num(np.einsum("rti,rtj->rij", jac, jac)))
        cov[np.ix_(at, slots, slots)] = (sse[at] / dof)[:, None, None] * inner
    return _Fitted(chosen, theta, cov, sse)


def _weights(variants: list[Variant], xs: np.ndarray, ys: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Weights 1 / v_t of a weighted least squares with var(e_t) proportional to level_t^NOISE_POWER, the level from
    a pilot (the unweighted grid fit of the most flexible variant), floored at LEVEL_FLOOR x its mean; 0 where
    not observed."""
    w = valid.astype(float)
    flexible = variants[-1]
    theta, _ = _grid_search(flexible, xs, ys, w)
    pilot = np.nan_to_num(_model(flexible, theta, xs)[0])
    mean = np.where(valid, pilot, 0.0).sum(1, keepdims=True) / np.maximum(valid.sum(1, keepdims=True), 1)
    level = np.maximum(pilot, LEVEL_FLOOR * np.maximum(mean, 1e-12))
    return np.where(valid, level ** -NOISE_POWER, 0.0)


def _predict(variants: list[Variant], chosen: np.ndarray, theta: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Each row's prediction over all its periods with its chosen variant (NaN where none)."""
    out = np.full(xs.shape, np.nan)
    for v, variant in enumerate(variants):
        at = np.flatnonzero(chosen == v)
        if len(at):
            out[at] = _model(variant, theta[at], xs[at])[0]
    return out


@dataclass(frozen=True)
class CurveDraws:
    """k joint draws of every touchpoint's parameters (arrays k x N), in the units of the fits they came from."""

    family: np.ndarray
    scale: np.ndarray
    exponent: np.ndarray
    half_saturation: np.ndarray
    shape: np.ndarray
    carryover: np.ndarray

    def engaged(self, spend: np.ndarray) -> np.ndarray:
        """e(spend) under every draw: spend (N,) or (N, M) -> (k, N) or (k, N, M)."""
        return F.evaluate(np.broadcast_to(self.family, self.scale.shape), spend, self.scale, self.exponent,
                          self.half_saturation, self.shape)


@dataclass(frozen=True)
class CurveFits:
    """One fitted curve per touchpoint (arrays over N touchpoints), with its diagnostics and uncertainty.

    The curve is f(a) of `family` with `scale` (b, A or S), `exponent` (p, power), `half_saturation`
    (K: saturating, hill) and `shape` (n, hill), over a period of `periods` history periods
    (1 for the fits themselves; see `period_curve`). Parameters a family does not use are NaN; so is every
    parameter of a touchpoint with no family ('': `not identified` before a fit was tried).
    `theta` and `cov` are the fit's log-parameters and their covariance, `ref_spend` and `ref_engaged` the
    units they are in (the touchpoint's mean period spend with spend > 0, its mean outcome).
    """

    family: np.ndarray
    scale: np.ndarray
    exponent: np.ndarray
    half_saturation: np.ndarray
    shape: np.ndarray
    carryover: np.ndarray
    periods: float
    theta: np.ndarray
    cov: np.ndarray
    ref_spend: np.ndarray
    ref_engaged: np.ndarray
    r2: np.ndarray
    r2_holdout: np.ndarray
    mape_holdout: np.ndarray
    aicc: np.ndarray
    periods_observed: np.ndarray
    periods_with_spend: np.ndarray
    spend_min: np.ndarray
    spend_max: np.ndarray
    verdict: np.ndarray
    reason: np.ndarray
    seed: int = 0

    def __len__(self) -> int:
        return len(self.family)

    def engaged(self, spend: np.ndarray) -> np.ndarray:
        """The fitted curve at spend ((N,) or (N, M), spend of one period of `periods` history periods)."""
        return F.evaluate(self.family, spend, self.scale, self.exponent, self.half_saturation, self.shape)

    def marginal(self, spend: np.ndarray) -> np.ndarray:
        """The fitted curve's derivative at spend."""
        return F.evaluate(self.family, spend, self.scale, self.exponent, self.half_saturation, self.shape,
                          derivative=True)

    def draws(self, k: int, seed: int | None = None) -> CurveDraws:
        """k joint draws of each touchpoint's parameters, theta ~ Normal(theta_hat, cov) in the fit's log and
        logit parameters (so scale and K stay positive, p in (0, 1), n in [0.5, 6], lam in [0, 0.9)),
        reproducible with `seed`."""
        rng = np.random.default_rng(self.seed if seed is None else seed)
        values, vectors = np.linalg.eigh(np.nan_to_num(self.cov))
        root = vectors * np.sqrt(np.clip(values, 0.0, None))[:, None, :]  # cov = root root'
        z = rng.standard_normal((k, len(self), 5))
        theta = self.theta[None] + np.einsum("nij,knj->kni", root, z)
        p = _public(theta, self.family[None], self.ref_spend[None], self.ref_engaged[None], self.periods)
        return CurveDraws(self.family, *p)

    def band(self, spend: np.ndarray, level: float = 0.9, k: int = DRAWS, seed: int | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper engaged at spend: the (1 - level) / 2 and (1 + level) / 2 quantiles over k draws."""
        values = self.draws(k, seed).engaged(spend)
        tail = (1.0 - level) / 2.0
        with warnings.catch_warnings():  # touchpoints without a fit give NaN, quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanquantile(values, tail, axis=0), np.nanquantile(values, 1.0 - tail, axis=0)

    def table(self, names: list[str] | np.ndarray | None = None) -> pd.DataFrame:
        """One row per touchpoint: family, parameters, diagnostics and verdict."""
        frame = pd.DataFrame({
            "family": self.family, "scale": self.scale, "exponent": self.exponent,
            "half_saturation": self.half_saturation, "shape": self.shape, "carryover": self.carryover,
            "r2": self.r2, "r2_holdout": self.r2_holdout, "mape_holdout": self.mape_holdout,
            "periods_observed": self.periods_observed, "periods_with_spend": self.periods_with_spend,
            "spend_min": self.spend_min, "spend_max": self.spend_max, "verdict": self.verdict,
            "reason": self.reason,
        })
        if names is not None:
            frame.insert(0, "touchpoint", list(names))
        return frame


def _public(theta: np.ndarray, family: np.ndarray, ref_spend: np.ndarray, ref_engaged: np.ndarray,
            periods: float) -> tuple[np.ndarray, ...]:
    """User-unit parameters (scale, exponent, K, n, lam) from theta (..., N, 5), for a period of `periods`
    history periods: E(S) = P f(S / P) keeps each family with b, A P^(1 - p), S P and K P."""
    amp, p, k, n, lam = _natural(np.nan_to_num(theta))
    missing = np.isnan(theta)
    unit = np.where(missing[..., SCALE], np.nan, amp * ref_engaged)
    p = np.where((family == F.POWER) & ~missing[..., EXPONENT], p, np.nan)
    half = np.where(np.isin(family, (F.SATURATING, F.HILL)) & ~missing[..., HALF], k * ref_spend * periods, np.nan)
    n = np.where((family == F.HILL) & ~missing[..., SHAPE], n, np.nan)
    lam = np.where(missing[..., CARRY], 0.0, lam)
    with np.errstate(invalid="ignore"):
        power_scale = unit * ref_spend ** -np.nan_to_num(p) * periods ** (1.0 - np.nan_to_num(p))
    scale = np.select([family == F.LINEAR, family == F.POWER, np.isin(family, (F.SATURATING, F.HILL))],
                      [unit / ref_spend, power_scale, unit * periods], np.nan)
    lam = np.where(family == "", np.nan, lam)
    return scale, p, half, n, lam


def period_curve(fits: CurveFits, periods: float) -> CurveFits:
    """The curve of a planning period of `periods` history periods, the money spread evenly over them:
    E(S) = P f(S / P). Each family keeps its form: linear b; power A P^(1 - p); saturating and hill S P and
    K P (n unchanged); carry-over does not change a steady state. Diagnostics stay per history period."""
    if not periods > 0:
        raise ValueError("periods must be positive")
    total = fits.periods * periods
    scale, p, half, n, lam = _public(fits.theta, fits.family, fits.ref_spend, fits.ref_engaged, total)
    return replace(fits, scale=scale, exponent=p, half_saturation=half, shape=n, carryover=lam, periods=total)


@dataclass(frozen=True)
class _Evidence:
    """What each touchpoint's history holds, before any fit."""

    periods_observed: np.ndarray
    periods_with_spend: np.ndarray
    ref_spend: np.ndarray  # mean period spend over periods with spend (1 where none)
    ref_engaged: np.ndarray  # mean outcome over observed periods (1 where none)
    spend_min: np.ndarray
    spend_max: np.ndarray
    reason: np.ndarray  # why the history cannot identify a curve ('' where it may)


def _evidence(s: np.ndarray, e: np.ndarray, observed: np.ndarray, valid: np.ndarray) -> _Evidence:
    """Counts, reference levels, the observed spend range and the not-identified reasons: fewer than
    MIN_PERIODS_WITH_SPEND periods with spend, a coefficient of variation of spend below MIN_SPEND_VARIATION,
    or no outcome at all."""
    has_spend = observed & (s > 0)
    with_spend = has_spend.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_spend = np.where(with_spend > 0, np.where(has_spend, s, 0).sum(1) / with_spend, 1.0)
        spend_sd = np.sqrt(np.where(has_spend, (s - ref_spend[:, None]) ** 2, 0).sum(1) / with_spend)
        variation = spend_sd / ref_spend
        ref_engaged = e.sum(axis=1) / valid.sum(axis=1)
    ref_engaged = np.where(np.isfinite(ref_engaged) & (ref_engaged > 0), ref_engaged, 1.0)
    spend_min = np.where(has_spend, s, np.inf).min(axis=1, initial=np.inf)
    spend_max = np.where(has_spend, s, -np.inf).max(axis=1, initial=-np.inf)
    reason = np.full(len(s), "", dtype=object)
    few = with_spend < MIN_PERIODS_WITH_SPEND
    flat = ~few & ~(variation >= MIN_SPEND_VARIATION)
    reason[flat] = [f"no variation in spend (coefficient of variation {v:.2f} < {MIN_SPEND_VARIATION})"
                    for v in variation[flat]]
    reason[e.sum(axis=1) <= 0] = "no outcome in any period"
    reason[few] = [f"{k} periods with spend (fewer than {MIN_PERIODS_WITH_SPEND})" for k in with_spend[few]]
    return _Evidence(observed.sum(axis=1), with_spend, ref_spend, ref_engaged,
                     np.where(np.isfinite(spend_min), spend_min, np.nan),
                     np.where(np.isfinite(spend_max), spend_max, np.nan), reason)


def _holdout(variants: list[Variant], chosen: np.ndarray, xs: np.ndarray, ys: np.ndarray, weight: np.ndarray,
             valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Held-out R2 and MAPE: each row's chosen variant refitted on its first 1 - HOLDOUT_SHARE of observed
    periods predicts the rest (NaN where fewer than MIN_HOLDOUT are held out or the refit fails)."""
    order = np.cumsum(valid, axis=1)
    n_train = np.floor((1.0 - HOLDOUT_SHARE) * valid.sum(axis=1) + 1e-9).astype(int)
    train = valid & (order <= n_train[:, None])
    test = valid & (order > n_train[:, None])
    held = _fit(variants, xs, ys, np.where(train, weight, 0.0), only=chosen, polish=False)
    pred = _predict(variants, np.where(held.ok, held.variant, -1), held.theta, xs)
    count, positive = test.sum(axis=1), test & (ys > 0)
    usable = (count >= MIN_HOLDOUT) & held.ok
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(test, ys, 0).sum(1) / count
        sst = np.where(test, (ys - mean[:, None]) ** 2, 0).sum(1)
        sse = np.where(test, (ys - pred) ** 2, 0).sum(1)
        r2 = np.where(usable & (sst > 0), 1.0 - sse / sst, np.nan)
        mape = np.where(positive, np.abs(ys - pred) / np.where(positive, ys, 1.0), 0).sum(1) / positive.sum(1)
    return r2, np.where(usable & (positive.sum(1) > 0), mape, np.nan)


def fit_curves(spend: np.ndarray, engaged: np.ndarray, observed: np.ndarray, *,
               families: tuple[str, ...] = F.FAMILIES, carryover: bool | str = "auto", seed: int = 0) -> CurveFits:
    """Fit one response curve per touchpoint from per-period history.

    spend, engaged: (N touchpoints x T periods), in period order; observed: which periods exist for each
    touchpoint (periods before its first row are not observed; dark periods inside its span are observed with
    spend 0). A non-finite spend counts as 0; a non-finite outcome in an observed period counts as not observed
    (its spend still carries over). carryover: 'auto' lets AICc choose between no carry-over and a fitted lam,
    True always fits lam, False never does. `seed` is the default seed of `CurveFits.draws` and `band` (the fit
    itself is deterministic).
    """
    spend = np.asarray(spend, float)
    engaged = np.asarray(engaged, float)
    observed = np.asarray(observed, bool)
    if spend.ndim != 2 or spend.shape != engaged.shape or spend.shape != observed.shape:
        raise ValueError("spend, engaged and observed must be arrays of the same shape (touchpoints x periods)")
    if np.any(spend[observed & np.isfinite(spend)] < 0) or np.any(engaged[observed & np.isfinite(engaged)] < 0):
        raise ValueError("spend and engaged must not be negative")
    variants = _variants(tuple(families), carryover)
    s = np.where(observed & np.isfinite(spend), spend, 0.0)
    valid = observed & np.isfinite(engaged)
    e = np.where(valid, engaged, 0.0)
    evidence = _evidence(s, e, observed, valid)
    reason = evidence.reason.copy()
    xs = s / evidence.ref_spend[:, None]
    ys = e / evidence.ref_engaged[:, None]

    rows = np.flatnonzero(reason == "")
    weight = _weights(variants, xs[rows], ys[rows], valid[rows])
    main = _fit(variants, xs[rows], ys[rows], weight)
    failed = ~main.ok | ~np.isfinite(main.theta[:, SCALE])
    reason[rows[failed]] = "the fit failed"
    r, chosen = rows[~failed], main.variant[~failed]

    n_tp = len(s)
    family = np.full(n_tp, "", dtype=object)
    theta = np.full((n_tp, 5), np.nan)
    cov = np.zeros((n_tp, 5, 5))
    r2, r2_holdout, mape_holdout, aicc = (np.full(n_tp, np.nan) for _ in range(4))
    family[r] = [variants[v].family for v in chosen]
    theta[r], cov[r] = main.theta[~failed], main.cov[~failed]
    fitted = _predict(variants, chosen, theta[r], xs[r])
    n_valid = valid[r].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid[r], ys[r], 0).sum(1) / n_valid
        sst = np.where(valid[r], (ys[r] - mean[:, None]) ** 2, 0).sum(1)
        r2[r] = 1.0 - np.where(valid[r], (ys[r] - fitted) ** 2, 0.0).sum(1) / sst
    r2_holdout[r], mape_holdout[r] = _holdout(variants, chosen, xs[r], ys[r], weight[~failed], valid[r])
    aicc[r] = _aicc(main.sse[~failed], n_valid, np.array([v.k for v in variants])[chosen])

    scale, p, half, n, lam = _public(theta, family, evidence.ref_spend, evidence.ref_engaged, 1.0)
    verdict = np.where(reason != "", NOT_IDENTIFIED, GOOD).astype(object)
    weak = _weak_reasons(family, theta, cov, half, evidence.spend_max, r2_holdout, mape_holdout)
    is_weak = (verdict == GOOD) & (weak != "")
    verdict[is_weak] = WEAK
    reason[is_weak] = weak[is_weak]
    return CurveFits(family, scale, p, half, n, lam, 1.0, theta, cov, evidence.ref_spend, evidence.ref_engaged,
                     r2, r2_holdout, mape_holdout, aicc, evidence.periods_observed, evidence.periods_with_spend,
                     evidence.spend_min, evidence.spend_max, verdict, reason, seed)


def _weak_reasons(family: np.ndarray, theta: np.ndarray, cov: np.ndarray, half: np.ndarray, spend_max: np.ndarray,
                  r2_holdout: np.ndarray, mape_holdout: np.ndarray) -> np.ndarray:
    """Why each fit is weak, in words ('' where it is not)."""
    sd = _log_sd(theta, cov)
    used = ~np.isnan(theta[:, :CARRY])
    loose = np.where(used, sd, 0.0).max(axis=1) > POORLY_DETERMINED_SD
    names = np.array(["scale", "exponent", "half-saturation", "shape"])
    worst = names[np.argmax(np.where(used, sd, -1.0), axis=1)]
    with np.errstate(invalid="ignore"):
        beyond = half > HALF_SATURATION_BEYOND * spend_max
    parts = [
        (np.isnan(r2_holdout), lambda i: "no held-out check possible"),
        (r2_holdout < WEAK_R2, lambda i: f"held-out R2 {r2_holdout[i]:.2f} < {WEAK_R2}"),
        (mape_holdout > WEAK_MAPE, lambda i: f"held-out MAPE {mape_holdout[i]:.0%} > {WEAK_MAPE:.0%}"),
        (beyond, lambda i: f"half-saturation {half[i] / spend_max[i]:.1f} x the largest observed spend: "
                           "saturation is extrapolated"),
        (loose, lambda i: f"{worst[i]} poorly determined (log standard error > {POORLY_DETERMINED_SD})"),
    ]
    out = np.full(len(family), "", dtype=object)
    for mask, text in parts:
        for i in np.flatnonzero(mask & (family != "")):
            out[i] = f"{out[i]}; {text(i)}" if out[i] else text(i)
    return out


def bench(n: int = 1000, periods: int = 104, seed: int = 1) -> dict[str, object]:
    """Time fit_curves on a synthetic history (families in turn, 5 % noise, carry-over 0-0.5, starts staggered
    over the first 20 % of the periods): seconds, the share of families found as generated, the verdicts."""
    from .simulate import synthetic_history

    history = synthetic_history(n, periods, carryover=(0.0, 0.5), late=0.2, seed=seed)
    start = time.perf_counter()
    fits = fit_curves(history.spend, history.engaged, history.observed)
    seconds = time.perf_counter() - start
    return {"touchpoints": n, "periods": periods, "seconds": seconds,
            "family_as_generated": float(np.mean(fits.family == history.family)),
            "verdicts": {v: int(np.sum(fits.verdict == v)) for v in VERDICTS}}
