"""Properties that must hold on every plan, checked on many random instances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from exact import power_optimum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt import Budget, Objective, Rule, Scenario
from budgetopt.curves import Curves

FUNCTIONS = ["marketing", "sales", "service"]
STAGES = ["awareness", "purchase", "retention"]


@st.composite
def instances(draw):
    n = draw(st.integers(2, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    s0 = rng.uniform(1e3, 1e5, n).round(2)
    cpe = rng.uniform(0.5, 100, n)
    curve = rng.choice(["linear", "power", "saturating"], n)
    raw = pd.DataFrame({
        "touchpoint": [f"t{i}" for i in range(n)],
        "function": rng.choice(FUNCTIONS, n),
        "channel": "c",
        "stage": rng.choice(STAGES, n),
        "spend": s0,
        "engaged": (s0 / cpe).round(3),
        "curve": curve,
        "elasticity": rng.uniform(0.2, 1.0, n).round(3),
        "saturation": np.where(curve == "saturating", (s0 / cpe) * rng.uniform(1.2, 4, n), np.nan),
        "max_change": rng.choice([np.nan, 0.2, 0.5], n),
        "locked": rng.choice(["", "", "", "yes"], n),
        "value": rng.choice([1.0, 1.0, 2.0], n),
    })
    tp = bo.validate_touchpoints(raw)
    # Rules that today's allocation satisfies, so today is always allowed.
    rules = []
    spend_by = tp.groupby("function")["spend"].sum()
    total = float(tp["spend"].sum())
    for f in sorted(spend_by.index):
        kind = draw(st.sampled_from(["none", "floor", "cap", "share", "change"]))
        s = float(spend_by[f])
        if kind == "floor":
            rules.append(Rule(group="function", member=f, min_spend=s * 0.9))
        elif kind == "cap":
            rules.append(Rule(group="function", member=f, max_spend=s * 1.1))
        elif kind == "share":
            rules.append(Rule(group="function", member=f, min_share=s / total * 0.95))
        elif kind == "change":
            rules.append(Rule(group="function", member=f, min_change=-0.2, max_change=0.2))
    protect = draw(st.booleans())
    siloed = draw(st.booleans())
    return tp, tuple(rules), protect, siloed


def check_rules(plan: bo.Plan, tp: pd.DataFrame, scenario: Scenario):
    """Every rule holds within 1e-6 relative, with engagement measured on the smooth curves."""
    t = plan.table
    x = t["proposed_spend"].to_numpy()
    e = t["proposed_engaged"].to_numpy()
    s0, e0 = tp["spend"].to_numpy(), tp["engaged"].to_numpy()
    tol = 1e-6
    total = x.sum()
    assert (x >= t["lower_limit"] * (1 - tol) - tol).all() and (x <= t["upper_limit"] * (1 + tol) + tol).all()
    change = tp["max_change"].to_numpy()
    has = ~np.isnan(change)
    assert (np.abs(x[has] - s0[has]) <= change[has] * s0[has] * (1 + tol) + tol).all()
    locked = tp["locked"].to_numpy()
    assert np.allclose(x[locked], s0[locked], rtol=tol)
    for rule in scenario.rules:
        m = (tp[rule.group] == rule.member).to_numpy()
        got, base = x[m].sum(), s0[m].sum()
        if rule.min_spend is not None:
            assert got >= rule.min_spend * (1 - tol)
        if rule.max_spend is not None:
            assert got <= rule.max_spend * (1 + tol)
        if rule.min_share is not None:
            assert got >= rule.min_share * total * (1 - tol)
        if rule.min_change is not None:
            assert got >= base * (1 + rule.min_change) * (1 - tol)
        if rule.max_change is not None:
            assert got <= base * (1 + rule.max_change) * (1 + tol)
    if scenario.protect_stages:
        for stage in set(tp["stage"]):
            m = (tp["stage"] == stage).to_numpy()
            assert e[m].sum() >= e0[m].sum() * (1 - tol)
    if scenario.siloed:
        for f in set(tp["function"]):
            m = (tp["function"] == f).to_numpy()
            assert x[m].sum() == pytest.approx(s0[m].sum() / s0.sum() * total, rel=tol, abs=tol)


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances())
def test_max_engaged_meets_budget_keeps_rules_and_beats_today(inst):
    tp, rules, protect, siloed = inst
    scenario = Scenario(rules=rules, protect_stages=protect, siloed=siloed)
    plan = bo.optimize(tp, scenario)
    assert plan.ok, plan.conflicts
    assert plan.table["proposed_spend"].sum() == pytest.approx(tp["spend"].sum(), rel=1e-9)
    check_rules(plan, tp, scenario)
    today = float((tp["engaged"] * tp["value"]).sum())
    planned = float((plan.table["proposed_engaged"] * tp["value"]).sum())
    assert planned >= today * (1 - 1e-9)


@SETTINGS
@given(instances())
def test_min_spend_never_spends_more_than_today(inst):
    tp, rules, protect, siloed = inst
    scenario = Scenario(rules=rules, protect_stages=protect, siloed=siloed, objective=Objective(mode="min_spend"))
    plan = bo.optimize(tp, scenario)
    assert plan.ok, plan.conflicts
    assert plan.table["proposed_spend"].sum() <= tp["spend"].sum() * (1 + 1e-9)
    today = float((tp["engaged"] * tp["value"]).sum())
    assert float((plan.table["proposed_engaged"] * tp["value"]).sum()) >= today * (1 - 1e-9)
    check_rules(plan, tp, scenario)


@settings(max_examples=25, deadline=None)
@given(instances(), st.floats(0.7, 1.3))
def test_same_input_same_plan(inst, factor):
    tp, rules, protect, siloed = inst
    scenario = Scenario(budget=Budget(change=factor - 1), rules=rules, protect_stages=protect, siloed=siloed)
    a, b = bo.optimize(tp, scenario), bo.optimize(tp.copy(), scenario)
    assert a.status == b.status
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.rules, b.rules)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.6, 1.6))
def test_lp_optimum_within_tolerance_of_the_exact_smooth_optimum(seed, factor):
    """Budget-only instances with smooth power curves: default settings stay within 0.1 % (docs/README)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    s0 = rng.uniform(1e3, 1e6, n)
    e0 = s0 / rng.uniform(0.5, 200, n)
    a = rng.uniform(0.2, 0.95, n)
    change = rng.choice([np.nan, 0.3, 0.5], n)
    raw = pd.DataFrame({"touchpoint": [f"t{i}" for i in range(n)], "function": "f", "channel": "c", "spend": s0,
                        "engaged": e0, "curve": "power", "elasticity": a, "max_change": change})
    tp = bo.validate_touchpoints(raw)
    budget = float(s0.sum() * factor)
    lo = np.where(np.isnan(change), 0, s0 * (1 - np.nan_to_num(change)))
    hi = np.where(np.isnan(change), 3 * s0, s0 * (1 + np.nan_to_num(change)))
    plan = bo.optimize(tp, Scenario(budget=Budget(total=budget)))
    if hi.sum() < budget or lo.sum() > budget:
        assert plan.status is bo.Status.INFEASIBLE
        return
    _, best = power_optimum(tp["spend"], tp["engaged"], tp["elasticity"], np.ones(n), lo, hi, budget)
    assert plan.objective >= best * (1 - 1e-3)  # the LP's own (piecewise) optimum
    smooth = float(plan.table["proposed_engaged"].sum())
    assert best * (1 - 1e-3) <= smooth <= best * (1 + 1e-9)


def test_piecewise_curve_never_promises_more_than_the_smooth_one():
    tp = pd.DataFrame({"touchpoint": ["a", "b", "c"], "function": "f", "channel": "c", "spend": [100.0, 50, 10],
                       "engaged": [10.0, 20, 5], "curve": ["power", "saturating", "linear"],
                       "saturation": [np.nan, 40, np.nan], "elasticity": [0.3, np.nan, np.nan]})
    curves = Curves.from_table(bo.validate_touchpoints(tp))
    lo, hi = np.zeros(3), np.array([300.0, 150, 30])
    seg = curves.segments(lo, hi, 12)
    assert (np.diff(seg.slope)[np.diff(seg.touchpoint) == 0] <= 1e-12).all()  # concave: slopes fall
    x = np.linspace(0, 1, 50)[None, :] * hi[:, None]
    for i in range(3):
        m = seg.touchpoint == i
        ends = np.concatenate([[0], np.cumsum(seg.width[m])])
        values = seg.base_engaged[i] + np.concatenate([[0], np.cumsum(seg.width[m] * seg.slope[m])])
        pwl = np.interp(x[i], ends, values)
        smooth = curves.engaged(np.tile(x[i], (3, 1)))[i]
        assert (pwl <= smooth + 1e-9).all()
        assert values[-1] == pytest.approx(curves.engaged(hi)[i])
