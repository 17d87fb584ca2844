"""No false "no plan": floors at the edge of what the smooth curves can reach get a plan; beyond it, none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import budgetopt as bo
import budgetopt.engine as engine
from budgetopt import Budget, Rule, Scenario
from budgetopt.curves import Curves
from budgetopt.feasibility import tangent_segments
from budgetopt.model import formulate


def mixed(n: int = 20, seed: int = 4) -> pd.DataFrame:
    """n touchpoints, 30 % saturating and 70 % power curves, limits on change, values 1-3, one tag on all."""
    rng = np.random.default_rng(seed)
    s0 = rng.uniform(1e3, 1e5, n).round(2)
    e0 = (s0 / rng.uniform(1, 60, n)).round(3)
    saturating = np.arange(n) % 10 < 3
    return bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": [f"t{i}" for i in range(n)], "function": rng.choice(["mkt", "sales", "service"], n),
        "channel": "c", "spend": s0, "engaged": e0, "curve": np.where(saturating, "saturating", "power"),
        "elasticity": rng.uniform(0.25, 0.9, n).round(3),
        "saturation": np.where(saturating, e0 * rng.uniform(1.3, 3.0, n), np.nan),
        "max_change": rng.choice([np.nan, 0.3, 0.6], n), "value": rng.choice([1.0, 2.0, 3.0], n),
        "everyone": "yes"}))


def most_engaged(tp: pd.DataFrame, lo: np.ndarray, hi: np.ndarray, budget: float) -> float:
    """The most (unweighted) engaged customers any plan spending the budget reaches on the smooth curves,
    by bisection on the multiplier lam of the budget: x_i(lam) maximises e_i(x) - lam x on [lo_i, hi_i]
    (power: e' = a e0/s0 (x/s0)^(a-1); saturating: e' = (S/k) exp(-x/k)), and sum_i x_i(lam) falls with lam."""
    s0, e0 = tp["spend"].to_numpy(), tp["engaged"].to_numpy()
    a, sat = tp["elasticity"].to_numpy(), tp["saturation"].to_numpy()
    power = tp["curve"].to_numpy() == "power"
    with np.errstate(divide="ignore"):
        k = -s0 / np.log1p(-e0 / np.where(power, np.inf, sat))

    def spend(lam: float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            xp = s0 * np.power(lam / (a * e0 / s0), 1.0 / (a - 1.0))
            xs = k * np.log(sat / (k * lam))
        return np.clip(np.where(power, xp, np.nan_to_num(xs, nan=0.0)), lo, hi)

    low, high = 1e-12, 1e12
    for _ in range(300):
        mid = np.sqrt(low * high)
        low, high = (mid, high) if spend(mid).sum() > budget else (low, mid)
    x = spend(np.sqrt(low * high))
    assert x.sum() == pytest.approx(budget, rel=1e-9)
    return float(np.where(power, e0 * np.power(x / s0, a), sat * -np.expm1(-x / k)).sum())


def reachable(tp: pd.DataFrame, change: float) -> tuple[float, Scenario]:
    base = Scenario(budget=Budget(change=change))
    model = formulate(tp, base)
    lo, hi = model.limits()
    return most_engaged(tp, lo, hi, model.budget), base


CASES = [(4, -0.2, 0.999, 4), (6, 0.0, 0.999, 4), (7, -0.2, 0.999, 4), (4, 0.0, 0.999, 1), (4, -0.2, 0.9999, 12),
         (6, 0.0, 0.9999, 12), (9, 0.2, 0.9999, 12)]


@pytest.mark.parametrize("seed, change, share, segments", CASES)
def test_a_floor_just_below_the_reachable_maximum_gets_a_plan(seed, change, share, segments):
    tp = mixed(seed=seed)
    best, base = reachable(tp, change)
    floor = share * best
    scenario = base.model_copy(update={"rules": (Rule(tag="everyone", min_engaged=floor, name="reach"),),
                                       "settings": bo.Settings(segments=segments)})
    # the first pass's chords alone have no plan: that used to be the answer
    model = formulate(tp, scenario)
    lo, hi = model.limits()
    chords = engine.solve(model, Curves.from_table(tp).segments(lo, hi, segments))
    assert chords.status is bo.Status.INFEASIBLE
    plan = bo.optimize(tp, scenario)
    assert plan.ok, plan.conflicts
    engaged = plan.table["proposed_engaged"].sum()
    assert floor * (1 - 1e-9) <= engaged <= best * (1 + 1e-9)
    assert plan.table["proposed_spend"].sum() == pytest.approx(tp["spend"].sum() * (1 + change), rel=1e-9)
    assert plan.stats["feasibility_rounds"] >= 1 and plan.stats["floors_met_within"] == 0.0


@pytest.mark.parametrize("above", [1.0005, 1.01])
def test_a_floor_above_the_reachable_maximum_is_no_plan_with_its_conflict(above):
    tp = mixed(seed=4)
    best, base = reachable(tp, 0.0)
    scenario = base.model_copy(update={"rules": (Rule(tag="everyone", min_engaged=above * best, name="reach"),)})
    plan = bo.optimize(tp, scenario)
    assert plan.status is bo.Status.INFEASIBLE
    text = "\n".join(plan.conflicts)
    assert "reach" in text and "budget" in text


def test_tangents_lie_above_the_curve_and_touch_it_at_their_points():
    tp = mixed(n=10, seed=9)
    curves = Curves.from_table(tp)
    model = formulate(tp, Scenario())
    lo, hi = model.limits()
    points = np.column_stack([curves.breakpoints(lo, hi, 5), curves.spend0])
    outer = tangent_segments(curves, lo, hi, points)
    inner = curves.segments(lo, hi, 5)
    x = lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, 401)[None, :]
    smooth = curves.engaged(x)
    for seg, sign in ((outer, 1), (inner, -1)):
        for i in range(len(lo)):
            m = seg.touchpoint == i
            ends = lo[i] + np.concatenate([[0], np.cumsum(seg.width[m])])
            values = seg.base_engaged[i] + np.concatenate([[0], np.cumsum(seg.width[m] * seg.slope[m])])
            assert ends[-1] == pytest.approx(hi[i], rel=1e-12)
            pwl = np.interp(x[i], ends, values)
            assert (sign * (pwl - smooth[i]) >= -1e-7 * smooth[i].max()).all()
    touched = curves.engaged(np.clip(curves.spend0, lo, hi))
    starts = outer.starts()
    ends = starts + outer.width
    for i in range(len(lo)):  # at today's spend (a tangent point) U equals e
        m = outer.touchpoint == i
        s = np.clip(curves.spend0[i], lo[i], hi[i])
        vals = outer.base_engaged[i] + np.concatenate([[0], np.cumsum(outer.width[m] * outer.slope[m])])
        u = np.interp(s, np.concatenate([[lo[i]], ends[m]]), vals)
        assert u == pytest.approx(touched[i], rel=1e-7)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**16), st.floats(0.99, 0.9995), st.floats(-0.2, 0.2))
def test_floors_just_below_the_maximum_always_get_a_plan(seed, share, change):
    tp = mixed(n=12, seed=seed)
    best, base = reachable(tp, change)
    scenario = base.model_copy(update={"rules": (Rule(tag="everyone", min_engaged=share * best),)})
    plan = bo.optimize(tp, scenario)
    assert plan.ok, (plan.conflicts, plan.advice)
    assert plan.table["proposed_engaged"].sum() >= share * best * (1 - 1e-9)


def test_the_frontier_knows_its_budgets_before_solving_them():
    """A costs 10 per engaged customer (cap 300), B costs 5 (cap 150); at least 40 engaged: B's 150 gives 30, A's
    100 the other 10, so budgets run from 250 to 450. Outside that, no LP is solved."""
    from conftest import table

    from budgetopt.frontier import budget_interval, frontier
    from budgetopt.optimize import planned_model

    tp = table(function=["m", "s"], spend=[100, 100], engaged=[10, 20], curve=["linear", "linear"],
               max_spend=[300, 150], everyone=["yes", "yes"])
    scenario = Scenario(rules=(Rule(tag="everyone", min_engaged=40),))
    model, curves = planned_model(tp, scenario)
    lo, hi = model.limits()
    assert budget_interval(model, curves, curves.segments(lo, hi, 24)) == pytest.approx((250, 450, 250, 450))
    curve = frontier(tp, scenario, [200, 250, 300, 460])
    points = curve[curve["marker"] == ""].set_index("budget")
    assert points["status"].to_dict() == {200: "infeasible", 250: "optimal", 300: "optimal", 460: "infeasible"}
    assert points.loc[300, "engaged_customers"] == pytest.approx(45)  # B full (30), A 150 (15)


def test_the_outer_approximation_of_an_s_curve_lies_above_it():
    """Tangents in an S-curve's convex start lie below it: the outer approximation of such a curve is the steepest
    ray from its start, then flat at its top."""
    from budgetopt import bench

    tp = bench.s_curves(12, seed=3)
    curves = Curves.from_table(tp)
    lo, hi = np.zeros(len(tp)), tp["max_spend"].to_numpy(float)
    outer = tangent_segments(curves, lo, hi, np.column_stack([curves.breakpoints(lo, hi, 12), curves.spend0]))
    assert not curves.concave.any()
    x = lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, 2001)[None, :]
    smooth = curves.engaged(x)
    starts = outer.starts()
    for i in range(len(tp)):
        m = outer.touchpoint == i
        ends = np.concatenate([[lo[i]], starts[m] + outer.width[m]])
        values = outer.base_engaged[i] + np.concatenate([[0], np.cumsum(outer.width[m] * outer.slope[m])])
        assert ends[-1] == pytest.approx(hi[i])
        assert (np.interp(x[i], ends, values) >= smooth[i] - 1e-9 * smooth[i].max()).all()
