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


def test_a_robust_min_spend_sweep_prices_protection_in_money():
    less = Case("less", read_evidence(DATA), read_scenario(ROOT / "scenarios" / "same-engagement-for-less.toml"))
    [row] = sweep([less], [1.0], draws=40, seed=2, uncertainty=0.3, robust=Robust("cvar", 0.1)).to_dict("records")
    assert row["status"] == "optimal" and row["protection_money"] > 0  # the target kept in the worst 10 % costs money


def test_a_failing_task_is_reported_and_the_others_kept(cluster):
    broken = Case("broken", Evidence(None), read_scenario(SCENARIOS[0]))  # no table: every try raises
    rows = sweep([cases()[0], broken], [1.0], draws=20, seed=0, uncertainty=0.2, client=cluster)
    assert rows["status"].tolist() == ["optimal", "failed"]
    assert rows["message"][1].startswith("TypeError")  # retried, then reported


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


def test_a_min_spend_scenario_gets_one_row_at_the_budget_it_finds():
    """It finds its own budget: planned once (not once per budget), budget_factor = its spend / today's."""
    less = Case("less", read_evidence(DATA), read_scenario(ROOT / "scenarios" / "same-engagement-for-less.toml"))
    rows = sweep([cases()[0], less], [0.9, 1.1], draws=30, seed=1, uncertainty=0.2)
    assert rows["scenario"].tolist() == ["baseline", "baseline", "less"]
    one = rows.iloc[2]
    assert one["status"] == "optimal" and one["mode"] == "min_spend"
    assert one["budget_factor"] == pytest.approx(one["proposed_spend"] / one["current_spend"])
    assert one["budget"] == pytest.approx(one["proposed_spend"]) and one["budget_factor"] < 1
    assert "the budgets were not swept for it" in one["message"] and one["plan_low"] < one["plan_high"]


def test_a_scenario_over_periods_gets_its_rows_with_ranges_over_the_horizon(cluster):
    year = Case("year-plan", read_evidence(ROOT / "data" / "sample_history.csv"),
                read_scenario(ROOT / "scenarios" / "year-plan.toml"))
    serial = sweep([year], [0.9, 1.1], draws=40, seed=4)
    same(serial, sweep([year], [0.9, 1.1], draws=40, seed=4, client=cluster))
    assert (serial["status"] == "optimal").all() and (serial["horizon"] == "12m").all()
    assert serial["budget"].tolist() == pytest.approx([0.9 * 6_206_260, 1.1 * 6_206_260])
    assert (serial["plan_low"] < serial["plan_mean"]).all() and (serial["plan_mean"] < serial["plan_high"]).all()
    assert np.all(np.diff(serial["plan_mean"]) > 0)
    assert "figures over the horizon (12 periods, 2026-01 to 2026-12)" in serial["message"][0]
    plain = sweep(cases()[:1], [1.0], draws=40, seed=4)  # no evidence, no --uncertainty: no range, and it says so
    assert plain["horizon"][0] == "" and np.isnan(plain["plan_mean"][0])
    assert "no curve varies over the draws" in plain["message"][0] and "--uncertainty 0.2" in plain["message"][0]


def test_the_issues_sweep_command_exits_0_with_rows_for_every_scenario(cluster, tmp_path, capsys):
    """budgetopt sweep scenarios/*.toml --budgets 0.8:1.2:9 --draws 200 --out sweep.parquet (here on this module's
    cluster): every shipped scenario has its rows, the min-spend one once; one notice names the ones without a
    range."""
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    out = tmp_path / "sweep.parquet"
    assert main(["sweep", *map(str, files), "--budgets", "0.8:1.2:9", "--draws", "200", "--out", str(out),
                 "--scheduler", cluster.scheduler.address]) == 0
    printed = capsys.readouterr()
    rows = pd.read_parquet(out)
    assert set(rows["scenario"]) == {f.stem for f in files} and (rows["status"] == "optimal").all()
    counts = rows["scenario"].value_counts()
    assert counts["same-engagement-for-less"] == 1 and (counts.drop("same-engagement-for-less") == 9).all()
    assert rows.loc[rows["scenario"] == "year-plan", "plan_mean"].notna().all()
    empty = rows[rows["scenario"] != "year-plan"]
    assert empty["plan_mean"].isna().all() and empty["message"].str.contains("--uncertainty 0.2").all()
    assert printed.err.count("no curve varies over the draws") == 1
    assert "same-engagement-for-less: planned once" in printed.err


def test_robust_sweeps_refuse_up_front_what_they_cannot_plan(tmp_path, capsys):
    out = tmp_path / "r.csv"
    year = str(ROOT / "scenarios" / "year-plan.toml")
    assert main(["sweep", year, "--robust", "cvar:0.1", "--workers", "0", "--out", str(out)]) == 2
    assert "year-plan plan(s) over periods, which have no robust form yet" in capsys.readouterr().err
    assert main(["sweep", str(SCENARIOS[0]), "--robust", "mean", "--workers", "0", "--out", str(out)]) == 2
    assert "no curve of baseline varies over the draws" in capsys.readouterr().err and not out.exists()
    with pytest.raises(BudgetOptError, match="draws: 0 is outside"):
        sweep(cases(), [1.0], draws=0)
    with pytest.raises(BudgetOptError, match="seed: -1 is outside"):
        sweep(cases(), [1.0], seed=-1)


def test_a_scenario_with_a_budget_per_period_is_planned_once_at_it():
    from budgetopt.scenario import Periods, Scenario

    paced = Scenario(name="paced", periods=Periods(horizon="2q", budgets=(6_000_000.0, 7_000_000.0)))
    rows = sweep([Case("paced", read_evidence(DATA), paced)], [0.8, 1.2], draws=20, seed=0, uncertainty=0.2)
    assert len(rows) == 1 and rows["status"][0] == "optimal" and rows["horizon"][0] == "2q"
    assert rows["proposed_spend"][0] == pytest.approx(13_000_000.0)
    assert rows["budget_factor"][0] == pytest.approx(13_000_000.0 / 14_045_000)
    assert "[periods] budgets set each period's money" in rows["message"][0]
    assert rows["plan_low"][0] < rows["plan_mean"][0] < rows["plan_high"][0]
