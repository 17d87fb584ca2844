"""The front end's arithmetic, without a browser: formatting, widget values -> scenario, cards and chart frames."""

from __future__ import annotations

import base64
import math

import pandas as pd
import pytest
from conftest import SAMPLE, table

import budgetopt as bo
from budgetopt import schema as S
from budgetopt.errors import InputError, ScenarioError
from budgetopt.io import plan_csv, read_touchpoints_bytes, table_csv, write_plan
from budgetopt.scenario import Mode
from budgetopt.ui import columns, controls, library, report
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
    from budgetopt.rule_words import plain_rules

    b = plain_rules(bo.optimize(two), two)
    assert b[["words", "price_text"]].values.tolist() == [[
        "The plan spends exactly the budget of 200", "each extra 1,000 of budget would add 500.0 engaged customers"]]


def test_rollup_today(two):
    r = report.rollup(two, "function")
    assert r.to_dict("list") == {"function": ["f1", "f2"], "touchpoints": [1, 1], "spend": [100.0, 100.0],
                                 "share": [0.5, 0.5], "engaged": [10.0, 50.0], "cpe": [10.0, 2.0]}
    assert report.today_line(two) == ("Today (the data as given): 200 spent on 2 touchpoints of 2 functions, "
                                      "60 engaged customers, average CPE 3.33.")


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


# ---- round 2: scenario files, widgets from a file, column mapping, frontier, prices, comparison ----------------

SCENARIOS = SAMPLE.parents[1] / "scenarios"


@pytest.mark.parametrize(("name", "file"), [
    ("Cut 10 %, protect service", "cut-10-protect-service.toml"),
    ("../../etc/passwd", "etc-passwd.toml"),
    ("C:\\Windows\\system32", "c-windows-system32.toml"),
    ("Été à Zürich", "ete-a-zurich.toml"),
    ("  --Baseline--  ", "baseline.toml"),
    ("con", "con-scenario.toml"),
    ("x" * 200, "x" * library.MAX_STEM + ".toml"),
])
def test_a_typed_name_becomes_a_safe_file_name(name, file, tmp_path):
    assert library.file_name(name) == file
    assert library.path_for(tmp_path, name) == tmp_path / file


@pytest.mark.parametrize("name", ["", "   ", "%%%", "../..", "日本語"])
def test_a_name_without_letters_or_digits_is_refused(name):
    with pytest.raises(ScenarioError, match="at least one letter or digit"):
        library.file_name(name)
    assert library.download_name(name) == "scenario.toml"


def test_scenarios_folder_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(library.FOLDER_VARIABLE, raising=False)
    assert library.folder(SCENARIOS) == SCENARIOS
    monkeypatch.setenv(library.FOLDER_VARIABLE, str(tmp_path))
    assert library.folder(SCENARIOS) == tmp_path


def test_list_files_reads_every_scenario_and_says_which_cannot_be_read(tmp_path):
    (tmp_path / "good.toml").write_text('name = "Good"\n[budget]\nchange = -0.1\n')
    (tmp_path / "bad.toml").write_text('name = "Bad"\nbudget = "lots"\n')
    (tmp_path / "notes.txt").write_text("not a scenario")
    files = library.list_files(tmp_path)
    assert [f.path.name for f in files] == ["bad.toml", "good.toml"]
    assert files[0].scenario is None and "budget" in files[0].error and files[0].label == "bad.toml (cannot be read)"
    assert files[1].scenario.budget.change == -0.1 and files[1].label == "Good (good.toml)"
    assert library.list_files(tmp_path / "missing") == []
    shipped = library.list_files(SCENARIOS)
    assert len(shipped) >= 8 and all(f.scenario is not None for f in shipped)


def test_save_never_replaces_a_file_unless_told(tmp_path):
    path = tmp_path / "plan-a.toml"
    first = bo.Scenario(name="Plan A", budget=bo.Budget(change=-0.1))
    library.save(first, path, replace=False)
    with pytest.raises(ScenarioError, match="already exists"):
        library.save(bo.Scenario(name="Plan A", budget=bo.Budget(change=-0.2)), path, replace=False)
    assert bo.io.read_scenario(path) == first
    library.save(bo.Scenario(name="Plan A", budget=bo.Budget(change=-0.2)), path, replace=True)
    assert bo.io.read_scenario(path).budget.change == -0.2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan-a.toml"]  # no temporary file left behind


def test_for_saving_keeps_a_data_path_only_when_a_scenario_there_may_read_it(tmp_path):
    scenario = bo.Scenario(rules=(bo.Rule(touchpoint="TV prime time", lock=True),))
    inside = library.for_saving(scenario, " Mine ", " Why. ", SAMPLE, SCENARIOS)
    assert (inside.name, inside.description, inside.data) == ("Mine", "Why.", "../data/sample_touchpoints.csv")
    assert bo.io.scenario_data_path(inside, SCENARIOS / "mine.toml") == SAMPLE.resolve()
    assert library.for_saving(scenario, "Mine", "", SAMPLE, tmp_path).data is None  # outside the project
    assert library.for_saving(scenario, "Mine", "", None, SCENARIOS).data is None  # an upload: no file to name
    assert library.for_saving(scenario, "", "", None, SCENARIOS).name == scenario.name
    text = library.toml_bytes(inside).decode()
    assert bo.io.parse_scenario(text) == inside


def test_overrides_and_added_touchpoints_in_words():
    tv = bo.io.read_scenario(SCENARIOS / "tv-dearer.toml")
    assert library.without_widgets(tv) == ["channel 'tv': each engaged customer costs 1.2x as much"]
    team = bo.io.read_scenario(SCENARIOS / "listening-team.toml")
    assert library.without_widgets(team) == [
        "new touchpoint 'Social listening team' (service, social listening): costs 1.80 per engaged customer, "
        "up to 300,000; today's spend 0"]
    assert library.without_widgets(bo.Scenario(settings=bo.Settings(segments=24))) == ["solver settings: segments = 24"]
    assert library.without_widgets(bo.Scenario()) == []


@pytest.mark.parametrize("file", sorted(p.name for p in SCENARIOS.glob("*.toml")))
def test_widgets_from_a_file_give_the_file_back(sample, file):
    """Loading a file sets widgets; the scenario those widgets describe, completed by the file, is the file's."""
    scenario = bo.io.read_scenario(SCENARIOS / file)
    today = report.today_figures(sample)
    w = controls.widgets_for(scenario, today["spend"], today["value"], today["cpe"])
    keep = w.keep_pct if w.mode is Mode.MIN_SPEND else None
    target = w.target_cpe if w.mode is Mode.TARGET_CPE else None
    built = controls.build_scenario(budget=controls.budget_from(today["spend"], w.budget_total, w.at_most),
                                    objective=controls.objective_from(w.mode, keep, target),
                                    siloed=w.planning == controls.SILOED, protect_stages=w.protect_stages,
                                    rules=w.rules, periods=scenario.periods)  # the page plans over the file's periods
    merged = controls.with_loaded(built, scenario, today["spend"], today["value"])
    assert merged == scenario.model_copy(update={"data": None})


def test_widgets_for_targets_and_a_changed_widget():
    keep = bo.Scenario(objective=bo.Objective(mode="min_spend", target=900.0))
    w = controls.widgets_for(keep, 1000.0, 1200.0, 2.5)
    assert (w.mode, w.keep_pct, w.target_cpe, w.budget_total, w.budget_pct) == (Mode.MIN_SPEND, 75.0, 2.5, 1000.0, 0)
    cpe = bo.Scenario(objective=bo.Objective(mode="target_cpe", target=1.75), budget=bo.Budget(change=-0.8))
    w = controls.widgets_for(cpe, 1000.0, 1200.0, 2.5)
    assert (w.target_cpe, w.budget_total, w.budget_pct) == (1.75, pytest.approx(200.0), -50)  # slider clamps
    loaded = bo.Scenario(name="Cut", budget=bo.Budget(change=-0.1), rules=(bo.Rule(touchpoint="A", lock=True),))
    same = controls.build_scenario(budget=bo.Budget(total=900.0), objective=bo.Objective(), siloed=False,
                                   protect_stages=False, rules=loaded.rules)
    assert controls.with_loaded(same, loaded, 1000.0, 1.0) == loaded
    moved = same.model_copy(update={"budget": bo.Budget(total=800.0)})
    changed = controls.with_loaded(moved, loaded, 1000.0, 1.0)
    assert (changed.name, changed.budget) == ("Cut (changed)", bo.Budget(total=800.0))


def test_column_choices_from_unusual_headers():
    headers = ["Touchpoint", "Department", "Channel", "Cost", "Leads", "Chats", "Phase"]
    first = columns.initial_choices(headers)
    assert first["spend"] == ["Cost"] and first["function"] == ["Department"] and first["stage"] == ["Phase"]
    assert first["engaged"] == [] and set(first) == {c.name for c in S.COLUMNS}
    assert columns.ambiguous(["Cost", "Amount"]) == {"spend": ["Cost", "Amount"]}
    assert columns.initial_choices(["Cost", "Amount"])["spend"] == []
    chosen = columns.choose(headers, {**first, "engaged": ["Leads", "Chats"], "stage": []})
    assert chosen.mapping["engaged"] == ["Leads", "Chats"] and "stage" not in chosen.mapping
    assert chosen.left_out == ("Phase",)  # suggested for a column the person left empty: left out, not guessed
    raw = bo.read_table(b"Touchpoint,Department,Channel,Cost,Leads,Chats,Phase\nA,f,c,10,1,2,someday\n", name="x.csv")
    narrow = columns.narrowed(raw, chosen.left_out)
    assert narrow.headers == headers[:-1] and narrow.notices[-1].startswith("column 'Phase' was not used")
    clean = bo.to_touchpoints(narrow, chosen.mapping)
    assert clean["engaged"].tolist() == [3] and "Phase" not in clean.columns
    with pytest.raises(InputError):  # without leaving it out, 'someday' would be read as a stage
        bo.to_touchpoints(raw, chosen.mapping)


def test_frontier_frame_and_words(sample):
    from budgetopt.frontier import budget_range, frontier

    curve = frontier(sample, bo.Scenario(), budget_range(sample, 0.8, 1.2, 5))
    frame = report.frontier_frame(curve)
    assert frame["point"].tolist().count(report.FRONTIER) == 5
    assert frame["point"].tolist().count("today") == 1 and frame["point"].tolist().count("the plan") == 1
    assert list(frame.columns) == ["budget", "engagement", "engaged customers", "point", "marginal CPE"]
    words = report.frontier_words(curve)
    assert words.startswith("With today's budget of 14,045,000, the best plan")
    plan = bo.optimize(sample).summary()  # the caption names the card's figure, in the card's words
    assert f"{fmt.count(plan['proposed_engaged'])} engaged customers" in words and "weighted engagement" in words
    high = frontier(sample, bo.Scenario(), budget_range(sample, 1.1, 1.5, 3))
    assert report.frontier_words(high) == "Today's budget (14,045,000) is outside the range drawn."


def test_whole_prices_in_words():
    prices = pd.DataFrame({"rule": ["rule 1: a", "rule 2: b", "siloed planning", "x (data)"],
                           "kind": ["scenario rule", "scenario rule", "siloed", "data limit"],
                           "binding": [True, False, True, True], "whole_price": [1234.4, 0.0, 99.0, float("nan")],
                           "unit": "engaged customers", "price_text": ""})
    table = report.prices_table(prices)
    assert table.values.tolist() == [["x (data)", "data limit", "could not be priced: without it, no plan"],
                                     ["rule 1: a", "scenario rule", "1,234 engaged customers"],
                                     ["siloed planning", "siloed", "99 engaged customers"]]
    assert report.scenario_rule_prices(prices, 3) == ["1,234 engaged customers", "nothing", "nothing"]
    assert report.whole_price(52_000.4, "money") == "52,000 of money"


def test_compare_table_for_people(sample):
    from budgetopt.compare import compare

    plans = [bo.optimize(sample), bo.optimize(sample, bo.Scenario(budget=bo.Budget(change=-0.1))),
             bo.optimize(sample, bo.Scenario(rules=(bo.Rule(group="function", member="service",
                                                           min_spend=14_000_000),)))]
    table = compare(plans, ["now", "cut", "impossible"])
    shown = report.compare_table(table).set_index("figure")
    assert list(shown.columns) == ["today", "now", "cut", "impossible"]  # one baseline, shown first
    assert shown.loc["budget (spent in the plan)"].tolist() == ["14,045,000", "14,045,000", "12,640,500", ""]
    assert shown.loc["engaged customers against today", "now"] == fmt.percent(
        plans[0].summary()["engaged_change_pct"], signed=True)
    assert shown.loc["status", "impossible"] == "infeasible" and shown.loc["why no plan", "impossible"]
    assert shown.loc["spend: service", "cut"] == fmt.money(plans[1].by("function").set_index("function")
                                                           .loc["service", "proposed_spend"])
    bars = report.compare_bars(table)
    assert bars[["scenario", "figure"]].values.tolist() == [
        ["today", "budget"], ["now", "budget"], ["cut", "budget"],
        ["today", "engaged customers"], ["now", "engaged customers"], ["cut", "engaged customers"]]


def test_silo_cost_reuses_the_plans_it_is_given(sample):
    from budgetopt.silos import silo_cost

    scenario = bo.Scenario(budget=bo.Budget(change=-0.1))
    plans = [bo.optimize(sample, scenario.model_copy(update={"siloed": s})) for s in (False, True)]
    given = silo_cost(sample, scenario, *plans)
    assert given.horizontal is plans[0] and given.vertical is plans[1]
    assert given.text() == silo_cost(sample, scenario).text()


def test_a_scenario_made_for_other_data_says_so(tmp_path):
    cut = bo.io.read_scenario(SCENARIOS / "cut-10-protect-service.toml")
    assert not library.other_data(cut, SCENARIOS / "cut-10-protect-service.toml", SAMPLE)
    assert library.other_data(cut, SCENARIOS / "cut-10-protect-service.toml", None)  # an upload is on the page
    assert library.other_data(cut.model_copy(update={"data": "../data/other.csv"}), SCENARIOS / "x.toml", SAMPLE)
    assert library.other_data(cut.model_copy(update={"data": "../../../outside.csv"}), SCENARIOS / "x.toml", SAMPLE)
    assert not library.other_data(cut.model_copy(update={"data": None}), SCENARIOS / "x.toml", None)


# ---- issue 16: the Sankey and bars as SVG, many groups in one chart ----------------------------------------------

def test_sankey_svg_writes_every_amount_on_its_link(two):
    from budgetopt.ui import svg

    plan = bo.optimize(two, bo.Scenario(budget=bo.Budget(total=150)))
    links = report.sankey(plan.transfers)
    drawn = svg.sankey_svg(links)
    assert drawn.startswith("<svg") and drawn.endswith("</svg>")
    assert drawn.count("<path ") == 2  # one band per transfer: f1 -> f2 (50), f1 -> budget cut (50)
    assert drawn.count(">50<title>f1 (gives) -&gt; ") == 2  # the amount on each band, the exact words on hover
    assert "f1 (gives)  100</text>" in drawn and "50  budget cut</text>" in drawn
    assert svg.sankey_svg(report.sankey(bo.optimize(two, bo.Scenario(siloed=True)).transfers)) == ""


def test_svg_escapes_names_from_the_data():
    from budgetopt.ui import svg

    links = report.Sankey(["<script>x</script> (gives)", "a&b (gets)"], [0], [1], [1_250_000.0], ["<b>"])
    drawn = svg.sankey_svg(links)
    assert "<script>" not in drawn and "&lt;script&gt;x&lt;/script&gt; (gives)" in drawn and "a&amp;b" in drawn
    assert ">1.25 M<title>&lt;b&gt;</title>" in drawn
    frame = pd.DataFrame({"function": ["<i>", "<i>"], "when": ["today", "plan"], "spend": [10.0, 30.0]})
    bars = svg.bars_svg(frame, "function")
    assert "<i>" not in bars and "&lt;i&gt;: today 10, plan 30" in bars


def test_a_chart_with_many_groups_shows_the_largest_movers_and_sums_the_rest():
    # five functions: a gives 40 to b, c gives 20 to d, e is unchanged (linear curves, CPE 1 or 10)
    tp = table(touchpoint=list("ABCDE"), function=list("abcde"), spend=[100.0] * 5,
               engaged=[10.0, 100.0, 10.0, 100.0, 50.0], curve=["linear"] * 5,
               max_spend=[None, 140.0, None, 120.0, None], min_spend=[60.0, None, 80.0, None, 100.0])
    plan = bo.optimize(tp)
    assert plan.by("function").set_index("function")["change"].round(6).to_dict() == {
        "a": -40.0, "b": 40.0, "c": -20.0, "d": 20.0, "e": 0.0}
    frame = report.before_after(plan, "function", top=3)
    assert frame[["function", "when", "spend"]].values.tolist() == [
        ["a", "today", 100.0], ["a", "plan", 60.0], ["b", "today", 100.0], ["b", "plan", 140.0],
        ["3 other functions", "today", 300.0], ["3 other functions", "plan", 300.0]]
    assert report.before_after(plan, "function", top=5)["function"].nunique() == 5  # few enough: all shown


# ---- issue 16: the page's settings as a link ---------------------------------------------------------------------

def test_a_fresh_page_has_an_empty_link_and_every_setting_survives_the_round_trip():
    from budgetopt.ui import link

    assert link.to_query(link.PageState()) == {}
    assert link.from_query({}) == (link.PageState(), [])
    state = link.PageState(data="upload:my file, v2.xlsx", mode=Mode.TARGET_CPE, budget=12_000_000.5, at_most=True,
                           target_cpe=4.25, siloed=True, protect_stages=True, scenario_file="tv-dearer.toml",
                           rules=(bo.Rule(group="function", member="service", min_change=0.0),
                                  bo.Rule(touchpoint="Ünïcode & 'quotes'", lock=True, name="keep it")))
    query = link.to_query(state)
    assert query["budget"] == "12000000.5" and query["goal"] == "target_cpe" and query["cpe"] == "4.25"
    assert link.from_query(query) == (state, [])
    assert link.from_query({k: [v] for k, v in query.items()})[0] == state  # lists, as some readers give them


def test_a_link_is_read_as_far_as_it_can_be():
    from budgetopt.ui import link

    state, problems = link.from_query({"goal": "everything", "budget": "-5", "keep": "1e9", "planning": "both",
                                       "data": "file:///etc/passwd", "unknown": "x", "protect": "1",
                                       "rules": "e30"})  # '{}': not a list
    assert state == link.PageState(protect_stages=True)
    assert len(problems) == 6 and "'goal=everything' is not a goal" in problems[1]
    assert problems[-1] == "The rules in the link were left out: the rules are not a list of rules"
    assert link.decode_rules(link.encode_rules(())) == ()
    no_limit = base64.urlsafe_b64encode(b'[{"touchpoint": "A"}]').decode()
    with pytest.raises(ValueError, match="a rule is not valid: a rule needs at least one limit"):
        link.decode_rules(no_limit)
    with pytest.raises(ValueError, match="longer than"):
        link.decode_rules("A" * (link.MAX_RULES_TEXT + 1))


def test_what_changed_in_words():
    from budgetopt.ui import link

    before = link.PageState(rules=(bo.Rule(touchpoint="A", lock=True),))
    after = before.model_copy(update={"budget": 10.0, "rules": (bo.Rule(touchpoint="B", lock=True),
                                                                bo.Rule(touchpoint="C", lock=True))})
    assert link.differences(before, after) == ["the budget", "2 rules added and 1 rule removed"]
    assert link.differences(before, before) == []


# ---- issue 16: the upload flow -------------------------------------------------------------------------------------

def test_problems_for_people_put_column_problems_on_the_header_row():
    problems = pd.DataFrame({"file": ["x.csv"] * 3, "row": [None, 7, None], "column": ["spend", "stage", None],
                             "value": ["", "someday", ""], "problem": ["missing", "unknown", "no rows"],
                             "fix": ["a", "b", "c"]})
    shown = report.problems_for_people(problems, header_row=4)
    assert shown["row"].tolist() == [4, 7, pd.NA] and str(shown["row"].dtype) == "Int64"
    assert report.problems_for_people(problems)["row"].tolist() == [pd.NA, 7, pd.NA]


def test_the_plan_sheets_headers_are_the_exports(two):
    from budgetopt.export import LABEL, SHEETS
    from budgetopt.ingest import PLAN_SHEET
    from budgetopt.touchpoints import PLAN_SHEET_HEADERS, _header

    assert PLAN_SHEET in SHEETS and {"Summary", "Inputs"} <= set(SHEETS)
    for header, column in PLAN_SHEET_HEADERS.items():
        assert _header(LABEL[column]) == header
    plan = bo.optimize(two)
    workbook = bo.plan_xlsx_bytes(plan, inputs=plan.inputs)
    table = bo.read_table(workbook, name="plan.xlsx")
    assert table.source == "plan.xlsx, sheet 'Plan'" and table.header_row == 1
    assert read_touchpoints_bytes(workbook, "plan.xlsx").equals(read_touchpoints_bytes(plan_csv(plan), "plan.csv"))


def test_today_cards_name_the_currency_the_plan_cards_use(sample):
    labels = [c.label for c in report.today_cards(sample, "EUR")]
    assert labels[0] == "Budget today EUR" and labels[2] == "Average CPE today EUR"
    assert [c.label for c in report.today_cards(sample)][0] == "Budget today"  # no currency stated: none shown


def test_a_table_is_digested_once_per_object_and_by_its_content(monkeypatch):
    """The page hashes its touchpoint table once per run (every cached call after the first reuses the digest);
    the digest follows the content: an equal copy has the same one, a changed copy another; a table gone is
    forgotten (the memory holds no table)."""
    import gc

    from budgetopt.ui import cached

    counted = []
    real = pd.util.hash_pandas_object
    monkeypatch.setattr(pd.util, "hash_pandas_object", lambda *a, **k: counted.append(1) or real(*a, **k))
    tp = read_touchpoints_bytes(SAMPLE.read_bytes(), SAMPLE.name)
    first = cached.digest(tp)
    assert [cached.digest(tp) for _ in range(5)] == [first] * 5 and len(counted) == 1
    copy = tp.copy()
    assert cached.digest(copy) == first and len(counted) == 2
    changed = tp.copy()
    changed.loc[0, S.SPEND] += 1
    assert cached.digest(changed) != first
    gc.collect()  # tables earlier tests left for the collector go first: only these two are counted
    remembered = len(cached._DIGESTS)
    del copy, changed
    gc.collect()
    assert len(cached._DIGESTS) == remembered - 2
    assert cached.digest(tp) == first and len(counted) == 3
