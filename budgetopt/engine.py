"""The only module that imports pulp: builds the LP from a Model, solves it, maps status and duals back.

Columns are curve segments s_ik in [0, w_ik] (see curves.Segments). With spend x_i = lo_i + sum_k s_ik
and engaged e_i = base_i + sum_k g_ik s_ik, a row  sum_i a_ri x_i + b_ri e_i (sense) rhs_r  becomes
    sum_ik (a_ri + b_ri g_ik) s_ik  (sense)  rhs_r - sum_i (a_ri lo_i + b_ri base_i).
Objective: max sum_ik v_i g_ik s_ik (max_engaged, target_cpe) or min sum_ik s_ik (min_spend).

Small LPs go to the solver whole. Large ones are solved through a master LP over classes of touchpoints
priced alike (decompose.py): its size depends on the rules that bind, not on the number of touchpoints, and
its plan is certified within GAP (1e-6) of the segment LP's optimum (or its having no plan proven). Every LP
is built once, as arrays (lp.LinearProgram): the default HiGHS takes them in one passModel call (highspy);
any other solver named in the settings gets them through PuLP, the modelling layer that lets a user pick it.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .curves import Segments
from .decompose import GAP, segment_problem, solve_by_master
from .errors import SolverError
from .lp import LinearProgram, LPResult, Status, dot, fill_in_order
from .model import Model, Row


def _pulp():
    """PuLP, imported on first use (about 0.15 s): the default HiGHS path hands its arrays to highspy and never
    needs it; another solver, a list of solvers or their versions do."""
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="pulp")
    import pulp

    return pulp


DEFAULT_SOLVER = "HiGHS"
_TOL = 1e-7


@dataclass
class Solution:
    """Segment values, row duals (HiGHS convention of the minimisation form) and timings."""

    status: Status
    message: str
    values: np.ndarray
    row_duals: np.ndarray
    objective: float
    columns: int
    rows: int
    build_seconds: float
    solve_seconds: float
    solver: str
    rounds: int = 1
    """LPs solved: 1 for the segment LP whole, more through the master LP."""
    lp_columns: int = 0
    """Columns of the largest LP the solver saw."""
    extra: dict = field(default_factory=dict)
    """What else the plan should say about how it was solved (a MIP's gap and binaries, where prices come from)."""


def available_solvers() -> list[str]:
    """Names of the PuLP solvers usable on this machine."""
    return list(_pulp().listSolvers(onlyAvailable=True))


def solver_versions() -> dict[str, str]:
    """Versions of the modelling layer and the default solver, for reports."""
    import importlib.metadata as md

    out = {"pulp": md.version("pulp")}
    try:
        out["highspy"] = md.version("highspy")
    except md.PackageNotFoundError:
        pass
    return out


HIGHS_OPTIONS = {"presolve": "off"}
"""HiGHS's presolve finds almost nothing to remove in these LPs (bounded columns, a few dense rows) yet spent
seconds on whole segment LPs of 1,000 touchpoints; the optimum and duals are the same without it."""
RELAXED_TOLERANCE = 1e-6
"""When HiGHS calls an LP infeasible at its default primal tolerance (1e-7), it is solved once more at
1e-6: a plan pinned to a single point (e.g. siloed with locks) can miss the default by rounding alone."""


def _make_solver(name: str, time_limit: float | None, **options):
    pulp = _pulp()
    try:
        solver = pulp.getSolver(name, msg=False, timeLimit=time_limit, **options)
    except Exception as exc:  # pulp raises PulpSolverError with its own words
        raise SolverError(f"unknown solver '{name}'; available here: {', '.join(available_solvers())}") from exc
    if not solver.available():
        raise SolverError(f"solver '{name}' is not available; install it (for HiGHS: pip install highspy) "
                          f"or pick one of: {', '.join(available_solvers())}")
    return solver


DIRECT_MAX_COLUMNS = 500
"""Segment LPs with at most this many columns go to the solver whole; larger ones through the master LP
(decompose.py), whose size depends on the rules, not on the number of touchpoints."""
def solve(model: Model, seg: Segments, rows: list[Row] | None = None, feasibility_only: bool = False,
          hint: np.ndarray | None = None, method: str = "auto", gap: float = GAP, spend: float = 0.0,
          in_order: bool = True) -> Solution:
    """Solve the segment LP with PuLP (HiGHS by default) and return segment values and row duals.

    method: "direct" hands the whole segment LP to the solver; "decompose" solves it exactly through the
    master LP of decompose.py; "auto" picks the master for large LPs whose rows allow it. hint: row duals of
    a similar LP (the first pass), used to place the master's first blocks. gap: the master stops once its
    plan is certified within this relative gap of the segment LP's optimum. spend: minimise spend x total money
    instead of the model's objective (1: the least money the rows allow, -1: the most). in_order: segments with a
    convex stretch are filled in order by a MIP (False: as an LP, e.g. once the MIP's binaries are fixed)."""
    settings = model.scenario.settings
    rows = model.rows if rows is None else rows
    started = time.perf_counter()
    problem = segment_problem(model, seg, rows, feasibility_only, spend)
    if isinstance(problem, str):
        return Solution(Status.INFEASIBLE, problem, np.zeros(len(seg)), np.zeros(len(rows)), float("nan"),
                        len(seg), len(rows), time.perf_counter() - started, 0.0, settings.solver)
    n_rows = len(problem.row_id)
    if len(seg) == 0:  # nothing can move: every touchpoint is fixed
        return Solution(Status.OPTIMAL, "every touchpoint is fixed", np.zeros(0), np.zeros(len(rows)),
                        problem.constant, 0, n_rows, time.perf_counter() - started, 0.0, settings.solver)
    if method not in ("auto", "direct", "decompose"):
        raise ValueError(f"method must be 'auto', 'direct' or 'decompose', not '{method}'")
    ordered = seg.out_of_order() if in_order else np.zeros(len(seg.lo), dtype=bool)
    if ordered.any():
        return _solve_in_order(model, seg, rows, problem, ordered, feasibility_only, hint, method, gap, started,
                               spend)
    master = method == "decompose" or (method == "auto" and len(seg) > DIRECT_MAX_COLUMNS)
    master = master and problem.prefers_engagement
    prepared = time.perf_counter() - started
    if master:
        result, rounds, largest = solve_by_master(problem, lambda lp: _solve_lp(lp, settings), hint, gap)
    else:
        lp = problem.full_lp()
        result, rounds, largest = _solve_lp(lp, settings), 1, lp.num_col
    values = result.values
    duals = np.zeros(len(rows))
    duals[problem.row_id] = result.duals
    objective = (dot(problem.cost(seg.touchpoint, seg.slope), values) + problem.constant
                 if result.status.is_ok else float("nan"))
    return Solution(result.status, result.message, values, duals, objective, len(seg), n_rows,
                    prepared + result.build_seconds, result.solve_seconds, settings.solver, rounds, largest)


MIP_GAP = 1e-6
"""Relative gap at which HiGHS stops a MIP (segments filled in order): the plan is then certified within it of
the global optimum of the piecewise curves."""
MIP_TIME_LIMIT = 20.0
"""Seconds the search for non-concave curves may take before the best plan found so far is used, with its
certified gap in the plan (Settings.time_limit overrides it)."""


REPAIR_GAP = 1e-3
"""A repaired envelope plan certified within this of the best possible is kept: the MIP would spend seconds to gain
less than 0.1 %."""
MIP_DIRECT_BINARIES = 400
"""A MIP with at most this many binaries is solved at once (a second or less); a larger one starts from the
concave envelope and a repair, and the MIP runs only while it can still improve on them."""


REPAIR_ROUNDS = 200
"""LPs of the repair at most (each holds at least one touchpoint out of a stretch)."""


def concave_envelope(seg: Segments, ordered: np.ndarray) -> tuple[Segments, np.ndarray]:
    """Each `ordered` touchpoint's piecewise curve replaced by its upper concave hull: chords between the
    breakpoints where the hull touches the curve (others unchanged). Also returns, per new segment, whether it
    bridges a convex stretch (merges more than one old segment: the hull lies above the curve inside it)."""
    t, w, g = seg.touchpoint, seg.width, seg.slope
    first = np.searchsorted(t, np.arange(len(seg.lo) + 1))
    keep_t, keep_w, keep_g, keep_b = [t[~ordered[t]]], [w[~ordered[t]]], [g[~ordered[t]]], [np.zeros(
        int((~ordered[t]).sum()), dtype=bool)]
    for i in np.flatnonzero(ordered):
        a, b = first[i], first[i + 1]
        x = seg.lo[i] + np.concatenate([[0.0], np.cumsum(w[a:b])])
        v = np.concatenate([[0.0], np.cumsum(w[a:b] * g[a:b])])
        hull = [0]
        for k in range(1, len(x)):  # upper hull: drop a point that lies on or below the chord past it
            while len(hull) >= 2:
                p, q = hull[-2], hull[-1]
                if (v[q] - v[p]) * (x[k] - x[p]) <= (v[k] - v[p]) * (x[q] - x[p]):
                    hull.pop()
                else:
                    break
            hull.append(k)
        h = np.asarray(hull)
        keep_t.append(np.full(len(h) - 1, i))
        keep_w.append(np.diff(x[h]))
        keep_g.append(np.diff(v[h]) / np.diff(x[h]))
        keep_b.append(np.diff(h) > 1)
    t2, w2, g2, b2 = map(np.concatenate, (keep_t, keep_w, keep_g, keep_b))
    order = np.argsort(t2, kind="stable")
    return (Segments(touchpoint=t2[order], width=w2[order], slope=g2[order], base_engaged=seg.base_engaged,
                     lo=seg.lo, hi=seg.hi), b2[order])


def _envelope_and_repair(model: Model, seg: Segments, rows: list[Row], ordered: np.ndarray, feasibility_only: bool,
                         hint: np.ndarray | None, method: str, gap: float, started: float,
                         spend: float) -> Solution | None:
    """A MIP too large for an interactive answer: solve the LP on the concave envelope of the curves (an upper
    bound on the MIP's optimum: the envelope lies above the piecewise curves), then repair: a touchpoint whose
    spend lies inside a stretch where the envelope bridges a convex part is kept out of that stretch, on the side
    nearer to its spend (the other side if no plan keeps that), and the LP is solved again, until no spend lies
    inside one. The repaired plan is on the piecewise curves; its gap to the envelope's optimum bounds its gap to
    the MIP's (stats: mip_gap). None when the repair finds no plan (the caller then runs the MIP)."""
    env, bridge = concave_envelope(seg, ordered)
    start_e = env.starts()
    end_e = start_e + env.width
    t = env.touchpoint
    lo, hi = env.lo.copy(), env.hi.copy()
    bound, sol, x = float("nan"), None, None

    def attempt(lo_: np.ndarray, hi_: np.ndarray):
        current, keep, filled = env.restrict(lo_, hi_)
        out = solve(model, current, rows, feasibility_only, hint, method, gap, spend)
        if not out.status.is_ok:
            return out, None
        values = np.where(filled, env.width, 0.0)
        values[keep] = out.values
        return out, env.spend(values)

    for _ in range(REPAIR_ROUNDS):
        sol, x = attempt(lo, hi)
        if x is None:
            return None
        if not np.isfinite(bound):
            bound = sol.objective
        tol = 1e-9 * np.maximum(1.0, end_e)
        inside = bridge & (x[t] > start_e + tol) & (x[t] < end_e - tol)
        if not inside.any():
            break
        below = x[t] - start_e <= end_e - x[t]  # nearer the stretch's start: stay at or below it
        # the most decided first (spend nearest an end of its stretch); half of them at a time, fewer when the
        # rules hold no plan for that choice, the other side for the last one
        depth = np.minimum(x[t] - start_e, end_e - x[t]) / np.maximum(env.width, 1e-300)
        queue = np.flatnonzero(inside)[np.argsort(depth[inside], kind="stable")]
        batch = max(1, (len(queue) + 1) // 2)
        while True:
            pick = np.zeros(len(t), dtype=bool)
            pick[queue[:batch]] = True
            tries = [below] if batch > 1 else [below, ~below]
            done = False
            for side in tries:
                lo2, hi2 = lo.copy(), hi.copy()
                down, up = pick & side, pick & ~side
                hi2[t[down]] = np.minimum(hi2[t[down]], start_e[down])
                lo2[t[up]] = np.maximum(lo2[t[up]], end_e[up])
                if attempt(lo2, hi2)[1] is not None:
                    lo, hi, done = lo2, hi2, True
                    break
            if done:
                break
            if batch == 1:
                return None
            batch //= 2
    else:
        return None
    settings = model.scenario.settings
    # the plan on the original segments: each touchpoint's spend fills its segments in order
    out = np.clip(x[seg.touchpoint] - seg.starts(), 0.0, seg.width)
    stats = {"mip_touchpoints": int(ordered.sum()), "mip_binaries": 0,
             "mip_fallback": "concave envelope, then each touchpoint kept out of the stretches it bridges",
             "mip_gap": abs(bound - sol.objective) / max(1.0, abs(bound)),
             "prices_from": "the LP with each such touchpoint kept out of the stretches the envelope bridges"}
    return Solution(sol.status, sol.message, out, sol.row_duals, sol.objective, len(seg), sol.rows,
                    time.perf_counter() - started - sol.solve_seconds, sol.solve_seconds, settings.solver,
                    sol.rounds, sol.lp_columns, stats)


def _solve_in_order(model: Model, seg: Segments, rows: list[Row], problem, ordered: np.ndarray,
                    feasibility_only: bool, hint: np.ndarray | None, method: str, gap: float,
                    started: float, spend: float = 0.0) -> Solution:
    """Curves with convex stretches (S-curves, some tabulated curves): the certified global optimum of the piecewise
    curves, then the LP with the binaries fixed (each such touchpoint held to the segment its spend is in), which
    gives the same plan and the duals that price the rules. Concave touchpoints stay continuous throughout.

    Small (at most MIP_DIRECT_BINARIES binaries): a MIP whose binaries fill those touchpoints' segments in order
    (lp.fill_in_order). Large: the concave envelope and a repair first (_envelope_and_repair: a plan on the true
    curves with its gap to the envelope's bound certified); when that gap is above REPAIR_GAP (or the repair finds
    no plan), the MIP gets the time that is left (MIP_TIME_LIMIT or Settings.time_limit) and the better plan is
    kept, with its certified gap."""
    settings = model.scenario.settings
    limit = settings.time_limit or MIP_TIME_LIMIT
    lp = fill_in_order(problem.full_lp(), seg.touchpoint, seg.width, ordered, seg.slope)
    binaries = int(lp.num_col - len(seg))
    stats: dict = {"mip_binaries": binaries, "mip_touchpoints": int(ordered.sum())}
    cost = problem.cost(seg.touchpoint, seg.slope)
    sign = 1.0 if problem.maximise else -1.0  # larger is better once multiplied by sign
    repaired, spent = None, 0.0
    if binaries > MIP_DIRECT_BINARIES:
        repaired = _envelope_and_repair(model, seg, rows, ordered, feasibility_only, hint, method, gap, started, spend)
        if repaired is not None:
            spent += repaired.solve_seconds
            repaired.extra.update({"mip_binaries": binaries, "mip_method": "the concave envelope and a repair",
                                   "mip_seconds": spent})
            if repaired.extra["mip_gap"] <= max(gap, REPAIR_GAP) or limit - spent <= 1.0:
                return repaired
    mip = _solve_lp(lp, settings, mip_gap=MIP_GAP, time_limit=max(1.0, limit - spent))
    spent += mip.solve_seconds
    found = mip.status.is_ok or (mip.status is Status.TIME_LIMIT and np.isfinite(mip.mip_gap))
    if repaired is not None and (not found or sign * (dot(cost, mip.values[:len(seg)]) + problem.constant)
                                 <= sign * repaired.objective):  # the MIP did not beat the repaired plan
        if found:  # but its bound may certify the repaired plan closer than the envelope did
            best = dot(cost, mip.values[:len(seg)]) + problem.constant
            bound = best + sign * mip.mip_gap * max(1.0, abs(best))
            closer = max(0.0, sign * (bound - repaired.objective)) / max(1.0, abs(bound))
            if closer < repaired.extra["mip_gap"]:
                repaired.extra.update({"mip_gap": closer, "mip_method": "the concave envelope and a repair, certified "
                                       "by a mixed-integer programme's bound"})
        repaired.extra["mip_seconds"] = spent
        return repaired
    if not found:
        return Solution(mip.status, mip.message, np.zeros(len(seg)), np.zeros(len(rows)), float("nan"),
                        len(seg), len(problem.row_id), mip.build_seconds, spent, settings.solver, 1, lp.num_col,
                        stats)
    values, certified = mip.values[:len(seg)], mip.mip_gap
    stats.update({"mip_gap": float(certified), "mip_method": "a mixed-integer programme", "mip_seconds": spent})
    x = seg.spend(values)
    inner, out = _fixed(model, seg, rows, feasibility_only, hint, method, gap, ordered, x, spend)
    objective = (dot(cost, out) + problem.constant if inner.status.is_ok else float("nan"))
    stats["prices_from"] = "the LP with the MIP's binaries fixed"
    message = inner.message if certified <= MIP_GAP else (
        f"the plan is within {certified:.2%} of the best possible (certified by the MIP's bound)")
    return Solution(inner.status, message, out, inner.row_duals, objective, len(seg), len(problem.row_id),
                    time.perf_counter() - started - spent - inner.solve_seconds, spent + inner.solve_seconds,
                    settings.solver, inner.rounds + 1, max(lp.num_col, inner.lp_columns), stats)


def _fixed(model: Model, seg: Segments, rows: list[Row], feasibility_only: bool, hint, method: str, gap: float,
           ordered: np.ndarray, x: np.ndarray, spend: float = 0.0) -> tuple[Solution, np.ndarray]:
    """The LP with each ordered touchpoint held to the segment its spend x is in (the upper one at a breakpoint),
    and its values over all of `seg`'s segments."""
    start = seg.starts()
    end = start + seg.width
    t = seg.touchpoint
    tol = 1e-9 * np.maximum(1.0, end)
    inside = ordered[t] & (start <= x[t] + tol) & (x[t] < end - tol)
    last = ordered[t] & np.r_[t[1:] != t[:-1], True] & (x[t] >= end - tol)
    pick = inside | last
    lo, hi = seg.lo.copy(), seg.hi.copy()
    lo[t[pick]], hi[t[pick]] = start[pick], end[pick]
    return _restricted(model, seg, rows, feasibility_only, hint, method, gap, lo, hi, spend)


def _restricted(model: Model, seg: Segments, rows: list[Row], feasibility_only: bool, hint, method: str,
                gap: float, lo: np.ndarray, hi: np.ndarray, spend: float = 0.0) -> tuple[Solution, np.ndarray]:
    """The LP on the segments within [lo, hi] (breakpoints), its values mapped back onto all of `seg`'s."""
    fixed, keep, filled = seg.restrict(lo, hi)
    inner = solve(model, fixed, rows, feasibility_only, hint, method, gap, spend, in_order=False)
    out = np.where(filled, seg.width, 0.0)
    out[keep] = inner.values
    return inner, out


def solve_program(lp: LinearProgram, settings, mip_gap: float | None = None,
                  time_limit: float | None = None) -> LPResult:
    """Solve an LP (or MIP, when lp.integer marks binaries) built elsewhere as arrays (e.g. robust.py's CVaR LP)
    with the scenario's solver settings: values, and duals per LP row in minimisation form (zeros for a MIP).
    A MIP for the default HiGHS goes to it from the arrays too (`_solve_highs_mip`): a CVaR MIP has millions of
    nonzeros, which PuLP's objects would take a minute to build."""
    return _solve_lp(lp, settings, mip_gap, time_limit)


def _highs_model(lp: LinearProgram):
    """The LP (or MIP: lp.integer marks binaries) as HiGHS's own model, from its CSC arrays (min form)."""
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.num_col, lp.num_row
    model.col_cost_ = -lp.cost if lp.maximise else np.asarray(lp.cost, float)
    model.col_lower_, model.col_upper_ = np.zeros(lp.num_col), np.asarray(lp.col_upper, float)
    model.row_lower_, model.row_upper_ = np.asarray(lp.row_lower, float), np.asarray(lp.row_upper, float)
    model.offset_ = -lp.constant if lp.maximise else lp.constant
    if lp.integer is not None and lp.integer.any():
        model.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                              for b in lp.integer.tolist()]
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = lp.start, lp.index, lp.value
    return model


def _highs(lp: LinearProgram, settings, time_limit: float | None, options: dict) -> highspy.Highs:
    """A silent HiGHS holding the LP (or MIP), with these options and the time limit (the settings' if None)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in options.items():
        h.setOptionValue(key, value)
    limit = time_limit if time_limit is not None else settings.time_limit
    if limit is not None:
        h.setOptionValue("time_limit", float(limit))
    h.passModel(_highs_model(lp))
    return h


def _solve_highs_mip(lp: LinearProgram, settings, mip_gap: float, time_limit: float | None) -> LPResult:
    """A MIP (lp.integer marks binaries) straight from the CSC arrays into HiGHS: values, no duals (zeros), and the
    relative gap HiGHS certified (0 when proven optimal)."""
    started = time.perf_counter()
    h = _highs(lp, settings, time_limit, {"mip_rel_gap": float(mip_gap)})
    build = time.perf_counter() - started
    started = time.perf_counter()
    h.run()
    status, message = _highs_status(h)
    solution = h.getSolution()
    found = status.is_ok or (status is Status.TIME_LIMIT and solution.value_valid)
    values = np.asarray(solution.col_value, float) if found else np.zeros(lp.num_col)
    gap = float(h.getInfo().mip_gap) if found else float("nan")
    gap = (max(0.0, gap) if np.isfinite(gap) else 0.0) if status.is_ok else gap
    return LPResult(status, message, values, np.zeros(lp.num_row), build, time.perf_counter() - started, gap)


def _solve_lp(lp: LinearProgram, settings, mip_gap: float | None = None, time_limit: float | None = None) -> LPResult:
    """Solve one LP (or MIP, when lp.integer marks binaries): values, and duals per LP row (min form; zeros for a
    MIP). The default HiGHS takes the arrays as they are (one passModel call, no modelling objects); any other
    solver goes through PuLP."""
    integer = lp.integer is not None and bool(lp.integer.any())
    if settings.solver == DEFAULT_SOLVER and _HIGHS_AVAILABLE:
        if integer:
            return _solve_highs_mip(lp, settings, MIP_GAP if mip_gap is None else mip_gap, time_limit)
        return _solve_highs(lp, settings, time_limit)
    return _solve_pulp(lp, settings, mip_gap, time_limit)


try:
    import highspy

    _HIGHS_AVAILABLE = True
except ImportError:  # pragma: no cover - highspy is a dependency
    _HIGHS_AVAILABLE = False


def _swallow_highs_banner() -> None:
    """HiGHS prints its banner ("Running HiGHS ...") on stdout when a process makes its first Highs object, before
    any option (output_flag, log_to_console) can be set on it, and never again. Make that first object here, with
    file descriptor 1 pointed at the null device while it prints (and C's buffer flushed before it is pointed
    back), so that every later one, ours (output_flag off), PuLP's (msg=False) or the benchmark's, is silent and
    nothing but budgetopt's own output reaches stdout."""
    if not _HIGHS_AVAILABLE:
        return
    import ctypes
    import os
    import sys

    try:
        sys.stdout.flush()
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):  # no file descriptor 1 to protect
        highspy.Highs().setOptionValue("output_flag", False)
        return
    try:
        os.dup2(null, 1)
        highspy.Highs().setOptionValue("output_flag", False)
        try:
            ctypes.CDLL(None).fflush(None)
        except (OSError, AttributeError):  # no C library to flush through: the null device took it anyway
            pass
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


_swallow_highs_banner()


def _solve_highs(lp: LinearProgram, settings, time_limit: float | None = None) -> LPResult:
    """HiGHS straight from the CSC arrays (presolve off, see HIGHS_OPTIONS), once more at a relaxed primal
    tolerance when it calls the LP infeasible (RELAXED_TOLERANCE)."""
    started = time.perf_counter()
    h = _highs(lp, settings, time_limit, HIGHS_OPTIONS)
    build = time.perf_counter() - started
    started = time.perf_counter()
    h.run()
    status, message = _highs_status(h)
    if status is Status.INFEASIBLE:
        h.setOptionValue("primal_feasibility_tolerance", RELAXED_TOLERANCE)
        h.run()
        status, message = _highs_status(h)
    solution = h.getSolution()
    values = np.asarray(solution.col_value, float) if status.is_ok else np.zeros(lp.num_col)
    duals = np.asarray(solution.row_dual, float) if solution.dual_valid else np.zeros(lp.num_row)
    return LPResult(status, message, values, duals, build, time.perf_counter() - started)


def _highs_status(h) -> tuple[Status, str]:
    """HiGHS's model status as a Status."""
    code = h.getModelStatus()
    kind = highspy.HighsModelStatus
    if code == kind.kOptimal:
        return Status.OPTIMAL, "optimal"
    if code in (kind.kInfeasible, kind.kUnboundedOrInfeasible):
        return Status.INFEASIBLE, "no plan satisfies every rule"
    if code == kind.kUnbounded:
        return Status.UNBOUNDED, "the objective has no limit: a touchpoint can grow without a cap"
    if code == kind.kTimeLimit:
        return Status.TIME_LIMIT, "the solver stopped at its time limit before proving a plan optimal"
    return Status.ERROR, f"the solver did not finish: {h.modelStatusToString(code)}"


def _solve_pulp(lp: LinearProgram, settings, mip_gap: float | None = None,
                time_limit: float | None = None) -> LPResult:
    """Build the LP (or MIP, when lp.integer marks binaries) in PuLP from its arrays and solve it: values, and
    duals per LP row (min form; zeros for a MIP)."""
    started = time.perf_counter()
    pulp = _pulp()
    prob = pulp.LpProblem("budgetopt", pulp.LpMaximize if lp.maximise else pulp.LpMinimize)
    integer = np.zeros(lp.num_col, bool) if lp.integer is None else lp.integer
    variables = np.array([prob.add_variable(f"s{j}", 0.0, w if w < np.inf else None,
                                            pulp.LpInteger if b else pulp.LpContinuous)
                          for j, (w, b) in enumerate(zip(lp.col_upper.tolist(), integer.tolist(), strict=True))],
                         dtype=object)
    nz = np.flatnonzero(lp.cost)
    prob.setObjective(pulp.LpAffineExpression(zip(variables[nz].tolist(), lp.cost[nz].tolist(), strict=True),
                                              constant=lp.constant))
    constraints = []
    for r, (cols, vals) in enumerate(lp.rows()):
        lower, upper = lp.row_lower[r], lp.row_upper[r]
        sense, rhs = ((pulp.LpConstraintEQ, lower) if lower == upper else
                      (pulp.LpConstraintGE, lower) if upper == np.inf else (pulp.LpConstraintLE, upper))
        expr = pulp.LpAffineExpression(zip(variables[cols].tolist(), vals.tolist(), strict=True))
        name = f"r{lp.row_id[r]}" if r < len(lp.row_id) else f"order{r}"
        constraint = pulp.LpConstraint(expr, sense, name=name, rhs=float(rhs))
        prob.add(constraint)
        constraints.append(constraint)
    options = {}
    if integer.any():
        options = {"mip_rel_gap": mip_gap} if _highs_like(settings.solver) else {"gapRel": mip_gap}
    limit = time_limit if time_limit is not None else settings.time_limit
    solver = _make_solver(settings.solver, limit, **options)
    build = time.perf_counter() - started
    started = time.perf_counter()
    prob.solve(solver)
    status, message = _status(prob)
    if status is Status.INFEASIBLE and _highs_like(settings.solver):
        prob.solve(_make_solver(settings.solver, limit, primal_feasibility_tolerance=RELAXED_TOLERANCE, **options))
        status, message = _status(prob)
    solve_seconds = time.perf_counter() - started
    values = np.array([v.varValue or 0.0 for v in variables.tolist()], dtype=float)
    duals = np.array([0.0 if c.pi is None else float(c.pi) for c in constraints])
    if not _highs_like(settings.solver):
        duals = _to_min_form(duals, lp.maximise)
    gap = float("nan")
    if integer.any():
        duals = np.zeros(len(constraints))  # a MIP has none: prices come from the LP with the binaries fixed
        model = getattr(prob, "solverModel", None)
        gap = float(model.getInfo().mip_gap) if model is not None and hasattr(model, "getInfo") else (
            0.0 if status.is_ok else float("nan"))
        if status.is_ok:
            gap = max(0.0, gap) if np.isfinite(gap) else 0.0
    return LPResult(status, message, values, duals, build, solve_seconds, gap)


def _highs_like(name: str) -> bool:
    return name.upper().startswith("HIGHS")


def _to_min_form(duals: np.ndarray, maximise: bool) -> np.ndarray:
    """Other solvers report duals of the original sense; HiGHS (through PuLP) those of min(-objective)."""
    return -duals if maximise else duals


def _status(prob) -> tuple[Status, str]:
    """Map PuLP's status (and HiGHS's own, which tells a time limit apart) to Status."""
    pulp = _pulp()
    highs_status = None
    solver_model = getattr(prob, "solverModel", None)
    if solver_model is not None and hasattr(solver_model, "getModelStatus"):
        highs_status = solver_model.modelStatusToString(solver_model.getModelStatus())
    if highs_status and "time limit" in highs_status.lower():
        return Status.TIME_LIMIT, "the solver stopped at its time limit before proving a plan optimal"
    code = prob.status
    if code == pulp.LpStatusOptimal:
        return Status.OPTIMAL, "optimal"
    if code == pulp.LpStatusInfeasible:
        return Status.INFEASIBLE, "no plan satisfies every rule"
    if code == pulp.LpStatusUnbounded:
        return Status.UNBOUNDED, "the objective has no limit: a touchpoint can grow without a cap"
    return Status.ERROR, f"the solver did not finish: {pulp.LpStatus.get(code, code)} ({highs_status or ''})"
