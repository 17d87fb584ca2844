"""The command line benchmark, what a command imports and what made the command faster (issue 13); the
benchmark's figures are printed, never asserted."""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt import export
from budgetopt.bench_cli import FLOOR_SCRIPT, budget_only_table
from budgetopt.cli import main
from budgetopt.evidence import Evidence, plan_range

HEAVY = ("scipy", "openpyxl", "xlsxwriter", "dask", "distributed", "streamlit", "python_calamine", "playwright",
         "pulp")
"""Libraries that only some commands need: fitting, Excel, sweeps, the app, reading workbooks, PDF reports, a solver
other than the default HiGHS."""


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


floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.1 + 0.2, -0.0, 1e15, 1e16, 5e-324])


@settings(max_examples=100, deadline=None)
@given(st.lists(floats, min_size=1, max_size=30), st.sampled_from(["%.15g", "%.6f"]))
def test_csv_text_is_what_pandas_writes(values, float_format):
    frame = pd.DataFrame({"x": values, "text": ["a,b"] * len(values), "n": range(len(values)),
                          "nullable": pd.array(values, dtype="Float64"), "object": pd.Series(values, dtype=object)})
    assert export.csv_text(frame, float_format) == frame.to_csv(index=False, float_format=float_format)


texts = st.none() | st.just(np.nan) | st.text(alphabet=st.sampled_from(list('ab, "\n\r;\'=1.é')), max_size=6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(texts, floats, st.integers(-10**12, 10**12), st.booleans()), min_size=1, max_size=20),
       st.sampled_from(["%.15g", "%.6f"]), st.booleans())
def test_csv_text_written_by_csv_writer_is_what_pandas_writes(rows, float_format, arrow):
    """Text (quotes, commas, line breaks, missing as None or NaN), floats, whole numbers and booleans, with text
    in Python objects or pandas' string storage: the same text as pandas' to_csv."""
    text, x, n, flag = (list(c) for c in zip(*rows, strict=True))
    frame = pd.DataFrame({"name, quoted": pd.Series(text, dtype="str" if arrow else object), "x": x, "n": n,
                          "flag": flag, "empty": pd.Series([None] * len(rows), dtype=object)})
    assert export.csv_text(frame, float_format) == frame.to_csv(index=False, float_format=float_format)


@settings(max_examples=30, deadline=None)
@given(st.lists(floats, min_size=1, max_size=5), st.sampled_from(["%.15g", "%.6f"]))
def test_csv_text_of_repeated_values_is_what_pandas_writes(values, float_format):
    """Columns that repeat a few values (each formatted once), one left empty, -0.0 next to 0.0."""
    repeated = (values + [0.0, -0.0]) * 40
    frame = pd.DataFrame({"x": repeated, "empty": np.nan, "flag": [True, False] * (len(repeated) // 2)})
    assert export.csv_text(frame, float_format) == frame.to_csv(index=False, float_format=float_format)


cents = (st.integers(-10**16, 10**16).map(lambda k: k / 100) | st.integers(-10**16, 10**16).map(lambda k: k / 10**4)
         | st.sampled_from([-0.0, 0.0, -0.5, -0.01, 1e13 - 0.01, 1e-4, -0.0001, 1e11 - 1e-4, 0.1 + 0.2]))


@settings(max_examples=150, deadline=None)
@given(st.lists(cents | floats, min_size=1, max_size=40, unique_by=lambda v: struct.pack("<d", v)))
def test_money_in_cents_is_written_as_pandas_writes_it(values):
    """Distinct amounts in whole cents or 4 decimals (formatted by whole arrays: '-0.5', '-0', '1234.5',
    '9999999999999.99', '18.0208') next to other floats: the same text as pandas' to_csv with '%.15g'."""
    frame = pd.DataFrame({"money": values})
    assert export.csv_text(frame, "%.15g") == frame.to_csv(index=False, float_format="%.15g")


def test_a_plan_on_a_table_without_evidence_has_no_range_and_still_checks_the_draws(sample):
    plan = bo.optimize(sample)
    evidence = Evidence(sample)
    assert plan_range(plan, evidence) is None  # nothing varies: no draws are made
    assert plan_range(plan, evidence, uncertainty=0.2) is not None
    for draws, uncertainty, words in ((0, None, "outside 1 to"), (10, 2.0, "outside 0 to 1")):
        with pytest.raises(bo.BudgetOptError, match=words):
            plan_range(plan, evidence, draws, uncertainty=uncertainty)
