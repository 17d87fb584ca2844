"""Numbers as people write them: decimal commas or points, thousands separators, currencies, percentages.

Each cell is read on its own where it is unambiguous (`1.234.567,89`, `1,234,567.89`, `0,5`, `12 000`).
A cell such as `1.234` or `1,234` could be either convention; it is read with the file's decimal
separator, which `decimal_separator` infers from the cells that are unambiguous.
Whole columns are parsed at once with pandas string methods (Python's `re`, linear-time patterns).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from .cells import (
    any_spaced_edge,
    arrow_cells,
    first_bytes,
    flags,
    held,
    last_bytes,
    made_of,
    matching,
    starting_with,
    take,
)
from .parallel import side_by_side

T = TypeVar("T")

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
_CODE = {name: code for code, (name, _, _) in enumerate(_SHAPES)}
_POINT_PROOF = [code for code, (_, _, sep) in enumerate(_SHAPES) if sep == "."]
_COMMA_PROOF = [code for code, (_, _, sep) in enumerate(_SHAPES) if sep == ","]
_EITHER_CODES = [_CODE["point_or_thousands"], _CODE["comma_or_thousands"]]
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


_PLAIN_NUMBER = r"-?(?:[0-9]{1,300}|[0-9]{0,300}\.[0-9]{1,300})%?"
_PLAIN_UNBOUNDED = r"-?(?:[0-9]+|[0-9]*\.[0-9]+)%?"
"""_PLAIN_NUMBER without its bounds, three times faster for Arrow's RE2; the same on cells of at most 300 characters
(`_plain` checks the longer ones with the bounds)."""
_PLAIN_EITHER = EITHER_WAY.pattern + "%?"
"""Most cells of a real file are plain numbers (`1200`, `-3.75`, `30%`): these patterns pick them out with
one vectorised match per column (plain ASCII classes: Python's `re` and Arrow's RE2 read them alike), so the
full reading by `_SHAPE` runs only on the few cells written some other way."""
_CODES = "|".join(re.findall(r"[A-Z]{3}|Fr\\\.", _CURRENCY))


def _text(series: pd.Series) -> pd.Series:
    """A column as strings for the vectorised matches (Arrow-backed where pandas has it, else Python)."""
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return series
    return series.astype(TEXT)


def _maybe_number(cells) -> np.ndarray:
    """False where a cell (Arrow strings) cannot be a number in any shape: four ASCII letters in a row (no currency
    code nor exponent has them: `Touchpoint 12`), blank or no digit 0-9, or an ASCII letter other than e/E that is
    not part of a currency code. Vectorised, so that a column of names never reaches the per-cell shapes."""
    import pyarrow.compute as pc

    maybe = ~_WORD_STARTS[first_bytes(cells)]  # `Touchpoint 12`, `Brand`: no number begins with these letters
    maybe &= ~matching(cells, "[A-Za-z]{4}", maybe)
    if not maybe.any():
        return maybe
    at = np.flatnonzero(maybe)
    some = cells if len(at) == len(cells) else take(cells, at)
    digit = flags(pc.match_substring_regex(some, "[0-9]"))
    letter = digit & flags(pc.match_substring_regex(some, "[A-DF-Za-df-z]"))
    if letter.any():
        where = np.flatnonzero(letter)
        letter[where[flags(pc.match_substring_regex(take(some, where), _CODES, ignore_case=True))]] = False
    maybe[at] = digit & ~letter
    return maybe


_WORD_STARTS = np.zeros(256, dtype=bool)
_WORD_STARTS[[ord(c) for c in string.ascii_letters if c.upper() not in {code[0] for code in _CODES.split("|")}]] = True
"""ASCII letters no number in any shape begins with: not a digit, sign, bracket or currency sign, and not the first
letter of a currency code (`EUR 12`; an exponent's `e` follows a digit)."""

_PLAIN_STARTS = b"0123456789-."
"""The first characters a plain number can have."""


@dataclass(frozen=True)
class _Lanes:
    """A column split into plain cells (read by one vectorised call) and the rest (read by `_SHAPE`)."""

    text: pd.Series
    """The cells, stripped."""
    integer: np.ndarray
    """Plain whole numbers (`1200`, `-3`, `30%`)."""
    point: np.ndarray
    """Plain decimals with a point (`-3.75`), ambiguous ones (`1.234`) included; see `either`."""
    either: np.ndarray
    percent: np.ndarray
    """Plain cells that end in %."""
    rest: np.ndarray
    """Cells that may be numbers in another shape (`1.234,5`, `€ 12 000`, `(1,200)`)."""
    floats: np.ndarray | None = None
    """Every cell's value, when every cell is plain without % (read with a decimal point)."""

    @property
    def plain(self) -> np.ndarray:
        """Plain cells whose value does not depend on the decimal separator."""
        return self.integer | (self.point & ~self.either)


_DIGITS_POINT_MINUS = b"0123456789.-"


def _all_plain(cells) -> np.ndarray | None:
    """Every cell's value when every cell is a plain number of digits, a point and a leading minus (`-3.75`, `.5`,
    `1200`), else None. Made of those bytes only and not ending in a point (`5.`), a cell is plain exactly when
    Arrow's cast reads it (it refuses `-`, `1-2`, `1..2`, a blank), and the cast is `_plain_floats`'s own; cells
    over 300 characters are left to the patterns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(cells) or cells.null_count or not made_of(cells, _DIGITS_POINT_MINUS):
        return None
    if (last_bytes(cells) == ord(".")).any() or pc.max(pc.binary_length(cells)).as_py() > 300:
        return None
    try:
        values = pc.cast(cells, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return np.array(values.to_numpy(zero_copy_only=False), dtype=float)


def _plain(cells) -> np.ndarray:
    """Where stripped cells (Arrow strings, or a column of them) match _PLAIN_NUMBER."""
    import pyarrow.compute as pc

    if isinstance(cells, pd.Series):
        cells = arrow_cells(cells)
    plain = matching(cells, f"^(?:{_PLAIN_UNBOUNDED})$", starting_with(cells, _PLAIN_STARTS))  # names: no pattern
    long = plain & flags(pc.greater(pc.binary_length(cells), 300))  # plain cells are ASCII: bytes = characters
    if long.any():
        where = np.flatnonzero(long)
        plain[where] = flags(pc.match_substring_regex(take(cells, where), f"^(?:{_PLAIN_NUMBER})$"))
    return plain


_MEMO: ContextVar[dict | None] = ContextVar("budgetopt_amounts_memo", default=None)


@contextmanager
def remembered() -> Iterator[None]:
    """Within it, a column's lanes and distinct cells are worked out once however often they are asked for (the
    conventions of a table, then its numbers): remembered by the identity of the column's Arrow array, which is
    immutable, so a changed column is a new array and is read anew. Forgotten on leaving."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _remember(kind: str, series: pd.Series, make: Callable[[], T]) -> T:
    """make(), or what it gave for the same Arrow array (and dtype) inside `remembered`."""
    memo = _MEMO.get()
    cells = held(series)
    if memo is None or cells is None:
        return make()
    known = memo.get((kind, id(cells), series.dtype))
    if known is not None and known[0] is cells:
        return known[1]
    value = make()
    _keep(kind, series, value)
    return value


def _keep(kind: str, series: pd.Series, value: object) -> None:
    """Inside `remembered`, remember `value` as the `kind` of this column (its Arrow array is held with it, so that
    its id cannot be reused meanwhile)."""
    memo = _MEMO.get()
    cells = held(series)
    if memo is not None and cells is not None:
        memo[(kind, id(cells), series.dtype)] = (cells, value)


def stripped(series: pd.Series) -> pd.Series:
    """The cells as text without surrounding whitespace, '' where blank (`str.strip().fillna("")`); inside
    `remembered`, worked out once per Arrow array, and a column that is itself such a result comes back as it is
    (stripping twice changes nothing)."""
    result = _remember("stripped", series, lambda: _strip(series))
    already_stripped(result)
    return result if result.index is series.index or result.index.equals(series.index) else \
        result.set_axis(series.index)


def _strip(series: pd.Series) -> pd.Series:
    cells = held(series)
    if _text(series) is series and cells is not None and not cells.null_count and not any_spaced_edge(cells):
        return series  # no cell begins or ends with a byte of whitespace: stripping changes nothing
    return _text(series).str.strip().fillna("")


def already_stripped(series: pd.Series) -> None:
    """Inside `remembered`, say that a column's cells are stripped already (rows cut from a `stripped` column), so
    that `stripped` gives it back as it is instead of stripping it again."""
    cells = held(series)
    if cells is not None and not cells.null_count:
        _keep("stripped", series, series)


def _frozen(values: np.ndarray) -> np.ndarray:
    values.setflags(write=False)
    return values


def _lanes(series: pd.Series) -> _Lanes:
    return _remember("lanes", series, lambda: _read_lanes(series))


def _read_lanes(series: pd.Series) -> _Lanes:
    import pyarrow.compute as pc

    text = stripped(series)
    cells = arrow_cells(text)
    floats = _all_plain(cells)  # a column of plain numbers: one cast, no pattern
    plain = np.ones(len(text), dtype=bool) if floats is not None else _plain(cells)
    none = np.zeros(len(text), dtype=bool)
    point = either = percent = none
    if plain.any():
        dot = np.asarray(pc.fill_null(pc.find_substring(cells, "."), -1).to_numpy(zero_copy_only=False))
        point = plain & (dot >= 0)
        percent = plain & flags(pc.ends_with(cells, "%")) if floats is None else none  # plain floats hold no %
        if point.any():  # `1.234`: the pattern reads only plain cells with 3 digits after the point (ASCII)
            decimals = np.asarray(pc.binary_length(cells).to_numpy(zero_copy_only=False)) - dot - 1 - percent
            maybe = np.flatnonzero(point & (decimals == 3) & (dot >= 1) & (dot <= 4))
            either = none.copy()
            if len(maybe):
                either[maybe] = flags(pc.match_substring_regex(take(cells, maybe), f"^(?:{_PLAIN_EITHER})$"))
    rest = ~plain
    if plain.any() and rest.any():  # the others only: most cells of a number column are plain
        rest[rest] = _maybe_number(take(cells, np.flatnonzero(rest)))
    elif rest.any():
        rest = _maybe_number(cells)
    return _Lanes(text, *map(_frozen, (plain & ~point, point, either, percent, rest)),
                  floats=None if floats is None else _frozen(floats))


def distinct(series: pd.Series) -> tuple[np.ndarray | None, pd.Series]:
    """(codes, distinct cells) when a column repeats its cells enough to read each distinct cell once
    (`Department`, `Stage`, `30%`), else (None, the column); inside `remembered`, worked out once per column."""
    codes, cells = _remember("distinct", series, lambda: _read_distinct(series))
    return codes, (series if codes is None else cells)


_HEAD = 2048
"""The first cells of a long column that `_read_distinct` looks at first."""


def _read_distinct(series: pd.Series) -> tuple[np.ndarray | None, pd.Series | None]:
    if len(series) < 64:
        return None, None
    if len(series) >= 4 * _HEAD:
        count, head = _distinct_head(series)
        if count > _HEAD // 2:
            return None, None  # its first cells hardly repeat: names, amounts (not worth factorising it all)
        if head is not None and (found := _codes_in(series, head)) is not None:
            return found
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    if len(uniques) > len(series) // 4:
        return None, None
    return _frozen(codes), pd.Series(uniques, dtype=series.dtype)


def _distinct_head(series: pd.Series) -> tuple[int, object]:
    """How many distinct cells the column's first _HEAD have (a missing cell counts once), and, for a column of Arrow
    text without missing cells, those cells as an Arrow array in the order they first appear (Arrow's hashing)."""
    import pyarrow.compute as pc

    cells = held(series)
    if cells is None or cells.null_count or not isinstance(series.array, pd.arrays.ArrowStringArray):
        return int(series.iloc[:_HEAD].nunique(dropna=False)), None
    head = pc.unique(cells.slice(0, _HEAD))
    return len(head), head


def _codes_in(series: pd.Series, head) -> tuple[np.ndarray, pd.Series] | None:
    """`pd.factorize(series)` of a column of Arrow text whose first cells' distinct ones are `head` (in the order they
    first appear), when every cell is one of them (then that is also their order in the whole column): each cell
    looked up among them, quicker than hashing the column anew. None when a cell is not among them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.index_in(held(series), value_set=head)
    if found.null_count:
        return None
    parts = [chunk.to_numpy() for chunk in found.chunks]
    codes = np.concatenate(parts).astype(np.intp) if parts else np.zeros(0, dtype=np.intp)
    distinct = pd.arrays.ArrowStringArray(pa.chunked_array([head], head.type), dtype=series.dtype)
    return _frozen(codes), pd.Series(distinct, copy=False)


def _shapes(series: pd.Series) -> np.ndarray:
    """Each cell's shape, as its position in _SHAPES (-1: not a number): plain cells by vectorised matches, the
    rest by `_SHAPE`;
    a column that repeats its cells is read once per distinct cell."""
    codes, distinct_cells = distinct(series)
    if codes is not None:
        return _shapes_of(distinct_cells)[codes]
    return _shapes_of(series)


def _shapes_of(series: pd.Series) -> np.ndarray:
    lanes = _lanes(series)
    shape = np.full(len(series), -1, dtype=np.int8)
    shape[lanes.integer] = _CODE["integer"]
    shape[lanes.point & ~lanes.either] = _CODE["point_decimal"]
    shape[lanes.either] = _CODE["point_or_thousands"]
    if lanes.rest.any():
        shape[lanes.rest] = _shape(_prepare(series[lanes.rest])["core"]).map(_CODE).fillna(-1).to_numpy(np.int8)
    return shape


def decimal_separator(values: pd.DataFrame | pd.Series, default: str = ".") -> str:
    """The decimal separator ('.' or ',') that most unambiguous cells use; `default` when none shows it."""
    frame = values.to_frame() if isinstance(values, pd.Series) else values
    if frame.empty:
        return default
    point = comma = 0
    for i in range(frame.shape[1]):  # column by column: each keeps its own string storage
        column = frame.iloc[:, i]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue  # typed numbers have no convention
        if pd.api.types.is_object_dtype(column):
            column = column.astype(str).where(column.notna(), "")  # numbers become text with a '.', truthfully
        p, c = _proof(_shapes(column))
        point, comma = point + p, comma + c
    return _decide(point, comma, default)


def _proof(shape: np.ndarray) -> tuple[int, int]:
    """How many cells prove a decimal point, and how many a decimal comma (shape codes, see `_CODE`)."""
    return (sum(int(np.count_nonzero(shape == code)) for code in _POINT_PROOF),
            sum(int(np.count_nonzero(shape == code)) for code in _COMMA_PROOF))


def _either(shape: np.ndarray) -> np.ndarray:
    """Where a cell's shape reads either way (shape codes, see `_CODE`)."""
    return (shape == _EITHER_CODES[0]) | (shape == _EITHER_CODES[1])


def _decide(point: int, comma: int, default: str) -> str:
    if point == comma:
        return default
    return "." if point > comma else ","


def read_conventions(frame: pd.DataFrame, default: str = ".") -> tuple[str, np.ndarray]:
    """For a table of text cells, in one reading of each column: the decimal separator its unambiguous cells
    use (`decimal_separator`) and where its cells could be read either way (`ambiguous`, rows x columns)."""
    point = comma = 0
    either = np.zeros(frame.shape, dtype=bool, order="F")  # written a column at a time
    columns = [frame.iloc[:, i] for i in range(frame.shape[1])]
    columns = [c.astype(str).where(c.notna(), "") if pd.api.types.is_object_dtype(c) else c for c in columns]
    for i, shape in enumerate(side_by_side(_shapes, columns)):
        p, c = _proof(shape)
        point, comma = point + p, comma + c
        either[:, i] = _either(shape)
    return _decide(point, comma, default), either


def ambiguous(series: pd.Series) -> pd.Series:
    """True where a cell reads differently with a decimal comma than with a decimal point (`1.234`, `1,234`)."""
    if pd.api.types.is_numeric_dtype(series):
        return pd.Series(False, index=series.index)
    return pd.Series(_either(_shapes(series)), index=series.index)


def parse_numbers(series: pd.Series, decimal: str | None = None, percent: bool = False,
                  overflow: bool = False) -> pd.Series:
    """Numbers as floats; text that is not a number becomes NaN (the caller reports it).

    `decimal` is the file's decimal separator for cells that could be read either way (default:
    inferred from this column). With `percent`, `30%` reads as 0.3; without, it is not a number.
    A number written out that no float can hold (`1e400`, 400 digits) is NaN too, or +/-inf with
    `overflow`, so that a caller can say it is too large rather than not a number.
    Plain cells (`1200`, `-3.75`) are read in one vectorised call; only the others go through the shapes.
    """
    if pd.api.types.is_bool_dtype(series):
        return pd.Series(np.nan, index=series.index)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    decimal = decimal or decimal_separator(series)
    codes, distinct_cells = distinct(series)
    if codes is not None:
        values = parse_numbers(distinct_cells, decimal, percent, overflow).to_numpy(float)
        return pd.Series(values[codes], index=series.index)
    lanes = _lanes(series)
    plain = lanes.plain | lanes.either  # `1.234`: 1.234 with a decimal point, 1234 (its point dropped) with a comma
    number = np.full(len(series), np.nan)
    if lanes.floats is not None and not (decimal == "," and lanes.either.any()):
        number = lanes.floats.copy()  # every cell plain, read as they are
    elif plain.any():
        cells = lanes.text[plain]
        cut = lanes.percent[plain]
        if cut.any():
            cells = cells.str.rstrip("%")
        if decimal == "," and lanes.either.any():
            grouped = lanes.either[plain]
            cells = cells.where(~grouped, cells.str.replace(".", "", regex=False))
        values = _plain_floats(cells)
        if cut.any():
            values[cut] = values[cut] / 100 if percent else np.nan
        number[plain] = values
    rest = lanes.rest
    if rest.any():
        number[rest] = _parse_shapes(series[rest], decimal, percent).to_numpy(float)
    out = pd.Series(number, index=series.index)
    return out if overflow else out.where(np.isfinite(out))


def _plain_floats(cells: pd.Series) -> np.ndarray:
    """Cells of digits with a sign and a point at most (`-3.75`, `1234`, `.5`) as the nearest float, as Python's
    `float` reads them (+/-inf past the largest float), by one Arrow cast (pandas' `to_numeric` goes cell by cell)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(pa.array(cells.array), pa.float64()).to_numpy(zero_copy_only=False).copy()


def _parse_shapes(series: pd.Series, decimal: str, percent: bool) -> pd.Series:
    """parse_numbers for cells that are not plain: every shape of _SHAPES, signs, currencies, percentages."""
    parts = _prepare(series)
    core, shape = parts["core"], _shape(parts["core"])
    thousands = "," if decimal == "." else "."
    plain = core.where(~shape.isin(["comma_groups"]).fillna(False), core.str.replace(",", "", regex=False))
    plain = plain.mask(shape.eq("point_groups").fillna(False),
                       core.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    plain = plain.mask(shape.eq("comma_decimal").fillna(False), core.str.replace(",", ".", regex=False))
    either = shape.isin(["point_or_thousands", "comma_or_thousands"]).fillna(False)
    plain = plain.mask(either, core.str.replace(thousands, "", regex=False).str.replace(",", ".", regex=False))
    with np.errstate(over="ignore"):
        number = pd.to_numeric(plain.where(shape.notna()).astype(object), errors="coerce").astype(float)
    number = number.where(~parts["negative"].to_numpy(), -number)
    if percent:
        return number.where(~parts["percent"].to_numpy(), number / 100)
    return number.where(~parts["percent"].to_numpy())


def plain_text(values: pd.Series) -> pd.Series:
    """Floats as text that `parse_numbers` reads back exactly under either decimal convention."""
    text = values.astype(float).astype(str).str.replace(r"\.0$", "", regex=True)
    text = text.str.replace(rf"^({EITHER_WAY.pattern})$", r"\g<1>0", regex=True)  # 1.234 -> 1.2340
    return text.where(values.notna(), "")
