"""Tiny instances solved by hand: exact plans and duals for every mode and rule family."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import table

import budgetopt as bo
from budgetopt import Budget, Objective, Rule, Scenario


def lin(**kw):
    """Two linear touchpoints: A costs 10 per engaged customer, B costs 5 (cap 150)."""
    cols = dict(function=["m", "s"], spend=[100, 100], engaged=[10, 20], curve=["linear", "linear"],
                max_spend=[300, 150])
    cols.update(kw)
    return table(**cols)


def spend(plan) -> list[float]:
    return [round(v, 6) for v in plan.table["proposed_spend"]]


def price(plan, name: str) -> float:
    return float(plan.rules.set_index("name").loc[name, "price"])


def test_max_engaged_fills_the_cheaper_touchpoint_up_to_its_cap():
    plan = bo.optimize(lin(), Scenario())
    assert plan.status is bo.Status.OPTIMAL
    assert spend(plan) == [50, 150]
    assert plan.table["proposed_engaged"].sum() == pytest.approx(35)
    # the next unit of money goes to A: 0.1 engaged per unit, so the marginal CPE is 10
    assert plan.marginal_cpe == pytest.approx(10)
    assert price(plan, "budget") == pytest.approx(0.1)
    # B's cap: one more unit in B instead of A gains 0.2 - 0.1
    assert price(plan, "cap-B-hi") == pytest.approx(0.1)
    assert not plan.rules.set_index("name").loc["cap-A-hi", "binding"]
    assert plan.transfers.to_dict("records") == [{"from_function": "m", "to_function": "s", "amount": 50.0}]


def test_budget_cut_and_at_most():
    plan = bo.optimize(lin(), Scenario(budget=Budget(change=-0.25)))
    assert spend(plan) == [0, 150]
    plan = bo.optimize(lin(), Scenario(budget=Budget(total=1000, at_most=True)))
    assert spend(plan) == [300, 150]
    assert math.isinf(plan.marginal_cpe)  # more money buys nothing: every cap binds


def test_min_spend_keeps_todays_engagement_for_less():
    tp = lin(max_spend=[300, 120])
    plan = bo.optimize(tp, Scenario(objective=Objective(mode="min_spend")))
    # B (CPE 5) up to its cap 120 gives 24; the other 6 come from A at CPE 10: 60
    assert spend(plan) == [60, 120]
    assert plan.summary()["money_saved"] == pytest.approx(20)
    assert plan.marginal_cpe == pytest.approx(10)


def test_min_spend_with_target_change():
    plan = bo.optimize(lin(max_spend=[300, 120]),
                       Scenario(objective=Objective(mode="min_spend", target_change=0.1)))
    assert spend(plan) == [90, 120]  # 33 engaged: 24 from B, 9 from A


@pytest.mark.parametrize("target, expected", [(6.0, [50, 150]), (5.5, [100 / 3, 150])])
def test_target_cpe(target, expected):
    # maximise e = xA/10 + xB/5 s.t. xA + xB <= 200 and xA + xB <= target * e
    plan = bo.optimize(lin(), Scenario(objective=Objective(mode="target_cpe", target=target)))
    assert plan.table["proposed_spend"].tolist() == pytest.approx(expected)
    assert plan.summary()["proposed_cpe"] <= target + 1e-9


def test_group_floor_and_its_price():
    plan = bo.optimize(lin(), Scenario(rules=(Rule(group="function", member="m", min_spend=120),)))
    assert spend(plan) == [120, 80]
    assert plan.marginal_cpe == pytest.approx(5)
    assert price(plan, "floor-0") == pytest.approx(0.1)  # each unit held in A loses 0.2 - 0.1
    words = plan.binding_rules.set_index("name").loc["floor-0", "price_text"]
    assert "costs 100.0 engaged customers per 1,000" in words


def test_group_cap_share_and_change():
    plan = bo.optimize(lin(max_spend=[300, 300]), Scenario(rules=(Rule(group="function", member="s", max_share=0.6),)))
    assert spend(plan) == [80, 120]
    plan = bo.optimize(lin(max_spend=[300, 300]), Scenario(rules=(Rule(group="function", member="s", max_change=0.3),)))
    assert spend(plan) == [70, 130]
    plan = bo.optimize(lin(max_spend=[300, 300]), Scenario(rules=(Rule(group="function", member="s", max_spend=110),)))
    assert spend(plan) == [90, 110]
    plan = bo.optimize(lin(max_spend=[300, 300]), Scenario(rules=(Rule(group="function", member="m", min_share=0.25),)))
    assert spend(plan) == [50, 150]


def test_touchpoint_lock_floor_and_change_limit():
    assert spend(bo.optimize(lin(), Scenario(rules=(Rule(touchpoint="B", lock=True),)))) == [100, 100]
    assert spend(bo.optimize(lin(), Scenario(rules=(Rule(touchpoint="A", min_spend=80),)))) == [80, 120]
    assert spend(bo.optimize(lin(), Scenario(rules=(Rule(touchpoint="A", min_change=-0.2),)))) == [80, 120]
    assert spend(bo.optimize(lin(max_change=[0.3, 0.3]), Scenario())) == [70, 130]
    assert spend(bo.optimize(lin(locked=["yes", ""]), Scenario())) == [100, 100]


def test_lock_price_from_reduced_cost():
    plan = bo.optimize(lin(locked=["yes", ""]), Scenario())
    # B would take A's money at 0.2 instead of 0.1: locking A costs 0.1 per unit
    rules = plan.rules.set_index("name")
    assert rules.loc["lock-A-lo", "price"] == pytest.approx(0.1)
    assert rules.loc["lock-A-lo", "binding"]


def test_stage_coverage_holds_engagement_where_it_is_asked():
    tp = lin(stage=["awareness", "retention"], max_spend=[300, 300])
    plan = bo.optimize(tp, Scenario(rules=(Rule(group="stage", member="awareness", min_engaged=8),)))
    assert spend(plan) == [80, 120]
    plan = bo.optimize(tp, Scenario(protect_stages=True))
    assert spend(plan) == [100, 100]  # awareness keeps its 10 engaged: A keeps 100


def test_siloed_keeps_each_functions_share():
    plan = bo.optimize(lin(), Scenario(siloed=True))
    assert spend(plan) == [100, 100]
    plan = bo.optimize(lin(), Scenario(siloed=True, budget=Budget(total=100)))
    assert spend(plan) == [50, 50]


def test_tag_rule():
    tp = lin(digital=["no", "yes"], max_spend=[300, 300])
    plan = bo.optimize(tp, Scenario(rules=(Rule(tag="digital", max_spend=150),)))
    assert spend(plan) == [50, 150]


def test_value_weights_the_objective():
    plan = bo.optimize(lin(value=[3, 1]), Scenario())
    assert spend(plan) == [200, 0]  # A engages 0.1 x 3 per unit, more than B's 0.2


def test_power_curves_split_as_the_square_roots_say():
    # e_i = c_i sqrt(x): the optimum gives x_i proportional to c_i^2
    tp = table(spend=[100, 100], engaged=[10, 20], curve=["power", "power"], elasticity=[0.5, 0.5])
    plan = bo.optimize(tp, Scenario())
    best = 10 * math.sqrt(40 / 100) + 20 * math.sqrt(160 / 100)
    assert plan.table["proposed_engaged"].sum() == pytest.approx(best, rel=1e-3)
    assert plan.table["proposed_engaged"].sum() <= best + 1e-9
    assert plan.table["proposed_spend"].tolist() == pytest.approx([40, 160], rel=0.06)  # the optimum is flat


def test_infeasible_names_exactly_the_conflicting_rules():
    scenario = Scenario(budget=Budget(total=200), rules=(
        Rule(group="function", member="m", min_spend=120),
        Rule(touchpoint="B", min_spend=100),
        Rule(touchpoint="A", max_spend=250),  # loose: not part of the conflict
    ))
    plan = bo.optimize(lin(), scenario)
    assert plan.status is bo.Status.INFEASIBLE
    assert not plan.ok
    text = "\n".join(plan.conflicts)
    assert "budget: exactly 200" in text
    assert "function 'm': at least 120" in text
    assert "of 'B': at least 100" in text
    assert "250" not in text
    assert len(plan.conflicts) == 3
    assert any(a.startswith("a way out") for a in plan.advice)


def test_crossed_bounds_are_infeasible_not_a_crash():
    rules = (Rule(touchpoint="A", min_spend=200), Rule(touchpoint="A", max_spend=150))
    plan = bo.optimize(lin(), Scenario(rules=rules))
    assert plan.status is bo.Status.INFEASIBLE
    assert any("at least 200" in c for c in plan.conflicts)


def test_unknown_names_in_rules_are_clear():
    with pytest.raises(bo.ScenarioError, match="no touchpoint named 'Z'"):
        bo.optimize(lin(), Scenario(rules=(Rule(touchpoint="Z", lock=True),)))
    with pytest.raises(bo.ScenarioError, match="function values are: m, s"):
        bo.optimize(lin(), Scenario(rules=(Rule(group="function", member="x", min_spend=1),)))
    with pytest.raises(bo.ScenarioError, match="no column 'region'"):
        bo.optimize(lin(), Scenario(rules=(Rule(group="region", member="x", min_spend=1),)))


def test_all_fixed_is_a_plan():
    plan = bo.optimize(lin(locked=["yes", "yes"]), Scenario())
    assert plan.ok and spend(plan) == [100, 100]


def test_new_touchpoint_with_zero_spend_uses_its_cpe():
    tp = table(spend=[100, 0], engaged=[10, ""], cpe=["", 2], max_spend=["", 50])
    plan = bo.optimize(tp, Scenario())
    assert spend(plan)[1] == 50
    assert np.isclose(plan.table["proposed_engaged"].iloc[1], 25)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("solver", bo.available_solvers())
def test_every_available_pulp_solver_gives_the_same_plan_and_duals(solver):
    plan = bo.optimize(lin(), Scenario(settings=bo.Settings(solver=solver)))
    assert spend(plan) == [50, 150]
    assert plan.marginal_cpe == pytest.approx(10)
    assert price(plan, "cap-B-hi") == pytest.approx(0.1)


def test_unknown_solver_is_a_clear_error():
    with pytest.raises(bo.SolverError, match="available here"):
        bo.optimize(lin(), Scenario(settings=bo.Settings(solver="NoSuchSolver")))


def test_a_plan_pinned_to_todays_point_is_found():
    """Found by hypothesis: siloed min-spend with three locks leaves only today's allocation, which the
    refined LP missed by rounding at HiGHS's default tolerance."""
    import pandas as pd

    raw = pd.DataFrame({
        "touchpoint": ["t0", "t1", "t2", "t3", "t4"], "function": ["m", "m", "s", "m", "v"], "channel": "c",
        "spend": [59186.97, 82780.55, 12577.43, 38365.53, 19439.97],
        "engaged": [3598.404, 76716.266, 129.293, 3547.591, 207.949], "locked": ["", "yes", "", "yes", "yes"],
        "max_change": [None, None, 0.5, 0.5, 0.5], "curve": ["power", "power", "power", "saturating", "saturating"],
        "elasticity": [0.477, 0.481, 0.353, 0.298, 0.914],
        "saturation": [None, None, None, 4875.52108019480783696, 623.33760351200237437], "value": [1, 1, 1, 2, 2]})
    plan = bo.optimize(bo.validate_touchpoints(raw), Scenario(siloed=True, objective=Objective(mode="min_spend")))
    assert plan.ok
    assert plan.table["proposed_spend"].tolist() == pytest.approx(raw["spend"].tolist(), rel=1e-6)


def test_time_limit_is_a_result_not_an_exception(sample):
    plan = bo.optimize(sample, Scenario(settings=bo.Settings(time_limit=1e-9)))
    assert plan.status is bo.Status.TIME_LIMIT and not plan.ok
    assert "time limit" in plan.summary_text()
