"""budgetopt: reallocate an engagement budget across touchpoints and functions by cost per engaged customer."""

from .curves.tabulated import TabulatedCurves
from .engine import Status, available_solvers
from .errors import BudgetOptError, InputError, Problem, ScenarioError, SolverError
from .export import Provenance, plan_csv_bytes, plan_json_bytes, plan_xlsx_bytes
from .history import History, is_history
from .ingest import RawTable, to_touchpoints
from .io import export_plan, read_curves, read_history, read_mapping, read_table, read_touchpoints, replay, write_plan
from .mapping import apply_mapping, resolve_mapping, suggest_mapping
from .optimize import optimize
from .plan import Plan
from .scenario import Budget, Mode, Objective, Rule, Scenario, Settings
from .touchpoints import plan_as_input, validate_touchpoints

__version__ = "0.1.0"

__all__ = [
    "Budget", "BudgetOptError", "InputError", "Mode", "Objective", "Plan", "Problem", "Rule", "Scenario",
    "ScenarioError", "Settings", "SolverError", "Status", "available_solvers", "optimize", "read_touchpoints",
    "validate_touchpoints", "write_plan", "__version__",
    # export (issue 5)
    "Provenance", "export_plan", "plan_as_input", "plan_csv_bytes", "plan_json_bytes", "plan_xlsx_bytes", "replay",
    "RawTable", "apply_mapping", "read_mapping", "read_table", "resolve_mapping", "suggest_mapping", "to_touchpoints",
    # histories and tabulated curves (issue 11)
    "History", "TabulatedCurves", "is_history", "read_curves", "read_history",
]
