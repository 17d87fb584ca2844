"""Response families on the spend of one period, and geometric carry-over (adstock), vectorised in numpy.

`a` is the (adstocked) spend of one period (a week, say); every function broadcasts its arguments, so the
parameters may be per-touchpoint columns against a (touchpoints x periods) array of spend.

- linear:     e(a) = b a                                   e'(a) = b
- power:      e(a) = A a^p,            0 < p <= 1          e'(a) = A p a^(p-1)
- saturating: e(a) = S (1 - exp(-a ln2 / K))               e'(a) = S ln2 / K exp(-a ln2 / K)
              K is the half-saturation: e(K) = S / 2.
- hill:       e(a) = S a^n / (K^n + a^n),  0.5 <= n <= 6   e'(a) = S n u / (a (1 + u)^2),  u = (a / K)^n
              K is the half-saturation: e(K) = S / 2. Concave for n <= 1; S-shaped for n > 1, with its
              inflection at u = (n - 1) / (n + 1).

Carry-over (normalised geometric adstock), 0 <= lam < 0.9:

    a_t = (1 - lam) sum_k lam^k s_{t-k}    (recursively a_t = lam a_{t-1} + (1 - lam) s_t, a_{-1} = 0)

The weights sum to 1, so a steady spend s gives a = s: carry-over moves response in time but leaves the
steady-state curve e(s) unchanged.
"""

from __future__ import annotations

import numpy as np

# scipy (expit for hill curves, lfilter for carry-over) is imported where it is used: a plan on power, linear or
# saturating curves never needs it, and importing scipy.signal takes about half a second.

LINEAR = "linear"
POWER = "power"
SATURATING = "saturating"
HILL = "hill"
FAMILIES: tuple[str, ...] = (LINEAR, POWER, SATURATING, HILL)
"""Every family, simplest first (ties in a model choice go to the earlier one)."""
LN2 = float(np.log(2.0))
SHAPE_MIN, SHAPE_MAX = 0.5, 6.0
"""Range of the hill exponent n."""
CARRYOVER_MAX = 0.9
"""Carry-over lam lies in [0, CARRYOVER_MAX): at 0.9 half of a week's effect would come after 6.6 weeks."""


def linear(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """e(a) = b a."""
    return np.asarray(b, float) * a


def linear_slope(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """e'(a) = b."""
    return np.broadcast_to(np.asarray(b, float), np.broadcast_shapes(np.shape(a), np.shape(b))).copy()


def power(a: np.ndarray, scale: np.ndarray, p: np.ndarray) -> np.ndarray:
    """e(a) = A a^p (0 at a = 0)."""
    return np.asarray(scale, float) * np.power(np.maximum(a, 0.0), p)


def power_slope(a: np.ndarray, scale: np.ndarray, p: np.ndarray) -> np.ndarray:
    """e'(a) = A p a^(p-1) (infinite at a = 0 when p < 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(scale, float) * p * np.power(np.maximum(a, 0.0), np.asarray(p, float) - 1.0)


def saturating(a: np.ndarray, saturation: np.ndarray, half: np.ndarray) -> np.ndarray:
    """e(a) = S (1 - exp(-a ln2 / K))."""
    return np.asarray(saturation, float) * -np.expm1(-np.asarray(a, float) * LN2 / half)


def saturating_slope(a: np.ndarray, saturation: np.ndarray, half: np.ndarray) -> np.ndarray:
    """e'(a) = S ln2 / K exp(-a ln2 / K)."""
    return np.asarray(saturation, float) * LN2 / half * np.exp(-np.asarray(a, float) * LN2 / half)


def _hill_u(a: np.ndarray, half: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """h = u / (1 + u) with u = (a / K)^n, computed as expit(n (ln a - ln K)) so a = 0 gives exactly 0."""
    from scipy.special import expit

    with np.errstate(divide="ignore"):
        return expit(np.asarray(shape, float) * (np.log(np.maximum(a, 0.0)) - np.log(half)))


def hill(a: np.ndarray, saturation: np.ndarray, half: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """e(a) = S a^n / (K^n + a^n)."""
    return np.asarray(saturation, float) * _hill_u(a, half, shape)


def hill_slope(a: np.ndarray, saturation: np.ndarray, half: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """e'(a) = S n h (1 - h) / a with h = a^n / (K^n + a^n) (0 at a = 0 when n > 1, infinite when n < 1)."""
    h = _hill_u(a, half, shape)
    a = np.asarray(a, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.asarray(saturation, float) * shape * h * (1.0 - h) / a
    at_zero = np.where(np.asarray(shape) > 1.0, 0.0, np.where(np.asarray(shape) < 1.0, np.inf,
                                                               np.asarray(saturation, float) / half))
    return np.where(a > 0, slope, at_zero)


def hill_curvature(a: np.ndarray, saturation: np.ndarray, half: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """e''(a) = S n h (1 - h) ((n - 1) - 2 n h) / a^2, h = a^n / (K^n + a^n): positive (convex) below the
    inflection, negative above it."""
    h = _hill_u(a, half, shape)
    a = np.asarray(a, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(saturation, float) * shape * h * (1.0 - h) * ((shape - 1.0) - 2.0 * shape * h) / a**2


def hill_inflection(half: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Spend where an S-shaped hill curve turns from convex to concave: K ((n - 1) / (n + 1))^(1/n); 0 for n <= 1."""
    n = np.asarray(shape, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        point = np.asarray(half, float) * np.power(np.maximum(n - 1.0, 0.0) / (n + 1.0), 1.0 / n)
    return np.where(n > 1.0, point, 0.0)


def response(family: str, a: np.ndarray, scale, exponent=None, half=None, shape=None) -> np.ndarray:
    """e(a) of one family: `scale` is b, A or S; `exponent` p (power); `half` K and `shape` n."""
    if family == LINEAR:
        return linear(a, scale)
    if family == POWER:
        return power(a, scale, exponent)
    if family == SATURATING:
        return saturating(a, scale, half)
    if family == HILL:
        return hill(a, scale, half, shape)
    raise ValueError(f"unknown family {family!r}; use one of {', '.join(FAMILIES)}")


def slope(family: str, a: np.ndarray, scale, exponent=None, half=None, shape=None) -> np.ndarray:
    """e'(a) of one family (arguments as in `response`)."""
    if family == LINEAR:
        return linear_slope(a, scale)
    if family == POWER:
        return power_slope(a, scale, exponent)
    if family == SATURATING:
        return saturating_slope(a, scale, half)
    if family == HILL:
        return hill_slope(a, scale, half, shape)
    raise ValueError(f"unknown family {family!r}; use one of {', '.join(FAMILIES)}")


def evaluate(family: np.ndarray, a: np.ndarray, scale: np.ndarray, exponent: np.ndarray, half: np.ndarray,
             shape: np.ndarray, *, derivative: bool = False) -> np.ndarray:
    """e_i(a) (or e_i'(a)) with one family per touchpoint: `family` and the parameters are arrays whose last
    axis is the N touchpoints (leading axes allowed, e.g. draws x touchpoints); `a` is a scalar or has the
    touchpoints as its first axis ((N,) or (N, M)). The result has the parameters' axes, then a's trailing
    ones. Touchpoints of no family ('') give NaN."""
    family = np.asarray(family)
    params = [np.asarray(v, float) for v in (scale, exponent, half, shape)]
    a = np.asarray(a, float)
    extra = max(a.ndim - 1, 0)
    params = [v.reshape(v.shape + (1,) * extra) for v in params]
    fam = family.reshape(family.shape + (1,) * extra)
    shape_out = np.broadcast_shapes(a.shape, params[0].shape, fam.shape)
    out = np.full(shape_out, np.nan)
    pick = slope if derivative else response
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for name in FAMILIES:
            rows = np.broadcast_to(fam == name, shape_out)
            if rows.any():
                values = pick(name, a, *params)
                out[rows] = np.broadcast_to(values, shape_out)[rows]
    return out


def adstock(spend: np.ndarray, lam: float) -> np.ndarray:
    """a_t = lam a_{t-1} + (1 - lam) s_t along the last axis (periods), starting from a_{-1} = 0.

    One lam for every row (scipy.signal.lfilter runs the recursion in C); see `adstock_rows` for one lam per row.
    """
    if not 0.0 <= lam < CARRYOVER_MAX:
        raise ValueError(f"carry-over must be in [0, {CARRYOVER_MAX}); got {lam}")
    s = np.asarray(spend, float)
    if lam == 0.0:
        return s.copy()
    from scipy.signal import lfilter

    return lfilter([1.0 - lam], [1.0, -lam], s, axis=-1)


def adstock_rows(spend: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """`adstock` with one lam per row of a (rows x periods) array: the recursion runs over periods, each step
    vectorised over the rows (one lfilter when every row has the same lam)."""
    s = np.asarray(spend, float)
    lam = np.broadcast_to(np.asarray(lam, float), s.shape[:-1])
    if lam.size == 0 or np.all(lam == lam.flat[0]):
        return adstock(s, float(lam.flat[0]) if lam.size else 0.0)
    out = np.empty_like(s)
    carried = np.zeros(s.shape[:-1])
    for t in range(s.shape[-1]):
        carried = lam * carried + (1.0 - lam) * s[..., t]
        out[..., t] = carried
    return out


def adstock_derivative(spend: np.ndarray, lam: np.ndarray | float, stocked: np.ndarray | None = None) -> np.ndarray:
    """d a_t / d lam = a_{t-1} - s_t + lam d a_{t-1} / d lam (from the recursion), along the last axis; lam one
    value or one per row."""
    s = np.asarray(spend, float)
    lam = np.broadcast_to(np.asarray(lam, float), s.shape[:-1])
    a = adstock_rows(s, lam) if stocked is None else stocked
    before = np.concatenate([np.zeros(s.shape[:-1] + (1,)), a[..., :-1]], axis=-1)
    if lam.size == 0 or np.all(lam == lam.flat[0]):
        from scipy.signal import lfilter

        return lfilter([1.0], [1.0, -float(lam.flat[0]) if lam.size else 0.0], before - s, axis=-1)
    out = np.empty_like(s)
    carried = np.zeros(s.shape[:-1])
    for t in range(s.shape[-1]):
        carried = lam * carried + (before[..., t] - s[..., t])
        out[..., t] = carried
    return out
