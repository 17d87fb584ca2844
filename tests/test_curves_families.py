"""Response families by hand, carry-over, and the new curve kinds of `Curves` (hill, explicit saturating,
curve_engaged anchors, tabulated points) with their validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import table
from hypothesis import given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt.curves import HILL, LINEAR, POWER, SATURATING, TABULATED, Curves
from budgetopt.curves import families as F
from budgetopt.errors import InputError
from budgetopt.overrides import apply_overrides
from budgetopt.scenario import Override

# --- families by hand ---------------------------------------------------------------------------------------


def test_linear_by_hand():
    assert F.linear(2.0, 3.0) == 6.0
    assert F.linear_slope(np.array([0.0, 5.0]), 3.0).tolist() == [3.0, 3.0]


def test_power_by_hand():
    assert F.power(4.0, 2.0, 0.5) == pytest.approx(4.0)  # 2 * 4^0.5
    assert F.power_slope(4.0, 2.0, 0.5) == pytest.approx(0.5)  # 2 * 0.5 * 4^-0.5
    assert F.power(0.0, 2.0, 0.5) == 0.0


def test_saturating_by_hand():
    # K is the half-saturation: e(K) = S / 2, e(2K) = 3S / 4, e'(0) = S ln2 / K
    assert F.saturating(50.0, 100.0, 50.0) == pytest.approx(50.0)
    assert F.saturating(100.0, 100.0, 50.0) == pytest.approx(75.0)
    assert F.saturating_slope(0.0, 100.0, 50.0) == pytest.approx(100.0 * np.log(2) / 50.0)


def test_hill_by_hand():
    # e(2) = 10 * 4 / (1 + 4) = 8; e'(2) = S n K^n a^(n-1) / (K^n + a^n)^2 = 10 * 2 * 1 * 2 / 25 = 1.6
    assert F.hill(2.0, 10.0, 1.0, 2.0) == pytest.approx(8.0)
    assert F.hill_slope(2.0, 10.0, 1.0, 2.0) == pytest.approx(1.6)
    assert F.hill(1.0, 10.0, 1.0, 3.0) == pytest.approx(5.0)  # half-saturation
    assert F.hill(0.0, 10.0, 1.0, 3.0) == 0.0
    assert F.hill_slope(0.0, 10.0, 1.0, 3.0) == 0.0  # S-shaped: flat at 0
    assert F.hill_slope(0.0, 10.0, 2.0, 1.0) == pytest.approx(5.0)  # n = 1: S / K
    # inflection K ((n - 1) / (n + 1))^(1/n) = 150 * 0.5^(1/3) for n = 3; none for n <= 1
    assert F.hill_inflection(150.0, 3.0) == pytest.approx(150.0 * 0.5 ** (1 / 3))
    assert F.hill_inflection(150.0, 0.8) == 0.0
    a = F.hill_inflection(150.0, 3.0)
    assert F.hill_curvature(a * 0.99, 1.0, 150.0, 3.0) > 0 > F.hill_curvature(a * 1.01, 1.0, 150.0, 3.0)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.05, 20.0), scale=st.floats(0.1, 100.0), p=st.floats(0.05, 1.0), half=st.floats(0.1, 10.0),
       n=st.floats(0.5, 6.0))
def test_slopes_are_derivatives(a, scale, p, half, n):
    h = 1e-6 * a
    for family in F.FAMILIES:
        args = (scale, p, half, n)
        numeric = (F.response(family, a + h, *args) - F.response(family, a - h, *args)) / (2 * h)
        # the central difference carries a rounding error of about 1e-16 |e(a)| / h: 3e-9 where a saturated curve
        # (e near 85) has a slope near 3e-6 (a = 3, half 0.11)
        rounding = 1e-9 * max(1.0, abs(float(F.response(family, a, *args)))) / a
        assert F.slope(family, a, *args) == pytest.approx(numeric, rel=1e-4, abs=max(1e-9, rounding))
    h = 1e-4 * a
    numeric = (F.hill_slope(a + h, scale, half, n) - F.hill_slope(a - h, scale, half, n)) / (2 * h)
    assert F.hill_curvature(a, scale, half, n) == pytest.approx(numeric, rel=1e-3, abs=1e-9 * scale / half**2)


def test_evaluate_picks_each_rows_family():
    family = np.array(["linear", "power", "saturating", "hill", ""], dtype=object)
    a = np.array([2.0, 4.0, 50.0, 2.0, 1.0])
    out = F.evaluate(family, a, scale=[3.0, 2.0, 100.0, 10.0, 1.0], exponent=[np.nan, 0.5, np.nan, np.nan, 1.0],
                     half=[np.nan, np.nan, 50.0, 1.0, 1.0], shape=[np.nan, np.nan, np.nan, 2.0, 1.0])
    assert out[:4] == pytest.approx([6.0, 4.0, 50.0, 8.0])
    assert np.isnan(out[4])
    grid = F.evaluate(family[:2], np.array([[1.0, 4.0], [1.0, 4.0]]), [3.0, 2.0], [np.nan, 0.5], [np.nan] * 2,
                      [np.nan] * 2)
    assert grid.ravel().tolist() == pytest.approx([3.0, 12.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="unknown family"):
        F.response("cubic", 1.0, 1.0)


def test_adstock_by_hand():
    # a_t = lam a_{t-1} + (1 - lam) s_t
    assert F.adstock(np.array([1.0, 0.0, 0.0]), 0.5).tolist() == pytest.approx([0.5, 0.25, 0.125])
    assert F.adstock(np.array([2.0, 4.0]), 0.0).tolist() == [2.0, 4.0]
    steady = F.adstock(np.full(200, 7.0), 0.8)
    assert steady[-1] == pytest.approx(7.0)  # weights sum to 1: steady spend gives a = s
    pulse = F.adstock(np.r_[10.0, np.zeros(300)], 0.6)
    assert pulse.sum() == pytest.approx(10.0)  # carry-over moves response in time, keeps its total
    with pytest.raises(ValueError):
        F.adstock(np.ones(3), 0.9)


def test_adstock_rows_and_derivative():
    rng = np.random.default_rng(0)
    s = rng.uniform(0, 5, (3, 20))
    lam = np.array([0.0, 0.3, 0.7])
    rows = F.adstock_rows(s, lam)
    for i in range(3):
        assert rows[i] == pytest.approx(F.adstock(s[i], lam[i]))
    h = 1e-6
    numeric = (F.adstock(s[1], 0.3 + h) - F.adstock(s[1], 0.3 - h)) / (2 * h)
    assert F.adstock_derivative(s[1], 0.3) == pytest.approx(numeric, rel=1e-5, abs=1e-9)


# --- Curves: hill, explicit saturating, anchors -------------------------------------------------------------


def hill_table(shape=3.0, spend=100.0):
    return table(spend=[spend], engaged=[50.0], curve=["hill"], saturation=[200.0], half_saturation=[150.0],
                 shape=[shape], max_spend=[400.0])


def test_hill_curve_values_and_flags():
    tp = hill_table()
    c = Curves.from_table(tp)
    assert c.kind.tolist() == [HILL]
    expected = 200.0 * 100.0**3 / (150.0**3 + 100.0**3)
    assert tp["curve_engaged"].iloc[0] == pytest.approx(expected)  # the curve's own value at today's spend
    assert c.engaged(c.spend0)[0] == pytest.approx(expected)
    assert c.engaged(np.array([150.0]))[0] == pytest.approx(100.0)  # half of saturation at K
    h = 1e-4
    numeric = (c.engaged(np.array([100.0 + h])) - c.engaged(np.array([100.0 - h]))) / (2 * h)
    assert c.marginal(np.array([100.0]))[0] == pytest.approx(numeric[0], rel=1e-6)
    assert c.concave.tolist() == [False]
    assert Curves.from_table(hill_table(shape=1.0)).concave.tolist() == [True]
    assert Curves.from_table(hill_table(shape=0.7)).concave.tolist() == [True]


def test_hill_breakpoints_hold_inflection_and_tangent():
    c = Curves.from_table(hill_table())
    lo, hi = np.array([0.0]), np.array([400.0])
    points = c.breakpoints(lo, hi, 12)[0]
    inflection = 150.0 * 0.5 ** (1 / 3)
    tangent = 150.0 * 2 ** (1 / 3)  # from 0: e(t) / t = e'(t) gives t^3 = 2 K^3 for n = 3
    assert np.min(np.abs(points - inflection)) < 1e-9
    assert np.min(np.abs(points - tangent)) < 1e-6
    assert points[0] == 0.0 and points[-1] == 400.0 and np.all(np.diff(points) >= 0)
    # from a floor above the inflection the curve is concave: no inflection or tangent points needed
    above = c.breakpoints(np.array([200.0]), hi, 12)[0]
    assert np.min(np.abs(above - inflection)) > 1.0


def test_hill_chords_are_close_on_both_sides_of_the_inflection():
    c = Curves.from_table(hill_table())
    lo, hi = np.array([0.0]), np.array([400.0])
    seg = c.segments(lo, hi, 12)
    starts = seg.starts()
    errors = []
    for start, w, slope, base in zip(starts, seg.width, seg.slope, c.engaged(starts), strict=True):
        x = np.linspace(start, start + w, 41)
        errors.append(np.max(np.abs(base + slope * (x - start) - c.engaged(np.full((1, 41), x))[0])))
    inflection = 150.0 * 0.5 ** (1 / 3)
    below = [e for s, e in zip(starts, errors, strict=True) if s < inflection]
    above = [e for s, e in zip(starts, errors, strict=True) if s >= inflection]
    assert max(below) < 0.01 * 200.0 and max(above) < 0.01 * 200.0  # chord error under 1 % of saturation
    slopes = seg.slope
    assert np.argmax(slopes) not in (0, len(slopes) - 1)  # slopes rise, then fall: not concave


def test_explicit_saturating_and_anchored_saturating():
    tp = table(spend=[100.0, 100.0], engaged=[40.0, 40.0], curve=["saturating", "saturating"],
               saturation=[100.0, 100.0], half_saturation=[50.0, None])
    c = Curves.from_table(tp)
    # explicit: e(s) = S (1 - 2^(-s / K)); its curve_engaged is its value at today's spend
    assert c.engaged(np.array([50.0, 100.0]))[0] == pytest.approx(50.0)
    assert tp["curve_engaged"].tolist() == pytest.approx([75.0, 40.0])
    # anchored (no half_saturation): passes through today's point exactly as before
    assert c.engaged(c.spend0).tolist() == pytest.approx([75.0, 40.0])
    assert c.concave.tolist() == [True, True]


def test_curve_engaged_anchors_power_and_linear():
    tp = table(spend=[100.0, 100.0], engaged=[40.0, 40.0], curve=["power", "linear"], elasticity=[0.5, None],
               curve_engaged=[36.0, 50.0])
    c = Curves.from_table(tp)
    assert c.engaged(c.spend0).tolist() == pytest.approx([36.0, 50.0])
    assert c.engaged(np.array([400.0, 200.0])).tolist() == pytest.approx([72.0, 100.0])  # 36 * 2; 50 * 2
    assert c.marginal(np.array([100.0, 100.0])).tolist() == pytest.approx([0.18, 0.5])
    assert c.engaged0.tolist() == [40.0, 40.0]  # today's measured engagement stays what it was


def test_old_columns_keep_their_meaning(sample):
    """A table without the new columns gives the same curves as before: the anchor is today's point."""
    c = Curves.from_table(sample)
    assert np.array_equal(c.curve_engaged, sample["engaged"].to_numpy(float))
    assert c.engaged(c.spend0) == pytest.approx(sample["engaged"].to_numpy(float), rel=1e-12)
    assert set(sample["curve_source"]) <= {"given", "assumed"}


def test_new_touchpoint_with_hill_keeps_its_curve():
    tp = table(spend=[0.0], engaged=[0.0], curve=["hill"], saturation=[100.0], half_saturation=[50.0],
               shape=[2.0], max_spend=[200.0])
    assert tp["curve"].iloc[0] == "hill" and tp["curve_engaged"].iloc[0] == 0.0
    c = Curves.from_table(tp)
    assert c.engaged(np.array([50.0]))[0] == pytest.approx(50.0)


def test_engagement_override_scales_curve_engaged():
    tp = table(spend=[100.0, 100.0], engaged=[40.0, 40.0], curve=["power", "power"], curve_engaged=[36.0, None])
    scenario = bo.Scenario(overrides=[Override(touchpoint="A", engaged_multiplier=2.0)])

    seen = apply_overrides(tp, scenario)
    assert seen["curve_engaged"].tolist() == [72.0, 40.0]


# --- validation of the new columns --------------------------------------------------------------------------


def problems(**columns):
    with pytest.raises(InputError) as info:
        table(**columns)
    return [(p.row, p.column, p.message) for p in info.value.problems]


def test_hill_needs_its_parameters_all_reported_at_once():
    found = problems(spend=[100.0, 100.0], engaged=[10.0, 10.0], curve=["hill", "hill"],
                     saturation=[None, 50.0], half_saturation=[None, 0.0], shape=[None, 7.0])
    assert (2, "saturation", "a hill curve needs saturation, half_saturation and shape") in found
    assert (2, "half_saturation", "a hill curve needs saturation, half_saturation and shape") in found
    assert (2, "shape", "a hill curve needs saturation, half_saturation and shape") in found
    assert (3, "half_saturation", "must be above 0") in found
    assert (3, "shape", "must be between 0.5 and 6") in found


def test_curve_engaged_must_agree_with_an_explicit_curve():
    found = problems(spend=[100.0], engaged=[10.0], curve=["saturating"], saturation=[100.0],
                     half_saturation=[50.0], curve_engaged=[60.0])
    assert found == [(2, "curve_engaged", "disagrees with the curve's value at today's spend (75) by more than 1 %")]
    ok = table(spend=[100.0], engaged=[10.0], curve=["saturating"], saturation=[100.0], half_saturation=[50.0],
               curve_engaged=[75.5])
    assert ok["curve_engaged"].iloc[0] == pytest.approx(75.0)  # within 1 %: the curve's own value


def test_carryover_curve_source_and_anchored_saturation():
    found = problems(spend=[100.0, 100.0], engaged=[10.0, 10.0], carryover=[0.9, 0.2],
                     curve_source=["guessed", "fitted"], curve=["power", "saturating"], saturation=[None, 20.0],
                     curve_engaged=[None, 30.0])
    assert (2, "carryover", "must be below 0.9") in found
    assert (2, "curve_source", "is not a known curve source") in found
    assert (3, "saturation", "must be above curve_engaged") in found
    assert len(found) == 3


def test_curve_engaged_without_spend_today():
    found = problems(spend=[0.0], engaged=[0.0], cpe=[2.0], max_spend=[100.0], curve_engaged=[5.0])
    assert found == [(2, "curve_engaged", "a curve through no spend today engages no one today")]


def test_curve_source_defaults():
    tp = table(spend=[100.0, 100.0, 100.0], engaged=[10.0] * 3, elasticity=[0.5, None, None],
               curve_source=["", "", "fitted"])
    assert tp["curve_source"].tolist() == ["given", "assumed", "fitted"]
    assert table(spend=[1.0], engaged=[1.0])["curve_source"].tolist() == ["assumed"]
    assert tp["carryover"].tolist() == [0.0, 0.0, 0.0]


# --- tabulated curves ---------------------------------------------------------------------------------------


POINTS = pd.DataFrame({"touchpoint": ["B", "B", "B", "A", "A"], "spend": [80.0, 40.0, 160.0, 0.0, 100.0],
                       "engaged": [18.0, 10.0, 20.0, 0.0, 30.0]})


def tabulated():
    tp = table(spend=[100.0, 50.0, 100.0], engaged=[30.0, 10.0, 20.0])
    return tp, Curves.from_table(tp, POINTS)


def test_tabulated_values_marginals_and_anchor():
    tp, c = tabulated()
    assert c.kind.tolist() == [TABULATED, TABULATED, POWER]
    # B: (0, 0) put first, then (40, 10), (80, 18), (160, 20); flat after 160
    assert c.points_spend[1].tolist() == [0.0, 40.0, 80.0, 160.0]
    assert np.isnan(c.points_spend[2]).all()
    s = np.array([[0.0, 20.0, 40.0, 60.0, 160.0, 300.0]] * 3)
    assert c.engaged(s)[1].tolist() == pytest.approx([0.0, 5.0, 10.0, 14.0, 20.0, 20.0])
    assert c.curve_engaged[:2].tolist() == pytest.approx([30.0, 12.0])  # the tabulated value at today's spend
    assert c.engaged(c.spend0)[:2].tolist() == pytest.approx([30.0, 12.0])
    assert c.marginal(np.array([20.0, 40.0, 100.0])).tolist()[:2] == pytest.approx([0.3, 0.2])
    assert c.marginal(np.array([100.0, 160.0, 100.0]))[:2].tolist() == [0.0, 0.0]  # no extrapolation
    assert c.concave.tolist() == [True, True, True]


def test_tabulated_breakpoints_and_segments_are_the_points():
    _, c = tabulated()
    lo, hi = np.array([0.0, 10.0, 0.0]), np.array([200.0, 120.0, 300.0])
    points = np.unique(c.breakpoints(lo, hi, 12)[1])
    assert points.tolist() == [10.0, 40.0, 80.0, 120.0]  # clipped to [lo, hi], plus lo and hi
    seg = c.segments(lo, hi, 12)
    b = seg.touchpoint == 1
    assert seg.width[b].tolist() == pytest.approx([30.0, 10.0, 30.0, 40.0])  # today's spend 50 splits a piece
    assert seg.slope[b].tolist() == pytest.approx([0.25, 0.2, 0.2, 0.025])


def test_tabulated_convex_stretch_is_not_concave():
    tp = table(spend=[100.0], engaged=[30.0])
    pts = pd.DataFrame({"touchpoint": ["A"] * 3, "spend": [50.0, 100.0, 150.0], "engaged": [5.0, 30.0, 40.0]})
    assert Curves.from_table(tp, pts).concave.tolist() == [False]


def test_tabulated_points_are_checked():
    tp = table(spend=[100.0], engaged=[30.0])
    bad = pd.DataFrame({"touchpoint": ["A", "Z", "A", "A"], "spend": [10.0, 5.0, -1.0, 10.0],
                        "engaged": [1.0, 1.0, 1.0, 2.0]})
    with pytest.raises(InputError) as info:
        Curves.from_table(tp, bad)
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {(3, "touchpoint"), (4, "spend")}
    twice = bad.iloc[[0, 3]]
    with pytest.raises(InputError, match="two points at this spend"):
        Curves.from_table(tp, twice)
    with pytest.raises(InputError, match="needs a point with spend"):
        Curves.from_table(tp, pd.DataFrame({"touchpoint": ["A"], "spend": [0.0], "engaged": [0.0]}))


# --- chords of concave curves lie below them ----------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(shape=st.floats(0.5, 1.0), half=st.floats(10.0, 500.0), s0=st.floats(10.0, 400.0), explicit=st.booleans())
def test_chords_lie_below_concave_curves(shape, half, s0, explicit):
    tp = table(spend=[s0, s0], engaged=[10.0, 10.0], curve=["hill", "saturating"], saturation=[100.0, 100.0],
               half_saturation=[half, half if explicit else None], shape=[shape, None])
    c = Curves.from_table(tp)
    assert c.concave.all()
    lo, hi = np.zeros(2), np.full(2, 3 * s0)
    seg = c.segments(lo, hi, 8)
    mid = seg.starts() + seg.width / 2
    at = (seg.touchpoint, np.arange(len(mid)))
    chord = c.engaged(seg.starts()[None, :].repeat(2, 0))[at] + seg.slope * seg.width / 2
    curve = c.engaged(mid[None, :].repeat(2, 0))[at]
    assert np.all(chord <= curve + 1e-9 * np.maximum(1.0, curve))
    for t in (0, 1):
        slopes = seg.slope[seg.touchpoint == t]
        assert np.all(np.diff(slopes) <= 1e-12 * np.max(slopes))


def test_kind_codes():
    tp = table(spend=[1.0, 1.0, 1.0, 1.0], engaged=[1.0] * 4, curve=["linear", "power", "saturating", "hill"],
               saturation=[None, None, 2.0, 2.0], half_saturation=[None, None, None, 1.0], shape=[None] * 3 + [2.0])
    assert Curves.from_table(tp).kind.tolist() == [LINEAR, POWER, SATURATING, HILL]


def test_plan_csv_keeps_the_new_curves():
    """plan.csv read back gives the same curves: the curve columns travel with it, curve_engaged does not (read
    back, the plan's engagement is on the curve at the plan's spend; plan.csv rounds it to cents)."""
    import io

    from budgetopt.export import assumptions, plan_csv_bytes

    tp = table(spend=[100.0, 100.0, 100.0, 80.0], engaged=[50.0, 40.0, 30.0, 20.0],
               curve=["hill", "saturating", "power", "linear"], saturation=[200.0, 100.0, None, None],
               half_saturation=[150.0, 80.0, None, None], shape=[3.0, None, None, None],
               curve_engaged=[None, None, 28.0, 44.0], max_spend=[300.0] * 4, curve_source=["fitted"] * 4)
    plan = bo.optimize(tp, bo.Scenario())
    assert (plan.table["proposed_spend"] > 0).all()  # none switched off: each re-anchors at the plan's point
    back = bo.validate_touchpoints(pd.read_csv(io.BytesIO(plan_csv_bytes(plan, inputs=tp))))
    spend = np.tile([[10.0, 50.0, 150.0, 290.0]], (4, 1))
    before, after = Curves.from_table(tp).engaged(spend), Curves.from_table(back).engaged(spend)
    assert after[:2].ravel() == pytest.approx(before[:2].ravel(), rel=1e-9)  # given by their parameters: exact
    assert after[2:].ravel() == pytest.approx(before[2:].ravel(), rel=0.01)  # anchored at the plan's rounded point
    assert back["curve_source"].tolist() == ["fitted"] * 4
    lines = assumptions(plan, tp)
    assert any(line.startswith("hill: 1 touchpoint") for line in lines)
