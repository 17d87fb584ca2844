"""budgetopt: reallocate an engagement budget across touchpoints and functions by cost per engaged customer.

The public API below is imported when first used (a module-level `__getattr__`), so that a command imports
only what it needs: `import budgetopt` itself loads the optimiser and its models, not file export, history
fitting or Excel. `optimize` is imported at once: it is also the name of a submodule, which would otherwise
shadow the function once any module imported `budgetopt.optimize`."""

from __future__ import annotations

from .lazy import lazy_names
from .optimize import optimize

__version__ = "0.1.0"

_LAZY = {
    **dict.fromkeys(("TabulatedCurves",), ".curves.tabulated"),
    **dict.fromkeys(("Status", "available_solvers"), ".engine"),
    **dict.fromkeys(("BudgetOptError", "InputError", "Problem", "ScenarioError", "SolverError"), ".errors"),
    **dict.fromkeys(("Provenance", "plan_csv_bytes", "plan_json_bytes", "plan_xlsx_bytes"), ".export"),
    **dict.fromkeys(("History", "is_history"), ".history"),
    **dict.fromkeys(("RawTable", "to_touchpoints"), ".ingest"),
    **dict.fromkeys(("export_plan", "read_curves", "read_history", "read_mapping", "read_table", "read_touchpoints",
                     "replay", "write_plan"), ".io"),
    **dict.fromkeys(("apply_mapping", "resolve_mapping", "suggest_mapping"), ".mapping"),
    **dict.fromkeys(("Plan",), ".plan"),
    **dict.fromkeys(("Budget", "Mode", "Objective", "Rule", "Scenario", "Settings"), ".scenario"),
    **dict.fromkeys(("plan_as_input", "validate_touchpoints"), ".touchpoints"),
}
"""Public names and the module each is imported from when first used."""

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


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals(), __all__)
