"""The command line benchmark and what a command imports (issue 13): figures are printed, never asserted."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT

import budgetopt as bo
from budgetopt.bench_cli import FLOOR_SCRIPT, budget_only_table
from budgetopt.cli import main

HEAVY = ("scipy", "openpyxl", "xlsxwriter", "dask", "distributed", "streamlit", "python_calamine", "playwright")
"""Libraries that only some commands need: fitting, Excel, sweeps, the app, reading workbooks, PDF reports."""


def loaded_after(code: str) -> set[str]:
    """The HEAVY top-level packages a fresh Python has imported after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(run.stdout.split()) & set(HEAVY)


def test_the_floor_script_finds_the_optimum_our_plan_approaches(tmp_path):
    data = tmp_path / "t.csv"
    budget_only_table(60, seed=3).to_csv(data, index=False)
    subprocess.run([sys.executable, "-c", FLOOR_SCRIPT, str(data), str(tmp_path / "floor.csv")], check=True)
    floor = pd.read_csv(tmp_path / "floor.csv")
    tp = bo.read_touchpoints(data)
    assert floor["proposed_spend"].sum() == pytest.approx(tp["spend"].sum(), rel=1e-9)  # the same budget
    plan = bo.optimize(tp)
    # the same problem: the segment LP lies below the smooth curves by a little, never above their optimum
    engaged, exact = plan.table["proposed_engaged"].sum(), floor["proposed_engaged"].sum()
    assert exact * (1 - 1e-3) <= engaged <= exact * (1 + 1e-9)
    # and the same limits: a touchpoint with a 30 % limit on change stays within it in both plans
    limited = tp["max_change"].notna().to_numpy()
    for spend in (floor["proposed_spend"], plan.table["proposed_spend"]):
        change = (spend.to_numpy() / tp["spend"].to_numpy() - 1)[limited]
        assert (abs(change) <= tp["max_change"].to_numpy()[limited] + 1e-9).all()


def test_bench_cli_prints_one_line_per_size(capsys):
    assert main(["bench", "--cli", "--rows", "40", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[2].split("|")[0].strip() == "40"
    assert lines[2].split("|")[3].strip().endswith("x")  # the ratio to the floor


def test_a_plan_on_a_touchpoint_table_imports_no_library_it_does_not_use(tmp_path):
    assert loaded_after("import budgetopt.cli") == set()
    assert loaded_after("import budgetopt") == set()
    data = tmp_path / "t.csv"
    budget_only_table(30).to_csv(data, index=False)
    out = tmp_path / "plan.csv"
    assert loaded_after(f"from budgetopt.cli import main\nmain(['optimize', {str(data)!r}, '--out', {str(out)!r}])"
                        ) == set()
    assert out.exists()


def test_lazy_names_are_the_same_objects_as_their_modules_own():
    from budgetopt import curves, export, io, scenario

    assert bo.Scenario is scenario.Scenario and bo.plan_xlsx_bytes is export.plan_xlsx_bytes
    assert bo.read_touchpoints is io.read_touchpoints and callable(bo.optimize)
    assert curves.fit_curves is curves.fit.fit_curves and "fit_curves" in dir(curves)
    assert set(bo.__all__) <= set(dir(bo))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        bo.nothing_here  # noqa: B018
