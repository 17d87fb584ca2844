"""The touchpoint table: column names, kinds, ranges and defaults, in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Column names. Code refers to these constants, never to repeated string literals.
TOUCHPOINT = "touchpoint"
FUNCTION = "function"
CHANNEL = "channel"
STAGE = "stage"
SPEND = "spend"
ENGAGED = "engaged"
CPE = "cpe"
MIN_SPEND = "min_spend"
MAX_SPEND = "max_spend"
LOCKED = "locked"
MAX_CHANGE = "max_change"
CURVE = "curve"
ELASTICITY = "elasticity"
SATURATION = "saturation"
HALF_SATURATION = "half_saturation"
SHAPE = "shape"
CURVE_ENGAGED = "curve_engaged"
CARRYOVER = "carryover"
SPREAD = "spread"
"""How the planning period's money is spread over its weeks (or months): weights with mean 1, as text
('1.2 0.8 0 1.0 ...'); empty: evenly. The curve of the period is then mean_t E(S w_t) (E: the curve's columns)."""
SEASONALITY = "seasonality"
"""A plan over periods: the touchpoint's seasonality index in each period of the horizon, as text ('1.2 0.9 ...'):
how many customers the same money engages there against its curve (1: no season). Estimated from a history, or
given; empty: 1 in every period."""
CURVE_POINTS = "curve_points"
"""A tabulated curve as text: 'spend:engaged spend:engaged ...' (the response over the planning period at each
spend level); `curve` is then 'tabulated'."""
VALUE = "value"
CURVE_SOURCE = "curve_source"
OBSERVED_MAX = "observed_max_spend"
CURVE_BEYOND = "curve_beyond"
FIT_NUMBERS: tuple[str, ...] = ("fit_r2", "fit_r2_holdout", "fit_mape_holdout", "periods_with_spend",
                                "observed_spend_min", "observed_spend_max")
"""A fitted table's diagnostics that are numbers (fit_verdict and fit_reason stay text tags: rules may address
'fit_verdict: weak')."""

# Columns of an exported plan (plan.csv, the Plan sheet) that are not input columns: a plan read back as
# input maps PROPOSED_SPEND and PROPOSED_ENGAGED to spend and engaged and drops the rest.
PROPOSED_SPEND = "proposed_spend"
PROPOSED_ENGAGED = "proposed_engaged"
CURRENT_CPE = "current_cpe"
MARGINAL_CPE = "marginal_cpe"
UPPER_LIMIT = "upper_limit"
WHAT_IF = "what_if"
REMOVED, ADDED = "removed by the scenario", "added by the scenario"
"""what_if of a touchpoint a scenario removes (today as in the data, nothing in the plan) or adds."""
PLAN_ONLY: tuple[str, ...] = ("current_spend", PROPOSED_SPEND, "change", "change_pct", "current_engaged",
                              PROPOSED_ENGAGED, CURRENT_CPE, "proposed_cpe", MARGINAL_CPE, "lower_limit", UPPER_LIMIT,
                              WHAT_IF)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these runs as a formula in a spreadsheet; exports prefix it with an apostrophe."""
_FORMULA_CLASS = "[" + re.escape("".join(FORMULA_STARTS)) + "]"
GUARDED = "^'*" + _FORMULA_CLASS
"""Text that exports guard with one more leading apostrophe: a formula start, after any apostrophes."""
UNGUARD = "^'(?='*" + _FORMULA_CLASS + ")"
"""The apostrophe an import drops: one before guarded text, so that what was exported reads back exactly."""

STAGES: tuple[str, ...] = ("awareness", "consideration", "purchase", "retention", "advocacy")
CURVES: tuple[str, ...] = ("linear", "power", "saturating", "hill", "tabulated")
EXPLICIT_CURVES: tuple[str, ...] = ("saturating", "hill")
"""Curves that a row may give completely by its parameters (saturation and half_saturation, and shape for
hill) instead of anchoring them at today's point."""
CURVE_PARAMETERS: tuple[str, ...] = (CURVE, ELASTICITY, SATURATION, HALF_SATURATION, SHAPE, CURVE_ENGAGED)
"""A row with any of these says something about its curve (its curve_source defaults to `given`)."""
SHAPE_RANGE = (0.5, 6.0)
"""Range of a hill curve's shape (its exponent n)."""
CARRYOVER_RANGE = (0.0, 0.9)
"""Carry-over lam lies in [0, 0.9)."""
FITTED, TABULATED, GIVEN, ASSUMED = "fitted", "tabulated", "given", "assumed"
CURVE_SOURCES: tuple[str, ...] = (FITTED, TABULATED, GIVEN, ASSUMED)
"""Where a touchpoint's curve comes from. Evidence: `fitted` (to its history), `tabulated` (a model's response
curve). Assumption: `given` (a shape set in the data by a person), `assumed` (no curve in the data: the default)."""
EVIDENCE_SOURCES: tuple[str, ...] = (FITTED, TABULATED)

DEFAULT_CURVE = "power"
DEFAULT_ELASTICITY = 0.6
"""Engaged customers grow with spend^0.6 by default: +10 % money buys about +5.9 % engagement.
An assumption (one observed point says nothing about the shape); set `curve`/`elasticity` per row."""
DEFAULT_VALUE = 1.0
UNKNOWN_STAGE = "unassigned"

MAX_AMOUNT = 1e13
"""Largest amount of money or of customers budgetopt accepts (ten trillion): sums of such amounts still hold
cents exactly in floating point, and the solver's relative tolerance (1e-9) stays below one unit."""
MIN_CPE, MAX_CPE = 1e-6, 1e9
"""Supported costs per engaged customer, given or implied (spend / engaged). The solver weighs money against
customers through 1 / CPE: these bounds keep those weights within 15 orders of magnitude, which HiGHS
scales reliably; outside them a figure is almost always a unit mistake (thousands against single units)."""
MAX_CPE_SPREAD = 1e9
"""Largest ratio between the dearest and the cheapest cost per engaged customer in one table: with a wider
spread, HiGHS failed to finish on some min-spend problems (1 in 40 random tables with spreads up to 1e15)."""
MAX_FACTOR = 1e3
"""Largest multiplier, change (as a fraction) or value weight accepted: 1,000 x today."""


def supported(low: float, high: float) -> str:
    """A supported range in words: 'from 0 to 10,000,000,000,000'."""
    def shown(x: float) -> str:
        return f"{x:,.0f}" if x >= 1 or x == 0 else f"{x:.10f}".rstrip("0")
    return f"from {shown(low)} to {shown(high)}"


TRUE_WORDS = frozenset({"true", "yes", "y", "1", "x", "locked", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "", "f", "nan", "none"})


@dataclass(frozen=True)
class Column:
    """One column of the touchpoint table."""

    name: str
    kind: str  # "text", "number", "flag"
    required: bool
    meaning: str
    minimum: float | None = None


COLUMNS: tuple[Column, ...] = (
    Column(TOUCHPOINT, "text", True, "unique name of the touchpoint"),
    Column(FUNCTION, "text", True, "function that owns and pays for it (marketing, service, ...)"),
    Column(CHANNEL, "text", True, "medium (tv, search, e-mail, call centre, ...)"),
    Column(SPEND, "number", True, "money spent in the period", 0.0),
    Column(ENGAGED, "number", False, "customers engaged in the period (give this or cpe)", 0.0),
    Column(CPE, "number", False, "cost per engaged customer (give this or engaged)", 0.0),
    Column(STAGE, "text", False, "journey stage: " + ", ".join(STAGES)),
    Column(MIN_SPEND, "number", False, "floor on the touchpoint's spend", 0.0),
    Column(MAX_SPEND, "number", False, "cap on the touchpoint's spend", 0.0),
    Column(LOCKED, "flag", False, "true keeps today's spend unchanged"),
    Column(MAX_CHANGE, "number", False, "largest change against today, a fraction (0.3 = +/-30 %)", 0.0),
    Column(CURVE, "text", False, "response curve: " + ", ".join(CURVES)),
    Column(ELASTICITY, "number", False, "power curve exponent in (0, 1]", 0.0),
    Column(SATURATION, "number", False, "saturating or hill curve: the most customers it can ever engage", 0.0),
    Column(HALF_SATURATION, "number", False, "saturating or hill curve: spend at half of saturation", 0.0),
    Column(SHAPE, "number", False, "hill curve exponent in [0.5, 6] (above 1: S-shaped)", 0.0),
    Column(CURVE_ENGAGED, "number", False, "customers the curve engages at today's spend (default: engaged)", 0.0),
    Column(CARRYOVER, "number", False, "carry-over from one period to the next, in [0, 0.9)", 0.0),
    Column(SPREAD, "text", False, "how the period's money is spread over its weeks: weights, mean 1 (default: evenly)"),
    Column(SEASONALITY, "text", False, "plan over periods: seasonality index per period, e.g. '1.2 0.9' (default 1)"),
    Column(CURVE_POINTS, "text", False, "a tabulated curve: 'spend:engaged spend:engaged ...' (curve 'tabulated')"),
    Column(CURVE_BEYOND, "number", False, "a tabulated curve may be planned up to this multiple of its last point, "
           "continued there at its last slope (an assumption; default 1: not beyond its last point)", 0.0),
    Column(VALUE, "number", False, "weight of one engaged customer here (default 1)", 0.0),
    Column(CURVE_SOURCE, "text", False, "where the curve comes from: " + ", ".join(CURVE_SOURCES)),
    Column("fit_r2", "number", False, "fitted curve: R2 on the history", -float("inf")),
    Column("fit_r2_holdout", "number", False, "fitted curve: R2 on the held-out last 20 % of periods", -float("inf")),
    Column("fit_mape_holdout", "number", False, "fitted curve: mean absolute % error held out (a fraction)", 0.0),
    Column("periods_with_spend", "number", False, "fitted curve: periods of the history with spend", 0.0),
    Column("observed_spend_min", "number", False, "fitted curve: the least spend in one period with spend", 0.0),
    Column("observed_spend_max", "number", False, "fitted curve: the most spend in one period", 0.0),
    Column(OBSERVED_MAX, "number", False, "largest spend observed in the evidence, at the planning period's scale",
           0.0),
)
COLUMN_BY_NAME = {c.name: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)
NUMBER_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "number")
KNOWN = frozenset(COLUMN_BY_NAME)
PERCENT_COLUMNS = (MAX_CHANGE,)
"""Fractions that may also be written as percentages (30% = 0.3)."""
GROUP_COLUMNS = (FUNCTION, CHANNEL, STAGE)
"""Columns any group rule may address; tag columns (any other text column) may be used too."""
