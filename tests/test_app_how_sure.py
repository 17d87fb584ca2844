"""The page's 'how sure' section (issue 14, issue 16 part 7), run headless with AppTest: the figures are the API's."""

from __future__ import annotations

from conftest import ROOT, SAMPLE
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
