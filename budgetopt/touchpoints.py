"""Validate a raw touchpoint table and turn it into the clean table the engine uses.

Every problem is collected and reported at once (pandera's lazy validation), each naming
the row as the user sees it in their file, the column, the value and the fix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import schema as S
from .amounts import decimal_separator, parse_numbers, stripped
from .amounts import distinct as _remembered_distinct
from .cells import held, holds, made_of, nonempty, starting_with
from .curves import families
from .curves import text as curve_text
from .errors import InputError, Problem


def _blank(series: pd.Series) -> pd.Series:
    if _arrow(series) is None:
        return series.isna() | _stripped(series).eq("").astype(bool)
    codes, distinct = _remembered_distinct(series)  # a missing cell is '' once stripped
    blank = pc.equal(_arrow(_stripped(distinct)), "").to_numpy(zero_copy_only=False)
    return pd.Series(blank if codes is None else blank[codes], index=series.index, copy=False)


def _text(series: pd.Series) -> pd.Series:
    """A column as strings: as it is when it already holds strings (no copy), else converted."""
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return series
    return series.astype("string")


def _stripped(series: pd.Series) -> pd.Series:
    """`_text(series).str.strip().fillna("")`; a column of strings through amounts.stripped, which works it out
    once per Arrow array while a file is read (the table's locating has mostly done it already)."""
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return stripped(series)
    return _text(series).str.strip().fillna("")


def _arrow(series: pd.Series) -> pa.ChunkedArray | None:
    """The Arrow array under a column of text in pandas' Arrow string storage (what a file read holds), else None."""
    cells = held(series)
    if cells is None or not (pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type)):
        return None
    return cells


class _Words:
    """A text column as codes into its words, each check done once per word: a column of a few distinct texts
    (curve, stage, locked, curve_source) costs a lookup per row, not a string operation per row."""

    def __init__(self, codes: np.ndarray, words: np.ndarray, index: pd.Index):
        self.codes, self.words, self.index = codes, words, index

    @classmethod
    def of(cls, series: pd.Series, text: Callable[[pd.Series], pd.Series], index: pd.Index) -> _Words:
        """`text(series)` (a cell-by-cell string operation), worked out once per distinct cell of an Arrow text
        column (distinct by their exact text), else on every cell."""
        found = _distinct_cells(series)
        codes, done = (np.arange(len(series)), text(series)) if found is None else (found[0], text(found[1]))
        return cls(codes, done.to_numpy(object), index)

    @classmethod
    def constant(cls, word: str, index: pd.Index) -> _Words:
        return cls(np.broadcast_to(np.intp(0), (len(index),)), np.array([word], dtype=object), index)

    def __len__(self) -> int:
        return len(self.codes)

    def eq(self, word: str) -> np.ndarray:
        return np.asarray(self.words == word, dtype=bool)[self.codes]

    def ne(self, word: str) -> np.ndarray:
        return ~self.eq(word)

    def isin(self, words: Collection[str]) -> np.ndarray:
        return pd.Series(self.words, dtype=object).isin(list(words)).to_numpy(bool)[self.codes]

    def replace(self, word: str, by: str) -> _Words:
        words = self.words.copy()
        words[words == word] = by
        return _Words(self.codes, words, self.index)

    def where(self, keep: pd.Series | np.ndarray, other: str | _Words) -> _Words:
        """This word where `keep`, else `other` (a word, or another column's word)."""
        keep = np.asarray(keep, dtype=bool)
        if not isinstance(other, _Words):
            words = np.append(self.words, np.array([other], dtype=object))
            return _Words(np.where(keep, self.codes, len(self.words)), words, self.index)
        codes = np.where(keep, self.codes, other.codes + len(self.words))
        return _Words(codes, np.concatenate([self.words, other.words]), self.index)

    def objects(self) -> pd.Series:
        """The column as Python strings (object dtype), each distinct word one string object."""
        return pd.Series(self.words[self.codes], index=self.index, dtype=object, copy=False)


class _Collector:
    """Collects problems with user-visible row numbers."""

    def __init__(self, rows: np.ndarray, source: str | None):
        self.rows = rows
        self.source = source
        self.problems: list[Problem] = []

    def rows_where(self, mask: pd.Series, column: str | None, values: pd.Series | None, message: str, fix: str):
        for pos in np.flatnonzero(np.asarray(mask, dtype=bool)):
            value = None if values is None else values.iloc[pos]
            if isinstance(value, float) and np.isnan(value):
                value = ""
            self.problems.append(Problem(int(self.rows[pos]), column, value, message, fix, self.source))

    def table(self, column: str | None, value: object, message: str, fix: str):
        self.problems.append(Problem(None, column, value, message, fix, self.source))


_UNGUARD = re.compile(S.UNGUARD)


def _header(name: object) -> str:
    return str(name).strip().lower().replace(" ", "_")


PLAN_SHEET_HEADERS = {"engaged_today": "current_engaged", "engaged_planned": S.PROPOSED_ENGAGED,
                      "average_cpe_today": S.CURRENT_CPE, "average_cpe_planned": "proposed_cpe",
                      "change_%": "change_pct", "lowest_allowed_spend": "lower_limit",
                      "highest_allowed_spend": S.UPPER_LIMIT}
"""The plan workbook's Plan sheet headers (export.LABEL, as _header writes them) that are not plan.csv's."""


def plan_as_input(raw: pd.DataFrame) -> pd.DataFrame:
    """Read what budgetopt exports (plan.csv, the workbook's Inputs sheet) as input; other tables pass unchanged.

    - The apostrophe the export puts before text starting with =, +, -, @, tab or CR (the formula guard) is
      dropped, in cells and headers: `'=HYPERLINK(...)` reads back as the name `=HYPERLINK(...)`.
    - The stage 'unassigned' (what a plan shows for no stage) reads as no stage.
    - A table with `proposed_spend` and no `spend` is a plan, read as the next period's today: proposed
      spend and engagement become `spend` and `engaged`, the plan's other figures are dropped. A touchpoint
      the plan switched off keeps a cost per engaged customer (today's average, else its marginal CPE) and
      a cap (the plan's upper limit), which a touchpoint without spend needs.
    """
    out = raw.copy()
    for i in range(out.shape[1]):  # by position: headers may repeat (reported by the caller)
        column = out.iloc[:, i]
        if not (column.dtype == object or pd.api.types.is_string_dtype(column)):
            continue
        arrow = _arrow(column)
        if arrow is not None and (not holds(arrow, b"'") or not starting_with(arrow, b"'").any()):
            continue  # a quick look at Arrow's buffers: no cell starts with an apostrophe
        cells = column.astype("string")
        guarded = cells.str.startswith("'").fillna(False).astype(bool)  # a quick look first: few cells are guarded
        if guarded.any():
            guarded &= cells.str.contains(_UNGUARD).fillna(False).astype(bool)
        if guarded.any():
            out.isetitem(i, column.where(~guarded, cells.str.slice(1).astype(object)))
    out.columns = [_UNGUARD.sub("", _header(c)) for c in out.columns]
    if S.PROPOSED_SPEND in out.columns and S.SPEND not in out.columns:  # the workbook's Plan sheet: its headers
        out.columns = [PLAN_SHEET_HEADERS.get(c, c) for c in out.columns]
    if S.STAGE in out.columns and not out.columns.duplicated().any() and _says_unassigned(out[S.STAGE]):
        stage = out[S.STAGE].astype("string").str.strip().str.lower()
        out[S.STAGE] = out[S.STAGE].where(stage.ne(S.UNKNOWN_STAGE).fillna(True), "")
    if S.PROPOSED_SPEND not in out.columns or S.SPEND in out.columns or out.columns.duplicated().any():
        return out
    spend = parse_numbers(out[S.PROPOSED_SPEND])
    off = spend.eq(0)
    if off.any():
        cost = pd.Series(np.nan, index=out.index)
        for source in (S.CURRENT_CPE, S.MARGINAL_CPE):
            if source in out.columns:
                cost = cost.fillna(parse_numbers(out[source]).where(lambda v: (v > 0) & np.isfinite(v)))
        cpe = out[S.CPE] if S.CPE in out.columns else pd.Series("", index=out.index, dtype=object)
        out[S.CPE] = cpe.where(~(off & _blank(cpe)), cost)
        if S.UPPER_LIMIT in out.columns:
            cap = out[S.MAX_SPEND] if S.MAX_SPEND in out.columns else pd.Series("", index=out.index, dtype=object)
            out[S.MAX_SPEND] = cap.where(~(off & _blank(cap)), out[S.UPPER_LIMIT])
    renamed = out.rename(columns={S.PROPOSED_SPEND: S.SPEND, S.PROPOSED_ENGAGED: S.ENGAGED})
    return renamed.drop(columns=[c for c in S.PLAN_ONLY if c in renamed.columns])


def _says_unassigned(stage: pd.Series) -> bool:
    """Whether some stage cell reads 'unassigned': a quick look at the distinct cells of an Arrow text column (the
    same kernels as the pandas calls of plan_as_input); True for another column."""
    found = _distinct_cells(stage)
    if found is None:
        return True
    text = pc.utf8_lower(pc.utf8_trim_whitespace(_arrow(found[1])))
    return bool(pc.any(pc.equal(text, S.UNKNOWN_STAGE)).as_py())


def validate_touchpoints(
    raw: pd.DataFrame,
    source: str | None = None,
    rows: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Check a raw table and return the clean touchpoint table, or raise InputError listing every problem.

    `rows` gives the row number the user sees for each data row (default: header on row 1,
    so the first data row is row 2).
    """
    raw = plan_as_input(raw)
    raw.columns = [_header(c) for c in raw.columns]
    row_numbers = np.asarray(rows if rows is not None else np.arange(len(raw)) + 2)
    out = _Collector(row_numbers, source)

    if raw.columns.duplicated().any():
        for name in sorted(set(raw.columns[raw.columns.duplicated()])):
            out.table(name, None, "the column appears twice", "keep one column of that name")
        raise InputError(out.problems, source)

    missing = [c for c in S.REQUIRED if c not in raw.columns]
    either = f"{S.ENGAGED} or {S.CPE}"
    if S.ENGAGED not in raw.columns and S.CPE not in raw.columns:
        missing.append(either)
    for name in missing:
        close = difflib.get_close_matches(name.split(" ")[0], list(raw.columns), n=1)
        hint = f"; the closest header found is '{close[0]}'" if close else ""
        wanted = f"'{S.ENGAGED}' or '{S.CPE}'" if name == either else f"'{name}'"
        out.table(name, None, "required column is missing", f"add a column named {wanted}{hint}")
    if len(raw) == 0:
        out.table(None, None, "the table has no data rows", "add one row per touchpoint")
    if out.problems:
        raise InputError(out.problems, source)

    index = pd.RangeIndex(len(raw))
    columns: dict[str, object] = {}  # the clean table's columns, made a table at the end
    notices: list[str] = []
    names = _stripped(raw[S.TOUCHPOINT])
    arrow = _arrow(names)
    columns[S.TOUCHPOINT] = names.astype(object) if arrow is None else pd.Series(
        arrow.to_numpy(zero_copy_only=False), index=names.index, dtype=object, copy=False)
    empty = {S.TOUCHPOINT: names.eq("").to_numpy(bool) if arrow is None else ~nonempty(arrow)}
    for name in (S.FUNCTION, S.CHANNEL):
        columns[name], empty[name] = _fold_column(raw[name], name, notices)
    for name in (S.TOUCHPOINT, S.FUNCTION, S.CHANNEL):
        out.rows_where(empty[name], name, None, f"is empty: every touchpoint needs {_NEEDS[name]}",
                       f"enter the {_NEEDS[name].split(' (')[0].removeprefix('a ')} of this touchpoint")
    dup = _used_twice(_key_of_stripped(names)) & ~empty[S.TOUCHPOINT]
    out.rows_where(dup, S.TOUCHPOINT, columns[S.TOUCHPOINT], "the touchpoint name is used more than once",
                   "give each touchpoint a unique name")

    numbers: dict[str, np.ndarray] = {}  # each number column read, NaN where empty or out of range
    unreadable = np.zeros(len(raw), dtype=bool)  # rows with a number that could not be read
    decimal = raw.attrs.get("decimal") or decimal_separator(raw[[c for c in S.NUMBER_COLUMNS if c in raw.columns]])
    absent = np.full(len(raw), np.nan)  # one array for every number column the table has not: read only
    absent.setflags(write=False)
    for name in S.NUMBER_COLUMNS:
        if name not in raw.columns:
            numbers[name] = absent
            continue
        value = parse_numbers(raw[name], decimal, percent=name in S.PERCENT_COLUMNS, overflow=True)
        v = value.to_numpy(float)
        bad = np.isnan(v)
        if bad.any():  # a cell that is not a number reads as NaN: only then is there one to find
            bad &= ~_blank(raw[name]).to_numpy(bool)
        high, low = _HIGHEST.get(name, S.MAX_AMOUNT), S.COLUMN_BY_NAME[name].minimum
        huge = np.abs(v) > high
        if name in (S.ENGAGED, S.CPE):
            unreadable |= bad | huge
        out.rows_where(bad, name, raw[name], "is not a number", "write a plain number such as 1200.50")
        out.rows_where(huge, name, raw[name], f"is too large: the supported range is {S.supported(0, high)}"
                       + _WHY.get(name, " (money and customers)"),
                       "check the unit (write money in currency units, customers one by one) and the digits")
        out.rows_where((v < low) & ~huge, name, raw[name], "is negative", "use zero or a positive number")
        numbers[name] = np.where((v >= low) & ~huge, v, np.nan)

    if S.CURVE in raw.columns:
        curve = _Words.of(raw[S.CURVE], lambda c: c.astype("string").str.strip().str.lower().fillna(""), index)
        given_curve = curve.ne("")
        curve = curve.replace("", S.DEFAULT_CURVE)
        out.rows_where(~curve.isin(S.CURVES), S.CURVE, raw[S.CURVE], "is not a known curve",
                       "use one of: " + ", ".join(S.CURVES))
    else:
        curve = _Words.constant(S.DEFAULT_CURVE, index)
        given_curve = np.zeros(len(raw), dtype=bool)
    # saturating with a half-saturation, and hill, are given by their parameters, not anchored at today's point
    explicit = curve.eq("hill") | (curve.eq("saturating") & ~np.isnan(numbers[S.HALF_SATURATION])) | curve.eq(
        "tabulated")

    s, cpe = numbers[S.SPEND], numbers[S.CPE]
    out.rows_where(_blank(raw[S.SPEND]), S.SPEND, None, "is empty", "enter today's spend (0 for a new touchpoint)")
    has_engaged = S.ENGAGED in raw.columns
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # NaN compares False, as in pandas
        engaged = numbers[S.ENGAGED]
        engaged = np.where(np.isnan(engaged), s / np.where(cpe > 0, cpe, np.nan), engaged)  # else spend / cpe
        no_basis = np.isnan(engaged) & np.isnan(cpe) & ~np.isnan(s) & ~unreadable
        out.rows_where(no_basis & (s > 0), S.ENGAGED if has_engaged else S.CPE, None, "is empty",
                       "enter the customers engaged (or the cost per engaged customer)")
        out.rows_where((s > 0) & (engaged <= 0), S.ENGAGED if has_engaged else S.CPE,
                       raw[S.ENGAGED] if has_engaged else raw[S.CPE],
                       "a touchpoint with spend must engage someone",
                       "enter the customers it engages, or set its spend to 0")
        out.rows_where(cpe == 0, S.CPE, raw[S.CPE] if S.CPE in raw.columns else None,
                       "a cost per engaged customer of 0 is impossible", "enter a positive cost per engaged customer")
        implied = s / np.where(engaged > 0, engaged, np.nan)
        if has_engaged and S.CPE in raw.columns:
            clash = ~np.isnan(cpe) & ~np.isnan(implied) & (np.abs(implied - cpe) > 0.01 * cpe)
            out.rows_where(clash, S.CPE, raw[S.CPE], "disagrees with spend / engaged by more than 1 %",
                           "correct it or leave one of 'engaged' and 'cpe' empty")
        # Unit cost of a touchpoint with no spend today comes from `cpe`.
        unit_cost = np.where(s > 0, implied, np.nan)
        unit_cost = np.where(np.isnan(unit_cost), cpe, unit_cost)
        new = s == 0
        out.rows_where(new & np.isnan(cpe) & ~(engaged > 0) & ~explicit, S.CPE, None,
                       "a touchpoint with no spend today needs its cost per engaged customer",
                       "enter 'cpe' for this row")
        cpe_given = ~np.isnan(cpe) & (cpe > 0)
        odd = ~np.isnan(unit_cost) & ((unit_cost < S.MIN_CPE) | (unit_cost > S.MAX_CPE))
        priced = np.where(~odd & (unit_cost > 0), unit_cost, np.nan)
    out.rows_where(odd & cpe_given, S.CPE, raw.get(S.CPE),
                   f"is outside the supported range of costs per engaged customer, {S.supported(S.MIN_CPE, S.MAX_CPE)}",
                   "check its unit: money per single customer")
    from_ratio = odd & ~cpe_given  # the few rows shown as "spend / engaged", formatted alone
    shown = None
    if from_ratio.any():
        shown = pd.Series(np.nan, index=index, dtype=object)
        shown[from_ratio] = (pd.Series(s)[from_ratio].astype(str) + " / "
                             + pd.Series(engaged)[from_ratio].astype(str))
    out.rows_where(from_ratio, S.ENGAGED if has_engaged else S.SPEND, shown,
                   "gives a cost per engaged customer (spend / engaged) outside the supported range, "
                   f"{S.supported(S.MIN_CPE, S.MAX_CPE)}",
                   "check that spend and engaged are in the same units (money in currency units, customers one by "
                   "one, not thousands)")
    if (~np.isnan(priced)).sum() >= 2 and np.nanmax(priced) > S.MAX_CPE_SPREAD * np.nanmin(priced):
        cheap, dear = int(np.nanargmin(priced)), int(np.nanargmax(priced))
        out.table(S.CPE, f"{priced[cheap]:.6g} (row {row_numbers[cheap]}) and {priced[dear]:.6g} (row "
                  f"{row_numbers[dear]})", f"the costs per engaged customer (spend / engaged) differ by more than "
                  f"a factor of {S.MAX_CPE_SPREAD:,.0f}, more than the solver handles reliably",
                  "check the units of these rows (money in currency units, customers one by one), or plan such "
                  "different touchpoints in separate files")
    # Engaged customers without spend and without a price: free engagement the plan cannot buy more of.
    free = new & (engaged > 0) & np.isnan(cpe) & ~odd

    columns[S.SPEND] = s
    columns[S.ENGAGED] = np.where(~new, engaged, 0.0)
    columns["unit_cost"] = unit_cost
    columns[S.MIN_SPEND] = numbers[S.MIN_SPEND]
    columns[S.MAX_SPEND] = numbers[S.MAX_SPEND]
    lo, hi = numbers[S.MIN_SPEND], numbers[S.MAX_SPEND]
    with np.errstate(invalid="ignore"):
        out.rows_where(lo > hi, S.MIN_SPEND, raw.get(S.MIN_SPEND), "is above max_spend",
                       "lower min_spend or raise max_spend")
        out.rows_where(s < lo, S.SPEND, raw[S.SPEND], "is below this row's min_spend",
                       "lower min_spend to today's spend or below")
        out.rows_where(s > hi, S.SPEND, raw[S.SPEND], "is above this row's max_spend",
                       "raise max_spend to today's spend or above")
    out.rows_where(new & np.isnan(hi) & ~free, S.MAX_SPEND, None,
                   "a touchpoint with no spend today needs a cap to grow into",
                   "enter max_spend (the most it could usefully take)")

    if S.STAGE in raw.columns:
        stage = _Words.of(raw[S.STAGE], lambda c: _text(c).str.strip().str.lower().fillna(""), index)
        unknown = ~stage.isin(S.STAGES) & stage.ne("")
        out.rows_where(unknown, S.STAGE, raw[S.STAGE], "is not a known stage",
                       "use one of: " + ", ".join(S.STAGES))
        columns[S.STAGE] = stage.replace("", S.UNKNOWN_STAGE).objects()
    else:
        columns[S.STAGE] = S.UNKNOWN_STAGE

    if S.LOCKED in raw.columns:
        flag = _Words.of(raw[S.LOCKED], lambda c: _text(c).str.strip().str.lower().fillna(""), index)
        bad = ~flag.isin(S.TRUE_WORDS | S.FALSE_WORDS)
        out.rows_where(bad, S.LOCKED, raw[S.LOCKED], "is not true or false", "write true, false, yes or no")
        columns[S.LOCKED] = flag.isin(S.TRUE_WORDS)
    else:
        columns[S.LOCKED] = False

    columns[S.MAX_CHANGE] = numbers[S.MAX_CHANGE]

    described = given_curve.copy()
    for name in (S.ELASTICITY, S.SATURATION, S.HALF_SATURATION, S.SHAPE, S.CURVE_ENGAGED):
        described |= ~np.isnan(numbers[name])
    origin = _Words(described.astype(np.intp), np.array([S.ASSUMED, S.GIVEN], dtype=object), index)
    stated = _Words.constant("", index)
    if S.CURVE_SOURCE in raw.columns:
        stated = _Words.of(raw[S.CURVE_SOURCE], lambda c: c.astype("string").str.strip().str.lower().fillna(""),
                           index)
        out.rows_where(~stated.isin(S.CURVE_SOURCES) & stated.ne(""), S.CURVE_SOURCE, raw[S.CURVE_SOURCE],
                       "is not a known curve source", "use one of: " + ", ".join(S.CURVE_SOURCES))
        origin = origin.where(stated.eq(""), stated)
    # a new touchpoint's cpe is given, unless its curve is stated or given by its parameters
    columns[S.CURVE_SOURCE] = origin.where(~new | explicit | stated.ne(""), S.GIVEN).objects()
    columns[S.OBSERVED_MAX] = numbers[S.OBSERVED_MAX]
    if S.CURVE_BEYOND in raw.columns:  # how far a tabulated curve goes on beyond its last point
        beyond = numbers[S.CURVE_BEYOND]
        with np.errstate(invalid="ignore"):
            below, above = beyond < 1, beyond > 1
        out.rows_where(below, S.CURVE_BEYOND, raw[S.CURVE_BEYOND], "is below 1",
                       "write 1 (not beyond the curve's last point) or more, e.g. 1.5")
        out.rows_where(above & curve.ne("tabulated"), S.CURVE_BEYOND, raw[S.CURVE_BEYOND],
                       "applies to tabulated curves only",
                       "leave it empty: other curves go beyond their evidence by the extrapolation guard "
                       "(a rule's max_extrapolation)")
        columns[S.CURVE_BEYOND] = np.where(below, np.nan, beyond)
    for name in S.FIT_NUMBERS:
        if name in raw.columns:
            columns[name] = numbers[name]
    curve = curve.where(~new | explicit, "linear")  # one point at zero spend defines only a constant cost
    columns[S.CURVE] = curve.objects()

    elasticity = numbers[S.ELASTICITY]
    with np.errstate(invalid="ignore"):
        out.rows_where(~np.isnan(elasticity) & ((elasticity <= 0) | (elasticity > 1)), S.ELASTICITY,
                       raw.get(S.ELASTICITY), "must be above 0 and at most 1",
                       "use e.g. 0.6 (1 means no diminishing returns)")
    columns[S.ELASTICITY] = np.where(np.isnan(elasticity), S.DEFAULT_ELASTICITY, elasticity)
    _curve_columns(raw, numbers, curve, explicit, engaged, columns, out)
    value = numbers[S.VALUE]
    out.rows_where(value == 0, S.VALUE, raw.get(S.VALUE), "a value of 0 makes the touchpoint worthless",
                   "use a positive weight (1 = an ordinary engaged customer)")
    columns[S.VALUE] = np.where(np.isnan(value), S.DEFAULT_VALUE, value)

    tags = {tag: _fold_column(raw[tag], tag, notices)[0] for tag in [c for c in raw.columns if c not in S.KNOWN]}
    for name, values in columns.items():  # the table is the caller's to change: no column on the shared array
        if getattr(values, "dtype", None) == np.float64 and np.may_share_memory(np.asarray(values), absent):
            columns[name] = np.array(values)
    if tags and not set(tags) & set(columns):  # each tag cell points at one of its column's few texts
        columns.update(tags)
        tags = {}
    clean = pd.DataFrame(columns, index=index, copy=False)
    if tags:  # a tag named as a column of the clean table (unit_cost): both kept, as in the file
        clean = pd.concat([clean, pd.DataFrame(tags, index=index, dtype=object)], axis=1)

    if out.problems:
        out.problems.sort(key=lambda p: (p.row if p.row is not None else -1))
        raise InputError(out.problems, source)
    if free.any():
        customers = pd.Series(engaged)[free].sum()
        shown_rows = ", ".join(map(str, row_numbers[free][:10])) + (", ..." if free.sum() > 10 else "")
        notices.append(f"left out {int(free.sum()):,} row{'s' if free.sum() > 1 else ''} with engaged customers but "
                       f"no spend (row{'s' if free.sum() > 1 else ''} {shown_rows}; "
                       f"{customers:,.0f} engaged customers in all): what costs nothing cannot be bought "
                       "more of, so these are not in today's figures nor in the plan. Give such a row its spend, or "
                       "a cpe and a max_spend to plan it as a new touchpoint")
        clean = clean.loc[~free].reset_index(drop=True)
        if clean.empty:
            raise InputError([Problem(None, S.SPEND, None, "no row has spend: every touchpoint engages its customers "
                                      "for free", "enter today's spend of each touchpoint", source)], source,
                             notices=notices)
    clean.attrs["notices"] = notices
    return clean


def _curve_columns(raw: pd.DataFrame, numbers: dict[str, np.ndarray], curve: _Words, by_parameters: np.ndarray,
                   engaged: np.ndarray, columns: dict[str, object], out: _Collector) -> None:
    """Check saturation, half_saturation, shape, curve_engaged and carryover; add them to the clean table's
    columns.

    curve_engaged defaults to `engaged` (power and anchored saturating curves pass through (spend,
    curve_engaged)); for a curve given by its parameters it is the curve's value at today's spend, and a
    given curve_engaged must agree with that within 1 %.
    """
    sat, k, n, ge, s, lam = (numbers[name] for name in (S.SATURATION, S.HALF_SATURATION, S.SHAPE, S.CURVE_ENGAGED,
                                                        S.SPEND, S.CARRYOVER))
    is_hill, is_sat = curve.eq("hill"), curve.eq("saturating")
    with np.errstate(invalid="ignore"):  # NaN compares False, as in pandas
        out.rows_where(is_sat & np.isnan(sat), S.SATURATION, None,
                       "a saturating curve needs its saturation level", "enter the most customers it could ever engage")
        for name, values, fix in ((S.SATURATION, sat, "enter the most customers it could ever engage"),
                                  (S.HALF_SATURATION, k, "enter the spend at which it engages half of saturation"),
                                  (S.SHAPE, n, "enter its exponent, e.g. 2 for an S-curve (1: no S)")):
            out.rows_where(is_hill & np.isnan(values), name, None,
                           "a hill curve needs saturation, half_saturation and shape", fix)
        anchored_sat = is_sat & ~by_parameters
        above = ~np.isnan(ge)
        if S.CURVE_ENGAGED in raw.columns:
            out.rows_where(anchored_sat & above & ~np.isnan(sat) & (sat <= ge), S.SATURATION,
                           raw.get(S.SATURATION), "must be above curve_engaged", "enter a level above curve_engaged")
        out.rows_where(anchored_sat & ~above & ~np.isnan(sat) & (sat <= engaged), S.SATURATION,
                       raw.get(S.SATURATION), "must be above today's engaged customers",
                       "enter a level above today's engaged customers")
        out.rows_where(by_parameters & (sat == 0), S.SATURATION, raw.get(S.SATURATION), "must be above 0",
                       "enter the most customers it could ever engage")
        out.rows_where(k == 0, S.HALF_SATURATION, raw.get(S.HALF_SATURATION), "must be above 0",
                       "enter the spend at which the curve engages half of its saturation")
        out.rows_where(~by_parameters & (s == 0) & (ge > 0), S.CURVE_ENGAGED, raw.get(S.CURVE_ENGAGED),
                       "a curve through no spend today engages no one today",
                       "leave curve_engaged empty (or give the curve's saturation, half_saturation and shape)")
        low, high = S.SHAPE_RANGE
        out.rows_where(~np.isnan(n) & ((n < low) | (n > high)), S.SHAPE, raw.get(S.SHAPE),
                       f"must be between {low:g} and {high:g}", "use e.g. 2 (above 1 the curve is S-shaped)")
        out.rows_where(lam >= S.CARRYOVER_RANGE[1], S.CARRYOVER, raw.get(S.CARRYOVER),
                       f"must be below {S.CARRYOVER_RANGE[1]:g}", "use a fraction such as 0.3 (0: no carry-over)")

    weights, tab_value = _spread_and_points(raw, curve, s, columns, out)
    value = np.full(len(s), np.nan)  # the curve's value at today's spend, of the curves given by their parameters
    rows = np.flatnonzero(by_parameters)
    if len(rows):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            w = weights[rows] if weights.shape[1] else np.ones((len(rows), 1))
            w = np.where(np.isfinite(w), w, np.nan)
            w = np.where(np.isnan(w).all(axis=1, keepdims=True), 1.0, w)  # evenly where no spread is given
            sw = s[rows, None] * np.nan_to_num(w)
            at = (sat[rows, None], k[rows, None])
            per = families.saturating(sw, *at)
            hill_rows = is_hill[rows]
            if hill_rows.any():  # only then: a hill curve's value needs scipy (expit)
                per = np.where(hill_rows[:, None], families.hill(sw, *at, n[rows, None]), per)
            mean = np.nansum(np.where(np.isnan(w), np.nan, per), axis=1) / np.maximum(np.isfinite(w).sum(axis=1), 1)
            value[rows] = np.where(curve.eq("tabulated")[rows], tab_value[rows], mean)
    with np.errstate(invalid="ignore"):
        clash = by_parameters & ~np.isnan(ge) & ~np.isnan(value) & (np.abs(ge - value) > 0.01 * value)
    for pos in np.flatnonzero(clash):
        out.problems.append(Problem(
            int(out.rows[pos]), S.CURVE_ENGAGED, raw[S.CURVE_ENGAGED].iloc[pos],
            f"disagrees with the curve's value at today's spend ({value[pos]:.6g}) by more than 1 %",
            f"enter {value[pos]:.6g} or leave curve_engaged empty", out.source))
    columns[S.SATURATION] = sat
    columns[S.HALF_SATURATION] = k
    columns[S.SHAPE] = n
    with np.errstate(invalid="ignore"):
        today = np.where(np.isnan(ge), np.where(s > 0, engaged, 0.0), ge)  # given, else engaged (0 without spend)
    columns[S.CURVE_ENGAGED] = np.where(by_parameters, value, today)
    columns[S.CARRYOVER] = np.where(np.isnan(lam), 0.0, lam)



def _spread_and_points(raw: pd.DataFrame, curve: _Words, spend: np.ndarray, columns: dict[str, object],
                       out: _Collector) -> tuple[np.ndarray, np.ndarray]:
    """Check the text columns `spread` (weights) and `curve_points` (a tabulated curve); add them to the clean
    table's columns in a normal form. Return the weights (N x T, NaN-padded) and each tabulated curve's value at
    today's spend."""
    n = len(curve)
    weights = np.full((n, 0), np.nan)
    if S.SPREAD in raw.columns:
        weights = curve_text.read_weights(raw[S.SPREAD])
        bad = (weights == curve_text.BAD).any(axis=1) if weights.shape[1] else np.zeros(n, bool)
        out.rows_where(bad, S.SPREAD, raw[S.SPREAD], "is not a list of weights",
                       "write weights of zero or more separated by spaces, e.g. '1.2 0.8 1.0' (at least one above 0)")
        weights[bad] = np.nan
        out.rows_where(curve.eq("tabulated") & np.isfinite(weights).any(axis=1), S.SPREAD, raw[S.SPREAD],
                       "a tabulated curve is the period's response already",
                       "leave spread empty for a tabulated curve")
        columns[S.SPREAD] = curve_text.weights_text(weights)
    if S.SEASONALITY in raw.columns:  # one index per period of a plan's horizon: its count is checked when planning
        index = curve_text.read_numbers(raw[S.SEASONALITY])
        bad = (~np.isnan(index) & ~(np.nan_to_num(index, nan=1.0, posinf=0.0) > 0)).any(axis=1) | (
            index == curve_text.BAD).any(axis=1) if index.shape[1] else np.zeros(n, bool)
        out.rows_where(bad, S.SEASONALITY, raw[S.SEASONALITY], "is not a list of seasonality indices",
                       "write one number above 0 per period separated by spaces, e.g. '1.2 0.9 1.0' (1: no season)")
        columns[S.SEASONALITY] = curve_text.weights_text(np.where(bad[:, None], np.nan, index))
    value = np.full(n, np.nan)
    tabulated = curve.eq("tabulated")
    if S.CURVE_POINTS in raw.columns or tabulated.any():
        texts = raw[S.CURVE_POINTS] if S.CURVE_POINTS in raw.columns else pd.Series("", index=raw.index)
        xs, es = curve_text.read_points(texts)
        bad = (xs == curve_text.BAD).any(axis=1) if xs.shape[1] else np.zeros(n, bool)
        out.rows_where(bad, S.CURVE_POINTS, texts, "is not a list of points",
                       "write points as spend:engaged separated by spaces, e.g. '0:0 1000:120 2000:200'")
        none = ~np.isfinite(xs).any(axis=1) if xs.shape[1] else np.ones(n, bool)
        out.rows_where(tabulated & none & ~bad, S.CURVE_POINTS, None, "a tabulated curve needs its points",
                       "write points as spend:engaged, e.g. '0:0 1000:120 2000:200'")
        xs, es = np.where(bad[:, None], np.nan, xs), np.where(bad[:, None], np.nan, es)
        beyond = (np.asarray(columns[S.CURVE_BEYOND], dtype=float) if S.CURVE_BEYOND in columns
                  else np.full(n, np.nan))
        order = np.argsort(np.where(np.isfinite(xs), xs, np.inf), axis=1)
        xs, es = np.take_along_axis(xs, order, 1), np.take_along_axis(es, order, 1)
        cx, ce = curve_text.continue_points(xs, es, beyond)  # on past the last point where the row allows it
        for i in np.flatnonzero(tabulated & ~none & ~bad):
            x, e = cx[i][np.isfinite(cx[i])], ce[i][np.isfinite(cx[i])]
            if x[0] > 0:
                x, e = np.r_[0.0, x], np.r_[0.0, e]
            value[i] = np.interp(spend[i], x, e) if np.isfinite(spend[i]) else np.nan
        columns[S.CURVE_POINTS] = curve_text.points_text(xs, es)
    return weights, value


_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""Python's whitespace (what `\\s` matches in `re`) other than the plain space, as a character class of the characters
themselves: Arrow's regular expressions find them (their own `\\s` misses some, so pandas runs `\\s` in Python)."""


def label_key(labels: pd.Series) -> pd.Series:
    """What makes two labels the same: case, and spaces around and between words, do not count.

    key = casefold(strip(label) with each run of whitespace as one space). Vectorised: only labels with other
    whitespace than single spaces go through Python's `re`, and only labels beyond ASCII through `str.casefold`
    (for ASCII text it is `lower`, which Arrow does)."""
    text = labels.astype("string").str.strip()
    uneven = _uneven(text)
    if len(uneven):
        text = text.copy()
        text.iloc[uneven] = text.iloc[uneven].str.replace(r"\s+", " ", regex=True).to_numpy()
    beyond = np.flatnonzero(~text.str.isascii().fillna(True).to_numpy(bool))
    key = text.str.lower()
    if len(beyond):
        key.iloc[beyond] = text.iloc[beyond].str.casefold().to_numpy()
    return key


def _uneven(text: pd.Series) -> np.ndarray:
    """Positions of the labels with whitespace other than single spaces. In Arrow, only labels that are not plain
    (printable ASCII without two spaces in a row: none of _SPACES can be in them) get the regular expression."""
    arrow = _arrow(text)
    if arrow is None:
        return np.flatnonzero(text.str.contains(f"[{_SPACES}]|  ", regex=True).fillna(False).to_numpy(bool))
    maybe = np.flatnonzero(~_plain(arrow))
    if not len(maybe):
        return maybe
    found = text.iloc[maybe].str.contains(f"[{_SPACES}]|  ", regex=True).fillna(False).to_numpy(bool)
    return maybe[found]


def _key_of_stripped(labels: pd.Series) -> pd.Series:
    """label_key of labels already stripped (Arrow's strip, which changes nothing the second time): when every
    label is plain, in Arrow, its lower case."""
    arrow = _arrow(labels)
    if arrow is None or not _all_plain(arrow):
        return label_key(labels)
    return pd.Series(pd.arrays.ArrowStringArray(pc.utf8_lower(arrow)), index=labels.index, copy=False)


_PRINTABLE = bytes(range(0x20, 0x7F))


def _all_plain(arrow: pa.ChunkedArray | pa.Array) -> bool:
    """`_plain(arrow).all()`: by one look at the bytes when none is missing, every byte is printable ASCII and no
    two spaces follow one another anywhere (not even across two labels), else label by label."""
    if not arrow.null_count and made_of(arrow, _PRINTABLE) and not holds(arrow, b"  "):
        return True
    return bool(_plain(arrow).all())


def _plain(arrow: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Labels of printable ASCII without two spaces in a row (False for a missing one): their key is their lower
    case."""
    plain = pc.and_kleene(pc.and_kleene(pc.string_is_ascii(arrow), pc.ascii_is_printable(arrow)),
                          pc.invert(pc.match_substring(arrow, "  ")))
    return pc.fill_null(plain, False).to_numpy(zero_copy_only=False)


def _used_twice(key: pd.Series) -> np.ndarray:
    """`key.duplicated(keep=False)` as an array: by Arrow's hashing for a column of Arrow text (its distinct keys
    counted first: when there are as many as keys, none is used twice)."""
    arrow = _arrow(key)
    if arrow is None or arrow.null_count:
        return key.duplicated(keep=False).to_numpy(bool)
    if len(pc.unique(arrow)) == len(arrow):  # Arrow's hashing goes on from chunk to chunk: no copy into one
        return np.zeros(len(arrow), dtype=bool)
    codes = pc.dictionary_encode(arrow.combine_chunks()).indices.to_numpy(zero_copy_only=False)
    return np.bincount(codes, minlength=1)[codes] > 1


def _shared(labels: pd.Series) -> pd.Series:
    """The same labels, every cell pointing at one string object per distinct label (8 bytes a cell)."""
    codes, uniques = pd.factorize(labels.to_numpy(object), use_na_sentinel=False)
    return pd.Series(np.asarray(uniques, dtype=object)[codes], index=labels.index, dtype=object)


def fold_labels(labels: pd.Series, column: str, notices: list[str]) -> pd.Series:
    """Labels that differ only by case or spaces ('MARKETING', 'marketing ') become one, spelled as first written;
    a notice says how many were merged."""
    return _fold(labels, column, notices)[0]


def _fold(labels: pd.Series, column: str, notices: list[str]) -> tuple[pd.Series, bool]:
    """fold_labels, and whether each cell of the result points at one string object per distinct label."""
    arrow = _arrow(labels)
    if arrow is not None and not arrow.null_count:  # Arrow's hashing: labels in the order they first appear
        encoded = pc.dictionary_encode(arrow.combine_chunks())
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        return _fold_distinct(codes, encoded.dictionary, labels.index, labels.name, column, notices), True
    codes, distinct = pd.factorize(labels)  # labels in the order they first appear; a column repeats a few
    if not (codes < 0).any():
        return _fold_distinct(codes, distinct, labels.index, labels.name, column, notices), True
    key = label_key(labels)  # a missing label: keyed row by row
    first = labels.groupby(key.to_numpy(), sort=False).transform("first")
    changed = labels.ne(first) & labels.ne("")
    if changed.any():
        pairs = set(zip(labels[changed].astype(str), first[changed].astype(str), strict=True))
        _merged(notices, column, int(changed.sum()), pairs, int(key[labels.ne("")].nunique()))
    return first.astype(object), False


def _fold_column(cells: pd.Series, column: str, notices: list[str]) -> tuple[pd.Series, np.ndarray]:
    """`fold_labels` of a column's stripped cells ('' when blank), each cell pointing at one string object per
    distinct label, and where the cells are blank: an Arrow text column is stripped and folded once per distinct
    cell (amounts remembers those of each column while a file is read)."""
    found = _distinct_cells(cells)
    if found is None:
        labels = _stripped(cells)
        folded, shared = _fold(labels, column, notices)
        return folded if shared else _shared(folded), labels.eq("").to_numpy(bool)
    codes, distinct = found
    encoded = pc.dictionary_encode(_arrow(_stripped(distinct)).combine_chunks())  # cells the same once stripped
    codes = encoded.indices.to_numpy(zero_copy_only=False)[codes]
    blank = pc.equal(encoded.dictionary, "").to_numpy(zero_copy_only=False)[codes]
    return _fold_distinct(codes, encoded.dictionary, cells.index, cells.name, column, notices), blank


def _distinct_cells(series: pd.Series) -> tuple[np.ndarray, pd.Series] | None:
    """(codes, distinct cells in the order they first appear) of an Arrow text column, else None: as amounts
    remembers them while a file is read, else factorised here."""
    if _arrow(series) is None:
        return None
    codes, distinct = _remembered_distinct(series)
    if codes is None:
        codes, uniques = series.array.factorize(use_na_sentinel=False)
        distinct = pd.Series(uniques)
    return np.asarray(codes, dtype=np.intp), distinct


def _fold_distinct(codes: np.ndarray, distinct: pa.Array | np.ndarray | pd.Index, index: pd.Index, name: object,
                   column: str, notices: list[str]) -> pd.Series:
    """fold_labels of labels given as codes into their distinct labels (each used by some row, none missing)."""
    keys = None
    if isinstance(distinct, pa.Array):
        words = distinct.to_numpy(zero_copy_only=False)
        text = pc.utf8_trim_whitespace(distinct)
        if _all_plain(text):  # label_key without its rare cases: lower(strip(label))
            keys = pc.dictionary_encode(pc.utf8_lower(text)).indices.to_numpy(zero_copy_only=False)
    else:
        words = np.asarray(distinct, dtype=object)
    if keys is None:  # each distinct label's key, numbered as first seen
        keys = pd.factorize(label_key(pd.Series(words, dtype=object)).to_numpy(object))[0]
    firsts = words[np.unique(keys, return_index=True)[1][keys]]  # the first row's spelling of each key
    moved = (words != firsts) & (words != "")
    if moved.any():
        pairs = set(zip(map(str, words[moved]), map(str, firsts[moved]), strict=True))
        _merged(notices, column, int(moved[codes].sum()), pairs, len(np.unique(keys[words != ""])))
    return pd.Series(firsts[codes], index=index, name=name, dtype=object, copy=False)


def _merged(notices: list[str], column: str, count: int, pairs: set[tuple[str, str]], remain: int) -> None:
    ordered = sorted(pairs)
    shown = ", ".join(f"'{was}' -> '{now}'" for was, now in ordered[:5]) + (" ..." if len(ordered) > 5 else "")
    notices.append(f"{count} {column} label(s) that differ only by case or spaces were merged "
                   f"into the first spelling ({shown}); {remain} {column}{'s' if remain != 1 else ''} remain"
                   f"{'s' if remain == 1 else ''}")


_NEEDS = {S.TOUCHPOINT: "a name", S.FUNCTION: "a function (the team that owns and pays for it)",
          S.CHANNEL: "a channel (its medium: tv, search, chat, ...)"}
_HIGHEST = {S.MAX_CHANGE: S.MAX_FACTOR, S.VALUE: S.MAX_FACTOR, S.CPE: S.MAX_CPE, S.CURVE_BEYOND: S.MAX_FACTOR}
"""Largest value of each number column (default: schema.MAX_AMOUNT; elasticity has its own check of at most 1)."""
_WHY = {S.MAX_CHANGE: " (a fraction: 0.3 = 30 %)", S.VALUE: " (a weight: 1 = an ordinary engaged customer)",
        S.CPE: " (money per engaged customer)", S.ELASTICITY: "",
        S.CURVE_BEYOND: " (a multiple of the tabulated curve's last point)"}


def tag_columns(touchpoints: pd.DataFrame) -> list[str]:
    """Columns beyond the schema (e.g. `digital`), usable in group rules."""
    return [c for c in touchpoints.columns if c not in S.KNOWN and c != "unit_cost"]
