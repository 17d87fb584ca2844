"""The only module that imports pulp: builds the LP from a Model, solves it, maps status and duals back.

Columns are curve segments s_ik in [0, w_ik] (see curves.Segments). With spend x_i = lo_i + sum_k s_ik
and engaged e_i = base_i + sum_k g_ik s_ik, a row  sum_i a_ri x_i + b_ri e_i (sense) rhs_r  becomes
    sum_ik (a_ri + b_ri g_ik) s_ik  (sense)  rhs_r - sum_i (a_ri lo_i + b_ri base_i).
Objective: max sum_ik v_i g_ik s_ik (max_engaged, target_cpe) or min sum_ik s_ik (min_spend).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from .curves import Segments
from .errors import SolverError
from .model import EQ, GE, LE, Model, Row

warnings.filterwarnings("ignore", category=DeprecationWarning, module="pulp")
import pulp  # noqa: E402

DEFAULT_SOLVER = "HiGHS"
_TOL = 1e-7
HIGHS_OPTIONS = {"presolve": "off"}
"""HiGHS's presolve finds almost nothing to remove in these LPs (one bounded column per curve segment and a
few dense rows) yet spent 4 s per solve on 1,000 touchpoints (15,000 columns, one budget row); without it
the same solve takes about 0.2 s with the same optimum and duals (measured with highspy 1.15)."""


class Status(StrEnum):
    """What the solver said, as a result to report rather than an exception to raise."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ERROR = "error"

    @property
    def is_ok(self) -> bool:
        """True when the plan can be used."""
        return self is Status.OPTIMAL


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


RELAXED_TOLERANCE = 1e-6
"""When HiGHS calls an LP infeasible at its default primal tolerance (1e-7), it is solved once more at
1e-6: a plan pinned to a single point (e.g. siloed with locks) can miss the default by rounding alone."""


def _make_solver(name: str, time_limit: float | None, **options):
    try:
        options = {**(HIGHS_OPTIONS if name == DEFAULT_SOLVER else {}), **options}
        solver = pulp.getSolver(name, msg=False, timeLimit=time_limit, **options)
    except Exception as exc:  # pulp raises PulpSolverError with its own words
        raise SolverError(f"unknown solver '{name}'; available here: {', '.join(available_solvers())}") from exc
    if not solver.available():
        raise SolverError(f"solver '{name}' is not available; install it (for HiGHS: pip install highspy) "
                          f"or pick one of: {', '.join(available_solvers())}")
    return solver


def row_coefficients(row: Row, seg: Segments) -> tuple[np.ndarray, float]:
    """Coefficient of every segment in the row, and the constant the bounds contribute."""
    t = seg.touchpoint
    coef = row.a[t] + row.b[t] * seg.slope
    const = float(row.a @ seg.lo + row.b @ seg.base_engaged)
    return coef, const


def objective_coefficients(model: Model, seg: Segments) -> tuple[np.ndarray, float]:
    """Objective coefficient of every segment and the constant part."""
    if model.maximise:
        return model.weight[seg.touchpoint] * seg.slope, float(model.weight @ seg.base_engaged)
    return np.ones(len(seg)), float(seg.lo.sum())


def solve(model: Model, seg: Segments, rows: list[Row] | None = None, feasibility_only: bool = False,
          lower: np.ndarray | None = None, upper: np.ndarray | None = None) -> Solution:
    """Build the LP with PuLP, solve it (HiGHS by default) and return values and duals.

    `lower`/`upper` override the segment bounds [0, width] (a segment fixed full or empty moves a
    touchpoint's floor or cap while keeping the same piecewise curve)."""
    return _solve(model, seg, rows, feasibility_only, lower, upper)[0]


def _solve(model: Model, seg: Segments, rows: list[Row] | None, feasibility_only: bool,
           lower: np.ndarray | None, upper: np.ndarray | None):
    settings = model.scenario.settings
    rows = model.rows if rows is None else rows
    started = time.perf_counter()
    sense = pulp.LpMaximize if model.maximise else pulp.LpMinimize
    prob = pulp.LpProblem("budgetopt", sense)
    low = np.zeros(len(seg)) if lower is None else lower
    high = seg.width if upper is None else upper
    variables = np.array([prob.add_variable(f"s{j}", a, b) for j, (a, b) in
                          enumerate(zip(low.tolist(), high.tolist(), strict=True))], dtype=object)
    obj, obj_const = objective_coefficients(model, seg)
    if feasibility_only:
        obj = np.zeros(len(seg))
    nz = np.flatnonzero(obj)
    terms = zip(variables[nz].tolist(), obj[nz].tolist(), strict=True)
    prob.setObjective(pulp.LpAffineExpression(terms, constant=obj_const))

    pulp_sense = {GE: pulp.LpConstraintGE, LE: pulp.LpConstraintLE, EQ: pulp.LpConstraintEQ}
    kept: list[tuple[int, object]] = []
    for r, row in enumerate(rows):
        coef, const = row_coefficients(row, seg)
        nz = np.flatnonzero(np.abs(coef) > 1e-12)
        rhs = row.rhs - const
        if len(nz) == 0:
            if _violated(0.0, row.sense, rhs, scale=max(1.0, abs(row.rhs))):
                return _infeasible(model, seg, rows, f"rule '{row.label}' cannot hold: nothing it covers can move",
                                   started), None, kept, None
            continue
        expr = pulp.LpAffineExpression(zip(variables[nz].tolist(), coef[nz].tolist(), strict=True))
        constraint = pulp.LpConstraint(expr, pulp_sense[row.sense], name=f"r{r}", rhs=rhs)
        prob.add(constraint)
        kept.append((r, constraint))
    build = time.perf_counter() - started

    if len(seg) == 0:  # nothing can move: every touchpoint is fixed
        return Solution(Status.OPTIMAL, "every touchpoint is fixed", np.zeros(0), np.zeros(len(rows)), obj_const,
                        0, len(kept), build, 0.0, settings.solver), None, kept, None

    solver = _make_solver(settings.solver, settings.time_limit)
    started = time.perf_counter()
    prob.solve(solver)
    status, message = _status(prob)
    if status is Status.INFEASIBLE and _highs_like(settings.solver):
        prob.solve(_make_solver(settings.solver, settings.time_limit,
                                primal_feasibility_tolerance=RELAXED_TOLERANCE))
        status, message = _status(prob)
    solve_seconds = time.perf_counter() - started
    values = np.array([v.varValue or 0.0 for v in variables.tolist()], dtype=float)
    duals = np.zeros(len(rows))
    for r, constraint in kept:
        pi = constraint.pi
        duals[r] = 0.0 if pi is None else float(pi)
    if not _highs_like(settings.solver):
        duals = _to_min_form(duals, model.maximise)
    objective = float(obj @ values + obj_const) if status.is_ok else float("nan")
    solution = Solution(status, message, values, duals, objective, len(seg), len(kept), build, solve_seconds,
                        settings.solver)
    return solution, prob, kept, variables


def sweep(model: Model, seg: Segments, row_name: str, rhs_values: list[float],
          progress: Callable[[int, int], None] | None = None) -> list[Solution]:
    """Solve the same LP for each right-hand side of one row (e.g. the budget), in order.

    With HiGHS the model is built once and each step changes the row's bound and re-solves from the
    previous basis (a warm start); other solvers rebuild the LP each step."""
    index = next(r for r, row in enumerate(model.rows) if row.name == row_name)
    row = model.rows[index]
    out: list[Solution] = []
    if not _highs_like(model.scenario.settings.solver):
        for k, rhs in enumerate(rhs_values):
            rows = list(model.rows)
            rows[index] = replace(row, rhs=float(rhs))
            out.append(solve(model, seg, rows=rows))
            if progress:
                progress(k + 1, len(rhs_values))
        return out
    first_rows = list(model.rows)
    first_rows[index] = replace(row, rhs=float(rhs_values[0]))
    solution, prob, kept, variables = _solve(model, seg, first_rows, False, None, None)
    out.append(solution)
    if progress:
        progress(1, len(rhs_values))
    highs = getattr(prob, "solverModel", None)
    position = next((k for k, (r, _) in enumerate(kept) if r == index), None)
    obj, obj_const = objective_coefficients(model, seg)
    _, const = row_coefficients(row, seg)
    order = np.array([v.index for v in variables.tolist()], dtype=int) if variables is not None else None
    for k, rhs in enumerate(rhs_values[1:], start=2):
        if highs is None or position is None or order is None:
            rows = list(model.rows)
            rows[index] = replace(row, rhs=float(rhs))
            out.append(solve(model, seg, rows=rows))
        else:
            bound = float(rhs) - const
            low = bound if row.sense in (GE, EQ) else -highspy_inf()
            high = bound if row.sense in (LE, EQ) else highspy_inf()
            started = time.perf_counter()
            highs.changeRowBounds(position, low, high)
            highs.run()
            seconds = time.perf_counter() - started
            status = _highs_status(highs)
            result = highs.getSolution()
            values = np.asarray(result.col_value, dtype=float)[order]
            duals = np.zeros(len(model.rows))
            row_duals = np.asarray(result.row_dual, dtype=float)
            for j, (r, _) in enumerate(kept):
                duals[r] = row_duals[j]
            objective = float(obj @ values + obj_const) if status.is_ok else float("nan")
            out.append(Solution(status, status.value, values, duals, objective, len(seg), len(kept), 0.0, seconds,
                                model.scenario.settings.solver))
        if progress:
            progress(k, len(rhs_values))
    return out


def highspy_inf() -> float:
    """HiGHS's infinity."""
    import highspy

    return highspy.kHighsInf


def _highs_status(highs) -> Status:
    text = highs.modelStatusToString(highs.getModelStatus()).lower()
    if text == "optimal":
        return Status.OPTIMAL
    if "infeasible" in text:
        return Status.INFEASIBLE
    if "unbounded" in text:
        return Status.UNBOUNDED
    if "time limit" in text:
        return Status.TIME_LIMIT
    return Status.ERROR


def _highs_like(name: str) -> bool:
    return name.upper().startswith("HIGHS")


def _to_min_form(duals: np.ndarray, maximise: bool) -> np.ndarray:
    """Other solvers report duals of the original sense; HiGHS (through PuLP) those of min(-objective)."""
    return -duals if maximise else duals


def _violated(lhs: float, sense: str, rhs: float, scale: float) -> bool:
    tol = 1e-9 * scale
    return (sense == GE and lhs < rhs - tol) or (sense == LE and lhs > rhs + tol) or (
        sense == EQ and abs(lhs - rhs) > tol)


def _infeasible(model: Model, seg: Segments, rows: list[Row], message: str, started: float) -> Solution:
    return Solution(Status.INFEASIBLE, message, np.zeros(len(seg)), np.zeros(len(rows)), float("nan"),
                    len(seg), len(rows), time.perf_counter() - started, 0.0, model.scenario.settings.solver)


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
