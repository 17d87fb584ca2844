"""The answers of a plan over time: spend per touchpoint and period, the money and engagement of each period, the
marginal CPE of each period, the price of moving money between periods, and the transfers between them.

The marginal value of money in period t is the dual of its budget: with the rows r that price a period's money as
such (the horizon's budget, each period's budget, the pacing rows; periods.PERIOD_MONEY) and their min-form duals
y_r,

    mu_t = - sum_r y_r a_r(t)        (max_engaged: the plan's measure per unit of money in period t)
    mu_t = (1 - sum_r y_r a_r(t)) / y_target        (min_spend)

and the marginal CPE of period t is 1 / mu_t. Moving one unit of money from period s to period t changes the plan's
measure by mu_t - mu_s at the margin; `move_money` re-solves for the whole effect of moving an amount. Without
rules on periods every mu_t is the budget's dual: the plan has already put each period's last money where it
engages the most, and moving money gains nothing at the margin. (Where a period gets no money at all its dual is
one of several: the value of its first unit may be lower.)
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from . import schema as S
from . import units
from .basis import Basis, _binding_assumptions
from .curves import Curves
from .engine import Solution
from .horizon import Calendar
from .optimize import solve_planned
from .periods import HORIZON_COLUMNS, HORIZON_LIMITS, PeriodModel, Timeline, period_model
from .plan import Plan, transfers
from .scenario import Budget, Mode, Scenario

PERIOD = "period"
TOUCHPOINT_NAME = S.TOUCHPOINT
PERIOD_COLUMNS = ["period", "number", "current_spend", "proposed_spend", "change", "change_pct", "current_engaged",
                  "proposed_engaged", "engaged_in_period", "current_engaged_in_period", "value_per_money",
                  "marginal_cpe"]
"""PeriodPlan.by_period: per period, today's and the plan's money; the customers its own spend engages (today,
plan: over all the periods they land in) and the customers engaged in it (carry-over and spend before the horizon
included); the plan's measure per unit of money at the margin there, and its inverse, the marginal CPE."""
MOVE_COLUMNS = ["from_period", "to_period", "gain_per_1000"]
TRANSFER_COLUMNS = ["from_period", "to_period", "amount"]


@dataclass
class PeriodPlan(Plan):
    """A plan over time: `table` has one row per touchpoint and period (`period` its label), in the model's column
    order (touchpoint by touchpoint), then the rows of touchpoints the scenario removes; `inputs` is the planned
    touchpoint table (one row per touchpoint)."""

    calendar: Calendar | None = None
    by_period: pd.DataFrame | None = None
    """One row per period (PERIOD_COLUMNS)."""
    period_value: np.ndarray | None = None
    """mu_t: the plan's measure per unit of money at the margin in each period (the dual of its budget)."""
    tail: str = "counted"
    period_notes: list[str] = field(default_factory=list)
    rule_groups: np.ndarray | None = None
    """Per row of `rules`, the limit it belongs to: the bounds one limit sets on a touchpoint in several periods
    share a group (their words in `group_words`), every row is its own."""
    group_words: dict[str, str] = field(default_factory=dict)
    line: Timeline | None = None
    """The periods' seasonality, length and carry-over per touchpoint, as the LP planned them (risk.plan_risk
    evaluates the plan over draws of the curves with them)."""

    @property
    def binding_rules(self) -> pd.DataFrame:
        """The rules that hold the plan back, dearest first; a limit that binds in several periods of one
        touchpoint is listed once, with its dearest period's price and the periods it binds in."""
        rules = self.rules
        if self.rule_groups is None or len(self.rule_groups) != len(rules):
            return super().binding_rules
        hit = rules["binding"].to_numpy(bool)
        binding = rules[hit].assign(_group=self.rule_groups[hit])
        binding = binding.sort_values(["price", "name"], ascending=[False, True], kind="stable")
        counts = binding["_group"].value_counts()
        periods = binding.groupby("_group")["period"].agg(list)
        first = binding.drop_duplicates("_group").copy()
        many = first["_group"].map(counts).to_numpy() > 1
        if many.any():
            calendar = self.calendar
            position = {label: k for k, label in enumerate(calendar.labels)}
            first.loc[many, "rule"] = [
                f"{self.group_words.get(g, text)} in {counts[g]} periods "
                f"({calendar.describe(np.array(sorted(position[p] for p in periods[g])))}), dearest in {p0}"
                for g, text, p0 in zip(first.loc[many, "_group"], first.loc[many, "rule"], first.loc[many, "period"],
                                       strict=True)]
        return first.drop(columns="_group").reset_index(drop=True)

    @property
    def periods(self) -> list[str]:
        return self.calendar.labels if self.calendar is not None else []

    @property
    def period_transfers(self) -> pd.DataFrame:
        """Money moved between periods against today's allocation: largest giver to largest receiver."""
        if self.by_period is None or not self.ok:
            return pd.DataFrame(columns=TRANSFER_COLUMNS)
        change = self.by_period.set_index("period")["change"]
        out = transfers(change)
        return out.rename(columns={"from_function": "from_period", "to_function": "to_period"})[TRANSFER_COLUMNS]

    def move_prices(self, top: int | None = None) -> pd.DataFrame:
        """The price of moving money between two periods at the margin: the plan's measure gained per 1,000 moved
        from one period to another, (mu_to - mu_from) x 1,000, largest first, moves that gain nothing left out
        (none gains when only the budget holds the periods together: the plan is optimal)."""
        mu = self.period_value
        if mu is None or not np.isfinite(mu).any() or not self.ok:
            return pd.DataFrame(columns=MOVE_COLUMNS)
        labels = np.array(self.periods, dtype=object)
        gain = (mu[None, :] - mu[:, None]) * 1000.0
        scale = 1e-6 * max(1.0, float(np.nanmax(np.abs(mu))) * 1000)
        s, t = np.nonzero(np.isfinite(gain) & (gain > scale))
        out = pd.DataFrame({"from_period": labels[s], "to_period": labels[t], "gain_per_1000": gain[s, t]})
        out = out.sort_values(["gain_per_1000", "from_period", "to_period"], ascending=[False, True, True])
        out = out.reset_index(drop=True)
        return out.head(top) if top else out

    def wide(self, column: str = "proposed_spend") -> pd.DataFrame:
        """One row per touchpoint, one column per period (and the total): `column` of the table."""
        t = self.table
        frame = t.pivot_table(index=S.TOUCHPOINT, columns=PERIOD, values=column, aggfunc="sum", sort=False)
        frame = frame.reindex(columns=self.periods)
        frame["total"] = frame.sum(axis=1)
        head = t.drop_duplicates(S.TOUCHPOINT).set_index(S.TOUCHPOINT)[[S.FUNCTION, S.CHANNEL, S.STAGE]]
        return head.join(frame).reset_index()

    def summary_text(self) -> str:
        """The plan's summary over the horizon, then its periods: money, engagement, marginal CPE, the transfers
        between periods and the price of moving money."""
        text = super().summary_text()
        if not self.ok or self.by_period is None:
            return text
        return text + "\n" + "\n".join(self.period_lines())

    def period_lines(self) -> list[str]:
        """The periods in plain lines for the terminal."""
        b = self.by_period
        cur = f" ({self.currency})" if self.currency else ""
        lines = ["", f"Periods: {len(b)} ({b['period'].iloc[0]} to {b['period'].iloc[-1]})"]
        lines += [f"  - {note}" for note in self.period_notes]
        lines.append(f"  {'period':<12}{'today' + cur:>18}{'plan' + cur:>18}{'change':>9}"
                     f"{'engaged in it':>16}{'marginal CPE':>14}")
        for r in b.itertuples():
            pct = "" if not np.isfinite(r.change_pct) else f"{r.change_pct:+.1%}"
            cpe = f"{r.marginal_cpe:,.2f}" if np.isfinite(r.marginal_cpe) else "-"
            lines.append(f"  {str(r.period):<12}{r.current_spend:>18,.0f}{r.proposed_spend:>18,.0f}{pct:>9}"
                         f"{r.engaged_in_period:>16,.0f}{cpe:>14}")
        moves = self.period_transfers
        lines.append("Transfers between periods:" if len(moves) else "Transfers between periods: none")
        lines += [f"  {m.from_period} -> {m.to_period}: {self.money(m.amount)}" for m in moves.itertuples()]
        gains = self.move_prices(top=3)
        per = units.per(1000, self.currency)
        if len(gains):
            lines.append(f"Moving money between periods would gain (the rules on periods hold it back; per {per}):")
            lines += [f"  {p.from_period} -> {p.to_period}: +{p.gain_per_1000:,.1f} {self.measure}"
                      for p in gains.itertuples()]
        elif np.isfinite(self.period_value).any():
            lines.append("Moving money between periods gains nothing at the margin: every period's last money "
                         "engages as much as any other's")
        return lines


def optimize_periods(touchpoints: pd.DataFrame, scenario: Scenario) -> PeriodPlan:
    """The plan over the scenario's periods (optimize.optimize for a scenario with [periods])."""
    model, curves = period_model(touchpoints, scenario)
    plan, sol, _ = solve_planned(model, curves)
    return period_plan(plan, model, curves, sol)


def period_plan(plan: Plan, model: PeriodModel, curves: Curves, sol: Solution | None) -> PeriodPlan:
    """The Plan of a PeriodModel with its periods: touchpoint names as given and a `period` column, engagement in
    each period, and the answers per period (module docstring)."""
    line = model.line
    n, count = model.n, line.count
    width = n * count
    labels = line.calendar.labels
    table = plan.table.copy()
    removed = (len(table) - width) // count if len(table) > width else 0
    names = np.concatenate([np.repeat(model.names, count),
                            np.repeat(model.removed_names, count) if removed else np.zeros(0, object)])
    table[S.TOUCHPOINT] = names
    table.insert(1, PERIOD, np.tile(np.asarray(labels, dtype=object), n + removed))
    season = np.concatenate([line.season.ravel(), np.ones(removed * count)])
    spend = table["proposed_spend"].to_numpy(float)
    caused = table["proposed_engaged"].to_numpy(float)
    landing = line.landing()
    after = line.after().ravel()
    today_caused = model.today_engaged
    land_today = np.einsum("iut,it->iu", landing, today_caused.reshape(n, count)) + model.carry_in
    extra = {"seasonality": season, "current_engaged_in_period": _pad(land_today.ravel(), len(table))}
    if plan.ok:
        land = np.einsum("iut,it->iu", landing, caused[:width].reshape(n, count)) + model.carry_in
        extra["engaged_in_period"] = _pad(land.ravel(), len(table))
        extra["engaged_after_horizon"] = _pad(caused[:width] * after, len(table))
    else:
        extra["engaged_in_period"] = np.full(len(table), np.nan)
        extra["engaged_after_horizon"] = np.full(len(table), np.nan)
    for key, values in extra.items():
        table[key] = values
    mu = _period_values(model, sol) if plan.ok and sol is not None else np.full(count, np.nan)
    by_period = _by_period(table, labels, mu, model, sol if plan.ok else None)
    values = {f.name: getattr(plan, f.name) for f in fields(Plan)}
    rules, groups, words = _rule_periods(plan.rules, model)
    values.update(table=table, inputs=model.planned, rules=rules)
    out = PeriodPlan(**values, calendar=line.calendar, by_period=by_period, period_value=mu, tail=line.tail,
                     rule_groups=groups, group_words=words, line=line)
    if plan.ok:
        if not np.isfinite(out.marginal_cpe) and np.isfinite(mu).any() and model.maximise:
            best = float(np.nanmax(mu))
            out.marginal_cpe = 1.0 / best if best > 1e-12 else float("inf")
        out.basis = _basis(out, model, curves, spend[:width])
    out.period_notes = _notes(out, model, caused[:width] if plan.ok else None)
    return out


def _rule_periods(rules: pd.DataFrame, model: PeriodModel) -> tuple[pd.DataFrame, np.ndarray, dict[str, str]]:
    """plan.rules with the period of each bound (a `period` column; '' for rows), and the limit each belongs to:
    the bounds one limit sets on one touchpoint share a group ('b<k>'), worded without the period; every row is its
    own group ('r<k>')."""
    count = model.line.count
    labels = np.asarray(model.line.calendar.labels, dtype=object)
    out = rules.copy()
    period = np.full(len(out), "", dtype=object)
    groups = np.array([f"r{k}" for k in range(len(out))], dtype=object)
    words: dict[str, str] = {}
    k0, bounds = len(model.rows), model.bounds
    if len(out) == k0 + len(bounds) and len(bounds):
        column = bounds["touchpoint"].to_numpy(int)
        period[k0:] = labels[column % count]
        keys = bounds[["family", "what", "side", "rule"]].assign(touchpoint=column // count)
        ids = keys.groupby(list(keys.columns), sort=False, observed=True).ngroup().to_numpy()
        groups[k0:] = np.char.add("b", ids.astype(str)).astype(object)
        first = np.unique(ids, return_index=True)[1]
        names = model.names
        what = bounds["what"].to_numpy(object)[first]
        who = names[column[first] // count]
        words = {f"b{i}": f"{w} of '{n}'" for i, w, n in zip(ids[first].tolist(), what.tolist(), who.tolist(),
                                                               strict=True)}
    out["period"] = period
    return out, groups, words


def _pad(values: np.ndarray, length: int) -> np.ndarray:
    """values, then NaN up to length (the rows of removed touchpoints)."""
    return np.concatenate([values, np.full(length - len(values), np.nan)])


def _period_values(model: PeriodModel, sol: Solution) -> np.ndarray:
    """mu_t (module docstring): the plan's measure per unit of money at the margin in each period, from the duals
    of the rows on a period's money; NaN in target_cpe (a period's value there also depends on the CPE row)."""
    count, width = model.line.count, len(model.weight)
    y = np.asarray(sol.row_duals, float)
    priced = np.zeros(count)
    for r in model.money_rows:
        a, _ = model.rows[r].dense(width)
        priced += y[r] * a[:count]  # columns 0 .. T-1 are the first touchpoint's periods: every period's coefficient
    mode = model.scenario.objective.mode
    if mode is Mode.MAX_ENGAGED:
        return -priced
    if mode is Mode.MIN_SPEND:
        target = next((r for r, row in enumerate(model.rows) if row.name == "target"), None)
        if target is None or y[target] <= 1e-12:
            return np.full(count, np.nan)
        return (1.0 - priced) / y[target]
    return np.full(count, np.nan)


def _by_period(table: pd.DataFrame, labels: list[str], mu: np.ndarray, model: PeriodModel,
               sol: Solution | None) -> pd.DataFrame:
    """PERIOD_COLUMNS from the table (rows of removed touchpoints count for today)."""
    sums = table.groupby(PERIOD, sort=False)[["current_spend", "proposed_spend", "current_engaged",
                                             "proposed_engaged", "engaged_in_period",
                                             "current_engaged_in_period"]].sum(min_count=1).reindex(labels)
    out = sums.reset_index()
    out.insert(1, "number", np.arange(1, len(labels) + 1))
    out["change"] = out["proposed_spend"] - out["current_spend"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["change_pct"] = np.where(out["current_spend"] > 0, out["change"] / out["current_spend"], np.nan)
        out["value_per_money"] = mu
        out["marginal_cpe"] = np.where(mu > 1e-12, 1.0 / mu, np.where(np.isfinite(mu), np.inf, np.nan))
    return out[PERIOD_COLUMNS]


def _basis(plan: PeriodPlan, model: PeriodModel, curves: Curves, x: np.ndarray) -> Basis:
    """What the plan rests on (basis.plan_basis), counted by touchpoint rather than by column."""
    tp = model.planned
    n, count = model.n, model.line.count
    source = tp[S.CURVE_SOURCE] if S.CURVE_SOURCE in tp.columns else pd.Series("assumed", index=tp.index)
    today = plan.table["current_spend"].to_numpy(float)
    per_touchpoint = today[: n * count].reshape(n, count).sum(axis=1)
    frame = pd.DataFrame({"source": source.to_numpy(object), "spend": per_touchpoint})
    if len(today) > n * count:
        frame = pd.concat([frame, pd.DataFrame({"source": "given", "spend": [float(today[n * count:].sum())]})])
    total = float(today.sum())
    sources = frame.groupby("source", sort=False).agg(touchpoints=("spend", "size"), spend=("spend", "sum"))
    sources["share"] = sources["spend"] / total if total > 0 else 0.0
    order = {s: i for i, s in enumerate(S.CURVE_SOURCES)}
    sources = sources.reset_index().sort_values("source", key=lambda c: c.map(order)).reset_index(drop=True)
    observed = model.touchpoints[S.SPEND].to_numpy(float)
    if S.OBSERVED_MAX in model.touchpoints.columns:
        observed = np.fmax(observed, model.touchpoints[S.OBSERVED_MAX].to_numpy(float))
    beyond = x > observed * (1 + 1e-9) + 1e-9
    gain_beyond = float((curves.engaged(x) - curves.engaged(np.minimum(x, observed)))[beyond].sum())
    s = plan.summary()
    touchpoints_beyond = int(beyond.reshape(n, count).any(axis=1).sum())
    return Basis(sources, float((x - observed)[beyond].sum()), touchpoints_beyond,
                 s["proposed_engaged"] - s["current_engaged"], gain_beyond, _binding_assumptions(plan))


def _notes(plan: PeriodPlan, model: PeriodModel, caused: np.ndarray | None) -> list[str]:
    """What the periods rest on, in sentences."""
    line = model.line
    calendar = line.calendar
    out = []
    share = line.length
    words = {1 / 12: "a twelfth", 1 / 4: "a quarter", 1 / 13: "a thirteenth", 1 / 52: "a fifty-second"}
    part = next((w for v, w in words.items() if abs(share - v) < 1e-9), f"{share:.4g}")
    kind = calendar.kind + ("s" if calendar.count != 1 else "")
    out.append(f"{calendar.count} {kind}; each period's curve is the touchpoint's for {part} of the data's period "
               "(its money spread evenly over it)" if abs(share - 1) > 1e-12 else
               f"{calendar.count} {kind}, each as long as the data's period")
    season = line.season
    if np.allclose(season, 1.0):
        out.append("no seasonality: every period's curve is the same (seasonality = 'none', or none in the data)")
    else:
        low, high = float(season.min()), float(season.max())
        basis = {"history": "estimated from the history (evidence)",
                 "data": "the data's seasonality column (as given)",
                 "scenario": "set in the scenario (an assumption)"}.get(line.season_source, "as given")
        out.append(f"seasonality from {low:.2f} to {high:.2f}, {basis}: the same money engages that much more or "
                   "less in some periods than the touchpoint's curve says")
    where, limited = model.data_limits
    if limited and calendar.count > 1:
        scenario_says = model.scenario.periods.data_limits
        how = ("over the horizon: each touchpoint's money may move between periods within them" if where == "horizon"
               else "in every period at its share" + (f" (more than {HORIZON_LIMITS} touchpoints carry one, or "
                                                       f"more than {HORIZON_COLUMNS:,} touchpoint-periods: per "
                                                       "period keeps the plan fast; data_limits = 'horizon' holds "
                                                       "them over the horizon)" if scenario_says == "auto" else ""))
        out.append(f"the table's own limits (min_spend, max_spend, max_change) on {limited} touchpoint(s) hold {how}")
    carries = np.nan_to_num(line.carry) > 0
    if carries.any():
        after = line.after()
        landed = "" if caused is None else (
            f"; {units.money(float((caused * after.ravel()).sum()))} of the plan's {units.CUSTOMERS} land after the "
            f"horizon ({'counted' if line.tail == 'counted' else 'not counted: tail cut'})")
        before = float(model.carry_in.sum())
        out.append(f"{int(carries.sum())} touchpoint(s) carry over (up to {float(np.max(line.carry)):.2f} per "
                   f"{line.base_name}): spend engages customers in the periods after it{landed}; "
                   f"{units.money(before)} {units.CUSTOMERS} in the horizon come from spend before it (assumed: "
                   "today's allocation at its steady rate)")
    return out


# ---- moving money between periods ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Move:
    """The whole effect of moving money between periods: the plan re-solved with each period's money fixed."""

    amount: float
    source: str
    target: str
    before: float
    after: float
    plan: Plan
    measure: str
    currency: str | None = None

    @property
    def gain(self) -> float:
        return self.after - self.before

    def words(self) -> str:
        money = units.money(self.amount, self.currency)
        if not self.plan.ok:
            return f"moving {money} from {self.source} to {self.target} leaves no plan: {self.plan.message}"
        verb = "adds" if self.gain >= 0 else "costs"
        return (f"moving {money} from {self.source} to {self.target} {verb} {units.money(abs(self.gain))} "
                f"{self.measure} (each period's money otherwise as planned)")


def move_money(touchpoints: pd.DataFrame, scenario: Scenario, plan: PeriodPlan, source, target,
               amount: float) -> Move:
    """Re-solve with each period's money fixed at the plan's, `amount` taken from the periods `source` names and
    given to those `target` names (each in proportion to the plan's money there, evenly where it has none)."""
    if scenario.objective.mode is Mode.MIN_SPEND:
        raise ValueError("moving money between periods asks what the same money engages: use a max_engaged plan")
    calendar = plan.calendar
    given = plan.by_period["proposed_spend"].to_numpy(float).copy()
    budgets = given.copy()
    for spec, sign in ((source, -1.0), (target, 1.0)):
        picked = calendar.select(spec, "move")
        weights = given[picked] if given[picked].sum() > 0 else np.ones(len(picked))
        budgets[picked] += sign * amount * weights / weights.sum()
    if (budgets < -1e-9).any():
        raise ValueError(f"the plan has less than {units.money(amount, plan.currency)} in {source} to move")
    periods = scenario.periods.model_copy(update={"budgets": tuple(np.maximum(budgets, 0.0).tolist())})
    moved = scenario.model_copy(update={"periods": periods, "budget": Budget(at_most=scenario.budget.at_most)})
    again = optimize_periods(touchpoints, moved)
    pinned = scenario.model_copy(update={"periods": periods.model_copy(update={"budgets": tuple(given.tolist())}),
                                         "budget": Budget(at_most=scenario.budget.at_most)})
    base = optimize_periods(touchpoints, pinned)
    return Move(amount, calendar.describe(calendar.select(source)), calendar.describe(calendar.select(target)),
                float(base.objective), float(again.objective), again, plan.measure, plan.currency)
