"""The efficient frontier: the most (value-weighted) engagement reachable at each total budget.

F(B) = max { sum_i v_i e_i(x_i) : sum_i x_i = B, every rule }. With concave curves F is concave, and
with curves that rise it does not fall. It is solved on one fixed set of segments, so the points are exactly
those of one piecewise-linear model and the curve is concave:

1. The budgets any plan can have form an interval. Two LPs without the budget row (the least and the most money
   the other rules allow) find it on the chords, and two more on the tangents above the curves (see
   feasibility.py): a budget outside the tangents' interval certainly has no plan and is not solved at all.
2. Every other budget is one LP that differs from the last only in the budget row's right-hand side, solved
   from the previous budget's duals (the master LP's first blocks sit where they put the thresholds) and
   certified within SWEEP_GAP of its optimum. A budget the chords cannot plan but the tangents can is decided
   by refining both (feasibility.decide).

The reverse view, money needed for each engagement level, is the same curve read the other way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from . import schema as S
from .curves import Curves, Segments
from .engine import Solution, Status, solve
from .feasibility import decide, engagement_rows, tangent_segments
from .model import Model
from .optimize import optimize, planned_model
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
        for budget, (sol, x) in zip(budgets, sweep(model, seg, list(budgets), progress, curves), strict=True):
            if sol.status.is_ok:
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


def plan_note(curve: pd.DataFrame, segments: int, column: str = "weighted_engagement") -> str | None:
    """Why the plan's point is not on the curve drawn: the points share one set of 2 x `segments` segments per
    curve (so the curve is concave across budgets), the plan refines its own around its spend, in `column` (the
    engagement shown: weighted_engagement or engaged_customers). None when they agree to within one unit."""
    points = curve[(curve["marker"] == "") & curve[column].notna()]
    plan = curve[curve["marker"] == "plan"]
    if len(points) < 2 or plan.empty:
        return None
    budget, reached = float(plan["budget"].iloc[0]), float(plan[column].iloc[0])
    if not points["budget"].min() <= budget <= points["budget"].max():
        return None
    drawn = float(np.interp(budget, points["budget"], points[column]))
    if abs(reached - drawn) < 1.0:
        return None
    more = "more" if reached > drawn else "less"
    share = 100 * abs(reached - drawn) / max(drawn, 1e-12)
    return (f"The curve's points share one set of {2 * segments} segments per response curve, so that it is concave "
            f"from budget to budget; the plan refines its own around its spend, so at its budget it reaches "
            f"{abs(reached - drawn):,.0f} {more} ({share:.3f} %) than the curve "
            "drawn, and its marginal CPE is that of its finer segments.")


SWEEP_GAP = 1e-9
"""Each frontier point is certified this close to its LP's optimum, so the curve's concavity shows."""


def budget_interval(model: Model, curves: Curves, seg: Segments) -> tuple[float, float, float, float]:
    """(least, most) money any plan keeping the rules other than the budget can have: on the chords (a plan
    certainly exists at every budget between them) and on the tangents (none exists outside them); NaN where the
    rules have no plan at all."""
    shares = getattr(model, "budget_shares", {})  # pacing at a share of the budget follows it: not a limit here
    others = [row for k, row in enumerate(model.rows) if row.name != "budget" and k not in shares]
    n = model.scenario.settings.segments * 2
    tangents = tangent_segments(curves, seg.lo, seg.hi, np.column_stack([curves.breakpoints(seg.lo, seg.hi, n),
                                                                         curves.spend0]))
    out = []
    for segments in (seg, tangents):
        for sign in (1.0, -1.0):
            sol = solve(model, segments, rows=others, spend=sign)
            out.append(sign * sol.objective if sol.status.is_ok else np.nan)
    return out[0], out[1], out[2], out[3]


def sweep(model, seg, budgets: list[float], progress: Callable[[int, int], None] | None = None,
          curves: Curves | None = None) -> list:
    """(solution, spend per touchpoint) at each budget: budgets outside the interval the tangents allow are not
    solved (certainly no plan); each other budget is the same LP with the budget row's right-hand side changed,
    solved from the previous budget's duals; one the chords cannot plan is decided on the curves."""
    index = next(r for r, row in enumerate(model.rows) if row.name == "budget")
    shares = getattr(model, "budget_shares", {})  # a plan over periods: pacing rows at a share of the budget
    low, high = -np.inf, np.inf
    if curves is not None:
        _, _, low, high = budget_interval(model, curves, seg)
        low, high = (np.inf, -np.inf) if np.isnan(low) or np.isnan(high) else (low, high)
    out, hint = [], None
    for k, budget in enumerate(budgets):
        rows = list(model.rows)
        rows[index] = replace(rows[index], rhs=float(budget))
        for r, share in shares.items():
            rows[r] = replace(rows[r], rhs=share * float(budget))
        tol = 1e-9 * max(1.0, abs(budget))
        if budget < low - tol or budget > high + tol:
            none = Solution(Status.INFEASIBLE, "no plan at this budget (outside the budgets the rules allow)",
                            np.zeros(len(seg)), np.zeros(len(rows)), float("nan"), len(seg), 0, 0.0, 0.0,
                            model.scenario.settings.solver, 0)
            out.append((none, None))
        else:
            solution = solve(model, seg, rows=rows, hint=hint, gap=SWEEP_GAP)
            x = seg.spend(solution.values)
            if solution.status is Status.INFEASIBLE and curves is not None and engagement_rows(rows):
                verdict = decide(model, curves, seg.lo, seg.hi, model.scenario.settings.segments * 2, rows=rows,
                                 gap=SWEEP_GAP)
                if verdict.feasible and verdict.solution is not None:
                    solution, x = verdict.solution, verdict.spend
            hint = solution.row_duals if solution.status.is_ok else hint
            out.append((solution, x))
        if progress:
            progress(k + 1, len(budgets))
    return out


def money_needed(curve: pd.DataFrame, column: str = "weighted_engagement") -> pd.DataFrame:
    """The reverse view: the least budget that reaches each engagement level on the frontier (in `column`)."""
    points = curve[(curve["marker"] == "") & (curve["status"] == Status.OPTIMAL.value)]
    points = points.sort_values(column)
    level = points[column]
    rising = level.diff().fillna(np.inf) > 1e-9 * level.abs().max()
    return (points.loc[rising, [column, "budget"]].rename(columns={"budget": "money_needed"})
            .reset_index(drop=True))
