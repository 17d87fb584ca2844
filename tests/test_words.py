"""One meaning per figure in words (review of issues 10/14/15/16): touchpoints counted as touchpoints over
periods, min-spend prices in the target's unit, the price of protection in money, period plans rounded within
their rules."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SAMPLE, table
from hypothesis import given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt import export
from budgetopt.basis import counted
from budgetopt.cli import main
from budgetopt.horizon import Calendar
from budgetopt.plan import MoneyRule
from budgetopt.scenario import Periods, Scenario
from budgetopt.ui import report

HISTORY = ROOT / "data" / "sample_history.csv"
YEAR_PLAN = ROOT / "scenarios" / "year-plan.toml"


# ---- item 4: touchpoints over periods are counted once each, with their periods ---------------------------------


def test_counted_counts_touchpoints_once_and_names_their_periods():
    months = Calendar.of("12m")
    assert counted(np.arange(7)) == "7 touchpoints"
    assert counted(np.array([3])) == "1 touchpoint"
    every = np.repeat(np.arange(8), 12), np.tile(np.arange(12), 8)  # 96 cells: 8 touchpoints x 12 periods
    assert counted(*every, months) == "8 touchpoints in 12 periods (every period)"
    assert counted(np.array([0, 0, 1]), np.array([9, 10, 11]), months) == "2 touchpoints in 3 periods (M10 to M12)"
    assert counted(np.array([4, 5]), np.array([2, 2]), months) == "2 touchpoints in M3"


def growth_bound_over_three_months() -> bo.Plan:
    """A (10 per customer) and B (20): A's growth cap (3x today, in each period) binds in all three months."""
    tp = table(spend=[100, 100], engaged=[10, 5], curve=["linear", "linear"])
    return bo.optimize(tp, Scenario(budget=bo.Budget(change=1.0), periods=Periods(horizon="3m")))


def test_a_binding_assumption_over_periods_holds_back_touchpoints_not_touchpoint_periods():
    plan = growth_bound_over_three_months()
    assert plan.ok
    [line] = [x for x in plan.basis.lines() if x.startswith("assumption that binds")]
    assert "holds back 1 touchpoint in 3 periods (every period)" in line  # was "holds back 3 touchpoints"


def test_today_over_periods_counts_each_touchpoint_once():
    plan = growth_bound_over_three_months()
    line = report.today_line(None, plan)
    assert "on 2 touchpoints" in line and "over 3 periods (M1 to M3)" in line  # was "on 6 touchpoints"


def test_a_no_plan_over_periods_names_the_periods_of_a_group_of_limits(tmp_path, capsys):
    text = YEAR_PLAN.read_text(encoding="utf-8").replace("min_spend = 1_000_000", "min_spend = 3_000_000")
    scenario = tmp_path / "year.toml"
    scenario.write_text(text, encoding="utf-8")
    assert main(["run", str(scenario), "--data", str(HISTORY), "--no-prices"]) == 1
    out = capsys.readouterr().out
    assert "8 touchpoints in 12 periods (every period), each at its own limit" in out, out
    assert "96 touchpoints" not in out


# ---- item 5 and 13: min-spend words in the target's unit; money added; a target above today -----------------------


def min_spend(sample, target: float, unit: str = "weighted") -> bo.Plan:
    objective = bo.Objective(mode="min_spend", target=target, unit=unit)
    return bo.optimize(sample, Scenario(objective=objective))


def test_a_customers_target_prices_the_margin_per_engaged_customer(sample):
    plan = min_spend(sample, 3_500_000, "customers")
    assert plan.ok and plan.weighted  # the sample's values differ: weighted engagement is not the count
    assert plan.measure == "engaged customers"  # the target's unit, not 'weighted engagement'
    text = plan.summary_text()
    assert "per extra engaged customer" in text and "unit of weighted engagement" not in text
    assert "each engaged customer less in the target would save" in text  # the rule line says the same
    document = json.loads(bo.plan_json_bytes(plan, inputs=sample))
    assert document["summary"]["measure"] == "engaged customers"
    assert min_spend(sample, 3_500_000).measure == "weighted engagement"  # the default unit keeps its word


def test_a_min_spend_plan_that_spends_more_says_money_added(sample):
    plan = min_spend(sample, 3_900_000)
    label, amount = plan.money_line()
    s = plan.summary()
    assert label == "Money added" and amount == pytest.approx(s["proposed_spend"] - s["current_spend"]) and amount > 0
    text = plan.summary_text()
    assert f"Money added: {amount:,.0f}" in text and "Money saved: -" not in text
    cards = {c.label: c for c in report.plan_cards(plan)}
    assert "Money added" in cards and "Money saved" not in cards and not cards["Money added"].value.startswith("-")


def test_a_weighted_target_above_today_is_not_called_keeping_today(sample):
    text = " ".join(min_spend(sample, 3_500_000).notes())
    assert "reaches its target of 3,500,000 weighted engagement (+18.2% against today's 2,962,000)" in text
    assert "keeps" not in text


# ---- item 6: in min-spend mode protection is paid in money; a floor that holds the plan has no target margin ------


def test_min_spend_protection_is_priced_in_money_by_hand():
    from test_robust import DRAWS, by_hand, two_touchpoints

    from budgetopt.robust import CVAR, FLOOR, Robust, robust_plan

    tp = two_touchpoints()
    draws = by_hand(tp, DRAWS)
    scenario = Scenario(objective=bo.Objective(mode="min_spend"))  # keep today's 100 engaged customers
    # the plan best on average spends 100 (all in A); the worse draw reaching 100 needs B = 100, A = 25: 125
    cvar = robust_plan(tp, scenario, Robust(CVAR, 0.1), sample=draws)
    p = cvar.protection
    assert (p.spend, p.best_spend, p.money_cost) == pytest.approx((125.0, 100.0, 25.0))
    words = p.words()
    assert "spends 25 more than the cheapest plan keeping the target on average (125 against 100)" in words
    assert "costs 0 engaged customers" not in words and "engaged customers on average" not in words
    # a floor of 110 on the worse draw: B = 110, A = 27.5 (2A + 55 >= 110), spend 137.5 = 1.25 x the floor; the
    # mean 27.5 + 0.75 x 110 = 110 is above the target: the target does not bind, the floor does (price 1.25)
    floor = robust_plan(tp, scenario, Robust(FLOOR, 0.1, 110.0), sample=draws)
    assert floor.table["proposed_spend"].tolist() == [pytest.approx(27.5), pytest.approx(110.0)]
    assert floor.protection.money_cost == pytest.approx(37.5)
    assert not np.isfinite(floor.marginal_cpe)  # was 0.00: the target's dual, zero as the target is slack
    text = floor.summary_text()
    assert "Marginal CPE: 0.00" not in text
    assert "Marginal CPE: none at the target" in text and "costs 1.25 (the floor's price)" in text


# ---- item 8: exported money rounded to cents keeps the rules as displayed -----------------------------------------


def test_rounding_keeps_a_floor_over_several_cells_by_hand():
    # in whole units: three cells that the rule "at least 1 over cells 0-2" holds at exactly 1, and a fourth.
    # Rounding to the total alone (10.4 -> 10: floors 0, 0, 0, 9, the one unit left to the largest remainder,
    # 0.4 of cell 3) gives the rule's cells 0: the floor broken. Kept: the rule's cells add up to 1.
    values = np.array([0.34, 0.33, 0.33, 9.4])
    assert export.round_to_total(values, 1.0).tolist() == [0, 0, 0, 10]
    floor = MoneyRule(np.array([0, 1, 2]), ">=", 1.0)
    assert export.round_keeping_rules(values, 1.0, [floor]).tolist() == [1, 0, 0, 9]
    cap = MoneyRule(np.array([0, 1, 2]), "<=", 1.0)  # a cap at the same sum: the same, on the cap's side
    assert export.round_keeping_rules(values, 1.0, [cap]).tolist() == [1, 0, 0, 9]
    crossing = MoneyRule(np.array([2, 3]), "<=", 9.73)  # crosses the floor: left out, the floor is kept
    assert export.round_keeping_rules(values, 1.0, [floor, crossing]).tolist() == [1, 0, 0, 9]


@st.composite
def nested_rules(draw):
    """Money amounts with any fractions, and rules over runs of them (nesting or crossing) that each binds within a
    cent: a floor at its sum rounded down to cents, a cap at its sum rounded up."""
    n = draw(st.integers(2, 12))
    values = np.array(draw(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=n, max_size=n)))
    rules = []
    for _ in range(draw(st.integers(0, 5))):
        lo = draw(st.integers(0, n - 1))
        hi = draw(st.integers(lo + 1, n))
        exact = float(values[lo:hi].sum())
        if draw(st.booleans()):
            rules.append(MoneyRule(np.arange(lo, hi), ">=", np.floor(exact * 100 + 1e-6) / 100))
        else:
            rules.append(MoneyRule(np.arange(lo, hi), "<=", np.ceil(exact * 100 - 1e-6) / 100))
    return values, rules


@given(nested_rules())
@settings(max_examples=200, deadline=None)
def test_rounded_money_keeps_every_rule_that_nests_and_the_total(case):
    values, rules = case
    out = export.round_keeping_rules(values, 0.01, rules)
    assert np.all(np.abs(out - values) < 0.01 + 1e-6)  # each amount moves by less than a cent
    assert round(out.sum(), 2) == round(values.sum(), 2)
    kept = []  # the rules round_keeping_rules takes: smallest first, each nested in or apart from those taken
    for rule in sorted(rules, key=lambda r: len(r.index)):
        cells = set(rule.index.tolist())
        if all(cells >= k or not (cells & k) for k in kept):
            kept.append(cells)
            total = round(float(out[rule.index].sum()), 2)
            if rule.sense in (">=", "=="):
                assert total >= rule.rhs - 1e-9, (rule, total)
            if rule.sense in ("<=", "=="):
                assert total <= rule.rhs + 1e-9, (rule, total)


def test_the_year_plan_s_exported_q4_tv_keeps_its_million(tmp_path):
    assert main(["run", str(YEAR_PLAN), "--out", str(tmp_path), "--no-prices", "--format", "csv"]) == 0
    wide = pd.read_csv(tmp_path / "plan_wide.csv", encoding="utf-8-sig").set_index("touchpoint")
    q4 = wide.loc["TV prime time", ["2026-10", "2026-11", "2026-12"]]
    assert round(q4.sum(), 2) >= 1_000_000  # was 999,999.99
    assert wide.loc["TV prime time", "total"] >= 1_000_000
    long = pd.read_csv(tmp_path / "plan.csv", encoding="utf-8-sig")
    assert (long["spend"] * 100).round(6).mod(1).eq(0).all()  # cents


def test_every_money_rule_of_the_year_plan_holds_on_the_exported_cents():
    from budgetopt.cli import for_plan
    from budgetopt.io import read_evidence, read_scenario, scenario_data_path

    scenario = read_scenario(YEAR_PLAN)
    plan = bo.optimize(for_plan(read_evidence(scenario_data_path(scenario, YEAR_PLAN)), scenario), scenario)
    cents = export.round_plan_money(plan)
    assert len(plan.money_rules) > 20  # the budget, TV in Q4, marketing's cap, each month's pacing floor and cap
    for rule in plan.money_rules:  # some cross others (TV in Q4 and each month's pacing): repaired
        total, rhs = round(float(cents[rule.index].sum()), 2), round(rule.rhs, 2)
        assert {">=": total >= rhs, "<=": total <= rhs, "==": total == rhs}[rule.sense], (rule, total)
    t = plan.table
    assert (cents >= t["lower_limit"].round(2) - 0.011).all() and (cents <= t["upper_limit"].round(2) + 0.011).all()


# ---- item 10: a plan over periods' workbook reads back as the next horizon's history ------------------------------


def plan_over(horizon: str) -> bo.Plan:
    tp = table(function=["m", "s", "p"], spend=[1000, 600, 400], engaged=[100, 80, 20],
               curve=["power", "power", "linear"], elasticity=[0.5, 0.7, 1.0])
    return bo.optimize(tp, Scenario(periods=Periods(horizon=horizon, start="2026-01-01")))


@pytest.mark.parametrize("horizon, sheet", [("12m", "Plan by period"), ("4q", "Plan as history")])
def test_a_plan_over_periods_workbook_reads_back_as_a_history(tmp_path, capsys, horizon, sheet):
    from budgetopt.io import read_history, write_plan

    plan = plan_over(horizon)
    path = tmp_path / "plan.xlsx"
    write_plan(plan, path)
    history = read_history(path)  # was refused: the Plan sheet has no spend or engaged column for a history
    assert history.frequency == "monthly" and len(history.periods) == 12  # quarters through their months
    assert history.long["spend"].sum() == pytest.approx(plan.budget, abs=0.01)
    assert main(["optimize", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"read sheet '{sheet}' of a plan over periods budgetopt exported" in err


# ---- item 13: the app's No plan box says its rules in the page's words ---------------------------------------------


def test_a_no_plan_names_its_rules_in_plain_words(sample):
    from budgetopt.rule_words import conflict_words

    rules = (bo.Rule(group="function", member="marketing", min_spend=4_100_000),
             bo.Rule(group="function", member="sales", min_spend=3_900_000))
    plan = bo.optimize(sample, Scenario(budget=bo.Budget(total=9_000_000), rules=rules))
    assert not plan.ok and "function 'marketing': at least 4,100,000" in plan.conflicts  # the engine's label
    conflicts, advice = conflict_words(plan, sample)
    assert "Function marketing must get at least 4,100,000 (your rule 1)" in conflicts
    assert "The plan spends exactly the budget of 9,000,000" in conflicts
    assert "Field technicians is kept at today's 400,000" in conflicts  # the data's lock, not "lock of '...'"
    assert not any("min_spend of" in c or "lock of" in c for c in conflicts)
    assert not any("(now min_spend of" in a or "(now lock of" in a for a in advice)


def test_protect_the_downside_makes_the_headline_cards_follow_the_protected_plan():
    from streamlit.testing.v1 import AppTest

    from budgetopt.robust import CVAR, Robust, robust_plan
    from budgetopt.ui.views.how_sure import DRAWS, GOAL_KEY, PROTECT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception

    def shown() -> dict[str, str]:
        return {m.label: m.value for m in at.main.metric if not m.label.endswith("today") and m.label != "Touchpoints"}

    tp = bo.read_touchpoints(ROOT / "data" / "sample_touchpoints.csv")
    best = {c.label: c.value for c in report.plan_cards(bo.optimize(tp))}
    assert shown() == best
    at.radio(key=GOAL_KEY).set_value(PROTECT).run()
    assert not at.exception, at.exception
    protected = robust_plan(tp, bo.Scenario(), Robust(CVAR, 0.1), DRAWS, 0, 0.2)
    cards = {c.label: c.value for c in report.plan_cards(protected)}
    assert shown() == cards and cards != best  # the cards follow the plan chosen, not the plan best on average
    assert any("The cards show the plan protecting the downside" in i.value for i in at.main.info)


def test_no_minus_zero_in_exports(tmp_path):
    """Rounding a hair below zero must not write '-0' (a budget of 5 M sends some touchpoints to their floor of 0)."""
    from budgetopt.cli import main

    for name in ("p.csv", "p.json"):
        assert main(["optimize", str(SAMPLE), "--budget", "5000000", "--out", str(tmp_path / name)]) == 0
    text = (tmp_path / "p.csv").read_text(encoding="utf-8-sig")
    assert not any(cell in ("-0", "-0.0") for line in text.splitlines() for cell in line.split(","))
    assert "-0.0," not in (tmp_path / "p.json").read_text() and "-0.0}" not in (tmp_path / "p.json").read_text()


# ---- the words of many touchpoint limits at once read as each one's own ----------------------------------------

@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.one_of(st.floats(min_value=0, max_value=1e12), st.just(float("inf")),
                                    st.floats(min_value=1e-12, max_value=1e-3)),
                          st.booleans(), st.sampled_from([">=", "<=", "=="])), min_size=1, max_size=30),
       st.sampled_from(["max_engaged", "min_spend"]), st.sampled_from([None, "EUR"]))
def test_the_words_of_many_limits_are_each_limits_own(limits, mode, currency):
    """PriceWords.bounds (every touchpoint floor and cap at once, thousands in a plan) writes for each limit the
    sentence the one-at-a-time words write for a money rule."""
    from budgetopt.model import MONEY
    from budgetopt.optimize import PriceWords, planned_model

    tp = table(function=["m", "s"], spend=[100, 100], engaged=[10, 20])
    objective = {"mode": mode} | ({"target_change": 0.0} if mode == "min_spend" else {})
    model, _ = planned_model(tp, Scenario(currency=currency, objective=objective))
    words = PriceWords(model)
    price = np.array([p for p, _, _ in limits])
    binding = np.array([b for _, b, _ in limits])
    sense = np.array([s for _, _, s in limits], dtype=object)
    assert words.bounds(price, binding, sense).tolist() == [
        words(p, MONEY, b, "", "", s) for p, b, s in limits]
