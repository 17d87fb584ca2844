"""S-curves and curves with convex stretches: a MIP fills segments in order and finds the global optimum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt.curves import Curves


def s_and_line(line_slope: float, shape: float = 3.0, cap: float = 300.0) -> pd.DataFrame:
    """S: a hill curve (saturation 1,000, half-saturation 100, the given shape); L: a straight line."""
    s0 = 50.0
    raw = pd.DataFrame({"touchpoint": ["S", "L"], "function": ["f", "g"], "channel": "c", "spend": [s0, s0],
                        "engaged": [1000 * s0**shape / (100**shape + s0**shape), s0 * line_slope],
                        "curve": ["hill", "linear"], "saturation": [1000, None], "half_saturation": [100, None],
                        "shape": [shape, None], "max_spend": [cap, cap]})
    return bo.validate_touchpoints(raw)


def brute_force(tp: pd.DataFrame, budget: float, points: int = 20001) -> tuple[float, float]:
    """The best split of the budget between two touchpoints on their smooth curves: (spend on the first, total)."""
    curves = Curves.from_table(tp)
    hi = tp["max_spend"].to_numpy(float)
    first = np.linspace(max(0.0, budget - hi[1]), min(budget, hi[0]), points)
    total = curves.engaged(np.vstack([first, budget - first])).sum(axis=0)
    return float(first[total.argmax()]), float(total.max())


def test_the_concave_envelope_picks_the_wrong_side_and_the_mip_does_not():
    # the line from the origin that touches the S-curve (its concave envelope's first piece) has slope
    # max_t e(t) / t = 1000 t^2 / (1e6 + t^3), at t^3 = 2e6: about 5.29 engaged customers per unit of money
    t = (2e6) ** (1 / 3)
    envelope = 1000 * t**2 / (1e6 + t**3)
    line = 5.2  # L's slope: below the envelope's, so an LP on the envelope sends the money to S ...
    assert envelope > line
    tp = s_and_line(line)
    plan = bo.optimize(tp, bo.Scenario(budget=bo.Budget(total=100)))
    # ... where it buys e_S(100) = 500, while L buys 520: the MIP keeps the money in L
    assert plan.ok and plan.table["proposed_spend"].tolist() == pytest.approx([0.0, 100.0], abs=1e-6)
    assert plan.table["proposed_engaged"].sum() == pytest.approx(520.0)
    assert plan.stats["mip_touchpoints"] == 1 and plan.stats["mip_gap"] <= 1e-6
    assert plan.stats["prices_from"] == "the LP with the MIP's binaries fixed"
    assert any("mixed-integer" in note for note in plan.notes())
    # with more money the S-curve's steep middle pays: the plan crosses over, as brute force does
    rich = bo.optimize(tp, bo.Scenario(budget=bo.Budget(total=300)))
    best, total = brute_force(tp, 300)
    assert rich.table["proposed_engaged"].sum() == pytest.approx(total, rel=2e-3)
    assert rich.table["proposed_spend"].iloc[0] == pytest.approx(best, rel=0.02)


def test_prices_come_from_the_lp_with_the_binaries_fixed():
    tp = s_and_line(5.2)
    plan = bo.optimize(tp, bo.Scenario(budget=bo.Budget(total=100)))
    # all in L, which is linear: the next unit of money buys L's 5.2 customers, so the marginal CPE is 1 / 5.2
    assert plan.marginal_cpe == pytest.approx(1 / 5.2, rel=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.floats(2.0, 8.0), st.floats(1.5, 4.0), st.floats(40.0, 400.0))
def test_the_plan_matches_brute_force_on_two_touchpoints(line, shape, budget):
    tp = s_and_line(line, shape, cap=400.0)
    plan = bo.optimize(tp, bo.Scenario(budget=bo.Budget(total=budget)))
    assert plan.ok
    _, total = brute_force(tp, budget)
    got = float(plan.table["proposed_engaged"].sum())
    assert got >= total * (1 - 5e-3)  # within the piecewise model's accuracy of the global optimum
    assert got <= total * (1 + 1e-6)  # and never above what the curves allow
    assert plan.table["proposed_spend"].sum() == pytest.approx(budget, rel=1e-9, abs=1e-5)


def test_concave_curves_stay_a_pure_lp():
    raw = pd.DataFrame({"touchpoint": ["A", "B"], "function": "f", "channel": "c", "spend": [100, 100],
                        "engaged": [10, 20], "curve": ["power", "hill"], "elasticity": [0.6, None],
                        "saturation": [None, 100], "half_saturation": [None, 150], "shape": [None, 0.9]})
    plan = bo.optimize(bo.validate_touchpoints(raw))
    assert plan.ok and "mip_touchpoints" not in plan.stats


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.1, 10.0), min_size=3, max_size=7), st.floats(0.5, 6.0), st.floats(5.0, 60.0))
def test_any_tabulated_shape_is_filled_in_order(slopes, line, budget):
    """A tabulated curve of any shape (convex and concave stretches in any order), beside a straight line: the plan
    is the best split of the budget on the piecewise curve, found by brute force."""
    xs = np.arange(len(slopes) + 1) * 10.0
    es = np.r_[0.0, np.cumsum(np.asarray(slopes) * 10.0)]
    points = " ".join(f"{x:g}:{e:.10g}" for x, e in zip(xs, es, strict=True))
    raw = pd.DataFrame({"touchpoint": ["T", "L"], "function": "f", "channel": "c", "spend": [10.0, 10.0],
                        "engaged": [es[1], 10.0 * line], "curve": ["tabulated", "linear"],
                        "curve_points": [points, ""], "max_spend": [xs[-1], 100.0]})
    tp = bo.validate_touchpoints(raw)
    plan = bo.optimize(tp, bo.Scenario(budget=bo.Budget(total=budget)))
    assert plan.ok
    split = np.linspace(max(0.0, budget - 100.0), min(budget, xs[-1]), 200001)
    best = float((np.interp(split, xs, es) + line * (budget - split)).max())
    got = float(plan.table["proposed_engaged"].sum())
    assert got == pytest.approx(best, rel=1e-4)


def test_a_large_mip_starts_from_the_concave_envelope_and_says_how_sure_it_is(monkeypatch):
    """Above MIP_DIRECT_BINARIES the plan comes from the envelope and a repair (the MIP runs only if that is more than
    0.1 % from the envelope's bound): the certified gap is in the plan, and the plan is as good as brute force."""
    from budgetopt import engine

    monkeypatch.setattr(engine, "MIP_DIRECT_BINARIES", 0)
    for line, budget in ((5.2, 100.0), (3.0, 300.0), (6.0, 250.0)):
        tp = s_and_line(line, cap=400.0)
        plan = bo.optimize(tp, bo.Scenario(budget=bo.Budget(total=budget)))
        _, best = brute_force(tp, budget)
        assert plan.ok and plan.table["proposed_engaged"].sum() >= best * (1 - 5e-3)
        assert plan.stats["mip_method"].startswith(("the concave envelope and a repair", "a mixed-integer programme"))
        assert 0.0 <= plan.stats["mip_gap"] <= 1e-3
