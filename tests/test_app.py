"""Every flow of the Streamlit page, run headless with streamlit.testing.v1.AppTest.

The figures on the page are checked against the API: the cards the app shows must be the cards of
bo.optimize(data, the scenario the widgets describe)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SAMPLE
from streamlit import config
from streamlit.testing.v1 import AppTest

import budgetopt as bo
from budgetopt import schema as S
from budgetopt.io import read_touchpoints_bytes
from budgetopt.ui import controls, report
from budgetopt.ui.views import Key

APP = str(ROOT / "app.py")
TIMEOUT = 120
TODAY = 14_045_000.0


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def cards(at: AppTest) -> dict[str, tuple[str, str]]:
    """The headline cards above the tabs (the Today tab repeats today's own cards)."""
    return {m.label: (m.value, m.delta) for m in at.main.metric if not m.label.endswith("today")
            and m.label != "Touchpoints"}


def expected(touchpoints: pd.DataFrame, **scenario) -> dict[str, tuple[str, str]]:
    plan = bo.optimize(touchpoints, bo.Scenario(**scenario))
    assert plan.ok
    return {c.label: (c.value, c.delta or "") for c in report.plan_cards(plan)}


def add_rule(at: AppTest, target: str, limit: str, value: float | None) -> AppTest:
    at.selectbox(key=Key.RULE_TARGET).set_value(target)
    at.selectbox(key=Key.RULE_LIMIT).set_value(limit)
    if value is not None:
        at.number_input(key=Key.RULE_VALUE).set_value(value)
    next(b for b in at.button if b.label == "Add rule").click()
    return rerun(at)


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def test_default_load_shows_today_and_the_plan(sample):
    at = start()
    assert at.title[0].value == "Engagement budget across functions"
    assert cards(at) == expected(sample)
    assert cards(at)["Engaged customers"][1].startswith("+")  # the sample's plan engages more for the same money
    assert cards(at)["Average CPE"][1].startswith("-")
    today = {m.label: m.value for m in at.main.metric if m.label.endswith("today")}
    assert today == {"Budget today": "14.05 M", "Engaged customers today": "2.88 M", "Average CPE today": "4.88"}
    assert "Today: 14,045,000 spent on 51 touchpoints of 8 functions" in at.main.caption[1].value
    plan_table = next(d.value for d in at.dataframe if "spend in plan" in d.value.columns)
    assert len(plan_table) == 51 and "marginal CPE" in plan_table.columns
    binding = next(d.value for d in at.dataframe if "what it costs" in d.value.columns)
    assert binding["what it costs"].str.startswith("costs ").all()
    assert {d.label for d in at.download_button} == {"Download a template CSV", "Download the plan (CSV)"}
    assert at.radio(key=Key.TODAY_BY).options == ["function", "channel", "stage", "digital"]
    assert not at.error


def test_today_breakdown_by_stage():
    at = start()
    at.radio(key=Key.TODAY_BY).set_value("stage")
    rerun(at)
    frame = next(d.value for d in at.dataframe if "share" in d.value.columns)
    assert sorted(frame["stage"]) == sorted(S.STAGES)
    assert frame["spend"].sum() == TODAY
    assert frame["share"].sum() == pytest.approx(1.0)


def test_budget_slider_and_exact_amount_move_the_plan(sample):
    at = start()
    at.slider(key=Key.BUDGET_PCT).set_value(-10)
    rerun(at)
    assert at.number_input(key=Key.BUDGET_TOTAL).value == round(TODAY * 0.9)
    assert cards(at) == expected(sample, budget=bo.Budget(total=round(TODAY * 0.9)))
    assert cards(at)["Budget"] == ("12.64 M", "-10.0 %")

    at.number_input(key=Key.BUDGET_TOTAL).set_value(12_000_000.0)
    rerun(at)
    assert at.slider(key=Key.BUDGET_PCT).value == -15  # -14.6 % on the slider's whole-percent scale
    assert cards(at)["Budget"][0] == "12.00 M"
    assert cards(at) == expected(sample, budget=bo.Budget(total=12_000_000.0))


def test_goal_less_money_for_the_same_engagement(sample):
    at = start()
    at.radio(key=Key.MODE).set_value(bo.Mode.MIN_SPEND)
    rerun(at)
    assert at.slider(key=Key.BUDGET_PCT).disabled
    shown = cards(at)
    assert shown == expected(sample, objective=bo.Objective(mode="min_spend"))
    assert shown["Money saved"][0] != "0" and not shown["Money saved"][0].startswith("-")


def test_goal_target_cpe(sample):
    at = start()
    at.radio(key=Key.MODE).set_value(bo.Mode.TARGET_CPE)
    rerun(at)
    at.number_input(key=Key.TARGET_CPE).set_value(4.0)
    rerun(at)
    assert cards(at) == expected(sample, objective=bo.Objective(mode="target_cpe", target=4.0))
    assert float(cards(at)["Average CPE"][0]) <= 4.0


def test_siloed_planning_moves_nothing_across_functions(sample):
    at = start()
    at.radio(key=Key.PLANNING).set_value(controls.SILOED)
    rerun(at)
    assert cards(at) == expected(sample, siloed=True)
    assert cards(at)["Money moved"][0] == "0"
    at.radio(key=Key.PLANNING).set_value(controls.HORIZONTAL)
    rerun(at)
    assert cards(at) == expected(sample)


def test_protect_every_stage(sample):
    at = start()
    at.toggle(key=Key.PROTECT).set_value(True)
    rerun(at)
    assert cards(at) == expected(sample, protect_stages=True)


def test_a_rule_added_and_removed(sample):
    at = start()
    add_rule(at, "function: service", "Change against today at least (%)", 0)
    rules = next(d.value for d in at.dataframe if list(d.value.columns) == ["#", "rule"])
    assert rules["rule"].tolist() == ["function 'service' changes by at least 0.0 % against today"]
    with_rule = expected(sample, rules=(bo.Rule(group="function", member="service", min_change=0.0),))
    assert cards(at) == with_rule

    add_rule(at, "touchpoint: TV prime time", "Keep today's spend (lock)", None)
    assert cards(at) == expected(sample, rules=(bo.Rule(group="function", member="service", min_change=0.0),
                                                bo.Rule(touchpoint="TV prime time", lock=True)))
    at.multiselect(key=Key.REMOVE).set_value([1])
    next(b for b in at.button if b.label == "Remove selected rules").click()
    rerun(at)
    assert cards(at) == with_rule
    next(b for b in at.button if b.label == "Remove all rules").click()
    rerun(at)
    assert cards(at) == expected(sample)


def test_a_rule_that_cannot_be_built_is_explained_in_place():
    at = start()
    add_rule(at, "channel: tv", "Share of the total at most (%)", 150)
    assert "The rule was not added" in errors(at)
    assert "less than or equal to 1" in errors(at)
    assert not any(list(d.value.columns) == ["#", "rule"] for d in at.dataframe)


def test_infeasible_rules_are_named_not_raised():
    at = start()
    add_rule(at, "function: service", "Spend at least (money)", 14_000_000)
    text = errors(at)
    assert "No plan" in text and "These rules cannot all hold together" in text
    assert "function 'service': at least 14,000,000" in text
    assert "budget: exactly 14,045,000" in text
    assert "Engaged customers" not in cards(at)
    assert any("No plan to show" in i.value for i in at.info)
    assert [d.label for d in at.download_button] == ["Download a template CSV"]


BAD_CSV = (b"touchpoint,function,channel,spend,engaged,stage\n"
           b"Search,marketing,search,abc,100,consideration\n"
           b"Chat,service,chat,5000,40,someday\n")
GOOD_CSV = (b"touchpoint,function,channel,spend,engaged\n"
            b"Search,marketing,search,6000,1000\n"
            b"Chat,service,chat,4000,2000\n")


def test_a_bad_upload_lists_every_problem_in_place():
    at = start()
    at.sidebar.file_uploader[0].upload("mine.csv", BAD_CSV, "text/csv")
    rerun(at)
    assert "mine.csv" in errors(at) and "2 problem(s)" in errors(at)
    problems = at.main.dataframe[0].value
    assert list(problems.columns) == ["file", "row", "column", "value", "problem", "fix"]
    assert problems[["row", "column", "value"]].values.tolist() == [[2, "spend", "abc"], [3, "stage", "someday"]]
    assert problems["fix"].str.len().gt(0).all()
    assert not at.main.metric  # no plan from a file that cannot be read


def test_a_good_upload_replaces_the_sample_and_resets_the_budget():
    at = start()
    at.slider(key=Key.BUDGET_PCT).set_value(-10)
    rerun(at)
    at.sidebar.file_uploader[0].upload("mine.csv", GOOD_CSV, "text/csv")
    rerun(at)
    assert at.number_input(key=Key.BUDGET_TOTAL).value == 10_000.0  # the new table's total, not the sample's
    assert at.slider(key=Key.BUDGET_PCT).value == 0
    assert "mine.csv: 2 touchpoints." in [c.value for c in at.sidebar.caption]
    assert cards(at) == expected(read_touchpoints_bytes(GOOD_CSV, "mine.csv"))


def test_a_rule_that_no_longer_fits_new_data_is_named_in_place():
    at = start()
    add_rule(at, "touchpoint: TV prime time", "Keep today's spend (lock)", None)
    at.sidebar.file_uploader[0].upload("mine.csv", GOOD_CSV, "text/csv")
    rerun(at)
    assert "A rule does not fit this data" in errors(at) and "no touchpoint named 'TV prime time'" in errors(at)
    assert "Engaged customers" not in cards(at)
    next(b for b in at.button if b.label == "Remove all rules").click()
    rerun(at)
    assert not at.error
    assert cards(at) == expected(read_touchpoints_bytes(GOOD_CSV, "mine.csv"))


def test_an_upload_over_the_size_limit_says_what_to_do():
    before = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 1)
    try:
        at = start()
        at.sidebar.file_uploader[0].upload("big.csv", SAMPLE.read_bytes() + b"\n" * (1024 * 1024), "text/csv")
        rerun(at)
        problems = at.main.dataframe[0].value
        assert "larger than 1,048,576 bytes" in problems["problem"][0]
        assert problems["fix"][0] == "split it or keep only the touchpoint rows"
    finally:
        config.set_option("server.maxUploadSize", before)


def many_touchpoints(n: int, seed: int = 0) -> bytes:
    """n touchpoints shaped like the sample's (copies with spend scaled by 0.5-1.5), as CSV bytes."""
    raw = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    out = pd.concat([raw] * -(-n // len(raw)), ignore_index=True).iloc[:n].copy()
    factor = np.random.default_rng(seed).uniform(0.5, 1.5, n)
    out["touchpoint"] = out["touchpoint"] + " #" + (np.arange(n) // len(raw) + 1).astype(str)
    for column in ("spend", "engaged", "saturation", "min_spend", "max_spend"):
        value = pd.to_numeric(out[column], errors="coerce") * factor
        out[column] = value.round(0).astype("Int64").astype(str).replace("<NA>", "")
    return out.to_csv(index=False).encode()


def test_a_thousand_touchpoints_through_the_page():
    data = many_touchpoints(1000)
    at = start()
    at.sidebar.file_uploader[0].upload("many.csv", data, "text/csv")
    rerun(at)
    touchpoints = read_touchpoints_bytes(data, "many.csv")
    assert cards(at) == expected(touchpoints)
    at.slider(key=Key.BUDGET_PCT).set_value(-5)
    rerun(at)
    total = float(round(touchpoints["spend"].sum() * 0.95))
    assert cards(at) == expected(touchpoints, budget=bo.Budget(total=total))
