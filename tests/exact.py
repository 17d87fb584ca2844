"""Independent exact optimum for budget-only instances with smooth power curves (bisection on the multiplier)."""

from __future__ import annotations

import numpy as np


def power_optimum(s0, e0, alpha, value, lo, hi, budget, iterations: int = 200) -> tuple[np.ndarray, float]:
    """max sum v_i e0_i (x_i/s0_i)^a_i  s.t. sum x_i = budget, lo <= x <= hi.

    KKT: at the optimum every touchpoint strictly inside its bounds has marginal v_i e_i'(x_i) = lam;
    x_i(lam) = s0_i (lam / (v_i a_i e0_i / s0_i)) ** (1 / (a_i - 1)), clipped; sum x_i(lam) falls with lam."""
    s0, e0, alpha, value, lo, hi = map(lambda a: np.asarray(a, float), (s0, e0, alpha, value, lo, hi))
    k = value * alpha * e0 / s0

    def spend(lam: float) -> np.ndarray:
        with np.errstate(divide="ignore", over="ignore"):
            x = s0 * np.power(lam / k, 1.0 / (alpha - 1.0))
        return np.clip(x, lo, hi)

    a, b = 1e-12, 1e12
    for _ in range(iterations):
        mid = np.sqrt(a * b)
        if spend(mid).sum() > budget:
            a = mid
        else:
            b = mid
    x = spend(np.sqrt(a * b))
    return x, float((value * e0 * np.power(x / s0, alpha)).sum())
