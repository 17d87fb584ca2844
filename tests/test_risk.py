"""How sure the plan is (issue 14 parts 1-2): joint draws of the curves and the risk of any allocation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import budgetopt as bo
from budgetopt.curves import Curves, synthetic_history
from budgetopt.draws import BAND, FIT, GIVEN, STATED, Draws, draw_curves
from budgetopt.evidence import from_history, plan_range, with_curves
from budgetopt.history import history_from_table
from budgetopt.io import read_curves, read_table
from budgetopt.risk import plan_risk, tail_mean
from budgetopt.scenario import Override

SAMPLE = "data/sample_touchpoints.csv"


def two_touchpoints() -> pd.DataFrame:
    return bo.validate_touchpoints(pd.DataFrame({
        "touchpoint": ["A", "B"], "function": ["f", "g"], "channel": "c", "spend": [50, 50], "engaged": [50, 50],
        "curve": "linear"}))


def by_hand(table: pd.DataFrame, factors: list[list[float]]) -> Draws:
    """Draws whose curves are the table's times a factor per draw and touchpoint (a stated +/-, set by hand)."""
    return Draws(table["touchpoint"].to_numpy(object), np.full(len(table), STATED, dtype=object),
                 Curves.from_table(table), np.asarray(factors, float), 0, 0.5)


def test_the_worst_tail_average_counts_the_last_draw_by_its_fraction():
    assert tail_mean([4, 1, 3, 2], 0.25) == 1.0
    assert tail_mean([4, 1, 3, 2], 0.5) == 1.5
    assert tail_mean([4, 1, 3, 2], 0.3) == pytest.approx((1 + 0.2 * 2) / 1.2)
    assert tail_mean([4, 1, 3, 2], 1.0) == 2.5
    assert tail_mean([7.0, 9.0], 0.1) == 7.0  # two draws: the worst 10 % is the worse draw


def test_the_risk_of_a_plan_by_hand():
    tp = two_touchpoints()
    draws = by_hand(tp, [[2.0, 0.5], [0.0, 1.0]])
    plan = bo.optimize(tp)  # linear curves of the same CPE: the plan keeps today's allocation (50, 50)
    assert plan.table["proposed_spend"].tolist() == [50.0, 50.0]
    span = plan_risk(plan, draws)
    assert span.plan.tolist() == [125.0, 50.0] and span.today.tolist() == [125.0, 50.0]
    assert span.beats_today == 0.0  # never strictly better than itself
    figures = span.figures()
    assert figures["plan_mean"] == 87.5 and figures["plan_tail"] == 50.0
    f = span.by_function.set_index("function")
    assert f.loc["f", "plan_mean"] == 50.0 and f.loc["g", "plan_mean"] == 37.5
    assert "range of the plan's engaged customers" in span.words()


def test_stated_uncertainty_puts_90_percent_of_draws_within_it_reproducibly():
    tp = bo.read_touchpoints(SAMPLE)
    a = draw_curves(tp, None, 400, seed=7, uncertainty=0.2)
    b = draw_curves(tp, None, 400, seed=7, uncertainty=0.2)
    c = draw_curves(tp, None, 400, seed=8, uncertainty=0.2)
    x = tp["spend"].to_numpy(float)
    assert np.array_equal(a.engaged(x), b.engaged(x)) and not np.array_equal(a.engaged(x), c.engaged(x))
    assert (a.source == STATED).all() and a.engaged(x).shape == (400, len(tp))
    ratio = a.engaged(x) / Curves.from_table(tp).engaged(x)[None, :]
    inside = np.mean(np.abs(ratio - 1) <= 0.2)
    assert 0.88 < inside < 0.92
    grid = np.outer(x, [0.5, 1.0, 2.0])
    assert a.engaged(grid).shape == (400, len(tp), 3)
    assert np.allclose(a.engaged(grid)[:, :, 1], a.engaged(x))
    assert (draw_curves(tp, None, 10).source == GIVEN).all()  # no evidence and no stated +/-: as given
    with pytest.raises(bo.BudgetOptError, match="outside 0 to 1"):
        draw_curves(tp, None, 10, uncertainty=2.0)


def history_evidence(tmp_path, n: int = 8):
    h = synthetic_history(n, 52, families=("power", "saturating"), noise=0.05, spread=0.5, seed=4)
    weeks = pd.date_range("2024-01-01", periods=52, freq="W-MON").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"week": np.tile(weeks, n), "touchpoint": np.repeat([f"tp{i}" for i in range(n)], 52),
                          "function": np.repeat([f"f{i % 2}" for i in range(n)], 52), "channel": "c",
                          "spend": h.spend.ravel().round(2), "engaged": h.engaged.ravel().round(2)})
    path = tmp_path / "history.csv"
    frame.to_csv(path, index=False)
    return from_history(history_from_table(read_table(path)))


def test_fitted_curves_are_drawn_around_the_fit_and_follow_the_scenario(tmp_path):
    evidence = history_evidence(tmp_path)
    fitted = evidence.table["curve_source"].to_numpy() == "fitted"
    assert fitted.sum() >= 6
    draws = draw_curves(evidence, None, 300, seed=1)
    assert (draws.source[fitted] == FIT).all() and (draws.source[~fitted] == GIVEN).all()
    x = evidence.table["spend"].to_numpy(float)
    values = draws.engaged(x)
    nominal = Curves.from_table(evidence.table).engaged(x)
    # the draws centre on the fit (the plan's own curve, sum_t f(S a_t)), to within their spread
    assert np.allclose(np.median(values, axis=0)[fitted], nominal[fitted], rtol=0.05)
    assert (values[:, fitted].std(axis=0) > 0).all() and (values[:, ~fitted] == nominal[~fitted]).all()
    # a what-if 'engaged at the same spend x 0.5' halves every draw of that touchpoint; a removed one is left out
    name = evidence.table["touchpoint"][fitted].iloc[0]
    gone = evidence.table["touchpoint"][fitted].iloc[1]
    scenario = bo.Scenario(overrides=(Override(touchpoint=name, cpe_multiplier=2.0),
                                      Override(touchpoint=gone, remove=True)))
    what_if = draw_curves(evidence, scenario, 300, seed=1)
    assert gone not in list(what_if.names) and len(what_if) == len(draws) - 1
    keep = evidence.table["touchpoint"].to_numpy() != gone
    shown = what_if.engaged(x[keep])
    i = list(what_if.names).index(name)
    assert np.allclose(shown[:, i], values[:, list(draws.names).index(name)] / 2)


def test_a_band_draws_every_curve_within_it(tmp_path):
    tp = bo.validate_touchpoints(pd.DataFrame({"touchpoint": ["A", "B", "C"], "function": "f", "channel": "c",
                                               "spend": [100, 100, 100], "engaged": [50, 40, 30]}))
    curves = tmp_path / "curves.csv"
    curves.write_text("touchpoint,spend,engaged,lower,upper\n" + "".join(
        f"{t},{s},{e},{e * 0.8},{e * 1.3}\n" for t, k in (("A", 1.0), ("B", 0.8))
        for s, e in ((0, 0), (100, 50 * k), (200, 80 * k), (300, 95 * k))))
    evidence = with_curves(tp, read_curves(curves))
    draws = draw_curves(evidence, None, 200, seed=2, uncertainty=0.1)
    assert draws.source.tolist() == [BAND, BAND, STATED]
    values = draws.engaged(np.array([150.0, 150.0, 100.0]))
    assert np.all(values[:, 0] >= 0.8 * 65 - 1e-9) and np.all(values[:, 0] <= 1.3 * 65 + 1e-9)
    # one position in the band for all banded touchpoints: A and B move together
    assert np.allclose((values[:, 0] / 65 - 0.8), (values[:, 1] / (65 * 0.8) - 0.8))
    assert "tabulated curves drawn within their band (2" in draws.describe()


def test_plan_range_with_a_stated_uncertainty_and_the_plans_words():
    tp = bo.read_touchpoints(SAMPLE)
    plan = bo.optimize(tp)
    assert plan_range(plan, bo.read_touchpoints(SAMPLE)) is None  # nothing drawn: no range
    span = plan_range(plan, tp, draws=300, seed=1, uncertainty=0.2)
    low, mid, high = span.quantiles(span.plan)
    assert low < plan.table["proposed_engaged"].sum() < high
    assert span.beats_today > 0.95 and span.touchpoints_with_range == len(tp)
    assert span.plan_weighted is not None  # the sample weights customers by value
    assert span.figures()["protected_plan_tail"] < span.figures()["protected_plan_mean"]
