"""Benchmarks: how fast optimize() is, against the best general method on the same LP, an exact conic solver on the
same smooth problem, and the peers' method.

    python -m budgetopt.bench                            # sizes 20 ... 100,000, medians of 5 runs, then the cases
    python -m budgetopt.bench --sizes 20,1000 --repeat 3 --case-sizes 1000

Every size runs in a fresh process (so peak memory is that size's own) and prints one row:

- engine: optimize() on touchpoints with power and saturating curves, a limit on change per touchpoint and
  group rules on 8 functions and 5 stages (from BATCH rows on: touchpoint x 12 months, with month rules);
  build = total - solve (data to LP, and the plan with its prices), solve = inside the solver calls.
- floor: the same segment LPs (both passes) handed whole to HiGHS as CSC arrays (highspy.passModel), timed from
  arrays to solution with each of its methods (dual simplex with and without presolve, interior point, PDLP);
  the fastest that reaches the optimum (within 1e-6) is the floor: total / floor.
- algorithm: the engine's own algorithm (the master LPs) from the segments on, without formulating or the plan.
- conic: cvxpy with Clarabel (optional: pip install 'budgetopt[bench]') on the same smooth problem with the same
  rules, written apart from our model (power curves as power cones, saturating ones as exponential cones): its
  time (compiling and solving), and our plan's gap to its optimum on the smooth curves.
- SLSQP: scipy's SLSQP, the local gradient method Robyn, LightweightMMM and PyMC-Marketing allocate with, on
  a budget-only instance with smooth power curves, from today's allocation, with exact gradients: its time /
  ours, and how much less engagement its plan reaches than ours (negative: SLSQP did better).

Then the cases (--case-sizes), each size in a fresh process: a value per touchpoint (against the floor and the
conic solver), 500 tag rules (time against the same instance without them, peak memory), the frontier of 21
budgets from 0.5x to 1.5x today (14 of them without a plan), a "no plan" explained (stage engagement floors +10 %
with the budget cut 10 %); and a 200-touchpoint S-curve MIP. Timings are medians of --repeat runs of wall-clock
time; other processes on the machine make them noisy.
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
import re
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
from .optimize import FIRST_PASS_GAP, optimize
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
FLOOR_METHODS = {"simplex": {"solver": "simplex", "presolve": "off"},
                 "simplex+pre": {"solver": "simplex", "presolve": "on"},
                 "ipm": {"solver": "ipm"}, "pdlp": {"solver": "pdlp"}}
"""HiGHS's methods, each timed on the whole segment LPs: the fastest that reaches the optimum is the floor."""
SIMPLEX_MAX_COLUMNS = 20_000
"""HiGHS's dual simplex spends time quadratic in the columns on these LPs (its bound-flipping ratio test
sorts the candidates with a quadratic sort): above this many columns the floor uses interior point only."""
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Single-threaded BLAS in the measuring processes: on a busy 2-core machine OpenBLAS's threads turned a
20-variable SLSQP run from 7 ms into 700 ms (the engine itself keeps long dot products out of BLAS)."""
FLOOR_LIMIT = 300.0
PEER_LIMIT = 30.0
CONIC_MAX = 20_000
"""The conic solver runs up to this many touchpoints (cvxpy's compile alone takes minutes beyond)."""
CASE_SIZES = (1_000, 10_000)
TAGS = 500
MIP_SIZE = 200


# ---------------------------------------------------------------------------------------------- instances

def touchpoints(n: int, seed: int = 0, values: bool = False, tags: int = 0) -> pd.DataFrame:
    """n rows (rounded up to whole years from BATCH on): 70 % power and 30 % saturating curves, CPE set by
    function and stage (so group rules bind), a limit on change per touchpoint (20, 30 or 50 %); with `values`,
    a value per touchpoint (lognormal, as customer lifetime values are); with `tags`, that many tag columns, each
    on a random 2 % of the touchpoints."""
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
    if values:
        raw[S.VALUE] = np.exp(np.random.default_rng(seed + 7).normal(0.0, 0.5, base)).round(4)[t]
    if tags:
        pick = np.random.default_rng(seed + 9).random((len(raw), tags)) < 0.02
        raw = pd.concat([raw, pd.DataFrame(np.where(pick, "yes", "").astype(object), index=raw.index,
                                           columns=[f"tag{k:03d}" for k in range(tags)])], axis=1)
    return validate_touchpoints(raw)


def scenario(tp: pd.DataFrame) -> Scenario:
    """Cut 10 %; every function within -20 %..+15 % of today; every stage keeps 95 % of today's engaged
    customers; in a year of months, every month within -15 %..+5 %."""
    present = {column: sorted(set(tp[column])) for column in (S.FUNCTION, S.STAGE, "month") if column in tp}
    rules = [Rule(group=S.FUNCTION, member=f, min_change=-0.2, max_change=0.15) for f in present[S.FUNCTION]]
    rules += [Rule(group=S.STAGE, member=s, min_engaged_change=STAGE_KEEPS) for s in present[S.STAGE]]
    rules += [Rule(group="month", member=m, min_change=-0.15, max_change=0.05) for m in present.get("month", [])]
    return Scenario(name="benchmark: cut 10 % with group rules", budget=Budget(change=-0.1), rules=tuple(rules))


def tag_scenario(tp: pd.DataFrame, tags: int = TAGS) -> Scenario:
    """scenario() and a rule per tag: its touchpoints within -30 %..+25 % of today together."""
    rules = scenario(tp).rules + tuple(Rule(tag=f"tag{k:03d}", min_change=-0.3, max_change=0.25) for k in range(tags))
    return scenario(tp).model_copy(update={"name": f"benchmark: {tags} tag rules", "rules": rules})


def no_plan_scenario(tp: pd.DataFrame) -> Scenario:
    """Cut 10 % while every stage must engage 10 % more customers than today: no plan (functions as scenario())."""
    base = scenario(tp)
    rules = tuple(r for r in base.rules if r.min_engaged_change is None) + tuple(
        Rule(group=S.STAGE, member=s, min_engaged_change=0.1) for s in sorted(set(tp[S.STAGE])))
    return base.model_copy(update={"name": "benchmark: stage floors +10 % with 10 % less money", "rules": rules})


def s_curves(n: int = MIP_SIZE, seed: int = 0) -> pd.DataFrame:
    """n touchpoints with hill S-curves (shape 1.5-4: a convex start, then saturation), today on the steep part."""
    rng = np.random.default_rng(seed + 3)
    f = rng.integers(0, len(FUNCTIONS), n)
    half = np.exp(rng.normal(10.5, 0.8, n))
    shape = rng.uniform(1.5, 4.0, n)
    saturation = np.exp(rng.normal(8.5, 0.7, n))
    spend = (half * rng.uniform(0.5, 1.5, n)).round(2)
    engaged = saturation * spend**shape / (half**shape + spend**shape)
    return validate_touchpoints(pd.DataFrame({
        S.TOUCHPOINT: [f"s{i:04d}" for i in range(n)], S.FUNCTION: np.array(FUNCTIONS)[f], S.CHANNEL: "c",
        S.SPEND: spend, S.ENGAGED: engaged.round(3), S.CURVE: "hill", S.SATURATION: saturation.round(3),
        S.HALF_SATURATION: half.round(2), S.SHAPE: shape.round(3), S.MAX_SPEND: (3 * spend).round(2)}))


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
        hint, around = duals, seg.spend(result.values)
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


def conic(tp: pd.DataFrame, sc: Scenario, time_limit: float = FLOOR_LIMIT) -> dict:
    """The same smooth problem, written apart from our LP, solved exactly by cvxpy with Clarabel: spend in units of
    today's (u = x / s0), power curves as power cones (t <= u^a: PowCone3D(u, 1, t, a)), saturating ones as
    exponential cones (exp(-x / k) <= 1 - t), linear ones as they are; the rules as rows (each scaled by its size).
    Returns seconds (compiling and solving), the optimum's value-weighted engagement, the plan, the status."""
    import cvxpy as cp

    from .optimize import planned_model

    model, curves = planned_model(tp, sc)
    lo, hi = model.limits()
    n = len(tp)
    s0 = np.where(curves.spend0 > 0, curves.spend0, 1.0)
    import scipy.sparse as sparse

    u = cp.Variable(n)
    cons = [u >= lo / s0, u <= hi / s0]
    kind = curves.kind
    parts = []  # engaged customers of each kind of curve, placed at their touchpoints' positions

    def place(rows: np.ndarray, values) -> None:
        parts.append(sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n, len(rows)))
                     @ values)

    power, sat, lin = np.flatnonzero(kind == 1), np.flatnonzero(kind == 2), np.flatnonzero(kind == 0)
    if len(power):
        t = cp.Variable(len(power))
        cons.append(cp.constraints.PowCone3D(u[power], np.ones(len(power)), t, curves.elasticity[power]))
        place(power, cp.multiply(curves.curve_engaged[power], t))
    if len(sat):
        t = cp.Variable(len(sat))
        k = curves._scale()[sat]
        cons.append(cp.exp(cp.multiply(-s0[sat] / k, u[sat])) <= 1 - t)
        place(sat, cp.multiply(curves.saturation[sat], t))
    if len(lin):
        place(lin, cp.multiply(s0[lin] / curves.unit_cost[lin], u[lin]))
    engaged = cp.sum(parts) if len(parts) > 1 else parts[0]
    for row in model.rows:
        a, b = row.dense(n)
        size = max(1.0, abs(row.rhs), float(np.abs(a) @ curves.spend0 + np.abs(b) @ curves.engaged0))
        lhs = (a * s0 / size) @ u + ((b / size) @ engaged if b.any() else 0)
        rhs = row.rhs / size
        cons.append(lhs >= rhs if row.sense == ">=" else lhs <= rhs if row.sense == "<=" else lhs == rhs)
    weight = model.weight / max(1.0, float(model.weight @ curves.engaged0))
    objective = cp.Maximize(weight @ engaged) if model.maximise else cp.Minimize((s0 / s0.sum()) @ u)
    problem = cp.Problem(objective, cons)
    started = time.perf_counter()
    try:
        problem.solve(solver=cp.CLARABEL, time_limit=time_limit)
    except cp.error.SolverError as exc:
        return {"seconds": time.perf_counter() - started, "objective": math.nan, "status": f"failed ({exc})"}
    seconds = time.perf_counter() - started
    if problem.status not in ("optimal", "optimal_inaccurate") or u.value is None:
        return {"seconds": seconds, "objective": math.nan, "status": str(problem.status)}
    x = np.clip(u.value * s0, lo, hi)
    return {"seconds": seconds, "objective": float(model.weight @ curves.engaged(x)), "spend": x,
            "status": str(problem.status)}


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
    methods: dict = field(default_factory=dict)
    """Seconds of each HiGHS method on the whole segment LPs (NaN: it did not reach the optimum)."""
    algorithm: float = math.nan
    objective: float = math.nan
    floor_objective: float = math.nan
    conic: float = math.nan
    conic_gap: float = math.nan
    conic_status: str = ""
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


def floor(tp: pd.DataFrame, sc: Scenario, runs: int, columns: int, limit: float = FLOOR_LIMIT,
          notes: list[str] | None = None) -> tuple[str, float, float, dict]:
    """Each of HiGHS's methods on the whole segment LPs (optimize()'s two passes): (fastest method that reaches
    the optimum, its seconds, its objective, seconds of every method). Dual simplex is quadratic here (its bound
    flipping sorts with a quadratic sort): above SIMPLEX_MAX_COLUMNS it is not tried."""
    results = {}
    for name, options in FLOOR_METHODS.items():
        if name.startswith("simplex") and columns > SIMPLEX_MAX_COLUMNS:
            continue
        out = _median_of(lambda o=options: segment_lps(
            tp, sc, lambda lp, o=o: highs_direct(lp, o, limit), through_master=False), runs)
        results[name] = out
        if out["status"] != "optimal" and notes is not None:
            notes.append(f"floor ({name}): {out['status']} after {out['seconds']:.1f} s")
    reached = [o["objective"] for o in results.values() if o["status"] == "optimal"]
    if not reached:
        return "", math.nan, math.nan, {k: math.nan for k in results}
    best = max(reached) if sc.objective.mode.value != "min_spend" else min(reached)
    ok = {k: o for k, o in results.items() if o["status"] == "optimal"
          and abs(o["objective"] - best) <= 1e-6 * max(1.0, abs(best))}
    name = min(ok, key=lambda k: ok[k]["seconds"])
    return name, ok[name]["seconds"], ok[name]["objective"], {
        k: (o["seconds"] if k in ok else math.nan) for k, o in results.items()}


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

    row.floor_method, row.floor, row.floor_objective, row.methods = floor(tp, sc, runs if size < BATCH else 1,
                                                                          row.lp_columns, floor_limit, row.notes)
    row.algorithm = _median_of(lambda: segment_lps(tp, sc, highs_direct, through_master=True), runs)["seconds"]
    if len(tp) <= CONIC_MAX:
        if importlib.util.find_spec("cvxpy") is None:
            row.conic_status = "cvxpy is not installed (pip install 'budgetopt[bench]')"
        else:
            exact = conic(tp, sc, floor_limit)
            ours = float((plan.table["proposed_engaged"] * plan.table[S.VALUE]).sum())
            row.conic, row.conic_status = exact["seconds"], exact["status"]
            row.conic_gap = (exact["objective"] - ours) / exact["objective"]

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


# ---------------------------------------------------------------------------------------------- cases

@dataclass
class Case:
    """One case's figures at one size (seconds)."""

    name: str
    size: int
    engine: float = math.nan
    cpu: float = math.nan
    floor: float = math.nan
    floor_method: str = ""
    conic: float = math.nan
    conic_gap: float = math.nan
    versus: float = math.nan
    """The same instance without what the case adds (500 tag rules: without them)."""
    peak_mb: float = math.nan
    detail: str = ""


def _timed(run: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of `repeat` runs, and the last result."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        out = run()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), out


def measure_case(name: str, size: int, repeat: int = 3, floor_limit: float = FLOOR_LIMIT) -> Case:
    """One case at one size (run it in a fresh process: its peak memory is its own)."""
    from .frontier import budget_range, frontier

    case = Case(name, size)
    if name == "values":
        tp = touchpoints(size, values=True)
        sc = scenario(tp)
        optimize(tp, sc)
        case.engine, case.cpu, plan = _timed(lambda: optimize(tp, sc), repeat)
        case.floor_method, case.floor, _, _ = floor(tp, sc, 1, plan.stats.get("columns", 0), floor_limit)
        if importlib.util.find_spec("cvxpy") is not None and size <= CONIC_MAX:
            exact = conic(tp, sc, floor_limit)
            ours = float((plan.table["proposed_engaged"] * plan.table[S.VALUE]).sum())
            case.conic, case.conic_gap = exact["seconds"], (exact["objective"] - ours) / exact["objective"]
    elif name == "tags":
        tp = touchpoints(size, tags=TAGS)
        sc, plain = tag_scenario(tp), scenario(tp)
        optimize(tp, sc)
        case.engine, case.cpu, plan = _timed(lambda: optimize(tp, sc), repeat)
        case.versus = _timed(lambda: optimize(tp, plain), repeat)[0]
        tag_rows = plan.rules["name"].str.match(r"(min|max)_change-\d+$") & plan.rules["rule"].str.startswith("tag")
        case.detail = f"{TAGS} tag rules, {int((plan.rules['binding'] & tag_rows).sum())} of their rows bind"
    elif name == "frontier":
        tp = touchpoints(size)
        sc = scenario(tp)
        plan = optimize(tp, sc)
        budgets = budget_range(tp, 0.5, 1.5, 21)
        case.engine, case.cpu, curve = _timed(lambda: frontier(tp, sc, budgets, plan=plan), repeat)
        statuses = curve.loc[curve["marker"] == "", "status"]
        case.detail = f"21 budgets, {int((statuses == 'infeasible').sum())} without a plan"
    elif name == "no plan":
        tp = touchpoints(size)
        sc = no_plan_scenario(tp)
        case.engine, case.cpu, plan = _timed(lambda: optimize(tp, sc), repeat)
        case.detail = f"{plan.status.value}: {len(plan.conflicts)} rules in the conflict, {len(plan.advice)} advice"
    elif name == "S-curve MIP":
        tp = s_curves(size)
        sc = Scenario(name="benchmark: S-curves", budget=Budget(change=-0.1), rules=tuple(
            Rule(group=S.FUNCTION, member=f, min_change=-0.3, max_change=0.3) for f in sorted(set(tp[S.FUNCTION]))))
        case.engine, case.cpu, plan = _timed(lambda: optimize(tp, sc), repeat)
        gap = plan.stats.get("mip_gap", math.nan)
        case.detail = f"{plan.stats.get('mip_binaries', 0)} binaries, MIP gap {gap:.1e}, {plan.status.value}"
    else:
        raise ValueError(f"no case '{name}'")
    case.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return case


CASES = ("values", "tags", "frontier", "no plan")


def _case_in_child(args: tuple) -> dict:
    return asdict(measure_case(*args))


def run(sizes: Sequence[int] = SIZES, repeat: int = 5, isolate: bool = True, peers: Sequence[int] = PEER_SIZES,
        floor_limit: float = FLOOR_LIMIT, peer_limit: float = PEER_LIMIT,
        out: Callable[[str], None] = print, case_sizes: Sequence[int] = (), mip_size: int = 0) -> list[Row]:
    """Measure every size (each in a fresh process when isolate) and print the table as rows come in; then the
    cases at `case_sizes` and the S-curve MIP at `mip_size` (0: none)."""
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
    jobs = [(name, size) for size in case_sizes for name in CASES] + ([("S-curve MIP", mip_size)] if mip_size else [])
    if jobs:
        out("")
        out(CASE_HEAD)
    for name, size in jobs:
        args = (name, size, max(1, min(repeat, 3)), floor_limit)
        if isolate:
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                case = Case(**pool.apply(_case_in_child, (args,)))
        else:
            case = measure_case(*args)
        out(format_case(case))
    if jobs:
        out(CASE_LEGEND)
    return rows


# ---------------------------------------------------------------------------------------------- report

def versions() -> dict[str, str]:
    """Versions of the libraries the figures depend on."""
    out = {"python": platform.python_version()}
    for name in ("budgetopt", "numpy", "pandas", "pydantic", "pulp", "highspy", "scipy", "cvxpy", "clarabel"):
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
              "| floor ms (method)      / floor | algorithm ms |  conic ms  gap to it | SLSQP ms  x slower  "
              "its shortfall")
CASE_HEAD = ("case          size |  engine ms    cpu ms |   floor ms (method)      / floor |  conic ms  gap to it "
             "| without ms  x |  peak MB | what")


def _ms(x: float, width: int = 8) -> str:
    return f"{'-':>{width}}" if not math.isfinite(x) else f"{x * 1000:>{width},.1f}"


def format_row(r: Row) -> str:
    """One line of the table."""
    size = f"{r.touchpoints:,}" if r.touchpoints == r.size else f"{r.touchpoints:,}*"
    ratio = f"{r.total / r.floor:>6.2f}" if math.isfinite(r.floor) and r.floor > 0 else f"{'-':>6}"
    floor_ = f"{_ms(r.floor)} {('(' + r.floor_method + ')'):<13}"
    conic_ = (f"{_ms(r.conic, 9)} {r.conic_gap * 100:>+9.4f} %" if math.isfinite(r.conic_gap)
              else f"{_ms(r.conic, 9)} {'-':>11}")
    if r.slsqp_status:
        times = r.slsqp / r.smooth_total if r.smooth_total > 0 else math.nan
        slower = f"{times:>8,.{0 if times >= 10 else 2}f}x" if math.isfinite(times) else f"{'-':>9}"
        short = f"{r.slsqp_gap * 100:>+9.4f} %" if math.isfinite(r.slsqp_gap) else "   infeasible"
        peer = f"{_ms(r.slsqp, 9)} {slower}  {short}" + ("" if r.slsqp_status == "ok" else f" ({r.slsqp_status})")
    else:
        peer = f"{'-':>9} {'-':>9}  {'-':>11}"
    line = (f"{size:>10} | {r.lp_columns:>8,} {r.lp_rows:>5} | {r.master_columns:>6,} x {r.rounds:>2}     "
            f"| {_ms(r.build)}  {_ms(r.solve)}  {_ms(r.total)} {_ms(r.cpu)} | {r.peak_mb:>8,.0f} | {floor_} {ratio} "
            f"| {_ms(r.algorithm, 12)} | {conic_} | {peer}")
    methods = ", ".join(f"{k} {_ms(v, 0).strip()} ms" for k, v in r.methods.items())
    notes = ([f"HiGHS on the whole LP: {methods}"] if methods else []) + r.notes
    if r.conic_status and r.conic_status not in ("optimal", "optimal_inaccurate"):
        notes.append(f"conic: {r.conic_status}")
    return line + "".join(f"\n           note: {n}" for n in notes)


def format_case(c: Case) -> str:
    """One line of the cases' table."""
    ratio = f"{c.engine / c.floor:>6.2f}" if math.isfinite(c.floor) and c.floor > 0 else f"{'-':>6}"
    conic_ = (f"{_ms(c.conic, 9)} {c.conic_gap * 100:>+9.4f} %" if math.isfinite(c.conic_gap)
              else f"{_ms(c.conic, 9)} {'-':>11}")
    versus = (f"{_ms(c.versus, 10)} {c.engine / c.versus:>4.1f}" if math.isfinite(c.versus) and c.versus > 0
              else f"{'-':>10} {'-':>4}")
    return (f"{c.name:<12} {c.size:>6,} | {_ms(c.engine, 10)} {_ms(c.cpu, 9)} | {_ms(c.floor, 10)} "
            f"{('(' + c.floor_method + ')'):<13} {ratio} | {conic_} | {versus} | {c.peak_mb:>8,.0f} | {c.detail}")


LEGEND = """\
size: touchpoints (* a year: touchpoints x 12 months, rounded up). LP cols/rows: the final segment LP;
master x rounds: the largest master LP the solver saw, and master LPs solved in both passes. Times: medians,
wall clock, of optimize() (build = total - solve; cpu: its CPU time, less hurt by other processes);
peak MB: peak resident memory of the process.
floor: the same two segment LPs whole, as CSC arrays straight into HiGHS, with each of its methods (note);
the fastest that reaches the optimum within 1e-6 is the floor (simplex is not tried above 20,000 columns);
/ floor = total / floor. algorithm: the engine's master LPs from the segments on, no formulating, no plan.
conic: cvxpy + Clarabel on the same smooth problem with the same rules (compiling and solving); gap to it =
(its optimum - our plan) / its optimum, on the smooth curves. SLSQP: scipy SLSQP on a budget-only instance
with smooth power curves from today's allocation; x slower = its time / ours on that instance; its shortfall
= (ours - its engagement) / ours."""
CASE_LEGEND = """\
values: a value per touchpoint (lognormal), the engine against the floor (HiGHS's methods on the whole LP) and the
conic solver on the same smooth problem. tags: 500 tag rules (each within -30 %..+25 % of today) besides the
function and stage rules; without: the same instance without them, x = engine / without. frontier: 21 budgets
from 0.5x to 1.5x today. no plan: stage floors +10 % with 10 % less money, explained (conflict and ways out).
S-curve MIP: hill curves (shape 1.5-4), function rules, 10 % less money. Each case in a fresh process."""


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the benchmark (also `budgetopt bench`)."""
    p = argparse.ArgumentParser(
        prog="budgetopt bench", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The other benchmarks (cli._BENCHMARKS), each with its own options (budgetopt bench --reading --help):\n"
               "  --reading   reading touchpoint files against pandas\n"
               "  --curves    fitting histories, S-curve MIPs, accuracy against the true optimum\n"
               "  --risk      draws, the risk of a plan, CVaR plans and sweeps on Dask\n"
               "  --periods   plans over touchpoints x periods\n"
               "  --cli       the whole optimize command against an end-to-end floor")
    p.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated touchpoint counts")
    p.add_argument("--repeat", type=int, default=5, help="runs per figure (the median is printed)")
    p.add_argument("--peer-limit", type=float, default=PEER_LIMIT, help="seconds before SLSQP is stopped")
    p.add_argument("--floor-limit", type=float, default=FLOOR_LIMIT, help="seconds before the floor's HiGHS stops")
    p.add_argument("--no-isolate", action="store_true", help="run every size in this process (peak memory mixes)")
    p.add_argument("--case-sizes", default=",".join(map(str, CASE_SIZES)),
                   help="sizes of the cases (values, tags, frontier, no plan); empty for none")
    p.add_argument("--mip-size", type=int, default=MIP_SIZE, help="touchpoints of the S-curve MIP (0: none)")
    p.add_argument("--fit", default="1000x104",
                   help="touchpoints x weeks of histories fitted, then planned on (as bench --curves; 0: none)")
    args = p.parse_args(argv)
    try:
        sizes = [int(s.strip().replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error(f"--sizes takes whole numbers separated by commas, such as 20,1000; got '{args.sizes}'")
    if not sizes or min(sizes) < 1 or args.repeat < 1:
        p.error("--sizes and --repeat must be at least 1")
    try:
        case_sizes = [int(c.strip().replace("_", "")) for c in args.case_sizes.split(",") if c.strip()]
    except ValueError:
        p.error(f"--case-sizes takes whole numbers separated by commas; got '{args.case_sizes}'")
    if args.fit != "0" and not re.fullmatch(r"\d+x\d+", args.fit):
        p.error(f"--fit takes touchpoints x weeks such as 1000x104 (0: none); got '{args.fit}'")
    run(sizes, args.repeat, not args.no_isolate, PEER_SIZES, args.floor_limit, args.peer_limit,
        case_sizes=case_sizes, mip_size=max(0, args.mip_size))
    if args.fit != "0":  # curves from evidence: fitting and planning on the fits (bench --curves has the rest)
        from .bench_curves import fitting, plan_on_fit

        n, weeks = (int(v) for v in args.fit.split("x"))
        f = fitting(n, weeks, 1)
        print(f"\nfit {f['touchpoints']:,} touchpoints x {f['periods']} weeks: {f['fit_seconds']:.2f} s; family "
              f"found as generated {f['family_found']:.0%}")
        q = plan_on_fit(n, weeks)
        print(f"history file of {q['rows']:,} rows -> plan: read {q['read_seconds']:.2f} s, fit and table "
              f"{q['fit_seconds']:.2f} s, plan {q['plan_seconds']:.2f} s ({q['status']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
