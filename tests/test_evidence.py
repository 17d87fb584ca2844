"""Curves from evidence (issue 11): the extrapolation guard, fitted and tabulated curves in plans."""

from __future__ import annotations

from pathlib import Path

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


# ---- from a history to a plan, scored on the true curves --------------------------------------------------------

import numpy as np  # noqa: E402

from budgetopt.cli import main  # noqa: E402
from budgetopt.curves import families as F  # noqa: E402
from budgetopt.curves import synthetic_history  # noqa: E402
from budgetopt.evidence import from_history, plan_range, with_curves  # noqa: E402
from budgetopt.history import history_from_table  # noqa: E402
from budgetopt.io import read_curves, read_table  # noqa: E402

WEEKS = 52


def history_file(tmp_path, seed: int, n: int = 24, carryover=(0.0, 0.0)):
    """A weekly history from known curves (power, saturating and S-shaped hill), floors 0.3x and caps 2x today."""
    h = synthetic_history(n, WEEKS, families=("power", "saturating", "hill"), noise=0.05, spread=0.5, dark=0.05,
                          carryover=carryover, seed=seed)
    total = h.spend.sum(axis=1)
    weeks = pd.date_range("2024-01-01", periods=WEEKS, freq="W-MON").strftime("%Y-%m-%d")
    frame = pd.DataFrame({
        "week": np.tile(weeks, n), "touchpoint": np.repeat([f"tp{i:02d}" for i in range(n)], WEEKS),
        "function": np.repeat([f"f{i % 4}" for i in range(n)], WEEKS), "channel": "c",
        "spend": h.spend.ravel().round(2), "engaged": h.engaged.ravel().round(2),
        "min_spend": np.repeat((0.3 * total).round(2), WEEKS), "max_spend": np.repeat((2.0 * total).round(2), WEEKS)})
    path = tmp_path / f"history{seed}.csv"
    frame.to_csv(path, index=False)
    share = h.spend / total[:, None]
    shares = F.adstock_rows(np.concatenate([share, share], axis=1), h.carryover)[:, WEEKS:]
    return path, h, total, shares


def true_period(h, shares, i: int, spend: np.ndarray) -> np.ndarray:
    """The true engagement of touchpoint i over the 52 weeks at period spend S: sum_t f_i(S a_t)."""
    a = np.atleast_1d(spend)[:, None] * shares[i][None, :]
    one = lambda v: np.array([v])  # noqa: E731
    values = F.evaluate(np.array([h.family[i]]), a.reshape(1, -1), one(h.scale[i]), one(h.exponent[i]),
                        one(h.half_saturation[i]), one(h.shape[i]))
    return values.reshape(a.shape).sum(axis=1)


def true_optimum(h, shares, total, steps: int = 3000) -> float:
    """The best engagement within floors 0.3x and caps 2x at today's budget: dynamic programming on a budget grid."""
    budget, best = total.sum(), None
    step = budget / steps
    for i in range(len(total)):
        grid = np.arange(int(np.ceil(0.3 * total[i] / step)), int(2.0 * total[i] / step) + 1)
        values = true_period(h, shares, i, grid * step)
        new = np.full(steps + 1, -np.inf)
        for g, v in zip(grid[grid <= steps], values, strict=False):
            before = np.r_[0.0, np.full(steps - g, -np.inf)] if best is None else best[:steps + 1 - g]
            new[g:] = np.maximum(new[g:], before + v)
        best = new
    return float(best.max())


@pytest.mark.parametrize("seed,carryover", [(0, (0.0, 0.0)), (1, (0.0, 0.4))])
def test_a_plan_from_history_is_near_the_true_optimum_and_predicts_it(tmp_path, seed, carryover):
    path, h, total, shares = history_file(tmp_path, seed, carryover=carryover)
    evidence = from_history(history_from_table(read_table(path)))
    assert (evidence.table[bo.schema.CURVE_SOURCE] == "fitted").all()
    plan = bo.optimize(evidence.table)
    names = [f"tp{i:02d}" for i in range(len(total))]
    index = [names.index(t) for t in plan.table["touchpoint"]]
    x = plan.table["proposed_spend"].to_numpy()
    truth = sum(true_period(h, shares, i, x[k])[0] for k, i in enumerate(index))
    optimum = true_optimum(h, shares, total)
    assert truth >= optimum * (1 - 0.01)  # within 1 % of the true optimum (the grid makes the DP a hair short)
    assert plan.table["proposed_engaged"].sum() == pytest.approx(truth, rel=0.02)  # the prediction within 2 %
    assert plan.stats.get("mip_touchpoints", 0) > 0  # the S-curves were solved as a MIP
    span = plan_range(plan, evidence)
    low, _, high = span.quantiles(span.plan)
    assert low < plan.table["proposed_engaged"].sum() < high and span.beats_today > 0.9


def test_a_plan_on_the_true_curves_tabulated_is_within_a_hair_of_the_optimum(tmp_path):
    path, h, total, shares = history_file(tmp_path, 2)
    points = []
    for i in range(len(total)):
        spend = np.linspace(0.0, 2.0 * total[i], 81)
        points += [(f"tp{i:02d}", s, e) for s, e in zip(spend, true_period(h, shares, i, spend), strict=True)]
    curves_path = tmp_path / "curves.csv"
    pd.DataFrame(points, columns=["touchpoint", "spend", "engaged"]).to_csv(curves_path, index=False)
    today = from_history(history_from_table(read_table(path))).table
    evidence = with_curves(today, read_curves(curves_path))
    plan = bo.optimize(evidence.table)
    x = plan.table["proposed_spend"].to_numpy()
    index = [int(t[2:]) for t in plan.table["touchpoint"]]
    truth = sum(true_period(h, shares, i, x[k])[0] for k, i in enumerate(index))
    assert truth >= true_optimum(h, shares, total) * (1 - 0.003)
    assert (plan.table["upper_limit"] <= 2.0 * total[index] * (1 + 1e-6)).all()  # never beyond the last point


def test_fit_and_optimize_on_the_command_line(tmp_path, capsys):
    path, *_ = history_file(tmp_path, 3, n=12)
    out = tmp_path / "touchpoints.csv"
    assert main(["fit", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "verdict" in printed and "good" in printed
    fitted = bo.read_touchpoints(out)  # the fitted table is a valid input, its curve columns plain
    assert {"curve", "saturation", "half_saturation", "shape", "spread", "curve_source"} <= set(fitted.columns)
    assert (fitted["curve_source"] == "fitted").all()
    assert main(["optimize", str(out), "--out", str(tmp_path / "a.csv")]) == 0
    assert main(["optimize", str(path), "--out", str(tmp_path / "b.csv")]) == 0  # a history: fitted, then planned
    printed = capsys.readouterr().out
    assert "range of the plan's engaged customers" in printed and "curves fitted to their history" in printed
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert np.allclose(a["proposed_spend"], b["proposed_spend"], rtol=1e-3, atol=1.0)


def test_an_mmm_curve_export_plans_with_its_band(tmp_path, capsys):
    files = Path(__file__).parent / "files" / "curves"
    table = tmp_path / "touchpoints.csv"
    table.write_text("touchpoint,function,channel,spend,engaged\nChannel0,marketing,tv,2512310,471330\n"
                     "Channel1,marketing,search,1500000,223101\nCall centre,service,phone,800000,90000\n")
    assert main(["optimize", str(table), "--curves", str(files / "meridian_long.csv"), "--curves-map",
                 "touchpoint=channel", "--curves-map", "engaged=incremental_outcome"]) == 0
    printed = capsys.readouterr()
    assert "response curves tabulated from a model" in printed.out and "tabulated curves drawn within their band" in \
        printed.out
    assert "no curve for 'Call centre'" in printed.err
