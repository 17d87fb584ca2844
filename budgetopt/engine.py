"""The only module that imports pulp: builds the LP from a Model, solves it, maps status and duals back.

Columns are curve segments s_ik in [0, w_ik] (see curves.Segments). With spend x_i = lo_i + sum_k s_ik
and engaged e_i = base_i + sum_k g_ik s_ik, a row  sum_i a_ri x_i + b_ri e_i (sense) rhs_r  becomes
    sum_ik (a_ri + b_ri g_ik) s_ik  (sense)  rhs_r - sum_i (a_ri lo_i + b_ri base_i).
Objective: max sum_ik v_i g_ik s_ik (max_engaged, target_cpe) or min sum_ik s_ik (min_spend).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
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


def _make_solver(name: str, time_limit: float | None):
    try:
        options = HIGHS_OPTIONS if name == DEFAULT_SOLVER else {}
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


def solve(model: Model, seg: Segments, rows: list[Row] | None = None, feasibility_only: bool = False) -> Solution:
    """Build the LP with PuLP, solve it (HiGHS by default) and return values and duals."""
    settings = model.scenario.settings
    rows = model.rows if rows is None else rows
    started = time.perf_counter()
    sense = pulp.LpMaximize if model.maximise else pulp.LpMinimize
    prob = pulp.LpProblem("budgetopt", sense)
    width = seg.width
    variables = np.array([prob.add_variable(f"s{j}", 0.0, w) for j, w in enumerate(width.tolist())], dtype=object)
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
                                   started)
            continue
        expr = pulp.LpAffineExpression(zip(variables[nz].tolist(), coef[nz].tolist(), strict=True))
        constraint = pulp.LpConstraint(expr, pulp_sense[row.sense], name=f"r{r}", rhs=rhs)
        prob.add(constraint)
        kept.append((r, constraint))
    build = time.perf_counter() - started

    if len(seg) == 0:  # nothing can move: every touchpoint is fixed
        return Solution(Status.OPTIMAL, "every touchpoint is fixed", np.zeros(0), np.zeros(len(rows)), obj_const,
                        0, len(kept), build, 0.0, settings.solver)

    solver = _make_solver(settings.solver, settings.time_limit)
    started = time.perf_counter()
    prob.solve(solver)
    solve_seconds = time.perf_counter() - started
    status, message = _status(prob)
    values = np.array([v.varValue or 0.0 for v in variables.tolist()], dtype=float)
    duals = np.zeros(len(rows))
    for r, constraint in kept:
        pi = constraint.pi
        duals[r] = 0.0 if pi is None else float(pi)
    if not _highs_like(settings.solver):
        duals = _to_min_form(duals, model.maximise)
    objective = float(obj @ values + obj_const) if status.is_ok else float("nan")
    return Solution(status, message, values, duals, objective, len(seg), len(kept), build, solve_seconds,
                    settings.solver)


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
