"""Histories generated from known curves: for tests, benchmarks and for checking a fit against the truth.

Touchpoint i spends around m_i per period, m_i log-uniform in [1e3, 1e5]: s_it = m_i * LogNormal(0, spread),
dark periods (spend 0) with probability `dark`, and its history starts after a random delay (up to `late`
of the periods; earlier periods are not observed). Its outcome is the true curve of the adstocked spend
times (1 + noise * z), z standard normal, clipped at 0. True parameters put the curve's bend inside the
spend the touchpoint has seen: K in [0.6, 2] m_i (saturating), [0.7, 1.5] m_i (hill, n in [1.5, 4]),
p in [0.3, 0.9] (power), and e(m_i) log-uniform in [50, 5000] engaged customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import families as F


@dataclass(frozen=True)
class SyntheticHistory:
    """Spend, engaged and observed (N x T), and the true per-period curve of each touchpoint."""

    spend: np.ndarray
    engaged: np.ndarray
    observed: np.ndarray
    family: np.ndarray
    scale: np.ndarray
    exponent: np.ndarray
    half_saturation: np.ndarray
    shape: np.ndarray
    carryover: np.ndarray
    mean_spend: np.ndarray

    def true_engaged(self, spend: np.ndarray) -> np.ndarray:
        """The true per-period curve e_i(a) at spend a ((N,) or (N, M): first axis the touchpoints)."""
        return F.evaluate(self.family, spend, self.scale, self.exponent, self.half_saturation, self.shape)


def synthetic_history(n: int = 30, periods: int = 52, *, families: tuple[str, ...] = F.FAMILIES,
                      noise: float = 0.05, spread: float = 0.5, dark: float = 0.08, late: float = 0.0,
                      carryover: tuple[float, float] = (0.0, 0.0), seed: int = 0) -> SyntheticHistory:
    """A history of n touchpoints over `periods` periods; families cycle through `families`; carry-over
    uniform in the `carryover` range."""
    rng = np.random.default_rng(seed)
    family = np.array([families[i % len(families)] for i in range(n)], dtype=object)
    m = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n))
    level = np.exp(rng.uniform(np.log(50.0), np.log(5000.0), n))
    spend = m[:, None] * rng.lognormal(0.0, spread, (n, periods))
    spend[rng.random((n, periods)) < dark] = 0.0
    start = rng.integers(0, int(late * periods) + 1, n)
    observed = np.arange(periods)[None, :] >= start[:, None]
    spend = np.where(observed, spend, 0.0)

    exponent = np.where(family == F.POWER, rng.uniform(0.3, 0.9, n), np.nan)
    half = np.where(family == F.SATURATING, rng.uniform(0.6, 2.0, n) * m,
                    np.where(family == F.HILL, rng.uniform(0.7, 1.5, n) * m, np.nan))
    shape = np.where(family == F.HILL, rng.uniform(1.5, 4.0, n), np.nan)
    lam = rng.uniform(carryover[0], carryover[1], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = np.select([family == F.LINEAR, family == F.POWER, family == F.SATURATING, family == F.HILL],
                         [m, m ** np.nan_to_num(exponent, nan=1.0), -np.expm1(-m * F.LN2 / half),
                          F.hill(m, 1.0, half, shape)])
    scale = level / unit
    truth = SyntheticHistory(spend, np.zeros_like(spend), observed, family, scale, exponent, half, shape, lam, m)
    stocked = F.adstock_rows(spend, lam)
    clean = truth.true_engaged(stocked)
    engaged = np.where(observed, np.maximum(clean * (1.0 + noise * rng.standard_normal(clean.shape)), 0.0), 0.0)
    return SyntheticHistory(spend, engaged, observed, family, scale, exponent, half, shape, lam, m)
