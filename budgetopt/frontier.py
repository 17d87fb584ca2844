"""The efficient frontier: the most (value-weighted) engagement reachable at each total budget.

F(B) = max { sum_i v_i e_i(x_i) : sum_i x_i = B, every rule }. With concave curves F is concave, and
with curves that rise it does not fall. It is solved as a sweep of one LP over B (only the budget row's
right-hand side changes) on one fixed set of segments, so the points
are exactly those of one piecewise-linear model and the curve is concave (each point certified within
1e-9 of its LP's optimum; each step starts the master LP from the previous step's duals). The reverse view,
money needed for each engagement level, is the same curve read the other way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from . import schema as S
from .engine import Status, solve
from .optimize import optimize, planned_model, spend_of
from .plan import Plan
from .scenario import Budget, Mode, Objective, Scenario

FRONTIER_COLUMNS = ["budget", "weighted_engagement", "engaged_customers", "marginal_cpe", "status", "marker"]


def budget_range(touchpoints: pd.DataFrame, start: float = 0.5, stop: float = 1.5, steps: int = 21) -> list[float]:
    """Budgets from start x to stop x today's total, evenly spaced."""
    today = float(touchpoints[S.SPEND].sum())
    return [float(b) for b in np.linspace(start * today, stop * today, steps)]


def frontier(touchpoints: pd.DataFrame, scenario: Scenario, budgets: Sequence[float],
             progress: Callable[[int, int], None] | None = None, plan: Plan | None = None) -> pd.DataFrame:
    """Engagement at each budget for the scenario's rules (its mode is replaced by max_engaged).

    Columns: budget, weighted_engagement (value x engaged customers, as optimised on the piecewise curves; equal
    to the count when every value is 1), engaged_customers (the count, on the smooth curves), marginal_cpe
    (money per extra unit of weighted engagement), status, marker ('today' and 'plan' rows are added for
    today's allocation, from the data as given, and the scenario's own plan)."""
    sweep_scenario = scenario.model_copy(update={"objective": Objective(mode=Mode.MAX_ENGAGED),
                                                 "budget": Budget(total=float(max(budgets[0], 0.0)))})
    model, curves = planned_model(touchpoints, sweep_scenario)
    lo, hi = model.limits()
    rows = []
    if (lo <= hi + 1e-9 * np.maximum(1.0, hi)).all():
        n = scenario.settings.segments * 2  # no refinement pass in a sweep: twice the segments instead
        seg = curves.segments(lo, hi, n)
        for budget, sol in zip(budgets, sweep(model, seg, list(budgets), progress), strict=True):
            if sol.status.is_ok:
                x = spend_of(seg, sol.values)
                lam = -sol.row_duals[0]
                rows.append((budget, sol.objective, float(curves.engaged(x).sum()),
                             1.0 / lam if lam > 1e-12 else np.inf, sol.status.value, ""))
            else:
                rows.append((budget, np.nan, np.nan, np.nan, sol.status.value, ""))
    else:
        rows = [(b, np.nan, np.nan, np.nan, Status.INFEASIBLE.value, "") for b in budgets]
    today = touchpoints  # the data as given: the one baseline
    rows.append((float(today[S.SPEND].sum()), float((today[S.VALUE] * today[S.ENGAGED]).sum()),
                 float(today[S.ENGAGED].sum()), np.nan, "today", "today"))
    plan = plan or optimize(touchpoints, scenario)  # the caller's plan of this scenario, when it has one
    if plan.ok:
        s = plan.summary()
        rows.append((s["proposed_spend"], s["proposed_weighted"], s["proposed_engaged"], plan.marginal_cpe,
                     plan.status.value, "plan"))
    out = pd.DataFrame(rows, columns=FRONTIER_COLUMNS)
    return out.sort_values(["budget", "marker"], kind="stable").reset_index(drop=True)


SWEEP_GAP = 1e-9
"""Each frontier point is certified this close to its LP's optimum, so the curve's concavity shows."""


def sweep(model, seg, budgets: list[float], progress: Callable[[int, int], None] | None = None) -> list:
    """Solve the LP once per budget (the budget row's right-hand side), each from the previous duals."""
    index = next(r for r, row in enumerate(model.rows) if row.name == "budget")
    shares = getattr(model, "budget_shares", {})  # a plan over periods: pacing rows at a share of the budget
    out, hint = [], None
    for k, budget in enumerate(budgets):
        rows = list(model.rows)
        rows[index] = replace(rows[index], rhs=float(budget))
        for r, share in shares.items():
            rows[r] = replace(rows[r], rhs=share * float(budget))
        solution = solve(model, seg, rows=rows, hint=hint, gap=SWEEP_GAP)
        hint = solution.row_duals if solution.status.is_ok else hint
        out.append(solution)
        if progress:
            progress(k + 1, len(budgets))
    return out


def money_needed(curve: pd.DataFrame) -> pd.DataFrame:
    """The reverse view: the least budget that reaches each engagement level on the frontier."""
    points = curve[(curve["marker"] == "") & (curve["status"] == Status.OPTIMAL.value)]
    points = points.sort_values("weighted_engagement")
    level = points["weighted_engagement"]
    rising = level.diff().fillna(np.inf) > 1e-9 * level.abs().max()
    return (points.loc[rising, ["weighted_engagement", "budget"]].rename(columns={"budget": "money_needed"})
            .reset_index(drop=True))
