"""Response curves given as points (`--curves FILE`), the way marketing-mix tools export them.

Long rows `touchpoint, spend, engaged`: the customers (or outcome) the planning period engages at each spend
level of the period, optionally with a band (`lower`, `upper`). The file is read like any table
(`io.read_table`: encodings, separators, title rows, number formats) and its columns found by name
(`CURVE_COLUMNS`) or with `--map` (`--map touchpoint=channel --map engaged=incremental_outcome`). Between the
points a curve is linear; beyond its last point it does not go (no extrapolation).

Three shapes are summarised into one point per touchpoint and spend:
- one row per point, the band (if any) in columns (`ci_lo`, `ci_hi`, `engaged_lower`, `engaged_upper`, ...);
- Meridian's long form: a `metric` column whose rows say `mean` (or `median`), `ci_lo` and `ci_hi` for the
  same touchpoint and spend (the value in the engaged column);
- posterior draws (PyMC-Marketing): a `sample` or `draw` column; the point is the mean over the draws and the
  band their 5 %-95 % range.

Checks, every problem at once with row, column, value and fix: numbers that are not numbers, negative spend
or engaged, a band that does not hold the point, a spend given twice for one touchpoint with different
engagement (twice with the same, the rows are merged, with a notice), fewer than 2 points for a touchpoint,
and **engaged falling as spend rises** (an error, not a notice: no marketing-mix tool's response curve falls
with spend, so a fall means the rows mix several curves, such as geos, scenarios or Meridian's optimisation
`Group ID`, or the column is not a response, such as ROI). Sorted by spend; a curve whose first point is above
zero spend starts at (0, 0) (notice). A curve with a convex stretch (a slope that rises, as on an S-curve) is
flagged `concave = False`: the engine solves it as a mixed-integer programme.

Response-curve outputs of the marketing-mix tools, and how to bring them in
-----------------------------------------------------------------------------
Google Meridian (`meridian/analysis/analyzer.py`, `Analyzer.response_curves`; the same through
`visualizer.MediaEffects.response_curves_data` and `optimizer.OptimizationResults.get_response_curves`): an
xarray Dataset with coordinates `channel`, `metric` (`mean`, `ci_lo`, `ci_hi`; the credible interval at
`confidence_level`, default 0.9) and `spend_multiplier` (default 0, 0.2, ..., 2.0; the optimiser's grid is
finer), and data variables `spend` (the multiplier times the channel's historical spend over the selected
geos and times) and `incremental_outcome` (per multiplier, channel and metric: the incremental outcome over the
same geos and times, revenue unless `use_kpi=True`, which gives the KPI, e.g. conversions). The planning period
is those selected times. `ds.to_dataframe().reset_index().to_csv(...)` writes the long form (`channel, metric,
spend_multiplier, spend, incremental_outcome`): `--map touchpoint=channel --map engaged=incremental_outcome`.
Meridian's own plots pivot the metric into columns (`channel, spend, spend_multiplier, ci_hi, ci_lo, mean`):
`--map touchpoint=channel --map engaged=mean`. The scenario planner's `response_curves` sheet (`Group ID,
Channel, Spend, Incremental Outcome`) holds one curve per optimisation: keep one Group ID.

Meta Robyn (`R/R/allocator.R`): `robyn_allocator()` simulates each channel's response curve, `plotDT_scurve`
(`channel, spend, mean_carryover, carryover_response, total_response`: 100 spend levels from 0 to 1.5 times the
largest of the initial and optimised spend, `total_response` = the channel's coefficient times its Hill curve),
drawn on the allocator's one-pager and kept in `AllocatorCollect$plots$p3$data`. Its spend is per model period
(a week for weekly data) and adstocked (it includes the mean carryover, `mean_carryover`, whose response is
`carryover_response`). `write.csv(AllocatorCollect$plots$p3$data, "robyn_curves.csv")` adds an unnamed first
column of row numbers, which the reader leaves out: `--map touchpoint=channel --map engaged=total_response`.
Plan a one-period horizon on it (the touchpoint table's spend per period, Robyn's `initSpendUnit`).
`robyn_response()` returns one channel's historical points (`input_total`, `response_total`), not a grid.

PyMC-Marketing (`pymc_marketing/mmm/sensitivity_analysis.py`): `mmm.sensitivity.run_sweep(var_input=
"channel_data", sweep_values=np.linspace(0, 2, 21), var_names="channel_contribution_original_scale",
sweep_type="multiplicative")` returns a DataArray with dims `(sample, sweep, channel)`: each channel's
contribution summed over the model's dates with its spend in every period multiplied by the sweep value, one
value per posterior sample. Its x is a multiplier, so add the spend before writing it:
`df = curves.to_dataframe(name="contribution").reset_index(); df["spend"] = df["sweep"] *
df["channel"].map(X[channel_columns].sum()); df.to_csv(...)`; then `--map touchpoint=channel --map
engaged=contribution`, and the `sample` column makes the reader summarise the draws. (`mmm.sample_saturation_curve()`
gives `(sample, x, channel)` per period with x in the model's scaled units: multiply x by the channel's scale.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .. import schema as S
from ..amounts import TEXT
from ..errors import InputError, Problem
from ..history import numbers_once
from ..ingest import RawTable
from ..mapping import SYNONYMS, column_label, find_columns
from .text import continue_points

LOWER, UPPER, METRIC, DRAW = "lower", "upper", "metric", "draw"
CURVE_COLUMNS: dict[str, tuple[str, ...]] = {
    S.TOUCHPOINT: (*SYNONYMS[S.TOUCHPOINT], "channel", "channels", "media", "media channel", "channel name"),
    S.SPEND: SYNONYMS[S.SPEND],
    S.ENGAGED: (*SYNONYMS[S.ENGAGED], "incremental outcome", "total response", "response", "contribution",
                "channel contribution", "channel contribution original scale", "outcome", "incremental kpi", "mean"),
    LOWER: ("ci lo", "ci low", "engaged lower", "lower ci", "response lower", "contribution lower", "outcome lower",
            "hdi lower", "lo", "low", "q05", "p05", "p5"),
    UPPER: ("ci hi", "ci high", "engaged upper", "upper ci", "response upper", "contribution upper", "outcome upper",
            "hdi upper", "hi", "high", "q95", "p95"),
    METRIC: ("statistic", "stat"),
    DRAW: ("sample", "draws", "iteration"),
}
"""The columns of a curves file and other names people (and marketing-mix tools) give them."""
METRICS = {"mean": S.ENGAGED, "median": S.ENGAGED, "ci_lo": LOWER, "ci_hi": UPPER}
"""Meridian's metric rows and the column each fills (`median` only where a point has no `mean`)."""
BAND_QUANTILES = (0.05, 0.95)
"""The band of a curve given as draws: this range of the draws at each spend."""
RELATIVE_TOLERANCE = 1e-9
"""Differences below this share of a curve's largest value are rounding: equal engagement, no fall, no bend."""
_SHOWN = 5


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in list(names)[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def curve_key(names: pd.Series | Sequence[str]) -> pd.Series:
    """Touchpoint names compared without case and runs of spaces (how curves match touchpoints)."""
    text = pd.Series(list(names), dtype=TEXT) if not isinstance(names, pd.Series) else names.astype(TEXT)
    codes, distinct = pd.factorize(text.fillna(""))
    keys = pd.Series(distinct, dtype=TEXT).str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()
    return pd.Series(keys.to_numpy()[codes], index=text.index, dtype=TEXT)


@dataclass
class TabulatedCurves:
    """Response curves as points, one row per touchpoint, NaN-padded to the longest curve.

    Row i holds touchpoint `names[i]`'s points sorted by spend (the first at spend 0); `lower`/`upper` are
    NaN where the file gives no band.
    """

    names: list[str]
    spend: np.ndarray
    engaged: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    concave: np.ndarray
    """Per touchpoint: True when the slopes between its points never rise (an LP is exact on it)."""
    notices: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def points(self) -> np.ndarray:
        """Number of points per touchpoint."""
        return np.isfinite(self.spend).sum(axis=1)

    def extended(self, factor: float) -> TabulatedCurves:
        """The curves (and their bands) continued beyond their last point up to `factor` x its spend at their
        last piece's slope (`continue_points`); factor 1 returns the curves as they are."""
        if factor <= 1.0:
            return self
        factors = np.full(len(self.names), float(factor))
        spend, engaged = continue_points(self.spend, self.engaged, factors)
        _, lower = continue_points(self.spend, self.lower, factors)
        _, upper = continue_points(self.spend, self.upper, factors)
        return replace(self, spend=spend, engaged=engaged, lower=lower, upper=upper)

    @property
    def has_band(self) -> np.ndarray:
        """Per touchpoint: True when every point has a lower and an upper value."""
        given = np.isfinite(self.spend)
        return (given.any(axis=1) & ~(given & ~(np.isfinite(self.lower) & np.isfinite(self.upper))).any(axis=1))

    def evaluate(self, spend: Sequence[float] | np.ndarray, which: str = S.ENGAGED) -> np.ndarray:
        """Engaged (or `lower`/`upper`) at one spend per touchpoint, linear between points; NaN beyond the last.

        e_i(s) = e_ik + (s - s_ik) (e_i,k+1 - e_ik) / (s_i,k+1 - s_ik) for s_ik <= s <= s_i,k+1.
        """
        values = {S.ENGAGED: self.engaged, LOWER: self.lower, UPPER: self.upper}[which]
        spend = np.asarray(spend, dtype=float)
        n = len(self.names)
        count = self.points
        below = np.nan_to_num(self.spend, nan=np.inf) <= spend[:, None]
        k = np.clip(below.sum(axis=1) - 1, 0, np.maximum(count - 2, 0))
        rows = np.arange(n)
        s0, s1 = self.spend[rows, k], self.spend[rows, np.minimum(k + 1, self.spend.shape[1] - 1)]
        e0, e1 = values[rows, k], values[rows, np.minimum(k + 1, self.spend.shape[1] - 1)]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = e0 + (spend - s0) * (e1 - e0) / (s1 - s0)
        last = self.spend[rows, np.maximum(count - 1, 0)]
        out = np.where(spend == s0, e0, out)
        return np.where((spend >= 0) & (spend <= last) & (count >= 2), out, np.nan)

    def table(self) -> pd.DataFrame:
        """The points as a long table: touchpoint, spend, engaged, lower, upper."""
        given = np.isfinite(self.spend)
        rows = np.nonzero(given)
        return pd.DataFrame({S.TOUCHPOINT: np.asarray(self.names, dtype=object)[rows[0]], S.SPEND: self.spend[given],
                             S.ENGAGED: self.engaged[given], LOWER: self.lower[given], UPPER: self.upper[given]})

    def match(self, touchpoints: pd.DataFrame | Sequence[str]) -> CurveMatch:
        """Align the curves to a touchpoint table's rows, names compared without case and runs of spaces.

        The result's curves have one row per touchpoint of the table, in its order (all NaN, `concave` True,
        where a touchpoint has no curve); it names the touchpoints without a curve and the curves without a
        touchpoint.
        """
        names = list(touchpoints[S.TOUCHPOINT]) if isinstance(touchpoints, pd.DataFrame) else list(touchpoints)
        mine = pd.Series(np.arange(len(self.names)), index=curve_key(self.names).to_numpy())
        index = mine.reindex(curve_key(names).to_numpy()).fillna(-1).astype(int).to_numpy()
        found = index >= 0
        pick = np.where(found, index, 0)

        def take(values: np.ndarray, fill: float | bool) -> np.ndarray:
            out = values[pick] if len(self.names) else np.full((len(names), *values.shape[1:]), fill)
            out = out.copy()
            out[~found] = fill
            return out

        width = self.spend.shape[1] if self.spend.ndim == 2 else 0
        empty = np.full((len(self.names), width), np.nan)
        aligned = TabulatedCurves(
            [str(n) for n in names], take(self.spend if width else empty, np.nan),
            take(self.engaged if width else empty, np.nan), take(self.lower if width else empty, np.nan),
            take(self.upper if width else empty, np.nan), take(self.concave, True), list(self.notices), self.source)
        unused = [n for i, n in enumerate(self.names) if i not in set(index[found].tolist())]
        missing = [str(n) for n, f in zip(names, found, strict=True) if not f]
        notices = []
        if missing:
            notices.append(f"no curve for {_names(missing)}")
        if unused:
            notices.append(f"curves for no touchpoint of the table: {_names(unused)}")
        return CurveMatch(aligned, index, missing, unused, notices)


@dataclass
class CurveMatch:
    """Curves aligned to a touchpoint table, and what did not match on either side."""

    curves: TabulatedCurves
    index: np.ndarray
    """For each row of the table, the row of its curve in the curves read (-1: none)."""
    missing: list[str]
    """Touchpoints of the table with no curve."""
    unused: list[str]
    """Curves whose touchpoint is not in the table."""
    notices: list[str]


def curves_from_table(raw: RawTable, mapping: Mapping[str, str | Sequence[str]] | None = None) -> TabulatedCurves:
    """Read response curves from a raw table (see the module docstring); raise InputError listing every problem."""
    notices = list(raw.notices)
    try:
        return _read(raw, mapping, notices)
    except InputError as exc:
        raise InputError(exc.problems, raw.source, notices=notices) from None


def _read(raw: RawTable, mapping, notices: list[str]) -> TabulatedCurves:
    source, headers = raw.source, raw.headers
    if raw.data.empty:
        raise InputError([Problem(None, None, None, "the curves file has no data rows",
                                  "add one row per touchpoint and spend level under the header", source)], source)
    explicit, problems = {}, []
    for target, spec in (mapping or {}).items():
        if isinstance(spec, str):
            explicit[target] = spec
        else:
            problems.append(Problem(None, target, " + ".join(spec), "a curve column comes from one column",
                                    f"map {target} to a single column", source))
    try:
        columns = find_columns(headers, CURVE_COLUMNS, explicit, source)
    except InputError as exc:
        problems += exc.problems
        columns = {}
    for target in (S.TOUCHPOINT, S.SPEND, S.ENGAGED):
        if target not in columns and not problems:
            problems.append(Problem(None, target, None, "the curves file has no column for it",
                                    f"name it, e.g. --map {target}=COLUMN (the headers are: {', '.join(headers)})",
                                    source))
    if problems:
        raise InputError(problems, source)
    labels = {target: column_label(target, [header]) for target, header in columns.items()}
    unused = [h for h in headers if h not in columns.values()]
    if unused:
        notices.append(f"not used: {', '.join(unused)}")
    data = raw.data
    rows = np.asarray(raw.rows)

    def refuse(mask, target: str, message: str, fix: str) -> None:
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            problems.append(Problem(int(rows[i]), labels[target], data[columns[target]].iloc[i], message, fix, source))

    names = data[columns[S.TOUCHPOINT]].astype(TEXT).fillna("").str.strip()
    refuse(names.eq(""), S.TOUCHPOINT, "is empty", "give every row its touchpoint")
    parsed = {}
    for target in (S.SPEND, S.ENGAGED, LOWER, UPPER):
        if target not in columns:
            parsed[target] = np.full(len(data), np.nan)
            continue
        cells = data[columns[target]]
        value = numbers_once(cells, raw.decimal)
        blank = cells.astype(TEXT).fillna("").str.strip().eq("")
        refuse(value.isna() & ~blank, target, "is not a number", "write a plain number such as 1200.50")
        if target in (S.SPEND, S.ENGAGED):
            refuse(blank, target, "is empty", f"give every point its {target}")
            refuse(value < 0, target, "is negative", "use zero or a positive number")
        parsed[target] = value.to_numpy(float)
    frame = pd.DataFrame({"key": curve_key(names).to_numpy(), "name": names.to_numpy(dtype=object),
                          S.SPEND: parsed[S.SPEND], S.ENGAGED: parsed[S.ENGAGED], LOWER: parsed[LOWER],
                          UPPER: parsed[UPPER], "row": rows, "at": np.arange(len(data))})
    if LOWER in columns or UPPER in columns:
        problems += _band_problems(frame, labels, source)
    if METRIC in columns:
        metric = data[columns[METRIC]].astype(TEXT).fillna("").str.strip().str.casefold().to_numpy(dtype=object)
        refuse(~np.isin(metric, list(METRICS)), METRIC, "is not a metric budgetopt reads",
               "use mean (or median), ci_lo and ci_hi, the metric rows of Meridian's response curves")
    _raise(problems, source)
    if METRIC in columns:
        frame = _metric_rows(frame, metric, labels, problems, notices, source)
        problems += _band_problems(frame, labels, source)
    elif DRAW in columns:
        frame = _draws(frame, notices)
    _raise(problems, source)
    frame, merged = _merge_repeats(frame, labels, source, problems)
    if merged:
        notices.append(f"{merged} repeated point(s) (same touchpoint, spend and engagement) read once")
    return _arrays(frame, labels, source, problems, notices)


def _flag(frame: pd.DataFrame, mask, label: str, values, message: str, fix: str, source: str) -> list[Problem]:
    """Problems at the file rows of the points where mask holds."""
    mask = np.asarray(mask, dtype=bool)
    shown = np.asarray(values, dtype=object)[mask] if values is not None else [None] * int(mask.sum())
    return [Problem(int(row), label, value, message, fix, source)
            for row, value in zip(frame["row"].to_numpy()[mask], shown, strict=True)]


def _raise(problems: list[Problem], source: str) -> None:
    """Raise every problem found so far, in the order of the file's rows."""
    if problems:
        problems.sort(key=lambda p: (p.row if p.row is not None else -1))
        raise InputError(problems, source)


def _metric_rows(frame: pd.DataFrame, metric: np.ndarray, labels, problems: list[Problem], notices: list[str],
                 source: str) -> pd.DataFrame:
    """Meridian's long form: the mean (or median), ci_lo and ci_hi rows of a point become one point."""
    center = "mean" if (metric == "mean").any() else "median"
    frame = frame.assign(metric=metric)
    if center == "mean" and (metric == "median").any():
        notices.append(f"the median rows of '{labels[METRIC]}' were not used: the mean is the point")
    frame = frame[frame["metric"].isin([center, "ci_lo", "ci_hi"])]
    groups = frame.groupby(["key", S.SPEND, "metric"])[S.ENGAGED]
    spread = (groups.transform("max") - groups.transform("min")).to_numpy()
    scale = frame.groupby("key")[S.ENGAGED].transform("max").abs().to_numpy()
    problems += _flag(frame, spread > RELATIVE_TOLERANCE * np.maximum(scale, 1.0), labels[S.ENGAGED],
                      frame[S.ENGAGED], "the same touchpoint, spend and metric appear twice with different values",
                      "keep one curve per touchpoint (the rows mix several curves, e.g. geos or scenarios)", source)
    wide = frame.pivot_table(index=["key", S.SPEND], columns="metric", values=S.ENGAGED, aggfunc="first")
    first = frame.groupby(["key", S.SPEND]).agg(name=("name", "first"), row=("row", "min"), at=("at", "min"))
    out = first.join(wide).reset_index()
    missing = out[center].isna() if center in out.columns else pd.Series(True, index=out.index)
    problems += _flag(out, missing, labels[METRIC], None, f"this touchpoint and spend have no {center} row",
                      f"give every point a {center} row (ci_lo and ci_hi alone are only its band)", source)
    return pd.DataFrame({"key": out["key"], "name": out["name"], S.SPEND: out[S.SPEND],
                         S.ENGAGED: out.get(center), LOWER: out.get("ci_lo", np.nan),
                         UPPER: out.get("ci_hi", np.nan), "row": out["row"], "at": out["at"]})


def _draws(frame: pd.DataFrame, notices: list[str]) -> pd.DataFrame:
    """Posterior draws: one point per touchpoint and spend, the mean of the draws, their quantiles as the band."""
    groups = frame.groupby(["key", S.SPEND], sort=False)
    out = groups.agg(name=("name", "first"), row=("row", "min"), at=("at", "min"), draws=("at", "size"),
                     engaged=(S.ENGAGED, "mean"))
    band = groups[S.ENGAGED].quantile(list(BAND_QUANTILES)).unstack()
    out[LOWER], out[UPPER] = band[BAND_QUANTILES[0]], band[BAND_QUANTILES[1]]
    low, high = (f"{100 * q:g} %" for q in BAND_QUANTILES)
    notices.append(f"summarised {int(out['draws'].median())} draws per point: the point is their mean, the band "
                   f"their {low}-{high} range")
    return out.reset_index().rename(columns={"engaged": S.ENGAGED}).drop(columns="draws")


def _merge_repeats(frame: pd.DataFrame, labels, source: str, problems: list[Problem]) -> tuple[pd.DataFrame, int]:
    """A spend given twice for one touchpoint: one point when the engagement agrees, a problem when it does not."""
    repeated = frame.duplicated(["key", S.SPEND], keep=False).to_numpy()
    if not repeated.any():
        return frame, 0
    groups = frame.groupby(["key", S.SPEND])[S.ENGAGED]
    spread = (groups.transform("max") - groups.transform("min")).to_numpy()
    scale = frame.groupby("key")[S.ENGAGED].transform("max").abs().to_numpy()
    differ = repeated & (spread > RELATIVE_TOLERANCE * np.maximum(scale, 1.0))
    first_row = frame.groupby(["key", S.SPEND])["row"].transform("min").to_numpy()
    later = differ & (frame["row"].to_numpy() != first_row)
    for row, at, value, spend, name in zip(frame["row"].to_numpy()[later], first_row[later],
                                           frame[S.ENGAGED].to_numpy()[later], frame[S.SPEND].to_numpy()[later],
                                           frame["name"].to_numpy()[later], strict=True):
        problems.append(Problem(int(row), labels[S.ENGAGED], value, f"touchpoint '{name}' has spend {spend:g} on "
                                f"row {at} too, with other engagement", "keep one curve per touchpoint (the rows "
                                "mix several curves, e.g. geos, scenarios or an optimisation's Group ID)", source))
    merged = frame.drop_duplicates(["key", S.SPEND], keep="first")
    return merged, len(frame) - len(merged)


def _band_problems(frame: pd.DataFrame, labels, source: str) -> list[Problem]:
    """Points whose band does not hold them (lower <= engaged <= upper, up to rounding)."""
    engaged = frame[S.ENGAGED].to_numpy(float)
    low, high = frame[LOWER].to_numpy(float), frame[UPPER].to_numpy(float)
    scale = np.maximum(np.abs(engaged), 1.0) * RELATIVE_TOLERANCE
    low_label = labels.get(LOWER, labels.get(METRIC, LOWER))
    high_label = labels.get(UPPER, labels.get(METRIC, UPPER))
    fix = "check that the band's columns are its lower and upper values"
    scale = np.where(engaged >= 0, scale, np.inf)  # a point that is itself wrong is reported as such
    return (_flag(frame, low > engaged + scale, low_label, low, "the band's lower value is above the point", fix,
                  source)
            + _flag(frame, high < engaged - scale, high_label, high, "the band's upper value is below the point", fix,
                    source))


def _arrays(frame: pd.DataFrame, labels, source: str, problems: list[Problem], notices: list[str]) -> TabulatedCurves:
    """Check the points of each curve, add (0, 0) where a curve starts above zero, pad into arrays."""
    frame = frame.sort_values("at", kind="stable")
    codes, keys = pd.factorize(frame["key"])
    frame = frame.assign(code=codes).sort_values(["code", S.SPEND], kind="stable")
    codes = frame["code"].to_numpy()
    spend, engaged = frame[S.SPEND].to_numpy(float), frame[S.ENGAGED].to_numpy(float)
    count = np.bincount(codes, minlength=len(keys))
    names = frame.groupby("code")["name"].first().to_numpy(dtype=object)
    spellings = frame.groupby("code")["name"].nunique()
    problems += _flag(frame, count[codes] < 2, labels[S.TOUCHPOINT], frame["name"],
                      "a curve needs at least 2 points; this touchpoint has 1",
                      "give the engagement at two or more spend levels (e.g. 0, today's spend and twice it)", source)
    same = np.r_[False, codes[1:] == codes[:-1]]
    top = pd.Series(engaged).groupby(codes).transform("max").to_numpy()
    fall = same & (engaged < np.r_[np.nan, engaged[:-1]] - RELATIVE_TOLERANCE * np.maximum(top, 1.0))
    before_e, before_s = np.r_[np.nan, engaged[:-1]], np.r_[np.nan, spend[:-1]]
    for i in np.flatnonzero(fall):
        problems.append(Problem(int(frame["row"].iloc[i]), labels[S.ENGAGED], engaged[i],
                                f"engaged falls from {before_e[i]:g} at spend {before_s[i]:g} to {engaged[i]:g} at "
                                f"spend {spend[i]:g} (touchpoint '{names[codes[i]]}')",
                                "give one curve per touchpoint whose engagement never falls as spend rises (the "
                                "rows may mix several curves, or the column is not a response, e.g. ROI)", source))
    _raise(problems, source)
    first = np.r_[True, ~same[1:]]
    starts_above = np.zeros(len(keys), dtype=bool)
    starts_above[codes[first]] = spend[first] > 0
    if starts_above.any():
        notices.append(f"{_names(names[starts_above])}: the curve starts at (0, 0) (the file's first point has "
                       "spend above 0)")
    offset = starts_above.astype(int)
    width = int((count + offset).max()) if len(keys) else 0
    position = frame.groupby("code").cumcount().to_numpy() + offset[codes]
    shape = (len(keys), width)
    arrays = {name: np.full(shape, np.nan) for name in (S.SPEND, S.ENGAGED, LOWER, UPPER)}
    for name in arrays:
        arrays[name][codes, position] = frame[name].to_numpy(float)
        arrays[name][starts_above, 0] = 0.0
    negative = arrays[LOWER] < 0
    if negative.any():
        arrays[LOWER][negative] = 0.0
        notices.append(f"band values below 0 read as 0 ({int(negative.sum())} point(s)): no one can be engaged less "
                       "than not at all")
    at_zero = np.isclose(arrays[S.SPEND][:, 0], 0) & (arrays[S.ENGAGED][:, 0] > 0)
    if at_zero.any():
        notices.append(f"{_names(names[at_zero])}: the curve engages customers at zero spend (kept: a constant "
                       "does not change a plan)")
    if (spellings > 1).any():
        notices.append(f"{int((spellings > 1).sum())} touchpoint(s) written in more than one way (case, spaces) "
                       "were read as one curve; the first spelling is used")
    concave = _concave(arrays[S.SPEND], arrays[S.ENGAGED])
    if (~concave).any():
        notices.append(f"{_names(names[~concave])}: the curve has a convex stretch (its slope rises somewhere); the "
                       "plan solves it as a mixed-integer programme")
    return TabulatedCurves([str(n) for n in names], arrays[S.SPEND], arrays[S.ENGAGED], arrays[LOWER],
                           arrays[UPPER], concave, notices, source)


def _concave(spend: np.ndarray, engaged: np.ndarray) -> np.ndarray:
    """Per row: True when the slopes between consecutive points never rise (beyond rounding).

    slope_k = (e_k+1 - e_k) / (s_k+1 - s_k); concave when slope_k+1 <= slope_k + tol * max_k |slope_k|.
    """
    if spend.shape[1] < 3:
        return np.ones(len(spend), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        slopes = np.diff(engaged, axis=1) / np.diff(spend, axis=1)
    scale = np.where(np.isfinite(slopes), np.abs(slopes), 0.0).max(axis=1)
    rises = np.diff(slopes, axis=1) > RELATIVE_TOLERANCE * np.maximum(scale, 1e-300)[:, None]
    return ~rises.any(axis=1)
