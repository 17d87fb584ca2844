"""The loader on hostile input: random bytes, random damage to valid files and random cells.

Every file either loads into a valid touchpoint table or is refused with a BudgetOptError: never another
exception and never a hang. Every generated file is at most CAP bytes (asserted), and each load runs under
a wall-clock guard of HANG seconds: far above the milliseconds a load takes, so the guard catches hangs,
not slowness, and hypothesis's own per-example deadline is off (timing belongs in benchmarks).
"""

from __future__ import annotations

import csv
import faulthandler
import io
import os
import random
import signal
import zipfile
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

import budgetopt as bo

FILES = Path(__file__).parent / "files"
CAP = 64 * 1024
HANG = 10.0
FUZZ = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])


class Hang(Exception):
    """A load took longer than HANG seconds."""


@pytest.fixture(autouse=True, scope="module")
def backstop():
    """If a load ever hangs inside C code, where the per-load alarm cannot interrupt it, dump and stop."""
    faulthandler.dump_traceback_later(300, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@contextmanager
def guard(size: int):
    def alarm(signum, frame):
        raise Hang(f"loading {size} bytes took more than {HANG} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load(data: bytes, name: str = "fuzz.csv"):
    """The touchpoint table, or None when the file was refused with a BudgetOptError."""
    assert len(data) <= CAP
    with guard(len(data)):
        try:
            table = bo.read_table(data, name=name)
            touchpoints = bo.to_touchpoints(table)
        except bo.BudgetOptError as exc:
            assert str(exc)
            return None
    assert len(touchpoints) == len(table.rows) > 0
    assert {"touchpoint", "function", "channel", "spend", "engaged", "stage"} <= set(touchpoints.columns)
    spend, engaged = touchpoints["spend"].to_numpy(float), touchpoints["engaged"].to_numpy(float)
    assert np.isfinite(spend).all() and (spend >= 0).all()
    assert np.isfinite(engaged).all() and ((spend == 0) | (engaged > 0)).all()
    assert not touchpoints["touchpoint"].str.casefold().duplicated().any()
    lo, hi = touchpoints["min_spend"], touchpoints["max_spend"]
    assert not (lo > hi).any() and not (spend < lo).any() and not (spend > hi).any()
    return touchpoints


def workbook_bytes(rows: list[list[object]], stored: bool = False) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    if not stored:
        return out.getvalue()
    repacked = io.BytesIO()  # uncompressed, so that damage reaches the XML rather than the compression
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(repacked, "w", zipfile.ZIP_STORED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item.filename))
    return repacked.getvalue()


@cache
def seeds() -> tuple[bytes, ...]:
    """Valid files of every kind the loader accepts (all load)."""
    rows = [["Touchpoint", "Department", "Channel", "Cost", "Engagements", "Max change"],
            ["TV", "marketing", "tv", 1000.5, 100, "30%"], ["Chat", "service", "chat", "1.234,5", "50", None],
            ["Total", None, None, 2234.5, 150, None]]
    files = [p.read_bytes() for p in sorted(FILES.glob("*.csv")) if "problem" not in p.name and "ambig" not in p.name]
    files = [f for f in files if b"Leads" not in f]
    return (*files, SAMPLE.read_bytes()[:4000].rsplit(b"\n", 1)[0] + b"\n",
            workbook_bytes(rows), workbook_bytes(rows, stored=True))


def test_seeds_are_valid_files():
    for data in seeds():
        assert load(data) is not None, data[:80]


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    load(data)


@st.composite
def damaged(draw):
    data = bytearray(draw(st.sampled_from(seeds())))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "truncate"]))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16) | st.sampled_from(
                [b'"', b"\n", b"\r", b";", b",", b"\t", b"\x00", b"\xef\xbb\xbf", b"Total,", b"%", b"-", b"1.234,5"]))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "repeat" and len(data) + 256 <= CAP:
            data[at:at] = data[at:at + draw(st.integers(1, 256))]
        elif kind == "truncate":
            del data[at:]
    return bytes(data[:CAP])


@FUZZ
@given(damaged())
def test_damaged_valid_files(data):
    load(data)


CELLS = ["", " ", "TV", "tv", "Chat", "Total", "Grand total", "marketing", "service", "awareness", "buying",
         "0", "-5", "1.234", "1,234", "1.234,5", "1,234.5", "€ 12 000", "$1,200", "12000 EUR", "30%", "(12)",
         "1e400", "nan", "inf", "abc", "=SUM(A1)", '"', "x\ny", "yes", "saturating", "0.5"]
HEADERS = ["touchpoint", "Touchpoint name", "function", "Owner", "channel", "stage", "spend", "Cost", "Budget",
           "engaged", "Engagements", "cpe", "min_spend", "max_spend", "locked", "max_change", "curve",
           "elasticity", "saturation", "value", "notes", "", "Spend"]


@st.composite
def tables(draw):
    width = draw(st.integers(1, 8))
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=width, max_size=width))
    cell = st.sampled_from(CELLS) | st.text(max_size=8)
    body = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=8))
    lead = draw(st.lists(st.lists(cell, max_size=2), max_size=2))  # title or blank rows above the header
    return [*lead, header, *body]


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from([",", ";", "\t", "xlsx"]), st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_random_cells(rows, delimiter, encoding):
    if delimiter == "xlsx":
        data = workbook_bytes([[ILLEGAL_CHARACTERS_RE.sub("", c) or None for c in row] for row in rows])
        data = data if len(data) <= CAP else data[:CAP]
    else:
        def quoted(c: str) -> str:
            return '"' + c.replace('"', '""') + '"' if any(x in c for x in f'"\n\r{delimiter}') else c

        text = "\n".join(delimiter.join(quoted(c) for c in row) for row in rows) + "\n"
        data = text.encode(encoding, errors="replace")[:CAP]
    load(data)


def test_pathological_cells_are_quick():
    """Cells built to make regular expressions backtrack: each load must finish well inside the guard."""
    long = 60_000
    for cells in (["(" * long, "touchpoint", "spend"], ["total" + " " * long + "\nx", "1", "2"],
                  ["1" + ",1" * (long // 2) + "x", "1" + ".123" * (long // 4), "-" * long],
                  ["in " * (long // 3), "€" * long, "1e" + "1" * long]):
        row = ",".join('"' + c + '"' for c in cells)
        load(f"touchpoint,function,channel,spend,engaged\n{row}\n{row}\n".encode()[:CAP])


def _cells(grid) -> list[list[str]]:
    """Rows of a grid without their empty cells at the end (the two readers pad rows differently)."""
    rows = [["" if v is None else str(v) for v in r] for r in grid.to_numpy(dtype=object).tolist()]
    return [r[: max((i + 1 for i, v in enumerate(r) if v), default=0)] for r in rows]


PIECES = st.sampled_from([*'ab1,;"\n\r\t |.#\\\'', '""', "\r\n", "é", "  ", "nan", "NA", "1e5", "\ufeff"])


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=120), st.sampled_from([",", ";", "\t", "|"]))
def test_the_fast_csv_reader_reads_what_the_csv_module_reads(pieces, delimiter):
    """pandas' C tokenizer takes a file only when it reads it cell for cell as Python's csv module does."""
    from budgetopt import ingest

    text = "".join(pieces)
    fast = ingest._csv_fast(text, delimiter) if text.strip() else None
    if fast is not None:
        assert _cells(fast) == _cells(ingest._csv_records(text, delimiter, "x.csv")), text


def _arrow_lane(text: str, delimiter: str = ","):
    """The cells `_csv_arrow` reads from a quote-free text (None: it leaves the file to pandas)."""
    from budgetopt import ingest

    head = list(csv.reader(io.StringIO(ingest._head(text), newline=""), delimiter=delimiter))
    return ingest._csv_arrow(text, delimiter, head)


def _odd_file(rows: int, odd: int, seed: int, widths: tuple[int, ...] = (0, 1, 2, 7)) -> str:
    """A quote-free table of `rows` lines of six cells, `odd` of them replaced by blank lines (width 0), titles,
    notes and rows too short or too wide, with lines ended by \\n, \\r\\n or \\r at random (a blank line ended
    by \\r before a \\n is no line of its own)."""
    rng = random.Random(seed)
    lines = [f"tp{i},marketing,tv,{i}.5,,30%" for i in range(rows)]
    for at in rng.sample(range(rows), odd):
        lines[at] = ",".join(rng.choice(["", "x", "Total", "1.234", "é", " "]) for _ in range(rng.choice(widths)))
    return "".join(line + rng.choice(["\n", "\r\n", "\r"]) for line in lines)


@pytest.mark.parametrize("text", [
    "Budget\n\na,b,c\n1,2,3\n4,5,6\n",  # a title and a blank line above the header
    "a,b,c,\r\n1,2,3,\r\n4,5,6,\r\n",  # trailing delimiters, CR LF
    "a,b,c\r1,2,3\r\r4,5,6",  # CR alone, a blank line, no line break at the end
    "a,b,c\n1,2,3\n1,234,5,6\n7,8,9\nnote below\n\n",  # a row split by a comma (wider), a note, a blank line
    "a;b;c\n1;2\n3;4;5;6;7;8\n",  # short and wide rows
    "a\tb\tc\n 1 \t2\t3\n",  # tabs, spaces kept
    "a|b|c\n1|2|3\n",
])
def test_the_arrow_lane_reads_what_the_csv_module_reads(text):
    """Quote-free files go through Arrow's reader: every record, of whatever width, in its place."""
    from budgetopt import ingest

    delimiter = ingest._sniffed(text)[0]
    arrow = _arrow_lane(text, delimiter)
    assert arrow is not None
    assert _cells(arrow) == _cells(ingest._csv_records(text, delimiter, "x.csv"))
    assert len(arrow) == len(ingest._csv_records(text, delimiter, "x.csv"))


def test_the_arrow_lane_puts_odd_records_back_across_blocks():
    """A 3 MB file (Arrow reads 1 MB blocks) with 900 odd records anywhere and mixed line endings."""
    from budgetopt import ingest

    text = _odd_file(120_000, 900, seed=13)
    arrow, records = _arrow_lane(text), ingest._csv_records(text, ",", "x.csv")
    assert arrow is not None and len(arrow) == len(records) > 119_000
    assert _cells(arrow) == _cells(records)


def test_more_odd_records_than_the_arrow_lane_takes_go_to_pandas():
    """Past _ODD_ROWS records of another width, Arrow's reader gives up and pandas' reads the same cells."""
    from budgetopt import ingest

    notes = ingest._ODD_ROWS + 1
    text = "".join(f"tp{i},marketing,tv,{i}\n" + ("" if i % 4 else f"note {i}\n") for i in range(4 * notes))
    assert _arrow_lane(text) is None
    fast = ingest._csv_fast(text, ",")
    assert fast is not None
    assert _cells(fast) == _cells(ingest._csv_records(text, ",", "x.csv"))


def _lined(lines: list[str], seed: int) -> str:
    rng = random.Random(seed)
    return "".join(line + rng.choice(["\n", "\r\n", "\r"]) for line in lines)


@pytest.mark.parametrize("seed", range(6))
def test_the_threaded_arrow_lane_places_titles_and_notes(seed, monkeypatch):
    """A file of several MB goes through Arrow's threads, which do not number the records: titles above the table
    and notes, totals and blank lines below it are put back in their place from the file's first 64 KB and last
    characters (the same text above and below too), and the records read in order are never needed."""
    from budgetopt import ingest

    rng = random.Random(seed)
    top = ["Budget 2026", "", "exported by x;y", "Budget 2026"][: rng.randint(1, 4)]
    rows = [f"tp{i},marketing,tv,{i}.5,,30%" for i in range(rng.randint(60_000, 90_000))]
    bottom = rng.sample(["Total,,,12.5", "", "Budget 2026", "note: all figures in EUR", "1,2,3,4,5,6,7"],
                        rng.randint(1, 4))
    text = _lined([*top, "touchpoint,function,channel,spend,engaged,max change", *rows, *bottom], seed)
    assert len(text.encode()) >= ingest.THREADED_BYTES
    monkeypatch.setattr(ingest, "_arrow_in_order", lambda *a: pytest.fail("read again in order"))
    arrow, records = _arrow_lane(text), ingest._csv_records(text, ",", "x.csv")
    assert arrow is not None and len(arrow) == len(records)
    assert _cells(arrow) == _cells(records)


@pytest.mark.parametrize("where", ["middle", "beyond the tail", "half a line in the head"])
def test_the_threaded_arrow_lane_reads_again_in_order_what_it_cannot_place(where, monkeypatch):
    """A record of another width in the middle of the file, or more notes than the last characters hold, or a first
    64 KB without a line feed: Arrow's threads cannot say where those are, and the file is read again in order."""
    from budgetopt import ingest

    rows = [f"tp{i},marketing,tv,{i}.5,,30%" for i in range(80_000)]
    if where == "middle":
        rows[40_000] = "a note in the middle"
    elif where == "beyond the tail":
        rows += [f"a longer note, number {i}" for i in range(900)]
    text = "\n".join(["Title", *rows]) + "\n"
    if where == "half a line in the head":
        text = "\r".join(["Title", *rows]) + "\rlast note\r"
    again = []
    in_order = ingest._arrow_in_order
    monkeypatch.setattr(ingest, "_arrow_in_order", lambda *a: again.append(1) or in_order(*a))
    arrow, records = _arrow_lane(text), ingest._csv_records(text, ",", "x.csv")
    assert again == [1]
    assert arrow is not None and _cells(arrow) == _cells(records)


def test_a_large_file_is_read_the_same_with_and_without_threads(monkeypatch):
    """The whole reading of a file of several MB (title, notes, a totals row), with Arrow's and the columns' threads
    and on one thread: the same table and the same notices."""
    import budgetopt as bo
    from budgetopt import ingest, parallel

    rows = [f"Touchpoint {i},{['sales', 'marketing'][i % 2]},tv,{i % 997}.25,{i % 89 + 1},{i % 7 * 10}%"
            for i in range(70_000)]
    text = "\n".join(["Budget 2026", "", "touchpoint,function,channel,spend,engaged,max_change", *rows,
                      "Total,,,1,2,", "figures in EUR"]) + "\n"
    threaded = bo.read_touchpoints(text.encode(), name="big.csv")
    monkeypatch.setattr(ingest, "THREADED_BYTES", 1 << 40)
    monkeypatch.setattr(parallel, "LONG", 1 << 40)
    alone = bo.read_touchpoints(text.encode(), name="big.csv")
    pd.testing.assert_frame_equal(threaded, alone)
    assert threaded.attrs == alone.attrs
    assert any("dropped totals row" in n for n in threaded.attrs["notices"])


_FOLDS = {"s": ["s", "S", "ſ"], "k": ["k", "K", "\u212a"]}


@settings(deadline=None, max_examples=400)
@given(st.sampled_from(["grand", "sub", "tot", "sum", "gesamt", "summe", "total", "touchpoint", "gr", ""]),
       st.lists(st.sampled_from([*"sSkKeEtTuU -:é1", "ſ", "\u212a", "İ", "ı", "ß", "Σ"]), max_size=5), st.data())
def test_the_totals_look_leaves_out_only_labels_the_pattern_cannot_match(word, tail, data):
    """The look at the first three bytes is a superset of _TOTALS_START, whatever the case of each letter and with
    the letters RE2 folds to ASCII ones (`ſ` for s, the Kelvin sign for k)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from budgetopt import ingest

    label = "".join(data.draw(st.sampled_from(_FOLDS.get(c, [c.lower(), c.upper()]))) for c in word + "".join(tail))
    for cells in ([label], ["x", label]):
        arrow = pa.chunked_array([pa.array(cells).slice(len(cells) - 1)])
        if pc.match_substring_regex(arrow, ingest._TOTALS_START)[0].as_py():
            assert ingest._may_begin_totals(arrow).tolist() == [True], label


def test_a_file_is_read_whole_whatever_its_size_said(tmp_path, monkeypatch):
    """The file is read at its size (not into a buffer of the size limit): one whose size the system gives as 0 (as
    /proc's files) or that grew after its size was looked at is read to its end all the same."""
    from pathlib import Path

    from budgetopt import io as bio

    path = tmp_path / "grew.csv"
    content = b"touchpoint,function,channel,spend,engaged\n" + b"tp,sales,tv,1,2\n" * 5000
    path.write_bytes(content)
    real = Path.stat

    def said_zero(self, *args, **kwargs):  # the size the system gives, before the file grew
        st = real(self, *args, **kwargs)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, 0,
                               st.st_atime, st.st_mtime, st.st_ctime))

    monkeypatch.setattr(Path, "stat", said_zero)
    assert bio._read_bytes(path, 1 << 20) == content


def test_lines_are_counted_in_the_bytes_as_in_the_text():
    from budgetopt import ingest

    text = "a,b\r\nc,d\ré,f\n" * 30_000
    for character in "\n\r":
        assert ingest._count(text.encode(), text, character) == text.count(character)
        assert ingest._count(None, text, character) == text.count(character)


@pytest.mark.parametrize("text", ["a,b\r\n1,2\n", " \x1c\t\n", "", "\n\n", "x", "Title\n\na;b\n"])
def test_the_text_of_an_ascii_file_reads_as_the_decoded_text(text):
    """A large ASCII file is read from its bytes without decoding it whole: every look the reading takes at it gives
    what the decoded text gives."""
    from budgetopt import ingest

    lazy = ingest._AsciiText(text.encode())
    assert (len(lazy), str(lazy), lazy[:3], lazy[-2:], lazy.isspace()) == (len(text), text, text[:3], text[-2:],
                                                                            text.isspace())
    for part in ["\r", "\n", '"', "\x00", "\ufeff", "a,", "é"]:
        assert (part in lazy, lazy.count(part), lazy.startswith(part)) == (part in text, text.count(part),
                                                                           text.startswith(part))


def test_a_record_cut_off_at_the_end_of_the_first_64_kb_is_not_placed_there():
    """Lines ended by CR alone and no line feed in the first 64 KB: csv.reader's last record of them is the front of
    a longer line. A short record elsewhere with that very text (a reviewer's case) is not put in its place: the file
    is read again in order, every row where it is."""
    from budgetopt import ingest

    lines = ["Budget", "touchpoint,function,channel,spend,engaged",
             *[f"tp{i},marketing,tv,{i}.5,{i % 50 + 1}" for i in range(60_000)]]
    piece = "\r".join(lines)[:65536].split("\r")[-1]  # e.g. 'tp2270,marketing,tv,2'
    lines.insert(30_000, piece)
    text = "\r".join(lines) + "\r"
    arrow, records = _arrow_lane(text), ingest._csv_records(text, ",", "x.csv")
    assert arrow is not None and len(arrow) == len(records)
    assert _cells(arrow) == _cells(records)
