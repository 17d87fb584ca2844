"""Hostile, huge and odd inputs (issue 12), one generator per class, at random sizes, positions and values.

Each input gets a clean refusal (exit 2, a message naming the file, row or key, the value and the fix) or a
correct result; never a traceback. Reading any file up to the size limit stays under 500 MB (measured in a
fresh process); a killed export leaves nothing behind once the next export runs.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import ROOT, SAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt import ingest, schema, terminal
from budgetopt.cli import main
from budgetopt.ui import library
from budgetopt.workbook import FAR_COLUMNS, FAR_ROWS, column_letters

FEW = settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.function_scoped_fixture])
HEADER = ["touchpoint", "function", "channel", "spend", "engaged"]


def rows(n: int) -> list[list[object]]:
    return [[f"T{i}", "marketing" if i % 2 else "service", "tv", 100 + i, 10 + i] for i in range(n)]


def csv_bytes(header: list[str], body: list[list[object]], delimiter: str = ",") -> bytes:
    return ("\n".join(delimiter.join(map(str, r)) for r in [header, *body]) + "\n").encode()


def refused(capsys, *args: str) -> str:
    """Run the CLI; it must exit 2; returns what it printed to stderr."""
    assert main(list(args)) == 2, args
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Fix" in err or "budgetopt:" in err, err
    return err


# --- 1 and 2: memory and work bounded by the cells with data; empty edges and far cells do not count -------------


def sheet_xml_zip(table: list[list[object]], extra_rows_xml: bytes, extra_cells_xml: bytes = b"") -> bytes:
    """A workbook with `table` from A1, then raw XML added: cells after the header's, rows after the table's."""
    book = openpyxl.Workbook()
    book.active.title = "Data"
    for row in table:
        book.active.append(row)
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</c></row>", b"</c>" + extra_cells_xml + b"</row>", 1)
                data = data.replace(b"</sheetData>", extra_rows_xml + b"</sheetData>")
            dst.writestr(item.filename, data)
    return out.getvalue()


def styled(row: int, first: int, count: int) -> bytes:
    return b"".join(b'<c r="%s%d" s="1"/>' % (column_letters(c).encode(), row) for c in range(first, first + count))


def note(row: int, column: int, text: str = "note") -> bytes:
    return b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (column_letters(column).encode(), row, text.encode())


@FEW
@given(st.integers(2, 40), st.integers(0, 3000), st.data())
def test_styled_cells_and_far_notes_are_not_the_table(n, styled_count, data):
    """Styled-but-empty cells anywhere and notes far below or to the right: the table is read as it is."""
    below = data.draw(st.lists(st.tuples(st.integers(n + 3 + FAR_ROWS, 1_048_576), st.integers(0, 4)), max_size=2))
    right = data.draw(st.lists(st.integers(6 + FAR_COLUMNS, 16383), max_size=2, unique=True))
    far = dict(below)  # one note per row
    extra = b"".join(b'<row r="%d">%s</row>' % (r, note(r, c)) for r, c in sorted(far.items()))
    header = styled(1, 6, min([styled_count, *(c - 6 for c in right)])) + b"".join(note(1, c) for c in sorted(right))
    far.update({-c: c for c in right})
    data = sheet_xml_zip([HEADER, *rows(n)], extra, header)
    tp = bo.read_touchpoints(data, name="b.xlsx")
    assert len(tp) == n and tp["spend"].sum() == sum(100 + i for i in range(n))
    if far:
        assert any(f"left out {len(far)} cell" in x for x in tp.attrs["notices"])


def test_reading_any_file_up_to_the_limit_stays_under_500_mb(tmp_path):
    """Peak memory of a fresh process reading the largest hostile files the limits allow (stdlib only to make)."""
    row = styled(7, 0, 16384)
    styled_rows = b"".join(b'<row r="%d">' % r + row.replace(b'7" s=', b'%d" s=' % r) + b"</row>"
                           for r in range(3, 480))  # 7.8 million styled cells, 160 MB of XML (20 MB zipped)
    files = {
        "styled.xlsx": sheet_xml_zip([HEADER, *rows(1)], styled_rows + b'<row r="1048576">%s</row>'
                                     % note(1048576, 16383), note(1, 16383)),
        "cells.xlsx": sheet_xml_zip([[*HEADER, *(f"x{j}" for j in range(15))]], b"".join(  # at the cell limit
            b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>T%d</t></is></c>' % (r, r, r)
            + b"".join(b'<c r="%s%d"><v>%d.25</v></c>' % (column_letters(j).encode(), r, j) for j in range(1, 20))
            + b"</row>" for r in range(2, 2 + (ingest.MAX_CELLS - 20) // 20))),
        "corners.xlsx": sheet_xml_zip([HEADER, *rows(1)], b'<row r="1048576">%s</row>' % note(1048576, 16383),
                                      note(1, 16383)),
        "wide.csv": (",".join(HEADER) + "," * 5000 + "\n" + ("T,m,tv,1,1" + "," * 5000 + "\n") * 9000).encode(),
        "long.csv": b"touchpoint,function,channel,spend,engaged\n" + b"T,m,tv,1,1\n" * 4_000_000,
        "cells.csv": b"a" + b",1" * (ingest.MAX_INPUT_BYTES // 2 - 8) + b"\n",
    }
    script = textwrap.dedent("""
        import re, sys, budgetopt as bo
        for path in sys.argv[1:]:
            try:
                bo.read_touchpoints(path)
            except bo.BudgetOptError:
                pass
        # this process's own high-water mark (getrusage's ru_maxrss counts the forking parent's too)
        status = open("/proc/self/status").read()
        print(int(re.search(r"VmHWM:\\s*(\\d+) kB", status)[1]) // 1024)
    """)
    paths = []
    for name, data in files.items():
        assert len(data) <= ingest.MAX_INPUT_BYTES
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    for path in paths:  # one process per file: its own peak
        done = subprocess.run([sys.executable, "-c", script, path], capture_output=True, text=True, cwd=ROOT,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        print(Path(path).name, done.stdout.split()[-1], "MB")
        assert int(done.stdout.split()[-1]) < 500, (path, done.stdout)


@FEW
@given(st.integers(1, 30), st.integers(1, 1500), st.sampled_from([",", ";", "\t"]))
def test_trailing_empty_columns_are_trimmed_before_the_limits(n, empty, delimiter):
    body = [[*r, *[""] * (empty + i % 3)] for i, r in enumerate(rows(n))]
    tp = bo.read_touchpoints(csv_bytes([*HEADER, *[""] * empty], body, delimiter), name="x.csv")
    assert len(tp) == n


# --- 3: silent misreads ----------------------------------------------------------------------------------------


@FEW
@given(st.integers(2, 60), st.data())
def test_a_row_split_by_an_unquoted_thousands_separator_is_refused_at_its_row(capsys, tmp_path, n, data):
    bad = data.draw(st.integers(0, n - 1))
    body = [[r[0], r[1], r[2], "1,234" if i == bad else r[3], r[4]] for i, r in enumerate(rows(n))]
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes(HEADER, body))
    err = refused(capsys, "validate", str(path))
    assert f"row {bad + 2}:" in err and "right of the header's last column" in err and '"1,234"' in err


@FEW
@given(st.lists(st.sampled_from(["hidden", "veryHidden"]), min_size=1, max_size=3), st.integers(1, 20))
def test_hidden_sheets_before_the_visible_one_are_not_read(tmp_path_factory, states, n):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for k, state in enumerate(states):
        sheet = book.create_sheet(f"Old {k}")
        for r in [HEADER, *rows(n + 5)]:
            sheet.append(r)
        sheet.sheet_state = state
    visible = book.create_sheet("Now")
    for r in [HEADER, *rows(n)]:
        visible.append(r)
    book.active = len(states)
    path = tmp_path_factory.mktemp("wb") / "b.xlsx"
    book.save(path)
    tp = bo.read_touchpoints(path)
    assert len(tp) == n and tp.attrs["source"].endswith("sheet 'Now'")
    assert any("read sheet 'Now'" in x for x in tp.attrs["notices"])


# --- 4 and 11: numbers that break the solver, refused where they enter, in words that say what is wrong ---------

HUGE = st.sampled_from(["1e400", "-1e400", "1" * 400, "1e14", "2e13", "inf", "nan", "-inf", "NaN"])


@FEW
@given(st.integers(1, 20), st.data())
def test_files_with_non_finite_or_huge_numbers_are_refused_at_the_cell(tmp_path_factory, n, data):
    body = rows(n)
    at = data.draw(st.integers(0, n - 1))
    column = data.draw(st.sampled_from([3, 4]))
    value = data.draw(HUGE)
    body[at][column] = value
    with pytest.raises(bo.InputError) as info:
        bo.read_touchpoints(csv_bytes(HEADER, body), name="x.csv")
    problem = next(p for p in info.value.problems if p.row == at + 2 and p.column == HEADER[column])
    assert problem.value == value and problem.fix
    words = "is not a number" if value.lower().lstrip("-") in ("inf", "nan") else "too large"
    assert words in problem.message
    if words == "too large":
        assert "the supported range is from 0 to 10,000,000,000,000" in problem.message


@FEW
@given(st.sampled_from(["1e-12", "1e-9", "0.0000001"]), st.integers(2, 10))
def test_costs_per_engaged_customer_outside_the_range_are_refused(tiny, n):
    body = rows(n)
    body[0][3] = tiny  # spend so small that a customer costs almost nothing
    with pytest.raises(bo.InputError) as info:
        bo.read_touchpoints(csv_bytes(HEADER, body), name="x.csv")
    (problem,) = info.value.problems
    assert problem.row == 2 and "supported range, from 0.000001 to 1,000,000,000" in problem.message


def test_engaged_customers_without_spend_are_left_out_with_a_notice():
    """Issue 10 item 3: a CPE of 0 never reaches the plan; the rows are named and counted."""
    body = rows(4)
    body[1][3] = 0
    body[3][3] = "0"
    tp = bo.read_touchpoints(csv_bytes(HEADER, body), name="x.csv")
    assert list(tp["touchpoint"]) == ["T0", "T2"]
    (notice,) = [n for n in tp.attrs["notices"] if n.startswith("left out 2 rows with engaged customers but no spend")]
    assert "(rows 3, 5; 24 engaged customers in all)" in notice
    plan = bo.optimize(tp, bo.Scenario())
    assert plan.ok and pd.Series(plan.table["proposed_engaged"]).map(abs).max() < 1e6
    with pytest.raises(bo.ScenarioError, match="engages customers without spend"):
        bo.io.parse_scenario('[[add_touchpoints]]\ntouchpoint = "x"\nfunction = "f"\nchannel = "c"\nengaged = 5\n')


TOML_KEYS = {
    "[budget]\ntotal = {}": "budget.total", "[budget]\nchange = {}": "budget.change",
    "[objective]\nmode = \"min_spend\"\ntarget = {}": "objective.target",
    "[[rules]]\ngroup = \"function\"\nmember = \"service\"\nmax_spend = {}": "rules.0.max_spend",
    "[[rules]]\ntouchpoint = \"TV prime time\"\nmin_engaged = {}": "rules.0.min_engaged",
    "[[overrides]]\ngroup = \"channel\"\nmember = \"tv\"\nengaged_multiplier = {}": "overrides.0.engaged_multiplier",
    "[[overrides]]\ngroup = \"channel\"\nmember = \"tv\"\ncpe_multiplier = {}": "overrides.0.cpe_multiplier",
    "[settings]\ntime_limit = {}": "settings.time_limit",
}


@FEW
@given(st.sampled_from(sorted(TOML_KEYS)), st.sampled_from(["inf", "-inf", "nan", "1e400", "1e300", "1e-300"]))
def test_scenario_numbers_out_of_range_are_refused_with_their_key(capsys, tmp_path_factory, block, value):
    folder = tmp_path_factory.mktemp("scenario")
    (folder / "pyproject.toml").write_text("")
    (folder / "data.csv").write_bytes(SAMPLE.read_bytes())
    path = folder / "s.toml"
    path.write_text('data = "data.csv"\n' + block.format(value) + "\n")
    if value == "1e-300" and "multiplier" not in TOML_KEYS[block]:
        return  # a tiny positive amount is a valid (if odd) setting there
    err = refused(capsys, "run", str(path), "--no-prices")
    assert TOML_KEYS[block] in err
    assert any(w in err for w in ("not a finite number", "too large", "too small")), err


@pytest.mark.parametrize("args", [["--budget", "nan"], ["--budget", "inf"], ["--budget", "1e400"],
                                  ["--budget", "-5"], ["--mode", "min-spend", "--target", "nan"],
                                  ["--mode", "target-cpe", "--target", "1e300"], ["--budget", "1e20"]])
def test_cli_number_flags(capsys, args):
    err = refused(capsys, "optimize", str(SAMPLE), *args)
    assert args[-2] in err or "--budget" in err


@pytest.mark.parametrize("args", [["--to", "nan"], ["--from=-inf"], ["--to", "inf"], ["--to", "1e9"],
                                  ["--steps", "100000000"]])
def test_frontier_flags(capsys, args):
    refused(capsys, "frontier", str(ROOT / "scenarios" / "baseline.toml"), *args)


# --- 5: scenario files that used to give tracebacks -------------------------------------------------------------


@FEW
@given(st.integers(100, 3000), st.sampled_from(["[", "{a="]))
def test_deeply_nested_scenarios(capsys, tmp_path_factory, depth, opener):
    path = tmp_path_factory.mktemp("s") / "deep.toml"
    closer = "]" if opener == "[" else "}"
    path.write_text("x = " + opener * depth + ("1" if opener == "{a=" else "") + closer * depth + "\n")
    err = refused(capsys, "run", str(path))
    assert "deep.toml" in err


@FEW
@given(st.integers(0, 40), st.integers(300, 5000))
def test_nul_bytes_and_overlong_paths(capsys, tmp_path_factory, at, length):
    folder = tmp_path_factory.mktemp("s")
    (folder / "pyproject.toml").write_text("")
    text = 'name = "a scenario with a NUL"\n'
    at = min(at, len(text) - 1)
    (folder / "nul.toml").write_bytes((text[:at] + "\x00" + text[at:]).encode())
    refused(capsys, "run", str(folder / "nul.toml"))
    (folder / "long.toml").write_text(f'data = "{"a" * length}.csv"\n')
    refused(capsys, "run", str(folder / "long.toml"))
    (folder / "nuldata.toml").write_text('data = "da\\u0000ta.csv"\n')
    refused(capsys, "run", str(folder / "nuldata.toml"))
    refused(capsys, "run", str(folder / ("x" * length + ".toml")))
    refused(capsys, "validate", str(folder / ("x" * length + ".csv")))


def test_no_traceback_reaches_the_terminal(tmp_path):
    """The same, end to end in a fresh process (as a user runs it)."""
    (tmp_path / "deep.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    for args in (["run", str(tmp_path / "deep.toml")], ["frontier", str(ROOT / "scenarios" / "baseline.toml"),
                                                        "--to", "nan"],
                 ["validate", str(tmp_path / ("y" * 4000 + ".csv"))], ["optimize", str(SAMPLE), "--budget", "inf"]):
        done = subprocess.run([sys.executable, "-m", "budgetopt.cli", *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
        assert done.returncode == 2 and "Traceback" not in done.stderr, (args, done.stderr[-500:])


# --- 6: terminal control characters ----------------------------------------------------------------------------

CONTROLS = st.sampled_from(["\x1b[2J", "\x1b]0;owned\x07", "\x1b[8m", "\r", "\x08", "\u202e", "\x9b31m", "\x00"])


@FEW
@given(CONTROLS, st.integers(0, 9))
def test_control_characters_are_escaped_in_cli_output(capsys, tmp_path_factory, control, at):
    body = rows(10)
    body[at][0] = f"Name{control}x"
    path = tmp_path_factory.mktemp("c") / "x.csv"
    text = csv_bytes(HEADER, body).decode().replace(f"Name{control}x", '"' + f"Name{control}x" + '"')
    path.write_text(text)
    code = main(["optimize", str(path)]) if control != "\x00" else main(["validate", str(path)])
    out = capsys.readouterr()
    printed = out.out + out.err
    assert code in (0, 2)
    assert not terminal.CONTROL.search(printed), repr(printed[:300])
    if code == 0 and "Name" in printed:
        assert terminal.printable(control) in printed


def test_printable_keeps_line_breaks_and_tabs():
    assert terminal.printable("a\tb\nc\x1b[2Jd\u202e") == "a\tb\nc\\x1b[2Jd\\u202e"


# --- 9: a killed export leaves nothing behind --------------------------------------------------------------------


@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_export_leaves_no_temporary_file_after_the_next_export(tmp_path, kill):
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import os, sys, time
        import budgetopt.io as bio
        real = os.replace
        def slow(src, dst):  # the kill lands while the files are staged, before any rename
            print("staged", flush=True)
            time.sleep(60)
        os.replace = slow
        sys.argv = ["budgetopt", "optimize", {str(SAMPLE)!r}, "--out", {str(out / "plan.xlsx")!r}]
        from budgetopt.cli import run
        run()
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    while (line := child.stdout.readline()) and line.strip() != "staged":  # the solver may print first
        pass
    assert line.strip() == "staged"
    child.send_signal(kill)
    child.wait(30)
    left = list(out.glob(".plan.xlsx.*.tmp"))
    assert not (out / "plan.xlsx").exists()  # never a partial plan
    if kill == signal.SIGTERM:
        assert left == []  # a polite kill cleans up at once
    else:
        assert len(left) == 1  # nothing can run on SIGKILL: the next export removes it
    assert main(["optimize", str(SAMPLE), "--out", str(out / "plan.xlsx")]) == 0
    assert list(out.glob(".*.tmp")) == []
    openpyxl.load_workbook(out / "plan.xlsx")  # whole


def test_leftovers_of_running_writers_are_kept(tmp_path):
    mine = tmp_path / f".plan.csv.{os.getpid()}.abc.tmp"
    dead = tmp_path / ".plan.csv.999999999.abc.tmp"
    old = tmp_path / ".plan.csv.XYZ.tmp"
    for p in (mine, dead, old):
        p.write_text("x")
    os.utime(old, (time.time() - 2 * bo.io.STALE_SECONDS,) * 2)
    assert sorted(bo.io.clean_leftovers(tmp_path / "plan.csv")) == sorted([dead, old])
    assert mine.exists()


# --- 10: who sees saved scenarios --------------------------------------------------------------------------------


def test_scenario_saving_is_shared_by_default_and_can_be_turned_off(monkeypatch, tmp_path):
    monkeypatch.delenv(library.SAVING_VARIABLE, raising=False)
    assert library.saving() == library.SHARED and "everyone on this server" in library.SHARED_NOTE
    path = library.save(bo.Scenario(name="Board plan Q3", description="confidential"), tmp_path / "b.toml", False)
    assert path.exists()
    monkeypatch.setenv(library.SAVING_VARIABLE, "off")
    assert library.saving() == library.OFF
    with pytest.raises(bo.ScenarioError, match="Saving on this server is off"):
        library.save(bo.Scenario(name="x"), tmp_path / "x.toml", False)
    assert not (tmp_path / "x.toml").exists()


def test_limits_are_the_documented_ones():
    assert schema.MAX_AMOUNT == 1e13 and (schema.MIN_CPE, schema.MAX_CPE) == (1e-6, 1e9)
    assert schema.supported(0, schema.MAX_AMOUNT) == "from 0 to 10,000,000,000,000"
