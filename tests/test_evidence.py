"""Curves from evidence (issue 11): the extrapolation guard, fitted and tabulated curves in plans."""

from __future__ import annotations

import pandas as pd
import pytest

import budgetopt as bo


def observed_table(**extra) -> pd.DataFrame:
    raw = pd.DataFrame({"touchpoint": ["A", "B"], "function": "f", "channel": "c", "spend": [100, 100],
                        "engaged": [10, 100], "curve": "power", "elasticity": 0.7, "observed_max_spend": [120, 130],
                        **extra})
    return bo.validate_touchpoints(raw)


def test_the_extrapolation_guard_caps_at_a_multiple_of_the_largest_spend_observed():
    tp = observed_table()
    plan = bo.optimize(tp)
    assert plan.table["upper_limit"].tolist() == [240.0, 260.0]  # 2x the largest spend observed, by default
    narrow = bo.optimize(tp, bo.Scenario(settings=bo.Settings(max_extrapolation=1.2)))
    assert narrow.table["proposed_spend"].tolist()[1] == pytest.approx(156.0)
    binds = narrow.rules[narrow.rules["binding"]]
    assert (binds["family"] == "extrapolation").any()
    assert any("extrapolation guard" in a for a in narrow.basis.binding_assumptions)
    # a rule widens it for its touchpoints
    wide = bo.optimize(tp, bo.Scenario(settings=bo.Settings(max_extrapolation=1.2),
                                       rules=(bo.Rule(touchpoint="B", max_extrapolation=1.5),)))
    assert wide.table["upper_limit"].tolist() == [pytest.approx(144.0), pytest.approx(195.0)]
    # a cap in the data is the data's: no assumption then
    capped = bo.optimize(observed_table(max_spend=[500, 500]))
    assert not capped.rules["family"].isin(["extrapolation", "growth"]).any()


def test_the_plan_reports_money_and_gain_beyond_what_was_observed():
    plan = bo.optimize(observed_table())
    basis = plan.basis
    x = plan.table["proposed_spend"].to_numpy()
    assert basis.money_beyond == pytest.approx(max(0, x[0] - 120) + max(0, x[1] - 130))
    assert basis.touchpoints_beyond == int((x[0] > 120) + (x[1] > 130))
