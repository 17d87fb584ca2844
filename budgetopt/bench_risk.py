"""How fast the plan's uncertainty is measured and protected (issue 14's benchmark; figures, never assertions).

    budgetopt bench --risk [--touchpoints 1000] [--draws 500] [--cvar-draws 200] [--scenarios 8] [--budgets 21]
                           [--sweep-draws 200] [--workers 2]

1. Risk of a plan: a weekly history of N touchpoints (synthetic, known curves) fitted, the plan made, then the plan
   and today's allocation evaluated over K joint draws of the fitted curves (K x N x 52 weeks).
2. A CVaR plan at N touchpoints x K' draws (the worst 10 %): its LP's size and time, beside the plan best on
   average solved by the class decomposition and whole (does the decomposition carry over?).
3. A sweep of S scenarios x B budgets x K'' draws on the sample data (stated +/-20 %), serially in this process and
   on a LocalCluster of 2 worker processes, with the speed-up (cluster start-up shown apart).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE = Path(__file__).parent.parent / "data" / "sample_touchpoints.csv"


def history_csv(n: int, folder: Path, seed: int = 1) -> Path:
    """A weekly history of n touchpoints (power and saturating curves, 5 % noise), as a CSV file."""
    from .curves import synthetic_history

    h = synthetic_history(n, 52, families=("power", "saturating"), noise=0.05, spread=0.5, seed=seed)
    weeks = pd.date_range("2024-01-01", periods=52, freq="W-MON").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"week": np.tile(weeks, n), "touchpoint": np.repeat([f"tp{i:04d}" for i in range(n)], 52),
                          "function": np.repeat([f"f{i % 8}" for i in range(n)], 52), "channel": "c",
                          "spend": h.spend.ravel().round(2), "engaged": h.engaged.ravel().round(2)})
    path = folder / "history.csv"
    frame.to_csv(path, index=False)
    return path


def timed(call):
    started = time.perf_counter()
    out = call()
    return out, time.perf_counter() - started


def risk_and_cvar(n: int, draws: int, cvar_draws: int) -> None:
    from .draws import draw_curves
    from .engine import solve
    from .io import read_evidence
    from .optimize import optimize, planned_model
    from .risk import plan_risk
    from .robust import CVAR, Robust, robust_plan, sampled_segments
    from .scenario import Scenario

    with tempfile.TemporaryDirectory(prefix="budgetopt-bench-risk-") as folder:
        evidence, fit_s = timed(lambda: read_evidence(history_csv(n, Path(folder))))
    fitted = int((evidence.table["curve_source"] == "fitted").sum())
    plan, plan_s = timed(lambda: optimize(evidence.table))
    sample, draw_s = timed(lambda: draw_curves(evidence, None, draws, seed=0))
    span, risk_s = timed(lambda: plan_risk(plan, sample))
    f = span.figures()
    print(f"1. risk of a plan | {n:,} touchpoints ({fitted:,} fitted curves, 52 weeks), {draws:,} joint draws")
    print(f"   fit {fit_s:.1f} s, plan {plan_s:.2f} s; draws {draw_s * 1e3:.0f} ms; plan and today over the draws "
          f"{risk_s:.2f} s ({2 * draws * n * 52 / risk_s / 1e6:.0f} M curve values a second)")
    print(f"   plan {f['plan_mean']:,.0f} engaged (90 % {f['plan_low']:,.0f} to {f['plan_high']:,.0f}), beats today "
          f"in {f['beats_today']:.0%} of draws")

    sample = draw_curves(evidence, None, cvar_draws, seed=0)
    cvar, cvar_s = timed(lambda: robust_plan(evidence, None, Robust(CVAR, 0.1), sample=sample))
    s = cvar.stats
    if not cvar.ok:
        print(f"2. CVaR plan | {n:,} touchpoints x {cvar_draws:,} draws: no plan after {cvar_s:.1f} s: {cvar.message}")
        return
    print(f"2. CVaR plan | {n:,} touchpoints x {cvar_draws:,} draws (the worst 10 %): {cvar_s:.1f} s in all "
          f"(the plan best on average, then the CVaR LP, two passes each)")
    print(f"   CVaR LP: {s['robust_columns']:,} columns, {s['robust_rows']:,} rows, {s['robust_nonzeros']:,} nonzeros,"
          f" HiGHS {s.get('robust_solve_seconds', float('nan')):.2f} s (second pass); protection costs "
          f"{cvar.protection.cost:,.0f} of {cvar.protection.best_mean:,.0f} on average, lifts the worst 10 % by "
          f"{cvar.protection.gain:,.0f}")
    if s.get("mip_touchpoints"):
        print(f"   {s['mip_touchpoints']} touchpoints with S-shaped draws: a MIP of "
              f"{s.get('mip_binaries', 0):,} binaries over the CVaR rows took {s['mip_seconds']:.1f} s "
              f"(gap {s['mip_gap']:.1e}); {cvar.message}")
    model, curves = planned_model(evidence.table, Scenario())
    lo, hi = model.limits()
    mean = sampled_segments(sample, curves.segments(lo, hi)).seg
    whole, whole_s = timed(lambda: solve(model, mean, method="direct"))
    master, master_s = timed(lambda: solve(model, mean, method="decompose"))
    agree = abs(whole.objective - master.objective) / max(1.0, abs(whole.objective))
    print(f"   best on average = the ordinary segment LP on mean slopes ({len(mean):,} segments): whole "
          f"{whole_s:.2f} s, by the class decomposition {master_s:.2f} s in {master.rounds} master LPs of at most "
          f"{master.lp_columns:,} columns (objectives agree to {agree:.1e})")


def cases(count: int):
    """count scenarios on the sample data: the shipped max-engaged ones, then variations."""
    from .evidence import Evidence
    from .io import read_scenario, read_touchpoints
    from .scenario import Override, Rule, Scenario
    from .sweep import Case

    table = read_touchpoints(SAMPLE)
    evidence = Evidence(table)
    shipped = sorted((SAMPLE.parent.parent / "scenarios").glob("*.toml"))
    scenarios = [(p.stem, read_scenario(p)) for p in shipped]
    scenarios = [(name, s) for name, s in scenarios if s.objective.mode.value != "min_spend"]
    extra = [("siloed", Scenario(siloed=True)), ("stages", Scenario(protect_stages=True)),
             ("tv-dearer-30", Scenario(overrides=(Override(group="channel", member="tv", cpe_multiplier=1.3),))),
             ("service-floor", Scenario(rules=(Rule(group="function", member="service", min_change=0.0),)))]
    chosen = (scenarios + extra)[:count]
    return [Case(name, evidence, scenario) for name, scenario in chosen]


def _warm() -> None:
    from . import robust, sweep  # noqa: F401


def sweep_speed(count: int, budgets: int, draws: int, workers: int) -> None:
    from .sweep import local_client, sweep

    work = cases(count)
    factors = np.linspace(0.8, 1.2, budgets)
    tasks = len(work) * len(factors)
    serial, serial_s = timed(lambda: sweep(work, factors, draws, 0, 0.2))
    def start():  # the cluster, its workers with budgetopt imported (a few seconds each, paid once)
        c = local_client(workers)
        c.run(_warm)
        return c

    client, start_s = timed(start)
    try:
        parallel, parallel_s = timed(lambda: sweep(work, factors, draws, 0, 0.2, client=client))
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    same = serial.drop(columns="seconds").equals(parallel.drop(columns="seconds"))
    print(f"3. sweep | {len(work)} scenarios x {budgets} budgets x {draws:,} draws = {tasks:,} tasks on the sample "
          "(51 touchpoints, stated +/-20 %)")
    print(f"   serial {serial_s:.1f} s ({serial_s / tasks * 1e3:.0f} ms a task); {workers} local workers "
          f"{parallel_s:.1f} s (+{start_s:.1f} s to start the cluster): speed-up {serial_s / parallel_s:.2f}x "
          f"({serial_s / (parallel_s + start_s):.2f}x with the start); rows identical to serial: {same}")


def main(argv: Sequence[str] | None = None) -> int:
    """Print the three measurements; return 0."""
    parser = argparse.ArgumentParser(prog="budgetopt bench --risk", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--touchpoints", type=int, default=1000)
    parser.add_argument("--draws", type=int, default=500, help="draws of the risk evaluation")
    parser.add_argument("--cvar-draws", type=int, default=200, help="draws of the CVaR plan")
    parser.add_argument("--scenarios", type=int, default=8)
    parser.add_argument("--budgets", type=int, default=21)
    parser.add_argument("--sweep-draws", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip", default="", help="parts to leave out, e.g. 3 or 1,2")
    args = parser.parse_args(argv)
    if min(args.touchpoints, args.draws, args.cvar_draws, args.scenarios, args.budgets, args.sweep_draws,
           args.workers) < 1:
        parser.error("every size must be at least 1")
    logging.getLogger("distributed").setLevel(logging.ERROR)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    print(f"risk benchmark | python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}",
          flush=True)
    if "1" not in skip or "2" not in skip:
        risk_and_cvar(args.touchpoints, args.draws, args.cvar_draws)
    if "3" not in skip:
        sweep_speed(args.scenarios, args.budgets, args.sweep_draws, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
