"""The workbook's rows written straight as XML (sheet_rows) are the bytes XlsxWriter writes cell by cell."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import table

import budgetopt as bo
from budgetopt import export
from budgetopt.scenario import Periods, Scenario

WHEN = export.Provenance(created=datetime(2025, 3, 1, 9, 30, tzinfo=UTC))
TEXTS = ["plain", "", " lead", "trail ", "\ttab", "line\n", "a & b < c > d", '"quoted"', "_x0041_ literal",
         "bell\x07", "cr\rin", "\x1cfile sep", "=1+2", "@SUM(A1)", "ünïcödé €", "emoji 😀", "x" * 20_000,
         "  ", "-3", "'apostrophe", "trail\r", "\x1c", "TV\uffff", "\ufffe", "<r>not rich</r>",
         '<r><t>a</t></r></is></c><c r="Z9"><f>1+1</f></c><c><is><r></r>']
"""Text XlsxWriter treats specially: edge spaces, XML characters, its own _xHHHH_ escape, control characters
(also one that str.isspace counts as a space), formula starts, long text (cut by XlsxWriter)."""


def sheets(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def both_ways(write) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The files of a workbook written cell by cell and with rows as XML."""
    out = []
    for cell_by_cell in (True, False):
        export.CELL_BY_CELL = cell_by_cell
        try:
            out.append(sheets(write()))
        finally:
            export.CELL_BY_CELL = False
    return out[0], out[1]


def book_of(frames: list[pd.DataFrame]) -> bytes:
    """Each frame as a table (header, formats, totals row, filters) on its own sheet, then below it again as a
    small unformatted table."""
    from budgetopt.period_export import _write

    buffer = io.BytesIO()
    book = export._Book(buffer)
    book.book.set_properties({"created": datetime(2025, 1, 1)})
    for i, frame in enumerate(frames):
        ws = book.sheet(f"T{i}")
        export._table(book, ws, frame, totals={frame.columns[0]: "Total"} if len(frame.columns) else None)
        _write(book, ws, frame, len(frame) + 4)
    book.book.close()
    return buffer.getvalue()


def random_frame(rng: np.random.Generator) -> pd.DataFrame:
    """A frame of mixed columns: floats with NaN and infinities, ints, booleans, text, text with gaps, objects
    mixing kinds (numpy numbers, booleans, None)."""
    n = int(rng.integers(0, 40))
    columns: dict[str, object] = {}
    for j in range(int(rng.integers(1, 7))):
        kind = rng.integers(0, 7)
        if kind == 0:
            values = rng.normal(0, 10.0 ** rng.integers(-3, 12), n)
            values[rng.random(n) < 0.2] = rng.choice([np.nan, np.inf, -np.inf, 0.1 + 0.2, 1e16, -0.0])
            columns[f"spend_{j}"] = values
        elif kind == 1:
            columns[f"count_{j}"] = rng.integers(-10**6, 10**6, n)
        elif kind == 2:
            columns[f"locked_{j}"] = rng.random(n) < 0.5
        elif kind == 3:
            columns[f"name_{j}"] = [TEXTS[i] for i in rng.integers(0, len(TEXTS), n)]
        elif kind == 4:
            columns[f"note_{j}"] = pd.Series([None if rng.random() < 0.3 else TEXTS[int(rng.integers(0, 6))]
                                              for _ in range(n)], dtype=object)
        elif kind == 5:
            pool = [np.int64(3), np.float64(2.5), True, None, "x", 7, 1.5, float("nan")]
            columns[f"mixed_{j}"] = pd.Series([pool[i] for i in rng.integers(0, len(pool), n)], dtype=object)
        else:
            columns[f"tag_{j}"] = pd.Series(rng.choice(["a", "b", None], n), dtype="string")
    return pd.DataFrame(columns)


def test_random_tables_are_written_to_the_same_bytes():
    rng = np.random.default_rng(13)
    frames = [random_frame(rng) for _ in range(120)]
    old, new = both_ways(lambda: book_of(frames))
    assert old.keys() == new.keys()
    assert [name for name in old if old[name] != new[name]] == []


def test_a_plan_and_a_plan_over_periods_are_written_to_the_same_bytes(sample):
    tp = table(function=["m", "s", "p"], spend=[1000, 600, 400], engaged=[100, 80, 20],
               curve=["power", "power", "linear"], elasticity=[0.5, 0.7, 1.0], carryover=[0.3, 0.0, 0.0])
    over_time = bo.optimize(tp, Scenario(periods=Periods(horizon="4q", start="2026-01-01",
                                                          seasonality=(0.9, 1.0, 1.0, 1.2))))
    plan = bo.optimize(sample, Scenario(name="=cut", budget=bo.Budget(change=-0.1)))
    for p, inputs in ((plan, sample), (over_time, tp)):
        old, new = both_ways(lambda p=p, inputs=inputs: export.plan_xlsx_bytes(p, inputs=inputs, provenance=WHEN))
        assert [name for name in old if old[name] != new[name]] == []
        assert sum(len(b) for name, b in new.items() if name.startswith("xl/worksheets/")) > 10_000


def test_past_the_sheet_s_last_row_or_column_and_after_empty_rows_the_same_bytes():
    """Rows or columns beyond Excel's sheet go cell by cell (XlsxWriter drops them); after a table whose last rows
    are empty, a cell written into one of those rows lands as it would have."""
    from budgetopt.period_export import _write

    def book(rowmax: int, colmax: int) -> bytes:
        buffer = io.BytesIO()
        b = export._Book(buffer)
        b.book.set_properties({"created": datetime(2025, 1, 1)})
        ws = b.sheet("T")
        ws.xls_rowmax, ws.xls_colmax = rowmax, colmax
        frame = pd.DataFrame({"a": [1.0, 2.0, None, None], "b": ["x", None, None, None], "c": [3, 4, 5, 6]})
        _write(b, ws, frame[["a", "b"]], 2)
        export._put(ws, 4, 1, "after the empty rows")
        export._table(b, b.sheet("U"), frame)
        b.book.close()
        return buffer.getvalue()

    for rowmax, colmax in ((1_048_576, 16_384), (4, 16_384), (100, 2)):
        old, new = both_ways(lambda rowmax=rowmax, colmax=colmax: book(rowmax, colmax))
        assert [name for name in old if old[name] != new[name]] == [], (rowmax, colmax)
    ws = openpyxl.load_workbook(io.BytesIO(zipped(new)))["T"]
    assert ws["B5"].value == "after the empty rows"


def test_the_rows_go_straight_into_the_xml(sample, monkeypatch):
    """The fast path is taken for the plan's tables (not a silent fallback to cell by cell)."""
    from budgetopt import sheet_rows

    taken = []
    real = sheet_rows.write_rows
    monkeypatch.setattr(sheet_rows, "write_rows", lambda *a: taken.append(real(*a)) or taken[-1])
    export.plan_xlsx_bytes(bo.optimize(sample, Scenario()), inputs=sample, provenance=WHEN)
    assert len(taken) >= 6 and all(taken)


def test_text_like_rich_text_is_written_as_text():
    """XlsxWriter copies text that starts with <r> and ends with </r> into the XML as it is (rich text): such a
    name read back empty, and a crafted one added a formula cell. Both ways it is escaped and reads back as it was,
    in the table, in a header and in a cell of its own."""
    injected = TEXTS[-1]
    frame = pd.DataFrame({"touchpoint": ["<r>not rich</r>", injected], injected: [1.0, 2.0]})
    for data in both_ways(lambda: book_of([frame])):
        ws = openpyxl.load_workbook(io.BytesIO(zipped(data)))["T0"]
        read = [ws["A2"].value, ws["A3"].value, ws["B1"].value]
        assert read == ["<r>not rich</r>", injected, export._label(injected)]
        assert ws["Z9"].value is None
        assert b"&lt;r&gt;not rich&lt;/r&gt;" in data["xl/worksheets/sheet1.xml"]


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("text", TEXTS)
def test_text_reads_back_as_written(text):
    """As Excel reads it: openpyxl leaves Excel's _xHHHH_ escapes in the text, undone here."""
    ws = openpyxl.load_workbook(io.BytesIO(book_of([pd.DataFrame({"name": ["a", text]})])))["T0"]
    read = re.sub("_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), ws["A3"].value)
    assert read == export.ILLEGAL_CHARACTERS_RE.sub("\ufffd", export._guard(text))
