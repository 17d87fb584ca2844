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
from dataclasses import dataclass

import numpy as np

from .curves import Segments
from .decompose import GAP, segment_problem, solve_by_master
from .errors import SolverError
from .lp import LinearProgram, LPResult, Status, dot
from .model import Model, Row

warnings.filterwarnings("ignore", category=DeprecationWarning, module="pulp")
import pulp  # noqa: E402

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


def available_solvers() -> list[str]:
    """Names of the PuLP solvers usable on this machine."""
    return list(pulp.listSolvers(onlyAvailable=True))


def solver_versions() -> dict[str, str]:
    """Versions of the modelling layer and the default solver, for reports."""
    import importlib.metadata as md

    out = {"pulp": pulp.__version__ if hasattr(pulp, "__version__") else md.version("pulp")}
    try:
        out["highspy"] = md.version("highspy")
    except md.PackageNotFoundError:
        pass
    return out


class _HiGHSInOneCall(pulp.HiGHS):
    """PuLP's HiGHS solver, handing the model over in one passModel call instead of one addCol call per column
    and one addRow call per row (PuLP's documented way to change how a solver is called is a solver class)."""

    def buildSolverModel(self, lp):
        import highspy

        variables = lp.variables()
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        objective = lp.objective
        for i, var in enumerate(variables):
            var.index = i
        constraints = list(lp.constraints()) if callable(lp.constraints) else list(lp.constraints.values())
        rows, cols, vals = [], [], []
        for i, constraint in enumerate(constraints):
            constraint.index = i
            rows.extend([i] * len(constraint))
            cols.extend(var.index for var in constraint.keys())
            vals.extend(constraint.values())
        inf = highspy.kHighsInf
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = len(variables), len(constraints)
        model.col_cost_ = np.array([sign * objective.get(v, 0.0) for v in variables], dtype=float)
        model.col_lower_ = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
        model.col_upper_ = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
        model.row_lower_ = np.array([-inf if c.getLb() is None else c.getLb() for c in constraints], dtype=float)
        model.row_upper_ = np.array([inf if c.getUb() is None else c.getUb() for c in constraints], dtype=float)
        cols_a = np.asarray(cols, dtype=np.int32)
        order = np.argsort(cols_a, kind="stable")
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_ = np.searchsorted(cols_a[order], np.arange(len(variables) + 1)).astype(np.int32)
        model.a_matrix_.index_ = np.asarray(rows, dtype=np.int32)[order]
        model.a_matrix_.value_ = np.asarray(vals, dtype=float)[order]
        lp.solverModel.passModel(model)


HIGHS_OPTIONS = {"presolve": "off"}
"""HiGHS's presolve finds almost nothing to remove in these LPs (bounded columns, a few dense rows) yet spent
seconds on whole segment LPs of 1,000 touchpoints; the optimum and duals are the same without it."""
RELAXED_TOLERANCE = 1e-6
"""When HiGHS calls an LP infeasible at its default primal tolerance (1e-7), it is solved once more at
1e-6: a plan pinned to a single point (e.g. siloed with locks) can miss the default by rounding alone."""


def _make_solver(name: str, time_limit: float | None, **options):
    if name == DEFAULT_SOLVER and _HiGHSInOneCall().available():
        return _HiGHSInOneCall(msg=False, timeLimit=time_limit, **{**HIGHS_OPTIONS, **options})
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
          hint: np.ndarray | None = None, method: str = "auto", gap: float = GAP) -> Solution:
    """Solve the segment LP with PuLP (HiGHS by default) and return segment values and row duals.

    method: "direct" hands the whole segment LP to the solver; "decompose" solves it exactly through the
    master LP of decompose.py; "auto" picks the master for large LPs whose rows allow it. hint: row duals of
    a similar LP (the first pass), used to place the master's first blocks. gap: the master stops once its
    plan is certified within this relative gap of the segment LP's optimum."""
    settings = model.scenario.settings
    rows = model.rows if rows is None else rows
    started = time.perf_counter()
    problem = segment_problem(model, seg, rows, feasibility_only)
    if isinstance(problem, str):
        return Solution(Status.INFEASIBLE, problem, np.zeros(len(seg)), np.zeros(len(rows)), float("nan"),
                        len(seg), len(rows), time.perf_counter() - started, 0.0, settings.solver)
    n_rows = len(problem.row_id)
    if len(seg) == 0:  # nothing can move: every touchpoint is fixed
        return Solution(Status.OPTIMAL, "every touchpoint is fixed", np.zeros(0), np.zeros(len(rows)),
                        problem.constant, 0, n_rows, time.perf_counter() - started, 0.0, settings.solver)
    if method not in ("auto", "direct", "decompose"):
        raise ValueError(f"method must be 'auto', 'direct' or 'decompose', not '{method}'")
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


def _solve_lp(lp: LinearProgram, settings) -> LPResult:
    """Solve one LP: values, and duals per LP row (min form). The default HiGHS takes the arrays as they are
    (one passModel call, no modelling objects); any other solver gets the LP through PuLP."""
    if settings.solver == DEFAULT_SOLVER and _HIGHS_AVAILABLE:
        return _solve_highs(lp, settings)
    return _solve_pulp(lp, settings)


try:
    import highspy

    _HIGHS_AVAILABLE = True
except ImportError:  # pragma: no cover - highspy is a dependency
    _HIGHS_AVAILABLE = False


def _solve_highs(lp: LinearProgram, settings) -> LPResult:
    """HiGHS straight from the CSC arrays (presolve off, see HIGHS_OPTIONS), once more at a relaxed primal
    tolerance when it calls the LP infeasible (RELAXED_TOLERANCE)."""
    started = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in HIGHS_OPTIONS.items():
        h.setOptionValue(key, value)
    if settings.time_limit is not None:
        h.setOptionValue("time_limit", float(settings.time_limit))
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = lp.num_col, lp.num_row
    model.col_cost_ = -lp.cost if lp.maximise else np.asarray(lp.cost, float)
    model.col_lower_, model.col_upper_ = np.zeros(lp.num_col), np.asarray(lp.col_upper, float)
    model.row_lower_, model.row_upper_ = np.asarray(lp.row_lower, float), np.asarray(lp.row_upper, float)
    model.offset_ = -lp.constant if lp.maximise else lp.constant
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = lp.start, lp.index, lp.value
    h.passModel(model)
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


def _solve_pulp(lp: LinearProgram, settings) -> LPResult:
    """Build the LP in PuLP from its arrays and solve it: values, and duals per LP row (min form)."""
    started = time.perf_counter()
    prob = pulp.LpProblem("budgetopt", pulp.LpMaximize if lp.maximise else pulp.LpMinimize)
    variables = np.array([prob.add_variable(f"s{j}", 0.0, w if w < np.inf else None)
                          for j, w in enumerate(lp.col_upper.tolist())],
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
        constraint = pulp.LpConstraint(expr, sense, name=f"r{lp.row_id[r]}", rhs=float(rhs))
        prob.add(constraint)
        constraints.append(constraint)
    solver = _make_solver(settings.solver, settings.time_limit)
    build = time.perf_counter() - started
    started = time.perf_counter()
    prob.solve(solver)
    status, message = _status(prob)
    if status is Status.INFEASIBLE and _highs_like(settings.solver):
        prob.solve(_make_solver(settings.solver, settings.time_limit, primal_feasibility_tolerance=RELAXED_TOLERANCE))
        status, message = _status(prob)
    solve_seconds = time.perf_counter() - started
    values = np.array([v.varValue or 0.0 for v in variables.tolist()], dtype=float)
    duals = np.array([0.0 if c.pi is None else float(c.pi) for c in constraints])
    if not _highs_like(settings.solver):
        duals = _to_min_form(duals, lp.maximise)
    return LPResult(status, message, values, duals, build, solve_seconds)


def _highs_like(name: str) -> bool:
    return name.upper().startswith("HIGHS")


def _to_min_form(duals: np.ndarray, maximise: bool) -> np.ndarray:
    """Other solvers report duals of the original sense; HiGHS (through PuLP) those of min(-objective)."""
    return -duals if maximise else duals


def _status(prob) -> tuple[Status, str]:
    """Map PuLP's status (and HiGHS's own, which tells a time limit apart) to Status."""
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
