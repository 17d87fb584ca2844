"""Benchmarks: how fast optimize() is, against the solver's floor, the exact optimum and the peers' method.

    python -m budgetopt.bench                            # sizes 20 ... 100,000, medians of 5 runs
    python -m budgetopt.bench --sizes 20,1000 --repeat 3

Every size runs in a fresh process (so peak memory is that size's own) and prints one row:

- engine: optimize() on touchpoints with power and saturating curves, a limit on change per touchpoint and
  group rules on 8 functions and 5 stages (from BATCH rows on: touchpoint x 12 months, with month rules);
  build = total - solve (data to LP to PuLP, and the plan with its prices), solve = inside the solver calls.
- floor: the same segment LPs (both passes) handed straight to HiGHS as CSC arrays (highspy.passModel),
  timed from arrays to solution with HiGHS's faster method for that size: total / floor.
- no-PuLP: the engine's own algorithm with its master LPs handed straight to HiGHS: what PuLP costs.
- exact: a budget-only instance with smooth power curves, whose optimum bisection on the budget's multiplier
  finds: our plan's gap to it (on the smooth curves) and the bisection's time, the floor of this special case.
- SLSQP: scipy's SLSQP, the local gradient method Robyn, LightweightMMM and PyMC-Marketing allocate with, on
  the same budget-only instance, from today's allocation, with exact gradients: its time / ours, and how much
  less engagement its plan reaches than ours (negative: SLSQP did better).
Timings are medians of --repeat runs of wall-clock time; other processes on the machine make them noisy.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata as md
import importlib.util
import math
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import highspy
import numpy as np
import pandas as pd

from . import schema as S
from .curves import Curves
from .decompose import GAP, segment_problem, solve_by_master
from .io import cpu_model
from .lp import LinearProgram, LPResult, Status
from .model import formulate
from .optimize import FIRST_PASS_GAP, optimize, spend_of
from .scenario import Budget, Rule, Scenario
from .touchpoints import validate_touchpoints

SIZES = (20, 100, 200, 1_000, 10_000, 100_000)
PEER_SIZES = (20, 200, 1_000)
SMALL, SMALL_RUNS = 1_000, 3
"""Sizes up to SMALL time optimize() SMALL_RUNS x --repeat times: cheap, and steadier medians."""
BATCH = 100_000
"""From this many rows on, an instance is a year of months: touchpoints x MONTHS rows, with month rules."""
MONTHS = 12
FUNCTIONS = ("marketing", "sales", "service", "pr", "product", "logistics", "content", "partnerships")
FUNCTION_COST = np.linspace(0.8, -0.6, len(FUNCTIONS))
"""log-CPE offset per function: marketing dearest, partnerships cheapest, so money wants to move."""
STAGE_COST = np.linspace(0.5, -0.4, len(S.STAGES))
STAGE_KEEPS = -0.05
"""Every journey stage keeps at least 95 % of today's engaged customers."""
FLOOR_METHODS = {"simplex": {"solver": "simplex"}, "ipm": {"solver": "ipm"}}
SIMPLEX_MAX_COLUMNS = 20_000
"""HiGHS's dual simplex spends time quadratic in the columns on these LPs (its bound-flipping ratio test
sorts the candidates with a quadratic sort): above this many columns the floor uses interior point only."""
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Single-threaded BLAS in the measuring processes: on a busy 2-core machine OpenBLAS's threads turned a
20-variable SLSQP run from 7 ms into 700 ms (the engine itself keeps long dot products out of BLAS)."""
FLOOR_LIMIT = 300.0
PEER_LIMIT = 30.0


# ---------------------------------------------------------------------------------------------- instances

def touchpoints(n: int, seed: int = 0) -> pd.DataFrame:
    """n rows (rounded up to whole years from BATCH on): 70 % power and 30 % saturating curves, CPE set by
    function and stage (so group rules bind), a limit on change per touchpoint (20, 30 or 50 %)."""
    months = MONTHS if n >= BATCH else 1
    base = -(-n // months)
    rng = np.random.default_rng(seed)
    f, stage = rng.integers(0, len(FUNCTIONS), base), rng.integers(0, len(S.STAGES), base)
    spend = np.exp(rng.normal(10.5, 1.0, base))
    cpe = np.exp(rng.normal(2.5, 0.5, base) + FUNCTION_COST[f] + STAGE_COST[stage])
    saturating = rng.random(base) < 0.3
    headroom = rng.uniform(1.5, 4.0, base)
    t = np.repeat(np.arange(base), months)
    m = np.tile(np.arange(months), base)
    season = 1.0 + 0.2 * np.sin(2 * np.pi * m / MONTHS) if months > 1 else np.ones(len(t))
    s = (spend[t] * season).round(2)
    engaged = (s / cpe[t]).round(3)
    names = ([f"tp{i:06d}" for i in t] if months == 1 else
             [f"tp{i:05d}-m{j + 1:02d}" for i, j in zip(t.tolist(), m.tolist(), strict=True)])
    raw = pd.DataFrame({
        S.TOUCHPOINT: names,
        S.FUNCTION: np.array(FUNCTIONS)[f][t], S.CHANNEL: np.array([f"channel {k}" for k in range(12)])[t % 12],
        S.STAGE: np.array(S.STAGES)[stage][t], S.SPEND: s, S.ENGAGED: engaged,
        S.CURVE: np.where(saturating, "saturating", "power")[t],
        S.ELASTICITY: rng.uniform(0.3, 0.9, base).round(3)[t],
        S.SATURATION: np.where(saturating[t], engaged * headroom[t], np.nan),
        S.MAX_CHANGE: rng.choice([0.2, 0.3, 0.5], base)[t],
    })
    if months > 1:
        raw["month"] = [f"m{j + 1:02d}" for j in m]
    return validate_touchpoints(raw)


def scenario(tp: pd.DataFrame) -> Scenario:
    """Cut 10 %; every function within -20 %..+15 % of today; every stage keeps 95 % of today's engaged
    customers; in a year of months, every month within -15 %..+5 %."""
    present = {column: sorted(set(tp[column])) for column in (S.FUNCTION, S.STAGE, "month") if column in tp}
    rules = [Rule(group=S.FUNCTION, member=f, min_change=-0.2, max_change=0.15) for f in present[S.FUNCTION]]
    rules += [Rule(group=S.STAGE, member=s, min_engaged_change=STAGE_KEEPS) for s in present[S.STAGE]]
    rules += [Rule(group="month", member=m, min_change=-0.15, max_change=0.05) for m in present.get("month", [])]
    return Scenario(name="benchmark: cut 10 % with group rules", budget=Budget(change=-0.1), rules=tuple(rules))


def smooth_touchpoints(n: int, seed: int = 0) -> pd.DataFrame:
    """Budget-only instance: smooth power curves (elasticity 0.2-0.95), limits on change on two thirds."""
    rng = np.random.default_rng(seed + 1)
    spend = np.exp(rng.normal(10.5, 1.0, n)).round(2)
    raw = pd.DataFrame({S.TOUCHPOINT: [f"tp{i:06d}" for i in range(n)], S.FUNCTION: "f", S.CHANNEL: "c",
                        S.SPEND: spend, S.ENGAGED: (spend / np.exp(rng.normal(2.5, 0.8, n))).round(3),
                        S.CURVE: "power", S.ELASTICITY: rng.uniform(0.2, 0.95, n).round(3),
                        S.MAX_CHANGE: rng.choice([np.nan, 0.3, 0.5], n)})
    return validate_touchpoints(raw)


SMOOTH = Scenario(name="benchmark: cut 10 %, budget only", budget=Budget(change=-0.1))


# ---------------------------------------------------------------------------------------------- references

def highs_direct(lp: LinearProgram, options: dict | None = None, time_limit: float | None = None) -> LPResult:
    """Hand an LP to HiGHS as CSC arrays (one passModel call) and solve it: the solver's floor."""
    started = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.num_col, lp.num_row
    model.col_cost_ = -lp.cost if lp.maximise else lp.cost
    model.col_lower_, model.col_upper_ = np.zeros(lp.num_col), lp.col_upper
    model.row_lower_, model.row_upper_ = lp.row_lower, lp.row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = lp.start, lp.index, lp.value
    h.passModel(model)
    build = time.perf_counter() - started
    started = time.perf_counter()
    h.run()
    solution = h.getSolution()
    values, duals = np.asarray(solution.col_value), np.asarray(solution.row_dual)
    solve = time.perf_counter() - started
    status = h.getModelStatus()
    known = {highspy.HighsModelStatus.kOptimal: Status.OPTIMAL, highspy.HighsModelStatus.kInfeasible: Status.INFEASIBLE,
             highspy.HighsModelStatus.kTimeLimit: Status.TIME_LIMIT}
    return LPResult(known.get(status, Status.ERROR), h.modelStatusToString(status), values, duals, build, solve)


def segment_lps(tp: pd.DataFrame, sc: Scenario, solve_lp: Callable[..., LPResult], through_master: bool) -> dict:
    """optimize()'s two passes on LPs handed to `solve_lp` (no PuLP), timed from the segments on: the LP
    arrays, the solver and, through the master, the decomposition. Returns seconds, objective, LP size."""
    model = formulate(tp, sc)
    curves = Curves.from_table(tp)
    lo, hi = model.limits()
    segments = sc.settings.segments
    seconds, hint, around = 0.0, None, None
    for gap in ((FIRST_PASS_GAP, GAP) if sc.settings.refine else (GAP,)):
        seg = curves.segments(lo, hi, segments, around=around)
        started = time.perf_counter()
        problem = segment_problem(model, seg, model.rows)
        if through_master:
            result = solve_by_master(problem, solve_lp, hint, gap)[0]
        else:
            lp = problem.full_lp()
            result = solve_lp(lp)
        seconds += time.perf_counter() - started
        if not result.status.is_ok:
            return {"seconds": seconds, "objective": math.nan, "status": str(result.status), "columns": len(seg)}
        duals = np.zeros(len(model.rows))
        duals[problem.row_id] = result.duals
        hint, around = duals, spend_of(seg, result.values)
    objective = float(problem.cost(seg.touchpoint, seg.slope) @ result.values + problem.constant)
    return {"seconds": seconds, "objective": objective, "status": "optimal", "columns": len(seg),
            "rows": len(problem.row_id)}


def exact_optimum(tp: pd.DataFrame, lo: np.ndarray, hi: np.ndarray, budget: float,
                  iterations: int = 100) -> tuple[np.ndarray, float]:
    """max sum v_i e0_i (x_i / s0_i)^a_i  s.t.  sum x_i = budget, lo <= x <= hi, by bisection on log(lambda):
    at the optimum x_i(lambda) = clip(s0_i (lambda / k_i)^(1 / (a_i - 1)), lo_i, hi_i), k_i = v_i a_i e0_i / s0_i,
    and sum_i x_i(lambda) falls as lambda rises."""
    s0, e0 = tp[S.SPEND].to_numpy(float), tp[S.ENGAGED].to_numpy(float)
    a, v = tp[S.ELASTICITY].to_numpy(float), tp[S.VALUE].to_numpy(float)
    log_k = np.log(v * a * e0 / s0)
    inv = 1.0 / (a - 1.0)

    def spend(log_lam: float) -> np.ndarray:
        return np.clip(s0 * np.exp((log_lam - log_k) * inv), lo, hi)

    low = float((log_k + (a - 1.0) * np.log(np.maximum(hi, 1e-300) / s0)).min()) - 1.0  # every x_i at hi
    high = float((log_k + (a - 1.0) * np.log(np.maximum(lo, 1e-9 * s0) / s0)).max()) + 1.0  # every x_i at lo
    for _ in range(iterations):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if spend(mid).sum() > budget else (low, mid)
    x = spend(0.5 * (low + high))
    return x, float((v * e0 * np.power(x / s0, a)).sum())


class _OutOfTime(Exception):
    pass


def slsqp(tp: pd.DataFrame, lo: np.ndarray, hi: np.ndarray, budget: float, limit: float) -> dict:
    """scipy's SLSQP on the smooth curves, from today's allocation (clipped to the limits), with exact gradients,
    variables in units of today's spend (u = x / s0: well scaled, as a careful user would set it up), stopped
    after `limit` seconds (its last iterate is then its answer). Objective: the smooth engagement."""
    from scipy.optimize import minimize

    s0, e0 = tp[S.SPEND].to_numpy(float), tp[S.ENGAGED].to_numpy(float)
    a, v = tp[S.ELASTICITY].to_numpy(float), tp[S.VALUE].to_numpy(float)
    weight = v * e0 / float((v * e0).sum())
    deadline = time.perf_counter() + limit
    last = {"u": np.clip(s0, lo, hi) / s0}

    def objective(u):
        if time.perf_counter() > deadline:
            raise _OutOfTime
        return -float((weight * np.power(np.maximum(u, 1e-12), a)).sum())

    def gradient(u):
        return -weight * a * np.power(np.maximum(u, 1e-12), a - 1.0)

    def remember(u):
        last["u"] = np.array(u)

    share = s0 / budget
    started = time.perf_counter()
    try:
        out = minimize(objective, last["u"], jac=gradient, method="SLSQP",
                       bounds=list(zip(lo / s0, hi / s0, strict=True)), callback=remember,
                       constraints=[{"type": "eq", "fun": lambda u: share @ u - 1.0, "jac": lambda u: share}],
                       options={"maxiter": 1000, "ftol": 1e-12})
        u, status = out.x, "ok" if out.success else f"stopped: {out.message}"
    except _OutOfTime:
        u, status = last["u"], f"gave up after {limit:g} s"
    seconds = time.perf_counter() - started
    x = u * s0
    feasible = abs(x.sum() - budget) <= 1e-6 * budget and (x >= lo * (1 - 1e-9) - 1e-6).all() and (
        x <= hi * (1 + 1e-9) + 1e-6).all()
    objective_value = float((v * e0 * np.power(np.maximum(x, 0.0) / s0, a)).sum())
    return {"seconds": seconds, "objective": objective_value if feasible else math.nan, "status": status}


# ---------------------------------------------------------------------------------------------- one size

@dataclass
class Row:
    """One size's figures (seconds; ratios as plain numbers)."""

    size: int
    touchpoints: int
    lp_columns: int = 0
    lp_rows: int = 0
    master_columns: int = 0
    rounds: int = 0
    build: float = math.nan
    solve: float = math.nan
    total: float = math.nan
    cpu: float = math.nan
    peak_mb: float = math.nan
    floor: float = math.nan
    floor_method: str = ""
    no_pulp: float = math.nan
    objective: float = math.nan
    floor_objective: float = math.nan
    exact_gap: float = math.nan
    bisection: float = math.nan
    smooth_total: float = math.nan
    slsqp: float = math.nan
    slsqp_status: str = ""
    slsqp_gap: float = math.nan
    notes: list[str] = field(default_factory=list)


def _median_time(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def _median_of(run: Callable[[], dict], repeat: int) -> dict:
    """Run `repeat` times; the last result, with the median of the "seconds" each run reports."""
    outs = [run() for _ in range(repeat)]
    return {**outs[-1], "seconds": statistics.median(o["seconds"] for o in outs)}


def measure(size: int, repeat: int = 5, peers: Sequence[int] = PEER_SIZES, floor_limit: float = FLOOR_LIMIT,
            peer_limit: float = PEER_LIMIT) -> Row:
    """Every figure of one size (run it in a fresh process for a clean peak memory)."""
    tp = touchpoints(size)
    sc = scenario(tp)
    row = Row(size, len(tp))
    optimize(tp, sc)  # warm up imports and caches
    runs = max(1, repeat if size < BATCH else min(repeat, 3))
    builds, solves, totals, cpus = [], [], [], []
    for _ in range(runs * (SMALL_RUNS if size <= SMALL else 1)):
        plan = None
        gc.collect()  # every run starts with the same heap (outside the timing)
        started, cpu = time.perf_counter(), time.process_time()
        plan = optimize(tp, sc)
        totals.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        solves.append(plan.stats["total_solve_seconds"])
        builds.append(totals[-1] - solves[-1])
    row.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row.build, row.solve, row.total, row.cpu = map(statistics.median, (builds, solves, totals, cpus))
    row.lp_columns, row.lp_rows = plan.stats.get("columns", 0), plan.stats.get("rows", 0)
    row.master_columns, row.rounds = plan.stats.get("lp_columns", 0), plan.stats.get("lp_rounds", 0)
    row.objective = plan.objective
    if not plan.ok:
        row.notes.append(f"engine: {plan.status} ({plan.message})")

    best = None
    for name, options in FLOOR_METHODS.items():
        if name == "simplex" and row.lp_columns > SIMPLEX_MAX_COLUMNS:
            continue
        out = _median_of(lambda o=options: segment_lps(
            tp, sc, lambda lp, o=o: highs_direct(lp, o, floor_limit), through_master=False),
            runs if size < BATCH else 1)
        if out["status"] != "optimal":
            row.notes.append(f"floor ({name}): {out['status']} after {out['seconds']:.1f} s")
        elif best is None or out["seconds"] < best[0]:
            best = (out["seconds"], name, out["objective"])
    if best is not None:
        row.floor, row.floor_method, row.floor_objective = best
    row.no_pulp = _median_of(lambda: segment_lps(tp, sc, highs_direct, through_master=True), runs)["seconds"]

    smooth = smooth_touchpoints(size)
    model = formulate(smooth, SMOOTH)
    lo, hi = model.limits()
    row.smooth_total, ours = _median_time(lambda: optimize(smooth, SMOOTH), runs)
    ours_engaged = float((ours.table["proposed_engaged"] * smooth[S.VALUE]).sum())
    row.bisection, (_, best_engaged) = _median_time(lambda: exact_optimum(smooth, lo, hi, model.budget), runs)
    row.exact_gap = (best_engaged - ours_engaged) / best_engaged
    if size in peers and importlib.util.find_spec("scipy") is None:
        row.notes.append("SLSQP: scipy is not installed (pip install 'budgetopt[bench]')")
    elif size in peers:
        peer = slsqp(smooth, lo, hi, model.budget, peer_limit)
        if size < 1000 and runs > 1 and peer["status"] == "ok":
            peer["seconds"] = _median_time(lambda: slsqp(smooth, lo, hi, model.budget, peer_limit), runs - 1)[0]
        row.slsqp, row.slsqp_status = peer["seconds"], peer["status"]
        row.slsqp_gap = (ours_engaged - peer["objective"]) / ours_engaged
    return row


def _measure_in_child(args: tuple) -> dict:
    return asdict(measure(*args))


def run(sizes: Sequence[int] = SIZES, repeat: int = 5, isolate: bool = True, peers: Sequence[int] = PEER_SIZES,
        floor_limit: float = FLOOR_LIMIT, peer_limit: float = PEER_LIMIT,
        out: Callable[[str], None] = print) -> list[Row]:
    """Measure every size (each in a fresh process when isolate) and print the table as rows come in."""
    for name in BLAS_THREADS:  # read by the measuring processes' BLAS when it loads (not by this one's)
        os.environ.setdefault(name, "1")
    out(header())
    out(TABLE_HEAD)
    rows = []
    for size in sizes:
        args = (size, repeat, tuple(peers), floor_limit, peer_limit)
        if isolate:
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                row = Row(**pool.apply(_measure_in_child, (args,)))
        else:
            row = measure(*args)
        rows.append(row)
        out(format_row(row))
    out(LEGEND)
    return rows


# ---------------------------------------------------------------------------------------------- report

def versions() -> dict[str, str]:
    """Versions of the libraries the figures depend on."""
    out = {"python": platform.python_version()}
    for name in ("budgetopt", "numpy", "pandas", "pydantic", "pulp", "highspy", "scipy"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def header() -> str:
    """The machine and the libraries, with the load when the run started (other processes make noise)."""
    cpus = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    libs = ", ".join(f"{k} {v}" for k, v in versions().items())
    blas = ", ".join(f"{k}={os.environ[k]}" for k in BLAS_THREADS if k in os.environ)
    return (f"budgetopt benchmark  |  {cpus} CPUs ({usable} usable), {cpu_model()}  |  load average {load}\n"
            f"{libs}" + (f"\nmeasuring processes: {blas}" if blas else ""))


TABLE_HEAD = ("      size |  LP cols  rows | master x rounds | build ms  solve ms  total ms   cpu ms |  peak MB "
              "| floor ms (method)  / floor | no-PuLP ms | gap to exact  bisect ms |  SLSQP ms  x slower  "
              "its shortfall")


def _ms(x: float, width: int = 8) -> str:
    return f"{'-':>{width}}" if not math.isfinite(x) else f"{x * 1000:>{width},.1f}"


def format_row(r: Row) -> str:
    """One line of the table."""
    size = f"{r.touchpoints:,}" if r.touchpoints == r.size else f"{r.touchpoints:,}*"
    ratio = f"{r.total / r.floor:>6.2f}" if math.isfinite(r.floor) and r.floor > 0 else f"{'-':>6}"
    floor = f"{_ms(r.floor)} {('(' + r.floor_method + ')'):<9}"
    gap = f"{r.exact_gap * 100:>11.4f} %" if math.isfinite(r.exact_gap) else f"{'-':>13}"
    if r.slsqp_status:
        times = r.slsqp / r.smooth_total if r.smooth_total > 0 else math.nan
        slower = f"{times:>8,.{0 if times >= 10 else 2}f}x" if math.isfinite(times) else f"{'-':>9}"
        short = f"{r.slsqp_gap * 100:>+9.4f} %" if math.isfinite(r.slsqp_gap) else "   infeasible"
        peer = f"{_ms(r.slsqp, 9)} {slower}  {short}" + ("" if r.slsqp_status == "ok" else f" ({r.slsqp_status})")
    else:
        peer = f"{'-':>9} {'-':>9}  {'-':>11}"
    line = (f"{size:>10} | {r.lp_columns:>8,} {r.lp_rows:>5} | {r.master_columns:>6,} x {r.rounds:>2}     "
            f"| {_ms(r.build)}  {_ms(r.solve)}  {_ms(r.total)} {_ms(r.cpu)} | {r.peak_mb:>8,.0f} | {floor} {ratio} "
            f"| {_ms(r.no_pulp, 10)} | {gap}  {_ms(r.bisection, 9)} | {peer}")
    return line + "".join(f"\n           note: {n}" for n in r.notes)


LEGEND = """\
size: touchpoints (* a year: touchpoints x 12 months, rounded up). LP cols/rows: the final segment LP;
master x rounds: the largest master LP the solver saw, and master LPs solved in both passes. Times: medians,
wall clock, of optimize() (build = total - solve; cpu: its CPU time, less hurt by other processes);
peak MB: peak resident memory of the process.
floor: the same two segment LPs as CSC arrays straight into HiGHS (method: its faster one at that size);
/ floor = total / floor. no-PuLP: the engine's algorithm with master LPs straight into HiGHS.
gap to exact: budget-only instance with smooth power curves, (exact optimum - our plan) / exact optimum,
on the smooth curves; bisect ms: the bisection's own time. SLSQP: scipy SLSQP on that instance from today's
allocation; x slower = its time / ours on that instance; its shortfall = (ours - its engagement) / ours."""


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the benchmark (also `budgetopt bench`)."""
    p = argparse.ArgumentParser(prog="budgetopt bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated touchpoint counts")
    p.add_argument("--repeat", type=int, default=5, help="runs per figure (the median is printed)")
    p.add_argument("--peer-limit", type=float, default=PEER_LIMIT, help="seconds before SLSQP is stopped")
    p.add_argument("--floor-limit", type=float, default=FLOOR_LIMIT, help="seconds before the floor's HiGHS stops")
    p.add_argument("--no-isolate", action="store_true", help="run every size in this process (peak memory mixes)")
    args = p.parse_args(argv)
    try:
        sizes = [int(s.strip().replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes takes whole numbers separated by commas, such as 20,1000; got '{args.sizes}'")
    if not sizes or min(sizes) < 1 or args.repeat < 1:
        p.error("--sizes and --repeat must be at least 1")
    run(sizes, args.repeat, not args.no_isolate, PEER_SIZES, args.floor_limit, args.peer_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
