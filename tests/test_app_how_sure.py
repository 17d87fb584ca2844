"""The page's 'how sure' section (issue 14, issue 16 part 7), run headless with AppTest: the figures are the API's."""

from __future__ import annotations

import pytest
from conftest import ROOT, SAMPLE
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

import budgetopt as bo
from budgetopt.evidence import plan_range
from budgetopt.robust import CVAR, Robust, robust_plan
from budgetopt.ui import format as fmt
from budgetopt.ui.views.how_sure import DRAWS, GOAL_KEY, PROTECT, UNCERTAINTY_KEY, protected_moves
from budgetopt.ui.views.shared import md

APP = str(ROOT / "app.py")


def texts(at: AppTest) -> list[str]:
    return [m.value for m in at.main.markdown] + [c.value for c in at.main.caption] + [i.value for i in at.main.info]


def test_the_plan_with_its_range_and_the_switch_to_protect_the_downside():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    tp = bo.read_touchpoints(SAMPLE)
    plan = bo.optimize(tp)
    span = plan_range(plan, tp, DRAWS, 0, uncertainty=0.2)
    f = span.figures()
    line = (f"**How sure is the plan?** {fmt.short(f['plan_mean'])} engaged, 90 % between {fmt.short(f['plan_low'])}"
            f" and {fmt.short(f['plan_high'])}; it beats today's allocation in **{fmt.percent(f['beats_today'], 0)}**"
            f" of {DRAWS:,} draws of the curves.")
    assert line in texts(at)
    assert any("stated \\+/-20% on engagement" in t for t in texts(at))

    at.radio(key=GOAL_KEY).set_value(PROTECT).run()
    assert not at.exception, at.exception
    protected = robust_plan(tp, bo.Scenario(), Robust(CVAR, 0.1), DRAWS, 0, 0.2)
    assert md(protected.protection.words()) in texts(at)
    assert protected.protection.cost >= 0 and protected.protection.gain >= 0
    moves = protected_moves(plan.table, protected.table)
    shown = [d.value for d in at.main.dataframe if "difference" in d.value.columns]
    assert len(moves) and shown[0]["touchpoint"].tolist() == moves["touchpoint"].tolist()

    at.number_input(key=UNCERTAINTY_KEY).set_value(0).run()  # no stated uncertainty, no evidence: nothing varies
    assert not at.exception, at.exception
    assert any("How sure" in t and "uncertainty" in t for t in texts(at))


def test_a_plan_over_periods_shows_its_range_over_the_horizon_without_the_switch():
    """Loading the year plan (12 months): the section shows the plan's range over the horizon, the API's figures
    (risk.plan_risk over the periods), and in place of the switch a caption saying why it is left out."""
    from budgetopt.ui.views.state import Key

    year_plan = ROOT / "scenarios" / "year-plan.toml"
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.selectbox(key=Key.LOAD_FILE).set_value(str(year_plan))
    at.run()
    at.button(key="load_scenario_file").click()
    at.run()
    assert not at.exception, at.exception
    tp = bo.read_touchpoints(SAMPLE)
    plan = bo.optimize(tp, bo.io.read_scenario(year_plan))
    f = plan_range(plan, tp, DRAWS, 0, uncertainty=0.2).figures()
    line = (f"**How sure is the plan?** {fmt.short(f['plan_mean'])} engaged over the horizon, 90 % between "
            f"{fmt.short(f['plan_low'])} and {fmt.short(f['plan_high'])}; it beats today's allocation in "
            f"**{fmt.percent(f['beats_today'], 0)}** of {DRAWS:,} draws of the curves.")
    assert line in texts(at)
    assert any(t.startswith("Protect the downside is for plans of one period") for t in texts(at))
    assert not [r for r in at.main.radio if r.key == GOAL_KEY]
    shown = [dataframe_util.convert_arrow_bytes_to_pandas_df(c.proto.data.data) for c in at.get("vega_lite_chart")]
    draws = next(d for d in shown if "allocation" in d.columns)  # the distribution of the plan's draws
    plan_draws = draws.loc[draws["allocation"] == "the plan", "engaged customers"]
    assert len(plan_draws) == DRAWS and plan_draws.mean() == pytest.approx(f["plan_mean"])
    assert f["plan_low"] < f["plan_mean"] < f["plan_high"]
