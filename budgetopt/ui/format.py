"""Numbers for people: thousands separators, percentages with a sign, no 12-digit floats."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

NONE = "–"


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def money(x: float | None) -> str:
    """14045000.4 -> '14,045,000'; NaN -> '–'."""
    if _missing(x):
        return NONE
    if math.isinf(x):
        return "unlimited"
    return f"{x:,.0f}"


def short(x: float | None) -> str:
    """A headline figure that fits a card: 14045000 -> '14.05 M', 458300 -> '458 k', 9500 -> '9,500'."""
    if _missing(x) or math.isinf(x):
        return money(x)
    size = abs(x)
    for above, scale, unit, digits in ((1e9, 1e9, "bn", 2), (1e6, 1e6, "M", 2), (1e5, 1e3, "k", 0)):
        if size >= above:
            # whole units first (a solver's 14,044,999.999998 is 14,045,000), then half up: 14.045 M -> 14.05 M
            value = Decimal(round(x)) / Decimal(round(scale))
            return f"{value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP):,} {unit}"
    return money(x)


def count(x: float | None) -> str:
    """Customers: 2879400.6 -> '2,879,401'."""
    return money(x)


def cpe(x: float | None) -> str:
    """A cost per engaged customer: 4.8777 -> '4.88'."""
    if _missing(x):
        return NONE
    if math.isinf(x):
        return "unlimited"
    return f"{x:,.2f}"


def percent(x: float | None, digits: int = 1, signed: bool = False) -> str:
    """0.2897 -> '29.0 %' (signed: '+29.0 %'); a change that rounds to zero shows without a sign."""
    if _missing(x) or math.isinf(x):
        return NONE
    value = round(100 * x, digits)
    if value == 0:
        value = 0.0  # no '-0.0 %'
        signed = False
    return f"{value:{'+' if signed else ''},.{digits}f} %"
