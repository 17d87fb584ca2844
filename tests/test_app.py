"""Every flow of the Streamlit page, run headless with streamlit.testing.v1.AppTest.

The figures on the page are checked against the API: the cards the app shows must be the cards of
bo.optimize(data, the scenario the widgets describe)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from conftest import ROOT, SAMPLE
from streamlit import config
from streamlit.testing.v1 import AppTest

import budgetopt as bo
from budgetopt import rule_words
from budgetopt import schema as S
from budgetopt.io import read_touchpoints_bytes
from budgetopt.pricing import price_rules
from budgetopt.silos import silo_cost
from budgetopt.ui import controls, library, report
from budgetopt.ui import format as fmt
from budgetopt.ui.views.scenarios_tab import CURRENT
from budgetopt.ui.views.shared import md
from budgetopt.ui.views.state import Key

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
    return {m.label: (m.value, m.delta) for m in at.main.metric if " today" not in f"{m.label} "
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


def problems(at: AppTest) -> pd.DataFrame:
    """The table of problems with an upload (row, column, value, problem, fix)."""
    found = next(t.value for t in [*at.main.table, *at.main.dataframe] if "fix" in t.value.columns)
    return found.assign(row=pd.to_numeric(found["row"]).astype("Int64"))


def test_default_load_shows_today_and_the_plan(sample):
    at = start()
    assert at.title[0].value == "Engagement budget across functions"
    assert cards(at) == expected(sample)
    assert cards(at)["Engaged customers"][1].startswith("+")  # the sample's plan engages more for the same money
    assert cards(at)["Average CPE"][1].startswith("-")
    today = {m.label: m.value for m in at.main.metric if m.label.endswith("today")}
    assert today == {"Budget today": "14.05 M", "Engaged customers today": "2.88 M", "Average CPE today": "4.88"}
    notes = at.main.caption[1].value.replace("\\", "")  # Markdown escapes
    assert "Today (the data as given): 14,045,000 spent on 51 touchpoints of 8 functions" in notes
    assert "This plan rests on assumptions" in notes  # what the plan rests on, beside the headline
    plan_table = next(d.value for d in at.dataframe if "spend in plan" in d.value.columns)
    assert len(plan_table) == 51 and "marginal CPE" in plan_table.columns
    binding = pd.concat([t.value for t in at.table if "what it costs" in t.value.columns], ignore_index=True)
    words = binding["what it costs"]
    assert (words.str.startswith("costs ") | words.str.startswith("each extra 1,000 of budget would add")).all()
    assert binding["limit"].tolist() == rule_words.plain_rules(bo.optimize(sample), sample)["words"].tolist()
    assert [m.value for m in at.markdown if m.value.startswith("**") and "(" in m.value][-3:] == [
        "**Your rules and settings** (1)", "**The data's limits** (8)", "**Assumptions** (9)"]
    why = next(m.value for m in at.markdown if m.value.startswith("- TV prime time") or "\n- TV prime time" in m.value)
    assert "TV prime time -30 % \\(-540,000\\): at today's spend its next 1,000 buys 56" in why
    assert "Rests on: TV prime time: curve set in the data \\(power, elasticity 0.5\\)" in why
    assert len(at.get("image")) == 1  # the Sankey, an SVG with every amount on its link (tests/test_ui.py)
    assert {d.label for d in at.download_button} == {
        "Download a template CSV", "Download the plan (CSV)", "Download the plan (Excel)",
        "Download the scenario (TOML)", "Download as TOML", "One-page report (PDF)", "One-page report (HTML)"}
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
    assert at.text_input(key=Key.BUDGET_TEXT).value == f"{round(TODAY * 0.9):,}"  # with thousands separators
    assert cards(at) == expected(sample, budget=bo.Budget(total=round(TODAY * 0.9)))
    assert cards(at)["Budget"] == ("12.64 M", "-10.0 %")

    at.text_input(key=Key.BUDGET_TEXT).set_value("12.000.000")  # typed as people write money
    rerun(at)
    assert at.slider(key=Key.BUDGET_PCT).value == -15  # -14.6 % on the slider's whole-percent scale
    assert cards(at)["Budget"][0] == "12.00 M"
    assert cards(at) == expected(sample, budget=bo.Budget(total=12_000_000.0))
    at.text_input(key=Key.BUDGET_TEXT).set_value("twelve million")  # not an amount: said in place, nothing lost
    rerun(at)
    assert any("Budget not changed" in e.value for e in at.sidebar.error)
    assert at.text_input(key=Key.BUDGET_TEXT).value == "12,000,000" and cards(at)["Budget"][0] == "12.00 M"


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
    rules = next(t.value for t in at.table if list(t.value.columns) == ["#", "rule"])
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
    assert "is too large: the supported range is up to 1" in errors(at)  # 150 % is 1.5 of the total
    assert not any(list(t.value.columns) == ["#", "rule"] for t in at.table)


def test_the_rule_form_sets_no_limit_to_zero_by_itself():
    at = start()
    assert at.number_input(key=Key.RULE_VALUE).value is None  # empty until a number is typed
    add_rule(at, "touchpoint: TV prime time", "Spend at most (money)", None)  # one click: no cap of 0
    assert "needs a number" in errors(at)
    assert not any(list(t.value.columns) == ["#", "rule"] for t in at.table)


def test_infeasible_rules_are_named_not_raised():
    at = start()
    add_rule(at, "function: service", "Spend at least (money)", 14_000_000)
    text = errors(at)
    assert "No plan" in text and "These rules cannot all hold together" in text
    # in the words of the Rules tab, not the engine's field names (min_spend of '...', function 'service': ...)
    assert "Function service must get at least 14,000,000" in text
    assert "Crisis and reputation monitoring must get at least 50,000" in text  # was "min_spend of 'Crisis...'"
    assert "The plan spends exactly the budget of 14,045,000" in text
    assert "min_spend of" not in text and "function 'service':" not in text
    assert "Engaged customers" not in cards(at)
    assert any("No plan to show" in i.value for i in at.info)
    assert sorted(d.label for d in at.download_button) == ["Download a template CSV", "Download as TOML"]


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
    found = problems(at)
    assert list(found.columns) == ["file", "row", "column", "value", "problem", "fix"]
    assert found[["row", "column", "value"]].values.tolist() == [[2, "spend", "abc"], [3, "stage", "someday"]]
    assert found["fix"].str.len().gt(0).all()
    assert not at.main.metric  # no plan from a file that cannot be read


def test_a_good_upload_replaces_the_sample_and_resets_the_budget():
    at = start()
    at.slider(key=Key.BUDGET_PCT).set_value(-10)
    rerun(at)
    at.sidebar.file_uploader[0].upload("mine.csv", GOOD_CSV, "text/csv")
    rerun(at)
    assert at.session_state[Key.BUDGET_TOTAL] == 10_000.0  # the new table's total, not the sample's
    assert at.slider(key=Key.BUDGET_PCT).value == 0
    assert "mine.csv: 2 touchpoints." in [c.value for c in at.sidebar.caption]
    assert cards(at) == expected(read_touchpoints_bytes(GOOD_CSV, "mine.csv"))


def test_an_upload_is_parsed_once_for_its_mapping_its_plan_and_every_rerun(monkeypatch):
    from budgetopt import io as bio

    parsed, parse = [], bio.parse_table

    def counted(data: bytes, source: str, sheet: str | None = None):
        parsed.append(source)
        return parse(data, source, sheet=sheet)

    monkeypatch.setattr(bio, "parse_table", counted)
    data = GOOD_CSV + b"Press,pr,print,1234,56\n"  # a file no other test uploads: nothing of it is cached yet
    at = start()
    at.sidebar.file_uploader[0].upload("once.csv", data, "text/csv")
    rerun(at)
    assert "Engaged customers" in cards(at)  # mapped, checked and planned at once
    at.slider(key=Key.BUDGET_PCT).set_value(-10)
    rerun(at)
    assert parsed.count("once.csv") == 1  # (the sample is read too when no other test read it first)
    assert cards(at) == expected(read_touchpoints_bytes(data, "once.csv"), budget=bo.Budget(change=-0.1))


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
        found = problems(at)
        assert "larger than 1,048,576 bytes" in found["problem"][0]
        assert found["fix"][0] == "split it or keep only the touchpoint rows"
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


# ---- round 2: scenario files, comparison, frontier, rule prices, silos, column mapping, downloads -------------

SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(p.name for p in SCENARIOS.glob("*.toml"))


class Downloads(dict):
    """What each download button would hand the browser when clicked: downloads[label] -> (bytes, file name)."""

    def __getitem__(self, label: str) -> tuple[bytes, str]:
        data, file_name = super().__getitem__(label)
        content = data() if callable(data) else data  # a deferred download runs when clicked: now
        return (content.encode() if isinstance(content, str) else bytes(content)), file_name


@pytest.fixture
def downloads(monkeypatch) -> Downloads:
    """Records every download button the page draws (the newest run wins), through a spy around Streamlit's own
    download_button (the page still draws it)."""
    from streamlit.delta_generator import DeltaGenerator

    seen = Downloads()
    original, main = DeltaGenerator.download_button, st.download_button

    def spy(self, label, data, file_name=None, *args, **kwargs):
        dict.__setitem__(seen, label, (data, file_name))
        return original(self, label, data, file_name, *args, **kwargs)

    def spy_main(label, data, file_name=None, *args, **kwargs):
        dict.__setitem__(seen, label, (data, file_name))
        return main(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", spy)
    monkeypatch.setattr(st, "download_button", spy_main)
    return seen


def load(at: AppTest, file: str, folder: Path = SCENARIOS) -> AppTest:
    at.selectbox(key=Key.LOAD_FILE).set_value(str(folder / file))
    rerun(at)  # the button is enabled once a file is chosen
    at.button(key="load_scenario_file").click()
    return rerun(at)


def chart_data(at: AppTest, column: str) -> pd.DataFrame:
    """The data of the (first) Vega-Lite chart whose table has this column."""
    from streamlit import dataframe_util

    for chart in at.get("vega_lite_chart"):
        frame = dataframe_util.convert_arrow_bytes_to_pandas_df(chart.proto.data.data)
        if column in frame.columns:
            return frame
    raise AssertionError(f"no chart with a column '{column}'")


def infos(at: AppTest) -> str:
    return "\n".join(i.value for i in at.info)


@pytest.mark.parametrize("file", SHIPPED)
def test_loading_a_scenario_sets_the_widgets_and_gives_its_plan(sample, file):
    at = load(start(), file)
    scenario = bo.io.read_scenario(SCENARIOS / file)
    today = report.today_figures(sample)
    w = controls.widgets_for(scenario, today["spend"], today["value"], today["cpe"])
    assert at.radio(key=Key.MODE).value is scenario.objective.mode
    assert at.session_state[Key.BUDGET_TOTAL] == pytest.approx(scenario.budget.amount(today["spend"]))
    assert at.slider(key=Key.BUDGET_PCT).value == w.budget_pct
    assert at.radio(key=Key.PLANNING).value == (controls.SILOED if scenario.siloed else controls.HORIZONTAL)
    assert at.toggle(key=Key.PROTECT).value is scenario.protect_stages
    rules = next((t.value for t in at.table if "rule" in t.value.columns and "#" in t.value.columns), None)
    assert (rules["rule"].tolist() if rules is not None else []) == [controls.describe(r) for r in scenario.rules]
    plan = bo.optimize(sample, scenario)
    assert cards(at) == {c.label: (c.value, c.delta or "") for c in report.plan_cards(plan)}
    note = next(i.value for i in at.sidebar.info)
    assert f"Loaded **{md(scenario.name)}**" in note
    for line in library.without_widgets(scenario):  # overrides and added touchpoints: no widget, so a note
        assert md(line) in note
    assert not at.error


def test_a_loaded_scenario_changed_by_a_widget_and_its_changes_dropped(sample):
    at = load(start(), "tv-dearer.toml")
    assert "channel 'tv': each engaged customer costs 1.2x as much" in next(i.value for i in at.sidebar.info)
    at.slider(key=Key.BUDGET_PCT).set_value(-10)
    rerun(at)
    tv_dearer = bo.io.read_scenario(SCENARIOS / "tv-dearer.toml")
    changed = tv_dearer.model_copy(update={"budget": bo.Budget(total=round(TODAY * 0.9))})
    assert cards(at) == expected(sample, **dict(changed))
    at.button(key="forget_scenario_file").click()
    rerun(at)
    assert not at.sidebar.info
    assert cards(at) == expected(sample, budget=bo.Budget(total=round(TODAY * 0.9)))


def test_save_writes_a_file_and_asks_before_replacing_it(monkeypatch, tmp_path, sample):
    monkeypatch.setenv(library.FOLDER_VARIABLE, str(tmp_path))
    at = start()
    at.slider(key=Key.BUDGET_PCT).set_value(-10)
    at.text_input(key=Key.SAVE_NAME).set_value("Cut 10 %, my way")
    at.text_input(key=Key.SAVE_DESCRIPTION).set_value("Ten percent less, nothing else.")
    rerun(at)
    at.button(key="save_scenario").click()
    rerun(at)
    saved = tmp_path / "cut-10-my-way.toml"
    assert [s.value for s in at.success] == ["Saved " + f"{tmp_path.name}/cut-10-my-way.toml."]
    scenario = bo.io.read_scenario(saved)
    assert (scenario.name, scenario.description) == ("Cut 10 %, my way", "Ten percent less, nothing else.")
    assert scenario.budget == bo.Budget(total=round(TODAY * 0.9))
    assert scenario.data is None  # a temporary folder is outside the project: no data path it could not read
    assert at.selectbox(key=Key.LOAD_FILE).options == ["Cut 10 %, my way (cut-10-my-way.toml)"]  # listed at once

    before = saved.read_bytes()
    at.slider(key=Key.BUDGET_PCT).set_value(-20)
    rerun(at)
    assert any("already exists" in w.value for w in at.warning)
    at.button(key="save_scenario").click()
    rerun(at)
    assert "Not saved" in errors(at) and "already exists" in errors(at)
    assert saved.read_bytes() == before  # unchanged until confirmed

    replace = next(c for c in at.checkbox if c.label == "Replace it")
    replace.check()
    rerun(at)
    at.button(key="save_scenario").click()
    rerun(at)
    assert bo.io.read_scenario(saved).budget == bo.Budget(total=round(TODAY * 0.8))
    assert not next(c for c in at.checkbox if c.label == "Replace it").value  # the next replacement asks again
    assert [p.name for p in tmp_path.iterdir()] == ["cut-10-my-way.toml"]


def test_a_typed_name_becomes_a_file_inside_the_folder_only(monkeypatch, tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    monkeypatch.setenv(library.FOLDER_VARIABLE, str(folder))
    at = start()
    at.text_input(key=Key.SAVE_NAME).set_value("../../etc/passwd")
    rerun(at)
    at.button(key="save_scenario").click()
    rerun(at)
    assert [p.name for p in folder.iterdir()] == ["etc-passwd.toml"]
    assert [p.name for p in tmp_path.iterdir()] == ["scenarios"]
    at.text_input(key=Key.SAVE_NAME).set_value("%%%")
    rerun(at)
    assert "at least one letter or digit" in errors(at)
    assert at.button(key="save_scenario").disabled


def test_scenario_download_reads_back_as_the_same_scenario(downloads):
    load(start(), "cut-10-protect-service.toml")
    text = downloads["Download the scenario (TOML)"][0].decode()
    assert downloads["Download the scenario (TOML)"][1] == "cut-10-protect-service.toml"
    assert bo.io.parse_scenario(text) == bo.io.read_scenario(SCENARIOS / "cut-10-protect-service.toml")
    assert downloads["Download as TOML"][0].decode() == text


def test_excel_download_opens_with_openpyxl(downloads):
    from openpyxl import load_workbook

    at = start()
    at.button(key=Key.PRICES_BUTTON).click()
    rerun(at)
    data, name = downloads["Download the plan (Excel)"]
    assert name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert {"Summary", "Plan", "Rules", "Inputs"} <= set(book.sheetnames)
    plan_rows = list(book["Plan"].iter_rows(values_only=True))
    assert sum(1 for r in plan_rows[1:] if r[0] and r[0] != "Total") == 51
    rules = list(book["Rules"].iter_rows(values_only=True))
    assert "Whole price" in rules[0]  # the prices worked out on the page go with it
    csv = pd.read_csv(io.BytesIO(downloads["Download the plan (CSV)"][0]))
    assert len(csv) == 51


def test_the_one_page_report_downloads(downloads):
    load(start(), "cut-10-protect-service.toml")
    html, name = downloads["One-page report (HTML)"]
    assert name == "report-cut-10-protect-service.html"
    assert b"<h1>Cut 10 %, protect service</h1>" in html and b"Data: sample_touchpoints.csv." in html
    pdf, name = downloads["One-page report (PDF)"]
    assert name.endswith(".pdf") and pdf.startswith(b"%PDF-")


def test_compare_scenarios_side_by_side(sample):
    at = start()
    files = [str(SCENARIOS / f) for f in ("cut-10-protect-service.toml", "same-engagement-for-less.toml")]
    at.multiselect(key=Key.COMPARE).set_value([CURRENT, *files])
    rerun(at)
    table = next(t.value for t in at.table if "figure" in t.value.columns)
    scenarios = [bo.Scenario()] + [bo.io.read_scenario(f) for f in files]
    names = [CURRENT] + [s.name for s in scenarios[1:]]
    assert list(table.columns) == ["figure", "today", *names]
    rows = table.set_index("figure")
    for name, scenario in zip(names, scenarios, strict=True):
        s = bo.optimize(sample, scenario).summary()
        assert rows.loc["engaged customers", name] == fmt.count(s["proposed_engaged"])
        assert rows.loc["budget (spent in the plan)", name] == fmt.money(s["proposed_spend"])
        assert rows.loc["average CPE", name] == fmt.cpe(s["proposed_cpe"])
    bars = chart_data(at, "scenario")
    assert set(bars["figure"]) == {"budget"} and bars["scenario"].tolist() == ["today", *names]
    assert set(chart_data(at, "value").columns) == {"scenario", "figure", "value"}
    assert not at.error


def test_frontier_on_demand_marks_today_and_the_plan(sample):
    at = start()
    with pytest.raises(AssertionError):  # nothing drawn before it is asked for
        chart_data(at, "point")
    at.button(key=Key.FRONTIER_BUTTON).click()
    rerun(at)
    frame = chart_data(at, "point")
    assert (frame["point"] == report.FRONTIER).sum() == 21
    today, plan = frame[frame["point"] == "today"], frame[frame["point"] == "the plan"]
    assert len(today) == 1 and len(plan) == 1
    assert today["budget"].iloc[0] == TODAY and plan["budget"].iloc[0] == pytest.approx(TODAY)
    weighted = float((sample["engaged"] * sample["value"]).sum())
    assert today["engagement"].iloc[0] == pytest.approx(weighted)
    assert plan["engagement"].iloc[0] > today["engagement"].iloc[0]
    assert any("the plan refines its own around its spend" in c.value for c in at.caption)
    assert {d.label for d in at.download_button} >= {"Download the frontier (CSV)"}
    at.toggle(key=Key.PROTECT).set_value(True)  # another scenario: the button again, not a stale chart
    rerun(at)
    with pytest.raises(AssertionError):
        chart_data(at, "point")


def test_rule_prices_on_demand_in_the_plan_and_rules_tabs(sample):
    at = add_rule(start(), "channel: tv", "Change against today at least (%)", 0)
    at.button(key=Key.PRICES_BUTTON).click()
    rerun(at)
    scenario = bo.Scenario(name="From the app", rules=(bo.Rule(group="channel", member="tv", min_change=0.0),))
    prices = price_rules(sample, scenario)
    shown = next(t.value for t in at.table if "whole price" in t.value.columns and "kind" in t.value.columns)
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), report.prices_table(prices))
    assert shown["whole price"].iloc[0].endswith("weighted engagement")  # the sample weights customers
    rules = next(t.value for t in at.table if list(t.value.columns) == ["#", "rule", "whole price"])
    tv = prices[prices["kind"] == "scenario rule"]["whole_price"].iloc[0]
    assert tv > 0 and rules["whole price"].tolist() == [report.whole_price(tv, "weighted engagement")]


def test_silo_cost_when_siloed_and_on_demand(sample):
    at = start()
    assert "What the silos cost" not in infos(at)
    at.button(key=Key.SILOS_BUTTON).click()
    rerun(at)
    assert silo_cost(sample, bo.Scenario(name="From the app")).text() in infos(at)
    at.radio(key=Key.PLANNING).set_value(controls.SILOED)
    rerun(at)
    assert silo_cost(sample, bo.Scenario(name="From the app", siloed=True)).text() in infos(at)


UNUSUAL = (b"Touchpoint;Department;Channel;Cost;Leads;Chats\n"
           b"Search ads;marketing;search;12.000;900;300\n"
           b"Live chat;service;chat;8.000;;2.000\n"
           b"TV spot;marketing;tv;30.000;1.500;\n")


def test_column_mapping_on_unusual_headers():
    at = start()
    at.sidebar.file_uploader[0].upload("export.csv", UNUSUAL, "text/csv")
    rerun(at)
    assert at.multiselect(key=Key.MAP + "spend").value == ["Cost"]
    assert at.selectbox(key=Key.MAP + "function").value == "Department"
    assert at.multiselect(key=Key.MAP + "engaged").value == []  # Leads and Chats: the person says
    assert "missing" in " ".join(problems(at)["problem"]).lower()
    assert not cards(at)
    at.multiselect(key=Key.MAP + "engaged").set_value(["Leads"])  # half the mapping: nothing is planned yet
    rerun(at)
    assert not cards(at) and "missing" in " ".join(problems(at)["problem"]).lower()
    at.multiselect(key=Key.MAP + "engaged").set_value(["Leads", "Chats"])
    next(b for b in at.button if b.label == "Use these columns").click()
    rerun(at)
    assert not at.error
    touchpoints = bo.to_touchpoints(bo.read_table(UNUSUAL, name="export.csv"), {"engaged": ["Leads", "Chats"]})
    assert touchpoints["engaged"].tolist() == [1200, 2000, 1500]
    assert cards(at) == expected(touchpoints)
    assert at.session_state[Key.BUDGET_TOTAL] == 50_000.0


def test_an_excel_upload_with_a_totals_row_says_what_was_dropped():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Touchpoint", "Function", "Channel", "Spend", "Engaged"])
    sheet.append(["Search", "marketing", "search", 6000, 1000])
    sheet.append(["Chat", "service", "chat", 4000, 2000])
    sheet.append(["Total", None, None, 10000, 3000])
    buffer = io.BytesIO()
    book.save(buffer)
    at = start()
    at.sidebar.file_uploader[0].upload("book.xlsx", buffer.getvalue(),
                                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rerun(at)
    assert "dropped totals row 4" in infos(at)
    assert "book.xlsx: 2 touchpoints." in [c.value for c in at.sidebar.caption]
    assert cards(at) == expected(read_touchpoints_bytes(GOOD_CSV, "mine.csv"))


def test_a_scenario_loaded_onto_an_upload_plans_the_upload():
    at = start()
    at.sidebar.file_uploader[0].upload("mine.csv", GOOD_CSV, "text/csv")
    rerun(at)
    load(at, "same-engagement-for-less.toml")
    note = next(i.value for i in at.sidebar.info)
    assert "It was made for ../data/sample\\_touchpoints.csv; here it plans the data on this page." in note
    mine = read_touchpoints_bytes(GOOD_CSV, "mine.csv")
    assert cards(at) == expected(mine, **dict(bo.io.read_scenario(SCENARIOS / "same-engagement-for-less.toml")))


# ---- issue 16: never lose work -----------------------------------------------------------------------------------

def test_the_settings_live_in_the_address_and_a_link_brings_them_back(sample):
    at = start()
    assert dict(at.query_params) == {}  # a fresh page: nothing to say
    at.slider(key=Key.BUDGET_PCT).set_value(-10)
    at.radio(key=Key.PLANNING).set_value(controls.SILOED)
    rerun(at)
    add_rule(at, "function: service", "Change against today at least (%)", 0)
    query = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert set(query) == {"budget", "planning", "rules"} and query["budget"] == str(round(TODAY * 0.9))
    shown = cards(at)

    again = AppTest.from_file(APP, default_timeout=TIMEOUT)  # a reload, or the link opened elsewhere
    again.query_params.update(query)
    rerun(again)
    assert again.slider(key=Key.BUDGET_PCT).value == -10 and again.radio(key=Key.PLANNING).value == controls.SILOED
    assert again.session_state[Key.RULES] == [bo.Rule(group="function", member="service", min_change=0.0)]
    assert cards(again) == shown
    assert not again.sidebar.warning


def test_a_link_that_cannot_be_read_in_part_says_what_it_left_out(sample):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"goal": "min_spend", "keep": "95", "rules": "not-base64!", "file": "../../etc/passwd"})
    rerun(at)
    assert at.radio(key=Key.MODE).value is bo.Mode.MIN_SPEND and at.number_input(key=Key.KEEP_PCT).value == 95
    warning = " ".join(w.value for w in at.sidebar.warning)
    assert "The rules in the link were left out" in warning and "is not in scenarios/" in warning
    assert cards(at) == expected(sample, objective=bo.Objective(mode="min_spend", target_change=-0.05))


def test_a_link_made_with_an_upload_waits_for_the_file():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"data": "upload:mine.csv", "budget": "9000"})
    rerun(at)
    assert "made with the file **mine.csv**" in " ".join(w.value for w in at.sidebar.warning)
    assert at.session_state[Key.BUDGET_TOTAL] == TODAY  # the sample, until the file is there
    at.sidebar.file_uploader[0].upload("mine.csv", GOOD_CSV, "text/csv")
    rerun(at)
    assert at.session_state[Key.BUDGET_TOTAL] == 9000.0 and not at.sidebar.warning
    assert cards(at) == expected(read_touchpoints_bytes(GOOD_CSV, "mine.csv"), budget=bo.Budget(total=9000.0))


def test_step_back_through_the_last_settings(sample):
    at = start()
    at.slider(key=Key.BUDGET_PCT).set_value(-10)
    rerun(at)
    add_rule(at, "touchpoint: TV prime time", "Keep today's spend (lock)", None)
    assert at.button(key=Key.STEP_BACK).label == "Step back (2)"
    at.button(key=Key.STEP_BACK).click()
    rerun(at)
    assert at.session_state[Key.RULES] == [] and at.slider(key=Key.BUDGET_PCT).value == -10
    at.button(key=Key.STEP_BACK).click()
    rerun(at)
    assert at.slider(key=Key.BUDGET_PCT).value == 0 and cards(at) == expected(sample)
    assert at.button(key=Key.STEP_BACK).disabled


def test_loading_over_unsaved_changes_asks_first_and_can_be_undone(sample):
    at = start()
    add_rule(at, "touchpoint: TV prime time", "Keep today's spend (lock)", None)
    mine = expected(sample, rules=(bo.Rule(touchpoint="TV prime time", lock=True),))
    at.selectbox(key=Key.LOAD_FILE).set_value(str(SCENARIOS / "tv-dearer.toml"))
    rerun(at)
    at.button(key="load_scenario_file").click()
    rerun(at)
    assert "Your changes (1 rule added) are not saved" in " ".join(w.value for w in at.sidebar.warning)
    assert cards(at) == mine and Key.LOADED not in at.session_state  # nothing loaded yet
    at.button(key="keep_my_changes").click()
    rerun(at)
    assert not at.sidebar.warning and cards(at) == mine
    at.button(key="load_scenario_file").click()
    rerun(at)
    at.button(key="load_anyway").click()
    rerun(at)
    assert cards(at) == expected(sample, **dict(bo.io.read_scenario(SCENARIOS / "tv-dearer.toml")))
    assert at.text_input(key=Key.SAVE_NAME).value == "TV 20 % dearer"
    at.button(key="undo_load").click()
    rerun(at)
    assert cards(at) == mine and Key.LOADED not in at.session_state
    assert at.text_input(key=Key.SAVE_NAME).value == ""  # the name typed before, not the file's


# ---- issue 16: the upload flow -------------------------------------------------------------------------------------

def test_a_missing_column_is_on_the_header_row_with_balanced_quotes():
    at = start()
    at.sidebar.file_uploader[0].upload("export.csv", b"Notes from finance\n\n" + UNUSUAL, "text/csv")
    rerun(at)
    found = problems(at)
    missing = found[found["problem"] == "required column is missing"]
    assert missing[["row", "column"]].values.tolist() == [[3, "engaged or cpe"]]  # the header is on row 3
    assert missing["fix"].iloc[0] == "add a column named 'engaged' or 'cpe'"
    assert all(text.count("'") % 2 == 0 for text in found.astype(str).to_numpy().ravel())


def test_two_candidate_columns_keep_the_panel_open_until_confirmed():
    data = b"Touchpoint,Function,Channel,Cost,Amount,Engaged\nA,f,c,100,90,10\nB,g,c,200,210,40\n"
    at = start()
    at.sidebar.file_uploader[0].upload("two.csv", data, "text/csv")
    rerun(at)
    assert not cards(at) and at.expander[0].proto.expanded
    at.multiselect(key=Key.MAP + "spend").set_value(["Cost"])
    next(b for b in at.button if b.label == "Use these columns").click()
    rerun(at)
    assert cards(at) == expected(bo.to_touchpoints(bo.read_table(data, name="two.csv"), {"spend": ["Cost"]}))


FOLDED = GOOD_CSV.replace(b"engaged\n", b"engaged,leads\n").replace(b"1000\n", b"1000,500\n").replace(
    b"2000\n", b"2000,100\n")


def test_columns_that_check_out_fold_to_one_line_and_open_to_change():
    """A file whose columns are all recognised is planned at once, its column choices folded to one line (the
    form's widgets not drawn, issue 13: thirty-odd widgets redrawn on every budget typed); the choices live on
    while folded, 'Change the columns' opens the form with them, and a new choice is planned once confirmed."""
    data = FOLDED
    at = start()
    at.sidebar.file_uploader[0].upload("folded.csv", data, "text/csv")
    rerun(at)
    chosen = next(e for e in at.expander if "which is which" in e.label)
    assert not chosen.proto.expanded
    assert "**spend**: spend · **engaged**: engaged" in " ".join(m.value for m in chosen.markdown)
    mapping_widgets = lambda: [w for w in [*at.multiselect, *at.selectbox] if (w.key or "").startswith(Key.MAP)]  # noqa: E731
    assert not mapping_widgets() and not [b for b in at.button if b.label == "Use these columns"]
    assert cards(at) == expected(read_touchpoints_bytes(data, "folded.csv"))
    at.slider(key=Key.BUDGET_PCT).set_value(-10)
    rerun(at)
    rerun(at)  # two runs without the widgets: the choices are still there
    assert cards(at) == expected(read_touchpoints_bytes(data, "folded.csv"), budget=bo.Budget(change=-0.1))
    next(b for b in at.button if b.label == "Change the columns").click()
    rerun(at)
    assert at.multiselect(key=Key.MAP + "engaged").value == ["engaged"]
    assert at.selectbox(key=Key.MAP + "function").value == "function"
    assert cards(at)  # the plan stays while the columns are being changed
    at.multiselect(key=Key.MAP + "engaged").set_value(["engaged", "leads"])
    next(b for b in at.button if b.label == "Use these columns").click()
    rerun(at)
    assert not mapping_widgets()
    both = bo.to_touchpoints(bo.read_table(data, name="folded.csv"), {"engaged": ["engaged", "leads"]})
    assert both["engaged"].tolist() == [1500, 2100]
    assert cards(at) == expected(both)  # a new mapping is new data: today's budget again
    at.slider(key=Key.BUDGET_PCT).set_value(5)
    rerun(at)
    rerun(at)  # the choice made in the widgets lives on while they are folded away
    assert not mapping_widgets()
    assert cards(at) == expected(both, budget=bo.Budget(change=0.05))


def test_a_file_uploaded_again_is_read_by_its_own_headers_whatever_came_between():
    """Leaving an upload (for the sample, a history or a file that cannot be read) forgets its column choices: the
    same file uploaded again, or one with other headers, is pre-filled from its own headers and planned at once."""
    other = (b"Touchpoint,Department,Medium,Cost,Engaged\n"
             b"Search,marketing,search,6000,1000\nChat,service,chat,4000,2000\n")
    at = start()
    upload = at.sidebar.file_uploader[0]
    upload.upload("folded.csv", FOLDED, "text/csv")
    rerun(at)
    next(b for b in at.button if b.label == "Change the columns").click()
    rerun(at)
    at.multiselect(key=Key.MAP + "engaged").set_value(["engaged", "leads"])
    next(b for b in at.button if b.label == "Use these columns").click()
    rerun(at)
    for between in ("sample", "history", "unreadable", "other"):
        if between == "sample":
            at.sidebar.file_uploader[0].clear()
        elif between == "history":
            at.sidebar.file_uploader[0].upload("weekly.csv", _weekly_history(), "text/csv")
        elif between == "unreadable":
            at.sidebar.file_uploader[0].upload("broken.csv", b"\x00\x01\x02", "text/csv")
        else:
            at.sidebar.file_uploader[0].upload("other.csv", other, "text/csv")
        rerun(at)
        at.sidebar.file_uploader[0].upload("folded.csv", FOLDED, "text/csv")
        rerun(at)
        assert not at.error, between
        assert cards(at) == expected(read_touchpoints_bytes(FOLDED, "folded.csv")), between
    at.sidebar.file_uploader[0].upload("other.csv", other, "text/csv")
    rerun(at)
    at.sidebar.file_uploader[0].clear()
    rerun(at)
    at.sidebar.file_uploader[0].upload("other.csv", other, "text/csv")
    rerun(at)
    assert not at.error and cards(at) == expected(read_touchpoints_bytes(other, "other.csv"))


def test_a_plan_workbook_loads_back_as_the_next_periods_today(sample, downloads):
    start()
    workbook, _ = downloads["Download the plan (Excel)"]
    at = start()
    at.sidebar.file_uploader[0].upload("plan-untitled.xlsx", workbook,
                                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rerun(at)
    assert "read sheet 'Plan' of a plan budgetopt exported" in infos(at)
    plan = bo.optimize(sample)
    again = read_touchpoints_bytes(workbook, "plan-untitled.xlsx")
    assert again["spend"].to_numpy() == pytest.approx(plan.table["proposed_spend"].to_numpy(), abs=0.01)
    assert cards(at) == expected(again) and "Engaged customers" in cards(at)


# ---- curves from evidence in the page (issue 11) ---------------------------------------------------------------

def _weekly_history() -> bytes:
    """12 touchpoints x 52 weeks from known curves, as an analyst's weekly export."""
    from budgetopt.curves import synthetic_history

    h = synthetic_history(12, 52, families=("power", "saturating", "hill"), noise=0.05, spread=0.5, seed=4)
    weeks = pd.date_range("2024-01-01", periods=52, freq="W-MON").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"week": np.tile(weeks, 12), "touchpoint": np.repeat([f"T{i}" for i in range(12)], 52),
                          "function": np.repeat([f"f{i % 3}" for i in range(12)], 52), "channel": "c",
                          "spend": h.spend.ravel().round(2), "engaged": h.engaged.ravel().round(2)})
    return frame.to_csv(index=False).encode()


def test_a_history_upload_is_fitted_and_its_curves_are_shown():
    at = start()
    at.sidebar.file_uploader[0].upload("weekly.csv", _weekly_history(), "text/csv")
    rerun(at)
    assert not at.exception and not errors(at)
    table = next(d.value for d in at.dataframe if "rests on" in d.value.columns)
    assert len(table) == 12 and set(table["rests on"]) == {"fitted"}
    assert table["fit"].iloc[0] in ("not identified", "weak", "good")  # weakest first
    shown = at.selectbox(key=Key.CURVE_SHOWN)
    assert shown.value == table["touchpoint"].iloc[0]
    frame = chart_data(at, "layer")
    assert {"band", "curve", "points", "marks"} <= set(frame["layer"])  # evidence, curve, band, today and plan
    assert any("per week" in str(c.proto.spec) for c in at.get("vega_lite_chart"))
    assert "This plan rests on evidence" in at.main.caption[1].value.replace("\\", "")


def test_a_model_s_curves_upload_plans_those_touchpoints_on_them():
    curves = Path(__file__).parent / "files" / "curves" / "meridian_long.csv"
    at = start()
    at.sidebar.file_uploader[1].upload("curves.csv", curves.read_bytes(), "text/csv")
    rerun(at)
    at.selectbox(key=Key.CURVES_MAP + "touchpoint").set_value("channel")
    at.selectbox(key=Key.CURVES_MAP + "engaged").set_value("incremental_outcome")
    rerun(at)
    assert not at.exception
    # the curves name Channel0-3, the sample names none of them: said in place, with what to do
    assert "curves.csv** cannot be used yet" in errors(at)
    problems = pd.concat([t.value for t in at.table], ignore_index=True)
    assert problems["problem"].str.contains("no curve names a touchpoint of the table").any()
