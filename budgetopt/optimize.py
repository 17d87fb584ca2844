"""The optimise call, top to bottom: check -> formulate -> segment -> solve -> if ok, plan and prices."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from . import schema as S
from . import units
from .baseline import Baseline, WhatIf
from .basis import plan_basis
from .conflicts import explain_infeasible, lowest_average_cpe
from .curves import Curves, Segments
from .engine import GAP, Solution, Status, solve
from .feasibility import decide, engagement_rows
from .lp import RowMatrix
from .model import ENGAGED, EQ, GE, LE, MONEY, Model, bound_label, bound_names, formulate
from .overrides import apply_overrides, describe_whatifs, whatif_labels
from .plan import PLAN_COLUMNS, RULE_COLUMNS, MoneyRule, Plan
from .scenario import Mode, Scenario
from .touchpoints import tag_columns

FIRST_PASS_GAP = 1e-3
"""The first of two passes only places the second pass's breakpoints: a plan this close to its LP's optimum
is close enough (the second pass is solved to engine.GAP)."""


def optimize(touchpoints: pd.DataFrame, scenario: Scenario | None = None) -> Plan:
    """Reallocate spend across touchpoints for the scenario and return the Plan (never raises on infeasible).

    Today is the data as given: the scenario's what-ifs (overrides, added touchpoints) change the curves the plan
    is made on, and their effect on today's allocation is reported apart (Plan.whatif)."""
    scenario = scenario or Scenario()
    if scenario.periods is not None:  # a plan over time: touchpoints x periods (periods.py)
        from .period_plan import optimize_periods

        return optimize_periods(touchpoints, scenario)
    model, curves = planned_model(touchpoints, scenario)
    return solve_planned(model, curves)[0]


def solve_planned(model: Model, curves: Curves) -> tuple[Plan, Solution | None, Segments | None]:
    """segment -> solve -> if ok, plan and prices: the Plan of a model and its curves, and the solution and segments
    it rests on (None when a floor is above a cap before any solve)."""
    scenario = model.scenario
    lo, hi = model.limits()
    crossed = lo > hi + 1e-9 * np.maximum(1.0, hi)
    if crossed.any():
        words = "a floor is above a cap on the same touchpoint"
        return _no_plan(model, curves, Status.INFEASIBLE, words, {}), None, None
    segments = scenario.settings.segments
    seg = curves.segments(lo, hi, segments)
    refine = scenario.settings.refine
    first_gap = FIRST_PASS_GAP if refine else GAP
    sol = solve(model, seg, gap=first_gap)
    passes = [sol]
    points, verdict = None, None
    if sol.status is Status.INFEASIBLE and engagement_rows(model.rows):
        # the chords lie below the curves: their "no plan" proves nothing until the tangents above agree
        verdict = decide(model, curves, lo, hi, segments, gap=first_gap)
        if verdict.feasible is not False:
            points = verdict.points
            model = replace(model, rows=verdict.rows)
            seg = curves.segments(lo, hi, segments, also=points)
            sol = verdict.solution or solve(model, seg, gap=first_gap)
            passes.append(sol)
    if refine and sol.status.is_ok and len(seg):
        seg = curves.segments(lo, hi, segments, around=seg.spend(sol.values), also=points)
        sol = solve(model, seg, hint=sol.row_duals)
        passes.append(sol)
    stats = {"columns": sol.columns, "rows": sol.rows, "build_seconds": sol.build_seconds,
             "solve_seconds": sol.solve_seconds, "solver": sol.solver, "segments": segments,
             "passes": len(passes), "total_build_seconds": sum(p.build_seconds for p in passes),
             "total_solve_seconds": sum(p.solve_seconds for p in passes),
             "lp_rounds": sum(p.rounds for p in passes), "lp_columns": max(p.lp_columns for p in passes),
             **sol.extra}
    if verdict is not None:
        stats["feasibility_rounds"] = verdict.rounds
        stats["floors_met_within"] = verdict.shortfall
        stats["floors_lowered"] = verdict.lowered
    if sol.status is Status.INFEASIBLE:
        return _no_plan(model, curves, sol.status, "no plan satisfies every rule", stats), sol, seg
    if not sol.status.is_ok:
        return _no_plan(model, curves, sol.status, sol.message, stats, explain=False), sol, seg
    plan = _plan(model, curves, seg, sol, stats)
    if verdict is not None and verdict.feasible is None:
        plan.message = (f"optimal, with {', '.join(repr(label) for label in verdict.lowered)} met within "
                        f"{verdict.shortfall:.4%}: no plan was found to meet them exactly, and none was proven "
                        "impossible (they are at the edge of what any plan can reach)")
    return plan, sol, seg


def planned_model(touchpoints: pd.DataFrame, scenario: Scenario) -> tuple[Model, Curves]:
    """The model and curves a scenario is planned on: its what-ifs applied, today from the data as given (over
    touchpoints x periods when the scenario has [periods])."""
    if scenario.periods is not None:
        from .periods import period_model

        return period_model(touchpoints, scenario)
    currency = scenario.currency or touchpoints.attrs.get("currency")
    planned = apply_overrides(touchpoints, scenario)
    model = formulate(planned, scenario, Baseline.of(touchpoints, planned), currency)
    return model, Curves.from_table(planned)


def whatif(model: Model, curves: Curves) -> WhatIf:
    """Today's allocation on the curves the plan is made on (the scenario's what-ifs applied, if any): where they
    differ from the data, this is the figure the plan's gain on the same curves is measured from."""
    engaged = curves.engaged(model.baseline.spend)
    return WhatIf(describe_whatifs(model.scenario, model.currency), float(engaged.sum()),
                  float((engaged * model.weight).sum()))


def segment_slope(seg, x: np.ndarray, curves: Curves) -> np.ndarray:
    """Engaged per extra unit of money at x as the LP sees it: the slope of the segment the next dollar
    enters (the last segment at the cap); the smooth derivative where a touchpoint has no segment."""
    slope = curves.marginal(x)
    if len(seg) == 0:
        return slope
    t = seg.touchpoint
    seg_start = seg.starts()
    filled = x[t] >= seg_start + seg.width - 1e-9 * np.maximum(1.0, seg.width)
    # the first segment not yet filled; touchpoints at their cap keep their last segment
    order = np.where(filled, np.inf, np.arange(len(t)))
    nxt = np.full(len(x), np.inf)
    np.minimum.at(nxt, t, order)
    last = np.full(len(x), -1)
    np.maximum.at(last, t, np.arange(len(t)))
    has = last >= 0
    pick = np.where(np.isfinite(nxt), nxt, last).astype(int)
    slope[has] = seg.slope[pick[has]]
    return slope


def _plan(model: Model, curves: Curves, seg, sol: Solution, stats: dict,
          reduced_cost: np.ndarray | None = None) -> Plan:
    """The Plan of a solved segment LP. reduced_cost: per touchpoint, the LP's own reduced cost of its next unit of
    money where the caller knows it better than the curves' slope does (robust.py; NaN: from the slope)."""
    tp = model.touchpoints
    x = seg.spend(sol.values)
    x = np.where(np.abs(x - curves.spend0) <= 1e-9 * np.maximum(1.0, curves.spend0), curves.spend0, x)
    x = np.round(x, 6)
    engaged = curves.engaged(x)
    marginal = segment_slope(seg, x, curves)
    table = _table(model, x, engaged, marginal, seg.lo, seg.hi)
    rules = _rule_prices(model, curves, seg, sol, x, reduced_cost)
    plan = Plan(sol.status, "optimal", model.scenario, table, rules, model.budget, _marginal_cpe(model, sol),
                sol.objective, [], stats, tp, currency=model.currency, whatif=whatif(model, curves))
    plan.basis = plan_basis(plan, curves)
    plan.money_rules = money_rules(model)
    return plan


def money_rules(model: Model) -> list[MoneyRule]:
    """The model's rows that are plain sums of money, sum_{i in index} c x_i (sense) rhs with one c > 0 for all
    (pacing shares and engagement rows are not), as MoneyRule(index, sense, rhs / c) over the plan's rows."""
    out = []
    for row in model.rows:
        a = np.asarray(row.a, float)
        if row.unit != MONEY or not len(a) or np.any(np.asarray(row.b, float) != 0):
            continue
        if a[0] > 0 and np.allclose(a, a[0], rtol=1e-12, atol=0.0):
            out.append(MoneyRule(np.asarray(row.index, np.int64), row.sense, float(row.rhs) / float(a[0])))
    return out


def _table(model: Model, x: np.ndarray, engaged: np.ndarray, marginal: np.ndarray, lo: np.ndarray,
           hi: np.ndarray) -> pd.DataFrame:
    """One row per touchpoint: today from the data, the plan on the scenario's curves; then the data's rows the
    scenario removes (today as it was, nothing in the plan), so that today's totals are the data's."""
    tp, base = model.touchpoints, model.baseline
    s0, e0 = base.spend, base.engaged
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame({
            S.TOUCHPOINT: tp[S.TOUCHPOINT], S.FUNCTION: tp[S.FUNCTION], S.CHANNEL: tp[S.CHANNEL],
            S.STAGE: tp[S.STAGE],
            "current_spend": s0, "proposed_spend": x, "change": x - s0,
            "change_pct": np.where(s0 > 0, (x - s0) / s0, np.nan),
            "current_engaged": e0, "proposed_engaged": engaged,
            "current_cpe": np.where(e0 > 0, s0 / e0, np.nan),
            "proposed_cpe": np.where(engaged > 0, x / engaged, np.nan),
            "marginal_cpe": np.where(marginal > 0, 1.0 / marginal, np.inf),
            "lower_limit": lo, "upper_limit": hi, S.VALUE: tp[S.VALUE],
            S.WHAT_IF: whatif_labels(tp, model.scenario, base.added),
        })
    gone = base.removed
    if len(gone):
        s, e = gone[S.SPEND].to_numpy(float), gone[S.ENGAGED].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            removed = pd.DataFrame({
                S.TOUCHPOINT: gone[S.TOUCHPOINT], S.FUNCTION: gone[S.FUNCTION], S.CHANNEL: gone[S.CHANNEL],
                S.STAGE: gone[S.STAGE], "current_spend": s, "proposed_spend": 0.0, "change": -s,
                "change_pct": np.where(s > 0, -1.0, np.nan), "current_engaged": e, "proposed_engaged": 0.0,
                "current_cpe": np.where(e > 0, s / e, np.nan), "proposed_cpe": np.nan, "marginal_cpe": np.nan,
                "lower_limit": 0.0, "upper_limit": 0.0, S.VALUE: gone[S.VALUE], S.WHAT_IF: S.REMOVED,
            })
        table = pd.concat([table, removed], ignore_index=True)
    table = table[PLAN_COLUMNS].reset_index(drop=True)
    source = pd.concat([tp, gone], ignore_index=True) if len(gone) else tp.reset_index(drop=True)
    extra = [c for c in tag_columns(tp) if c not in table.columns]
    if extra:  # all at once (hundreds of tag columns one by one fragment the frame), sharing the data's arrays
        present = [c for c in extra if c in source.columns]
        tags = source[present].set_axis(table.index)
        missing = pd.DataFrame({c: "" for c in extra if c not in source.columns}, index=table.index, dtype=object)
        table = pd.concat([table, tags, missing], axis=1)[list(table.columns) + extra]
    return table


def _marginal_cpe(model: Model, sol: Solution) -> float:
    """Money per extra unit of the objective's measure (weighted engagement, or engaged customers when every value
    is 1) at the margin: 1 / (budget dual), or the target's dual in min-spend."""
    for r, row in enumerate(model.rows):
        if row.name == "budget":
            lam = -sol.row_duals[r]  # engaged per unit of money (max form)
            return float(1.0 / lam) if lam > 1e-12 else float("inf")
        if row.name == "target":
            return float(sol.row_duals[r]) if sol.row_duals[r] > 1e-12 else 0.0
    return float("nan")


def _gain(sense: str, dual: float) -> float:
    """Objective improvement per unit of relaxing a row, from the min-form dual."""
    return dual if sense == GE else -dual if sense != EQ else abs(dual)


def _rule_prices(model: Model, curves: Curves, seg, sol: Solution, x: np.ndarray,
                 reduced_cost: np.ndarray | None = None) -> pd.DataFrame:
    """Every rule with whether it binds and its local price (dual) in plain units."""
    maximise = model.maximise
    records = []
    for r, row in enumerate(model.rows):
        # a row with a non-zero dual is tight in the LP (complementary slackness); measuring it on the smooth
        # curves instead would call a tight engagement floor slack, since the chords lie below the curve
        price = _gain(row.sense, float(sol.row_duals[r]))
        binding = price > 1e-9
        records.append((row.name, row.family, row.label, binding, price if binding else 0.0, row.unit, row.sense))

    # Bounds: the price of a floor (cap) is the reduced cost of moving one unit of money out of (into) the touchpoint.
    b = model.bounds
    lo, hi = seg.lo, seg.hi
    y = sol.row_duals
    ya, yb = RowMatrix.from_rows(model.rows, len(x)).pull(np.asarray(y, float))
    slope = curves.marginal(x)
    slope = np.where(np.isfinite(slope), slope, 0.0)
    c = -model.weight * slope if maximise else np.ones(len(x))
    reduced = c - ya - yb * slope  # change of the minimised objective per extra unit of money in touchpoint i
    if reduced_cost is not None:
        reduced = np.where(np.isnan(reduced_cost), reduced, reduced_cost)
    idx = b["touchpoint"].to_numpy(int)
    is_lo = b["side"].to_numpy() == "lo"
    value = b["value"].to_numpy(float)
    tight = np.where(is_lo, np.isclose(value, lo[idx], rtol=1e-9, atol=1e-6) & (x[idx] <= lo[idx] + 1e-6),
                     np.isclose(value, hi[idx], rtol=1e-9, atol=1e-6) & (x[idx] >= hi[idx] - 1e-6))
    price = np.where(is_lo, reduced[idx], -reduced[idx]).clip(0)
    binding = tight & (price > 1e-9)
    names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
    words = PriceWords(model)
    bound_price = np.where(binding, price, 0.0)
    bound_sense = np.where(is_lo, GE, LE).astype(object)
    row_name, row_family, row_label, row_binding, row_price, row_unit, row_sense = (
        list(column) for column in zip(*records, strict=True)) if records else ([],) * 7
    name = np.array(row_name + bound_names(b, names), dtype=object)
    family = np.concatenate([np.array(row_family, dtype=object), b["family"].to_numpy(object)])
    unit = np.concatenate([np.array(row_unit, dtype=object), np.full(len(b), MONEY, dtype=object)])
    rule_binding = np.concatenate([np.array(row_binding, dtype=bool), binding])
    rule_price = np.concatenate([np.array(row_price, dtype=float), bound_price])
    text = np.full(len(name), words(0.0, MONEY, False), dtype=object)
    text[:len(records)] = [words(p, u, hit, f, n, sense) for p, u, hit, f, n, sense in
                           zip(row_price, row_unit, row_binding, row_family, row_name, row_sense, strict=True)]
    text[len(records):] = words.bounds(bound_price, binding, bound_sense)
    price_unit = np.concatenate([
        np.array([words.unit(u, "", "target" if n == "target" else "") for u, n in zip(row_unit, row_name,
                                                                                     strict=True)], dtype=object),
        np.full(len(b), words.unit(MONEY, "", ""), dtype=object)])
    rule = np.concatenate([np.array(row_label, dtype=object), bound_label(b, names, model.currency).to_numpy(object)])
    return pd.DataFrame({"name": name, "family": family, "rule": pd.Series(rule, dtype=object),
                         "binding": rule_binding, "price": rule_price, "unit": unit, "price_unit": price_unit,
                         "price_text": text})[RULE_COLUMNS]


_VERBS = {GE: "holds in", EQ: "fixes"}
"""What a binding money rule does to the money, by its sense (a cap: 'keeps out')."""


class PriceWords:
    """A rule's local price in plain words, in the units of its plan: 'costs 41.2 engaged customers per 1,000 EUR
    of money it holds in', 'each extra 1,000 EUR of budget would add 115.9 weighted engagement'."""

    def __init__(self, model: Model):
        self.maximise, self.measure, self.currency = model.maximise, model.measure, model.currency
        target = next((row for row in model.rows if row.name == "target"), None)
        self.target_unit = units.WEIGHTED if target is not None and units.WEIGHTED in target.label else units.CUSTOMERS
        self.thousand, self.of_money = units.money(1000, self.currency), units.per(1000, self.currency)

    def unit(self, unit: str, family: str, name: str) -> str:
        """What the local price counts, per what: 'weighted engagement per EUR', 'EUR per engaged customer'."""
        money = self.currency or "unit of money"
        if name == "target":
            return f"{money} per {'engaged customer' if self.target_unit == units.CUSTOMERS else self.target_unit}"
        if self.maximise:
            return f"{self.measure} per {'engaged customer' if unit == ENGAGED else money}"
        return f"{money} per {'engaged customer' if unit == ENGAGED else money}"

    def bounds(self, price: np.ndarray, binding: np.ndarray, sense: np.ndarray) -> np.ndarray:
        """The words of many touchpoint floors and caps (money rules) at once: one sentence for all that do not
        bind, one per binding one."""
        text = np.full(len(price), self(0.0, MONEY, False), dtype=object)
        hit = np.flatnonzero(binding)
        costs = ([f"{p * 1000:,.1f}" for p in price[hit].tolist()] if self.maximise
                 else units.money_texts(price[hit] * 1000, self.currency))  # the money written in one go
        text[hit] = [self._money_rule(cost, s) for cost, s in zip(costs, sense[hit].tolist(), strict=True)]
        return text

    def _money_rule(self, cost: str, sense: str) -> str:
        """The words of a binding money rule (a floor, a cap or a fixed amount), its price per 1,000 written."""
        verb = _VERBS.get(sense, "keeps out")
        if self.maximise:
            return f"costs {cost} {self.measure} per {self.of_money} it {verb}"
        return f"costs {cost} of extra spend per {self.of_money} it {verb}"

    def __call__(self, price: float, unit: str, binding: bool, family: str = "", name: str = "",
                 sense: str = GE) -> str:
        if not binding:
            return "does not bind: costs nothing"
        thousand, of_money = self.thousand, self.of_money
        if family == "budget":
            return f"each extra {thousand} of budget would add {price * 1000:,.1f} {self.measure}"
        if name == "target":
            one = "engaged customer" if self.target_unit == units.CUSTOMERS else "unit of weighted engagement"
            return f"each {one} less in the target would save {units.money(price, self.currency, digits=2)}"
        if name == "target-cpe":
            return f"each {of_money} of room under the CPE target would add {price * 1000:,.1f} {self.measure}"
        if unit == MONEY:
            cost = f"{price * 1000:,.1f}" if self.maximise else units.money(price * 1000, self.currency)
            return self._money_rule(cost, sense)
        if self.maximise and unit == ENGAGED:
            return f"costs {price:,.2f} {self.measure} elsewhere per engaged customer it protects"
        return f"costs {units.money(price, self.currency, digits=2)} of spend per engaged customer it requires"


def _no_plan(model: Model, curves: Curves, status: Status, message: str, stats: dict,
             explain: bool = True) -> Plan:
    """A plan with no solution: the conflicting rules and ways out (when `explain`), today's figures from the data."""
    conflicts, advice = explain_infeasible(model, curves) if explain else ([], [])
    if explain and model.scenario.objective.mode is Mode.TARGET_CPE:
        advice = _cpe_advice(model, curves) + advice
    tp, base = model.touchpoints, model.baseline
    table = pd.DataFrame({S.TOUCHPOINT: tp[S.TOUCHPOINT], S.FUNCTION: tp[S.FUNCTION], S.CHANNEL: tp[S.CHANNEL],
                          S.STAGE: tp[S.STAGE], "current_spend": base.spend, "proposed_spend": np.nan,
                          "change": np.nan, "change_pct": np.nan, "current_engaged": base.engaged,
                          "proposed_engaged": np.nan, "current_cpe": np.nan, "proposed_cpe": np.nan,
                          "marginal_cpe": np.nan, "lower_limit": np.nan, "upper_limit": np.nan,
                          S.VALUE: tp[S.VALUE], S.WHAT_IF: whatif_labels(tp, model.scenario, base.added)})[PLAN_COLUMNS]
    rules = pd.DataFrame(columns=RULE_COLUMNS)
    return Plan(status, message, model.scenario, table, rules, model.budget, float("nan"), float("nan"),
                conflicts, stats, tp, advice, currency=model.currency, whatif=whatif(model, curves))


def _cpe_advice(model: Model, curves: Curves) -> list[str]:
    """For a target CPE no plan reaches: the lowest average CPE the other rules allow, in words."""
    target = float(model.scenario.objective.target)
    lowest = lowest_average_cpe(model, curves)
    if lowest is None:
        return ["no plan keeps the other rules either, whatever the CPE target: see the rules below"]
    cur = model.currency
    return [f"the lowest average cost per engaged customer the other rules allow is "
            f"{units.money(lowest, cur, digits=2)}, above the target of {units.money(target, cur, digits=2)}: "
            f"raise the target to at least {units.money(np.ceil(lowest * 100) / 100, cur, digits=2)}, or loosen "
            "the floors, locks and limits that hold money in dear touchpoints"]
