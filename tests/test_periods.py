"""Plans over time (issue 15): hand-solved touchpoint x period instances, the carry-over kernel, the horizon's
calendar, and properties on random instances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt.errors import ScenarioError
from budgetopt.horizon import Calendar, span_years
from budgetopt.io import parse_scenario, scenario_toml
from budgetopt.lp import RowMatrix
from budgetopt.model import GE, LE
from budgetopt.optimize import planned_model
from budgetopt.period_plan import PeriodPlan, move_money
from budgetopt.periods import Timeline
from budgetopt.scenario import Budget, Objective, Periods, Rule, Scenario


def spend(plan) -> list[float]:
    return [round(v, 6) for v in plan.table["proposed_spend"]]


def two_linear(**kw) -> pd.DataFrame:
    """A costs 10 per engaged customer, B 20; both spend 100 today over the data's period (two months here)."""
    cols = dict(spend=[100, 100], engaged=[10, 5], curve=["linear", "linear"])
    cols.update(kw)
    return table(**cols)


A_AT_MOST_100 = (Rule(touchpoint="A", max_spend=100, per_period=True),)


# ---- hand-solved: 2 touchpoints x 2 periods --------------------------------------------------------------------


def test_seasonality_makes_the_second_period_better():
    # Each period is half the data's period; period 2's index 1.5 makes its money engage 1.5x: per unit of money
    # A2 0.15 > A1 0.10 > B2 0.075 > B1 0.05. A may take at most 100 in each period, so the budget of 200 fills
    # A2 and A1; the next unit would go to B2: the horizon's marginal CPE is 1 / 0.075.
    plan = bo.optimize(two_linear(), Scenario(periods=Periods(horizon="2m", seasonality=(1.0, 1.5)),
                                              rules=A_AT_MOST_100))
    assert isinstance(plan, PeriodPlan) and plan.ok
    assert plan.table[["touchpoint", "period"]].values.tolist() == [["A", "M1"], ["A", "M2"], ["B", "M1"],
                                                                   ["B", "M2"]]
    assert spend(plan) == [100, 100, 0, 0]
    assert plan.objective == pytest.approx(25.0)  # 10 + 15
    # today: each touchpoint's 100 spread over the two periods, period 2 engaging 1.5x
    assert plan.table["current_engaged"].tolist() == pytest.approx([5, 7.5, 2.5, 3.75])
    assert plan.marginal_cpe == pytest.approx(1 / 0.075)
    # only the budget prices a period's money: both periods' duals are the budget's, and moving money gains
    # nothing at the margin
    assert plan.by_period["marginal_cpe"].tolist() == pytest.approx([1 / 0.075, 1 / 0.075])
    assert plan.move_prices().empty
    assert "gains nothing at the margin" in plan.summary_text()
    assert plan.period_transfers.empty


def test_a_pacing_floor_holds_money_in_the_worse_period_at_a_price():
    # At least 150 in M1: A1 100 (its cap), B1 50; the remaining 50 to A2. Engaged 10 + 2.5 + 7.5 = 20.
    plan = bo.optimize(two_linear(), Scenario(periods=Periods(horizon="2m", seasonality=(1.0, 1.5),
                                                              min_spend=(150, 0)), rules=A_AT_MOST_100))
    assert spend(plan) == [100, 50, 50, 0]
    assert plan.objective == pytest.approx(20.0)
    rules = plan.rules.set_index("name")
    # the floor's price: each unit it holds in M1 buys 0.05 (B1) instead of 0.15 (A2)
    assert rules.loc["pace-min_spend-1", "binding"]
    assert rules.loc["pace-min_spend-1", "price"] == pytest.approx(0.1)
    assert rules.loc["budget", "price"] == pytest.approx(0.15)
    by = plan.by_period.set_index("period")
    assert by["marginal_cpe"].tolist() == pytest.approx([20.0, 1 / 0.15])
    gains = plan.move_prices()
    assert gains[["from_period", "to_period"]].values.tolist() == [["M1", "M2"]]
    assert gains["gain_per_1000"].iloc[0] == pytest.approx(100.0)
    assert plan.period_transfers.to_dict("records") == [{"from_period": "M2", "to_period": "M1", "amount": 50.0}]
    assert "M1 -> M2: +100.0" in plan.summary_text()


def test_the_same_pacing_as_a_share_of_the_horizon_and_each_period_s_budget():
    share = bo.optimize(two_linear(), Scenario(periods=Periods(horizon="2m", seasonality=(1.0, 1.5),
                                                               min_share=(0.75, 0.0)), rules=A_AT_MOST_100))
    budgets = bo.optimize(two_linear(), Scenario(periods=Periods(horizon="2m", seasonality=(1.0, 1.5),
                                                                 budgets=(150, 50)), rules=A_AT_MOST_100))
    assert spend(share) == spend(budgets) == [100, 50, 50, 0]
    # each period's own budget: its dual is the period's value of money
    rules = budgets.rules.set_index("name")
    assert rules.loc["budget-1", "price"] == pytest.approx(0.05)
    assert rules.loc["budget-2", "price"] == pytest.approx(0.15)


def test_moving_money_between_periods_re_solved():
    tp = two_linear()
    scenario = Scenario(periods=Periods(horizon="2m", seasonality=(1.0, 1.5), min_spend=(150, 0)),
                        rules=A_AT_MOST_100)
    plan = bo.optimize(tp, scenario)
    moved = move_money(tp, scenario.model_copy(update={"periods": scenario.periods.model_copy(
        update={"min_spend": None})}), plan, "M1", "M2", 20)
    # 20 from M1 (B1's last units, 0.05 each) to M2 (A2 has room at 0.15): +2 engaged customers
    assert moved.gain == pytest.approx(2.0)
    assert spend(moved.plan) == [100, 70, 30, 0]
    assert "adds 2" in moved.words()


def test_carry_over_makes_early_spend_pay_later():
    # A carries over half of its engagement per period (lam 0.5, one base period per period): of what A's spend in
    # M1 engages, 1/2 lands in M1, 1/4 in M2 and 1/4 after the horizon; of M2's, 1/2 after it. With the tail cut,
    # A's money is worth 0.1 x 3/4 in M1 and 0.1 x 1/2 in M2; B (CPE 16, no carry-over) 0.0625 in both.
    tp = table(spend=[100, 100], engaged=[10, 6.25], curve=["linear", "linear"], carryover=[0.5, 0])
    cut = bo.optimize(tp, Scenario(periods=Periods(horizon="2m", budgets=(100, 100), tail="cut")))
    assert spend(cut) == [100, 0, 0, 100]
    assert cut.objective == pytest.approx(10 * 0.75 + 6.25)
    t = cut.table
    # today's allocation is steady: 5 of A's customers land in each period (carry-in from before included)
    assert t["current_engaged_in_period"].tolist() == pytest.approx([5, 5, 3.125, 3.125])
    # the plan: A1's 10 customers land 5 in M1 and 2.5 in M2; spend before the horizon adds 2.5 and 1.25
    assert t["engaged_in_period"].tolist() == pytest.approx([7.5, 3.75, 0, 6.25])
    assert t["engaged_after_horizon"].tolist() == pytest.approx([2.5, 0, 0, 0])
    assert cut.by_period["marginal_cpe"].tolist() == pytest.approx([1 / 0.075, 16.0])
    # counted, every period's money is judged by all it engages: A is better in both periods
    counted = bo.optimize(tp, Scenario(periods=Periods(horizon="2m", budgets=(100, 100))))
    assert spend(counted) == [100, 100, 0, 0]
    assert counted.objective == pytest.approx(20.0)


def test_an_engagement_floor_in_a_later_period_buys_early_spend_that_carries_over():
    # B (CPE 12, no carry-over) is worth 1/12 per unit in M1, A (CPE 10, lam 0.5, tail cut) 0.075; B may take
    # nothing in M2, where A's 100 engage 10, 5 of them in M2. Spend before the horizon adds 1.25 to M2. To reach 7
    # customers in M2, 0.75 more must come from A1's carry-over (a quarter of A1's customers): A1 = 30.
    tp = table(spend=[100, 120], engaged=[10, 10], curve=["linear", "linear"], carryover=[0.5, 0])
    rules = (Rule(touchpoint="B", max_spend=0, periods=2), Rule(group="function", member="f", min_engaged=7, periods=2))
    periods = Periods(horizon="2m", budgets=(100, 100), tail="cut")
    free = bo.optimize(tp, Scenario(periods=periods, rules=rules[:1]))
    assert spend(free) == [0, 100, 100, 0]
    assert free.table.loc[free.table["period"] == "M2", "engaged_in_period"].sum() == pytest.approx(6.25)
    plan = bo.optimize(tp, Scenario(periods=periods, rules=rules))
    assert spend(plan) == pytest.approx([30, 100, 70, 0], abs=1e-6)
    assert plan.objective == pytest.approx(30 * 0.075 + 70 / 12 + 5)
    assert plan.table.loc[plan.table["period"] == "M2", "engaged_in_period"].sum() == pytest.approx(7.0)
    # each customer more in M2 moves 40 of money from B1 to A1, at 1/12 - 0.075 per unit
    assert plan.rules.set_index("name").loc["coverage-1", "price"] == pytest.approx(40 * (1 / 12 - 0.075))
    # 9 in M2 is more than any plan reaches (A1 = 100 gives 2.5 + 5 + 1.25): no plan, with M2 named
    tight = bo.optimize(tp, Scenario(periods=periods, rules=(rules[0], Rule(group="function", member="f",
                                                                             min_engaged=9, periods=2))))
    assert not tight.ok
    assert any("M2" in c for c in tight.conflicts)


def test_s_curves_over_periods_go_through_the_mip():
    # A's S-shaped curve (hill, n = 3, at most 60, half at 150 over the data's two months) beats B (CPE 10) at
    # 100 a month: per month 0.5 x 60 x 200^3 / (150^3 + 200^3) = 21.10 customers, 1.5x that in M2; splitting
    # the money loses (80 in A and 20 in B engage 18.45 in M1). The LP alone would fill A's convex stretch out of
    # order; the MIP fills it in order in both periods.
    tp = table(spend=[100, 100], engaged=[10, 10], curve=["hill", "linear"], saturation=[60, np.nan],
               half_saturation=[150, np.nan], shape=[3, np.nan], max_spend=[400, 400])
    plan = bo.optimize(tp, Scenario(periods=Periods(horizon="2m", budgets=(100, 100), seasonality=(1.0, 1.5))))
    assert plan.ok and plan.stats["mip_touchpoints"] == 2
    assert spend(plan) == [100, 100, 0, 0]
    month = 30 * 200**3 / (150**3 + 200**3)
    assert plan.table["proposed_engaged"].tolist() == pytest.approx([month, 1.5 * month, 0, 0])
    assert plan.objective == pytest.approx(2.5 * month, rel=1e-3)  # on the curve's chords


def test_the_table_s_own_limits_over_the_horizon_or_in_every_period():
    # A may get at most 100 over the data's period (the horizon's two months). Over the horizon, A's 100 all go to
    # M2 (0.15 a unit) and B2 (0.075) takes the rest; in every period at its share, A gets at most 50 in each.
    tp = two_linear(max_spend=[100, np.nan])
    periods = {"horizon": "2m", "seasonality": (1.0, 1.5)}
    auto = bo.optimize(tp, Scenario(periods=Periods(**periods)))
    horizon = bo.optimize(tp, Scenario(periods=Periods(**periods, data_limits="horizon")))
    each = bo.optimize(tp, Scenario(periods=Periods(**periods, data_limits="period")))
    assert spend(auto) == spend(horizon) == [0, 100, 0, 100]
    assert spend(each) == [50, 50, 0, 100]
    assert "on 1 touchpoint(s) hold over the horizon" in " ".join(auto.period_notes)
    assert "hold in every period at its share" in " ".join(each.period_notes)


# ---- carry-over kernel ----------------------------------------------------------------------------------------


def test_the_kernel_of_four_week_periods_matches_weekly_carry_over():
    lam, weeks, count = 0.5, 4, 6
    line = Timeline(Calendar.of(f"{count}p"), 1 / 13, np.ones((1, count)), np.array([lam]), float(weeks))
    k = line.kernel()[0]
    # brute force: one unit spread evenly over the first period's 4 weeks, each week's response spread over that
    # week and the following ones as (1 - lam) lam^m; summed per period of 4 weeks
    horizon = weeks * count + 200
    arrive = np.zeros(horizon)
    for w in range(weeks):
        arrive[w:] += 0.25 * (1 - lam) * lam ** np.arange(horizon - w)
    per_period = arrive[: weeks * count].reshape(count, weeks).sum(axis=1)
    assert k == pytest.approx(per_period, rel=1e-12)
    assert line.after()[0, 0] == pytest.approx(arrive[weeks * count:].sum(), rel=1e-9)
    # steady spend before the horizon: what lands in each period
    before = np.zeros(horizon + 400)
    for w in range(400):
        before[w:] += 0.25 * (1 - lam) * lam ** np.arange(len(before) - w)
    start = 400
    carried = before[start: start + weeks * count].reshape(count, weeks).sum(axis=1)
    assert line.carried_in()[0] == pytest.approx(carried, rel=1e-9)


def test_without_carry_over_everything_lands_in_its_own_period():
    line = Timeline(Calendar.of("3m"), 1 / 3, np.ones((2, 3)), np.array([0.0, 0.3]), 1.0)
    assert line.kernel()[0].tolist() == [1, 0, 0]
    assert line.kernel()[1] == pytest.approx([0.7, 0.21, 0.063])
    assert line.landing()[1][:, 0] == pytest.approx([0.7, 0.21, 0.063])
    assert line.landing()[1][0].tolist() == pytest.approx([0.7, 0, 0])


# ---- the horizon and its periods -------------------------------------------------------------------------------


def test_calendar_labels_and_period_names():
    cal = Calendar.of("12m", "2026-01-15")
    assert cal.labels[0] == "2026-01" and cal.labels[-1] == "2026-12"
    assert cal.select("Q4").tolist() == [9, 10, 11]
    assert cal.select([10, 12]).tolist() == [9, 10, 11]
    assert cal.select("Dec").tolist() == [11]
    assert cal.select("2026-12").tolist() == [11]
    assert cal.select("1, 4, 7").tolist() == [0, 3, 6]
    assert cal.select("H2").tolist() == [6, 7, 8, 9, 10, 11]
    assert Calendar.of("12m").select("Q4").tolist() == [9, 10, 11]
    assert Calendar.of("13p").select("Q4").tolist() == [10, 11, 12]
    assert Calendar.of("4q", "2026-01-01").labels == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert span_years("52w") == span_years("12m") == span_years("13p") == span_years("1y") == 1.0
    for bad in ("Q5", "foo", 13):
        with pytest.raises(ValueError, match="names no period|outside the horizon"):
            Calendar.of("12m").select(bad)
    with pytest.raises(ValueError, match="no calendar|has none"):
        Calendar.of("12m").select("Dec")


def test_scenario_periods_read_write_and_refuse():
    text = """
[periods]
horizon = "12m"
start = 2026-01-01
max_share = 0.12
tail = "cut"

[[periods.seasonal]]
group = "channel"
member = "tv"
index = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.2, 1.4]

[[rules]]
touchpoint = "TV"
min_spend = 1000000
periods = "Q4"
"""
    scenario = parse_scenario(text)
    assert scenario.periods.calendar.count == 12
    assert parse_scenario(scenario_toml(scenario)) == scenario
    for bad, words in (('[periods]\nhorizon = "12x"', "not a horizon"),
                       ("[periods]\nbudgets = [1, 2]", "2 numbers for a horizon of 12"),
                       ('[[rules]]\ntouchpoint = "a"\nmin_spend = 1\nperiods = "Q4"', "needs a plan over periods"),
                       ('[periods]\n[[rules]]\ntouchpoint = "a"\nmin_spend = 1\nperiods = 13', "outside the horizon"),
                       ("[budget]\ntotal = 5\n[periods]\nbudgets = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]",
                        "not both"),
                       ("[periods]\nmin_share = 0.2\nmax_share = 0.1", "above max_share")):
        with pytest.raises(ScenarioError, match=words):
            parse_scenario(bad)


def test_rules_over_periods_name_their_periods_when_no_plan_exists():
    tp = two_linear()
    scenario = Scenario(periods=Periods(horizon="4q", start="2026-01-01", max_spend=60),
                        rules=(Rule(touchpoint="A", min_spend=70, periods="Q4"),))
    plan = bo.optimize(tp, scenario)
    assert not plan.ok
    words = " ".join(plan.conflicts)
    assert "'A (2026-Q4)': at least 70" in words and "2026-Q4 gets at most 60" in words


# ---- properties --------------------------------------------------------------------------------------------------


@st.composite
def instances(draw):
    """A random touchpoint table (power, linear and saturating curves, some carrying over) and a scenario over
    1 to 5 periods with random rules that today's steady allocation keeps, so a plan always exists."""
    n = draw(st.integers(2, 6))
    count = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    s0 = rng.uniform(1e3, 1e5, n).round(2)
    cpe = rng.uniform(0.5, 50, n)
    curve = rng.choice(["linear", "power", "saturating"], n)
    tp = table(function=list(rng.choice(["m", "s"], n)), spend=list(s0), engaged=list((s0 / cpe).round(3)),
               curve=list(curve), elasticity=list(rng.uniform(0.3, 1.0, n).round(3)),
               saturation=list(np.where(curve == "saturating", (s0 / cpe) * rng.uniform(1.5, 4, n), np.nan)),
               carryover=list(rng.choice([0.0, 0.0, 0.3, 0.6], n)))
    season = tuple(rng.uniform(0.6, 1.6, count).round(3).tolist())
    steady = s0 / count  # today's allocation in each period
    total = float(s0.sum())
    rules = []
    for i in range(n):
        kind = draw(st.sampled_from(["none", "floor", "cap", "step", "share"]))
        period = int(rng.integers(1, count + 1))
        if kind == "floor":
            rules.append(Rule(touchpoint=f"{chr(65 + i)}", min_spend=float(steady[i] * 0.8), periods=period))
        elif kind == "cap":
            rules.append(Rule(touchpoint=f"{chr(65 + i)}", max_spend=float(steady[i] * 1.5), per_period=True))
        elif kind == "step" and count > 1:
            rules.append(Rule(touchpoint=f"{chr(65 + i)}", max_step=0.5))
        elif kind == "share":
            rules.append(Rule(touchpoint=f"{chr(65 + i)}", max_share=min(1.0, float(s0[i] / total) * 2)))
    pacing = draw(st.sampled_from(["none", "share", "step", "budgets"]))
    periods = {"horizon": f"{count}m", "seasonality": season, "tail": draw(st.sampled_from(["counted", "cut"]))}
    if pacing == "share":
        periods.update(min_share=0.5 / count, max_share=min(1.0, 2.0 / count))
    elif pacing == "step" and count > 1:
        periods.update(max_step=0.6)
    elif pacing == "budgets":
        periods.update(budgets=tuple(np.full(count, total / count).tolist()))
    return tp, Scenario(periods=Periods(**periods), rules=tuple(rules))


def _check_rows(plan, tp, scenario) -> None:
    """Every row and bound of the model holds on the plan (engagement rows on the chords' engaged customers,
    which the curves' engaged customers are at least)."""
    model, curves = planned_model(tp, scenario)
    width = len(model.weight)
    x = plan.table["proposed_spend"].to_numpy(float)[:width]
    engaged = curves.engaged(x)
    lo, hi = model.limits()
    tol = 1e-6 * np.maximum(1.0, np.abs(x))
    assert (x >= lo - tol).all() and (x <= hi + tol).all()
    matrix = RowMatrix.from_rows(model.rows, width)
    lhs = matrix.lhs(x, engaged)
    for row, value in zip(model.rows, lhs, strict=True):
        scale = 1e-6 * max(1.0, abs(row.rhs), float(np.abs(row.a).sum() * x.max()))
        if row.sense == GE:
            assert value >= row.rhs - scale, row.label
        elif row.sense == LE:
            assert value <= row.rhs + scale, row.label
        else:
            assert value == pytest.approx(row.rhs, abs=scale), row.label


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_rule_in_every_period_holds_and_the_budget_is_met(case):
    tp, scenario = case
    plan = bo.optimize(tp, scenario)
    assert plan.ok, plan.message
    _check_rows(plan, tp, scenario)
    total = plan.table["proposed_spend"].sum()
    if scenario.periods.budgets is not None:
        assert plan.by_period["proposed_spend"].to_numpy() == pytest.approx(np.asarray(scenario.periods.budgets),
                                                                             rel=1e-6)
    else:
        assert total == pytest.approx(tp["spend"].sum(), rel=1e-7)  # the horizon's budget: today's money
    # the plan is never worse than today's steady allocation, which every rule allows
    model, curves = planned_model(tp, scenario)
    today = (model.weight * curves.engaged(model.baseline.spend)).sum()
    assert plan.objective >= today * (1 - 1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from(["max_engaged", "min_spend"]))
def test_a_one_period_horizon_is_today_s_single_period_plan_exactly(seed, mode):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 8))
    s0 = rng.uniform(1e3, 1e5, n).round(2)
    curve = rng.choice(["linear", "power", "saturating", "hill"], n)
    cpe = rng.uniform(0.5, 50, n)
    tp = table(function=["m", "s"] + list(rng.choice(["m", "s", "p"], n - 2)),
               stage=list(rng.choice(["awareness", "purchase"], n)),
               spend=list(s0), engaged=list((s0 / cpe).round(3)), curve=list(curve),
               elasticity=list(rng.uniform(0.3, 1.0, n).round(3)),
               saturation=list(np.where(np.isin(curve, ["saturating", "hill"]), (s0 / cpe) * 3, np.nan)),
               half_saturation=list(np.where(curve == "hill", s0 * rng.uniform(0.5, 2, n), np.nan)),
               shape=list(np.where(curve == "hill", rng.uniform(0.6, 3, n), np.nan)),
               max_spend=list(np.where(rng.random(n) < 0.3, s0 * 2, np.nan)),
               min_spend=list(np.where(rng.random(n) < 0.2, s0 * 0.5, np.nan)),
               max_change=list(np.where(rng.random(n) < 0.3, 0.4, np.nan)),
               value=list(rng.choice([1.0, 1.0, 2.0], n)))
    rules = (Rule(group="function", member="m", min_share=0.05), Rule(touchpoint="A", max_change=0.5),
             Rule(group="function", member="s", min_engaged_change=-0.2))
    base = Scenario(rules=rules, objective=Objective(mode=mode), protect_stages=bool(rng.random() < 0.5),
                    budget=Budget(change=float(rng.choice([0.0, -0.1]))) if mode == "max_engaged" else Budget())
    single = bo.optimize(tp, base)
    one = bo.optimize(tp, base.model_copy(update={"periods": Periods(horizon="1q")}))
    assert single.status == one.status
    if single.ok:
        assert np.array_equal(single.table["proposed_spend"].to_numpy(), one.table["proposed_spend"].to_numpy())
        assert single.objective == one.objective
        assert single.rules["name"].tolist() == one.rules["name"].tolist()
        assert np.array_equal(single.rules["price"].to_numpy(), one.rules["price"].to_numpy())
