"""How sure a plan over periods is (issues 14 and 15): the plan's columns (touchpoint, period) evaluated over draws
of each touchpoint's curve as the period LP evaluates them."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

import budgetopt as bo
from budgetopt.cli import main
from budgetopt.curves import Curves
from budgetopt.draws import FIT, STATED, Draws, draw_curves
from budgetopt.evidence import plan_range
from budgetopt.io import read_evidence, read_scenario
from budgetopt.risk import horizon_engaged, period_engaged, plan_risk
from budgetopt.scenario import Periods, Scenario
from budgetopt.seasonality import for_plan


def two_by_two() -> tuple[pd.DataFrame, Scenario]:
    """A (10 per engaged customer) and B (20), linear, 100 each today over two quarters; the second quarter engages
    three times the first (seasonality 0.5, 1.5). A quarter is half the data's period (L = 1/2); with no evidence a
    touchpoint grows to at most 3x today's spend, 150 a quarter. The plan: A in Q2 150 (22.5 customers), B in Q2
    50 (3.75); today A 10, B 5 customers."""
    tp = bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": ["A", "B"], "function": ["f", "g"], "channel": "c", "spend": [100.0, 100.0],
        "engaged": [10.0, 5.0], "curve": "linear"}))
    return tp, Scenario(periods=Periods(horizon="2q", seasonality=(0.5, 1.5)))


def by_hand(table: pd.DataFrame, factors: list[list[float]]) -> Draws:
    """Draws whose curves are the table's times a stated multiplier per draw and touchpoint, set by hand."""
    return Draws(table["touchpoint"].to_numpy(object), np.full(len(table), STATED, dtype=object),
                 Curves.from_table(table), np.asarray(factors, float), 0, 0.2)


def test_the_range_of_a_plan_over_two_periods_by_hand():
    tp, scenario = two_by_two()
    plan = bo.optimize(tp, scenario)
    assert plan.ok and plan.table["proposed_spend"].round(6).tolist() == [0.0, 150.0, 0.0, 50.0]
    assert plan.summary()["proposed_engaged"] == pytest.approx(26.25)
    draws = by_hand(tp, [[0.8, 1.2], [1.2, 0.8]])
    x = plan.table["proposed_spend"].to_numpy().reshape(2, 2)
    columns = period_engaged(draws, x, plan.line)  # K x N x T: sigma_t x / c_i times the draw's multiplier
    assert columns[:, :, 1] == pytest.approx(np.array([[18.0, 4.5], [27.0, 3.0]]))
    assert columns[:, :, 0] == pytest.approx(np.zeros((2, 2)))
    span = plan_risk(plan, draws)
    assert span.plan == pytest.approx([22.5, 30.0])  # 22.5 m_A + 3.75 m_B
    assert span.today == pytest.approx([14.0, 16.0])  # (2.5 + 7.5) m_A + (1.25 + 3.75) m_B
    figures = span.figures()
    assert figures["plan_mean"] == pytest.approx(26.25) and figures["today_mean"] == pytest.approx(15.0)
    assert figures["plan_low"] == pytest.approx(22.5 + 0.05 * 7.5)  # the 5 % quantile between the two draws
    assert figures["plan_high"] == pytest.approx(22.5 + 0.95 * 7.5)
    assert figures["plan_tail"] == pytest.approx(22.5) and span.beats_today == 1.0
    f = span.by_function.set_index("function")
    assert f.loc["f", "plan_mean"] == pytest.approx(22.5) and f.loc["g", "plan_mean"] == pytest.approx(3.75)
    assert f.loc["f", "today_mean"] == pytest.approx(10.0) and f.loc["g", "today_mean"] == pytest.approx(5.0)


def test_blocks_of_periods_add_up_to_the_whole_horizon(monkeypatch):
    tp, scenario = two_by_two()
    plan = bo.optimize(tp, scenario)
    draws = draw_curves(tp, scenario, 7, seed=3, uncertainty=0.3)
    x = plan.table["proposed_spend"].to_numpy().reshape(2, 2)
    whole = period_engaged(draws, x, plan.line).sum(axis=2)
    monkeypatch.setattr("budgetopt.risk.BLOCK", 1)  # one period at a time
    assert horizon_engaged(draws, x, plan.line) == pytest.approx(whole, rel=1e-12)


def test_draws_without_spread_collapse_to_the_plans_engagement():
    tp, scenario = two_by_two()
    plan = bo.optimize(tp, scenario)
    span = plan_risk(plan, by_hand(tp, [[1.0, 1.0]] * 3))
    summary = plan.summary()
    assert span.plan == pytest.approx([summary["proposed_engaged"]] * 3, rel=1e-12)
    assert span.today == pytest.approx([summary["current_engaged"]] * 3, rel=1e-12)


@pytest.fixture(scope="module")
def year_plan():
    scenario = read_scenario("scenarios/year-plan.toml")
    evidence = read_evidence("data/sample_history.csv")
    plan = bo.optimize(for_plan(evidence, scenario), scenario)
    assert plan.ok
    return evidence, scenario, plan


def test_fitted_curves_with_no_uncertainty_give_the_plans_engagement_month_by_month(year_plan):
    """The year plan (12 months of a 52-week history's curves, each month's money spread evenly, with the
    history's seasonality and carry-over): fits drawn with a zero covariance are the fitted curves, and the plan
    evaluated on them is the plan's own engagement, month by month."""
    evidence, scenario, plan = year_plan
    flat = dataclasses.replace(evidence, fits=dataclasses.replace(evidence.fits, cov=np.zeros_like(evidence.fits.cov)))
    draws = draw_curves(flat, scenario, 3, seed=0)
    assert (draws.source == FIT).all()
    n, count = len(draws), plan.line.count
    x = plan.table["proposed_spend"].to_numpy()[: n * count].reshape(n, count)
    columns = period_engaged(draws, x, plan.line)
    expected = plan.table["proposed_engaged"].to_numpy()[: n * count].reshape(n, count)
    # the table's spread weights are written to 4 significant digits: the fitted curve agrees to about 1e-6
    assert columns[0] == pytest.approx(expected, rel=1e-5, abs=1e-6)
    span = plan_risk(plan, draws)
    assert np.ptp(span.plan) <= 1e-9 * span.plan[0]
    assert span.plan[0] == pytest.approx(plan.summary()["proposed_engaged"], rel=1e-5)


def test_the_year_plan_has_a_range_over_the_fits_draws(year_plan):
    evidence, scenario, plan = year_plan
    span = plan_range(plan, evidence, 200, 0)
    a, b = span.figures(), plan_range(plan, evidence, 200, 0).figures()
    assert a == b  # the same seed, the same range
    assert span.draws == 200 and span.touchpoints_with_range == 8
    assert a["plan_low"] < a["plan_median"] < a["plan_high"] and a["plan_tail"] <= a["plan_low"]
    assert a["plan_mean"] == pytest.approx(plan.summary()["proposed_engaged"], rel=0.05)
    assert set(span.by_function["function"]) == set(plan.table["function"])
    assert span.by_function["plan_mean"].sum() == pytest.approx(a["plan_mean"])


# ---- the command line ----------------------------------------------------------------------------------------------

HISTORY = "data/sample_history.csv"


def test_optimize_over_periods_prints_and_writes_its_range(tmp_path, capsys):
    out = tmp_path / "py.json"
    assert main(["optimize", HISTORY, "--periods", "12m", "--draws", "200", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "90% range of the plan's engaged customers over the horizon (2026-01 to 2026-12):" in printed
    assert "of 200 draws of the curves (fitted curves drawn from each fit's covariance (8))" in printed
    document = json.loads(out.read_text())
    figures = document["summary"]["range"]
    assert figures["draws"] == 200 and figures["plan_low"] < figures["plan_mean"] < figures["plan_high"]
    assert figures["plan_mean"] == pytest.approx(document["summary"]["proposed_engaged"], rel=0.05)
    book = tmp_path / "py.xlsx"
    assert main(["optimize", HISTORY, "--periods", "4q", "--draws", "50", "--out", str(book)]) == 0
    sheets = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert "How sure" in sheets and "By period" in sheets


def test_a_plan_over_periods_without_varying_curves_says_so(capsys):
    assert main(["optimize", "data/sample_touchpoints.csv", "--periods", "4q", "--draws", "100"]) == 0
    captured = capsys.readouterr()
    assert "no curve varies over the draws" in captured.err + captured.out
    assert "range of the plan's engaged customers" not in captured.out
    assert main(["optimize", "data/sample_touchpoints.csv", "--periods", "4q", "--draws", "100",
                 "--uncertainty", "0.2"]) == 0
    assert "range of the plan's engaged customers over the horizon (Q1 to Q4)" in capsys.readouterr().out


@pytest.mark.parametrize("flags, words", [(["--draws", "0"], "draws: 0 is outside 1 to 100,000"),
                                          (["--draws", "-3"], "draws: -3 is outside"),
                                          (["--seed", "-1"], "seed: -1 is outside 0 to"),
                                          (["--uncertainty", "1.5"], "uncertainty: 1.5 is outside 0 to 1")])
def test_bad_draw_settings_are_refused_before_the_work(flags, words, tmp_path, capsys):
    assert main(["optimize", HISTORY, *flags]) == 2
    assert words in capsys.readouterr().err
    out = tmp_path / "sweep.csv"
    assert main(["sweep", "scenarios/baseline.toml", "--workers", "0", "--out", str(out), *flags]) == 2
    printed = capsys.readouterr()
    assert words in printed.err and "Sweeping" not in printed.err and not out.exists()


def test_robust_over_periods_is_still_refused_in_words(capsys):
    assert main(["optimize", HISTORY, "--periods", "12m", "--robust", "cvar:0.1"]) == 2
    assert "a plan over periods (--periods) has no robust form yet" in capsys.readouterr().err
