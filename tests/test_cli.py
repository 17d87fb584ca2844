"""The CLI contract: exit codes, printed summary, plan CSV columns; never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, SAMPLE

from budgetopt.cli import main

PLAN_COLUMNS = {"touchpoint", "function", "channel", "stage", "current_spend", "proposed_spend", "change",
                "current_engaged", "proposed_engaged"}


def test_validate_reads_a_history_as_optimize_does(capsys, tmp_path):
    assert main(["validate", str(ROOT / "data" / "sample_history.csv")]) == 0
    out, err = capsys.readouterr()
    assert "a history of 8 touchpoints over 104 weeks (2024-01-01 to 2025-12-22, weekly rows)" in out
    assert "today: 8 touchpoints with spend and engaged customers in the last 52 weeks; no problems found" in out
    assert "note: today = the last 52 weeks" in err
    ads = tmp_path / "ads.csv"
    ads.write_text("date,Campaign name,platform,spend,conversions\n2025-07-07,Brand,meta,10,2\n"
                   "2025-07-07,Brand,meta,5,1\n2025-07-08,Search,google,20,4\n")
    assert main(["validate", str(ads), "--touchpoint", "Campaign name", "--window", "all"]) == 0
    assert "a history of 2 touchpoints over 1 week" in capsys.readouterr().out
    assert main(["validate", str(SAMPLE), "--window", "26w"]) == 2
    assert "--touchpoint and --window apply to histories only" in capsys.readouterr().err


def test_validate_says_when_it_left_something_out(capsys, tmp_path):
    data = tmp_path / "zero.csv"
    data.write_text("touchpoint,function,channel,spend,engaged\nA,marketing,tv,100,10\nB,Marketing ,tv,0,5\n"
                    "C,sales,web,50,20\n")
    assert main(["validate", str(data)]) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith("2 touchpoints, no problems found (2 note(s) above on how it was read)")
    assert "left out 1 row with engaged customers but no spend (row 3" in err


def test_validate_sample(capsys):
    assert main(["validate", str(SAMPLE)]) == 0
    assert "51 touchpoints" in capsys.readouterr().out


def test_optimize_writes_plan_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "plan.csv"
    assert main(["optimize", str(SAMPLE), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for words in ("Engaged customers", "Weighted engagement", "Average CPE", "Money moved across functions",
                  "Marginal CPE: ", "What the plan rests on:", "Today is the data as given", "Rules that bind",
                  "Transfers"):
        assert words in text
    assert "dollar" not in text  # no currency the data did not state
    plan = pd.read_csv(out)
    assert PLAN_COLUMNS <= set(plan.columns)
    assert plan["proposed_spend"].sum() == pytest_approx(plan["current_spend"].sum())


def pytest_approx(x):
    import pytest

    return pytest.approx(x, rel=1e-6)


def test_budget_and_min_spend(tmp_path, capsys):
    assert main(["optimize", str(SAMPLE), "--budget", "9000000", "--out", str(tmp_path / "a.csv")]) == 0
    assert pd.read_csv(tmp_path / "a.csv")["proposed_spend"].sum() == pytest_approx(9_000_000)
    assert main(["optimize", str(SAMPLE), "--mode", "min-spend", "--out", str(tmp_path / "b.csv")]) == 0
    assert "Money saved" in capsys.readouterr().out
    b = pd.read_csv(tmp_path / "b.csv")
    assert b["proposed_spend"].sum() < b["current_spend"].sum()


def test_existing_out_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "plan.csv"
    out.write_text("mine")
    assert main(["optimize", str(SAMPLE), "--out", str(out)]) == 2
    assert out.read_text() == "mine"
    assert "--force" in capsys.readouterr().err
    assert main(["optimize", str(SAMPLE), "--out", str(out), "--force"]) == 0


def test_infeasible_exits_1_and_names_the_rules(tmp_path, capsys):
    assert main(["optimize", str(SAMPLE), "--budget", "1000000"]) == 1
    out = capsys.readouterr().out
    assert "infeasible" in out and "budget: exactly 1,000,000" in out


def test_bad_input_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("touchpoint,function,channel,spend,engaged\nTV,marketing,tv,abc,10\n")
    for args in (["validate", str(bad)], ["optimize", str(bad)], ["optimize", str(tmp_path / "missing.csv")],
                 ["optimize", str(SAMPLE), "--mode", "nonsense"], ["optimize", str(SAMPLE), "--mode", "target-cpe"]):
        run = subprocess.run([sys.executable, "-m", "budgetopt.cli", *args], capture_output=True, text=True, cwd=ROOT)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "budgetopt.cli", "validate", str(bad)], capture_output=True, text=True)
    assert "row 2" in run.stderr and "column 'spend'" in run.stderr and "'abc'" in run.stderr


def test_sample_has_what_the_data_readme_promises(sample):
    assert 40 <= len(sample) <= 60
    assert sample["function"].nunique() >= 6
    assert set(sample["stage"]) == {"awareness", "consideration", "purchase", "retention", "advocacy"}
    names = " ".join(sample["touchpoint"]).lower()
    assert "social" in names and "advisory panel" in names


def test_the_fit_table_names_each_curves_parameters():
    from budgetopt.cli import _fit_words

    table = pd.DataFrame({"touchpoint": ["a", "b", "c", "d"], "curve": ["linear", "power", "saturating", "hill"],
                          "spend": [2000.0, 1.0, 1.0, 1.0], "curve_engaged": [300.0, 1.0, 1.0, 1.0],
                          "elasticity": [0.6, 0.754, 0.6, 0.6], "saturation": [None, None, 1234.4, 5000.0],
                          "half_saturation": [None, None, 99.5, 700.0], "shape": [None, None, None, 2.345],
                          "carryover": [0.5, 0.0, 0.001, 0.25]})
    assert _fit_words(table) == ["150.0 engaged per 1,000 spend, carry-over 0.50", "elasticity 0.75",
                                 "at most 1,234 engaged, half at 100 spend",
                                 "at most 5,000 engaged, half at 700 spend, shape 2.35, carry-over 0.25"]


def test_bench_help_lists_every_benchmark(capsys):
    from budgetopt.cli import _BENCHMARKS

    with pytest.raises(SystemExit) as done:
        main(["bench", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(f"  {flag}  " in out for flag in _BENCHMARKS)


def test_the_frontier_table_has_no_nan_and_its_note_counts_what_it_shows(capsys):
    assert main(["frontier", str(ROOT / "scenarios" / "year-plan.toml")]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out and "weighted_engagement" not in out  # no value column: the count only
    lines = out.splitlines()
    today = next(line for line in lines if line.rstrip().endswith("TODAY"))
    assert today.split()[2] == "-"  # today's allocation has no marginal CPE of its own here
    plan = next(line for line in lines if line.rstrip().endswith("PLAN"))
    budget, engaged = plan.split()[0], float(plan.split()[1].replace(",", ""))
    drawn = next(float(line.split()[1].replace(",", "")) for line in lines
                 if line.startswith(budget) and line.split()[-1] == "optimal")
    note = next(line for line in lines if line.startswith("The curve's points share"))
    said = int(note.split("reaches ")[1].split(" more")[0].replace(",", ""))
    assert abs(said - abs(engaged - drawn)) <= 1  # the rounded figures shown, within their rounding


def test_a_missing_path_is_one_problem_in_plain_words(tmp_path, capsys):
    assert main(["optimize", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert "missing.csv: the file does not exist. Fix: check the path" in err and "cannot be used" not in err
    assert main(["validate", str(tmp_path)]) == 2
    assert "is not a file. Fix: give the path of a CSV or Excel file" in capsys.readouterr().err
