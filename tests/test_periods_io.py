"""Plans over time in files (issue 15 parts 4-5): the long and wide tables, the workbook's sheets, the JSON, the
loop that closes (an exported plan is the next plan's history), seasonality from a history, and the CLI."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, table
from openpyxl import load_workbook

import budgetopt as bo
from budgetopt.cli import main
from budgetopt.curves import fit_curves
from budgetopt.export import plan_bytes, replay_document
from budgetopt.horizon import Calendar
from budgetopt.io import export_plan, read_evidence, read_history, read_scenario, scenario_data_path
from budgetopt.period_export import history_table, long_table, wide_table
from budgetopt.scenario import Periods, Rule, Scenario
from budgetopt.seasonality import estimate, for_plan

HISTORY = ROOT / "data" / "sample_history.csv"
YEAR_PLAN = ROOT / "scenarios" / "year-plan.toml"


def quarter_plan(**periods):
    tp = table(function=["m", "s", "p"], spend=[1000, 600, 400], engaged=[100, 80, 20],
               curve=["power", "power", "linear"], elasticity=[0.5, 0.7, 1.0], carryover=[0.3, 0.0, 0.0])
    settings = dict(horizon="4q", start="2026-01-01", seasonality=(0.9, 1.0, 1.0, 1.2))
    settings.update(periods)
    return tp, bo.optimize(tp, Scenario(periods=Periods(**settings), currency="EUR"))


def test_long_and_wide_tables_add_up_to_the_plan():
    tp, plan = quarter_plan()
    long = long_table(plan)
    assert len(long) == 3 * 4
    assert long["period"].unique().tolist() == ["2026-01-01", "2026-04-01", "2026-07-01", "2026-10-01"]
    assert long["spend"].sum() == pytest.approx(2000, abs=1e-9)  # cents that add up to the budget
    assert (long["spend"] * 100).round(6).mod(1).eq(0).all()
    assert long["engaged"].to_numpy() == pytest.approx(plan.table["engaged_in_period"].round(2).to_numpy())
    wide = wide_table(plan)
    assert wide.columns.tolist() == ["touchpoint", "function", "channel", "stage", "2026-Q1", "2026-Q2", "2026-Q3",
                                     "2026-Q4", "total"]
    assert wide["total"].sum() == pytest.approx(2000, abs=0.011)
    assert wide.set_index("touchpoint").loc["A", "2026-Q4"] == pytest.approx(
        long.set_index(["touchpoint", "period"]).loc[("A", "2026-10-01"), "spend"])


def test_the_workbook_and_the_json_carry_the_periods():
    tp, plan = quarter_plan(min_share=0.2)
    book = load_workbook(io.BytesIO(plan_bytes(plan, "xlsx", inputs=plan.inputs)))
    assert {"By period", "Plan by period", "Spend by period", "Engaged by period"} <= set(book.sheetnames)
    periods = [row[0] for row in book["By period"].iter_rows(min_row=2, max_row=5, values_only=True)]
    assert periods == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    for sheet in book.worksheets:  # no formula cells anywhere
        assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    document = json.loads(plan_bytes(plan, "json", inputs=plan.inputs))
    assert document["periods"]["labels"] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert len(document["periods"]["by_period"]) == 4
    again = replay_document(document)  # the JSON records the table and the scenario: the same plan
    assert again.table["proposed_spend"].to_numpy() == pytest.approx(plan.table["proposed_spend"].to_numpy())


def test_a_plan_by_month_reads_back_as_the_next_plan_s_history(tmp_path):
    scenario = read_scenario(YEAR_PLAN)
    evidence = read_evidence(scenario_data_path(scenario, YEAR_PLAN))
    tp = for_plan(evidence, scenario)
    plan = bo.optimize(tp, scenario)
    written = export_plan(plan, tmp_path, "csv,xlsx")
    assert sorted(p.name for p in written) == ["plan.csv", "plan.xlsx", "plan_wide.csv"]
    history = read_history(tmp_path / "plan.csv")
    assert history.frequency == "monthly" and len(history.periods) == 12
    assert str(history.periods[0].date()) == "2026-01-01"
    spend, engaged = history.window_totals()
    assert spend.sum() == pytest.approx(plan.table["proposed_spend"].sum(), abs=0.01)
    assert engaged.sum() == pytest.approx(plan.table["engaged_in_period"].sum(), rel=1e-6)
    # and the next year is planned on it, starting after it
    nxt = for_plan(read_evidence(tmp_path / "plan.csv"), Scenario(periods=Periods(horizon="12m")))
    second = bo.optimize(nxt, Scenario(periods=Periods(horizon="12m")))
    assert second.ok and second.periods[0] == "2027-01"


def test_quarters_read_back_through_their_months(tmp_path):
    _, plan = quarter_plan()
    months = history_table(plan)
    assert len(months) == 3 * 12 and months["period"].iloc[:3].tolist() == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert months["spend"].sum() == pytest.approx(2000, abs=1e-6)
    written = export_plan(plan, tmp_path, "csv")
    assert sorted(p.name for p in written) == ["plan.csv", "plan_history.csv", "plan_wide.csv"]
    history = read_history(tmp_path / "plan_history.csv")
    assert history.frequency == "monthly" and len(history.periods) == 12


def test_seasonality_estimated_from_a_history_finds_the_season_and_shrinks_a_short_one():
    rng = np.random.default_rng(3)
    weeks = pd.date_range("2023-01-02", periods=156, freq="7D")
    month = (weeks + pd.Timedelta(days=3)).month.to_numpy() - 1
    spend = rng.lognormal(np.log(1000), 0.4, (2, 156))
    engaged = 2.0 * spend ** 0.7 * np.where(month >= 10, 1.5, 1.0)[None, :]  # November and December: 1.5x
    observed = np.ones_like(spend, bool)
    fits = fit_curves(spend, engaged, observed, families=("power",), carryover=False)
    index = estimate(spend, engaged, observed, weeks, "weekly", fits, "month", kappa=0.0)
    ratio = index[:, 10:].mean(axis=1) / index[:, :10].mean(axis=1)
    # no noise and no shrinkage: the season, but for what the fitted curve itself absorbed of it (its exponent is
    # fitted on every week, the seasonal ones too)
    assert ratio == pytest.approx([1.5, 1.5], rel=5e-3)
    assert index.mean(axis=1) == pytest.approx([1.0, 1.0])
    # half a year of history has never seen November and December: they stay at 1 (no evidence), and shrinkage pulls
    # what it has seen toward the pooled index
    short = estimate(spend[:, :26], engaged[:, :26], observed[:, :26], weeks[:26], "weekly", fits, "month")
    assert short[:, 10:] == pytest.approx(short[:, 10:11] * np.ones((2, 2)))
    assert np.ptp(short) < np.ptp(index)


def test_a_year_plan_rests_on_its_history_s_seasonality():
    scenario = read_scenario(YEAR_PLAN)
    evidence = read_evidence(scenario_data_path(scenario, YEAR_PLAN))
    tp = for_plan(evidence, scenario)
    assert "seasonality" in tp.columns and "seasonality estimated from the history" in tp.attrs["notices"][-1]
    index = np.array([[float(v) for v in text.split()] for text in tp["seasonality"]])
    names = tp["touchpoint"].tolist()
    tv, chat = index[names.index("TV prime time")], index[names.index("Live chat")]
    # the sample's TV engages most before Christmas and least in summer; live chat has no season
    assert tv[10:].mean() > 1.1 > 0.95 > tv[6:8].mean()
    assert np.ptp(chat) < np.ptp(tv)
    plan = bo.optimize(tp, scenario)
    assert plan.ok and plan.periods[0] == "2026-01"
    by = plan.by_period.set_index("period")
    assert by.loc["2026-10":"2026-12", "proposed_spend"].sum() > by.loc["2026-07":"2026-09", "proposed_spend"].sum()
    tv_q4 = plan.table[(plan.table["touchpoint"] == "TV prime time") & plan.table["period"].isin(
        ["2026-10", "2026-11", "2026-12"])]
    assert tv_q4["proposed_spend"].sum() >= 1_000_000 * (1 - 1e-9)  # "TV at least 1 M in Q4"
    shares = by["proposed_spend"] / by["proposed_spend"].sum()
    assert shares.between(0.05 - 1e-9, 0.12 + 1e-9).all()  # pacing


def test_cli_optimize_a_history_by_month_and_run_the_year_plan(tmp_path, capsys):
    out = tmp_path / "plan.xlsx"
    assert main(["optimize", str(HISTORY), "--periods", "12m", "--out", str(out)]) == 0
    text = capsys.readouterr()
    assert "Periods: 12 (2026-01 to 2026-12)" in text.out and "seasonality estimated from the history" in text.err
    assert "By period" in load_workbook(out).sheetnames
    assert main(["run", str(YEAR_PLAN), "--out", str(tmp_path / "out"), "--no-prices"]) == 0
    assert "Transfers between periods" in capsys.readouterr().out
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"plan.csv", "plan.xlsx", "plan.json", "plan_wide.csv"}
    assert main(["optimize", str(HISTORY), "--periods", "12x"]) == 2
    assert "--periods" in capsys.readouterr().err


def test_a_rule_on_periods_without_a_calendar_is_refused_in_words():
    tp = table(spend=[100, 100], engaged=[10, 5])
    plan_scenario = Scenario(periods=Periods(horizon="12m"), rules=(Rule(touchpoint="A", min_spend=1, periods="Dec"),))
    with pytest.raises(bo.ScenarioError, match="has none"):
        bo.optimize(tp, plan_scenario)
    assert Calendar.of("12m").labels[0] == "M1"


def test_the_periods_benchmark_runs_a_small_year():
    from budgetopt.bench_periods import measure, row_text, year_scenario, year_table

    row = measure(40, 12, repeat=1)
    assert row["status"] == "optimal" and row["columns"] == 480 and row["one_period_status"] == "optimal"
    assert "480" in row_text(row)
    tp = year_table(40, 13)
    plan = bo.optimize(tp, year_scenario(tp, 13))
    assert plan.ok and len(plan.periods) == 13
    shares = plan.by_period["proposed_spend"] / plan.by_period["proposed_spend"].sum()
    assert shares.between(0.06 * 12 / 13 - 1e-9, 0.11 * 12 / 13 + 1e-9).all()


def test_the_frontier_of_a_plan_over_periods_keeps_its_pacing_at_every_budget():
    from budgetopt.frontier import frontier

    tp, plan = quarter_plan(min_share=0.2, max_share=0.3)
    curve = frontier(tp, plan.scenario, [1500.0, 2000.0, 2500.0])
    points = curve[curve["marker"] == ""].set_index("budget")
    assert (points["status"] == "optimal").all()
    assert points.loc[2000.0, "weighted_engagement"] == pytest.approx(plan.objective, rel=1e-3)
    assert points["weighted_engagement"].is_monotonic_increasing


def test_rounded_periods_keep_the_pacing_step_and_add_up_in_every_export():
    """The year plan rounded to cents: each month at most 35 % above or below the one before in the rounded money
    (October 781,988.75, not .76 above 1.35 x September's 579,250.93); the months of the JSON and the By period
    sheet are the sums of plan.csv's and plan_wide.csv's cells; today's month is 517,188.33 or .34 and the 12
    add up to today's 6,206,260."""
    from budgetopt.period_export import by_period_table, money_cells

    scenario = read_scenario(YEAR_PLAN)
    plan = bo.optimize(for_plan(read_evidence(scenario_data_path(scenario, YEAR_PLAN)), scenario), scenario)
    wide = wide_table(plan)
    months = wide[plan.periods].sum().round(2).to_numpy()
    assert (months[1:] <= 1.35 * months[:-1] + 1e-9).all() and (months[1:] >= 0.65 * months[:-1] - 1e-9).all()
    assert months[9] == 781_988.75 and months[8] == 579_250.93
    long = long_table(plan)
    cells = long.groupby("period", sort=False)[["spend", "current_spend", "engaged"]].sum().round(2)
    document = json.loads(plan_bytes(plan, "json", inputs=plan.inputs))
    by = pd.DataFrame(document["periods"]["by_period"])
    assert by["proposed_spend"].tolist() == cells["spend"].tolist() == months.tolist()
    assert by["current_spend"].tolist() == cells["current_spend"].tolist()
    assert by["engaged_in_period"].tolist() == cells["engaged"].tolist()
    assert sorted(set(by["current_spend"])) == [517_188.33, 517_188.34]
    assert round(by["current_spend"].sum(), 2) == round(plan.table["current_spend"].sum(), 2) == 6_206_260
    book = load_workbook(io.BytesIO(plan_bytes(plan, "xlsx", inputs=plan.inputs)))
    sheet = [row for row in book["By period"].iter_rows(min_row=2, max_row=13, values_only=True)]
    assert [row[3] for row in sheet] == months.tolist() and [row[2] for row in sheet] == by["current_spend"].tolist()
    assert by_period_table(plan, money_cells(plan))["proposed_spend"].tolist() == months.tolist()


def test_a_weighted_rule_is_kept_by_the_rounding_where_a_step_can_move():
    """X_1 - 1.35 X_0 <= 0 binding: plain largest remainder rounds X_1 up past it; the repair moves the cent."""
    from budgetopt.export import round_keeping_rules
    from budgetopt.plan import MoneyRule

    values = np.array([100.004, 67.0094, 67.996, 10.0026])  # X_0 = cell 0, X_1 = cells 1 and 2: 1.35 x 100.004
    budget = MoneyRule(np.arange(4), "==", float(values.sum()))
    plain = round_keeping_rules(values, 0.01, [budget])
    assert plain.tolist() == [100.0, 67.01, 68.0, 10.0]  # X_1 = 135.01 > 1.35 x 100.00
    step = (np.array([1, 2, 0]), np.array([1.0, 1.0, -1.35]), "<=")
    kept = round_keeping_rules(values, 0.01, [budget], weighted=[step])
    assert round(kept.sum(), 2) == round(plain.sum(), 2) == 245.01
    assert kept[1] + kept[2] <= 1.35 * kept[0] + 1e-9 and round(kept[1] + kept[2], 2) == 135.0
    assert np.abs(kept - values).max() < 0.01
