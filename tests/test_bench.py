"""The benchmark cannot rot: a smoke run of its smallest size, and its exact reference checked independently."""

from __future__ import annotations

import math

import pytest
from exact import power_optimum

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
