"""Response curves: their families, fits from evidence, tabulated curves, and the piecewise-linear segments
the engine sees. The engine imports only `Curves` and `Segments` from here. LINEAR ... TABULATED are the
kind codes of `Curves.kind`; the family names of the fits are `families.FAMILIES`.

The fitting names (fit_curves, CurveFits, synthetic_history, fitted_table, ...) are imported when first used
(`__getattr__`): fitting needs scipy.optimize, which a plan on a touchpoint table never does."""

from __future__ import annotations

from ..lazy import lazy_names
from . import families
from .families import CARRYOVER_MAX, FAMILIES, SHAPE_MAX, SHAPE_MIN, adstock, adstock_rows, evaluate
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

_LAZY = {
    **dict.fromkeys(("GOOD", "NOT_IDENTIFIED", "VERDICTS", "WEAK", "CurveDraws", "CurveFits", "fit_curves",
                     "period_curve"), ".fit"),
    **dict.fromkeys(("SyntheticHistory", "synthetic_history"), ".simulate"),
    **dict.fromkeys(("DIAGNOSTICS", "fitted_table"), ".table"),
}
"""Names imported from their module when first used."""

__all__ = [
    "CARRYOVER_MAX", "DEFAULT_SEGMENTS", "DIAGNOSTICS", "FAMILIES", "GOOD", "HILL", "LINEAR", "NOT_IDENTIFIED",
    "POWER", "REFINE_STEPS", "SATURATING", "SHAPE_MAX", "SHAPE_MIN", "TABULATED", "VERDICTS", "WEAK",
    "CurveDraws", "CurveFits", "Curves", "Segments", "SyntheticHistory", "adstock", "adstock_rows", "evaluate",
    "families", "fit_curves", "fitted_table", "period_curve", "synthetic_history",
]


__getattr__, __dir__ = lazy_names(__name__, _LAZY, globals(), __all__)
