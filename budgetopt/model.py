"""The LP in numbers, before any solver sees it: bounds on each touchpoint's spend and rule rows.

Every touchpoint i has spend x_i in [lo_i, hi_i] and engaged e_i(x_i). A row is
    sum_i a_ri * x_i + sum_i b_ri * e_i(x_i)  (>=, <=, ==)  rhs_r
Touchpoint rules (floors, caps, locks, limits on change) are bounds, not rows: that keeps the
row count tiny. Each bound and each row remembers the rule it came from, so duals and conflicts
can be reported in the words of the person who set them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema as S
from . import units
from .baseline import Baseline
from .curves.text import read_points
from .errors import ScenarioError
from .scenario import Mode, Rule, Scenario

GE, LE, EQ = ">=", "<=", "=="
MONEY, ENGAGED = "money", "engaged"


def money(x: float, currency: str | None = None) -> str:
    """1234567.8 -> '1,234,568' ('1,234,568 EUR' with a currency)."""
    return units.money(x, currency)


@dataclass
class Row:
    """One linear row over spend (a) and engaged customers (b) of the touchpoints in `index` (sparse: a group
    rule names only its members), with its origin in plain words."""

    name: str
    family: str
    label: str
    index: np.ndarray
    a: np.ndarray
    b: np.ndarray
    sense: str
    rhs: float
    unit: str
    rule: int | None = None

    def lhs(self, spend: np.ndarray, engaged: np.ndarray) -> float:
        """sum_i a_i spend_i + b_i engaged_i."""
        i = self.index
        return float(self.a @ spend[i] + self.b @ engaged[i])

    def dense(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """a and b over all n touchpoints."""
        a, b = np.zeros(n), np.zeros(n)
        a[self.index], b[self.index] = self.a, self.b
        return a, b


def group_money_rows(rule: Rule, r: int, label: str, mask: np.ndarray, base: float, currency: str | None,
                     tag: str = "") -> list[Row]:
    """Rule r's money rows on a group (the mask's columns): sum x >= min_spend, sum x <= max_spend, and
    sum x against (1 + c) x `base` (today's money there) for its limits on change; `tag` ends each row's name."""
    rows = []
    if rule.min_spend is not None:
        rows.append(money_row(f"floor-{r}{tag}", "floor", f"{label}: at least {money(rule.min_spend, currency)}",
                              mask, GE, rule.min_spend, r))
    if rule.max_spend is not None:
        rows.append(money_row(f"cap-{r}{tag}", "cap", f"{label}: at most {money(rule.max_spend, currency)}",
                              mask, LE, rule.max_spend, r))
    for key, sense, word in (("min_change", GE, "at least"), ("max_change", LE, "at most")):
        c = getattr(rule, key)
        if c is not None:
            rows.append(money_row(f"{key}-{r}{tag}", "change", f"{label}: {word} {money(base * (1 + c), currency)} "
                                  f"({c:+.0%} against today's {money(base, currency)})", mask, sense, base * (1 + c),
                                  r))
    return rows


def money_row(name: str, family: str, label: str, mask: np.ndarray, sense: str, rhs: float, rule: int | None = None,
              share: float = 0.0) -> Row:
    """sum over the mask's touchpoints of spend (sense) rhs; with a share s: sum_mask x - s sum_all x (sense) 0."""
    if share:
        return Row(name, family, label, np.arange(len(mask)), mask - share, np.zeros(len(mask)), sense, rhs, MONEY,
                   rule)
    index = np.flatnonzero(mask)
    return Row(name, family, label, index, np.ones(len(index)), np.zeros(len(index)), sense, rhs, MONEY, rule)


def engaged_row(name: str, family: str, label: str, mask: np.ndarray, sense: str, rhs: float,
                rule: int | None = None) -> Row:
    """sum over the mask's touchpoints of engaged customers (sense) rhs."""
    index = np.flatnonzero(mask)
    return Row(name, family, label, index, np.zeros(len(index)), np.ones(len(index)), sense, rhs, ENGAGED, rule)


BOUND_COLUMNS = ["touchpoint", "side", "value", "family", "what", "rule"]
"""The bounds table: one row per limit on one touchpoint's spend (side 'lo' or 'hi'), with the
family ('floor', 'cap', 'growth', 'extrapolation', 'change', 'lock'), what set it and the scenario rule index
(-1: data). 'growth' and 'extrapolation' are assumptions (see Model.assumed_cap)."""


def bound_names(bounds: pd.DataFrame, names: np.ndarray) -> list[str]:
    """Names of bounds in plan.rules: 'cap-TV-hi' for the data's own, 'cap-TV-hi-r2' for scenario rule 2."""
    tp = names[bounds["touchpoint"].to_numpy(int)].tolist()
    return [f"{f}-{t}-{side}" + (f"-r{r}" if r >= 0 else "") for f, t, side, r in
            zip(bounds["family"].tolist(), tp, bounds["side"].tolist(), bounds["rule"].tolist(), strict=True)]


def bound_label(bounds: pd.DataFrame, names: np.ndarray, currency: str | None = None) -> pd.Series:
    """Plain words for each bound: "max_spend of 'TV': at most 1,200,000"."""
    word = np.where(bounds["side"].to_numpy() == "lo", "at least", "at most")
    tp = names[bounds["touchpoint"].to_numpy(int)]
    amounts = units.money_texts(bounds["value"].to_numpy(float), currency)
    return pd.Series([f"{w} of '{t}': {x} {m}" for w, t, x, m in
                      zip(bounds["what"].tolist(), tp.tolist(), word.tolist(), amounts, strict=True)],
                     index=bounds.index, dtype=object)


@dataclass
class Model:
    """Everything the solver needs, in arrays; `enabled_*` let conflict search switch rules off."""

    touchpoints: pd.DataFrame
    scenario: Scenario
    budget: float
    rows: list[Row]
    bounds: pd.DataFrame
    weight: np.ndarray  # objective weight per engaged customer (value column)
    maximise: bool
    baseline: Baseline | None = None  # today, from the data (before the scenario's what-ifs)
    currency: str | None = None
    assumed_cap: np.ndarray | None = None
    """Per touchpoint, the cap an assumption sets where the data sets none: the growth cap (a multiple of today's
    spend) or the extrapolation guard (a multiple of the largest spend observed)."""

    @property
    def measure(self) -> str:
        """What the objective counts: weighted engagement when values differ, else engaged customers."""
        return units.measure(units.is_weighted(self.weight))

    def limits(self, enabled: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """lo_i = max of the enabled floors (or 0), hi_i = min of the enabled caps (or inf: no internal limit)."""
        b = self.bounds if enabled is None else self.bounds[enabled]
        n = len(self.touchpoints)
        lo = np.zeros(n)
        hi = np.full(n, np.inf)
        idx = b["touchpoint"].to_numpy(int)
        val = b["value"].to_numpy(float)
        is_lo = b["side"].to_numpy() == "lo"
        np.maximum.at(lo, idx[is_lo], val[is_lo])
        np.minimum.at(hi, idx[~is_lo], val[~is_lo])
        return lo, hi


def implied_caps(rows: list[Row], lo: np.ndarray) -> np.ndarray:
    """The most each touchpoint can take while the rows hold, where a row says so by itself: a money row
    sum_i a_i x_i <= rhs (or ==) with every a_i >= 0 and no engaged term (the budget, a group's cap or lock) gives
        x_i <= (rhs - sum_{k != i} a_k lo_k) / a_i    where a_i > 0.
    Implied by the rows, so it never makes a feasible problem infeasible; inf where no row says anything."""
    hi = np.full(len(lo), np.inf)
    for row in rows:
        if row.sense == GE or row.b.any() or (row.a < 0).any():
            continue
        inside = row.a > 0
        i = row.index[inside]
        room = max(row.rhs - float(row.a @ lo[row.index]), 0.0)
        hi[i] = np.minimum(hi[i], lo[i] + room / row.a[inside])
    return hi


def select(touchpoints: pd.DataFrame, rule: Rule, where: str,
           folded: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Boolean mask of the touchpoints a rule addresses; unknown names raise ScenarioError.
    `folded` caches each column's stripped, case-folded text across the rules of one scenario."""
    tp = touchpoints
    folded = {} if folded is None else folded

    def fold(column: str) -> np.ndarray:
        if column not in folded:  # fold each distinct text once: a column holds few of them
            codes, uniques = pd.factorize(tp[column].to_numpy(object), use_na_sentinel=False)
            folded[column] = np.array([str(u).strip().casefold() for u in uniques], dtype=object)[codes]
        return folded[column]

    if rule.touchpoint is not None:
        mask = fold(S.TOUCHPOINT) == rule.touchpoint.casefold()
        if not mask.any():
            close = ", ".join(f"'{t}'" for t in _closest(rule.touchpoint, tp[S.TOUCHPOINT]))
            raise ScenarioError(f"{where}: no touchpoint named '{rule.touchpoint}'"
                                + (f"; did you mean {close}?" if close else ""))
        return mask
    column = (rule.group if rule.group is not None else rule.tag).strip().lower()
    if column not in tp.columns or column in (S.TOUCHPOINT,) or tp[column].dtype != object:
        groups = [c for c in tp.columns if tp[c].dtype == object and c not in (S.TOUCHPOINT, S.CURVE)]
        raise ScenarioError(f"{where}: there is no column '{column}' to group by; use one of: {', '.join(groups)}")
    if rule.tag is not None:  # a mask per tag column, not its folded text: hundreds of tag columns stay small
        key = f"tag:{column}"
        if key not in folded:
            codes, uniques = pd.factorize(tp[column].to_numpy(object), use_na_sentinel=False)
            folded[key] = np.array([str(u).strip().casefold() in S.TRUE_WORDS for u in uniques], dtype=bool)[codes]
        return folded[key]
    values = fold(column)
    mask = values == rule.member.strip().casefold()
    if not mask.any():
        members = ", ".join(sorted(set(tp[column].astype(str))))
        raise ScenarioError(f"{where}: no touchpoint has {column} '{rule.member}'; {column} values are: {members}")
    return mask


def _tag_masks(tp: pd.DataFrame, rules: tuple[Rule, ...]) -> dict[str, np.ndarray]:
    """select()'s cache, with the masks of every tag column a rule names, found in one pass over all of them
    (hundreds of tag rules: one factorize of their cells, not one string operation per column)."""
    columns = sorted({r.tag.strip().lower() for r in rules if r.tag is not None} & set(tp.columns))
    columns = [c for c in columns if tp[c].dtype == object]
    if not columns:
        return {}
    out = {}
    for first in range(0, len(columns), TAG_CHUNK):  # a few at once: few calls, no copy of all their cells
        chunk = columns[first:first + TAG_CHUNK]
        codes, uniques = pd.factorize(tp[chunk].to_numpy(object).ravel(), use_na_sentinel=False)
        truth = np.array([str(u).strip().casefold() in S.TRUE_WORDS for u in uniques], dtype=bool)
        masks = truth[codes].reshape(len(tp), len(chunk))
        out.update({f"tag:{c}": masks[:, k].copy() for k, c in enumerate(chunk)})
    return out


TAG_CHUNK = 32
"""Tag columns whose masks _tag_masks finds in one pass."""


def _closest(name: str, names: pd.Series) -> list[str]:
    import difflib

    return difflib.get_close_matches(name, list(names), n=3)


def formulate(touchpoints: pd.DataFrame, scenario: Scenario, baseline: Baseline | None = None,
              currency: str | None = None) -> Model:
    """Turn the data and the scenario into bounds and rows.

    `touchpoints` is the table the plan is made on (after the scenario's what-ifs); `baseline` is today from
    the data as given (default: the table itself): the budget's change, the default engagement target, stage
    and engagement floors and siloed shares are measured against it."""
    tp = touchpoints
    baseline = baseline if baseline is not None else Baseline.of(tp, tp)
    currency = scenario.currency or currency
    n = len(tp)
    s0 = tp[S.SPEND].to_numpy(float)  # where each curve is anchored; limits on change are against it
    e0 = baseline.engaged  # today's engaged customers, from the data
    spend_today = baseline.spend  # today's spend, from the data (0 for a touchpoint the scenario adds)
    today = baseline.total_spend
    mode = scenario.objective.mode
    budget = scenario.budget.amount(today)
    ones, zeros = np.ones(n), np.zeros(n)

    pieces: list[pd.DataFrame] = []

    def bound(i: np.ndarray, side: str, value: np.ndarray, family: str, what: str, rule: int = -1):
        k = np.flatnonzero(i)
        pieces.append(pd.DataFrame({"touchpoint": k, "side": side, "value": np.asarray(value, float)[k],
                                    "family": family, "what": what, "rule": rule}))

    # Limits from the table's own columns.
    min_spend = tp[S.MIN_SPEND].to_numpy(float)
    max_spend = tp[S.MAX_SPEND].to_numpy(float)
    bound(~np.isnan(min_spend), "lo", min_spend, "floor", "min_spend")
    bound(~np.isnan(max_spend), "hi", max_spend, "cap", "max_spend")
    # Without a cap in the data, how far a touchpoint may grow is an assumption: a multiple of the largest spend
    # observed where the curve rests on evidence (the extrapolation guard), else of today's spend (the growth cap).
    observed = tp[S.OBSERVED_MAX].to_numpy(float) if S.OBSERVED_MAX in tp.columns else np.full(n, np.nan)
    evidence = ~np.isnan(observed)
    folded = _tag_masks(tp, scenario.rules)
    factor = np.full(n, scenario.settings.max_extrapolation)
    for r, rule in enumerate(scenario.rules):
        if rule.max_extrapolation is not None:
            factor[select(tp, rule, f"rule {r + 1} ({rule.label})", folded)] = rule.max_extrapolation
    tabulated = (tp[S.CURVE] == "tabulated").to_numpy()
    continued = np.zeros(n, dtype=bool)  # tabulated curves the user lets go on beyond their last point
    if tabulated.any() and S.CURVE_POINTS in tp.columns:  # no extrapolation beyond a tabulated curve's last point
        xs, _ = read_points(tp[S.CURVE_POINTS])
        last = np.nanmax(np.where(np.isfinite(xs), xs, np.nan), axis=1, initial=0.0) if xs.shape[1] else 0.0
        beyond = tp[S.CURVE_BEYOND].to_numpy(float) if S.CURVE_BEYOND in tp.columns else np.full(n, np.nan)
        continued = tabulated & (np.nan_to_num(beyond, nan=1.0) > 1.0)  # the user lets it go on, at its last slope
        factor = np.where(continued, beyond, np.where(tabulated, 1.0, factor))
        observed = np.where(tabulated, last, observed)
        evidence = ~np.isnan(observed)
    growth = scenario.settings.max_growth
    assumed_cap = np.where(evidence, factor * np.nan_to_num(observed), growth * s0)
    open_row = np.isnan(max_spend)
    bound(open_row & ~evidence, "hi", assumed_cap, "growth", f"growth cap (assumption: at most {growth:g}x "
          "today's spend)")
    fitted = evidence & ~tabulated
    for f in np.unique(factor[open_row & fitted]):
        bound(open_row & fitted & (factor == f), "hi", assumed_cap, "extrapolation",
              f"extrapolation guard (assumption: at most {f:g}x the largest spend observed)")
    bound(open_row & tabulated & ~continued, "hi", assumed_cap, "extrapolation", "the last point of its tabulated "
          "curve (no extrapolation)")
    for f in np.unique(factor[open_row & continued]):
        bound(open_row & continued & (factor == f), "hi", assumed_cap, "extrapolation",
              f"extrapolation guard (assumption: at most {f:g}x the last point of its tabulated curve, continued "
              "at its last slope)")
    change = tp[S.MAX_CHANGE].to_numpy(float)
    has_change = ~np.isnan(change)
    bound(has_change, "lo", s0 * (1 - np.nan_to_num(change)).clip(0), "change", "max_change")
    bound(has_change, "hi", s0 * (1 + np.nan_to_num(change)), "change", "max_change")
    locked = tp[S.LOCKED].to_numpy(bool)
    bound(locked, "lo", s0, "lock", "lock")
    bound(locked, "hi", s0, "lock", "lock")

    rows: list[Row] = []
    everyone = np.arange(n)
    if mode is Mode.MIN_SPEND:
        target, unit = _engagement_target(scenario, baseline, units.is_weighted(tp[S.VALUE]))
        weights = tp[S.VALUE].to_numpy(float) if unit == units.WEIGHTED else ones
        rows.append(Row("target", "target", f"engagement target: at least {money(target)} {unit}",
                        everyone, zeros, weights, GE, target, ENGAGED))
    else:
        sense = LE if (scenario.budget.at_most or mode is Mode.TARGET_CPE) else EQ
        word = "at most" if sense == LE else "exactly"
        rows.append(Row("budget", "budget", f"budget: {word} {money(budget, currency)}", everyone, ones, zeros, sense,
                        budget, MONEY))
    if mode is Mode.TARGET_CPE:
        cpe = float(scenario.objective.target)
        rows.append(Row("target-cpe", "target", "average cost per engaged customer at most "
                        f"{units.money(cpe, currency, digits=2)}", everyone, ones, -cpe * ones, LE, 0.0, MONEY))

    for r, rule in enumerate(scenario.rules):
        where = f"rule {r + 1} ({rule.label})"
        mask = select(tp, rule, where, folded)
        label = rule.label
        single = rule.touchpoint is not None
        if single:
            i = mask
            if rule.lock:
                bound(i, "lo", s0, "lock", f"lock ({label})", r)
                bound(i, "hi", s0, "lock", f"lock ({label})", r)
            if rule.min_spend is not None:
                bound(i, "lo", np.full(n, rule.min_spend), "floor", f"floor ({label})", r)
            if rule.max_spend is not None:
                bound(i, "hi", np.full(n, rule.max_spend), "cap", f"cap ({label})", r)
            if rule.min_change is not None:
                bound(i, "lo", s0 * (1 + rule.min_change), "change", f"limit on change ({label})", r)
            if rule.max_change is not None:
                bound(i, "hi", s0 * (1 + rule.max_change), "change", f"limit on change ({label})", r)
        else:
            base = float(spend_today[mask].sum())
            if rule.lock:
                rows.append(money_row(f"lock-{r}", "lock", f"{label}: kept at {money(base, currency)}", mask, EQ,
                                      base, r))
            rows += group_money_rows(rule, r, label, mask, base, currency)
        for key, sense, word in (("min_share", GE, "at least"), ("max_share", LE, "at most")):
            share = getattr(rule, key)
            if share is not None:
                rows.append(money_row(f"{key}-{r}", "share", f"{label}: {word} {share:.0%} of the total",
                                      mask.astype(float), sense, 0.0, r, share=share))
        if rule.min_engaged is not None:
            rows.append(engaged_row(f"coverage-{r}", "coverage",
                                    f"{label}: at least {money(rule.min_engaged)} {units.CUSTOMERS}",
                                    mask, GE, rule.min_engaged, r))
        if rule.min_engaged_change is not None:
            floor = float(e0[mask].sum()) * (1 + rule.min_engaged_change)
            rows.append(engaged_row(f"coverage_change-{r}", "coverage",
                                    f"{label}: at least {money(floor)} {units.CUSTOMERS} "
                                    f"({rule.min_engaged_change:+.0%} against today)", mask, GE, floor, r))

    if scenario.protect_stages:
        stages = tp[S.STAGE].to_numpy(object)
        for stage in sorted(set(stages) - {S.UNKNOWN_STAGE}):
            mask = stages == stage
            floor = float(e0[mask].sum())
            rows.append(engaged_row(f"stage-{stage}", "coverage",
                                    f"stage '{stage}': at least today's {money(floor)} {units.CUSTOMERS}",
                                    mask, GE, floor))

    if scenario.siloed:
        if today <= 0:
            raise ScenarioError("siloed planning keeps each function's share of today's spend, and nothing is "
                                "spent today; plan across functions instead")
        functions = tp[S.FUNCTION].to_numpy(object)
        planned_today = float(spend_today.sum())
        for f in sorted(set(functions)):
            mask = functions == f
            share = float(spend_today[mask].sum()) / planned_today if planned_today > 0 else 0.0
            rows.append(money_row(f"silo-{f}", "silo", f"siloed: function '{f}' keeps its {share:.1%} share",
                                  mask.astype(float), EQ, 0.0, share=share))

    bounds = pd.concat(pieces, ignore_index=True)[BOUND_COLUMNS]
    weight = tp[S.VALUE].to_numpy(float)
    return Model(tp, scenario, budget, rows, bounds, weight, mode is not Mode.MIN_SPEND, baseline, currency,
                 assumed_cap)


def _engagement_target(scenario: Scenario, baseline: Baseline, weighted: bool) -> tuple[float, str]:
    """The engagement the min-spend plan must reach (default: today's, from the data) and what it counts:
    weighted engagement or engaged customers (Objective.unit; the same when every value is 1)."""
    objective = scenario.objective
    unit = units.WEIGHTED if objective.unit == "weighted" and weighted else units.CUSTOMERS
    if objective.target is not None:
        return float(objective.target), unit
    today = baseline.total_engaged if unit == units.CUSTOMERS else baseline.total_weighted
    return today * (1 + (objective.target_change or 0.0)), unit
