"""Curve fitting from per-period history: recovery of known curves, the family choice, verdicts, uncertainty,
the planning-period curve and the fitted table as an input file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt.curves import (
    NOT_IDENTIFIED,
    WEAK,
    Curves,
    fit_curves,
    fitted_table,
    period_curve,
    synthetic_history,
)
from budgetopt.curves import families as F
from budgetopt.curves import fit as fitting


@pytest.fixture(scope="module")
def noisy():
    """60 touchpoints (15 per family) x 104 weeks: 5 % noise, 8 % dark weeks, carry-over 0-0.5, starts
    staggered over the first 20 % of the weeks."""
    history = synthetic_history(60, 104, noise=0.05, carryover=(0.0, 0.5), late=0.2, seed=11)
    return history, fit_curves(history.spend, history.engaged, history.observed)


def test_noise_free_histories_are_recovered_exactly():
    history = synthetic_history(40, 104, noise=0.0, carryover=(0.0, 0.5), late=0.2, seed=4)
    fits = fit_curves(history.spend, history.engaged, history.observed)
    assert fits.family.tolist() == history.family.tolist()
    for name in ("scale", "exponent", "half_saturation", "shape"):
        got, true = getattr(fits, name), getattr(history, name)
        assert np.array_equal(np.isnan(got), np.isnan(true))
        assert got[~np.isnan(true)] == pytest.approx(true[~np.isnan(true)], rel=1e-6)
    assert fits.carryover == pytest.approx(history.carryover, abs=1e-6)
    assert (fits.verdict == "good").all()
    assert fits.r2 == pytest.approx(np.ones(40), abs=1e-9)


def test_noisy_histories_family_parameters_and_carryover(noisy):
    """Measured on this instance: 59 of 60 families right (the one miss: a hill curve taken for saturating);
    where right, p within 4 %, K within 7 %, S within 7 %, n within 10 %; carry-over within 0.03."""
    history, fits = noisy
    right = fits.family == history.family
    assert right.mean() >= 0.9
    for family, name, tolerance in ((F.POWER, "exponent", 0.06), (F.SATURATING, "half_saturation", 0.12),
                                    (F.SATURATING, "scale", 0.12), (F.HILL, "half_saturation", 0.12),
                                    (F.HILL, "scale", 0.12), (F.HILL, "shape", 0.15)):
        rows = right & (history.family == family)
        assert getattr(fits, name)[rows] == pytest.approx(getattr(history, name)[rows], rel=tolerance)
    assert np.abs(fits.carryover - history.carryover).max() < 0.05


def test_noisy_period_curve_is_close_to_the_truth(noisy):
    """The 13-week curve E(S) = 13 f(S / 13) against the true one over [0.3, 2] x the mean 13-week spend: the
    largest gap, as a share of the true curve's top of that range, was 2.9 % (90 % of touchpoints under 1.9 %)."""
    history, fits = noisy
    plan = period_curve(fits, 13)
    money = 13 * history.mean_spend[:, None] * np.linspace(0.3, 2.0, 40)[None, :]
    true = 13 * history.true_engaged(money / 13)
    gap = np.abs(plan.engaged(money) - true).max(axis=1) / true.max(axis=1)
    assert gap.max() < 0.035
    assert np.quantile(gap, 0.9) < 0.025
    assert np.median(gap) < 0.015


def test_family_is_chosen_by_aicc_not_in_sample_fit():
    """Linear truth: hill can bend to the noise (it nests a near-linear curve), but AICc charges its two extra
    parameters and keeps linear."""
    rng = np.random.default_rng(3)
    spend = rng.uniform(500, 2000, (1, 104))
    engaged = 0.1 * spend + rng.normal(0, 5, spend.shape)
    observed = np.ones(spend.shape, bool)
    fits = fit_curves(spend, engaged, observed)
    only_hill = fit_curves(spend, engaged, observed, families=("hill",))
    assert fits.family.tolist() == ["linear"]
    assert fits.scale[0] == pytest.approx(0.1, rel=0.01)
    assert only_hill.aicc[0] > fits.aicc[0]


def test_verdicts_not_identified_and_the_assumption():
    rng = np.random.default_rng(0)
    t = 52
    spend = rng.uniform(500, 1500, (4, t))
    spend[0, 6:] = 0.0  # 6 periods with spend
    spend[1] = 1000.0 * (1 + 0.01 * rng.standard_normal(t))  # coefficient of variation 0.01
    engaged = 0.1 * spend * (1 + 0.03 * rng.standard_normal((4, t)))
    engaged[2] = 0.0  # spend and never an outcome
    fits = fit_curves(spend, engaged, np.ones((4, t), bool))
    assert fits.verdict.tolist() == [NOT_IDENTIFIED] * 3 + ["good"]
    assert fits.reason[0] == "6 periods with spend (fewer than 8)"
    assert fits.reason[1].startswith("no variation in spend (coefficient of variation 0.01")
    assert fits.reason[2] == "no outcome in any period"
    assert fits.family.tolist()[:3] == ["", "", ""] and np.isnan(fits.scale[:3]).all()
    assert fits.periods_with_spend.tolist() == [6, 52, 52, 52]

    names = ["few", "flat", "silent", "fine"]
    today_spend, today_engaged = spend.sum(axis=1), np.maximum(engaged.sum(axis=1), 1.0)
    table = fitted_table(fits, names, today_spend, today_engaged, periods=52)
    assumed = table.iloc[:3]
    assert assumed["curve"].tolist() == ["power"] * 3
    assert assumed["elasticity"].tolist() == [0.6] * 3
    assert assumed["curve_source"].tolist() == ["assumed"] * 3
    assert assumed["curve_engaged"].tolist() == today_engaged[:3].tolist()  # anchored at today's point
    assert table["curve_source"].iloc[3] == "fitted" and table["curve"].iloc[3] == "linear"


def test_weak_when_saturation_is_extrapolated():
    rng = np.random.default_rng(5)
    spend = rng.uniform(200, 1000, (1, 104))
    engaged = F.saturating(spend, 5000.0, 8000.0) * (1 + 0.05 * rng.standard_normal(spend.shape))
    fits = fit_curves(spend, engaged, np.ones(spend.shape, bool), families=("saturating",))
    assert fits.verdict.tolist() == [WEAK]
    assert "saturation is extrapolated" in fits.reason[0]


def test_weak_when_the_held_out_periods_are_not_predicted():
    rng = np.random.default_rng(6)
    spend = rng.uniform(500, 1500, (1, 60))
    engaged = 0.1 * spend * (1 + 0.03 * rng.standard_normal(spend.shape))
    engaged[0, 48:] *= 0.4  # the last 20 % respond far less: a change the history could not foresee
    fits = fit_curves(spend, engaged, np.ones(spend.shape, bool))
    assert fits.verdict.tolist() == [WEAK]
    assert fits.mape_holdout[0] > 0.3
    assert "held-out" in fits.reason[0]


def test_observed_mask_and_dark_periods():
    """Periods before a touchpoint's first row are not observed; dark periods inside are evidence of no spend."""
    history = synthetic_history(8, 60, noise=0.0, late=0.5, dark=0.2, seed=2)
    fits = fit_curves(history.spend, history.engaged, history.observed)
    assert fits.periods_observed.tolist() == history.observed.sum(axis=1).tolist()
    assert fits.periods_with_spend.tolist() == (history.spend > 0).sum(axis=1).tolist()
    spent = np.where(history.spend > 0, history.spend, np.nan)
    assert fits.spend_max == pytest.approx(np.nanmax(spent, axis=1))
    assert fits.spend_min == pytest.approx(np.nanmin(spent, axis=1))
    assert fits.family.tolist() == history.family.tolist()


def test_same_input_same_fit(noisy):
    history, fits = noisy
    again = fit_curves(history.spend, history.engaged, history.observed)
    for name in ("theta", "cov", "r2", "r2_holdout", "mape_holdout", "scale"):
        assert np.array_equal(getattr(fits, name), getattr(again, name), equal_nan=True)
    assert fits.verdict.tolist() == again.verdict.tolist()


def test_period_curve_scaling_identities(noisy):
    history, fits = noisy
    p = 13.0
    plan = period_curve(fits, p)
    money = history.mean_spend[:, None] * np.array([[1.0, 5.0, 13.0, 30.0]])
    assert plan.engaged(money) == pytest.approx(p * fits.engaged(money / p), rel=1e-12)
    fam = fits.family
    lin, pw, sat, hill = (fam == f for f in (F.LINEAR, F.POWER, F.SATURATING, F.HILL))
    assert plan.scale[lin] == pytest.approx(fits.scale[lin])
    assert plan.scale[pw] == pytest.approx(fits.scale[pw] * p ** (1 - fits.exponent[pw]))
    assert plan.exponent[pw] == pytest.approx(fits.exponent[pw])
    for rows in (sat, hill):
        assert plan.scale[rows] == pytest.approx(p * fits.scale[rows])
        assert plan.half_saturation[rows] == pytest.approx(p * fits.half_saturation[rows])
    assert plan.shape[hill] == pytest.approx(fits.shape[hill])
    assert period_curve(plan, 2.0).scale[sat] == pytest.approx(2 * p * fits.scale[sat])
    with pytest.raises(ValueError):
        period_curve(fits, 0)


def test_draws_and_band(noisy):
    history, fits = noisy
    first, again = fits.draws(50, seed=1), fits.draws(50, seed=1)
    assert np.array_equal(first.scale, again.scale)
    assert not np.array_equal(first.scale, fits.draws(50, seed=2).scale)
    assert first.scale.shape == (50, 60)
    assert np.nanmax(first.exponent) <= 1.0
    assert np.nanmin(first.shape) >= 0.5 and np.nanmax(first.shape) <= 6.0
    assert (first.carryover >= 0).all() and (first.carryover < 0.9).all()
    spend = history.mean_spend
    lower, upper = fits.band(spend, level=0.9)
    fitted = fits.engaged(spend)
    assert np.all(lower <= fitted) and np.all(fitted <= upper)
    # calibrated on this instance: the 90 % band held the true curve at the mean spend for 90 % of touchpoints
    true = history.true_engaged(spend)
    assert np.mean((lower <= true) & (true <= upper)) >= 0.75
    wide = fits.band(spend, level=0.99)
    assert np.all(wide[0] <= lower) and np.all(upper <= wide[1])
    grid = fits.band(spend[:, None] * np.array([[0.5, 1.0]]))
    assert grid[0].shape == (60, 2)


def test_band_narrows_with_less_noise():
    widths = []
    for noise in (0.02, 0.1):
        history = synthetic_history(20, 104, noise=noise, seed=8, families=("saturating",))
        fits = fit_curves(history.spend, history.engaged, history.observed, families=("saturating",),
                          carryover=False)
        lower, upper = fits.band(history.mean_spend)
        widths.append(np.median((upper - lower) / fits.engaged(history.mean_spend)))
    assert widths[0] < widths[1] / 3


def test_options_and_bad_input():
    history = synthetic_history(8, 52, noise=0.03, carryover=(0.2, 0.5), seed=1)
    no_carry = fit_curves(history.spend, history.engaged, history.observed, carryover=False)
    assert (no_carry.carryover == 0).all()
    only_power = fit_curves(history.spend, history.engaged, history.observed, families=("power",), carryover=True)
    assert set(only_power.family) == {"power"} and (only_power.carryover > 0).all()
    with pytest.raises(ValueError, match="same shape"):
        fit_curves(history.spend, history.engaged[:, :10], history.observed)
    with pytest.raises(ValueError, match="negative"):
        fit_curves(-history.spend, history.engaged, history.observed)
    with pytest.raises(ValueError, match="unknown families"):
        fit_curves(history.spend, history.engaged, history.observed, families=("cubic",))
    with pytest.raises(ValueError, match="carryover"):
        fit_curves(history.spend, history.engaged, history.observed, carryover="maybe")


def test_table_lists_every_touchpoint(noisy):
    _, fits = noisy
    frame = fits.table([f"T{i}" for i in range(60)])
    assert len(frame) == 60 and frame["touchpoint"].iloc[0] == "T0"
    assert {"family", "scale", "exponent", "half_saturation", "shape", "carryover", "r2", "r2_holdout",
            "mape_holdout", "periods_with_spend", "spend_min", "spend_max", "verdict", "reason"} <= set(frame)


def test_fitted_table_is_a_valid_input_and_plans(noisy):
    history, fits = noisy
    weeks = 13
    names = [f"T{i}" for i in range(60)]
    today_spend = history.spend[:, -weeks:].sum(axis=1)
    today_engaged = history.engaged[:, -weeks:].sum(axis=1)
    table = fitted_table(fits, names, today_spend, today_engaged, periods=weeks)
    assert table["observed_max_spend"].to_numpy() == pytest.approx(fits.spend_max * weeks)
    assert set(table["curve_source"]) == {"fitted"}
    table["function"], table["channel"] = "marketing", "ads"
    touchpoints = bo.validate_touchpoints(table)
    curves = Curves.from_table(touchpoints)
    plan_curves = period_curve(fits, weeks)
    assert curves.engaged(curves.spend0) == pytest.approx(touchpoints["curve_engaged"].to_numpy(), rel=1e-9)
    money = today_spend[:, None] * np.array([[0.5, 1.0, 2.0]])
    assert curves.engaged(money) == pytest.approx(plan_curves.engaged(money), rel=1e-9)
    assert curves.concave.tolist() == (~((fits.family == "hill") & (plan_curves.shape > 1))).tolist()
    plan = bo.optimize(touchpoints, bo.Scenario())
    assert plan.status.is_ok


@settings(max_examples=15, deadline=None)
@given(family=st.sampled_from(F.FAMILIES), periods=st.integers(30, 80), seed=st.integers(0, 10_000))
def test_noise_free_history_reproduces_its_curve(family, periods, seed):
    history = synthetic_history(1, periods, families=(family,), noise=0.0, seed=seed)
    fits = fit_curves(history.spend, history.engaged, history.observed, carryover=False)
    if fits.verdict[0] == NOT_IDENTIFIED:  # a draw with too few periods with spend
        assert fits.periods_with_spend[0] < fitting.MIN_PERIODS_WITH_SPEND
        return
    seen = history.spend[history.spend > 0]
    grid = np.linspace(seen.min(), seen.max(), 25)[None, :]
    assert fits.engaged(grid) == pytest.approx(history.true_engaged(grid), rel=1e-5)


def test_fitted_table_for_touchpoints_without_spend_today():
    history = synthetic_history(4, 52, noise=0.02, seed=9)
    fits = fit_curves(history.spend, history.engaged, history.observed)
    table = fitted_table(fits, list("ABCD"), np.zeros(4), np.zeros(4), periods=4)
    table["function"], table["channel"] = "f", "c"
    table["max_spend"] = table["observed_max_spend"]
    touchpoints = bo.validate_touchpoints(table)
    explicit = np.isin(fits.family, ("saturating", "hill"))
    assert (touchpoints["curve"].to_numpy()[~explicit] == "linear").all()  # one point at 0 spend: constant cost
    assert pd.notna(table["cpe"][~explicit]).all()


def test_bench_reports_its_figures():
    result = fitting.bench(12, 40)
    assert result["touchpoints"] == 12 and result["periods"] == 40 and result["seconds"] > 0
    assert sum(result["verdicts"].values()) == 12
    assert 0.0 <= result["family_as_generated"] <= 1.0


def test_a_fit_that_runs_away_gives_way_to_a_simpler_family():
    """Quarterly money written as months (three equal months each): an S-curve 'fits' by running its saturation
    to 1e14, numbers no table can hold; the simpler family takes its place."""
    from budgetopt.curves.fit import RUNAWAY

    levels = np.array([259784.74, 343437.54, 275853.90, 422846.67])
    outcome = np.array([46091.46, 61170.81, 49751.68, 82589.22])
    spend, engaged = np.repeat(levels, 3)[None], np.repeat(outcome, 3)[None]
    fits = fit_curves(spend, engaged, np.ones_like(spend, bool))
    assert fits.family[0] in ("linear", "power")
    assert not np.isfinite(fits.half_saturation[0]) or fits.half_saturation[0] < RUNAWAY * levels.mean()
    assert np.isfinite(fits.scale[0]) and fits.scale[0] < 1.0
