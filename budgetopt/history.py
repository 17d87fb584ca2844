"""Spend and outcome history per touchpoint: weekly, daily or monthly rows, and ad-platform exports.

A history is a long table: a date or period column, the touchpoint columns (`touchpoint`, `function`, `channel`,
optional `stage` and tags), and `spend` and `engaged` per row. The ingestion rules of the touchpoint table apply
unchanged (encodings, separators, title and totals rows, number formats, header synonyms, `--map`), and:

- **Ad exports** (one row per ad, ad group or audience per day): `--touchpoint COLUMN` names the column whose
  values are touchpoints (e.g. `Campaign name`); rows of a touchpoint in one period are summed. Columns that
  change within a touchpoint and period (ad, ad group) are what was summed over; other number columns (clicks,
  impressions) are not used; both are named in a notice. Without a function column every touchpoint is
  `marketing`; without a channel column, the platform column (`platform`, `publisher`, `network`, ...) gives the
  channel, else `ads`; each with a notice. Without a touchpoint column, the channel column (then the platform
  column) names the touchpoints.
- **Descriptors** (function, channel, stage, tags and any other touchpoint-table column such as `value`): the
  latest non-blank value of a touchpoint wins; a notice names the ones that changed.
- **Outcome**: `engaged`, or a header such as `conversions`, `leads`, `outcome`, `results` (`ENGAGED_WORDS`).
  A blank spend or outcome cell is 0 (notice); rows with spend and no outcome are kept: they are evidence
  of zero response.
- **Periods** (`budgetopt.dates` reads the dates): daily rows are summed to weeks starting on Monday; weekly and
  monthly rows are kept. Weeks at either end of a daily history that it covers only in part are left out when
  it has a whole week (notice). Each touchpoint has every period from its first to the history's last: a period
  without a row is a dark period (spend 0, engaged 0; notice with the count).
- **Window** (`52w`, `26w`, `12m`, `90d`, `all`; default the last 52 weeks, or 12 months for monthly data, or
  all of a shorter history): today's spend and engagement of a touchpoint are the window's totals, and the
  plan is for a period of the window's length.

Refused, each problem naming the row, column, value and fix: no date column, dates that are not dates, a column
mixing days, weeks and months, weekly dates on different weekdays, numbers that are not numbers, negative
numbers, a `cpe` column (a cost per engaged customer cannot be added up over periods), and wide tables with one
outcome for all channels (Robyn's and Meridian's model inputs): fitting a marketing-mix model is out of scope;
such users bring their model's response curves with `--curves` (`budgetopt.curves.tabulated`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import schema as S
from .amounts import TEXT, parse_numbers
from .dates import DATE_FIX, DAY, MONTH, WEEK, parse_dates
from .errors import InputError, Problem
from .ingest import RawTable
from .mapping import apply_mapping, column_label, find_columns, normalise_header, resolve_mapping, suggest_mapping
from .touchpoints import validate_touchpoints

DATE = "date"
PLATFORM = "platform"
HISTORY_COLUMNS: dict[str, tuple[str, ...]] = {
    DATE: ("day", "week", "month", "period", "date day", "date week", "date month", "time", "ds", "week start",
           "week starting", "week beginning", "week of", "week commencing", "month start", "month of",
           "reporting starts", "reporting start", "date start", "start date", "segments date", "stat time day",
           "report date", "calendar date", "datetime", "timestamp"),
    PLATFORM: ("ad platform", "publisher", "publisher platform", "network", "ad network", "source", "media source"),
}
"""The history's own columns (beyond the touchpoint table's) and other names people give them (`--map date=...`)."""
ENGAGED_WORDS: tuple[str, ...] = (
    "conversions", "conversion", "total conversions", "all conversions", "results", "outcome", "outcomes", "leads",
    "kpi", "responses", "signups", "sign ups", "acquisitions", "purchases", "orders", "new customers",
)
"""Headers read as `engaged` in a history when no header names it as in a touchpoint table."""
SPEND_WORDS: tuple[str, ...] = ("spent", "total spent", "amount spent", "ad spend", "media cost", "cost micros")
"""Headers read as `spend` in a history when no header names it as in a touchpoint table."""
DEFAULT_FUNCTION = "marketing"
DEFAULT_CHANNEL = "ads"
WINDOW_DEFAULT = {"weekly": "52w", "monthly": "12m"}
_WINDOW = re.compile(r"\s*(?:(?P<n>\d+)\s*(?P<unit>[dwmy])|(?P<all>all))\s*", re.IGNORECASE)
_DAYS = {"d": 1.0, "w": 7.0, "m": 365.25 / 12, "y": 365.25}
_PERIOD_DAYS = {"weekly": 7.0, "monthly": 365.25 / 12}
_SHOWN = 5
"""Names listed in one notice before '...'."""
WEEKLY_SHARE = 0.8
"""Dates at least a week apart, this share of them on one weekday, are weekly (the others are refused)."""
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WINDOW_FIX = "write e.g. 52w (weeks), 12m (months), 90d (days) or all"


@dataclass(frozen=True)
class Window:
    """The periods that make today: the history's last `periods` periods, from `first` to `last` (period starts)."""

    first: pd.Timestamp
    last: pd.Timestamp
    periods: int
    spec: str


@dataclass
class History:
    """A history on a complete grid of periods, one row per touchpoint and period from its first period on."""

    long: pd.DataFrame
    """touchpoint, period (its first day), spend, engaged, rows (input rows summed; 0 = a dark period)."""
    touchpoints: pd.DataFrame
    """One row per touchpoint: touchpoint, function, channel, stage and any other descriptor or tag column."""
    frequency: str
    """'weekly' or 'monthly': the periods of the grid (daily rows are summed to weeks)."""
    input_frequency: str
    """'daily', 'weekly' or 'monthly': what the file's dates were."""
    periods: pd.DatetimeIndex
    """The first day of every period of the history, oldest first."""
    window: Window
    notices: list[str]
    source: str
    _spend: np.ndarray = field(repr=False)
    _engaged: np.ndarray = field(repr=False)
    _observed: np.ndarray = field(repr=False)
    _rows: np.ndarray = field(repr=False)
    _labels: dict[str, str] = field(repr=False, default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The touchpoints, in the order of `touchpoints` and of the rows of `matrices()`."""
        return list(self.touchpoints[S.TOUCHPOINT])

    def matrices(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """(names, spend N x P, engaged N x P, observed N x P) over the whole history, for fitting.

        `observed[i, t]` is False before touchpoint i's first period (spend and engaged are 0 there); dark periods
        inside its span are observed, with spend 0 and engaged 0.
        """
        return self.names, self._spend.copy(), self._engaged.copy(), self._observed.copy()

    def window_totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Spend and engaged per touchpoint summed over the window's periods."""
        start = len(self.periods) - self.window.periods
        return self._spend[:, start:].sum(axis=1), self._engaged[:, start:].sum(axis=1)

    def today(self) -> pd.DataFrame:
        """The touchpoint table of the window: descriptors, spend and engaged = the window's totals.

        Touchpoints with no spend or no engaged customers in the window are left out, each named in a notice
        (with no spend there is nothing today to plan from; with spend and no one engaged, `validate_touchpoints`
        has no cost per engaged customer: their money is not in today's total). Validated like any touchpoint
        table; problems name the file row the touchpoint's descriptors came from. Notices, the window's number of
        periods, the frequency and its last period (ISO text) are in `.attrs`: plain values, which any table
        made from it can carry (Streamlit turns a shown table's attrs into JSON).
        """
        spend, engaged = self.window_totals()
        keep = (spend > 0) & (engaged > 0)
        table = self.touchpoints.assign(**{S.SPEND: spend, S.ENGAGED: engaged})
        notices = list(self.notices)
        window = self.window
        span = _count(window.periods, "week" if self.frequency == "weekly" else "month")
        notices.append(f"today = the last {span} ({window.first.date()} to {window.last.date()}): each "
                       f"touchpoint's spend and engaged customers are their totals; the plan is for {span}, each "
                       "touchpoint's pattern over the periods scaled to its planned total")
        idle = ~keep & (spend == 0)
        if idle.any():
            notices.append(f"left out {_names(table[S.TOUCHPOINT][idle])}: no spend in the window (widen --window "
                           "to plan on them)")
        wasted = ~keep & (spend > 0)
        if wasted.any():
            money = float(spend[wasted].sum())
            notices.append(f"left out {_names(table[S.TOUCHPOINT][wasted])}: spend and no one engaged in the window "
                           f"({money:,.2f} in all, not in today's total)")
        if not keep.any():
            raise InputError([Problem(None, S.SPEND, None, "no touchpoint has both spend and engaged customers in "
                                      f"the window ({window.first.date()} to {window.last.date()})",
                                      "choose a wider --window, e.g. --window all", self.source)], self.source,
                             notices=notices)
        raw = table.loc[keep].reset_index(drop=True)
        try:
            clean = validate_touchpoints(raw, source=self.source, rows=self._rows[keep])
        except InputError as exc:
            problems = [replace(p, column=self._labels.get(p.column, p.column)) for p in exc.problems]
            raise InputError(problems, self.source, notices=notices) from None
        clean.attrs = {"notices": notices, "source": self.source, "periods": window.periods,
                       "frequency": self.frequency, "last_period": window.last.isoformat()}  # plain values only
        return clean


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _names(names: pd.Series | Sequence[str]) -> str:
    names = [f"'{n}'" for n in names]
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _blank(values: pd.Series) -> pd.Series:
    return values.astype(TEXT).fillna("").str.strip().eq("")


def _key(names: pd.Series) -> pd.Series:
    """Touchpoint names compared without case and runs of spaces."""
    codes, distinct = pd.factorize(names.astype(TEXT).fillna(""))
    keys = pd.Series(distinct, dtype=TEXT).str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()
    return pd.Series(keys.to_numpy()[codes], index=names.index, dtype=TEXT)


def numbers_once(cells: pd.Series, decimal: str) -> pd.Series:
    """`parse_numbers` read once per distinct cell (exports repeat their counts, spend levels and zeros)."""
    codes, distinct = pd.factorize(cells.astype(TEXT).fillna(""))
    values = parse_numbers(pd.Series(distinct, dtype=TEXT), decimal).to_numpy(float)
    return pd.Series(values[codes], index=cells.index)


# --- columns --------------------------------------------------------------------------------------------------


@dataclass
class _Columns:
    """Which header is which column of a history, and the touchpoint-table columns as `resolve_mapping` found them."""

    date: str | None
    platform: str | None
    table: dict[str, list[str]]
    used: list[str]
    """Headers read as touchpoint-table columns (the date and platform headers excluded)."""


def _split_mapping(mapping: Mapping[str, str | Sequence[str]] | None, touchpoint: str | None,
                   source: str) -> tuple[dict[str, str], dict[str, str | Sequence[str]]]:
    """The mapping's history columns (date, platform) and its touchpoint-table columns, `--touchpoint` included."""
    own: dict[str, str] = {}
    rest: dict[str, str | Sequence[str]] = {}
    for target, header in (mapping or {}).items():
        if normalise_header(target) in HISTORY_COLUMNS:
            own[normalise_header(target)] = header if isinstance(header, str) else " + ".join(header)
        else:
            rest[target] = header
    if touchpoint is not None:
        given = rest.get(S.TOUCHPOINT)
        if given is not None and given != touchpoint:
            raise InputError([Problem(None, S.TOUCHPOINT, touchpoint, f"--touchpoint and --map name different "
                                      f"columns ('{touchpoint}' and '{given}')", "give the touchpoint column once",
                                      source)], source)
        rest[S.TOUCHPOINT] = touchpoint
    return own, rest


def _columns(headers: list[str], mapping, touchpoint, source: str) -> _Columns:
    """Find every column; raise InputError listing every problem."""
    own, explicit = _split_mapping(mapping, touchpoint, source)
    problems: list[Problem] = []
    try:
        found = find_columns(headers, HISTORY_COLUMNS, own, source)
    except InputError as exc:
        problems += exc.problems
        found = {}
    rest = [h for h in headers if h not in found.values()]
    suggested = suggest_mapping(rest)
    named = {h for spec in explicit.values() for h in ([spec] if isinstance(spec, str) else spec)}
    for target, words in ((S.SPEND, SPEND_WORDS), (S.ENGAGED, ENGAGED_WORDS)):
        if target in explicit or target in suggested:
            continue
        try:
            hit = find_columns([h for h in rest if h not in named], {target: words}, None, source)
        except InputError as exc:
            problems += exc.problems
            continue
        if hit:
            explicit[target] = hit[target]
            named.add(hit[target])
    try:
        table = resolve_mapping(rest, explicit, source)
    except InputError as exc:
        problems += exc.problems
        table = {}
    if problems:
        raise InputError(problems, source)
    return _Columns(found.get(DATE), found.get(PLATFORM), table, rest)


def _spend_like(headers: Sequence[str]) -> list[str]:
    """Headers that look like spend per channel in a wide marketing-mix table (`tv_S`, `Channel0_spend`)."""
    return [h for h in headers if re.search(r"(?:^|_)(?:s|spend|spends|cost|costs)$", normalise_header(h))]


def _wide_table(headers: list[str], source: str) -> InputError:
    spend = _spend_like(headers)
    more = ", ..." if len(spend) > 8 else ""
    shown = f" (spend per channel in columns: {', '.join(spend[:8])}{more})" if spend else ""
    return InputError([Problem(
        None, S.TOUCHPOINT, None,
        "the table has dates but no touchpoint column: it looks like a wide marketing-mix table, one outcome for "
        f"all channels{shown}. budgetopt does not fit a marketing-mix model from one total outcome",
        "fit the model in Robyn, Meridian or PyMC-Marketing and bring its response curves with --curves FILE "
        "(README: response curves from MMM tools); if this is a long history, one row per touchpoint and period, "
        "name the touchpoint column with --touchpoint COLUMN", source)], source)


def is_history(raw: RawTable, mapping: Mapping[str, str | Sequence[str]] | None = None,
               touchpoint: str | None = None) -> bool:
    """True when the table has a date or period column and, besides it, several rows per touchpoint.

    A table with dates and no touchpoint column at all also counts (a wide marketing-mix table): reading it as a
    history gives the message that says what to do with it. A touchpoint table (no date column, or one row per
    touchpoint) is not a history.
    """
    headers = raw.headers
    own, explicit = _split_mapping(mapping, touchpoint, raw.source)
    try:
        found = find_columns(headers, HISTORY_COLUMNS, own, raw.source)
    except InputError:  # several columns could be the date: there are dates, and reading says which to use
        return True
    if DATE not in found:
        return False
    rest = [h for h in headers if h not in found.values()]
    spec = explicit.get(S.TOUCHPOINT)
    column = spec if isinstance(spec, str) and spec in headers else None
    if column is None:
        suggested = suggest_mapping(rest)
        for target in (S.TOUCHPOINT, S.CHANNEL):
            if suggested.get(target):
                column = suggested[target][0]
                break
    column = column or found.get(PLATFORM)
    if column is None:
        return True
    return bool(_key(raw.data[column]).duplicated().any())


# --- reading --------------------------------------------------------------------------------------------------


def history_from_table(raw: RawTable, mapping: Mapping[str, str | Sequence[str]] | None = None, *,
                       touchpoint: str | None = None, window: str | None = None) -> History:
    """Read a history from a raw table (see the module docstring); raise InputError listing every problem.

    `mapping` maps columns as for a touchpoint table, plus `date` and `platform`; `touchpoint` names the
    column whose values are touchpoints (an ad export's `Campaign name`); `window` sets today (default: the
    last 52 weeks or 12 months, or all of a shorter history).
    """
    source, notices = raw.source, list(raw.notices)
    try:
        return _read(raw, mapping, touchpoint, window, notices)
    except InputError as exc:
        raise InputError(exc.problems, source, notices=notices) from None


def _read(raw: RawTable, mapping, touchpoint, window, notices: list[str]) -> History:
    source, headers = raw.source, raw.headers
    if raw.data.empty:
        raise InputError([Problem(None, None, None, "the history has no data rows",
                                  "add one row per touchpoint and period under the header", source)], source)
    columns = _columns(headers, mapping, touchpoint, source)
    if columns.date is None:
        if not any(t in columns.table for t in (S.TOUCHPOINT, S.CHANNEL)) and _spend_like(headers):
            raise _wide_table(headers, source)
        raise InputError([Problem(None, DATE, None, "the history has no date or period column",
                                  "name it, e.g. --map date=\"Week\" (a table with one row per touchpoint is a "
                                  "touchpoint table: validate or optimize it as it is)", source)], source)
    data = raw.data[columns.used].copy(deep=False)
    data.attrs = {"decimal": raw.decimal}
    frame = apply_mapping(data, columns.table)
    notices += frame.attrs.get("notices", [])
    labels = {target: column_label(target, hs) for target, hs in columns.table.items()}
    labels[DATE] = column_label(DATE, [columns.date])
    platform = raw.data[columns.platform] if columns.platform else None
    if S.TOUCHPOINT not in frame.columns:
        fallback = S.CHANNEL if S.CHANNEL in frame.columns else None
        if fallback is None and platform is None:
            raise _wide_table(headers, source)
        frame[S.TOUCHPOINT] = frame[fallback] if fallback else platform
        labels[S.TOUCHPOINT] = labels[S.CHANNEL] if fallback else column_label(PLATFORM, [columns.platform])
        notices.append(f"no touchpoint column: each {'channel' if fallback else 'platform'} "
                       f"('{labels[S.TOUCHPOINT]}') is a touchpoint (name another with --touchpoint COLUMN)")

    problems: list[Problem] = []

    def refuse(mask, column: str, values, message: str, fix: str) -> None:
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            value = None if values is None else values.iloc[i]
            problems.append(Problem(int(raw.rows[i]), labels.get(column, column), value, message, fix, source))

    for name in (S.SPEND, S.ENGAGED):
        if name not in frame.columns:
            hint = ("map it, e.g. --map spend=\"Cost\"" if name == S.SPEND else
                    "map the outcome per row, e.g. --map engaged=\"Conversions\" (or \"Leads + Chats\")")
            problems.append(Problem(None, name, None, "the history has no column for it", hint, source))
    if S.CPE in frame.columns:
        problems.append(Problem(None, labels[S.CPE], None, "a cost per engaged customer cannot be added up over "
                                "periods", "give the engaged customers (or conversions) of each row instead",
                                source))
    if problems:
        raise InputError(problems, source)

    names = frame[S.TOUCHPOINT].astype(TEXT).fillna("").str.strip()
    refuse(names.eq(""), S.TOUCHPOINT, None, "is empty", "give every row its touchpoint")
    dated = parse_dates(raw.data[columns.date])
    notices += dated.notices
    for i in np.flatnonzero(dated.invalid.notna().to_numpy()):
        problems.append(Problem(int(raw.rows[i]), labels[DATE], raw.data[columns.date].iloc[i],
                                str(dated.invalid.iloc[i]), DATE_FIX, source))
    refuse(_blank(raw.data[columns.date]), DATE, None, "is empty", "give every row its date")
    kinds = dated.kind.dropna()
    if kinds.nunique() > 1:
        usual = kinds.value_counts().index[0]
        example = raw.data[columns.date][dated.kind.eq(usual).fillna(False)].iloc[0]
        refuse(dated.kind.ne(usual).fillna(False), DATE, raw.data[columns.date],
               f"names a {_KIND_WORD[dated.kind[dated.kind.ne(usual).fillna(False)].iloc[0]]} while most rows name a "
               f"{_KIND_WORD[usual]} (e.g. '{example}')", "write every row's date the same way")
    amounts = {}
    for name in (S.SPEND, S.ENGAGED):
        value = numbers_once(frame[name], raw.decimal)
        blank = _blank(frame[name])
        refuse(value.isna() & ~blank, name, frame[name], "is not a number", "write a plain number such as 1200.50")
        refuse(value < 0, name, frame[name], "is negative", "use zero or a positive number")
        if blank.any():
            notices.append(f"{int(blank.sum())} row(s) with no {labels[name]} read as 0 (first: row "
                           f"{raw.rows[np.flatnonzero(blank.to_numpy())[0]]})")
        amounts[name] = value.fillna(0.0).to_numpy(float)
    if problems:
        problems.sort(key=lambda p: (p.row if p.row is not None else -1))
        raise InputError(problems, source)
    grid = _periods(dated.dates, dated.kind, amounts[S.SPEND], raw, labels[DATE], notices)
    days = dated.dates.to_numpy(dtype="datetime64[D]")
    return _assemble(raw, frame, names, days, grid, amounts, labels, platform, window, notices)


_KIND_WORD = {DAY: "day", WEEK: "week", MONTH: "month"}


@dataclass
class _Grid:
    """Each row's period on the history's grid of periods."""

    index: np.ndarray
    """Per row, the position of its period in `periods`; -1 for rows left out (partial weeks)."""
    periods: pd.DatetimeIndex
    frequency: str
    input_frequency: str


def _periods(dates: pd.Series, kind: pd.Series, spend: np.ndarray, raw: RawTable, label: str,
             notices: list[str]) -> _Grid:
    """The frequency and each row's period: daily rows go to Monday weeks, weekly and monthly rows stay."""
    days = dates.to_numpy(dtype="datetime64[D]")
    what = kind.iloc[0]
    unique = np.unique(days)
    gaps = np.diff(unique).astype(int)
    if what == DAY and len(unique) > 1 and gaps.min() >= 28:
        stamps = pd.DatetimeIndex(unique)
        if stamps.is_month_start.all() or stamps.is_month_end.all():
            what = MONTH
            if not stamps.is_month_start.all():
                notices.append("the dates are month ends: each is read as its month")
    if what == MONTH:
        months = dates.dt.year.to_numpy() * 12 + dates.dt.month.to_numpy() - 1
        first = int(months.min())
        periods = pd.date_range(pd.Timestamp(year=first // 12, month=first % 12 + 1, day=1),
                                periods=int(months.max()) - first + 1, freq="MS")
        return _Grid(months - first, periods, "monthly", "monthly")
    if what == DAY and len(unique) > 1 and gaps.min() >= 7:
        weekday = (unique.astype(int) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        usual = int(np.bincount(weekday, minlength=7).argmax())
        if (weekday == usual).mean() >= WEEKLY_SHARE:
            what = WEEK
            odd = (days.astype(int) + 3) % 7 != usual
            name = _WEEKDAYS[usual]
            if odd.any():  # weeks named by dates on different weekdays
                example = pd.Timestamp(unique[weekday == usual][0]).date()
                raise InputError([Problem(int(raw.rows[i]), label, str(pd.Timestamp(days[i]).date()),
                                          f"is a {pd.Timestamp(days[i]).day_name()} while the other weeks start on a "
                                          f"{name} (e.g. {example})", f"name every week by its {name}", raw.source)
                                  for i in np.flatnonzero(odd)], raw.source)
            if usual != 0:
                notices.append(f"weekly dates: each week starts on a {name}, as the dates say")
    if what == WEEK:
        start = unique[0]
        index = ((days - start).astype(int) // 7).astype(int)
        periods = pd.date_range(pd.Timestamp(start), periods=int(index.max()) + 1, freq="7D")
        return _Grid(index, periods, "weekly", "weekly")
    return _daily(days, unique, spend, notices)


def _daily(days: np.ndarray, unique: np.ndarray, spend: np.ndarray, notices: list[str]) -> _Grid:
    """Daily rows summed to weeks starting on Monday; partial weeks at the ends left out if a whole week exists."""
    first_day, last_day = unique[0], unique[-1]
    monday = _monday(first_day)
    index = ((days - monday).astype(int) // 7).astype(int)
    weeks = int(index.max()) + 1
    covered_first = 7 - int((first_day - monday).astype(int))
    covered_last = int((last_day - _monday(last_day)).astype(int)) + 1
    partial = [w for w, covered in ((0, covered_first), (weeks - 1, covered_last)) if covered < 7]
    whole = weeks - len(set(partial))
    notices.append("daily rows summed to weeks starting on Monday")
    if partial and whole >= 1:
        drop = np.isin(index, partial)
        shown = ", ".join(f"{pd.Timestamp(monday + np.timedelta64(7 * w, 'D')).date()}" for w in sorted(set(partial)))
        notices.append(f"left out {int(drop.sum())} row(s) of the week(s) of {shown} (spend {spend[drop].sum():,.2f}): "
                       "the history covers only part of them, and a part week would look like a week of low spend")
        index = np.where(drop, -1, index - (1 if 0 in partial else 0))
        weeks = whole
        monday = monday + np.timedelta64(7 if 0 in partial else 0, "D")
    elif partial:
        notices.append(f"the history covers {int((last_day - first_day).astype(int)) + 1} day(s), not one whole "
                       "week: its weeks are partial")
    periods = pd.date_range(pd.Timestamp(monday), periods=weeks, freq="7D")
    return _Grid(index, periods, "weekly", "daily")


def _monday(day: np.datetime64) -> np.datetime64:
    """The Monday on or before a day (1970-01-01 was a Thursday)."""
    return day - np.timedelta64((day.astype(int) + 3) % 7, "D")


def _assemble(raw: RawTable, frame: pd.DataFrame, names: pd.Series, days: np.ndarray, grid: _Grid,
              amounts: dict[str, np.ndarray], labels: dict[str, str], platform: pd.Series | None, window: str | None,
              notices: list[str]) -> History:
    """Sum rows into touchpoint x period cells, fill the grid, take descriptors, set the window."""
    source = raw.source
    kept = grid.index >= 0
    codes, keys = pd.factorize(_key(names).where(kept))
    if grid.input_frequency == "daily":
        _dark_days(codes, days, grid.periods[-1] + pd.Timedelta(days=6), notices)
    order = np.lexsort((np.arange(len(codes)), grid.index))  # rows by period, then as in the file
    latest = pd.Series(order).groupby(codes[order]).last()  # the last row of each touchpoint
    latest = latest[latest.index >= 0].sort_index().to_numpy()
    n, p = len(keys), len(grid.periods)
    cell = np.where(kept & (codes >= 0), codes * p + grid.index, -1)
    valid = cell >= 0
    spend = np.bincount(cell[valid], weights=amounts[S.SPEND][valid], minlength=n * p).reshape(n, p)
    engaged = np.bincount(cell[valid], weights=amounts[S.ENGAGED][valid], minlength=n * p).reshape(n, p)
    rows = np.bincount(cell[valid], minlength=n * p).reshape(n, p)
    first = np.full(n, p)
    np.minimum.at(first, codes[valid], grid.index[valid])
    observed = np.arange(p)[None, :] >= first[:, None]
    spellings = names[kept].groupby(codes[kept]).nunique()
    if (spellings > 1).any():
        notices.append(f"{int((spellings > 1).sum())} touchpoint(s) written in more than one way (case, spaces) were "
                       "read as one; the latest spelling is used")
    display = names.to_numpy(dtype=object)[latest]
    table = _descriptors(frame, codes, grid, latest, display, labels, platform, raw, notices)
    dark = observed & (rows == 0)
    if dark.any():
        unit = "week" if grid.frequency == "weekly" else "month"
        notices.append(f"{int(dark.sum())} dark {unit}(s) in {int(dark.any(axis=1).sum())} touchpoint(s) "
                       f"({_names(display[dark.any(axis=1)])}): no row, read as spend 0 and engaged 0")
    spent = (spend > 0) & (engaged == 0)
    if spent.any():
        notices.append(f"{int(spent.sum())} period(s) with spend and no one engaged, kept: they are evidence of "
                       "zero response")
    chosen = _window(window, grid, source, notices)
    cells = np.nonzero(observed)
    long = pd.DataFrame({S.TOUCHPOINT: display[cells[0]], "period": grid.periods[cells[1]],
                         S.SPEND: spend[cells], S.ENGAGED: engaged[cells], "rows": rows[cells]})
    return History(long, table, grid.frequency, grid.input_frequency, grid.periods, chosen, notices, source,
                   spend, engaged, observed, np.asarray(raw.rows)[latest], labels)


def _dark_days(codes: np.ndarray, days: np.ndarray, end: pd.Timestamp, notices: list[str]) -> None:
    """A notice counting days without a row from each touchpoint's first day to the history's last (daily data)."""
    kept = codes >= 0
    seen = pd.DataFrame({"code": codes[kept], "day": days[kept].astype(int)}).drop_duplicates()
    span = seen.groupby("code")["day"].agg(["min", "count"])
    last = int(np.datetime64(end.date(), "D").astype(int))
    dark = (last - span["min"] + 1) - span["count"]
    if dark.sum() > 0:
        notices.append(f"{int(dark.sum())} day(s) without a row in {int((dark > 0).sum())} touchpoint(s): dark days, "
                       "spend 0 and engaged 0 in their weeks")


def _all_numbers(values: pd.Series, decimal: str) -> bool:
    """Whether every cell is a number (the first hundred decide most text columns at once)."""
    return bool(numbers_once(values.iloc[:100], decimal).notna().all() and numbers_once(values, decimal).notna().all())


def _descriptors(frame: pd.DataFrame, codes: np.ndarray, grid: _Grid, latest: np.ndarray, display: np.ndarray,
                 labels: dict[str, str], platform: pd.Series | None, raw: RawTable, notices: list[str]) -> pd.DataFrame:
    """One row per touchpoint: the latest non-blank value of each descriptor column, with notices."""
    n = len(display)
    out = {S.TOUCHPOINT: display}
    valid = codes >= 0
    cell = np.where(valid, codes * len(grid.periods) + grid.index, -1)
    numbers, dates, summed, changed = [], [], [], []
    order = np.lexsort((np.arange(len(codes)), grid.index))
    for column in frame.columns:
        if column in (S.TOUCHPOINT, S.SPEND, S.ENGAGED):
            continue
        values = frame[column].astype(TEXT).fillna("").str.strip()
        filled = values.ne("").to_numpy() & valid
        known = column in S.KNOWN
        if not known and filled.any() and _all_numbers(values[filled], raw.decimal):
            numbers.append(column)
            continue
        if not known and filled.any() and parse_dates(values[filled]).kind.notna().all():
            dates.append(column)  # e.g. 'Reporting ends' beside 'Reporting starts'
            continue
        per_cell = pd.Series(values[filled].to_numpy()).groupby(cell[filled]).nunique()
        if not known and (per_cell > 1).any():
            summed.append(column)
            continue
        take = order[filled[order]]
        last = pd.Series(values.to_numpy()[take]).groupby(codes[take]).last()
        varies = pd.Series(values.to_numpy()[take]).groupby(codes[take]).nunique() > 1
        if varies.any():
            changed.append(f"{labels.get(column, column)} of {_names(display[varies.index[varies.to_numpy()]])}")
        out[column] = last.reindex(range(n)).fillna("").to_numpy(dtype=object)
    if numbers:
        notices.append(f"not used: {', '.join(numbers)} (numbers per row; map one with --map engaged=COLUMN or "
                       "--map spend=COLUMN to use it)")
    if dates:
        notices.append(f"not used: {', '.join(dates)} (dates; the periods come from '{labels[DATE]}')")
    if summed:
        notices.append(f"rows of a touchpoint in one period were summed over {', '.join(summed)}")
    if changed:
        notices.append(f"changed over time, the latest value is used: {'; '.join(changed)}")
    table = pd.DataFrame(out)
    if S.FUNCTION not in table.columns:
        table[S.FUNCTION] = DEFAULT_FUNCTION
        notices.append(f"no function column: every touchpoint is '{DEFAULT_FUNCTION}' (add one, or map it with "
                       "--map function=COLUMN)")
    if S.CHANNEL not in table.columns:
        if platform is not None:
            values = platform.astype(TEXT).fillna("").str.strip().to_numpy(dtype=object)
            filled = (values != "") & valid
            take = order[filled[order]]
            table[S.CHANNEL] = pd.Series(values[take]).groupby(codes[take]).last().reindex(range(n)).fillna(
                DEFAULT_CHANNEL).to_numpy(dtype=object)
            notices.append(f"no channel column: the platform ('{platform.name}') is each touchpoint's channel")
        else:
            table[S.CHANNEL] = DEFAULT_CHANNEL
            notices.append(f"no channel column: every touchpoint's channel is '{DEFAULT_CHANNEL}' (add one, or map it "
                           "with --map channel=COLUMN)")
    if S.STAGE not in table.columns:
        table[S.STAGE] = ""
    front = [S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, S.STAGE]
    return table[front + [c for c in table.columns if c not in front]]


def _window(spec: str | None, grid: _Grid, source: str, notices: list[str]) -> Window:
    """The window's periods: the last N of the history (all when it is shorter)."""
    total = len(grid.periods)
    default = spec is None
    spec = WINDOW_DEFAULT[grid.frequency] if default else str(spec)
    match = _WINDOW.fullmatch(spec)
    if match is None or (match["n"] is not None and int(match["n"]) == 0):
        raise InputError([Problem(None, "window", spec, "is not a window", WINDOW_FIX, source)], source)
    if match["all"]:
        periods = total
    else:
        days = int(match["n"]) * _DAYS[match["unit"].lower()]
        periods = max(1, int(round(days / _PERIOD_DAYS[grid.frequency])))
    if periods > total:
        unit = "weeks" if grid.frequency == "weekly" else "months"
        if not default:
            notices.append(f"the window {spec} is longer than the history ({total} {unit}): all of it is used")
        periods = total
    return Window(grid.periods[total - periods], grid.periods[total - 1], periods, spec)
