"""One meaning per figure in words (review of issues 10/14/15/16): touchpoints counted as touchpoints over
periods, min-spend prices in the target's unit, the price of protection in money, period plans rounded within
their rules."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ROOT, table

import budgetopt as bo
from budgetopt.basis import counted
from budgetopt.cli import main
from budgetopt.horizon import Calendar
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
