"""How sure a plan is: any allocation (the plan, today's) evaluated over joint draws of the curves (issue 14 part 2).

For draws k = 1..K of every touchpoint's curve (draws.Draws, equally likely), an allocation x has engaged customers
E_k = sum_i e_ki(x_i) and weighted engagement W_k = sum_i v_i e_ki(x_i), one per draw, vectorised (K x N at once).
Reported: the mean, the 5 %, 50 % and 95 % quantiles (a 90 % range), the worst-10 % average (CVaR at 10 %:
the mean of the lowest tenth of the draws, the measure a robust plan protects, robust.py), the probability that
the plan beats today's allocation on the same draws (P(E_plan,k > E_today,k)), and the same per function.
Today is today's allocation on the plan's curves (with the scenario's what-ifs, if any), so plan and today are
compared in the same world, draw by draw; a touchpoint the scenario removes keeps today's engaged customers in
today's figure and has none in the plan.

A plan over periods (issue 15) has a spend x_it per touchpoint and period: E_k = sum_i sum_t e_kit(x_it), each column
evaluated on draw k of its touchpoint's curve as the period LP evaluates it (`period_engaged`: the period's length,
seasonality and spread), over the horizon; today is today's allocation at its rate in every period, likewise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import schema as S
from . import units

if TYPE_CHECKING:
    from .draws import Draws
    from .periods import Timeline
    from .plan import Plan

LEVEL = 0.9
"""The range shown beside a figure: its 5 % and 95 % quantiles over the draws."""
TAIL = 0.1
"""The tail a robust plan protects and the risk reports: the worst 10 % of the draws."""
BLOCK = 20_000_000
"""Values (draws x touchpoints x periods) a plan over periods is evaluated on at once, to bound memory."""


def tail_mean(values: np.ndarray, tail: float = TAIL) -> float:
    """CVaR of equally likely draws at `tail` (Rockafellar-Uryasev): max_t t - 1/(tail K) sum_k (t - v_k)^+, which is
    the mean of the lowest tail K values, the last one counted by its fraction."""
    v = np.sort(np.asarray(values, float))
    k = len(v)
    if not 0 < tail <= 1:
        raise ValueError("tail must be in (0, 1]")
    mass = tail * k
    whole = int(np.floor(mass + 1e-12))
    total = v[:whole].sum() + (mass - whole) * (v[whole] if whole < k else 0.0)
    return float(total / mass)


@dataclass(frozen=True)
class PlanRange:
    """A plan's and today's engaged customers (and weighted engagement) over joint draws of the curves."""

    plan: np.ndarray
    """Engaged customers of the plan, one per draw."""
    today: np.ndarray
    """Engaged customers of today's allocation, on the same draws."""
    level: float
    touchpoints_with_range: int
    method: str
    plan_weighted: np.ndarray | None = None
    """Weighted engagement (value x engaged customers) of the plan per draw; None when every value is 1."""
    today_weighted: np.ndarray | None = None
    by_function: pd.DataFrame | None = None
    """Per function: mean, 5 % and 95 % of its engaged customers in the plan and today, and P(plan beats today)."""
    tail: float = TAIL
    over: str = ""
    """What the engaged customers are counted over, in words ('' for one period; a plan over periods: ' over the
    horizon (2026-01 to 2026-12)')."""

    def quantiles(self, values: np.ndarray) -> tuple[float, float, float]:
        """The (1 - level) / 2, 50 % and (1 + level) / 2 quantiles of values over the draws."""
        low_q = (1 - self.level) / 2
        low, mid, high = np.quantile(values, [low_q, 0.5, 1 - low_q])
        return float(low), float(mid), float(high)

    @property
    def draws(self) -> int:
        return len(self.plan)

    @property
    def beats_today(self) -> float:
        """The share of draws in which the plan engages more customers than today's allocation."""
        return float(np.mean(self.plan > self.today))

    @property
    def measure(self) -> str:
        """What `protected` counts: weighted engagement when values differ, else engaged customers."""
        return "weighted engagement" if self.plan_weighted is not None else "engaged customers"

    def protected(self, today: bool = False) -> np.ndarray:
        """Per draw, the measure plans maximise (weighted engagement when values differ, else engaged customers)."""
        if self.plan_weighted is None:
            return self.today if today else self.plan
        return self.today_weighted if today else self.plan_weighted

    def figures(self) -> dict[str, float]:
        """The numbers: mean, low, median, high and worst-10 % average of the plan's and today's engaged customers,
        the probability the plan beats today, and the same for the protected measure (`protected_*`)."""
        out = {"draws": float(self.draws), "level": self.level, "tail": self.tail, "beats_today": self.beats_today}
        for name, values in (("plan", self.plan), ("today", self.today),
                             ("protected_plan", self.protected()), ("protected_today", self.protected(True))):
            low, mid, high = self.quantiles(values)
            out.update({f"{name}_mean": float(np.mean(values)), f"{name}_low": low, f"{name}_median": mid,
                        f"{name}_high": high, f"{name}_tail": tail_mean(values, self.tail)})
        return out

    def words(self) -> str:
        low, _, high = self.quantiles(self.plan)
        return (f"{self.level:.0%} range of the plan's engaged customers{self.over}: {low:,.0f} to {high:,.0f} (mean "
                f"{np.mean(self.plan):,.0f}; the worst {self.tail:.0%} of draws average "
                f"{tail_mean(self.plan, self.tail):,.0f}); the plan beats today's allocation in {self.beats_today:.0%} "
                f"of {self.draws:,} draws of the curves ({self.method})")


def plan_risk(plan: Plan, draws: Draws, level: float = LEVEL, tail: float = TAIL) -> PlanRange | None:
    """The plan and today's allocation over the draws (module docstring); None when no plan, or no curve varies.
    A plan over periods is evaluated column by column as its LP does (`period_engaged`), summed over the horizon.

    The draws must be of the plan's touchpoints (draw_curves with the plan's scenario)."""
    if not plan.ok or not draws.varying.any():
        return None
    table = plan.table
    n = len(draws)
    line = getattr(plan, "line", None)
    if getattr(plan, "by_period", None) is not None:  # columns (touchpoint, period), touchpoint by touchpoint
        if line is None:
            raise ValueError("a plan over periods without its timeline: make it with period_plan.optimize_periods")
        count = line.count
        width = n * count
        if list(table[S.TOUCHPOINT].iloc[:width:count]) != list(draws.names):
            raise ValueError("the draws are of other touchpoints than the plan's: draw them with the plan's scenario")
        x = table["proposed_spend"].to_numpy(float)[:width].reshape(n, count)
        x0 = table["current_spend"].to_numpy(float)[:width].reshape(n, count)
        at_plan, at_today = horizon_engaged(draws, x, line), horizon_engaged(draws, x0, line)
        rows, removed = table.iloc[:width:count], table.iloc[width:]
        labels = line.calendar.labels
        over = f" over the horizon ({labels[0]} to {labels[-1]})" if count > 1 else ""
    else:
        if list(table[S.TOUCHPOINT].iloc[:n]) != list(draws.names):
            raise ValueError("the draws are of other touchpoints than the plan's: draw them with the plan's scenario")
        at_plan = draws.engaged(table["proposed_spend"].to_numpy(float)[:n])  # K x N
        at_today = draws.engaged(table["current_spend"].to_numpy(float)[:n])
        rows, removed = table.iloc[:n], table.iloc[n:]
        over = ""
    return _range(at_plan, at_today, rows, removed, draws, level, tail, over)


def period_engaged(draws: Draws, spend: np.ndarray, line: Timeline, periods: slice = slice(None)) -> np.ndarray:
    """Engaged customers of every column (touchpoint i, period t) under every draw k, as the period LP's curves
    (periods.period_curves) count them: e_kit(x) = sigma_it L e_ki(x / L), e_ki draw k of the data period's curve,
    L a period's length in data periods, sigma the seasonality; the money spread evenly over the data period's weeks
    unless L = 1. Spend (N x T) -> (K, N, T); with `periods`, spend of those periods only (N x T'). Carry-over moves
    these customers in time without changing their sum (periods.py), so their sum over t is what the plan's spend
    engages over the horizon (its tail included, as the plan's summary counts it)."""
    length = float(line.length)
    sample = draws if np.isclose(length, 1.0, rtol=1e-12, atol=0.0) else draws.evenly()
    return sample.engaged(np.asarray(spend, float) / length) * (line.season[:, periods] * length)[None]


def horizon_engaged(draws: Draws, spend: np.ndarray, line: Timeline) -> np.ndarray:
    """sum_t e_kit(x_it) (`period_engaged`) per draw and touchpoint (K x N), a block of periods at a time (at most
    BLOCK values at once)."""
    k, n = draws.count, len(draws)
    count = spend.shape[1]
    step = max(1, BLOCK // max(1, k * n))
    out = np.zeros((k, n))
    for t0 in range(0, count, step):
        block = slice(t0, min(count, t0 + step))
        out += period_engaged(draws, spend[:, block], line, block).sum(axis=2)
    return out


def _range(at_plan: np.ndarray, at_today: np.ndarray, rows: pd.DataFrame, removed: pd.DataFrame, draws: Draws,
           level: float, tail: float, over: str = "") -> PlanRange:
    """The PlanRange of engaged customers per draw and touchpoint (K x N) of the plan and today; `rows` the plan's
    touchpoints (function, value), `removed` the rows of touchpoints the scenario removes (today only)."""
    value = rows[S.VALUE].to_numpy(float)
    gone = removed["current_engaged"].to_numpy(float)
    functions_all = pd.concat([rows[S.FUNCTION], removed[S.FUNCTION]]).astype(str)
    codes, functions = pd.factorize(functions_all)
    n = len(rows)
    member = np.zeros((len(functions_all), len(functions)))
    member[np.arange(len(functions_all)), codes] = 1.0
    plan_f = at_plan @ member[:n]
    today_f = at_today @ member[:n] + (gone @ member[n:])[None, :]
    plan_w = today_w = None
    if units.is_weighted(pd.concat([rows[S.VALUE], removed[S.VALUE]])):
        plan_w = at_plan @ value
        today_w = at_today @ value + float(gone @ removed[S.VALUE].to_numpy(float))
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    by_function = pd.DataFrame({
        S.FUNCTION: np.asarray(functions, dtype=object),
        "plan_mean": plan_f.mean(axis=0), "plan_low": np.quantile(plan_f, q[0], axis=0),
        "plan_high": np.quantile(plan_f, q[1], axis=0), "today_mean": today_f.mean(axis=0),
        "today_low": np.quantile(today_f, q[0], axis=0), "today_high": np.quantile(today_f, q[1], axis=0),
        "beats_today": (plan_f > today_f).mean(axis=0),
    }).sort_values(S.FUNCTION, kind="stable").reset_index(drop=True)
    return PlanRange(plan_f.sum(axis=1), today_f.sum(axis=1), level, int(draws.varying.sum()), draws.describe(),
                     plan_w, today_w, by_function, tail, over)
