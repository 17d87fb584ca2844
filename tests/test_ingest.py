"""Real-world input files: what is accepted, what is refused (every problem at once, at the row the user sees)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import ROOT, SAMPLE
from openpyxl.styles import Font

import budgetopt as bo
from budgetopt import ingest
from budgetopt.cli import main

FILES = Path(__file__).parent / "files"
HEADER = ["Touchpoint", "Department", "Channel", "Stage", "Cost", "Engaged customers", "Max change"]
ROWS = [["TV prime time", "marketing", "tv", "awareness", 1234567.89, 200000, 0.3],
        ["Chat", "service", "chat", "retention", 1.234, 10, None],
        ["Öffentlichkeitsarbeit", "PR", "press", "advocacy", "12.000,50", "1.500", "30%"]]


def workbook(path: Path, sheets: dict[str, dict[str, object]]) -> Path:
    """Write a workbook: per sheet, cell reference -> value (a list value fills a row from that cell)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, cells in sheets.items():
        sheet = book.create_sheet(title)
        for ref, value in cells.items():
            cell = sheet[ref]
            if isinstance(value, list):
                for offset, v in enumerate(value):
                    sheet.cell(row=cell.row, column=cell.column + offset, value=v)
            else:
                cell.value = value
    book.save(path)
    return path


def budget_sheet(first_row: int = 4) -> dict[str, object]:
    """Title row, header at `first_row` from column B, three touchpoints and a totals row."""
    cells: dict[str, object] = {"B2": "Engagement budget 2024", f"B{first_row}": HEADER}
    for i, row in enumerate(ROWS, start=1):
        cells[f"B{first_row + i}"] = row
    cells[f"B{first_row + 4}"] = ["Grand total", None, None, None, "=SUM(F5:F7)", 200011.5]
    return cells


# --- accepted -----------------------------------------------------------------------------------------------


def test_semicolon_cp1252_decimal_commas_currencies_percent():
    tp = bo.read_touchpoints(FILES / "semicolon_cp1252.csv")
    assert list(tp["touchpoint"]) == ["TV prime time", "Communication clientèle", "Öffentlichkeitsarbeit"]
    assert list(tp["spend"]) == [1234567.89, 12000.5, 12000]
    assert list(tp["engaged"]) == [200000, 1500.5, 2000]
    assert tp["max_change"].tolist()[0::2] == [0.3, 0.15]
    assert any("cp1252" in n for n in tp.attrs["notices"])


def test_tab_utf8_bom_thousands_commas_and_synonyms():
    tp = bo.read_touchpoints(FILES / "tab_bom_utf8.csv")
    assert list(tp["function"]) == ["marketing", "marketing", "PR"]
    assert list(tp["spend"]) == [1234567.89, 1200, 12000]
    assert list(tp["engaged"]) == [200000, 300, 2000.5]
    assert tp["touchpoint"].iloc[2] == "Öffentlichkeitsarbeit"


def test_latin1_with_spaces_as_thousands():
    tp = bo.read_touchpoints(FILES / "comma_latin1.csv")
    assert list(tp["touchpoint"]) == ["Communication clientèle", "Öffentlichkeitsarbeit"]
    assert list(tp["spend"]) == [12000, 1234567.5]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
def test_encodings(tmp_path, encoding):
    text = "touchpoint,function,channel,spend,engaged\nCommunication clientèle,Öffentlichkeitsarbeit,€ web,€ 100,5\n"
    if encoding == "latin-1":
        text = text.replace("€", "")  # latin-1 has no euro sign
    path = tmp_path / "x.csv"
    path.write_bytes(text.encode(encoding))
    tp = bo.read_touchpoints(path)
    assert tp["touchpoint"].iloc[0] == "Communication clientèle"
    assert tp["function"].iloc[0] == "Öffentlichkeitsarbeit"
    assert tp["spend"].iloc[0] == 100


def test_bytes_undefined_in_cp1252_fall_back_to_latin1():
    text, encoding = ingest._decode("Caf\xe9 \x81".encode("latin-1"), "x.csv")
    assert (text, encoding) == ("Café \x81", "latin-1")


@pytest.mark.parametrize("header, target", [
    ("Cost", "spend"), ("Amount spent", "spend"), ("BUDGET", "spend"), ("amount_spent (EUR)", "spend"),
    ("Engaged customers", "engaged"), ("Engagements", "engaged"), ("Department", "function"),
    ("Owner", "function"), ("Touchpoint name", "touchpoint"), ("touchpoint_name", "touchpoint"),
    ("  Touch-Point  ", "touchpoint"), ("Max Spend", "max_spend"), ("MIN_SPEND", "min_spend"), ("Spend €", "spend"),
])
def test_header_variants(header, target):
    assert bo.suggest_mapping([header, "other"]) == {target: [header]}


def test_plan_columns_are_not_spend_synonyms():
    assert bo.suggest_mapping(["current_spend", "proposed_spend", "proposed_engaged"]) == {}


def test_synonyms_point_to_one_column_each():
    from budgetopt.mapping import SYNONYMS, normalise_header

    names = [normalise_header(w) for words in SYNONYMS.values() for w in words] + list(SYNONYMS)
    assert len(names) == len(set(names))


def test_title_blank_totals_and_notes_rows_keep_the_user_row_numbers():
    table = bo.read_table(FILES / "title_totals.csv")
    assert list(table.rows) == [5, 7]
    assert table.headers == ["touchpoint", "function", "channel", "stage", "spend", "engaged"]
    tp = bo.to_touchpoints(table)
    assert tp["spend"].sum() == 1200  # the grand total is not counted twice
    notices = "\n".join(tp.attrs["notices"])
    assert "dropped totals row 8 ('Grand total')" in notices
    assert "skipped row 1 above the header" in notices and "skipped row 10 below the table" in notices


@pytest.mark.parametrize("header, expected", [
    ("touchpoint,function,channel,spend,engaged,note,note",
     ["touchpoint", "function", "channel", "spend", "engaged", "note (F)", "note (G)"]),
    ("touchpoint,note,note,note (B),function,channel,spend,engaged",
     ["touchpoint", "note (B) (B)", "note (C)", "note (B) (D)", "function", "channel", "spend", "engaged"]),
])
def test_repeated_headers_get_their_column_letters_until_every_name_is_one_of_a_kind(header, expected):
    """A header written twice is told apart by its column's letter; where a lettered name meets a header written
    that way ('note (B)'), both are lettered again, so that every column can be named in a mapping."""
    data = f"{header}\nTV,{','.join(['x'] * (len(expected) - 1))}\n".encode()
    assert bo.read_table(data, name="t.csv").headers == expected


def test_a_skipped_row_is_quoted_by_its_filled_cells():
    """A row left out above the header or below the table is quoted in its notice: its filled cells joined by ' | '
    (blank cells left out), cut to 60 characters."""
    long = "x" * 70
    data = (f"Budget,,2025\n{long},,\ntouchpoint,function,channel,spend,engaged\nTV,m,tv,100,10\n"
            "Chat,s,chat,20,4\n,see note,\n").encode()
    notices = bo.read_table(data, name="t.csv").notices
    assert notices == ["skipped row 1 above the header: 'Budget | 2025'",
                       f"skipped row 2 above the header: '{long[:57]}...'",
                       "skipped row 6 below the table: 'see note'"]


def test_excel_named_sheet_with_title_offset_totals_and_trailing_blanks(tmp_path):
    sheet = budget_sheet()
    path = workbook(tmp_path / "budget.xlsx", {"Notes": {"A1": "see the other sheet"}, "Budget 2024": sheet})
    book = openpyxl.load_workbook(path)
    book["Budget 2024"]["M40"].font = Font(bold=True)  # formatted, blank: trailing rows and columns
    book.save(path)
    tp = bo.read_touchpoints(path, sheet="Budget 2024")
    assert list(tp["touchpoint"]) == [r[0] for r in ROWS]
    assert list(tp["spend"]) == [1234567.89, 1.234, 12000.5]  # a typed 1.234 is never read as 1234
    assert list(tp["engaged"]) == [200000, 10, 1500]  # text cells write decimals with ','; typed ones don't vote
    assert tp["max_change"].tolist()[0::2] == [0.3, 0.3]
    assert any("dropped totals row 8" in n for n in tp.attrs["notices"])
    with pytest.raises(bo.InputError) as info:
        bo.read_touchpoints(path, sheet="Budget 2023")
    assert "'Notes', 'Budget 2024'" in str(info.value)


def test_excel_first_sheet_and_row_numbers_in_problems(tmp_path):
    sheet = budget_sheet(first_row=6)
    sheet["F8"] = "n/a"  # Chat's cost, on sheet row 8
    path = workbook(tmp_path / "budget.xlsx", {"Touchpoints": sheet, "Other": {"A1": "x"}})
    with pytest.raises(bo.InputError) as info:
        bo.read_touchpoints(path)
    (problem,) = info.value.problems
    assert (problem.row, problem.column, problem.value) == (8, "Cost (spend)", "n/a")
    assert problem.file == f"{path}, sheet 'Touchpoints'"
    assert any("skipped row 2 above the header" in n for n in info.value.notices)


def test_excel_table_on_a_later_sheet_is_found_with_a_notice(tmp_path):
    path = workbook(tmp_path / "b.xlsx", {"Cover": {"A1": "Budget"}, "Data": budget_sheet()})
    tp = bo.read_touchpoints(path)
    assert len(tp) == 3
    assert any("read sheet 'Data'" in n for n in tp.attrs["notices"])


def test_mapping_by_flags_file_and_sum(tmp_path, capsys):
    path = FILES / "leads_chats.csv"
    tp = bo.read_touchpoints(path, mapping={"spend": "Cost", "engaged": "Leads + Chats"})
    assert list(tp["engaged"]) == [100, 50]
    assert bo.read_mapping(FILES / "leads_chats.toml") == {"spend": "Cost", "engaged": ["Leads", "Chats"]}
    assert main(["validate", str(path), "--mapping", str(FILES / "leads_chats.toml")]) == 0
    assert main(["validate", str(path), "--map", "engaged=Leads + Chats"]) == 0
    assert main(["validate", str(path), "--map", "Engaged=chats"]) == 0  # case does not matter
    assert "2 touchpoints" in capsys.readouterr().out


def test_mapping_a_header_that_contains_a_plus():
    raw = pd.DataFrame({"Touchpoint": ["A"], "Function": ["f"], "Channel": ["c"], "Cost": ["10"],
                        "Leads + Chats": ["5"]})
    tp = bo.to_touchpoints(ingest.RawTable(raw, [2], "x.csv"), {"engaged": "Leads + Chats"})
    assert tp["engaged"].iloc[0] == 5


def test_sum_reports_the_part_that_is_not_a_number():
    table = bo.read_table(b"Touchpoint,Function,Channel,Cost,Leads,Chats\nTV,m,tv,10,4,x\n", name="x.csv")
    with pytest.raises(bo.InputError) as info:
        bo.to_touchpoints(table, {"engaged": ["Leads", "Chats"]})
    (problem,) = info.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "Leads + Chats (engaged)", "Leads='4' + Chats='x'")


def test_explicit_mapping_wins_over_a_column_named_like_the_target():
    raw = b"touchpoint,function,channel,spend,Cost,engaged\nTV,m,tv,1,1000,10\n"
    tp = bo.read_touchpoints(raw, name="x.csv", mapping={"spend": "Cost"})
    assert tp["spend"].iloc[0] == 1000
    assert any("column 'spend' was not used" in n for n in tp.attrs["notices"])


def test_app_functions_make_the_same_table_as_the_loader():
    table = bo.read_table((FILES / "semicolon_cp1252.csv").read_bytes(), name="upload.csv")
    suggested = bo.suggest_mapping(table.headers)
    assert suggested["spend"] == ["Cost"] and suggested["function"] == ["Department"]
    raw = bo.apply_mapping(table.data, {t: h[0] for t, h in suggested.items()})
    tp = bo.validate_touchpoints(raw, source=table.source, rows=table.rows)
    pd.testing.assert_frame_equal(tp, bo.read_touchpoints(FILES / "semicolon_cp1252.csv"), check_like=True)


def test_sample_is_unchanged_by_the_new_loader(sample):
    assert len(sample) == 51 and sample.attrs["notices"] == []


# --- refused ------------------------------------------------------------------------------------------------


def test_every_problem_at_once_with_rows_as_the_user_sees_them():
    with pytest.raises(bo.InputError) as info:
        bo.read_touchpoints(FILES / "problems.csv")
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {(4, "touchpoint"), (11, "touchpoint"), (4, "spend"), (5, "spend"), (6, "engaged"),
                     (6, "stage"), (8, "min_spend"), (8, "spend"), (9, "spend"), (10, "spend")}
    stage = next(p for p in info.value.problems if p.column == "stage")
    assert stage.value == "buying" and "awareness, consideration, purchase, retention, advocacy" in stage.fix
    assert all(p.file == str(FILES / "problems.csv") and p.fix for p in info.value.problems)


def test_ambiguous_columns_are_named_together():
    with pytest.raises(bo.InputError) as info:
        bo.read_touchpoints(FILES / "ambiguous_spend.csv")
    (problem,) = info.value.problems
    assert "'Cost' and 'Budget'" in problem.message and '--map spend="Cost"' in problem.fix
    assert len(bo.read_touchpoints(FILES / "ambiguous_spend.csv", mapping={"spend": "Budget"})) == 1


def test_missing_required_column_names_the_closest_header():
    with pytest.raises(bo.InputError) as info:
        bo.read_touchpoints(b"touchpoint,function,channel,spnd,engaged\nTV,m,tv,1,1\n", name="x.csv")
    (problem,) = info.value.problems
    assert problem.column == "spend" and "spnd" in problem.fix


def test_bad_mappings_are_all_reported():
    table = bo.read_table(FILES / "leads_chats.csv")
    with pytest.raises(bo.InputError) as info:
        bo.to_touchpoints(table, {"spnd": "Cost", "engaged": "Leeds + Chats", "function": "Function + Channel"})
    messages = [(p.column, p.message) for p in info.value.problems]
    assert ("spnd", "is not a column budgetopt uses") in messages
    assert ("engaged", "no column in the file has this header") in messages
    assert ("function", "only number columns can be summed") in messages
    assert "'Leads'" in next(p.fix for p in info.value.problems if p.column == "engaged")


@pytest.mark.parametrize("content, words", [
    (b"", "empty"),
    (b"\n\n  \r\n", "empty"),
    (b",,,\n,,,\n", "every row is blank"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old Excel"),
    (b"\x89PNG\r\n\x1a\n" + bytes(50), "image"),
    (bytes(range(256)) * 4, "binary"),
    (b"<html><body><table><tr><td>x</td></tr></table></body></html>", "web page"),
    (b"PK\x03\x04garbage", "cannot be opened"),
    (b'touchpoint,function\n"TV,marketing\n' + b"x" * 200_000, "quote"),
])
def test_files_that_are_not_tables(tmp_path, content, words):
    path = tmp_path / "touchpoints.csv"
    path.write_bytes(content)
    with pytest.raises(bo.InputError) as info:
        bo.read_touchpoints(path)
    (problem,) = info.value.problems
    assert words in problem.message and problem.fix and problem.file == str(path)


def test_zip_that_is_not_a_workbook(tmp_path):
    import zipfile

    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(bo.InputError, match="not an Excel workbook"):
        bo.read_touchpoints(path)


def test_size_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_INPUT_BYTES", 1000)
    monkeypatch.setattr(bo.io, "MAX_INPUT_BYTES", 1000)
    path = tmp_path / "big.csv"
    path.write_bytes(SAMPLE.read_bytes())
    with pytest.raises(bo.InputError, match="larger than the limit"):
        bo.read_touchpoints(path)
    with pytest.raises(bo.InputError, match="larger than the limit"):
        bo.read_table(SAMPLE.read_bytes(), name="upload.csv")
    monkeypatch.setattr(ingest, "MAX_ROWS", 20)
    monkeypatch.setattr(ingest, "MAX_INPUT_BYTES", 10**6)
    with pytest.raises(bo.InputError, match="more than 20 rows"):
        bo.read_table(SAMPLE.read_bytes(), name="upload.csv")
    with pytest.raises(bo.InputError, match="more than 20 rows"):
        bo.read_table(workbook(tmp_path / "b.xlsx", {"Data": {"A5": "x", "A30": "y"}}).read_bytes(), name="b.xlsx")


def test_workbook_that_unpacks_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_UNPACKED_BYTES", 1000)
    path = workbook(tmp_path / "b.xlsx", {"Data": budget_sheet()})
    with pytest.raises(bo.InputError, match="unpacks to more than"):
        bo.read_touchpoints(path)


def test_the_loader_never_changes_the_file(tmp_path):
    paths = [FILES / "semicolon_cp1252.csv", FILES / "problems.csv",
             workbook(tmp_path / "b.xlsx", {"Data": budget_sheet()})]
    for path in paths:
        before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
        try:
            bo.read_touchpoints(path)
        except bo.InputError:
            pass
        assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


# --- the command line ---------------------------------------------------------------------------------------


def test_cli_prints_notices_and_problems_as_a_list_and_exits_2():
    done = subprocess.run([sys.executable, "-m", "budgetopt.cli", "validate", str(FILES / "problems.csv")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "note: skipped row 1 above the header: 'Touchpoint plan Q3'"
    assert sum(line.startswith("  - ") for line in lines) == 10
    assert "row 6, column 'stage'" in done.stderr and "'buying'" in done.stderr


def test_cli_input_options(tmp_path, capsys):
    assert main(["validate", str(FILES / "title_totals.csv")]) == 0
    assert "note: dropped totals row 8" in capsys.readouterr().err
    path = workbook(tmp_path / "b.xlsx", {"Data": budget_sheet()})
    assert main(["optimize", str(path), "--sheet", "Data", "--map", "spend=Cost"]) == 0
    assert "Engaged customers" in capsys.readouterr().out
    for args in (["validate", str(FILES / "leads_chats.csv"), "--map", "engaged"],
                 ["validate", str(FILES / "leads_chats.csv"), "--mapping", str(tmp_path / "none.toml")],
                 ["validate", str(FILES / "ambiguous_spend.csv")],
                 ["validate", str(path), "--sheet", "Nope"]):
        assert main(args) == 2, args
        assert "Fix:" in capsys.readouterr().err


def test_mapping_file_errors(tmp_path):
    bad = tmp_path / "m.toml"
    bad.write_text("spend = Cost\n")
    with pytest.raises(bo.InputError, match="not valid TOML"):
        bo.read_mapping(bad)
    bad.write_text("[columns]\nspend = 3\n")
    with pytest.raises(bo.InputError, match="must be a header or a list of headers"):
        bo.read_mapping(bad)
    bad.write_text('[columns]\nspend = "Cost"\n')
    assert bo.read_mapping(bad) == {"spend": "Cost"}


# --- hostile and odd files (issue 12): each class, at random sizes and positions in test_ingest_fuzz.py --------


def test_a_csv_row_with_more_cells_than_the_header_is_an_error_naming_the_row():
    data = b"touchpoint,function,channel,spend,engaged\nTV,m,tv,100000,13000\nChat,s,chat,1,234,5\nWeb,m,web,7,1\n"
    with pytest.raises(bo.InputError) as info:
        bo.read_touchpoints(data, name="x.csv")
    (problem,) = info.value.problems
    assert problem.row == 3 and "right of the header's last column" in problem.message
    assert '"1,234"' in problem.fix and problem.value == "Chat | s | chat | 1 | 234 | 5"


def test_trailing_delimiters_and_empty_columns_are_not_extra_cells():
    wide = ",".join(["touchpoint", "function", "channel", "spend", "engaged"] + [""] * 1200)
    rows = "\n".join(",".join(["T" + str(i), "m", "tv", "10", "1"] + [""] * (1200 + i % 3)) for i in range(5))
    tp = bo.read_touchpoints(f"{wide}\n{rows}\n".encode(), name="x.csv")
    assert len(tp) == 5 and tp["spend"].sum() == 50


def test_hidden_first_sheet_gives_way_to_the_visible_one(tmp_path):
    path = workbook(tmp_path / "b.xlsx", {"Old": budget_sheet(), "Budget": budget_sheet(first_row=6)})
    book = openpyxl.load_workbook(path)
    book["Old"]["F5"] = 1  # a different figure, on the hidden sheet
    book["Old"].sheet_state = "veryHidden"
    book.active = 1
    book.save(path)
    tp = bo.read_touchpoints(path)
    assert tp["spend"].iloc[0] == 1234567.89
    assert tp.attrs["source"].endswith("sheet 'Budget'")
    assert any("read sheet 'Budget' (the first visible sheet); hidden sheet 'Old' not read" in n
               for n in tp.attrs["notices"])
    named = bo.read_touchpoints(path, sheet="Old")
    assert named["spend"].iloc[0] == 1 and "which is hidden" in named.attrs["notices"][0]


def test_styled_empty_cells_and_far_notes_do_not_count(tmp_path):
    path = workbook(tmp_path / "b.xlsx", {"Data": {**budget_sheet(), "XFD1": "note far right",
                                                    "A1048576": "note far down"}})
    book = openpyxl.load_workbook(path)
    for column in range(10, 3000):  # styled, empty cells far to the right
        book["Data"].cell(row=5, column=column).font = Font(bold=True)
    book.save(path)
    tp = bo.read_touchpoints(path)
    assert len(tp) == 3
    assert any("left out 2 cells far from the table (XFD1, A1048576)" in n for n in tp.attrs["notices"])


@pytest.mark.parametrize("storage", ["str", "string[pyarrow]", "string[python]", object])
@pytest.mark.parametrize("kept", [[0], [2, 3, 4, 5], [0, 2, 3, 4], [1, 3, 5, 6, 7, 9], list(range(0, 40, 2)),
                                  [5, 6, 7, 30, 31, 39]])
def test_rows_kept_by_slices_are_the_rows_kept_by_a_copy(storage, kept):
    """Rows of a column at increasing positions: runs of consecutive rows as slices of its Arrow array (up to
    _RUNS runs), else a copy; the same cells, dtype and a fresh index either way."""
    import numpy as np

    cells = [f"cell {i}" if i % 7 else "" for i in range(40)]
    column = pd.Series(cells, dtype=storage, index=range(100, 140))
    column = pd.concat([column.iloc[:17], column.iloc[17:]])  # two pieces: an Arrow column of two chunks
    got = ingest._rows_of(column, np.array(kept))
    pd.testing.assert_series_equal(got, column.iloc[kept].reset_index(drop=True))


@pytest.mark.parametrize("label, dropped", [
    ("Total", True), ("TOTALS:", True), ("Grand total", True), ("Sub-total", True), ("subtotal EMEA", True),
    ("SUMME", True), ("Gesamtsumme", True), ("total général", True), ("ſum", True), ("Sum", True),
    ("Touchpoint total", False), ("Totally new", False), ("Summer promo", False), ("x total", False),
])
def test_a_totals_row_is_told_by_its_label_wherever_the_label_begins(label, dropped):
    """Only labels that begin like a totals label meet the totals pattern (Python's re, case folded: `ſum` too);
    a row of a label and numbers only is dropped when the pattern takes its label."""
    text = ("touchpoint,function,channel,spend,engaged\n"
            "Search ads,marketing,search,1000,100\nChat,service,chat,200,20\n"
            f"{label},,,1200,120\n")
    table = bo.read_table(text.encode(), name="t.csv")
    notices = "\n".join(table.notices)
    assert (f"dropped totals row 4 ('{label}')" in notices) == dropped
    assert len(table.data) == (2 if dropped else 3)


@pytest.mark.parametrize("last, expected", [("Radio,marketing,radio,50,5,", ["TV", "Radio"]),
                                            ("Radio,marketing,radio,50", None)])
def test_a_row_of_another_width_below_a_title_is_read_as_before(last, expected):
    """Records of another width than the table's are read aside and put back as slices, whose offsets do not start
    at 0; the checks key the names of such a column right (Arrow's ASCII lower case did not: it crashed)."""
    data = f"Budget 2025\ntouchpoint,function,channel,spend,engaged\nTV,marketing,tv,100,10\n{last}\n".encode()
    if expected is None:
        with pytest.raises(bo.InputError, match="row 4, column 'engaged': is empty"):
            bo.read_touchpoints(data, name="f.csv")
    else:
        table = bo.read_touchpoints(data, name="f.csv")
        assert table["touchpoint"].tolist() == expected
        assert table.attrs["notices"] == ["skipped row 1 above the header: 'Budget 2025'"]


def test_a_totals_label_further_right_is_read_in_its_own_column():
    """A totals row whose label is not in the first column (`,Total,,300` or `,,Sum,300`) is told by that label: the
    first filled cell of each row is found column by column."""
    text = ("touchpoint,function,channel,spend,engaged\nA,marketing,tv,100,10\nB,sales,chat,200,20\n"
            ",Total,,300,30\n,,Sum,300,30\n")
    tp = bo.read_touchpoints(text.encode(), name="t.csv")
    assert tp["touchpoint"].tolist() == ["A", "B"]
    assert [n for n in tp.attrs["notices"] if n.startswith("dropped totals")] == [
        "dropped totals row 4 ('Total'): budgetopt adds the touchpoints up itself",
        "dropped totals row 5 ('Sum'): budgetopt adds the touchpoints up itself"]
