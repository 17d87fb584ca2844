"""No internal bound makes a feasible problem infeasible, and every way out shown works when applied as written."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt import Budget, Objective, Rule, Scenario
from budgetopt.conflicts import NO_SINGLE_CHANGE


def two(max_spend=(np.nan, 150.0)) -> pd.DataFrame:
    """A costs 10 per engaged customer (no cap: the growth assumption, 3x today), B costs 5."""
    return bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": ["A", "B"], "function": ["m", "s"], "channel": "c", "spend": [100.0, 100.0],
        "engaged": [10.0, 20.0], "curve": "linear", "max_spend": list(max_spend)}))


def test_a_huge_cap_is_the_data_not_an_internal_limit():
    """min-spend to 10,000 engaged needs 100,000 in A: far beyond 10x today's total (the old internal cap)."""
    tp = two(max_spend=(1e9, 150.0))
    plan = bo.optimize(tp, Scenario(objective=Objective(mode="min_spend", target=10_000)))
    assert plan.ok, (plan.conflicts, plan.advice)
    assert plan.table["proposed_spend"].tolist() == pytest.approx([99_700, 150])  # B: 30; A: 9,970 x 10


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(15, 500), st.sampled_from(["linear", "power"]))
def test_targets_far_beyond_today_get_a_plan_when_the_data_allows_it(times, curve):
    tp = bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": ["A", "B", "C"], "function": ["m", "s", "s"], "channel": "c", "spend": [100.0, 80, 60],
        "engaged": [10.0, 20, 6], "curve": curve, "elasticity": 0.7, "max_spend": [1e12, 200, np.nan]}))
    target = float(tp["engaged"].sum()) * times
    plan = bo.optimize(tp, Scenario(objective=Objective(mode="min_spend", target=target)))
    assert plan.ok, (plan.conflicts, plan.advice)
    assert plan.table["proposed_engaged"].sum() >= target * (1 - 1e-9)


def test_the_conflict_names_the_assumption_that_binds():
    """Without its growth assumption A is uncapped and reaches any target: the assumption is part of the conflict."""
    plan = bo.optimize(two(), Scenario(objective=Objective(mode="min_spend", target=400)))
    assert plan.status is bo.Status.INFEASIBLE
    assert len(plan.conflicts) == 3
    assert any("growth cap" in c and "'A'" in c for c in plan.conflicts)
    assert "a way out: let 'A' go up to 3,700" in " ".join(plan.advice)  # 370 engaged more at 10 each
    assert "a way out: let 'B' go up to 1,850" in " ".join(plan.advice)
    assert "a way out: engagement target at least 60 instead of 400" in plan.advice


# ------------------------------------------------------------------------------------- ways out, applied

def apply(advice: str, tp: pd.DataFrame, scenario: Scenario) -> tuple[pd.DataFrame, Scenario]:
    """The data and scenario with one way out applied as a person would read it."""
    shown = re.search(r"(?:exactly|at most|at least|kept at|up to|down to) ([\d,.]+)", advice)[1]
    number = float(shown.replace(",", ""))
    rules = list(scenario.rules)
    if m := re.match(r"a way out: budget (exactly|at most|at least) ", advice):
        return tp, scenario.model_copy(update={"budget": Budget(total=number, at_most=m[1] == "at most")})
    if m := re.match(r"a way out: function '(\w+)' kept at ", advice):
        rules = [r for r in rules if not (r.group == "function" and r.member == m[1])]
        rules.append(Rule(group="function", member=m[1], min_spend=number, max_spend=number))
        return tp, scenario.model_copy(update={"rules": tuple(rules)})
    if m := re.match(r"a way out: function '(\w+)' at (least|most) ", advice):
        rules = [r for r in rules if not (r.group == "function" and r.member == m[1])]
        rules.append(Rule(group="function", member=m[1], **{("min_spend" if m[2] == "least" else "max_spend"): number}))
        return tp, scenario.model_copy(update={"rules": tuple(rules)})
    if m := re.match(r"a way out: let '(\w+)' go (up|down) to .*\(now (\w+) of", advice):
        out = tp.copy()
        row = out["touchpoint"] == m[1]
        today = float(out.loc[row, "spend"].iloc[0])
        if m[3] in ("max_spend", "min_spend"):
            out.loc[row, m[3]] = number
        elif m[3] == "max_change":  # the limit on change widened just enough to reach the number
            out.loc[row, "max_change"] = abs(number / today - 1)
        elif m[3] == "lock":  # unlocked, free to move as far as the number
            out.loc[row, "locked"] = False
            out.loc[row, "min_spend" if m[2] == "down" else "max_spend"] = number
        else:
            raise AssertionError(f"a way out this test cannot apply: {advice}")
        return bo.validate_touchpoints(out.drop(columns=["unit_cost"])), scenario
    if m := re.match(r"a way out: drop '(.*)'", advice):
        return tp, scenario.model_copy(update={"rules": ()})
    raise AssertionError(f"unknown way out: {advice}")


def assert_every_way_out_works(tp: pd.DataFrame, scenario: Scenario) -> int:
    plan = bo.optimize(tp, scenario)
    assert plan.status is bo.Status.INFEASIBLE
    ways = [a for a in plan.advice if a.startswith("a way out")]
    for advice in ways:
        data, changed = apply(advice, tp, scenario)
        after = bo.optimize(data, changed)
        assert after.ok, f"'{advice}' still has no plan: {after.conflicts}"
    return len(ways)


def test_three_locked_functions_and_a_bigger_budget():
    """The case of the issue: 'budget at most 35,999' and 'function f0 at least 15,601' did not work."""
    tp = bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": [f"t{i}" for i in range(6)], "function": ["f0", "f0", "f1", "f1", "f2", "f2"], "channel": "c",
        "spend": [8000.0, 6000, 5000, 7000, 4000, 6000], "engaged": [800.0, 400, 600, 500, 300, 700]}))
    scenario = Scenario(budget=Budget(change=0.1), rules=tuple(
        Rule(group="function", member=f, lock=True) for f in ("f0", "f1", "f2")))
    plan = bo.optimize(tp, scenario)
    assert plan.advice == ["a way out: budget exactly 36,000 instead of 39,600",
                           "a way out: function 'f0' kept at 17,600 instead of 14,000",
                           "a way out: function 'f1' kept at 15,600 instead of 12,000",
                           "a way out: function 'f2' kept at 13,600 instead of 10,000"]
    assert assert_every_way_out_works(tp, scenario) == 4


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**16), st.floats(-0.4, 0.4), st.sampled_from(["lock", "floor", "cap"]))
def test_every_way_out_shown_gives_a_plan(seed, change, kind):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7))
    s0 = rng.uniform(1e3, 2e4, n).round(2)
    f = rng.choice(["f0", "f1", "f2"], n)
    f[:3] = ["f0", "f1", "f2"]
    tp = bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": [f"t{i}" for i in range(n)], "function": f, "channel": "c", "spend": s0,
        "engaged": (s0 / rng.uniform(1, 30, n)).round(3), "curve": rng.choice(["linear", "power"], n),
        "max_spend": np.where(rng.random(n) < 0.5, s0 * rng.uniform(1.0, 2.0, n), np.nan).round(2)}))
    by = tp.groupby("function")["spend"].sum()
    if kind == "lock":
        rules = tuple(Rule(group="function", member=m, lock=True) for m in by.index)
    elif kind == "floor":
        rules = tuple(Rule(group="function", member=m, min_spend=round(v * 1.3)) for m, v in by.items())
    else:
        rules = tuple(Rule(group="function", member=m, max_spend=round(v * 0.7)) for m, v in by.items())
    scenario = Scenario(budget=Budget(change=change), rules=rules)
    plan = bo.optimize(tp, scenario)
    if plan.ok:
        return
    if not assert_every_way_out_works(tp, scenario):
        assert NO_SINGLE_CHANGE in plan.advice
