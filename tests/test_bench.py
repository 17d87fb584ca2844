"""The benchmark cannot rot: a smoke run of its smallest size, and its exact reference checked independently."""

from __future__ import annotations

import math

import pytest
from exact import power_optimum

import budgetopt as bo
from budgetopt import bench, cli
from budgetopt.model import formulate


def test_smoke_run_completes_and_engine_and_floor_agree():
    lines: list[str] = []
    (row,) = bench.run(sizes=[20], repeat=1, isolate=False, peer_limit=5.0, out=lines.append)
    assert math.isfinite(row.total) and row.lp_columns > 0 and not row.notes
    assert row.objective == pytest.approx(row.floor_objective, rel=1e-6)
    assert any(line.split("|")[0].strip() == "20" for line in lines)


def test_bisection_matches_the_tests_own_exact_optimum():
    tp = bench.smooth_touchpoints(40, seed=5)
    model = formulate(tp, bench.SMOOTH)
    lo, hi = model.limits()
    x, best = bench.exact_optimum(tp, lo, hi, model.budget)
    _, reference = power_optimum(tp["spend"], tp["engaged"], tp["elasticity"], tp["value"], lo, hi, model.budget)
    assert best == pytest.approx(reference, rel=1e-10)
    assert x.sum() == pytest.approx(model.budget, rel=1e-9)
    assert (x >= lo - 1e-9).all() and (x <= hi + 1e-9).all()


def test_bench_is_a_subcommand(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["bench", "--help"])
    assert done.value.code == 0
    assert "--repeat" in capsys.readouterr().out


def test_batch_sizes_are_touchpoints_by_month(monkeypatch):
    assert "month" not in bench.touchpoints(30)
    monkeypatch.setattr(bench, "BATCH", 48)
    year = bench.touchpoints(50)
    assert len(year) == 60  # 5 touchpoints x 12 months
    assert sorted(year["month"].unique()) == [f"m{m:02d}" for m in range(1, 13)]
    assert len(bench.scenario(year).rules) == len(set(year["function"])) + len(set(year["stage"])) + 12


def test_the_conic_reference_agrees_with_the_engine_on_the_same_rules():
    """cvxpy + Clarabel on the smooth problem, written apart from our LP: our plan within 0.1 % of its optimum
    (and never above it, beyond its own tolerance), with a value per touchpoint and every group rule."""
    tp = bench.touchpoints(120, values=True)
    sc = bench.scenario(tp)
    exact = bench.conic(tp, sc)
    assert exact["status"] == "optimal"
    plan = bo.optimize(tp, sc)
    ours = float((plan.table["proposed_engaged"] * plan.table["value"]).sum())
    assert ours == pytest.approx(exact["objective"], rel=1e-3)
    assert ours <= exact["objective"] * (1 + 1e-6)
    assert exact["spend"].sum() == pytest.approx(plan.table["proposed_spend"].sum(), rel=1e-6)


def test_every_case_runs_and_the_floor_takes_the_fastest_method_that_reaches_the_optimum():
    lines: list[str] = []
    bench.run(sizes=[], repeat=1, isolate=False, out=lines.append, case_sizes=[60], mip_size=12)
    cases = {line.split()[0] for line in lines[1:] if line[:1].isalpha() and "|" in line}
    assert {"values", "tags", "frontier", "no", "S-curve"} <= cases
    tp = bench.touchpoints(50)
    name, seconds, objective, methods = bench.floor(tp, bench.scenario(tp), 1, 600)
    assert name in bench.FLOOR_METHODS and seconds == min(v for v in methods.values() if v == v)
    assert objective == pytest.approx(bo.optimize(tp, bench.scenario(tp)).objective, rel=1e-5)


def test_the_benchmark_prints_fitting_with_the_rest(capsys):
    assert bench.main(["--sizes", "20", "--repeat", "1", "--no-isolate", "--case-sizes", "", "--mip-size", "0",
                       "--fit", "12x30", "--peer-limit", "2", "--floor-limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "fit 12 touchpoints x 30 weeks:" in out and "history file of 360 rows -> plan:" in out
