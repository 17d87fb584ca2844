"""Dates and periods as people write them, read a whole column at a time.

Accepted (each cell on its own, the order of day and month decided for the whole column):

- days: ISO `2024-01-29` (also `2024/01/29`, with a time `2024-01-29T10:00:00` or `2024-01-29 10:00`), compact
  `20240129`, dotted `29.01.2024` (always day first), `29/01/2024` or `01/29/2024` and the same with `-`
  (day or month first: see below), two-digit years (`29.01.24`: 00-68 are 2000-2068, 69-99 are 1969-1999),
  Excel serial day numbers (`45320` = 2024-01-29; 20000-80000, i.e. 1954-2119) and the datetime cells of a
  workbook (which the reader writes as ISO text);
- ISO weeks: `2024-W05`, `2024W05`, `2024-W05-1` (the Monday of the week);
- months: `2024-01`, `2024/01`, `01/2024`, `Jan 2024`, `January 2024`, `Jan-24`, `2024 Jan` (English and German
  month names), the first day of the month.

Day or month first (`01/02/2024`): a column where some first number is above 12 is day first, where some second
number is above 12, month first; a column with both is refused at the rows that disagree with the majority. When
no number decides, the reading whose dates are the more regular (fewer different gaps between consecutive dates,
then the smaller gap) wins, with a notice; when both are as regular, day first, with a notice saying how to make
it certain (write ISO dates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .amounts import TEXT

DAY, WEEK, MONTH = "day", "week", "month"
"""What one cell names: a day, an ISO week, or a month."""

EXCEL_EPOCH = pd.Timestamp("1899-12-30")
"""Excel's day 0 (serial numbers count days from here, which absorbs Excel's 1900 leap-year bug after March 1900)."""
YEARS = (1900, 2200)
"""The years a date may name (pandas' dates end in 2262; a history older than 1900 is a typing error)."""
EXCEL_SERIALS = (20_000, 80_000)
"""Numbers read as Excel serial days: 1954-10-04 to 2119-01-11. Smaller numbers (years, counts) are not dates."""

_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?)?"
_ISO = re.compile(rf"(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}}){_TIME}")
_COMPACT = re.compile(r"(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})")
_DOTTED = re.compile(rf"(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})\.(?P<y>\d{{4}}|\d{{2}}){_TIME}")
_EITHER = re.compile(rf"(?P<a>\d{{1,2}})(?P<sep>[/-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}|\d{{2}}){_TIME}")
_WEEK = re.compile(r"(?P<y>\d{4})\s*-?\s*W(?P<w>\d{1,2})(?:-?(?P<wd>[1-7]))?", re.IGNORECASE)
_YEAR_MONTH = re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})")
_MONTH_YEAR = re.compile(r"(?P<m>\d{1,2})[-/.](?P<y>\d{4})")
_NAME_YEAR = re.compile(r"(?P<name>[^\W\d_]{3,9})\.?[\s\-/'’]*(?P<y>\d{4}|\d{2})")
_YEAR_NAME = re.compile(r"(?P<y>\d{4})[\s\-/]+(?P<name>[^\W\d_]{3,9})\.?")
_SERIAL = re.compile(r"(?P<n>\d{5})(?:\.\d+)?")

MONTH_NAMES: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "januar": 1, "februar": 2, "märz": 3, "maerz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
}
"""Month names (English, German); a name may be cut after three letters or more (`Sep`, `Sept`, `Okt`)."""
_MONTH_WORDS = {word[:k]: number for word, number in MONTH_NAMES.items() for k in range(3, len(word) + 1)}

DATE_FIX = "write dates as 2024-01-29 (or 29.01.2024), weeks as 2024-W05, months as 2024-01"


@dataclass
class ParsedDates:
    """A column of dates: the day each cell names (the Monday of a week, the first of a month), its kind."""

    dates: pd.Series
    """datetime64; NaT where a cell is blank or not a date."""
    kind: pd.Series
    """DAY, WEEK or MONTH per cell; <NA> where it is not a date."""
    invalid: pd.Series
    """Per cell, why it is not a date (<NA> for cells that are dates or blank)."""
    notices: list[str] = field(default_factory=list)


def _year(text: pd.Series) -> pd.Series:
    """Four-digit years as they are; two-digit years 00-68 -> 2000-2068, 69-99 -> 1969-1999 (as POSIX does)."""
    year = _number(text)
    return year.where(text.str.len().ne(2).fillna(True).astype(bool), year + np.where(year < 69, 2000, 1900))


def _number(text: pd.Series) -> pd.Series:
    """Digits as floats (NaN where missing)."""
    return pd.to_numeric(text, errors="coerce").astype(float)


def _days(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    """Dates from numbers; NaT where a number is missing or the date does not exist (2024-02-30)."""
    frame = pd.DataFrame({"year": _number(year), "month": _number(month), "day": _number(day)})
    ok = (frame.notna().all(axis=1) & frame["year"].between(*YEARS) & frame["month"].between(1, 12)
          & frame["day"].between(1, 31))
    out = pd.Series(pd.NaT, index=year.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(frame[ok].astype(int), errors="coerce")
    return out


def _regularity(dates: pd.Series) -> tuple[int, float]:
    """How irregular a set of dates is: the number of different gaps between consecutive dates, the median gap."""
    unique = np.unique(dates.dropna().to_numpy(dtype="datetime64[D]"))
    if len(unique) < 2:
        return 0, 0.0
    gaps = np.diff(unique).astype(int)
    return len(np.unique(gaps)), float(np.median(gaps))


def parse_dates(cells: pd.Series) -> ParsedDates:
    """Read a column of date cells (text) into days; see the module docstring for what is accepted.

    Each distinct cell is read once (a history repeats its dates on every row of a period).
    """
    codes, distinct = pd.factorize(cells.astype(TEXT).fillna("").str.strip())
    parsed = _parse_distinct(pd.Series(distinct, dtype=TEXT))

    def spread(values: pd.Series) -> pd.Series:
        return pd.Series(values.to_numpy()[codes], index=cells.index, dtype=values.dtype)

    return ParsedDates(spread(parsed.dates), spread(parsed.kind), spread(parsed.invalid), parsed.notices)


def _parse_distinct(text: pd.Series) -> ParsedDates:
    """parse_dates on distinct, stripped cells."""
    cells = text
    dates = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    kind = pd.Series(pd.NA, index=cells.index, dtype=TEXT)
    notices: list[str] = []
    todo = text.ne("")

    def take(mask: pd.Series, values: pd.Series, what: str) -> None:
        nonlocal todo
        dates[mask] = values[mask]
        kind[mask] = what
        todo = todo & ~mask

    def match(pattern: re.Pattern) -> pd.DataFrame:
        return text.where(todo, "").str.extract(f"^(?:{pattern.pattern})$", flags=pattern.flags)

    iso = match(_ISO)
    take(iso["y"].notna(), _days(iso["y"], iso["m"], iso["d"]), DAY)
    compact = match(_COMPACT)
    take(compact["y"].notna(), _days(compact["y"], compact["m"], compact["d"]), DAY)
    dotted = match(_DOTTED)
    take(dotted["y"].notna(), _days(_year(dotted["y"]), dotted["m"], dotted["d"]), DAY)

    invalid = pd.Series(pd.NA, index=cells.index, dtype=TEXT)
    either = match(_EITHER)
    found = either["a"].notna()
    if found.any():
        a, b = _number(either["a"]), _number(either["b"])
        year = _year(either["y"])
        day_first, month_first = _days(year, b, a), _days(year, a, b)
        by_day, by_month = found & (a > 12), found & (b > 12)
        if by_day.any() and by_month.any():  # the rows that disagree with the majority are refused
            odd, usual = (by_month, by_day) if by_month.sum() <= by_day.sum() else (by_day, by_month)
            order = "day/month/year" if usual is by_day else "month/day/year"
            invalid[odd] = f"the other dates are written {order} (e.g. '{text[usual].iloc[0]}'); this one is not"
            todo = todo & ~odd
            found = found & ~odd
            take(found, day_first if usual is by_day else month_first, DAY)
        elif by_day.any():
            take(found, day_first, DAY)
        elif by_month.any():
            take(found, month_first, DAY)
        else:
            other = dates[~found]
            first = _regularity(pd.concat([other, day_first[found]]))
            second = _regularity(pd.concat([other, month_first[found]]))
            example = text[found].iloc[0]
            if second < first:
                take(found, month_first, DAY)
                notices.append(f"read dates such as '{example}' as month/day/year: no number in them is above 12, "
                               "and that reading gives the more regular periods; write dates as 2024-01-29 to be "
                               "certain")
            else:
                take(found, day_first, DAY)
                reason = ("that reading gives the more regular periods" if first < second
                          else "both readings are as regular, and day first is the more common order")
                notices.append(f"read dates such as '{example}' as day/month/year: no number in them is above 12, "
                               f"and {reason}; write dates as 2024-01-29 to be certain")

    week = match(_WEEK)
    has_week = week["y"].notna()
    if has_week.any():
        iso_text = week["y"] + "-W" + week["w"].str.zfill(2) + "-1"  # the week's Monday, whatever day is named
        readable = has_week & _number(week["y"]).between(*YEARS)
        monday = pd.to_datetime(iso_text.where(readable), format="%G-W%V-%u", errors="coerce")
        take(has_week, monday.astype("datetime64[ns]"), WEEK)

    for pattern in (_YEAR_MONTH, _MONTH_YEAR):
        month = match(pattern)
        take(month["y"].notna(), _days(month["y"], month["m"], pd.Series(1, index=cells.index)), MONTH)
    for pattern in (_NAME_YEAR, _YEAR_NAME):
        named = match(pattern)
        number = named["name"].str.casefold().map(_MONTH_WORDS)
        hit = named["y"].notna() & number.notna()
        take(hit, _days(_year(named["y"]), number, pd.Series(1, index=cells.index)), MONTH)

    serial = match(_SERIAL)
    days = _number(serial["n"])
    in_range = days.between(*EXCEL_SERIALS)
    take(in_range, EXCEL_EPOCH + pd.to_timedelta(days.where(in_range), unit="D"), DAY)
    parsed = _finish(dates, kind, todo, notices, invalid)
    year = cells.str.extract(r"(?<!\d)(\d{4})(?!\d)")[0]
    far = parsed.kind.isna() & parsed.invalid.notna() & ~_number(year).between(*YEARS) & year.notna()
    parsed.invalid[far] = "names the year " + year[far] + f": dates from {YEARS[0]} to {YEARS[1]} are read"
    return parsed


def _finish(dates: pd.Series, kind: pd.Series, todo: pd.Series, notices: list[str],
            invalid: pd.Series) -> ParsedDates:
    """Cells read as a pattern but naming no real date, and cells no pattern reads, get their reason."""
    impossible = kind.notna() & dates.isna()
    invalid = invalid.mask(impossible, "is not a real date (no such day, week or month)")
    invalid = invalid.mask(todo & invalid.isna(), "is not a date")
    kind = kind.where(dates.notna())
    return ParsedDates(dates, kind, invalid, notices)
