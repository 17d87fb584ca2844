"""A MIP too large for an interactive answer: the concave envelope and a repair, with a certified gap."""

from __future__ import annotations

import numpy as np
import pytest

import budgetopt as bo
import budgetopt.engine as engine
from budgetopt import bench
from budgetopt.curves import Curves
from budgetopt.model import formulate


def s_scenario(tp):
    return bo.Scenario(budget=bo.Budget(change=-0.1), rules=tuple(
        bo.Rule(group="function", member=f, min_change=-0.3, max_change=0.3) for f in sorted(set(tp["function"]))))


def test_the_envelope_lies_above_the_curve_and_meets_it_at_its_breakpoints():
    tp = bench.s_curves(10, seed=1)
    model = formulate(tp, s_scenario(tp))
    lo, hi = model.limits()
    seg = Curves.from_table(tp).segments(lo, hi, 12)
    ordered = seg.out_of_order()
    assert ordered.all()
    env, bridge = engine.concave_envelope(seg, ordered)
    assert not env.out_of_order().any() and bridge.any()
    for i in range(len(tp)):
        a, b = seg.touchpoint == i, env.touchpoint == i
        xs = lo[i] + np.concatenate([[0], np.cumsum(seg.width[a])])
        vs = np.concatenate([[0], np.cumsum(seg.width[a] * seg.slope[a])])
        xe = lo[i] + np.concatenate([[0], np.cumsum(env.width[b])])
        ve = np.concatenate([[0], np.cumsum(env.width[b] * env.slope[b])])
        assert xe[-1] == pytest.approx(xs[-1])
        assert (np.interp(xs, xe, ve) >= vs - 1e-9 * vs.max()).all()  # above the curve
        assert np.interp(xe, xs, vs) == pytest.approx(ve, rel=1e-12, abs=1e-9)  # meets it at its own points


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_repaired_plan_is_within_its_certified_gap_of_the_mip(monkeypatch, seed):
    tp = bench.s_curves(30, seed=seed)
    scenario = s_scenario(tp)
    mip = bo.optimize(tp, scenario)
    monkeypatch.setattr(engine, "MIP_DIRECT_BINARIES", 0)
    repaired = bo.optimize(tp, scenario)
    assert mip.ok and repaired.ok
    if "mip_fallback" not in repaired.stats:  # the repair was over 0.1 % from its bound: the MIP answered
        assert repaired.stats["mip_method"] == "a mixed-integer programme"
        assert repaired.objective == pytest.approx(mip.objective, rel=1e-6)
        return
    assert "concave envelope" in repaired.stats["mip_fallback"]
    assert repaired.objective <= mip.objective * (1 + 1e-6)  # the MIP is the optimum on these curves ...
    true_gap = (mip.objective - repaired.objective) / mip.objective
    assert true_gap <= repaired.stats["mip_gap"] + 1e-6  # ... and the stated gap bounds the distance to it
    assert repaired.table["proposed_spend"].sum() == pytest.approx(tp["spend"].sum() * 0.9, rel=1e-9)


def test_when_no_repair_keeps_the_rules_the_mip_answers(monkeypatch):
    """Seed 0: the repair finds no choice of sides that keeps every rule (the rules need some touchpoint inside a
    stretch the envelope bridges, where the repair does not go): the MIP answers instead, the optimum."""
    tp = bench.s_curves(30, seed=0)
    expected = bo.optimize(tp, s_scenario(tp))
    monkeypatch.setattr(engine, "MIP_DIRECT_BINARIES", 0)
    plan = bo.optimize(tp, s_scenario(tp))
    assert plan.ok and "mip_fallback" not in plan.stats and plan.stats["mip_binaries"] > 0
    assert plan.objective == pytest.approx(expected.objective, rel=1e-9)


def test_with_many_s_curves_the_repair_is_certified_close():
    """The envelope's gap comes from the few touchpoints the rows leave inside a stretch, whatever their number:
    with 1,500 S-curves (over 20,000 binaries, past MIP_DIRECT_BINARIES) the certified gap is tiny."""
    tp = bench.s_curves(1_500, seed=1)
    plan = bo.optimize(tp, s_scenario(tp))
    assert plan.ok and "concave envelope" in plan.stats["mip_fallback"]
    assert plan.stats["mip_gap"] < 1e-4
    model = formulate(tp, s_scenario(tp))
    lo, hi = model.limits()
    x = plan.table["proposed_spend"].to_numpy()
    assert (x >= lo - 1e-6).all() and (x <= hi + 1e-6).all()
