"""Scenario files, overrides, shipped scenarios, silos, frontier, rule prices and infeasibility explained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, table
from hypothesis import given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt.cli import main
from budgetopt.frontier import budget_range, frontier, money_needed, plan_note
from budgetopt.io import (
    parse_scenario,
    read_evidence,
    read_scenario,
    scenario_data_path,
    scenario_toml,
    write_scenario,
)
from budgetopt.pricing import price_rules
from budgetopt.scenario import NewTouchpoint, Override
from budgetopt.seasonality import for_plan
from budgetopt.silos import silo_cost, value_engaged

SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))
NAMES = {p.stem for p in SHIPPED}


def load(path: Path):
    scenario = read_scenario(path)
    evidence = read_evidence(scenario_data_path(scenario, path), window=scenario.window)
    return scenario, for_plan(evidence, scenario)  # a history is fitted; a plan over periods gets its seasonality


def test_every_issue_scenario_ships():
    assert {"baseline", "cut-10-protect-service", "same-engagement-for-less", "horizontal-vs-siloed",
            "shift-to-digital", "protect-the-journey", "tv-dearer", "listening-team"} <= NAMES


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_runs_and_makes_sense(path):
    scenario, tp = load(path)
    assert scenario.description, "every shipped scenario says in one line what it asks"
    plan = bo.optimize(tp, scenario)
    assert plan.ok, plan.conflicts
    s = plan.summary()
    today_value = float((tp["engaged"] * tp["value"]).sum())
    if scenario.objective.mode is bo.Mode.MIN_SPEND:
        assert s["proposed_spend"] < s["current_spend"]  # it saves money
        assert s["proposed_weighted"] >= today_value * (1 - 1e-9)  # at today's engagement
    else:
        assert s["proposed_spend"] == pytest.approx(scenario.budget.amount(s["current_spend"]), rel=1e-9)
    if scenario.budget.change is None and scenario.objective.mode is bo.Mode.MAX_ENGAGED and not scenario.overrides \
            and not scenario.add_touchpoints:
        assert s["proposed_weighted"] >= today_value  # today is allowed, so the plan does at least as well


def test_cut_10_protect_service_keeps_its_promises():
    scenario, tp = load(ROOT / "scenarios" / "cut-10-protect-service.toml")
    plan = bo.optimize(tp, scenario)
    by = plan.by("function").set_index("function")
    assert by.loc["service", "proposed_spend"] >= by.loc["service", "current_spend"] * (1 - 1e-9)
    tv = plan.table.set_index("touchpoint").loc["TV prime time"]
    assert tv["proposed_spend"] <= 0.7 * tv["current_spend"] * (1 + 1e-9)


def test_shift_to_digital_meets_its_share():
    scenario, tp = load(ROOT / "scenarios" / "shift-to-digital.toml")
    plan = bo.optimize(tp, scenario)
    digital = plan.table["digital"] == "yes"
    assert plan.table.loc[digital, "proposed_spend"].sum() >= 0.7 * plan.table["proposed_spend"].sum() * (1 - 1e-9)
    assert plan.binding_rules["name"].str.startswith("min_share").any()


def test_protect_the_journey_keeps_every_stage():
    scenario, tp = load(ROOT / "scenarios" / "protect-the-journey.toml")
    plan = bo.optimize(tp, scenario)
    stages = plan.by("stage").set_index("stage")
    assert (stages["proposed_engaged"] >= stages["current_engaged"] * (1 - 1e-9)).all()


def test_tv_dearer_lowers_tv_engagement_and_listening_team_is_added():
    scenario, tp = load(ROOT / "scenarios" / "tv-dearer.toml")
    plan = bo.optimize(tp, scenario)
    tv_today = tp.loc[tp["channel"] == "tv", "engaged"].sum()
    tv = plan.table["channel"] == "tv"
    assert plan.table.loc[tv, "current_engaged"].sum() == pytest.approx(tv_today)  # today is the data as given
    assert (plan.table.loc[tv, "what_if"] == "each engaged customer costs 1.2x as much").all()
    # the what-if's effect on today's own allocation is its own figure
    assert plan.summary()["whatif_engaged"] == pytest.approx(tp["engaged"].sum() - tv_today + tv_today / 1.2)
    scenario, tp = load(ROOT / "scenarios" / "listening-team.toml")
    plan = bo.optimize(tp, scenario)
    team = plan.table.set_index("touchpoint").loc["Social listening team"]
    assert team["current_spend"] == 0 and team["proposed_spend"] == pytest.approx(300_000)  # CPE 1.8 beats the margin
    assert team["proposed_engaged"] == pytest.approx(300_000 / 1.8)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_siloed_never_beats_horizontal(path):
    scenario, tp = load(path)
    cost = silo_cost(tp, scenario)
    assert cost.horizontal.ok
    if not cost.vertical.ok:  # e.g. a 10 % cut with service protected cannot be planned in silos at all
        assert "could not be priced" in cost.text()
        return
    # both plans are within 0.1 % of their smooth optimum, and the siloed optimum is never higher
    assert value_engaged(cost.horizontal) >= value_engaged(cost.vertical) * (1 - 1e-3)
    assert cost.engaged_at_same_budget >= -1e-3 * value_engaged(cost.vertical)
    assert cost.money_at_same_engagement >= -1e-3 * cost.vertical.table["proposed_spend"].sum()


def test_silo_cost_on_the_sample_is_large_and_in_words(sample):
    cost = silo_cost(sample, bo.Scenario())
    assert cost.engaged_at_same_budget > 100_000
    assert cost.money_at_same_engagement > 1_000_000
    assert "What the silos cost" in cost.text()


def test_frontier_rises_is_concave_and_passes_today(sample):
    budgets = budget_range(sample, 0.5, 1.5, 11)
    curve = frontier(sample, bo.Scenario(), budgets)
    points = curve[curve["marker"] == ""]
    assert (points["status"] == "optimal").all()
    e, b = points["weighted_engagement"].to_numpy(), points["budget"].to_numpy()
    assert (np.diff(e) >= -1e-6 * e[:-1]).all()
    slopes = np.diff(e) / np.diff(b)
    assert (np.diff(slopes) <= 1e-9 * np.abs(slopes[:-1]) + 1e-9).all()  # concave
    today = curve[curve["marker"] == "today"].iloc[0]
    at_today = points.loc[np.isclose(b, today["budget"]), "weighted_engagement"].iloc[0]
    assert at_today >= today["weighted_engagement"] * (1 - 1e-9)
    assert set(curve["marker"]) == {"", "today", "plan"}
    reverse = money_needed(curve)
    assert (np.diff(reverse["money_needed"]) > 0).all()


def test_the_plan_off_the_frontier_says_why(sample):
    curve = frontier(sample, bo.Scenario(), budget_range(sample, 0.5, 1.5, 21))
    points, plan = curve[curve["marker"] == ""], curve[curve["marker"] == "plan"].iloc[0]
    drawn = float(np.interp(plan["budget"], points["budget"], points["weighted_engagement"]))
    gap = plan["weighted_engagement"] - drawn
    assert 1 <= gap <= 1e-3 * drawn  # the refined plan a hair above the shared segments' curve
    note = plan_note(curve, 12)
    assert "share one set of 24 segments per response curve" in note
    assert f"it reaches {gap:,.0f} more ({100 * gap / drawn:.3f} %) than the curve drawn" in note
    far = curve.assign(weighted_engagement=np.where(curve["marker"] == "plan", drawn + 0.4,
                                                    curve["weighted_engagement"]))
    assert plan_note(far, 12) is None  # within one unit: nothing to explain


def test_frontier_reports_infeasible_budgets(sample):
    curve = frontier(sample, bo.Scenario(), [1_000_000.0, 14_045_000.0])
    assert list(curve.loc[curve["marker"] == "", "status"]) == ["infeasible", "optimal"]


def test_rule_prices_hand_solved():
    tp = table(function=["m", "s"], spend=[100, 100], engaged=[10, 20], curve=["linear", "linear"],
               max_spend=[300, 300])
    scenario = bo.Scenario(rules=(bo.Rule(group="function", member="m", min_spend=120),
                                  bo.Rule(group="function", member="s", max_spend=250)))
    prices = price_rules(tp, scenario).set_index("rule")
    floor = prices.loc[[r for r in prices.index if r.startswith("rule 1")][0]]
    cap = prices.loc[[r for r in prices.index if r.startswith("rule 2")][0]]
    # with the floor A=120, B=80: 28 engaged; without it all 200 go to B: 40
    assert floor["whole_price"] == pytest.approx(12)
    assert cap["whole_price"] == 0 and not cap["binding"]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_removing_a_binding_rule_never_lowers_the_optimum(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    s0 = rng.uniform(1e3, 1e5, n)
    tp = bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": [f"t{i}" for i in range(n)], "function": rng.choice(["a", "b", "c"], n), "channel": "c",
        "spend": s0, "engaged": s0 / rng.uniform(1, 50, n), "curve": rng.choice(["power", "linear"], n),
        "elasticity": rng.uniform(0.3, 0.9, n), "max_change": rng.choice([np.nan, 0.4], n)}))
    rules = tuple(bo.Rule(group="function", member=f, min_change=float(rng.uniform(-0.3, 0.1)))
                  for f in sorted(set(tp["function"])))
    for mode in ("max_engaged", "min_spend"):
        scenario = bo.Scenario(rules=rules, objective=bo.Objective(mode=mode))
        if not bo.optimize(tp, scenario).ok:
            continue
        prices = price_rules(tp, scenario)
        assert (prices["whole_price"] >= -1e-7 * (s0.sum())).all(), prices


def test_infeasible_scenario_names_exactly_the_conflicting_rules():
    path = ROOT / "tests" / "scenarios" / "conflict.toml"
    scenario, tp = load(path)
    plan = bo.optimize(tp, scenario)
    assert plan.status is bo.Status.INFEASIBLE
    assert plan.conflicts == [
        "budget: exactly 9,000,000",
        "function 'marketing': at least 4,100,000",
        "function 'sales': at least 3,900,000",
        "max_change of 'Call centre': at least 410,000",
        "lock of 'Field technicians': at least 400,000",
        "lock of 'Doorstep delivery service': at least 250,000",
    ]
    advice = "\n".join(plan.advice)
    assert "the floors in this set add up to 9,060,000; the budget is 9,000,000" in advice
    # every floor in the set add up with the others outside it (TV prime time 1,260,000, ...) to 9,110,000
    # each way out is checked by solving with it as written: the budget stays an exact amount, in whole units
    assert "a way out: budget exactly 9,110,000 instead of 9,000,000" in advice
    assert "a way out: function 'marketing' at least 3,990,000 instead of 4,100,000" in advice


def test_round_trip_and_unknown_keys(tmp_path):
    scenario = bo.Scenario(
        name="All of it", description='with "quotes"', data="../data/x.csv", budget=bo.Budget(change=-0.1),
        objective=bo.Objective(mode="min_spend", target_change=0.05), siloed=True, protect_stages=True,
        rules=(bo.Rule(group="function", member="service", min_change=0.0), bo.Rule(tag="digital", min_share=0.4),
               bo.Rule(touchpoint="TV", lock=True, name="TV contract")),
        overrides=(Override(group="channel", member="tv", cpe_multiplier=1.2),
                   Override(touchpoint="Chat", remove=True)),
        add_touchpoints=(NewTouchpoint(touchpoint="Team", function="service", channel="social", cpe=2,
                                       max_spend=1000, tags={"digital": "yes"}),),
        settings=bo.Settings(segments=20, refine=False))
    assert parse_scenario(scenario_toml(scenario)) == scenario
    path = write_scenario(scenario, tmp_path / "s.toml")
    assert read_scenario(path) == scenario
    with pytest.raises(bo.BudgetOptError, match="already exists"):
        write_scenario(scenario, path)
    with pytest.raises(bo.ScenarioError, match=r"budget\.chnge: unknown key; allowed here: total, change, at_most"):
        parse_scenario("[budget]\nchnge = 1", "s.toml")
    with pytest.raises(bo.ScenarioError, match="s.toml"):
        parse_scenario("mode = 3", "s.toml")


def test_data_outside_the_project_is_refused(tmp_path):
    (tmp_path / "scenarios").mkdir()
    path = tmp_path / "scenarios" / "evil.toml"
    path.write_text('data = "../../../etc/passwd"\n')
    with pytest.raises(bo.ScenarioError, match="outside the project folder"):
        scenario_data_path(read_scenario(path), path)
    path.write_text('data = "/etc/passwd"\n')
    with pytest.raises(bo.ScenarioError, match="outside the project folder"):
        scenario_data_path(read_scenario(path), path)
    assert main(["run", str(path)]) == 2


def test_overrides_change_the_data_not_the_file(sample):
    scenario = bo.Scenario(overrides=(Override(touchpoint="Live chat", engaged_multiplier=1.15),
                                      Override(touchpoint="Podcast", remove=True),
                                      Override(group="function", member="pr", lock=True)))
    plan = bo.optimize(sample, scenario)
    t = plan.table.set_index("touchpoint")
    # a removed touchpoint stays in today's figures and gets nothing in the plan
    podcast = sample.set_index("touchpoint").loc["Podcast"]
    assert t.loc["Podcast", "current_spend"] == podcast["spend"] and t.loc["Podcast", "proposed_spend"] == 0
    assert t.loc["Podcast", "what_if"] == "removed by the scenario"
    assert plan.summary()["current_spend"] == pytest.approx(sample["spend"].sum())
    chat = sample.set_index("touchpoint").loc["Live chat", "engaged"]
    assert t.loc["Live chat", "current_engaged"] == pytest.approx(chat)  # today: the data
    assert t.loc["Live chat", "what_if"] == "engages 1.15x as many customers for the same money"
    pr = plan.table["function"] == "pr"
    assert np.allclose(plan.table.loc[pr, "proposed_spend"], plan.table.loc[pr, "current_spend"])
    assert "Podcast" in set(sample["touchpoint"])
    with pytest.raises(bo.ScenarioError, match="no touchpoint named 'Podkast'"):
        bo.optimize(sample, bo.Scenario(overrides=(Override(touchpoint="Podkast", remove=True),)))


def test_cli_run_compare_frontier(tmp_path, capsys):
    shipped = ROOT / "scenarios"
    assert main(["run", str(shipped / "cut-10-protect-service.toml"), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Whole price of each rule" in out and (tmp_path / "out" / "plan.csv").exists()
    assert main(["run", str(shipped / "horizontal-vs-siloed.toml"), "--no-prices"]) == 0
    assert "What the silos cost" in capsys.readouterr().out
    assert main(["compare", *(str(shipped / f"{n}.toml") for n in
                              ("baseline", "cut-10-protect-service", "same-engagement-for-less"))]) == 0
    out = capsys.readouterr().out
    for words in ("budget", "engaged", "average CPE", "marginal CPE", "money moved across functions",
                  "spend: service", "rules that bind"):
        assert words in out
    csv = tmp_path / "frontier.csv"
    assert main(["frontier", str(shipped / "baseline.toml"), "--from", "0.5", "--to", "1.5", "--steps", "5",
                 "--out", str(csv)]) == 0
    captured = capsys.readouterr()
    assert "TODAY" in captured.out and "PLAN" in captured.out and "frontier: 5/5" in captured.err
    curve = pd.read_csv(csv)
    assert {"budget", "weighted_engagement", "engaged_customers"} <= set(curve.columns) and len(curve) == 7
    assert main(["run", str(ROOT / "tests" / "scenarios" / "conflict.toml")]) == 1


def test_run_exports_every_format_and_a_scenario_with_overrides_replays(tmp_path):
    from budgetopt.io import replay

    path = ROOT / "scenarios" / "listening-team.toml"
    assert main(["run", str(path), "--out", str(tmp_path), "--no-prices", "--format", "xlsx,csv,json"]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"plan.xlsx", "plan.csv", "plan.json"}
    scenario, tp = load(path)
    plan = bo.optimize(tp, scenario)
    again = replay(tmp_path / "plan.json")
    assert again.table["touchpoint"].tolist() == plan.table["touchpoint"].tolist()
    assert np.allclose(again.table["proposed_spend"], plan.table["proposed_spend"], atol=0.005)
    assert np.allclose(again.table["current_engaged"], plan.table["current_engaged"])  # overrides applied once


def test_price_limit_re_solves_only_the_dearest_data_limits(sample):
    scenario = bo.Scenario(budget=bo.Budget(change=-0.1))
    every = price_rules(sample, scenario).set_index("rule")
    two = price_rules(sample, scenario, data_limits=2).set_index("rule")
    data = every[every["kind"] == "data limit"]
    re_solved = two.loc[data.index, "whole_price"].notna() & (data["whole_price"] > 0)
    assert re_solved.sum() == 2
    assert np.allclose(two.loc[re_solved[re_solved].index, "whole_price"], data.loc[re_solved, "whole_price"])
    others = two[two["kind"] != "data limit"]
    assert others["whole_price"].notna().all()  # the scenario's own rules and the assumption are always priced


def test_review_findings_stay_fixed(sample, tmp_path):
    # a tight engagement floor is reported binding (the LP's chords, not the smooth curve, decide)
    plan = bo.optimize(sample, bo.Scenario(protect_stages=True, budget=bo.Budget(change=-0.2)))
    rules = plan.rules.set_index("name")
    stages = rules[rules.index.str.startswith("stage-")]
    assert stages["binding"].any()
    # the budget and the min-spend target speak in their own words
    assert rules.loc["budget", "price_text"].startswith("each extra 1,000 of budget would add")
    target = bo.optimize(sample, bo.Scenario(objective=bo.Objective(mode="min_spend"))).rules.set_index("name")
    assert target.loc["target", "binding"]
    assert target.loc["target", "price_text"].startswith(
        "each unit of weighted engagement less in the target would save")
    # a binding cap on a touchpoint with no spend today has a price
    scenario, tp = load(ROOT / "scenarios" / "listening-team.toml")
    prices = price_rules(tp, scenario).set_index("rule")
    team = prices.loc[[r for r in prices.index if "Social listening team" in r]]
    assert (team["whole_price"] > 0).all()
    # a scenario cap and the data's own cap on one touchpoint keep separate names
    capped = bo.optimize(sample, bo.Scenario(rules=(bo.Rule(touchpoint="Affiliate programme", max_spend=300_000),)))
    names = set(capped.rules["name"])
    assert {"cap-Affiliate programme-hi", "cap-Affiliate programme-hi-r0"} <= names
    # siloed planning needs spend today; an unreadable scenario is an error, not a traceback
    zero = table(spend=[0, 0], cpe=[1, 2], max_spend=[10, 10])
    with pytest.raises(bo.ScenarioError, match="nothing is spent today"):
        bo.optimize(zero, bo.Scenario(siloed=True))
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"name = \"\xff\xfe\"\n")
    assert main(["run", str(bad)]) == 2
