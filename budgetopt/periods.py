"""A plan over time: one LP over touchpoints x periods, in the engine's own form.

Columns. The model's columns are the pairs (touchpoint i, period t), touchpoint by touchpoint (column i T + t);
each is a "touchpoint" of model.Model with its own curve and bounds, so the engine, its decomposition into classes
and the MIP for S-curves apply unchanged. Time enters through the curves, the objective's weights and the rows.

Curves. Period t's curve of touchpoint i is its curve over the data's period, scaled to the period's length and by
its seasonality index sigma_it (seasonality.py; `Periods.seasonality`):

    e_it(x) = sigma_it L E_i(x / L),    L = one period's length / the data period's (months of a yearly table: 1/12)

E_i is the data period's curve with its money spread evenly over the period (the window's own pattern is kept
only when a period is as long as the data's). A steady plan x_it = L s_i with sigma = 1 is today's allocation.

Carry-over (a distributed lag of the response). The customers period t's spend engages, e_it(x_it), arrive in
period t and the ones after it, a share k_i(m) in period t + m. With lam the curve's carry-over per base period
(a history's week, say), P base periods per planning period (a period's money spread evenly over them) and
Lam = lam^P:

    k(0) = 1 - q,   k(m) = q (1 - Lam) Lam^(m - 1) for m >= 1,   q = lam (1 - Lam) / (P (1 - lam))

(P = 1 gives the fit's geometric adstock, k(m) = (1 - lam) lam^m). The customers engaged in period u are
n_iu = sum_{t <= u} k_i(u - t) e_it + c_iu, where c_iu = q Lam^u L e0_i is what spend before the horizon still
engages (assumed: today's allocation at its steady rate). The shares add up to 1, so carry-over moves engagement in
time without changing how much a period's money engages: the LP stays separable (an LP for concave curves, the
engine's MIP for S-curves) and carry-over enters as linear rows where a rule counts engagement in some periods.
This is the order "response, then carry-over"; the fits use "carry-over, then response" (f of the adstocked
spend). The two agree for steady spend; when spend jumps between periods the fits' order engages a little more
for smoothed spend.

The horizon's tail. Period t's spend engages a share q Lam^(T - 1 - t) after the horizon. `tail = "counted"` (the
default) counts it: every period's money is judged by all it engages, a plan does not depend on when the horizon
ends, and a one-period horizon is today's single-period plan. `tail = "cut"` counts only what lands inside the
horizon (the objective's weight on column (i, t) is value_i (1 - q Lam^(T - 1 - t))), which favours early spend.

Rules over time. The data's own limits (min_spend, max_spend, max_change) hold on each touchpoint's total over the
horizon (`data_limits = "horizon"`: a row per limit), or in every period at its share of the data's period, as
bounds (`"period"`: as fast as one period's LP); `"auto"`, the default, is the horizon up to HORIZON_LIMITS
touchpoints with a limit and HORIZON_COLUMNS columns, per period beyond (the plan says which). A rule without
`periods` holds over the horizon (limits on change against today's spend over the horizon; a limit on one
touchpoint in one period is a bound); a rule with `periods`
holds for the sum of those periods, with `per_period` in each of them; `lock` keeps today's spend in each of its
periods; `max_step` limits the change from one period to the next (X_t <= (1 + d) X_{t-1}, X_t >= (1 - d) X_{t-1});
engagement rules count the customers engaged in their periods (carry-over and what spend before the horizon
engages included), or over the horizon what the objective counts. [periods] sets each period's budget, or pacing
rows on each period's money (floors, caps, shares of the horizon) and on its change from one period to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import schema as S
from . import units
from .baseline import Baseline
from .curves import Curves
from .curves.text import read_points
from .errors import ScenarioError
from .horizon import FREQUENCY_YEARS, Calendar, calendar_of, span_years
from .model import EQ, GE, LE, MONEY, Model, Row, group_money_rows, money, money_row, select
from .overrides import apply_overrides
from .scenario import Mode, Periods, Rule, Scenario
from .seasonality import read_index

HORIZON_LIMITS, HORIZON_COLUMNS = 200, 24_000
"""`data_limits = "auto"` holds the table's limits over the horizon (a row each) when at most HORIZON_LIMITS
touchpoints carry one and the LP has at most HORIZON_COLUMNS columns (touchpoints x periods), else per period
(bounds): each such row tells its touchpoint apart to the decomposition. Measured (README, Performance): 1,000 x 12
with 200 such rows 1.0 s and with 1,000 of them 16.6 s, 10,000 x 12 with 200 of them 9.4 s, against 0.3 s and
3.2 s with the limits per period."""
PERIOD_MONEY = ("budget", "pacing")
"""Row families that price a period's money as such (every touchpoint of a period alike): the marginal value of
money in period t is minus the sum of their duals times their coefficient on period t."""


# ---- time: the periods, their curves and the carry-over kernel ------------------------------------------------------

@dataclass(frozen=True)
class Timeline:
    """What time does to each touchpoint: the periods, their length, seasonality and carry-over."""

    calendar: Calendar
    length: float
    """L: each period's length as a share of the data's period."""
    season: np.ndarray
    """sigma: the seasonality index of every touchpoint in every period (N x T)."""
    carry: np.ndarray
    """lam: each touchpoint's carry-over per base period (N,)."""
    base: float
    """P: base periods (those lam is per) in one planning period."""
    tail: str = "counted"
    season_source: str = "none"
    """Where the seasonality comes from: 'history' (estimated), 'data' (the table's column), 'scenario', 'none'."""
    base_name: str = "period"
    """What carry-over is per: 'week', 'month' or 'period' (one period of the horizon)."""

    @property
    def count(self) -> int:
        return self.calendar.count

    def _q(self) -> tuple[np.ndarray, np.ndarray]:
        """(q, Lam) per touchpoint (module docstring)."""
        lam = np.clip(np.nan_to_num(self.carry), 0.0, 0.99)
        big = lam ** self.base
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(lam > 0, lam * (1.0 - big) / (self.base * (1.0 - lam)), 0.0)
        return np.clip(q, 0.0, 1.0), big

    def kernel(self) -> np.ndarray:
        """k_i(m) for lags m = 0 .. T-1 (N x T): the share of a period's engagement that lands m periods later."""
        q, big = self._q()
        m = np.arange(self.count)[None, :]
        later = q[:, None] * (1.0 - big[:, None]) * big[:, None] ** np.maximum(m - 1, 0)
        return np.where(m == 0, 1.0 - q[:, None], later)

    def landing(self) -> np.ndarray:
        """K_i[u, t] = k_i(u - t) for u >= t, else 0 (N x T x T): engagement in period u from period t's spend."""
        k = self.kernel()
        lag = np.arange(self.count)[:, None] - np.arange(self.count)[None, :]
        return np.where(lag[None] >= 0, k[:, np.maximum(lag, 0)], 0.0)

    def after(self) -> np.ndarray:
        """Share of period t's engagement that lands after the horizon: q Lam^(T - 1 - t) (N x T)."""
        q, big = self._q()
        return q[:, None] * big[:, None] ** (self.count - 1 - np.arange(self.count))[None, :]

    def counted(self) -> np.ndarray:
        """Share of period t's engagement the objective counts: 1 (tail counted) or 1 - after (cut) (N x T)."""
        return np.ones((len(self.carry), self.count)) if self.tail == "counted" else 1.0 - self.after()

    def carried_in(self) -> np.ndarray:
        """What one customer a period of steady engagement before the horizon brings to period u: q Lam^u."""
        q, big = self._q()
        return q[:, None] * big[:, None] ** np.arange(self.count)[None, :]

    def take(self, rows: np.ndarray) -> Timeline:
        """The timeline of some touchpoints."""
        return replace(self, season=self.season[rows], carry=self.carry[rows])


def data_years(table: pd.DataFrame, periods: Periods, calendar: Calendar) -> float:
    """How long the data's period is, in years: [periods] data_period, else a history's window, else the horizon."""
    if periods.data_period is not None:
        return span_years(periods.data_period)
    count, frequency = table.attrs.get("periods"), table.attrs.get("frequency")
    if count and frequency in FREQUENCY_YEARS:
        return float(count) * FREQUENCY_YEARS[frequency]
    return calendar.length_years


def timeline(table: pd.DataFrame, scenario: Scenario, attrs: dict | None = None) -> Timeline:
    """Each touchpoint's time: the calendar, period length, seasonality (the table's `seasonality` column,
    [periods] seasonality and its `seasonal` entries) and carry-over (the `carryover` column)."""
    periods = scenario.periods
    framed = table if attrs is None else _with_attrs(table, attrs)
    calendar = calendar_of(framed.attrs, periods.horizon, periods.start)
    length = calendar.years / data_years(framed, periods, calendar)
    n, count = len(table), calendar.count
    source = "none"
    if isinstance(periods.seasonality, tuple):
        season, source = np.tile(np.asarray(periods.seasonality, float), (n, 1)), "scenario"
    elif periods.seasonality == "data":
        season = read_index(table, count, framed.attrs.get("source"))
        if S.SEASONALITY in table.columns:
            source = "history" if framed.attrs.get("seasonality") == "history" else "data"
    else:
        season = np.ones((n, count))
    for k, entry in enumerate(periods.seasonal):
        mask = select(table, entry, f"[periods] seasonal entry {k + 1} ({entry.target})")
        season[mask] = np.asarray(entry.index, float)
        source = "scenario" if source == "none" else source
    carry = table[S.CARRYOVER].to_numpy(float) if S.CARRYOVER in table.columns else np.zeros(n)
    frequency = framed.attrs.get("frequency")
    if periods.carryover_period is not None:
        per, name = span_years(periods.carryover_period), periods.carryover_period
    elif frequency in FREQUENCY_YEARS:
        per, name = FREQUENCY_YEARS[frequency], "week" if frequency == "weekly" else "month"
    else:
        per, name = calendar.years, calendar.kind
    return Timeline(calendar, float(length), season, np.nan_to_num(carry), calendar.years / per, periods.tail,
                    source, name)


def _with_attrs(table: pd.DataFrame, attrs: dict) -> pd.DataFrame:
    out = table.copy(deep=False)
    out.attrs = {**attrs, **table.attrs}
    return out


def scale_curves(curves: Curves, rows: np.ndarray, h: np.ndarray, v: np.ndarray, spread: bool = False) -> Curves:
    """Curves e'_j(s) = v_j e_{rows_j}(s / h_j): the curve of rows_j stretched by h_j in money and v_j in customers,
    exact for every family (linear: unit cost x h / v; power: spend0 x h, curve_engaged x v; saturating and hill:
    saturation x v, half-saturation x h; tabulated: points x (h, v)). `spread` keeps each curve's spread over its
    weeks, else the money is spread evenly."""
    c = curves
    hh, vv = np.asarray(h, float), np.asarray(v, float)
    n = len(rows)
    return Curves(
        kind=c.kind[rows], spend0=c.spend0[rows] * hh, engaged0=c.engaged0[rows] * vv,
        unit_cost=c.unit_cost[rows] * hh / vv, elasticity=c.elasticity[rows], saturation=c.saturation[rows] * vv,
        curve_engaged=c.curve_engaged[rows] * vv, half_saturation=c.half_saturation[rows] * hh,
        shape=c.shape[rows], points_spend=c.points_spend[rows] * hh[:, None],
        points_engaged=c.points_engaged[rows] * vv[:, None],
        spread=c.spread[rows] if spread else np.full((n, 0), np.nan))


def period_curves(curves: Curves, line: Timeline) -> Curves:
    """The curve of every column (i, t): sigma_it L E_i(x / L) (module docstring)."""
    n, count = len(curves.kind), line.count
    rows = np.repeat(np.arange(n), count)
    h = np.full(n * count, line.length)
    keep = bool(np.isclose(line.length, 1.0, rtol=1e-12, atol=0.0))
    return scale_curves(curves, rows, h, line.season.ravel() * line.length, spread=keep)


# ---- the model over touchpoints x periods ---------------------------------------------------------------------------

@dataclass
class PeriodModel(Model):
    """A Model whose columns are (touchpoint, period) pairs, with what the answers over time need."""

    line: Timeline | None = None
    names: np.ndarray | None = None
    """The planned touchpoints' own names (N)."""
    money_rows: list[int] = field(default_factory=list)
    """Rows that price a period's money as such (PERIOD_MONEY families)."""
    carry_in: np.ndarray | None = None
    """c_iu: customers engaged in period u by spend before the horizon (N x T)."""
    today_engaged: np.ndarray | None = None
    """Today's engagement by its own period's spend, per column (e0 sigma L)."""
    planned: pd.DataFrame | None = None
    """The planned touchpoint table (the scenario's what-ifs applied), one row per touchpoint."""
    data_limits: tuple[str, int] = ("period", 0)
    """Where the table's own limits hold ('period' or 'horizon') and on how many touchpoints."""
    budget_shares: dict[int, float] = field(default_factory=dict)
    """Rows whose right-hand side is this share of the horizon's budget (pacing shares of a budget spent exactly):
    frontier.sweep scales them with the budget row."""
    removed_names: np.ndarray | None = None
    """The names of the data's touchpoints the scenario removes (their rows follow the columns in a plan)."""

    @property
    def n(self) -> int:
        return len(self.names)


def period_names(names: np.ndarray, labels: list[str]) -> np.ndarray:
    """The name of every column: 'TV (2026-03)' (a one-period horizon keeps the names as they are)."""
    if len(labels) == 1:
        return np.asarray(names, dtype=object)
    return np.array([f"{name} ({label})" for name in np.asarray(names, object).tolist() for label in labels],
                    dtype=object)


def _expand(table: pd.DataFrame, line: Timeline, engaged: np.ndarray | None = None) -> pd.DataFrame:
    """One row per (touchpoint, period), touchpoint by touchpoint: spend at the period's share of today's, engaged
    with its seasonality, the period's label and number."""
    count = line.count
    out = table.loc[table.index.repeat(count)].reset_index(drop=True)
    labels = line.calendar.labels
    out[S.TOUCHPOINT] = period_names(table[S.TOUCHPOINT].to_numpy(object), labels)
    out[S.SPEND] = np.repeat(table[S.SPEND].to_numpy(float), count) * line.length
    e0 = table[S.ENGAGED].to_numpy(float) if engaged is None else engaged
    out[S.ENGAGED] = np.repeat(e0, count) * line.season.ravel() * line.length
    return out


def _observed_reach(tp: pd.DataFrame, attrs: dict, even: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per touchpoint, the largest spend observed at the data period's scale, whether it rests on evidence, and
    whether the curve is tabulated (as model.formulate reads them; with `even` spread, a fitted history's largest
    week is taken at the data period's length)."""
    n = len(tp)
    observed = tp[S.OBSERVED_MAX].to_numpy(float) if S.OBSERVED_MAX in tp.columns else np.full(n, np.nan)
    weeks = attrs.get("periods")
    if even and weeks and "observed_spend_max" in tp.columns and S.CURVE_SOURCE in tp.columns:
        fitted = (tp[S.CURVE_SOURCE] == S.FITTED).to_numpy() & ~np.isnan(observed)
        even = tp["observed_spend_max"].to_numpy(float) * float(weeks)
        observed = np.where(fitted & np.isfinite(even), np.fmax(observed, even), observed)
    tabulated = (tp[S.CURVE] == "tabulated").to_numpy()
    if tabulated.any() and S.CURVE_POINTS in tp.columns:
        xs, _ = read_points(tp[S.CURVE_POINTS])
        last = np.nanmax(np.where(np.isfinite(xs), xs, np.nan), axis=1, initial=0.0) if xs.shape[1] else 0.0
        observed = np.where(tabulated, last, observed)
    return observed, ~np.isnan(observed), tabulated


def formulate_periods(tp: pd.DataFrame, scenario: Scenario, baseline: Baseline, currency: str | None,
                      line: Timeline, data_line: Timeline, attrs: dict | None = None) -> PeriodModel:
    """Bounds and rows over the columns (touchpoint, period) (module docstring). `tp` is the planned table (the
    scenario's what-ifs applied), `baseline` today from the data as given; `line` the planned touchpoints'
    timeline, `data_line` the data's (for today's figures of touchpoints the scenario removes)."""
    periods = scenario.periods
    attrs = attrs or {}
    calendar = line.calendar
    labels = calendar.labels
    n, count = len(tp), line.count
    width = n * count
    L = line.length
    i_of = np.repeat(np.arange(n), count)
    t_of = np.tile(np.arange(count), n)
    names = tp[S.TOUCHPOINT].to_numpy(object)
    s0 = tp[S.SPEND].to_numpy(float)
    s_col = s0[i_of] * L  # each column's curve anchor: limits on change are against it
    today_col = baseline.spend[i_of] * L
    e_col = baseline.engaged[i_of] * line.season.ravel() * L
    counted = line.counted().ravel()
    landing = line.landing()
    carry_in = line.carried_in() * (baseline.engaged * L)[:, None]
    data = _expand(baseline.data, data_line)
    data_counted = data_line.counted().ravel()
    share_of_data = L * count  # the horizon's length in data periods
    today = float(data[S.SPEND].sum())  # today's spend over the horizon
    mode = scenario.objective.mode
    budgets = None if periods.budgets is None else np.asarray(periods.budgets, float)
    budget = float(budgets.sum()) if budgets is not None else scenario.budget.amount(today)
    ones, zeros = np.ones(width), np.zeros(width)
    everyone = np.arange(width)
    single = count == 1
    pieces: list[pd.DataFrame] = []
    rows: list[Row] = []

    def bound(mask: np.ndarray, side: str, value: np.ndarray, family: str, what: str, rule: int = -1) -> None:
        k = np.flatnonzero(mask)
        pieces.append(pd.DataFrame({"touchpoint": k, "side": side, "value": np.asarray(value, float)[k],
                                    "family": family, "what": what, "rule": rule}))

    def per_column(values: np.ndarray) -> np.ndarray:
        return np.asarray(values, float)[i_of]

    def where_words(positions: np.ndarray) -> str:
        return "" if len(positions) == count else f" in {calendar.describe(positions)}"

    # The data's own limits: over the horizon (a bound when the horizon is one period).
    min_spend, max_spend = tp[S.MIN_SPEND].to_numpy(float), tp[S.MAX_SPEND].to_numpy(float)
    horizon_min, horizon_max = min_spend * share_of_data, max_spend * share_of_data
    limited = int((~np.isnan(min_spend) | ~np.isnan(max_spend) | ~np.isnan(tp[S.MAX_CHANGE].to_numpy(float))).sum())
    per_period = single or periods.data_limits == "period" or (  # the data's limits as bounds, at each period's share
        periods.data_limits == "auto" and (limited > HORIZON_LIMITS or width > HORIZON_COLUMNS))
    if per_period:
        bound(~np.isnan(per_column(min_spend)), "lo", per_column(min_spend) * L, "floor", "min_spend")
        bound(~np.isnan(per_column(max_spend)), "hi", per_column(max_spend) * L, "cap", "max_spend")
    else:
        # one period may take at most all of the horizon's cap (implied by the row below; it bounds the curve)
        bound(~np.isnan(per_column(max_spend)), "hi", per_column(horizon_max), "cap",
              "max_spend (all of the horizon's in one period)")
    observed, evidence, tabulated = _observed_reach(tp, attrs, even=not np.isclose(L, 1.0, rtol=1e-12, atol=0.0))
    folded: dict[str, np.ndarray] = {}
    factor = np.full(n, scenario.settings.max_extrapolation)
    for r, rule in enumerate(scenario.rules):
        if rule.max_extrapolation is not None:
            factor[select(tp, rule, f"rule {r + 1} ({rule.label})", folded)] = rule.max_extrapolation
    factor = np.where(tabulated, 1.0, factor)
    growth = scenario.settings.max_growth
    assumed = np.where(evidence, factor * np.nan_to_num(observed), growth * s0)[i_of] * L
    open_col = np.isnan(per_column(max_spend))
    evident, tab = per_column(evidence) > 0, per_column(tabulated) > 0
    bound(open_col & ~evident, "hi", assumed, "growth", f"growth cap (assumption: at most {growth:g}x today's spend)")
    fitted = evident & ~tab
    f_col = factor[i_of]
    for f in np.unique(f_col[open_col & fitted]):
        bound(open_col & fitted & (f_col == f), "hi", assumed, "extrapolation",
              f"extrapolation guard (assumption: at most {f:g}x the largest spend observed)")
    bound(open_col & tab, "hi", assumed, "extrapolation", "the last point of its tabulated curve (no extrapolation)")
    change = tp[S.MAX_CHANGE].to_numpy(float)
    if per_period:
        c_col = per_column(change)
        has = ~np.isnan(c_col)
        bound(has, "lo", s_col * (1 - np.nan_to_num(c_col)).clip(0), "change", "max_change")
        bound(has, "hi", s_col * (1 + np.nan_to_num(c_col)), "change", "max_change")
    locked = per_column(tp[S.LOCKED].to_numpy(bool)) > 0
    bound(locked, "lo", s_col, "lock", "lock")
    bound(locked, "hi", s_col, "lock", "lock")

    # The objective's row: the engagement target, or the budget (the horizon's, or each period's).
    if mode is Mode.MIN_SPEND:
        weighted = units.is_weighted(tp[S.VALUE])
        unit = units.WEIGHTED if scenario.objective.unit == "weighted" and weighted else units.CUSTOMERS
        value = tp[S.VALUE].to_numpy(float)[i_of] if unit == units.WEIGHTED else ones
        target = scenario.objective.target
        if target is None:
            today_e = data[S.ENGAGED] * data_counted
            if unit == units.WEIGHTED:
                today_e = today_e * data[S.VALUE]
            target = float(today_e.sum()) * (1 + (scenario.objective.target_change or 0.0))
        rows.append(Row("target", "target", f"engagement target: at least {money(target)} {unit}", everyone, zeros,
                        value * counted, GE, float(target), "engaged"))
    else:
        sense = LE if (scenario.budget.at_most or mode is Mode.TARGET_CPE) else EQ
        word = "at most" if sense == LE else "exactly"
        if budgets is None:
            rows.append(Row("budget", "budget", f"budget: {word} {money(budget, currency)}", everyone, ones, zeros,
                            sense, budget, MONEY))
        else:
            for t in range(count):
                rows.append(money_row(f"budget-{t + 1}", "budget", f"budget of {labels[t]}: {word} "
                                      f"{money(budgets[t], currency)}", t_of == t, sense, float(budgets[t])))
    if mode is Mode.TARGET_CPE:
        cpe = float(scenario.objective.target)
        rows.append(Row("target-cpe", "target", "average cost per engaged customer at most "
                        f"{units.money(cpe, currency, digits=2)}", everyone, ones, -cpe * counted, LE, 0.0, MONEY))

    # The scenario's rules: over the horizon, a range of periods, or each period.
    for r, rule in enumerate(scenario.rules):
        where = f"rule {r + 1} ({rule.label})"
        mask = select(tp, rule, where, folded)
        chosen = np.arange(count) if rule.periods is None else _periods(calendar, rule.periods, where)
        if rule.lock:  # today's spend, in each of its periods
            for t in chosen:
                cols = mask[i_of] & (t_of == t)
                if rule.touchpoint is not None:
                    bound(cols, "lo", s_col, "lock", f"lock ({rule.label})", r)
                    bound(cols, "hi", s_col, "lock", f"lock ({rule.label})", r)
                else:
                    base = float(today_col[cols].sum())
                    rows.append(money_row(f"lock-{r}" + ("" if single else f"-{t + 1}"), "lock",
                                          f"{rule.label}: kept at {money(base, currency)}"
                                          + ("" if single else f" in {labels[t]}"), cols, EQ, base, r))
        groups = [chosen[k:k + 1] for k in range(len(chosen))] if rule.per_period else [chosen]
        for group in groups:
            cols = mask[i_of] & np.isin(t_of, group)
            tag = "" if len(groups) == 1 else f"-{group[0] + 1}"
            _rule_rows(rule, r, tag, cols, group, where_words(group), rows, bound, s_col, today_col, e_col,
                       counted, landing, carry_in, mask, i_of, t_of, count, rule.touchpoint is not None, currency)
        if rule.max_step is not None:
            _step_rows(f"step-{r}", "change", rule.label, mask[i_of], chosen, t_of, rule.max_step, labels, rows, r)

    if scenario.protect_stages:
        stages = tp[S.STAGE].to_numpy(object)
        for stage in sorted(set(stages) - {S.UNKNOWN_STAGE}):
            cols = (stages == stage)[i_of]
            floor = float((e_col * counted)[cols].sum())
            rows.append(Row(f"stage-{stage}", "coverage",
                            f"stage '{stage}': at least today's {money(floor)} {units.CUSTOMERS}", np.flatnonzero(cols),
                            np.zeros(int(cols.sum())), counted[cols], GE, floor, "engaged"))

    if scenario.siloed:
        if today <= 0:
            raise ScenarioError("siloed planning keeps each function's share of today's spend, and nothing is "
                                "spent today; plan across functions instead")
        functions = tp[S.FUNCTION].to_numpy(object)
        planned_today = float(baseline.spend.sum())
        for f in sorted(set(functions)):
            mask = functions == f
            share = float(baseline.spend[mask].sum()) / planned_today if planned_today > 0 else 0.0
            rows.append(money_row(f"silo-{f}", "silo", f"siloed: function '{f}' keeps its {share:.1%} share",
                                  mask[i_of].astype(float), EQ, 0.0, share=share))

    if not per_period:  # the data's limits over the horizon, as rows
        for i in np.flatnonzero(~np.isnan(min_spend)):
            rows.append(money_row(f"min_spend-{names[i]}", "floor", f"min_spend of '{names[i]}': at least "
                                  f"{money(horizon_min[i], currency)} over the horizon", i_of == i, GE, horizon_min[i]))
        for i in np.flatnonzero(~np.isnan(max_spend)):
            rows.append(money_row(f"max_spend-{names[i]}", "cap", f"max_spend of '{names[i]}': at most "
                                  f"{money(horizon_max[i], currency)} over the horizon", i_of == i, LE, horizon_max[i]))
        horizon_today = s0 * share_of_data
        for i in np.flatnonzero(~np.isnan(change)):
            c = change[i]
            rows.append(money_row(f"max_change-lo-{names[i]}", "change", f"max_change of '{names[i]}': at least "
                                  f"{money(horizon_today[i] * max(1 - c, 0), currency)} over the horizon",
                                  i_of == i, GE, horizon_today[i] * max(1 - c, 0.0)))
            rows.append(money_row(f"max_change-hi-{names[i]}", "change", f"max_change of '{names[i]}': at most "
                                  f"{money(horizon_today[i] * (1 + c), currency)} over the horizon",
                                  i_of == i, LE, horizon_today[i] * (1 + c)))

    budget_shares: dict[int, float] = {}
    money_rows = _pacing_rows(periods, calendar, budget, mode, scenario, t_of, rows, currency, budget_shares)

    bounds = pd.concat(pieces, ignore_index=True)[["touchpoint", "side", "value", "family", "what", "rule"]]
    expanded = _expand(tp, line)
    if not single:
        expanded[S.OBSERVED_MAX] = np.where(evident, np.nan_to_num(observed)[i_of] * L, np.nan)
    removed = _expand(baseline.removed, data_line.take(_positions(baseline.data, baseline.removed))) if len(
        baseline.removed) else baseline.removed
    period_base = Baseline(data, today_col, e_col, baseline.added[i_of], removed)
    weight = tp[S.VALUE].to_numpy(float)[i_of] * counted
    return PeriodModel(expanded, scenario, budget, rows, bounds, weight, mode is not Mode.MIN_SPEND, period_base,
                       currency, assumed, line=line, names=names, money_rows=money_rows, carry_in=carry_in,
                       today_engaged=e_col, planned=tp, removed_names=baseline.removed[S.TOUCHPOINT].to_numpy(object),
                       data_limits=("period" if per_period else "horizon", limited), budget_shares=budget_shares)


def _positions(data: pd.DataFrame, part: pd.DataFrame) -> np.ndarray:
    """Positions in `data` of the rows of `part` (a slice of it)."""
    return data.index.get_indexer(part.index)


def _periods(calendar: Calendar, spec, where: str) -> np.ndarray:
    try:
        return calendar.select(spec, f"{where}: periods")
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None


def _rule_rows(rule: Rule, r: int, tag: str, cols: np.ndarray, group: np.ndarray, when: str, rows: list[Row], bound,
               s_col: np.ndarray, today_col: np.ndarray, e_col: np.ndarray, counted: np.ndarray,
               landing: np.ndarray, carry_in: np.ndarray, mask: np.ndarray, i_of: np.ndarray, t_of: np.ndarray,
               count: int, single_touchpoint: bool, currency: str | None) -> None:
    """One rule's limits on a group of columns (one touchpoint's or a group's, in some periods): bounds where the
    group is one column, else rows (model.formulate's families and names, with the periods in the label)."""
    label = rule.label + when
    if single_touchpoint and cols.sum() == 1:
        what = f" ({rule.label})"
        if rule.min_spend is not None:
            bound(cols, "lo", np.full(len(cols), rule.min_spend), "floor", f"floor{what}", r)
        if rule.max_spend is not None:
            bound(cols, "hi", np.full(len(cols), rule.max_spend), "cap", f"cap{what}", r)
        if rule.min_change is not None:
            bound(cols, "lo", s_col * (1 + rule.min_change), "change", f"limit on change{what}", r)
        if rule.max_change is not None:
            bound(cols, "hi", s_col * (1 + rule.max_change), "change", f"limit on change{what}", r)
    else:
        rows += group_money_rows(rule, r, label, cols, float(today_col[cols].sum()), currency, tag)
    within = np.isin(t_of, group)
    for key, sense, word in (("min_share", GE, "at least"), ("max_share", LE, "at most")):
        share = getattr(rule, key)
        if share is not None:
            total = "the total" if len(group) == count else f"the total{when}"
            coefficient = np.where(within, cols.astype(float) - share, 0.0)
            index = np.flatnonzero(within)
            rows.append(Row(f"{key}-{r}{tag}", "share", f"{rule.label}: {word} {share:.0%} of {total}", index,
                            coefficient[index], np.zeros(len(index)), sense, 0.0, MONEY, r))
    if rule.min_engaged is None and rule.min_engaged_change is None:
        return
    if rule.periods is None and not rule.per_period:  # over the horizon: what the objective counts
        b = np.where(cols, counted, 0.0)
        offset = 0.0
    else:  # engaged in these periods: carry-over from earlier periods and from before the horizon included
        per = landing[:, group, :].sum(axis=1).ravel()  # (N x T): sum over u in group of K[i, u, t]
        b = np.where(mask[i_of], per, 0.0)
        offset = float(carry_in[mask][:, group].sum())
    index = np.flatnonzero(b)
    if rule.min_engaged is not None:
        rows.append(Row(f"coverage-{r}{tag}", "coverage", f"{label}: at least {money(rule.min_engaged)} "
                        f"{units.CUSTOMERS}", index, np.zeros(len(index)), b[index], GE,
                        rule.min_engaged - offset, "engaged", r))
    if rule.min_engaged_change is not None:
        today = float((b * e_col)[index].sum()) + offset
        floor = today * (1 + rule.min_engaged_change)
        rows.append(Row(f"coverage_change-{r}{tag}", "coverage", f"{label}: at least {money(floor)} "
                        f"{units.CUSTOMERS} ({rule.min_engaged_change:+.0%} against today)", index,
                        np.zeros(len(index)), b[index], GE, floor - offset, "engaged", r))


def _step_rows(name: str, family: str, label: str, cols: np.ndarray, chosen: np.ndarray, t_of: np.ndarray,
               step: float, labels: list[str], rows: list[Row], rule: int | None = None) -> list[int]:
    """X_t - (1 + d) X_s <= 0 and X_t - (1 - d) X_s >= 0 for consecutive chosen periods s, t (X: the money of
    `cols` in a period); the second only while d < 1. Returns the rows' positions."""
    added = []
    for s, t in zip(chosen[:-1].tolist(), chosen[1:].tolist(), strict=True):
        now, before = cols & (t_of == t), cols & (t_of == s)
        index = np.flatnonzero(now | before)
        for sense, factor, word in ((LE, 1 + step, "at most"), (GE, 1 - step, "at least")):
            if sense == GE and factor <= 0:
                continue
            a = np.where(now, 1.0, -factor)[index]
            added.append(len(rows))
            rows.append(Row(f"{name}-{'up' if sense == LE else 'down'}-{t + 1}", family,
                            f"{label}: {labels[t]} gets {word} {factor:.0%} of {labels[s]}'s money", index, a,
                            np.zeros(len(index)), sense, 0.0, MONEY, rule))
    return added


def _pacing_rows(periods: Periods, calendar: Calendar, budget: float, mode: Mode, scenario: Scenario,
                 t_of: np.ndarray, rows: list[Row], currency: str | None, shares: dict[int, float]) -> list[int]:
    """[periods] pacing: each period's money within floors and caps (amounts, or shares of the horizon's money: of
    the budget when it is spent exactly, else of what the plan spends), and its change from one period to the next.
    Returns the positions of the rows that price a period's money (the budget rows too); `shares` gets the rows
    whose right-hand side is a share of the budget (a sweep over the budget scales them)."""
    labels = calendar.labels
    start = len(rows)
    for key, sense, word in (("min_spend", GE, "at least"), ("max_spend", LE, "at most")):
        values = periods.per_period(key)
        if values is None:
            continue
        for t in range(calendar.count):
            rows.append(money_row(f"pace-{key}-{t + 1}", "pacing", f"pacing: {labels[t]} gets {word} "
                                  f"{money(values[t], currency)}", t_of == t, sense, float(values[t])))
    fixed = mode is Mode.MAX_ENGAGED and periods.budgets is None and not scenario.budget.at_most
    for key, sense, word in (("min_share", GE, "at least"), ("max_share", LE, "at most")):
        values = periods.per_period(key)
        if values is None:
            continue
        for t in range(calendar.count):
            text = f"pacing: {labels[t]} gets {word} {values[t]:.1%} of the horizon's money"
            if fixed:  # X_t >= s B: a row on period t's columns only (rows over every column slow the master LP)
                amount = float(values[t] * budget)
                shares[len(rows)] = float(values[t])
                rows.append(money_row(f"pace-{key}-{t + 1}", "pacing", f"{text} ({money(amount, currency)})",
                                      t_of == t, sense, amount))
            else:  # X_t - s X >= 0: the share of whatever the plan spends
                rows.append(money_row(f"pace-{key}-{t + 1}", "pacing", text, (t_of == t).astype(float), sense, 0.0,
                                      share=float(values[t])))
    if periods.max_step is not None:
        _step_rows("pace-step", "pacing", "pacing", np.ones(len(t_of), bool), np.arange(calendar.count), t_of,
                   periods.max_step, labels, rows)
    budget_rows = [k for k, row in enumerate(rows[:start]) if row.family == "budget"]
    return budget_rows + list(range(start, len(rows)))


def period_model(touchpoints: pd.DataFrame, scenario: Scenario) -> tuple[PeriodModel, Curves]:
    """The model and curves of a plan over periods (optimize.planned_model for a scenario with [periods])."""
    currency = scenario.currency or touchpoints.attrs.get("currency")
    planned = apply_overrides(touchpoints, scenario)
    attrs = dict(touchpoints.attrs)
    line = timeline(planned, scenario, attrs)
    data_line = timeline(touchpoints, scenario, attrs)
    base = Baseline.of(touchpoints, planned)
    model = formulate_periods(planned, scenario, base, currency, line, data_line, attrs)
    return model, period_curves(Curves.from_table(planned), line)
