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
    """One linear row over spend (a) and engaged customers (b), with its origin in plain words."""

    name: str
    family: str
    label: str
    a: np.ndarray
    b: np.ndarray
    sense: str
    rhs: float
    unit: str
    rule: int | None = None


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
    return pd.Series([f"{w} of '{t}': {x} {money(v, currency)}" for w, t, x, v in
                      zip(bounds["what"].tolist(), tp.tolist(), word.tolist(), bounds["value"].tolist(), strict=True)],
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
    open_cap: float  # upper limit used when every cap on a touchpoint is switched off
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
        """lo_i = max of the enabled floors (or 0), hi_i = min of the enabled caps (or open_cap)."""
        b = self.bounds if enabled is None else self.bounds[enabled]
        n = len(self.touchpoints)
        lo = np.zeros(n)
        hi = np.full(n, self.open_cap)
        idx = b["touchpoint"].to_numpy(int)
        val = b["value"].to_numpy(float)
        is_lo = b["side"].to_numpy() == "lo"
        np.maximum.at(lo, idx[is_lo], val[is_lo])
        np.minimum.at(hi, idx[~is_lo], val[~is_lo])
        return lo, hi


def select(touchpoints: pd.DataFrame, rule: Rule, where: str,
           folded: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Boolean mask of the touchpoints a rule addresses; unknown names raise ScenarioError.
    `folded` caches each column's stripped, case-folded text across the rules of one scenario."""
    tp = touchpoints
    folded = {} if folded is None else folded

    def fold(column: str) -> np.ndarray:
        if column not in folded:
            folded[column] = tp[column].astype(str).str.strip().str.casefold().to_numpy(object)
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
    values = fold(column)
    if rule.tag is not None:
        mask = np.isin(values, list(S.TRUE_WORDS))
    else:
        mask = values == rule.member.strip().casefold()
        if not mask.any():
            members = ", ".join(sorted(set(tp[column].astype(str))))
            raise ScenarioError(f"{where}: no touchpoint has {column} '{rule.member}'; {column} values are: {members}")
    return mask


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
    open_cap = 10.0 * max(today, budget, 1.0)

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
    folded: dict[str, np.ndarray] = {}
    factor = np.full(n, scenario.settings.max_extrapolation)
    for r, rule in enumerate(scenario.rules):
        if rule.max_extrapolation is not None:
            factor[select(tp, rule, f"rule {r + 1} ({rule.label})", folded)] = rule.max_extrapolation
    tabulated = (tp[S.CURVE] == "tabulated").to_numpy()
    if tabulated.any() and S.CURVE_POINTS in tp.columns:  # no extrapolation beyond a tabulated curve's last point
        xs, _ = read_points(tp[S.CURVE_POINTS])
        last = np.nanmax(np.where(np.isfinite(xs), xs, np.nan), axis=1, initial=0.0) if xs.shape[1] else 0.0
        observed = np.where(tabulated, last, observed)
        factor = np.where(tabulated, 1.0, factor)
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
    bound(open_row & tabulated, "hi", assumed_cap, "extrapolation", "the last point of its tabulated curve (no "
          "extrapolation)")
    change = tp[S.MAX_CHANGE].to_numpy(float)
    has_change = ~np.isnan(change)
    bound(has_change, "lo", s0 * (1 - np.nan_to_num(change)).clip(0), "change", "max_change")
    bound(has_change, "hi", s0 * (1 + np.nan_to_num(change)), "change", "max_change")
    locked = tp[S.LOCKED].to_numpy(bool)
    bound(locked, "lo", s0, "lock", "lock")
    bound(locked, "hi", s0, "lock", "lock")

    rows: list[Row] = []
    if mode is Mode.MIN_SPEND:
        target, unit = _engagement_target(scenario, baseline, units.is_weighted(tp[S.VALUE]))
        weights = tp[S.VALUE].to_numpy(float) if unit == units.WEIGHTED else ones
        rows.append(Row("target", "target", f"engagement target: at least {money(target)} {unit}",
                        zeros, weights, GE, target, ENGAGED))
    else:
        sense = LE if (scenario.budget.at_most or mode is Mode.TARGET_CPE) else EQ
        word = "at most" if sense == LE else "exactly"
        rows.append(Row("budget", "budget", f"budget: {word} {money(budget, currency)}", ones, zeros, sense, budget,
                        MONEY))
    if mode is Mode.TARGET_CPE:
        cpe = float(scenario.objective.target)
        rows.append(Row("target-cpe", "target", "average cost per engaged customer at most "
                        f"{units.money(cpe, currency, digits=2)}", ones, -cpe * ones, LE, 0.0, MONEY))

    for r, rule in enumerate(scenario.rules):
        where = f"rule {r + 1} ({rule.label})"
        mask = select(tp, rule, where, folded)
        m = mask.astype(float)
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
            base = float((spend_today * m).sum())
            if rule.lock:
                rows.append(Row(f"lock-{r}", "lock", f"{label}: kept at {money(base, currency)}", m, zeros, EQ, base,
                                MONEY, r))
            if rule.min_spend is not None:
                rows.append(Row(f"floor-{r}", "floor", f"{label}: at least {money(rule.min_spend, currency)}",
                                m, zeros, GE, rule.min_spend, MONEY, r))
            if rule.max_spend is not None:
                rows.append(Row(f"cap-{r}", "cap", f"{label}: at most {money(rule.max_spend, currency)}",
                                m, zeros, LE, rule.max_spend, MONEY, r))
            for key, sense, word in (("min_change", GE, "at least"), ("max_change", LE, "at most")):
                c = getattr(rule, key)
                if c is not None:
                    rows.append(Row(f"{key}-{r}", "change", f"{label}: {word} {money(base * (1 + c), currency)} "
                                    f"({c:+.0%} against today's {money(base, currency)})", m, zeros, sense,
                                    base * (1 + c), MONEY, r))
        for key, sense, word in (("min_share", GE, "at least"), ("max_share", LE, "at most")):
            share = getattr(rule, key)
            if share is not None:
                rows.append(Row(f"{key}-{r}", "share", f"{label}: {word} {share:.0%} of the total",
                                m - share, zeros, sense, 0.0, MONEY, r))
        if rule.min_engaged is not None:
            rows.append(Row(f"coverage-{r}", "coverage",
                            f"{label}: at least {money(rule.min_engaged)} {units.CUSTOMERS}",
                            zeros, m, GE, rule.min_engaged, ENGAGED, r))
        if rule.min_engaged_change is not None:
            floor = float((e0 * m).sum()) * (1 + rule.min_engaged_change)
            rows.append(Row(f"coverage_change-{r}", "coverage",
                            f"{label}: at least {money(floor)} {units.CUSTOMERS} "
                            f"({rule.min_engaged_change:+.0%} against today)",
                            zeros, m, GE, floor, ENGAGED, r))

    if scenario.protect_stages:
        stages = tp[S.STAGE].to_numpy(object)
        for stage in sorted(set(stages) - {S.UNKNOWN_STAGE}):
            m = (stages == stage).astype(float)
            floor = float((e0 * m).sum())
            rows.append(Row(f"stage-{stage}", "coverage",
                            f"stage '{stage}': at least today's {money(floor)} {units.CUSTOMERS}",
                            zeros, m, GE, floor, ENGAGED))

    if scenario.siloed:
        if today <= 0:
            raise ScenarioError("siloed planning keeps each function's share of today's spend, and nothing is "
                                "spent today; plan across functions instead")
        functions = tp[S.FUNCTION].to_numpy(object)
        planned_today = float(spend_today.sum())
        for f in sorted(set(functions)):
            m = (functions == f).astype(float)
            share = float((spend_today * m).sum()) / planned_today if planned_today > 0 else 0.0
            rows.append(Row(f"silo-{f}", "silo", f"siloed: function '{f}' keeps its {share:.1%} share",
                            m - share, zeros, EQ, 0.0, MONEY))

    bounds = pd.concat(pieces, ignore_index=True)[BOUND_COLUMNS]
    weight = tp[S.VALUE].to_numpy(float)
    return Model(tp, scenario, budget, rows, bounds, weight, mode is not Mode.MIN_SPEND, open_cap, baseline,
                 currency, assumed_cap)


def _engagement_target(scenario: Scenario, baseline: Baseline, weighted: bool) -> tuple[float, str]:
    """The engagement the min-spend plan must reach (default: today's, from the data) and what it counts:
    weighted engagement or engaged customers (Objective.unit; the same when every value is 1)."""
    objective = scenario.objective
    unit = units.WEIGHTED if objective.unit == "weighted" and weighted else units.CUSTOMERS
    if objective.target is not None:
        return float(objective.target), unit
    today = baseline.total_engaged if unit == units.CUSTOMERS else baseline.total_weighted
    return today * (1 + (objective.target_change or 0.0)), unit
