"""A plan over time in the app (issue 15 with issue 16's views): loading a scenario with [periods] shows each
period's money and engagement, a touchpoint x period heat map and the transfers between periods."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

import budgetopt as bo
from budgetopt.ui import period_report
from budgetopt.ui.views.state import Key

APP = str(ROOT / "app.py")
YEAR_PLAN = ROOT / "scenarios" / "year-plan.toml"


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def chart(at: AppTest, *columns: str) -> pd.DataFrame:
    """The data of the first Vega-Lite chart whose table has these columns."""
    for element in at.get("vega_lite_chart"):
        frame = dataframe_util.convert_arrow_bytes_to_pandas_df(element.proto.data.data)
        if set(columns) <= set(frame.columns):
            return frame
    raise AssertionError(f"no chart with the columns {columns}")


def subheaders(at: AppTest) -> list[str]:
    return [s.value for s in at.subheader]


def test_a_year_plan_shows_its_periods_heat_map_and_transfers(sample):
    at = run(AppTest.from_file(APP, default_timeout=180))
    assert "The plan over time" not in subheaders(at)  # a plan of one period has no periods to show
    at.selectbox(key=Key.LOAD_FILE).set_value(str(YEAR_PLAN))
    run(at)
    at.button(key="load_scenario_file").click()
    run(at)
    assert "a plan over time: 12 months" in next(i.value for i in at.sidebar.info)
    assert "The plan over time" in subheaders(at)
    plan = bo.optimize(sample, bo.io.read_scenario(YEAR_PLAN))
    assert plan.periods == [f"M{t}" for t in range(1, 13)]  # the sample is a table: numbered months

    periods = chart(at, "period", "when")
    shown = periods[periods["when"] == "plan"].set_index("period")["spend"]
    assert shown.to_numpy() == pytest.approx(plan.by_period.set_index("period")["proposed_spend"].to_numpy())
    q4 = plan.table[(plan.table["touchpoint"] == "TV prime time") & plan.table["period"].isin(["M10", "M11", "M12"])]
    assert q4["proposed_spend"].sum() >= 1_000_000 * (1 - 1e-9)

    heat = chart(at, "period", "value")
    assert len(heat) == period_report.HEAT_ROWS * 12  # 39 touchpoints that move most and the rest summed
    assert heat.groupby("period", sort=False)["plan"].sum().to_numpy() == pytest.approx(shown.to_numpy())
    at.radio(key="period_heat_measure").set_value("Change against today")
    run(at)
    heat = chart(at, "period", "value")
    assert heat["value"].to_numpy() == pytest.approx((heat["plan"] - heat["today"]).to_numpy())

    table = next(d.value for d in at.dataframe if "marginal CPE" in d.value.columns and "period" in d.value.columns)
    assert table["period"].tolist() == plan.periods
    assert table["marginal CPE"].to_numpy() == pytest.approx(plan.by_period["marginal_cpe"].round(2).to_numpy())
    moved = plan.period_transfers
    if len(moved):
        transfers = next(t.value for t in at.table if "from" in t.value.columns and "to" in t.value.columns)
        assert transfers["from"].tolist() == moved["from_period"].tolist()
    assert any("Moving" in m.value for m in at.markdown)  # the price of moving money between periods, in words
    assert "Why the money moves" in subheaders(at)
    why = next(m.value for m in at.markdown if "over the horizon" in m.value)  # each touchpoint over the horizon
    assert "removed by the scenario" not in why and "Rests on: ." not in why
    limits = [w for t in at.table if "limit" in t.value.columns for w in t.value["limit"]]
    assert "TV prime time must get at least 1,000,000 EUR in Q4 (M10 to M12) (your rule 1)" in limits
    assert "Social listening and social care may get at most 250,000 EUR over the horizon" in limits
    assert not any("(M1)" in w or "max_spend of" in w for w in limits)  # grouped over periods, in words


def test_a_year_plan_on_an_uploaded_history_uses_its_seasonality_as_the_command_line_does():
    """The same history and scenario give the same plan in the app and on the command line: over dated months,
    each month's curves carry the seasonality the history shows (seasonality.for_plan)."""
    history = ROOT / "data" / "sample_history.csv"
    at = run(AppTest.from_file(APP, default_timeout=240))
    at.sidebar.file_uploader[0].upload("sample_history.csv", history.read_bytes(), "text/csv")
    run(at)
    at.selectbox(key=Key.LOAD_FILE).set_value(str(YEAR_PLAN))
    run(at)
    at.button(key="load_scenario_file").click()
    run(at)
    assert any("seasonality estimated from the history" in c.value for c in at.sidebar.caption)

    scenario = bo.io.read_scenario(YEAR_PLAN)
    evidence = bo.io.read_evidence(history, window=scenario.window)
    from budgetopt.seasonality import for_plan

    expected = bo.optimize(for_plan(evidence, scenario), scenario)
    flat = bo.optimize(evidence.table, scenario)  # the same months without the season
    periods = chart(at, "period", "when")
    shown = periods[periods["when"] == "plan"].set_index("period")["spend"]
    assert shown.to_numpy() == pytest.approx(expected.by_period["proposed_spend"].to_numpy())
    assert shown.to_numpy() != pytest.approx(flat.by_period["proposed_spend"].to_numpy())
    limits = [w for t in at.table if "limit" in t.value.columns for w in t.value["limit"]]
    assert "TV prime time must get at least 1,000,000 EUR in Q4 (2026-10 to 2026-12) (your rule 1)" in limits
    assert ("Field sales visits is kept at today's 90,504 EUR in 2 periods (2026-01 to 2026-02) (your rule 2)"
            in limits)  # one line for its two months (was one per month, 'Field sales visits (2026-01)')
