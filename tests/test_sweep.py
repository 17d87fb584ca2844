"""Sweeps on Dask (issue 14 part 4): a local cluster of 2 worker processes started here gives the serial rows."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from budgetopt.cli import main
from budgetopt.errors import BudgetOptError
from budgetopt.evidence import Evidence
from budgetopt.io import read_evidence, read_scenario
from budgetopt.robust import Robust
from budgetopt.sweep import SCHEDULER_ENV, Case, budget_factors, sweep

ROOT = Path(__file__).parent.parent
SCENARIOS = [ROOT / "scenarios" / "baseline.toml", ROOT / "scenarios" / "tv-dearer.toml"]
DATA = ROOT / "data" / "sample_touchpoints.csv"


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes on this machine, for this module's tests."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as local, Client(local) as client:
        yield client


def cases() -> list[Case]:
    evidence = read_evidence(DATA)
    return [Case(path.stem, evidence, read_scenario(path)) for path in SCENARIOS]


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns="seconds"), b.drop(columns="seconds"), check_exact=True)


def test_budget_factors():
    assert budget_factors("0.8:1.2:5").tolist() == [0.8, 0.9, 1.0, 1.1, 1.2]
    assert budget_factors("0.9, 1,1.1").tolist() == [0.9, 1.0, 1.1]
    for bad in ("0.8:1.2", "a,b", "0:1:3", "1:2:0"):
        with pytest.raises(BudgetOptError, match="--budgets"):
            budget_factors(bad)


def test_a_sweep_on_two_local_workers_is_the_serial_sweep(cluster):
    factors = [0.8, 1.0, 1.2]
    serial = sweep(cases(), factors, draws=60, seed=5, uncertainty=0.2)
    seen = []
    parallel = sweep(cases(), factors, draws=60, seed=5, uncertainty=0.2, client=cluster,
                     progress=lambda done, total: seen.append((done, total)))
    same(serial, parallel)
    assert seen[-1] == (6, 6) and len(seen) == 6
    assert list(serial["scenario"]) == ["baseline"] * 3 + ["tv-dearer"] * 3
    assert (serial["status"] == "optimal").all()
    assert serial["budget"].tolist()[:3] == pytest.approx([0.8 * 14_045_000, 14_045_000, 1.2 * 14_045_000])
    assert (serial["plan_low"] < serial["plan_mean"]).all() and (serial["plan_mean"] < serial["plan_high"]).all()
    # more money, more engagement; TV dearer, less
    assert np.all(np.diff(serial["plan_mean"][:3]) > 0)
    assert (serial["plan_mean"][3:].to_numpy() < serial["plan_mean"][:3].to_numpy()).all()


def test_robust_sweeps_do_not_depend_on_the_number_of_workers(cluster):
    robust = Robust("cvar", 0.1)
    two = sweep(cases()[:1], [0.9, 1.1], draws=40, seed=2, uncertainty=0.3, robust=robust, client=cluster)
    one = sweep(cases()[:1], [0.9, 1.1], draws=40, seed=2, uncertainty=0.3, robust=robust)
    same(one, two)
    assert (two["robust"] == "cvar:0.1").all() and (two["protection_cost"] >= -1e-6).all()


def test_a_failing_task_is_reported_and_the_others_kept(cluster):
    broken = Case("broken", Evidence(None), read_scenario(SCENARIOS[0]))  # no table: every try raises
    rows = sweep([cases()[0], broken], [1.0], draws=20, seed=0, uncertainty=0.2, client=cluster)
    assert rows["status"].tolist() == ["optimal", "failed"]
    assert rows["message"][1].startswith("TypeError")  # retried, then reported
    minimal = sweep([Case("less", read_evidence(DATA), read_scenario(ROOT / "scenarios" /
                                                                         "same-engagement-for-less.toml"))], [1.0])
    assert minimal["status"].tolist() == ["error"] and "min-spend" in minimal["message"][0]


def test_the_sweep_command_on_a_running_scheduler_and_in_process(cluster, tmp_path, capsys, monkeypatch):
    address = cluster.scheduler.address
    out = tmp_path / "sweep.parquet"
    args = ["sweep", *map(str, SCENARIOS), "--budgets", "0.9:1.1:3", "--draws", "30", "--uncertainty", "0.2"]
    assert main([*args, "--scheduler", address, "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "6 rows (one per scenario x budget) written" in printed.out and "sweep: 6/6" in printed.err
    assert f"the Dask cluster at {address} (2 workers)" in printed.err
    remote = pd.read_parquet(out)
    monkeypatch.setenv(SCHEDULER_ENV, address)  # the environment variable names the same cluster
    assert main([*args, "--out", str(tmp_path / "env.csv")]) == 0
    monkeypatch.delenv(SCHEDULER_ENV)
    assert main([*args, "--workers", "0", "--out", str(tmp_path / "here.csv")]) == 0
    here, env = pd.read_csv(tmp_path / "here.csv"), pd.read_csv(tmp_path / "env.csv")
    pd.testing.assert_frame_equal(here.drop(columns="seconds"), env.drop(columns="seconds"))
    assert np.allclose(here["plan_mean"], remote["plan_mean"], rtol=1e-9)  # CSV keeps 6 decimals
    assert main([*args, "--workers", "0", "--out", str(out)]) == 2  # no overwrite without --force
    assert "already exists" in capsys.readouterr().err
