"""The front end's arithmetic, without a browser: formatting, widget values -> scenario, cards and chart frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import SAMPLE, table

import budgetopt as bo
from budgetopt import schema as S
from budgetopt.errors import InputError, ScenarioError
from budgetopt.io import plan_csv, read_touchpoints_bytes, table_csv, write_plan
from budgetopt.scenario import Mode
from budgetopt.ui import controls, report
from budgetopt.ui import format as fmt


@pytest.fixture(scope="module")
def two():
    """A (f1, CPE 10) and B (f2, CPE 2), linear, 100 each: the plan moves all of A's money to B."""
    return table(function=["f1", "f2"], spend=[100, 100], engaged=[10, 50], curve=["linear", "linear"])


def test_format_for_people():
    assert fmt.money(14_045_000.4) == "14,045,000"
    assert fmt.money(float("nan")) == fmt.NONE
    assert fmt.cpe(4.87775) == "4.88"
    assert fmt.cpe(math.inf) == "unlimited"
    assert fmt.percent(0.28966, signed=True) == "+29.0 %"
    assert fmt.percent(-0.225, signed=True) == "-22.5 %"
    assert fmt.percent(-0.00001, signed=True) == "0.0 %"  # no '-0.0 %'
    assert fmt.percent(0.5) == "50.0 %"
    assert [fmt.short(x) for x in (14_044_999.999998, 2_879_400.4, 458_300, 99_999.6, -1_250_000, 3.2e9)] == [
        "14.05 M", "2.88 M", "458 k", "100,000", "-1.25 M", "3.20 bn"]


def test_plan_cards_on_a_plan_solved_by_hand(two):
    # Budget 200 all goes to B (2 per customer, room to 300): 100 engaged instead of 60, CPE 2 instead of 3.33.
    cards = {c.label: c for c in report.plan_cards(bo.optimize(two))}
    assert (cards["Engaged customers"].value, cards["Engaged customers"].delta) == ("100", "+66.7 %")
    assert (cards["Average CPE"].value, cards["Average CPE"].delta) == ("2.00", "-40.0 %")
    assert cards["Average CPE"].delta_color == "inverse"
    assert (cards["Budget"].value, cards["Budget"].delta) == ("200", "0.0 %")
    assert (cards["Money moved"].value, cards["Money moved"].delta) == ("100", "50.0 % of today's")
    assert cards["Marginal CPE"].value == "2.00"
    assert "Money saved" not in cards


def test_min_spend_cards_show_the_money_saved(two):
    # Keep 60 engaged at the cheapest: all on B at 2 each = 120, saving 80 of 200.
    plan = bo.optimize(two, bo.Scenario(objective=bo.Objective(mode="min_spend")))
    cards = {c.label: c for c in report.plan_cards(plan)}
    assert (cards["Money saved"].value, cards["Money saved"].delta) == ("80", "40.0 % of today's")
    assert cards["Engaged customers"].delta == "0.0 %"


def test_before_after_and_sankey(two):
    plan = bo.optimize(two, bo.Scenario(budget=bo.Budget(total=150)))
    frame = report.before_after(plan, "function")
    assert frame[["function", "when", "spend"]].values.tolist() == [
        ["f1", "today", 100.0], ["f1", "plan", 0.0], ["f2", "today", 100.0], ["f2", "plan", 150.0]]
    links = report.sankey(plan.transfers)
    assert links.labels == ["f1 (gives)", "f2 (gets)", "budget cut"]
    assert (links.source, links.target, links.value) == ([0, 0], [1, 2], [50.0, 50.0])
    assert links.text[1] == "f1 (gives) -> budget cut: 50"


def test_plan_table_rounds_for_people_and_stays_sortable(two):
    t = report.plan_table(bo.optimize(two))
    assert list(t.columns) == list(report.PLAN_TABLE.values())
    a = t.set_index("touchpoint").loc["A"]
    assert (a["spend in plan"], a["change"], a["change %"], a["marginal CPE"]) == (0.0, -100.0, -100.0, 10.0)
    assert pd.api.types.is_float_dtype(t["spend in plan"])
    assert t["change"].is_monotonic_increasing


def test_binding_rules_in_words(two):
    b = report.binding_table(bo.optimize(two))
    assert b.values.tolist() == [["budget: exactly 200", "costs 500.0 engaged customers per 1,000 of money it ties up"]]


def test_rollup_today(two):
    r = report.rollup(two, "function")
    assert r.to_dict("list") == {"function": ["f1", "f2"], "touchpoints": [1, 1], "spend": [100.0, 100.0],
                                 "share": [0.5, 0.5], "engaged": [10.0, 50.0], "cpe": [10.0, 2.0]}
    assert report.today_line(two) == ("Today: 200 spent on 2 touchpoints of 2 functions, 60 engaged customers, "
                                      "average CPE 3.33.")


def test_template_is_a_valid_touchpoint_file():
    data = table_csv(report.template_table())
    clean = read_touchpoints_bytes(data, "template.csv")
    assert len(clean) == 2
    assert list(report.template_table().columns) == [c.name for c in S.COLUMNS]


def test_budget_slider_and_exact_amount():
    assert controls.budget_from(1000.0, 1000.2) == bo.Budget()
    assert controls.budget_from(1000.0, 900.0, at_most=True) == bo.Budget(total=900.0, at_most=True)
    assert controls.slider_step(1000.0, 900.0) == -10
    assert controls.slider_step(1000.0, 5000.0) == controls.BUDGET_STEPS[1]  # clamped to the slider
    assert controls.slider_step(0.0, 10.0) == 0


def test_objective_from_the_goal_widgets():
    assert controls.objective_from(Mode.MAX_ENGAGED) == bo.Objective()
    assert controls.objective_from(Mode.MIN_SPEND, 100.0) == bo.Objective(mode="min_spend")
    assert controls.objective_from(Mode.MIN_SPEND, 90.0).target_change == pytest.approx(-0.1)
    assert controls.objective_from(Mode.TARGET_CPE, target_cpe=4.0) == bo.Objective(mode="target_cpe", target=4.0)


def test_rules_from_the_form(sample):
    targets = controls.rule_targets(sample)
    assert "function: service" in targets and "stage: retention" in targets and "digital: yes" in targets
    assert "touchpoint: TV prime time" in targets
    rule = controls.make_rule("function: service", "Change against today at least (%)", 0)
    assert rule == bo.Rule(group="function", member="service", min_change=0.0)
    assert controls.describe(rule) == "function 'service' changes by at least 0.0 % against today"
    lock = controls.make_rule("touchpoint: TV prime time", "Keep today's spend (lock)", None)
    assert lock == bo.Rule(touchpoint="TV prime time", lock=True)
    assert controls.describe(lock) == "'TV prime time' keeps today's spend"
    share = controls.make_rule("digital: yes", "Share of the total at least (%)", 40)
    assert share.min_share == pytest.approx(0.4)
    assert controls.describe(share) == "digital 'yes' gets at least 40.0 % of the total"


def test_rule_form_errors_are_sentences():
    with pytest.raises(ScenarioError, match="Share of the total at most .* = 150"):
        controls.make_rule("channel: tv", "Share of the total at most (%)", 150)
    with pytest.raises(ScenarioError, match="needs a number"):
        controls.make_rule("channel: tv", "Spend at most (money)", None)
    with pytest.raises(ScenarioError, match="choose what the rule applies to"):
        controls.make_rule("", "Spend at most (money)", 1)


def test_group_columns_leave_out_free_text():
    tp = table(touchpoint=[f"t{i}" for i in range(70)], spend=[1.0] * 70, engaged=[1.0] * 70,
               note=[f"n{i}" for i in range(70)], region=["n", "s"] * 35)
    assert controls.group_columns(tp) == ["function", "channel", "stage", "region"]


def test_upload_bytes_size_limit_and_problems():
    data = SAMPLE.read_bytes()
    assert len(read_touchpoints_bytes(data, "sample.csv")) == 51
    with pytest.raises(InputError) as exc:
        read_touchpoints_bytes(data, "sample.csv", limit=1000)
    assert "larger than 1,000 bytes" in exc.value.as_table()["problem"][0]
    with pytest.raises(InputError) as exc:
        read_touchpoints_bytes(b"touchpoint,function,channel,spend,engaged\nA,f,c,abc,10\n", "bad.csv")
    assert exc.value.as_table()[["row", "column", "problem"]].values.tolist() == [[2, "spend", "is not a number"]]


def test_plan_csv_is_what_write_plan_writes(two, tmp_path):
    plan = bo.optimize(two)
    path = write_plan(plan, tmp_path / "plan.csv")
    assert path.read_bytes() == plan_csv(plan)
    assert pd.read_csv(path)["proposed_spend"].tolist() == [0.0, 200.0]
