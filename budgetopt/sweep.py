"""Sweeps: scenario files x budgets, each plan with its range over draws of the curves, run through Dask (issue 14
part 4).

A sweep is a grid of independent tasks, one per (scenario, budget): plan the scenario at budget f x today's total
(an ordinary plan, or a robust one with `robust`), then evaluate it and today's allocation over `draws` joint draws
of the curves (draws.draw_curves with `seed`: the same draws in every task of a scenario, on any worker). A task
returns one row: the scenario, the budget, the plan's status and figures, and the draw summary (risk.PlanRange.
figures: mean, 5/50/95 %, worst-tail average, P(beats today)).

The same task function runs serially (`client=None`) or on a dask.distributed cluster: a LocalCluster of worker
processes on this machine by default (`local_client`), or a running cluster at a scheduler address
(`--scheduler tcp://HOST:8786`, or the BUDGETOPT_SCHEDULER environment variable). Every draw is seeded and every
solve deterministic, so the rows are identical whichever runs them and however many workers there are. A task
that raises an unexpected error (a worker lost, say) is retried RETRIES times; if it still fails, its row says so
(status 'failed', the error in `message`) and the others are kept. Bad input met in a task is a row with status
'error'. Rows come back in grid order (scenario, then budget).

A scenario over periods is planned over its horizon (with the seasonality its history shows, as `run` plans it) and
its range is over the horizon (risk.plan_risk); its row's `horizon` says so ('12m'; '' for one period). A scenario
that sets its own money, a min-spend one (it finds the least money that keeps its target) or one with a budget per
period, is planned once, at that money: ONE row, budget_factor = its plan's spend / today's, and a message saying the
budgets were not swept for it. Where no curve varies (no fit, no band, no --uncertainty) the row's range is empty and
its message says how to get one (NO_RANGE). Robust sweeps refuse up front a scenario over periods (no robust form
yet) and one whose curves do not vary.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .draws import check_draw_settings, draw_curves
from .errors import BudgetOptError
from .evidence import Evidence
from .optimize import optimize
from .risk import plan_risk
from .robust import Robust, robust_plan
from .scenario import Budget, Mode, Scenario
from .seasonality import for_plan

SCHEDULER_ENV = "BUDGETOPT_SCHEDULER"
"""The environment variable naming a running Dask scheduler (tcp://HOST:8786) when --scheduler is not given."""
RETRIES = 2
"""Times a task that raised an unexpected error is run again before its row says 'failed'."""
MAX_TASKS = 100_000
FIGURES = ("plan_mean", "plan_low", "plan_median", "plan_high", "plan_tail", "today_mean", "today_low",
           "today_median", "today_high", "today_tail", "protected_plan_mean", "protected_plan_tail",
           "protected_today_mean", "protected_today_tail", "beats_today")
COLUMNS = ("scenario", "budget_factor", "budget", "status", "message", "mode", "horizon", "robust", "draws", "seed",
           "proposed_spend", "proposed_engaged", "proposed_weighted", "current_spend", "current_engaged",
           "marginal_cpe", *FIGURES, "protection_cost", "protection_money", "seconds")
"""One row per scenario x budget: the plan's figures, then the draw summary (risk.PlanRange.figures)."""
NO_RANGE = ("no curve varies over the draws (none rests on a fit or a band), so the range is empty: state an "
            "uncertainty for curves without evidence of it, e.g. --uncertainty 0.2")
OWN_MONEY = "the budgets were not swept for it"


@dataclass(frozen=True)
class Case:
    """One scenario of a sweep: its name, the evidence its data rests on and the scenario itself."""

    name: str
    evidence: Evidence
    scenario: Scenario


def budget_factors(text: str) -> np.ndarray:
    """'0.8:1.2:9' -> 9 budgets from 0.8 to 1.2 x today's total; '0.9,1,1.1' -> those."""
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            values = np.linspace(float(start), float(stop), int(count))
        else:
            values = np.array([float(v) for v in text.split(",") if v.strip()])
    except ValueError:
        raise BudgetOptError(f"--budgets {text}: write START:STOP:COUNT (e.g. 0.8:1.2:9) or a list (0.9,1,1.1), in "
                             "multiples of today's total") from None
    if not len(values) or len(values) > 10_000 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise BudgetOptError(f"--budgets {text}: give 1 to 10,000 budgets above 0 (multiples of today's total)")
    return np.round(values, 12)


def own_money(scenario: Scenario) -> str:
    """Why a scenario sets its own money, in words ('' when a sweep sets it): min-spend finds the least money that
    keeps its target; [periods] budgets fix each period's money."""
    if scenario.objective.mode is Mode.MIN_SPEND:
        return "a min-spend scenario finds its own budget (the least money that keeps its target)"
    if scenario.periods is not None and scenario.periods.budgets is not None:
        return "its [periods] budgets set each period's money"
    return ""


def run_case(case: Case, factor: float | None, draws: int, seed: int, uncertainty: float | None,
             robust: Robust | None) -> dict[str, object]:
    """One task: the case's plan at budget factor x today's total (None: at the money the scenario sets itself,
    `own_money`) and its draw summary, as one row (COLUMNS)."""
    started = time.perf_counter()
    scenario = case.scenario
    row: dict[str, object] = {"scenario": case.name, "budget_factor": np.nan if factor is None else float(factor),
                              "draws": draws, "seed": seed, "mode": scenario.objective.mode.value,
                              "horizon": scenario.periods.horizon if scenario.periods is not None else "",
                              "robust": "" if robust is None else _label(robust)}
    try:
        planned = scenario if factor is None else scenario.model_copy(
            update={"budget": Budget(change=float(factor) - 1.0, at_most=scenario.budget.at_most)})
        sample = draw_curves(case.evidence, planned, draws, seed, uncertainty)
        if robust is None:
            plan = optimize(for_plan(case.evidence, planned), planned)
            span = plan_risk(plan, sample) if plan.ok else None
        else:
            plan = robust_plan(case.evidence, planned, robust, sample=sample)
            span = plan.range
    except BudgetOptError as exc:
        return {**row, "status": "error", "message": str(exc), "seconds": time.perf_counter() - started}
    summary = plan.summary() if plan.ok else {}
    current = float(plan.table["current_spend"].sum())
    notes = [plan.message]
    if factor is None:
        notes.append(f"{own_money(scenario)}: planned once, at the money it sets; {OWN_MONEY}")
        if plan.ok and current > 0:
            row["budget_factor"] = float(summary["proposed_spend"]) / current
    line = getattr(plan, "line", None)
    if line is not None and line.count > 1:
        labels = line.calendar.labels
        notes.append(f"figures over the horizon ({line.count} periods, {labels[0]} to {labels[-1]})")
    if plan.ok and not sample.varying.any():
        notes.append(NO_RANGE)
    row.update({"budget": summary.get("proposed_spend", plan.budget) if factor is None else plan.budget,
                "status": plan.status.value, "message": "; ".join(notes),
                "proposed_spend": summary.get("proposed_spend", np.nan),
                "proposed_engaged": summary.get("proposed_engaged", np.nan),
                "proposed_weighted": summary.get("proposed_weighted", np.nan),
                "current_spend": current,
                "current_engaged": float(plan.table["current_engaged"].sum()),
                "marginal_cpe": plan.marginal_cpe if np.isfinite(plan.marginal_cpe) else np.nan})
    figures = span.figures() if span is not None else {}
    row.update({name: figures.get(name, np.nan) for name in FIGURES})
    protection = getattr(plan, "protection", None)
    row["protection_cost"] = protection.cost if protection is not None else np.nan  # in the protected measure
    row["protection_money"] = protection.money_cost if protection is not None else np.nan  # min-spend: extra money
    row["seconds"] = time.perf_counter() - started
    return row


def check_robust(cases: Sequence[Case], robust: Robust | None, seed: int = 0,
                 uncertainty: float | None = None) -> None:
    """Raise BudgetOptError, before any task, when a robust sweep holds a scenario over periods (no robust form
    yet) or one whose curves do not vary (a robust plan needs draws that differ)."""
    if robust is None:
        return
    over = [c.name for c in cases if c.scenario.periods is not None]
    if over:
        raise BudgetOptError(f"--robust: {', '.join(over)} plan(s) over periods, which have no robust form yet; "
                             "sweep them without --robust, or leave them out")
    still = [c.name for c in cases if not draw_curves(c.evidence, c.scenario, 1, seed, uncertainty).varying.any()]
    if still:
        raise BudgetOptError(f"--robust: no curve of {', '.join(still)} varies over the draws (none rests on a fit "
                             "or a band); state an uncertainty for curves without evidence of it, e.g. "
                             "--uncertainty 0.2")


def _label(robust: Robust) -> str:
    if robust.kind == "mean":
        return "mean"
    return f"{robust.kind}:{robust.tail:g}" + (f":{robust.floor:g}" if robust.floor is not None else "")


def sweep(cases: Sequence[Case], factors: Sequence[float], draws: int = 200, seed: int = 0,
          uncertainty: float | None = None, robust: Robust | None = None, client=None,
          progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Every case at every budget factor (run_case), serially or on a Dask `client`; one row per case x budget,
    in grid order (module docstring); a scenario that sets its own money (`own_money`) gets one row."""
    check_draw_settings(draws, uncertainty, seed)
    check_robust(cases, robust, seed, uncertainty)
    grid = [(c, None if own_money(case.scenario) else float(f)) for c, case in enumerate(cases)
            for f in (factors[:1] if own_money(case.scenario) else factors)]
    if len(grid) > MAX_TASKS:
        raise BudgetOptError(f"{len(grid):,} tasks are more than {MAX_TASKS:,}; sweep fewer scenarios or budgets")
    rows: list[dict | None] = [None] * len(grid)
    done = 0
    if client is None:
        for i, (c, f) in enumerate(grid):
            rows[i] = run_case(cases[c], f, draws, seed, uncertainty, robust)
            done += 1
            if progress:
                progress(done, len(grid))
    else:
        from distributed import as_completed

        shipped = [client.scatter(case, broadcast=False, hash=False) for case in cases]
        futures = {client.submit(run_case, shipped[c], f, draws, seed, uncertainty, robust, retries=RETRIES,
                                 pure=False): i for i, (c, f) in enumerate(grid)}
        for future in as_completed(list(futures)):
            i = futures[future]
            c, f = grid[i]
            if future.status == "finished":
                rows[i] = future.result()
            else:  # retried and still failing: say so, keep the others
                error = future.exception()
                rows[i] = {"scenario": cases[c].name, "budget_factor": f, "draws": draws, "seed": seed,
                           "status": "failed", "message": f"{type(error).__name__}: {error}"}
            done += 1
            if progress:
                progress(done, len(grid))
    frame = pd.DataFrame([{column: row.get(column, np.nan) for column in COLUMNS} for row in rows])
    for column in ("scenario", "status", "message", "mode", "horizon", "robust"):
        frame[column] = frame[column].fillna("").astype(str)
    return frame


def scheduler_address(given: str | None) -> str | None:
    """--scheduler, else the BUDGETOPT_SCHEDULER environment variable, else None (a local cluster)."""
    return given or os.environ.get(SCHEDULER_ENV) or None


def local_client(workers: int | None = None):
    """A Dask client on a LocalCluster of worker processes on this machine (one thread each; `workers` default:
    the machine's cores). Close it (and its cluster) with client.close(); client.cluster.close()."""
    import logging

    from distributed import Client, LocalCluster

    count = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    return Client(cluster)


def connect(address: str):
    """A Dask client of a running scheduler (tcp://HOST:8786); its workers need budgetopt installed."""
    from distributed import Client

    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise BudgetOptError(f"no Dask scheduler answers at {address} ({exc}); start one with 'dask scheduler' "
                             "and workers with 'dask worker ADDRESS', or leave --scheduler out for a local "
                             "cluster") from None
