"""Benchmark of plans over time: touchpoints x periods in one LP, at the sizes a planner works with.

    python -m budgetopt.bench_periods                         # 1,000 and 10,000 touchpoints x 12 months
    python -m budgetopt.bench_periods --sizes 10000 --periods 12,13 --repeat 3

Each row plans one table (budgetopt.bench.touchpoints: power and saturating curves, a limit on change per
touchpoint) over a horizon, with what a year plan has: a seasonality index per touchpoint and month (a seasonality
column, +/-20 % around the year with touchpoints out of phase), carry-over on a third of the touchpoints (0.2 to 0.6
per period), the table's limits on change where [periods] data_limits says (--data-limits; the default 'auto'
holds them over the year up to 200 touchpoints with one, per period beyond; --limited N keeps N of them), every
function within -20 %..+15 % of today over the year, every stage keeping 95 % of its engaged customers, marketing
at least 30 % of its year's money in Q4, and pacing (every period between 6 % and 11 % of the year's money,
changing at most 25 % from one to the next). It prints the model's size, where the table's limits hold, the time
to build the model (periods.period_model: expand, bounds and rows), the time of optimize() in all (build, both
solver passes, the plan and its periods' answers), the time inside the solver, peak memory, and the same table's
one-period plan for reference. Every size runs in a fresh process; timings are medians of --repeat wall-clock
runs, printed, never asserted: other processes on the machine make them noisy.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import schema as S
from .bench import touchpoints as bench_touchpoints
from .optimize import optimize
from .periods import period_model
from .scenario import Budget, Periods, Rule, Scenario
from .seasonality import index_text

SIZES = (1_000, 10_000)
PERIODS = (12,)


def year_table(n: int, periods: int, seed: int = 0, limited: int | None = None) -> pd.DataFrame:
    """The benchmark's touchpoint table with a seasonality column over `periods` periods and carry-over on a third
    of the touchpoints; with `limited`, only that many touchpoints keep their limit on change."""
    tp = bench_touchpoints(n, seed)
    if limited is not None:
        tp[S.MAX_CHANGE] = np.where(np.arange(len(tp)) < limited, tp[S.MAX_CHANGE], np.nan)
    rng = np.random.default_rng(seed + 7)
    phase = rng.uniform(0, 2 * np.pi, len(tp))
    t = np.arange(periods)[None, :]
    season = 1.0 + 0.2 * np.sin(2 * np.pi * t / periods + phase[:, None])
    tp[S.SEASONALITY] = index_text(season / season.mean(axis=1, keepdims=True))
    tp[S.CARRYOVER] = np.where(rng.random(len(tp)) < 1 / 3, rng.uniform(0.2, 0.6, len(tp)).round(2), 0.0)
    return tp


def year_scenario(tp: pd.DataFrame, periods: int, data_limits: str = "auto") -> Scenario:
    """The year plan described in the module docstring, over `periods` periods (12: months; 13: four-week); the
    table's limits on change as [periods] data_limits says ('auto': over the year up to periods.HORIZON_LIMITS
    touchpoints with one, else per period)."""
    rules = [Rule(group=S.FUNCTION, member=f, min_change=-0.2, max_change=0.15) for f in sorted(set(tp[S.FUNCTION]))]
    rules += [Rule(group=S.STAGE, member=s, min_engaged_change=-0.05) for s in sorted(set(tp[S.STAGE]))]
    marketing = float(tp.loc[tp[S.FUNCTION] == "marketing", S.SPEND].sum())
    rules.append(Rule(group=S.FUNCTION, member="marketing", min_spend=0.3 * marketing, periods="Q4", name="Q4"))
    horizon = f"{periods}m" if periods == 12 else f"{periods}p"
    pacing = Periods(horizon=horizon, min_share=0.06 * 12 / periods, max_share=0.11 * 12 / periods, max_step=0.25,
                     data_limits=data_limits)
    return Scenario(name="benchmark: a year by period", budget=Budget(change=-0.05), rules=tuple(rules),
                    periods=pacing)


def measure(size: int, periods: int, repeat: int = 3, data_limits: str = "auto",
            limited: int | None = None) -> dict:
    """One row of figures for `size` touchpoints over `periods` periods (medians of `repeat` runs)."""
    tp = year_table(size, periods, limited=limited)
    scenario = year_scenario(tp, periods, data_limits)
    builds, totals, solves, plan = [], [], [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        model, _ = period_model(tp, scenario)
        builds.append(time.perf_counter() - start)
        start = time.perf_counter()
        plan = optimize(tp, scenario)
        totals.append(time.perf_counter() - start)
        solves.append(plan.stats.get("total_solve_seconds", float("nan")))
    single = scenario.model_copy(update={"periods": None, "rules": tuple(r for r in scenario.rules
                                                                          if r.periods is None)})
    start = time.perf_counter()
    one = optimize(tp, single)
    one_seconds = time.perf_counter() - start
    return {"touchpoints": size, "periods": periods, "data_limits": f"{model.data_limits[1]} {model.data_limits[0]}",
            "columns": size * periods, "rows": len(model.rows),
            "segments": plan.stats.get("lp_columns", 0), "status": plan.status.value,
            "build_s": statistics.median(builds), "total_s": statistics.median(totals),
            "solve_s": statistics.median(solves), "rounds": plan.stats.get("lp_rounds", 0),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "one_period_s": one_seconds, "one_period_status": one.status.value}


def _in_child(args: tuple) -> dict:
    return measure(*args)


HEADER = (f"{'touchpoints':>11} {'periods':>7} {'table limits':>14} {'columns':>9} {'rows':>6} {'LP cols':>8} "
          f"{'status':>8} "
          f"{'build':>8} {'total':>8} {'solve':>8} {'rounds':>6} {'peak MB':>8} {'1 period':>9}")


def row_text(r: dict) -> str:
    """One printed row: seconds with 2 decimals."""
    return (f"{r['touchpoints']:>11,} {r['periods']:>7} {r['data_limits']:>14} {r['columns']:>9,} {r['rows']:>6,} "
            f"{r['segments']:>8,} {r['status']:>8} {r['build_s']:>7.2f}s {r['total_s']:>7.2f}s {r['solve_s']:>7.2f}s "
            f"{r['rounds']:>6} {r['peak_mb']:>8,.0f} {r['one_period_s']:>8.2f}s")


def run(sizes: Sequence[int] = SIZES, periods: Sequence[int] = PERIODS, repeat: int = 3,
        isolate: bool = True, data_limits: str = "auto", limited: int | None = None) -> list[dict]:
    """Measure every size x horizon (each in a fresh process unless `isolate` is False) and print a row each."""
    print(HEADER, flush=True)
    rows = []
    for size in sizes:
        for count in periods:
            if isolate:
                with multiprocessing.get_context("spawn").Pool(1) as pool:
                    row = pool.apply(_in_child, ((size, count, repeat, data_limits, limited),))
            else:
                row = measure(size, count, repeat, data_limits, limited)
            print(row_text(row), flush=True)
            rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the benchmark (`python -m budgetopt.bench_periods`)."""
    p = argparse.ArgumentParser(prog="budgetopt bench --periods", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated touchpoint counts")
    p.add_argument("--periods", default=",".join(map(str, PERIODS)),
                   help="comma-separated horizons in periods: 12 (months) or 13 (four-week periods), ...")
    p.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is printed)")
    p.add_argument("--data-limits", choices=("auto", "period", "horizon"), default="auto",
                   help="where the table's limits on change hold: [periods] data_limits (default auto)")
    p.add_argument("--limited", type=int, help="only this many touchpoints keep their limit on change")
    p.add_argument("--no-isolate", action="store_true", help="run every size in this process")
    args = p.parse_args(argv)
    try:
        sizes = [int(s.strip().replace("_", "")) for s in args.sizes.split(",") if s.strip()]
        periods = [int(s.strip()) for s in args.periods.split(",") if s.strip()]
    except ValueError:
        p.error("--sizes and --periods take whole numbers separated by commas")
    if not sizes or not periods or min(sizes) < 1 or min(periods) < 1 or args.repeat < 1:
        p.error("--sizes, --periods and --repeat must be at least 1")
    run(sizes, periods, args.repeat, not args.no_isolate, args.data_limits, args.limited)
    return 0


if __name__ == "__main__":
    sys.exit(main())
