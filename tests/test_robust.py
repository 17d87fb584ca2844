"""Robust plans that stay LPs (issue 14 part 3): by hand on two touchpoints and two draws, then properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt.curves import Curves
from budgetopt.draws import STATED, Draws, draw_curves
from budgetopt.risk import plan_risk, tail_mean
from budgetopt.robust import CVAR, FLOOR, MEAN, Robust, robust_plan
from budgetopt.scenario import Objective, Override


def two_touchpoints(**extra) -> pd.DataFrame:
    return bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": ["A", "B"], "function": ["f", "g"], "channel": "c", "spend": [50, 50], "engaged": [50, 50],
        "curve": "linear", **extra}))


def by_hand(table: pd.DataFrame, factors) -> Draws:
    return Draws(table["touchpoint"].to_numpy(object), np.full(len(table), STATED, dtype=object),
                 Curves.from_table(table), np.asarray(factors, float), 0, 0.5)


# Two equally likely draws of two linear curves (1 engaged customer per unit of money, budget 100):
#   draw 1: A engages 2 per unit, B 0.5;  draw 2: A engages none, B 1.
#   W1(a) = 2a + 0.5 (100 - a) = 50 + 1.5a,  W2(a) = 100 - a   (a: money in A).
# Best on average: mean slopes 1 (A) and 0.75 (B): everything in A: W = (200, 0), mean 100, worst 0.
# Protect the worst 10 % (with two draws: the worse one): max min(W1, W2): 50 + 1.5a = 100 - a, a = 20, W = 80.
DRAWS = [[2.0, 0.5], [0.0, 1.0]]


def test_mean_and_cvar_plans_differ_by_hand():
    tp = two_touchpoints()
    draws = by_hand(tp, DRAWS)
    mean = robust_plan(tp, None, Robust(MEAN), sample=draws)
    cvar = robust_plan(tp, None, Robust(CVAR, 0.1), sample=draws)
    assert mean.table["proposed_spend"].tolist() == [100.0, 0.0]
    assert cvar.table["proposed_spend"].tolist() == [pytest.approx(20.0), pytest.approx(80.0)]
    assert mean.objective == pytest.approx(100.0) and cvar.objective == pytest.approx(80.0)
    p = cvar.protection
    assert (p.mean, p.tail_value, p.best_mean, p.best_mean_tail) == pytest.approx((80.0, 80.0, 100.0, 0.0))
    assert p.cost == pytest.approx(20.0) and p.gain == pytest.approx(80.0)
    assert "the protection costs 20 engaged customers on average (20.00% of its 100)" in p.words()
    # the budget's price in the protected measure: with budget B the worse draw keeps 0.8 B
    budget = cvar.rules.set_index("name").loc["budget"]
    assert budget["binding"] and budget["price"] == pytest.approx(0.8)
    assert cvar.marginal_cpe == pytest.approx(1.25)
    assert mean.rules.set_index("name").loc["budget", "price"] == pytest.approx(1.0)
    assert cvar.range.figures()["plan_tail"] == pytest.approx(80.0)
    assert "Protecting the downside" in cvar.summary_text()


def test_the_mean_with_a_floor_on_the_worst_draws_by_hand():
    tp = two_touchpoints()
    draws = by_hand(tp, DRAWS)
    # today's allocation (50, 50) keeps the worse draw at 50: max the mean 75 + a/4 with 100 - a >= 50: a = 50
    today = robust_plan(tp, None, Robust(FLOOR, 0.1), sample=draws)
    assert today.table["proposed_spend"].tolist() == [pytest.approx(50.0), pytest.approx(50.0)]
    assert today.protection.floor == pytest.approx(50.0) and today.objective == pytest.approx(87.5)
    floor = robust_plan(tp, None, Robust(FLOOR, 0.1, 60.0), sample=draws)
    assert floor.table["proposed_spend"].tolist() == [pytest.approx(40.0), pytest.approx(60.0)]
    rule = floor.rules.set_index("name").loc["tail-floor"]
    assert rule["binding"] and rule["price"] == pytest.approx(0.25)  # a unit more floor: a - 1, the mean - 1/4
    too_high = robust_plan(tp, None, Robust(FLOOR, 0.1, 90.0), sample=draws)
    assert not too_high.ok and "averaging at least 90" in too_high.message
    assert "the most any plan keeps in the worst 10% of draws is 80" in too_high.advice[0]


def test_min_spend_protects_its_target_in_the_worst_draws_by_hand():
    tp = two_touchpoints()
    draws = by_hand(tp, DRAWS)
    scenario = bo.Scenario(objective=Objective(mode="min_spend"))  # keep today's 100 engaged customers
    mean = robust_plan(tp, scenario, Robust(MEAN), sample=draws)
    assert mean.table["proposed_spend"].tolist() == [pytest.approx(100.0), 0.0]
    # the worse draw must reach 100: B = 100 (draw 2), then A = 25 (draw 1: 2 A + 50 >= 100); spend 125
    cvar = robust_plan(tp, scenario, Robust(CVAR, 0.1), sample=draws)
    assert cvar.table["proposed_spend"].tolist() == [pytest.approx(25.0), pytest.approx(100.0)]
    assert cvar.rules.set_index("name").loc["target", "price"] == pytest.approx(1.25)


def test_rules_hold_and_price_in_a_protected_plan():
    tp = two_touchpoints()
    draws = by_hand(tp, DRAWS)
    scenario = bo.Scenario(rules=(bo.Rule(group="function", member="g", max_spend=75.0),))
    plan = robust_plan(tp, scenario, Robust(CVAR, 0.1), sample=draws)
    x = plan.table["proposed_spend"].to_numpy()
    assert x.sum() == pytest.approx(100.0) and x[1] <= 75 + 1e-6
    # the group cap binds: a = 25, W = (87.5, 75): the worse draw 75; one more unit under the cap: W2 + 1, W1 - 1.5
    assert x.tolist() == [pytest.approx(25.0), pytest.approx(75.0)]
    cap = plan.rules.set_index("name").loc["cap-0"]
    assert cap["binding"] and cap["price"] == pytest.approx(1.0)


def power_table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    s0 = rng.uniform(1e3, 1e5, n).round(2)
    return bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": [f"t{i}" for i in range(n)], "function": rng.choice(["a", "b"], n), "channel": "c",
        "spend": s0, "engaged": (s0 / rng.uniform(1, 50, n)).round(3), "curve": "power",
        "elasticity": rng.uniform(0.3, 0.9, n).round(3)}))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(2, 4), st.integers(2, 8))
def test_the_cvar_plans_worst_tail_is_never_below_the_mean_plans(seed, n, k):
    rng = np.random.default_rng(seed)
    tp = power_table(rng, n)
    draws = by_hand(tp, rng.uniform(0.3, 2.0, (k, n)))
    mean = robust_plan(tp, None, Robust(MEAN), sample=draws)
    cvar = robust_plan(tp, None, Robust(CVAR, 0.1), sample=draws)
    assert mean.ok and cvar.ok
    w_mean = draws.totals(mean.table["proposed_spend"].to_numpy())
    w_cvar = draws.totals(cvar.table["proposed_spend"].to_numpy())
    scale = 1e-4 * np.abs(w_mean).max()  # the LP sees chords: the smooth curves differ by a hair
    assert tail_mean(w_cvar, 0.1) >= tail_mean(w_mean, 0.1) - scale
    assert w_mean.mean() >= w_cvar.mean() - scale
    assert cvar.protection.cost >= -scale


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(2, 5))
def test_with_one_draw_the_robust_plan_is_the_ordinary_plan_on_that_draw(seed, n):
    rng = np.random.default_rng(seed)
    tp = power_table(rng, n)
    factor = rng.uniform(0.5, 2.0, n)
    draws = by_hand(tp, factor[None, :])
    on_the_draw = bo.Scenario(overrides=tuple(Override(touchpoint=f"t{i}", engaged_multiplier=float(f))
                                              for i, f in enumerate(factor)))
    ordinary = bo.optimize(tp, on_the_draw).table["proposed_spend"].to_numpy()
    budget = tp["spend"].sum()
    best = None
    for kind in (MEAN, CVAR):
        plan = robust_plan(tp, None, Robust(kind, 0.1), sample=draws)
        reached = plan_risk(plan, draws).figures()["plan_mean"]  # its engagement on the one draw
        best = reached if best is None else best
        # the same optimum on the draw; near it the objective is flat, so the spends may differ a little more
        # (seed 164220, n 5: 150 of 240,860 moved between two touchpoints for 5e-6 of the engagement)
        assert reached == pytest.approx(best, rel=2e-5)
        assert np.allclose(plan.table["proposed_spend"].to_numpy(), ordinary, atol=2e-3 * budget)
    assert np.allclose(robust_plan(tp, None, Robust(MEAN), sample=draws).table["proposed_spend"].to_numpy(),
                       ordinary, atol=1e-6 * budget)  # the plan best on average is the ordinary LP itself


def test_s_curves_keep_the_mip_and_stated_uncertainty_protects_the_sample():
    tp = bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": ["S", "P", "Q"], "function": ["f", "g", "g"], "channel": "c", "spend": [100, 100, 100],
        "engaged": [40, 50, 45], "curve": ["hill", "power", "power"], "saturation": [120, np.nan, np.nan],
        "half_saturation": [150, np.nan, np.nan], "shape": [2.5, np.nan, np.nan], "elasticity": [np.nan, 0.5, 0.6]}))
    draws = draw_curves(tp, None, 50, seed=3, uncertainty=0.3)
    plan = robust_plan(tp, None, Robust(CVAR, 0.1), sample=draws)
    assert plan.ok and plan.stats["mip_touchpoints"] == 1 and plan.stats["prices_from"]
    mean = robust_plan(tp, None, Robust(MEAN), sample=draws)
    assert mean.ok and plan.protection.tail_value >= mean.protection.tail_value - 1e-3
    sample = bo.read_touchpoints("data/sample_touchpoints.csv")
    protected = robust_plan(sample, None, Robust(CVAR, 0.1), draws=100, seed=1, uncertainty=0.2)
    assert protected.ok and protected.protection.gain >= -1e-6 and protected.protection.cost >= -1e-6
    with pytest.raises(bo.BudgetOptError, match="write mean, cvar:0.1"):
        Robust.parse("worst:0.1")
    assert Robust.parse("floor:0.05:3,500,000") == Robust(FLOOR, 0.05, 3_500_000.0)
    assert Robust.parse("cvar") == Robust(CVAR, 0.1)


def test_optimize_on_the_command_line_with_draws_and_protection(tmp_path, capsys):
    from budgetopt.cli import main

    data = "data/sample_touchpoints.csv"
    assert main(["optimize", data, "--uncertainty", "0.2", "--draws", "200", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "range of the plan's engaged customers" in printed and "stated +/-20% on engagement" in printed
    out = tmp_path / "plan.xlsx"
    assert main(["optimize", data, "--uncertainty", "0.2", "--draws", "200", "--robust", "cvar:0.1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Protecting the downside" in printed and "the protection costs" in printed
    assert "(the worst-10% average) per 1,000" in printed  # rule prices count what the plan maximises
    import openpyxl

    book = openpyxl.load_workbook(out)
    assert "How sure" in book.sheetnames
    assert any("Protecting the downside" in str(c.value) for c in book["Summary"]["A"])
    assert main(["optimize", data, "--robust", "cvar:0.1"]) == 2  # nothing varies: said, no traceback
    assert "state an uncertainty" in capsys.readouterr().err
    assert main(["optimize", data, "--robust", "best"]) == 2
    assert "write mean, cvar:0.1" in capsys.readouterr().err
