"""Response curves: their families, fits from evidence, tabulated curves, and the piecewise-linear segments
the engine sees. The engine imports only `Curves` and `Segments` from here."""

from .segments import DEFAULT_SEGMENTS, LINEAR, POWER, REFINE_STEPS, SATURATING, Curves, Segments

__all__ = ["DEFAULT_SEGMENTS", "LINEAR", "POWER", "REFINE_STEPS", "SATURATING", "Curves", "Segments"]
