"""The horizon of a plan over time: its periods, their calendar, and the periods a rule names.

A horizon is written as a count and a kind of period: `12m` (months), `4q` (quarters), `13p` or `13x4w` (four-week
periods) or `26w` (weeks). Every kind is a fixed share of a year, so that 12 months, 13 four-week periods,
4 quarters and 52 weeks each make one year exactly:

    month 1/12, quarter 1/4, four-week period 1/13, week 1/52 of a year.

With a start date the periods have a calendar: months and quarters start on the first day of a month (`2026-01`,
`2026-Q1`), weeks and four-week periods on the start date and every 7 or 28 days after (`2026-01-05`). Without one
they are numbered (`M1` ... `M12`, `Q1`, `P1`, `W1`).

A rule's `periods` names some of them: a number (1 is the first period), `[first, last]` (both included), or text:
`"Q4"`, `"H2"` (quarters and halves: of the calendar year when the horizon has a calendar, else of the horizon),
`"Dec"` or `"December"` (calendar months), `"2026-12"`, `"2026-Q4"`, a period's label, `"10-12"`, or several of
these separated by commas (`"1, 4, 7"`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .dates import MONTH_NAMES

MONTH, QUARTER, FOUR_WEEKS, WEEK = "month", "quarter", "four-week period", "week"
KINDS: dict[str, str] = {"m": MONTH, "q": QUARTER, "p": FOUR_WEEKS, "x4w": FOUR_WEEKS, "4w": FOUR_WEEKS, "w": WEEK}
YEARS: dict[str, float] = {MONTH: 1 / 12, QUARTER: 1 / 4, FOUR_WEEKS: 1 / 13, WEEK: 1 / 52}
"""The length of each kind of period, as a share of a year."""
SLOTS: dict[str, int] = {MONTH: 12, QUARTER: 4, FOUR_WEEKS: 13, WEEK: 52}
"""Seasons per year of each kind: the slots a seasonality index is estimated for (month of the year, ...)."""
PREFIX: dict[str, str] = {MONTH: "M", QUARTER: "Q", FOUR_WEEKS: "P", WEEK: "W"}
MAX_PERIODS = 104
"""The most periods a horizon may have (two years of weeks)."""
HORIZON_FIX = "write the horizon as a count and a kind: 12m (months), 4q (quarters), 13p (four-week periods) or 26w"
_HORIZON = re.compile(r"\s*(?P<n>\d+)\s*(?P<unit>x\s*4\s*w|4\s*w|[mqpw])\s*", re.IGNORECASE)
_SPAN = re.compile(r"\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>x\s*4\s*w|4\s*w|[dwmqpy])\s*", re.IGNORECASE)
_SPAN_YEARS = {"d": 1 / 365, "w": 1 / 52, "m": 1 / 12, "q": 1 / 4, "p": 1 / 13, "x4w": 1 / 13, "4w": 1 / 13,
               "y": 1.0}
PERIODS_FIX = ("name periods by number (12), as [first, last] ([10, 12]), or as text: 'Q4', 'H2', 'Dec', "
               "'2026-12', '10-12' or '1, 4, 7'")


def parse_horizon(text: str) -> tuple[int, str]:
    """'12m' -> (12, 'month'); raise ValueError with the fix for anything else."""
    match = _HORIZON.fullmatch(str(text))
    if match is None:
        raise ValueError(f"'{text}' is not a horizon; {HORIZON_FIX}")
    count, unit = int(match["n"]), re.sub(r"\s", "", match["unit"].lower())
    if not 1 <= count <= MAX_PERIODS:
        raise ValueError(f"'{text}': a horizon has 1 to {MAX_PERIODS} periods")
    return count, KINDS[unit]


def span_years(text: str) -> float:
    """A length of time in years: '52w' -> 1.0, '12m' -> 1.0, '1y' -> 1.0, '90d' -> 0.2466."""
    match = _SPAN.fullmatch(str(text))
    if match is None or float(match["n"]) <= 0:
        raise ValueError(f"'{text}' is not a length of time; write e.g. 12m, 52w, 1y, 4q or 90d")
    return float(match["n"]) * _SPAN_YEARS[re.sub(r"\s", "", match["unit"].lower())]


def slot_of(days: pd.DatetimeIndex | pd.Series, kind: str) -> np.ndarray:
    """The season of each day for periods of `kind`: month of the year (0-11), quarter (0-3), four-week period of
    the year (0-12, the 365th and 366th days in the last) or week of the year (0-51, likewise)."""
    stamps = pd.DatetimeIndex(days)
    if kind == MONTH:
        return stamps.month.to_numpy() - 1
    if kind == QUARTER:
        return (stamps.month.to_numpy() - 1) // 3
    day = stamps.dayofyear.to_numpy() - 1
    width = 28 if kind == FOUR_WEEKS else 7
    return np.minimum(day // width, SLOTS[kind] - 1)


@dataclass(frozen=True)
class Calendar:
    """The periods of a horizon: how many, their kind, labels and (with a start) first days."""

    count: int
    kind: str
    start: pd.Timestamp | None = None

    @classmethod
    def of(cls, horizon: str, start: date | pd.Timestamp | None = None) -> Calendar:
        """The calendar of a horizon spec ('12m') from a start day (months and quarters: its month's first day)."""
        count, kind = parse_horizon(horizon)
        first = None
        if start is not None:
            first = pd.Timestamp(start).normalize()
            if kind in (MONTH, QUARTER):
                first = first.replace(day=1)
        return cls(count, kind, first)

    @property
    def years(self) -> float:
        """The length of one period, in years."""
        return YEARS[self.kind]

    @property
    def length_years(self) -> float:
        """The length of the horizon, in years."""
        return self.count * self.years

    @property
    def starts(self) -> pd.DatetimeIndex | None:
        """The first day of every period (None without a start)."""
        if self.start is None:
            return None
        if self.kind == MONTH:
            return pd.date_range(self.start, periods=self.count, freq="MS")
        if self.kind == QUARTER:
            return pd.date_range(self.start, periods=self.count, freq="3MS")
        return pd.date_range(self.start, periods=self.count, freq="28D" if self.kind == FOUR_WEEKS else "7D")

    @property
    def ends(self) -> pd.DatetimeIndex | None:
        """The last day of every period (None without a start)."""
        starts = self.starts
        if starts is None:
            return None
        after = {MONTH: pd.DateOffset(months=1), QUARTER: pd.DateOffset(months=3),
                 FOUR_WEEKS: pd.Timedelta(days=28), WEEK: pd.Timedelta(days=7)}[self.kind]
        return pd.DatetimeIndex([s + after for s in starts]) - pd.Timedelta(days=1)

    @property
    def labels(self) -> list[str]:
        """'2026-01' (months), '2026-Q1' (quarters aligned to the calendar), '2026-01-05' (weeks and four-week
        periods); 'M1', 'Q1', 'P1', 'W1' ... without a start."""
        starts = self.starts
        if starts is None:
            return [f"{PREFIX[self.kind]}{t + 1}" for t in range(self.count)]
        if self.kind == MONTH:
            return [s.strftime("%Y-%m") for s in starts]
        if self.kind == QUARTER:
            return [f"{s.year}-Q{(s.month - 1) // 3 + 1}" if (s.month - 1) % 3 == 0 else
                    f"{s.strftime('%Y-%m')}+3m" for s in starts]
        return [s.strftime("%Y-%m-%d") for s in starts]

    def slots(self) -> np.ndarray | None:
        """The season of every period (slot_of its middle day); None without a start."""
        starts, ends = self.starts, self.ends
        if starts is None:
            return None
        middle = starts + (ends - starts) / 2
        return slot_of(middle, self.kind)

    def _months(self) -> np.ndarray | None:
        """The calendar month (1-12) of every period's middle day (None without a start)."""
        starts, ends = self.starts, self.ends
        if starts is None:
            return None
        return (starts + (ends - starts) / 2).month.to_numpy()

    def select(self, spec: int | str | list | tuple, where: str = "periods") -> np.ndarray:
        """Positions (0-based, ascending) of the periods `spec` names (module docstring); raise ValueError saying
        what is allowed."""
        if isinstance(spec, bool):
            raise ValueError(f"{where}: {spec!r} names no period; {PERIODS_FIX}")
        if isinstance(spec, int):
            return self._numbers([spec], where)
        if isinstance(spec, list | tuple):
            if len(spec) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
                raise ValueError(f"{where}: {list(spec)!r} is not [first, last]; {PERIODS_FIX}")
            first, last = spec
            if first > last:
                raise ValueError(f"{where}: [{first}, {last}] runs backwards; write [{last}, {first}]")
            return self._numbers(list(range(first, last + 1)), where)
        text = str(spec).strip()
        if not text:
            raise ValueError(f"{where}: '' names no period; {PERIODS_FIX}")
        picked: set[int] = set()
        for part in text.split(","):
            picked.update(self._part(part.strip(), where).tolist())
        return np.array(sorted(picked), dtype=int)

    def _numbers(self, numbers: list[int], where: str) -> np.ndarray:
        bad = [n for n in numbers if not 1 <= n <= self.count]
        if bad:
            raise ValueError(f"{where}: period {bad[0]} is outside the horizon (periods 1 to {self.count})")
        return np.array(sorted(set(numbers)), dtype=int) - 1

    def _part(self, part: str, where: str) -> np.ndarray:
        """The periods one comma-separated piece of text names."""
        if re.fullmatch(r"\d+", part):
            return self._numbers([int(part)], where)
        labels = [label.casefold() for label in self.labels]
        if part.casefold() in labels:
            return np.array([labels.index(part.casefold())])
        months = self._months()
        month = re.fullmatch(r"(\d{4})-(\d{1,2})", part)
        if month and months is not None:
            hit = np.flatnonzero((months == int(month[2])) & (self._years() == int(month[1])))
            if len(hit):
                return hit
            raise ValueError(f"{where}: '{part}' is not in the horizon ({self.labels[0]} to {self.labels[-1]})")
        span = re.fullmatch(r"(\d{1,3})\s*(?:-|to|\.\.)\s*(\d{1,3})", part)
        if span:
            return self.select([int(span[1]), int(span[2])], where)
        quarter = re.fullmatch(r"(?:(\d{4})\s*-?\s*)?q([1-4])", part, re.IGNORECASE)
        half = re.fullmatch(r"(?:(\d{4})\s*-?\s*)?h([12])", part, re.IGNORECASE)
        for match, parts in ((quarter, 4), (half, 2)):
            if match is None:
                continue
            k = int(match[2]) - 1
            if months is None:
                if match[1]:
                    raise ValueError(f"{where}: '{part}' names a year, and the horizon has no calendar (give "
                                     "[periods] a start date)")
                position = np.floor(parts * (np.arange(self.count) + 0.5) / self.count).astype(int)
                hit = np.flatnonzero(position == k)
            else:
                per = 12 // parts
                hit = np.flatnonzero((months - 1) // per == k)
                if match[1]:
                    years = self._years()
                    hit = hit[years[hit] == int(match[1])]
            if not len(hit):
                raise ValueError(f"{where}: '{part}' names no period of the horizon ({self.labels[0]} to "
                                 f"{self.labels[-1]})")
            return hit
        word = part.casefold().rstrip(".")
        number = next((n for name, n in MONTH_NAMES.items() if len(word) >= 3 and name.startswith(word)), None)
        if number is not None:
            if months is None:
                raise ValueError(f"{where}: '{part}' is a month of the calendar, and the horizon has none (give "
                                 "[periods] a start date, or name the periods by number)")
            hit = np.flatnonzero(months == number)
            if not len(hit):
                raise ValueError(f"{where}: '{part}' is not in the horizon ({self.labels[0]} to {self.labels[-1]})")
            return hit
        raise ValueError(f"{where}: '{part}' names no period of the horizon ({self.labels[0]} to {self.labels[-1]}); "
                         f"{PERIODS_FIX}")

    def _years(self) -> np.ndarray:
        starts, ends = self.starts, self.ends
        return (starts + (ends - starts) / 2).year.to_numpy()

    def describe(self, positions: np.ndarray) -> str:
        """Periods in words: '2026-10 to 2026-12', '2026-01, 2026-04', 'every period'."""
        positions = np.asarray(positions, int)
        if len(positions) == self.count:
            return "every period"
        labels = self.labels
        if len(positions) == 1:
            return labels[positions[0]]
        if np.all(np.diff(positions) == 1):
            return f"{labels[positions[0]]} to {labels[positions[-1]]}"
        return ", ".join(labels[p] for p in positions)


FREQUENCY_YEARS = {"weekly": 1 / 52, "monthly": 1 / 12}
"""A history's periods as a share of a year."""


def calendar_of(attrs: dict, horizon: str, start: date | None = None) -> Calendar:
    """The calendar of a horizon: from `start`, else right after the history a table was made from (its attrs
    'last_period' and 'frequency'; months and quarters begin on the next first of a month), else numbered periods."""
    if start is not None:
        return Calendar.of(horizon, start)
    last = attrs.get("last_period")
    frequency = attrs.get("frequency")
    if last is None or frequency not in FREQUENCY_YEARS:
        return Calendar.of(horizon)
    after = pd.Timestamp(last) + (pd.DateOffset(months=1) if frequency == "monthly" else pd.Timedelta(days=7))
    if parse_horizon(horizon)[1] in (MONTH, QUARTER) and after.day != 1:
        after = (after + pd.offsets.MonthBegin(1)).normalize()
    return Calendar.of(horizon, after)
