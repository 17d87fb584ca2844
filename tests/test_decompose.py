"""The master LP (decompose.py) must give the segment LP's own optimum: same status, same objective, a plan
that keeps every row, for every mode and rule family."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import check_rules, instances

import budgetopt as bo
import budgetopt.engine as engine
from budgetopt import Budget, Objective, Rule, Scenario
from budgetopt.curves import Curves
from budgetopt.decompose import Decomposition, classes, segment_problem
from budgetopt.lp import row_bounds
from budgetopt.model import formulate

MODES = [Objective(), Objective(mode="min_spend"), Objective(mode="min_spend", target_change=0.05),
         Objective(mode="target_cpe", target=8.0)]


def lp_parts(tp: pd.DataFrame, scenario: Scenario, segments: int = 12):
    model = formulate(tp, scenario)
    lo, hi = model.limits()
    return model, Curves.from_table(tp).segments(lo, hi, segments)


def assert_keeps_rows(model, seg, values):
    """Segment values inside their widths, and every row of the LP holds (relative 1e-7)."""
    assert (values >= -1e-9).all() and (values <= seg.width * (1 + 1e-9) + 1e-9).all()
    problem = segment_problem(model, seg, model.rows)
    lp = problem.full_lp()
    activity = np.zeros(lp.num_row)
    col = np.repeat(np.arange(lp.num_col), np.diff(lp.start))
    np.add.at(activity, lp.index, lp.value * values[col])
    scale = 1e-7 * np.maximum(1.0, np.abs(np.nan_to_num(lp.row_lower, posinf=0, neginf=0)) +
                              np.abs(np.nan_to_num(lp.row_upper, posinf=0, neginf=0)))
    assert (activity >= lp.row_lower - scale).all() and (activity <= lp.row_upper + scale).all()


def assert_master_is_the_whole_lp(tp, scenario):
    """The master LP reaches the whole segment LP's status and optimum (1e-6) and keeps every row."""
    model, seg = lp_parts(tp, scenario)
    direct = engine.solve(model, seg, method="direct")
    master = engine.solve(model, seg, method="decompose")
    assert master.status is direct.status
    if direct.status.is_ok:
        assert master.objective == pytest.approx(direct.objective, rel=1e-6, abs=1e-6)
        assert_keeps_rows(model, seg, master.values)


def medium(n: int = 300, seed: int = 1) -> pd.DataFrame:
    """Touchpoints in 4 functions x 3 stages, with power, saturating and linear curves and limits on change."""
    rng = np.random.default_rng(seed)
    s0 = rng.uniform(1e3, 1e5, n)
    f = rng.integers(0, 4, n)
    cpe = rng.uniform(2, 40, n) * np.array([2.0, 1.0, 0.7, 1.4])[f]
    curve = rng.choice(["power", "power", "saturating", "linear"], n)
    return bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": [f"t{i}" for i in range(n)], "function": np.array(["mkt", "sales", "service", "pr"])[f],
        "channel": "c", "stage": rng.choice(["awareness", "purchase", "retention"], n), "spend": s0,
        "engaged": s0 / cpe, "curve": curve, "elasticity": rng.uniform(0.3, 0.9, n),
        "saturation": np.where(curve == "saturating", s0 / cpe * rng.uniform(1.5, 4, n), np.nan),
        "max_change": rng.choice([np.nan, 0.2, 0.5], n), "value": rng.choice([1.0, 1.0, 2.0], n)}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances(), st.sampled_from(MODES), st.floats(0.8, 1.2))
def test_master_lp_finds_the_segment_lp_optimum(inst, objective, factor):
    tp, rules, protect, siloed = inst
    scenario = Scenario(budget=Budget(change=factor - 1), objective=objective, rules=rules,
                        protect_stages=protect, siloed=siloed)
    assert_master_is_the_whole_lp(tp, scenario)


@pytest.mark.parametrize("objective", MODES[:3] + [Objective(mode="target_cpe", target=14.0)])
def test_master_lp_on_a_medium_instance_with_group_rules(objective):
    tp = medium()
    rules = tuple(Rule(group="function", member=f, min_change=-0.2, max_change=0.1)
                  for f in ("mkt", "sales", "service", "pr")) + (Rule(group="stage", member="retention",
                                                                         min_share=0.3),)
    scenario = Scenario(budget=Budget(change=-0.1), objective=objective, rules=rules, protect_stages=True)
    model, seg = lp_parts(tp, scenario)
    direct = engine.solve(model, seg, method="direct")
    master = engine.solve(model, seg, method="decompose", gap=1e-12)  # to the end: the LP's own optimum
    assert direct.status is bo.Status.OPTIMAL and master.status is bo.Status.OPTIMAL
    assert master.objective == pytest.approx(direct.objective, rel=1e-9)
    quick = engine.solve(model, seg, method="decompose")  # stops at a certified gap of engine.GAP
    assert quick.objective == pytest.approx(direct.objective, rel=engine.GAP)
    assert quick.rounds <= master.rounds
    assert master.lp_columns < len(seg) / 5  # the master is much smaller than the segment LP
    assert_keeps_rows(model, seg, master.values)
    # the budget's price is the same: the duals are the segment LP's own
    assert master.row_duals[0] == pytest.approx(direct.row_duals[0], rel=1e-6)


def test_optimize_through_the_master_keeps_every_rule(monkeypatch):
    tp = medium(400, seed=7)
    rules = (Rule(group="function", member="mkt", max_change=-0.1), Rule(group="function", member="service",
                                                                        min_change=0.05))
    for refine, rel in ((False, 1e-6), (True, 1e-5)):  # refined: the first pass may place breakpoints apart
        scenario = Scenario(budget=Budget(change=-0.05), rules=rules, protect_stages=True,
                            settings=bo.Settings(refine=refine))
        monkeypatch.setattr(engine, "DIRECT_MAX_COLUMNS", 10**9)
        direct = bo.optimize(tp, scenario)
        monkeypatch.setattr(engine, "DIRECT_MAX_COLUMNS", 0)
        master = bo.optimize(tp, scenario)
        assert master.ok and master.stats["lp_rounds"] >= 2
        assert master.objective == pytest.approx(direct.objective, rel=rel)
        check_rules(master, tp, scenario)


def test_infeasible_through_the_master_names_the_conflict(monkeypatch):
    tp = medium(200, seed=3)
    today = float(tp["engaged"].sum())
    scenario = Scenario(budget=Budget(change=-0.5), rules=(
        Rule(group="function", member="mkt", min_engaged=today * 10, name="impossible reach"),))
    monkeypatch.setattr(engine, "DIRECT_MAX_COLUMNS", 0)
    plan = bo.optimize(tp, scenario)
    assert plan.status is bo.Status.INFEASIBLE
    assert "impossible reach" in " ".join(plan.conflicts)


def test_classes_group_equal_columns_only():
    rng = np.random.default_rng(0)
    key = rng.integers(0, 3, size=(5, 400)).astype(float)
    got = classes(key)
    exact = np.unique(key.T, axis=0, return_inverse=True)[1].reshape(-1)
    # the same partition, whatever the numbering
    assert len(set(zip(got.tolist(), exact.tolist(), strict=True))) == len(set(got)) == len(set(exact))


def test_certified_gap_bounds_the_true_gap():
    tp = medium(300, seed=11)
    scenario = Scenario(budget=Budget(change=-0.1), rules=tuple(
        Rule(group="function", member=f, min_change=-0.15, max_change=0.05) for f in ("mkt", "sales")))
    model, seg = lp_parts(tp, scenario)
    best = engine.solve(model, seg, method="direct")
    problem = segment_problem(model, seg, model.rows)
    dec = Decomposition(problem)
    first = engine._solve_lp(dec.master(), model.scenario.settings)
    values = dec.expand(first.values)
    cost = problem.cost(seg.touchpoint, seg.slope)
    z = -float(cost @ values)  # min form of the gained engagement
    z_best = -float(cost @ best.values)
    assert z >= z_best - 1e-9 * abs(z_best)  # the master is a restriction
    assert (z - z_best) / max(1.0, abs(z)) <= dec.gap(values, first.duals) + 1e-12
    lower, upper = row_bounds(problem.sense, problem.rhs)
    assert len(lower) == len(upper) == len(problem.row_id)


@st.composite
def valued_with_many_rules(draw):
    """A value per touchpoint and many group rules (tags over random subsets), with stage engagement floors."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, tags = draw(st.integers(8, 60)), draw(st.integers(5, 40))
    s0 = rng.uniform(1e3, 1e5, n).round(2)
    curve = rng.choice(["linear", "power", "saturating"], n)
    e0 = (s0 / rng.uniform(1, 50, n)).round(3)
    raw = pd.DataFrame({
        "touchpoint": [f"t{i}" for i in range(n)], "function": rng.choice(["mkt", "sales", "service"], n),
        "channel": "c", "stage": rng.choice(["awareness", "purchase", "retention"], n), "spend": s0, "engaged": e0,
        "curve": curve, "elasticity": rng.uniform(0.3, 0.9, n).round(3),
        "saturation": np.where(curve == "saturating", e0 * rng.uniform(1.3, 3, n), np.nan),
        "max_change": rng.choice([np.nan, 0.3, 0.6], n), "value": np.exp(rng.normal(0, 0.6, n)).round(4)})
    for k in range(tags):
        raw[f"tag{k}"] = np.where(rng.random(n) < 0.3, "yes", "")
    tp = bo.validate_touchpoints(raw)
    rules = [Rule(tag=f"tag{k}", min_change=-float(rng.uniform(0.1, 0.5)), max_change=float(rng.uniform(0.05, 0.4)))
             for k in range(tags) if (raw[f"tag{k}"] == "yes").any()]
    rules += [Rule(group="function", member=f, min_change=-0.25, max_change=0.2) for f in sorted(set(tp["function"]))]
    rules += [Rule(group="stage", member=s, min_engaged_change=-float(rng.uniform(0.0, 0.2)))
              for s in sorted(set(tp["stage"]))]
    return tp, tuple(rules)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valued_with_many_rules(), st.sampled_from(MODES[:2]), st.floats(0.8, 1.2))
def test_distinct_values_and_many_group_rules_give_the_whole_lps_plan(inst, objective, factor):
    tp, rules = inst
    scenario = Scenario(budget=Budget(change=factor - 1), objective=objective, rules=rules)
    assert_master_is_the_whole_lp(tp, scenario)
