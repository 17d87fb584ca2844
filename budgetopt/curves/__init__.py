"""Response curves: their families, fits from evidence, tabulated curves, and the piecewise-linear segments
the engine sees. The engine imports only `Curves` and `Segments` from here. LINEAR ... TABULATED are the
kind codes of `Curves.kind`; the family names of the fits are `families.FAMILIES`."""

from . import families
from .families import CARRYOVER_MAX, FAMILIES, SHAPE_MAX, SHAPE_MIN, adstock, adstock_rows, evaluate
from .fit import GOOD, NOT_IDENTIFIED, VERDICTS, WEAK, CurveDraws, CurveFits, fit_curves, period_curve
from .segments import (
    DEFAULT_SEGMENTS,
    HILL,
    LINEAR,
    POWER,
    REFINE_STEPS,
    SATURATING,
    TABULATED,
    Curves,
    Segments,
)
from .simulate import SyntheticHistory, synthetic_history
from .table import DIAGNOSTICS, fitted_table

__all__ = [
    "CARRYOVER_MAX", "DEFAULT_SEGMENTS", "DIAGNOSTICS", "FAMILIES", "GOOD", "HILL", "LINEAR", "NOT_IDENTIFIED",
    "POWER", "REFINE_STEPS", "SATURATING", "SHAPE_MAX", "SHAPE_MIN", "TABULATED", "VERDICTS", "WEAK",
    "CurveDraws", "CurveFits", "Curves", "Segments", "SyntheticHistory", "adstock", "adstock_rows", "evaluate",
    "families", "fit_curves", "fitted_table", "period_curve", "synthetic_history",
]
