"""Numbers as people write them: decimal commas or points, thousands separators, currencies, percentages.

Each cell is read on its own where it is unambiguous (`1.234.567,89`, `1,234,567.89`, `0,5`, `12 000`).
A cell such as `1.234` or `1,234` could be either convention; it is read with the file's decimal
separator, which `decimal_separator` infers from the cells that are unambiguous.
Whole columns are parsed at once with pandas string methods (Python's `re`, linear-time patterns).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

TEXT = "string[python]"
"""String dtype for parsing: Python's `re` semantics whatever string storage pandas defaults to."""

_CURRENCY = (
    r"[€$£¥₹]|(?<![A-Za-z])(?:EUR|USD|GBP|CHF|JPY|CNY|INR|SEK|NOK|DKK|PLN|CZK|HUF|CAD|AUD|NZD|Fr\.)(?![A-Za-z])"
)
_SPACING = r"[\s\u00a0\u2009\u202f'’_]"  # spaces (incl. no-break and thin), Swiss apostrophes, underscores
_LEAD = r"[1-9][0-9]{0,2}"  # the first group of a number written with thousands separators
EITHER_WAY = re.compile(rf"-?{_LEAD}\.[0-9]{{3}}")
"""A float written like `1.234`, which a file with decimal commas would read as 1234."""

# Shapes of a number once sign, currency, spacing and percent are gone. Order matters: first match wins.
_SHAPES: tuple[tuple[str, str, str | None], ...] = (
    # name, pattern, the decimal separator this shape proves (None: proves nothing)
    ("integer", r"[0-9]+", None),
    ("point_or_thousands", rf"{_LEAD}\.[0-9]{{3}}", None),  # 1.234: 1.234 or 1234
    ("comma_or_thousands", rf"{_LEAD},[0-9]{{3}}", None),  # 1,234: 1234 or 1.234
    ("point_decimal", r"[0-9]*\.[0-9]+|[0-9]+\.|[0-9]+(?:\.[0-9]*)?[eE][+-]?[0-9]+", "."),
    ("comma_decimal", r"[0-9]*,[0-9]+|[0-9]+,", ","),
    ("comma_groups", rf"(?:{_LEAD}(?:,[0-9]{{3}})+|[1-9][0-9]?(?:,[0-9]{{2}})+,[0-9]{{3}})(?:\.[0-9]*)?", "."),
    ("point_groups", rf"{_LEAD}(?:\.[0-9]{{3}})+(?:,[0-9]*)?", ","),
)


_SHAPE = re.compile("^(?:" + "|".join(f"(?P<{name}>{pattern})" for name, pattern, _ in _SHAPES) + r")\Z")
_PARTS = re.compile(r"^(?P<open>\()?(?P<sign>[-−+])?(?P<core>.*?)(?P<trail>-)?(?P<close>\))?(?P<percent>%)?\Z")
"""(1,200) and 1.200,00- (SAP) are negative too."""


def _prepare(series: pd.Series) -> pd.DataFrame:
    """Split each cell into its bare number text, whether it is negative and whether it ends in %."""
    text = series.astype(TEXT).str.strip()
    text = text.str.replace(_CURRENCY, "", regex=True, case=False).str.replace(_SPACING, "", regex=True)
    parts = text.str.extract(_PARTS)
    has = parts.notna()
    minus = parts["sign"].isin(["-", "−"]).to_numpy(bool)
    valid = (has["open"] == has["close"]) & ~(has["sign"] & has["trail"])
    negative = has["open"].to_numpy() ^ (minus | has["trail"].to_numpy())
    return pd.DataFrame({"core": parts["core"].where(valid), "negative": negative,
                         "percent": has["percent"].to_numpy()}, index=series.index)


def _shape(core: pd.Series) -> pd.Series:
    """The name of each cell's shape (see _SHAPES), or <NA> when it is not a number."""
    hit = core.str.extract(_SHAPE).notna()
    return hit.idxmax(axis=1).astype(TEXT).where(hit.any(axis=1))


def decimal_separator(values: pd.DataFrame | pd.Series, default: str = ".") -> str:
    """The decimal separator ('.' or ',') that most unambiguous cells use; `default` when none shows it."""
    frame = values.to_frame() if isinstance(values, pd.Series) else values
    if frame.empty:
        return default
    cells = pd.Series(frame.to_numpy(dtype=object).ravel())  # numbers become text with a '.', truthfully
    shape = _shape(_prepare(cells)["core"])
    proof = shape.map({name: sep for name, _, sep in _SHAPES if sep}).value_counts()
    point, comma = int(proof.get(".", 0)), int(proof.get(",", 0))
    if point == comma:
        return default
    return "." if point > comma else ","


def ambiguous(series: pd.Series) -> pd.Series:
    """True where a cell reads differently with a decimal comma than with a decimal point (`1.234`, `1,234`)."""
    if pd.api.types.is_numeric_dtype(series):
        return pd.Series(False, index=series.index)
    shape = _shape(_prepare(series)["core"])
    return shape.isin(["point_or_thousands", "comma_or_thousands"]).fillna(False).astype(bool)


def parse_numbers(series: pd.Series, decimal: str | None = None, percent: bool = False) -> pd.Series:
    """Numbers as floats; text that is not a number becomes NaN (the caller reports it).

    `decimal` is the file's decimal separator for cells that could be read either way (default:
    inferred from this column). With `percent`, `30%` reads as 0.3; without, it is not a number.
    """
    if pd.api.types.is_bool_dtype(series):
        return pd.Series(np.nan, index=series.index)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    decimal = decimal or decimal_separator(series)
    parts = _prepare(series)
    core, shape = parts["core"], _shape(parts["core"])
    thousands = "," if decimal == "." else "."
    plain = core.where(~shape.isin(["comma_groups"]).fillna(False), core.str.replace(",", "", regex=False))
    plain = plain.mask(shape.eq("point_groups").fillna(False),
                       core.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    plain = plain.mask(shape.eq("comma_decimal").fillna(False), core.str.replace(",", ".", regex=False))
    either = shape.isin(["point_or_thousands", "comma_or_thousands"]).fillna(False)
    plain = plain.mask(either, core.str.replace(thousands, "", regex=False).str.replace(",", ".", regex=False))
    number = pd.to_numeric(plain.where(shape.notna()), errors="coerce").astype(float)
    number = number.where(~parts["negative"].to_numpy(), -number)
    if percent:
        number = number.where(~parts["percent"].to_numpy(), number / 100)
    else:
        number = number.where(~parts["percent"].to_numpy())
    return number.where(np.isfinite(number))


def plain_text(values: pd.Series) -> pd.Series:
    """Floats as text that `parse_numbers` reads back exactly under either decimal convention."""
    text = values.astype(float).astype(str).str.replace(r"\.0$", "", regex=True)
    text = text.str.replace(rf"^({EITHER_WAY.pattern})$", r"\g<1>0", regex=True)  # 1.234 -> 1.2340
    return text.where(values.notna(), "")
