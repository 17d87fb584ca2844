"""Why the money moves and what holds the plan back, in words, on plans solved by hand."""

from __future__ import annotations

import pytest
from conftest import table

import budgetopt as bo
from budgetopt import explain, rule_words


@pytest.fixture(scope="module")
def three():
    """Linear curves, 100,000 each today: A buys 100 customers per 1,000 (CPE 10), B 500 (CPE 2, capped at
    150,000 in the data), C 250 (CPE 4). Same budget: B fills its cap (+50,000), C takes the rest (+50,000),
    A gets nothing; the plan's last 1,000 buys 250 (in C)."""
    return table(function=["f1", "f2", "f3"], spend=[100_000] * 3, engaged=[10_000, 50_000, 25_000],
                 curve=["linear"] * 3, max_spend=[None, 150_000, None])


def test_the_plan_solved_by_hand(three):
    plan = bo.optimize(three)
    assert plan.table.set_index("touchpoint")["proposed_spend"].round(6).to_dict() == {
        "A": 0.0, "B": 150_000.0, "C": 150_000.0}
    assert plan.marginal_cpe == pytest.approx(4.0)


def test_each_large_move_in_a_sentence(three):
    plan = bo.optimize(three)
    moves = explain.explain_moves(plan, rule_words.plain_rules(plan, three))
    why = dict(zip(moves["touchpoint"], moves["why"], strict=True))
    assert moves["touchpoint"].tolist() == ["A", "B", "C"]  # largest first; ties in table order
    assert why["A"] == ("A -100 % (-100,000): at today's spend its next 1,000 buys 100 engaged customers; the same "
                        "1,000 buys 500 in B. It gets nothing: its first 1,000 would buy 100, less than the plan's "
                        "last 1,000 buys (250).")
    assert why["B"] == ("B +50 % (+50,000): at today's spend its next 1,000 buys 500 engaged customers, against 100 "
                        "in A. It stops at a limit: B may get at most 150,000.")
    assert why["C"] == ("C +50 % (+50,000): at today's spend its next 1,000 buys 250 engaged customers, against 100 "
                        "in A. After the move its next 1,000 buys 250, the same as the plan's last 1,000 anywhere.")
    b = moves.set_index("touchpoint").loc["B"]
    assert b["rests_on"] == ("B: curve set in the data (linear, 2.00 per engaged customer); the plan goes beyond the "
                             "largest spend observed (100,000), where the curve is its shape, not evidence")
    assert b["partner_rests_on"] == "A: curve set in the data (linear, 10.00 per engaged customer)"


def test_a_move_held_by_a_rule_and_an_assumption(three):
    # A may fall at most 30 % (your rule): A keeps 70,000, B fills its cap, C gets the rest, 80,000: C gives 20,000
    # to B (500 per 1,000 against C's 250), and the plan's last 1,000 still buys 250 in C.
    plan = bo.optimize(three, bo.Scenario(rules=(bo.Rule(touchpoint="A", min_change=-0.3),)))
    spend = plan.table.set_index("touchpoint")["proposed_spend"].round(6).to_dict()
    assert spend == {"A": 70_000.0, "B": 150_000.0, "C": 80_000.0}
    holding = rule_words.plain_rules(plan, three)
    assert holding["words"].tolist()[:2] == ["The plan spends exactly the budget of 300,000",
                                             "A may fall at most 30 % (to 70,000) (your rule 1)"]
    assert holding["set_by"].tolist() == [rule_words.YOURS, rule_words.YOURS, rule_words.DATA]
    why = dict(zip(*explain.explain_moves(plan, holding)[["touchpoint", "why"]].T.to_numpy(), strict=True))
    assert why["A"].endswith("It stops at a limit: A may fall at most 30 % (to 70,000) (your rule 1).")
    assert why["C"] == ("C -20 % (-20,000): at today's spend its next 1,000 buys 250 engaged customers; the same "
                        "1,000 buys 500 in B. After the move its next 1,000 buys 250, the same as the plan's last "
                        "1,000 anywhere.")


def test_rules_in_plain_words_every_family(three):
    rules = (bo.Rule(touchpoint="A", min_change=0.0), bo.Rule(touchpoint="C", max_change=0.2),
             bo.Rule(group="function", member="f2", max_change=-0.1), bo.Rule(tag="digital", min_share=0.4),
             bo.Rule(touchpoint="B", max_spend=0), bo.Rule(group="function", member="f3", min_engaged_change=-0.05))
    tp = table(function=["f1", "f2", "f3"], spend=[100_000] * 3, engaged=[10_000, 50_000, 25_000],
               curve=["linear"] * 3, max_spend=[None, 150_000, None], digital=["yes", "no", "no"])
    plan = bo.optimize(tp, bo.Scenario(rules=rules, budget=bo.Budget(total=250_000, at_most=True)))
    words = rule_words.plain_rules(plan, tp, binding_only=False)["words"].tolist()
    for sentence in ["The plan spends at most the budget of 250,000",
                     "A keeps at least today's 100,000 (your rule 1)",
                     "C may grow at most 20 % (to 120,000) (your rule 2)",
                     "Function f2 must fall at least 10 % (to 90,000) (your rule 3)",
                     "Touchpoints tagged digital gets at least 40 % of the total (your rule 4)",
                     "B gets nothing (your rule 5)",
                     "Function f3 engages at least 23,750 engaged customers (-5 % against today) (your rule 6)",
                     "B may get at most 150,000",
                     "A may grow to at most 3x today's spend (300,000); assumed, as the data gives it no cap"]:
        assert sentence in words


def test_moves_and_words_on_the_sample(sample):
    plan = bo.optimize(sample)
    holding = rule_words.plain_rules(plan, sample)
    assert "Field sales visits may fall at most 25 % (to 712,500)" in holding["words"].tolist()
    order = holding["set_by"].map({s: i for i, s in enumerate(rule_words.SET_BY)})
    assert order.is_monotonic_increasing and order.nunique() == 3  # yours, the data's, assumptions
    prices = holding["price_text"]
    assert prices.str.contains("keeps out").any() and prices.str.contains("holds in").any()
    moves = explain.explain_moves(plan, holding)
    assert len(moves) == explain.MOVES
    assert (moves["change"].abs().diff().dropna() <= 0).all()
    tv = moves.set_index("touchpoint").loc["TV prime time", "why"]
    assert tv.startswith("TV prime time -30 % (-540,000): at today's spend its next 1,000 buys 56 units of weighted "
                         "engagement; the same 1,000 buys 203 in Paid social ads.")
    assert tv.endswith("It stops at a limit: TV prime time may fall at most 30 % (to 1,260,000).")


def test_no_plan_no_moves(three):
    plan = bo.optimize(three, bo.Scenario(rules=(bo.Rule(touchpoint="A", min_spend=400_000),)))
    assert not plan.ok
    assert explain.explain_moves(plan).empty and rule_words.plain_rules(plan, three).empty


def test_the_step_quoted():
    assert [explain.step(x) for x in (14_045_000, 100_000, 60_000, 200, 50, 0)] == [1000, 1000, 100, 1, 1, 1000]
    assert rule_words.pct(0.125) == "12.5 %" and rule_words.pct(-0.3) == "30 %"
    assert explain.buys(0.44) == "0.4"
    assert explain.buys(116.4, "weighted engagement") == "116 units of weighted engagement"


# ---- plans over periods (review 2, findings 1 and 3) -----------------------------------------------------------------

def two_over_three_months(**scenario) -> tuple[bo.Plan, object]:
    """A (10 per customer) and B (20), linear, 1,200,000 each today, so 400,000 a month over 3 months; the budget
    doubled (4,800,000): A fills its growth cap (3x today: 1,200,000 in each month, +2,400,000), B keeps its
    1,200,000, and the plan's last 1,000 buys 50 (in B)."""
    tp = table(spend=[1_200_000, 1_200_000], engaged=[120_000, 60_000], curve=["linear"] * 2)
    periods = bo.scenario.Periods(horizon="3m")
    return bo.optimize(tp, bo.Scenario(periods=periods, **scenario)), tp


def test_a_move_over_periods_is_one_sentence_per_touchpoint_over_the_horizon():
    plan, tp = two_over_three_months(budget=bo.Budget(change=1.0))
    assert plan.table.groupby("touchpoint")["proposed_spend"].sum().round(6).to_dict() == {
        "A": 3_600_000.0, "B": 1_200_000.0}
    holding = rule_words.plain_rules(plan, tp)
    moves = explain.explain_moves(plan, holding)
    assert moves["touchpoint"].tolist() == ["A"]  # one line for A (was one per month), B does not move
    assert moves["why"].iloc[0] == (
        "A +200 % over the horizon (+2,400,000), most in M1 (+800,000): at today's spend its next 1,000, spread as "
        "today's, buys 100 engaged customers, more than the 50 the plan's last 1,000 buys. It stops "
        "at an assumption: A may grow to at most 3x today's spend (1,200,000) in 3 periods (every period).")
    assert moves["rests_on"].iloc[0] == (
        "A: curve set in the data (linear, 10.00 per engaged customer); in every period the plan goes beyond the "
        "largest spend observed (400,000 a period), where the curve is its shape, not evidence")


def test_over_periods_only_a_removed_touchpoint_is_removed_and_every_curve_is_named():
    # A 1,200,000 and B 1,200,000 as above, C 120,000 at 120 per customer; the same budget: A and B share it
    tp = table(spend=[1_200_000, 1_200_000, 120_000], engaged=[120_000, 60_000, 1_000], curve=["linear"] * 3)
    periods = bo.scenario.Periods(horizon="3m")
    kept = bo.optimize(tp, bo.Scenario(periods=periods))
    moves = explain.explain_moves(kept, rule_words.plain_rules(kept, tp)).set_index("touchpoint")
    assert moves.index.tolist() == ["A", "B", "C"]
    assert not moves["why"].str.contains("removed").any() and (moves["rests_on"] != "").all()
    assert moves.loc["C", "why"] == (
        "C -100 % over the horizon (-120,000), most in M1 (-40,000): at today's spend its next 1,000, spread as "
        "today's, buys 8.3 engaged customers; the same 1,000 buys 100 in A. It gets nothing: its first 1,000, "
        "spread evenly, would buy 8.3, less than the plan's last 1,000 buys (100).")
    removed = bo.optimize(tp, bo.Scenario(periods=periods, overrides=(bo.scenario.Override(touchpoint="C",
                                                                                             remove=True),)))
    moves = explain.explain_moves(removed, rule_words.plain_rules(removed, tp)).set_index("touchpoint")
    assert moves.loc["C", "why"] == ("C -100 % over the horizon (-120,000), most in M1 (-40,000): removed by the "
                                     "scenario's what-if.")
    assert moves.loc["C", "rests_on"] == "" and not moves.loc["B", "why"].count("removed")


def test_limits_over_periods_are_listed_once_with_their_periods():
    plan, tp = two_over_three_months(budget=bo.Budget(change=1.0))
    holding = rule_words.plain_rules(plan, tp)
    assert holding["words"].tolist() == [  # was one line per month, 'A (M1) may grow ...'
        "The plan spends exactly the budget of 4,800,000",
        "A may grow to at most 3x today's spend (1,200,000) in 3 periods (every period); assumed, as the data "
        "gives it no cap"]
    assert holding[["touchpoint", "side"]].iloc[1].tolist() == ["A", "hi"]
    assert holding["price_text"].iloc[1] == "costs 50.0 engaged customers per 1,000 of money it keeps out"


def test_a_rules_periods_stay_in_its_words():
    tp = table(function=["f1", "f2"], spend=[1_200_000, 1_200_000], engaged=[120_000, 60_000], curve=["linear"] * 2)
    periods = bo.scenario.Periods(horizon="3m")
    rules = (bo.Rule(touchpoint="B", min_spend=500_000, periods=[2, 3]),
             bo.Rule(group="function", member="f2", min_spend=100_000, per_period=True))
    plan = bo.optimize(tp, bo.Scenario(periods=periods, rules=rules))
    words = rule_words.plain_rules(plan, tp)["words"].tolist()
    assert "B must get at least 500,000 in M2 to M3 (your rule 1)" in words  # was without its periods
    assert "Function f2 must get at least 100,000 in M1 (your rule 2)" in words  # was the engine's label


def test_the_tables_own_limits_over_the_horizon_are_the_datas_in_words(sample):
    scenario = bo.io.read_scenario("scenarios/year-plan.toml")
    plan = bo.optimize(sample, scenario)
    holding = rule_words.plain_rules(plan, sample).set_index("words")
    data = holding[holding["set_by"] == rule_words.DATA]
    assert data.loc["Social listening and social care may get at most 250,000 EUR over the horizon",
                    "touchpoint"] == "Social listening and social care"  # was 'max_spend of ...' under yours
    assert "Field sales visits may fall at most 25 % (to 712,500 EUR) over the horizon" in data.index
    assert "TV prime time must get at least 1,000,000 EUR in Q4 (M10 to M12) (your rule 1)" in holding.index
    assumed = holding[holding["set_by"] == rule_words.ASSUMED]
    assert assumed["touchpoint"].is_unique and len(assumed)  # one line per touchpoint, not per touchpoint-month
    assert assumed.index.str.contains(r" in 12 periods \(every period\); assumed").all()
    assert not holding.index.str.contains(r"\(M\d+\)|max_spend of|min_spend of").any()


def test_a_conflict_over_periods_keeps_its_period_in_words():
    tp = table(spend=[1_200_000, 1_200_000], engaged=[120_000, 60_000], curve=["linear"] * 2)
    rules = (bo.Rule(touchpoint="B", min_spend=2_300_000, periods=1),)  # above B's growth cap in M1 (1,200,000)
    plan = bo.optimize(tp, bo.Scenario(periods=bo.scenario.Periods(horizon="3m"), rules=rules))
    conflicts, advice = rule_words.conflict_words(plan, tp)
    assert conflicts == ["B may grow to at most 3x today's spend (1,200,000) in M1",
                         "B must get at least 2,300,000 in M1 (your rule 1)"]
    assert "a way out: let 'B (M1)' go down to 1,200,000 (now: B must get at least 2,300,000 in M1 (your rule 1))" \
        in advice
