"""From the bytes of a user's file to a raw table of text cells, with the row numbers the user sees.

What it accepts: CSV with `,` `;` tab or `|` (sniffed), UTF-8 (with or without BOM), UTF-16 with BOM,
cp1252 and latin-1; Excel workbooks (.xlsx, .xlsm) on the first visible or a named sheet (`workbook.py`
reads a sheet's cells, bounded by those that hold data). Around the table it skips blank rows and columns,
title rows above the header, notes below it, and totals rows (a label such as `Total` or `Grand total`
with only numbers beside it), each with a notice. What it refuses (empty files, PDFs and other binary
files, old .xls, web pages, files over the size limits, CSV rows with cells right of the header) it
refuses with an InputError that says what to do. It never opens files: `io.py` does that.

Speed: CSV cells come from pandas' C tokenizer (the csv module only for files it cannot take whole), and
every step works on whole columns: no per-row or per-cell Python except on the few cells that need it.
"""

from __future__ import annotations

import codecs
import collections
import csv
import datetime as dt
import io
import itertools
import operator
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .amounts import (
    EITHER_WAY,
    TEXT,
    already_stripped,
    decimal_separator,
    parse_numbers,
    read_conventions,
    stripped,
)
from .cells import arrow_cells, held, leading_bytes, matching, nonempty
from .errors import InputError, Problem
from .mapping import apply_mapping, column_label, known_header, resolve_mapping
from .parallel import side_by_side
from .schema import SPEND as S_SPEND
from .touchpoints import validate_touchpoints
from .workbook import MAX_CELLS, MAX_UNPACKED_BYTES, Sheet, WorkbookProblem, column_letters, read_sheet, sheet_members

MAX_INPUT_BYTES = 50 * 1024 * 1024
"""Largest file read (CSV or Excel)."""
MAX_ROWS = 250_000
"""Most rows read from a file, from its first to its last row with data (title rows included; empty rows
around the table and, in a workbook, cells far from it are left out first)."""
MAX_COLUMNS = 1_000
"""Most columns, from the first to the last column with data."""
HEADER_SEARCH = 30
"""The header is looked for in the first this many non-blank rows."""

_TOTALS = re.compile(
    r"(?:grand\s*|sub-?\s*)?totals?(?:\s.*)?:?|sum|summe|gesamt(?:summe)?|total\s+g[ée]n[ée]ral", re.IGNORECASE
)
_TOTALS_START = "(?i)^(?:grand|sub|tot|sum|gesamt)"
"""How every label _TOTALS matches begins (RE2 folds case as Python's re does, `ſum` too): the others never meet it."""
_TOTALS_PREFIXES = np.array([int.from_bytes(p, "big") for p in (
    b"gra", b"ges", b"ge\xc5", b"sub", b"sum", b"tot", b"\xc5\xbfu")])
"""The first three bytes of every label _TOTALS_START matches, ASCII letters in lower case: RE2 folds `s` to `ſ`
(U+017F, bytes C5 BF) too, and no other letter of these words to a character outside ASCII."""
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF", "the file is a PDF document, not a table", "export the table itself as CSV or Excel (.xlsx)"),
    (b"\xd0\xcf\x11\xe0", "the file is an old Excel (.xls) or other Office binary file",
     "open it in Excel and save it as .xlsx or CSV (UTF-8)"),
    (b"\x89PNG", "the file is an image, not a table", "export the table as CSV or Excel (.xlsx)"),
    (b"\xff\xd8\xff", "the file is an image, not a table", "export the table as CSV or Excel (.xlsx)"),
    (b"\x1f\x8b", "the file is compressed (gzip)", "unpack it first"),
)


@dataclass
class RawTable:
    """A table as found in a file: text cells under the user's headers, before any checking."""

    data: pd.DataFrame
    """One column per header (as the user wrote it), every cell text ('' when blank)."""
    rows: np.ndarray
    """For each data row, its row number as the user sees it in a spreadsheet (1 = first line/row)."""
    source: str
    """The file (and sheet) named in messages."""
    notices: list[str] = field(default_factory=list)
    """What was done to the file that the user should know (rows skipped, totals dropped, ...)."""
    decimal: str = "."
    """The decimal separator of numbers that could be read either way (`1.234`)."""
    header_row: int | None = None
    """The header's row number as the user sees it (problems with a whole column point there)."""

    @property
    def headers(self) -> list[str]:
        """The table's headers as the user wrote them."""
        return [str(c) for c in self.data.columns]


def _refuse(source: str, message: str, fix: str, value: object = None) -> InputError:
    return InputError([Problem(None, None, value, message, fix, source)], source)


def parse_table(data: bytes, source: str, sheet: str | None = None) -> RawTable:
    """Find the table in a file's bytes (CSV or Excel, sniffed from the content, not the name)."""
    if len(data) > MAX_INPUT_BYTES:
        raise _refuse(source, f"the file is larger than the limit of {MAX_INPUT_BYTES // 2**20} MB",
                      "keep only the touchpoint rows, or split the file", f"{len(data):,} bytes")
    if not data or data.isspace():  # not data.strip(), without copying the file
        raise _refuse(source, "the file is empty", "export the touchpoint table again, with its header row")
    head = data.lstrip()[:8]
    for magic, message, fix in _MAGIC:
        if head.startswith(magic):
            raise _refuse(source, message, fix)
    if data.startswith(b"PK\x03\x04"):
        grid, rows, source, notices, decimal = _excel_grid(data, source, sheet)
        return _locate(grid, rows, source, notices, decimal=decimal)
    grid, rows, delimiter, notices = _csv_grid(data, source)
    if sheet:
        notices.append(f"--sheet {sheet!r} was ignored: a CSV file has no sheets")
    return _locate(grid, rows, source, notices, default="," if delimiter == ";" else ".", delimiter=delimiter)


# --- Excel -----------------------------------------------------------------------------------------------


def _excel_grid(data: bytes, source: str, sheet: str | None) -> tuple[pd.DataFrame, np.ndarray, str, list[str], str]:
    """Cells of one worksheet as text, row numbers (the sheet's own), the source named, notices, decimal."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
            unpacked = sum(m.file_size for m in members)
            kind = archive.read("mimetype")[:80] if "mimetype" in names and unpacked < MAX_UNPACKED_BYTES else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
        raise _refuse(source, f"the file looks like a zip or Excel file but cannot be opened ({exc})",
                      "open it in Excel and save it again as .xlsx, or export CSV") from exc
    if b"opendocument" in kind:
        raise _refuse(source, "the file is an OpenDocument spreadsheet (.ods)", "save it as .xlsx or CSV")
    if "xl/workbook.xml" not in names:
        raise _refuse(source, "the file is a zip archive, not an Excel workbook",
                      "unpack it, or export the table as .xlsx or CSV")
    if unpacked > MAX_UNPACKED_BYTES:
        raise _refuse(source, f"the workbook unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB",
                      "copy the touchpoint table alone into a new workbook or a CSV", f"{unpacked:,} bytes")
    from python_calamine import CalamineWorkbook, SheetTypeEnum  # imported here: only Excel files need it

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            sheets = [m for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        finally:
            book.close()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            grid, rows, decimal, title, notices = _pick_sheet(data, archive, sheets, sheet, source)
    except InputError:
        raise
    except WorkbookProblem as problem:
        raise _refuse(source, problem.message, problem.fix, problem.value) from None
    except Exception as exc:  # damaged files raise many kinds (zip, XML, calamine); all mean the same to a user
        raise _refuse(source, f"the Excel file is damaged or not a workbook ({type(exc).__name__}: {exc})",
                      "open it in Excel and save it again as .xlsx, or export CSV") from exc
    return grid, rows, f"{source}, sheet '{title}'", notices, decimal


PLAN_SHEET = "Plan"
"""The sheet of a plan workbook (export.SHEETS) that reads back as input, like plan.csv."""
PLAN_HISTORY_SHEETS = ("Plan as history", "Plan by period")
"""The sheets of a plan over periods that read back as a history (period_export.period_sheets), first found first:
months and weeks on 'Plan by period', quarters and four-week periods split into months or weeks on 'Plan as
history'."""


def _pick_sheet(data: bytes, archive: zipfile.ZipFile, sheets: list, sheet: str | None,
                source: str) -> tuple[pd.DataFrame, np.ndarray, str, str, list[str]]:
    """The named sheet; without a name, the Plan sheet of a workbook budgetopt exported, else the first visible sheet
    whose header names touchpoint columns, else the first visible sheet. Hidden sheets are read only when named.
    Returns grid, rows, decimal, title, notices."""
    if not sheets:
        raise _refuse(source, "the workbook has no worksheet", "put the touchpoint table on a worksheet")
    members = sheet_members(archive)

    def cells(meta) -> tuple[pd.DataFrame, np.ndarray, str, list[str]]:
        if meta.name not in members:
            raise WorkbookProblem(f"the cells of sheet '{meta.name}' cannot be found in the file",
                                  "open it in Excel and save it again as .xlsx, or export CSV")
        found = read_sheet(data, archive, meta.name, members[meta.name], MAX_ROWS, MAX_COLUMNS)
        return (*_sheet_cells(found), found.notices)

    from python_calamine import SheetVisibleEnum

    def hidden(meta) -> bool:
        return meta.visible != SheetVisibleEnum.Visible

    if sheet is not None:
        for match in (lambda s: s.name == sheet, lambda s: s.name.strip().casefold() == sheet.strip().casefold()):
            if hits := [s for s in sheets if match(s)]:
                break
        else:
            hits = [sheets[int(sheet) - 1]] if sheet.strip().isdigit() and 1 <= int(sheet) <= len(sheets) else []
        if not hits:
            raise InputError([Problem(None, None, sheet, "the workbook has no sheet of that name",
                                      "use one of: " + ", ".join(f"'{s.name}'" for s in sheets), source)], source)
        grid, rows, decimal, notices = cells(hits[0])
        if hidden(hits[0]):
            notices.insert(0, f"read sheet '{hits[0].name}', which is hidden in the workbook")
        return grid, rows, decimal, hits[0].name, notices
    shown = [s for s in sheets if not hidden(s)] or sheets
    names_shown = [s.name for s in shown]
    if {"Summary", PLAN_SHEET, "Inputs"} <= set(names_shown):  # a plan workbook budgetopt exported (export.SHEETS)
        over_periods = [name for name in PLAN_HISTORY_SHEETS if name in names_shown]
        plan = shown[names_shown.index(over_periods[0] if over_periods else PLAN_SHEET)]
        grid, rows, decimal, notices = cells(plan)
        said = (f"read sheet '{plan.name}' of a plan over periods budgetopt exported: one row per touchpoint and "
                "period, a history whose planned spend and engagement are the next horizon's today (the plan per "
                "touchpoint and the data it was made from are on sheets 'Plan' and 'Inputs': pick one with --sheet)"
                if over_periods else
                f"read sheet '{PLAN_SHEET}' of a plan budgetopt exported: its proposed spend and engagement are the "
                "next period's today (the data the plan was made from is on sheet 'Inputs': pick it with --sheet)")
        return grid, rows, decimal, plan.name, [said, *notices]
    skipped = [s.name for s in sheets if hidden(s) and shown is not sheets]
    also = (f"; hidden sheet{'s' if len(skipped) > 1 else ''} " + ", ".join(f"'{n}'" for n in skipped)
            + " not read") if skipped else ""
    first = cells(shown[0])
    if len(shown) == 1 or _header_score(first[0]) >= 2:
        note = [f"read sheet '{shown[0].name}'{' (the first visible sheet)' if skipped else ''}{also} "
                "(pick another with --sheet)"] if len(sheets) > 1 else []
        return first[0], first[1], first[2], shown[0].name, note + first[3]
    for other in shown[1:]:
        grid, rows, decimal, notices = cells(other)
        if _header_score(grid) >= 2:
            return grid, rows, decimal, other.name, [
                f"read sheet '{other.name}': the first sheet, '{shown[0].name}', has no touchpoint table{also} "
                "(pick another with --sheet)", *notices]
    names = ", ".join(f"'{s.name}'" for s in sheets)
    return first[0], first[1], first[2], shown[0].name, [
        f"read the first sheet; the workbook has sheets {names} (pick one with --sheet)", *first[3]]


def _sheet_cells(sheet: Sheet) -> tuple[pd.DataFrame, np.ndarray, str]:
    """A worksheet region's cells as text (columns labelled by their sheet position, A = 0), the sheet's row
    numbers of its rows, and the decimal separator of its text cells.

    Only cells typed as text say how the sheet writes decimals: typed numbers have no convention.
    """
    width = max(map(len, sheet.cells), default=0)
    rows = [r if len(r) == width else [*r, *[""] * (width - len(r))] for r in sheet.cells]
    cells = np.empty((len(rows), width), dtype=object)
    if rows:
        cells[:] = rows
    del rows
    sheet.cells = []  # from here on, each column's values are freed once it is text
    columns, texts = {}, []
    for j in range(width):
        text, typed_text = _column_text(cells[:, j])
        cells[:, j] = None
        columns[sheet.first_column + j] = pd.Series(text, dtype=object)
        texts.append(typed_text)
    decimal = decimal_separator(pd.Series(np.concatenate(texts) if texts else [], dtype=object))
    n = len(cells)
    return pd.DataFrame(columns, index=pd.RangeIndex(n)), np.arange(n) + sheet.first_row + 1, decimal


def _column_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A column of Excel values as text (`_cell_text`, with floats formatted as a block), and its cells that
    were typed as text (the only ones that say how the sheet writes decimals)."""
    inferred = pd.api.types.infer_dtype(values, skipna=False)
    if inferred == "string":
        return values.copy(), values.copy()
    if inferred == "floating":
        kind = np.full(len(values), 2, dtype=np.int8)
    else:
        kind = np.fromiter((type(v) is str and 1 or type(v) is float and 2 for v in values), np.int8, len(values))
    out = values.copy()
    floats = kind == 2
    if floats.any():
        number = values[floats].astype(float)
        whole = (number == np.floor(number)) & (np.abs(number) < 1e15)
        text = np.empty(len(number), dtype=object)
        text[whole] = number[whole].astype(np.int64).astype(str)
        if not whole.all():  # numpy writes the shortest text that reads back exactly, as repr does
            fraction = number[~whole].astype(str).astype(object)
            either = pd.Series(fraction, dtype="str").str.fullmatch(EITHER_WAY.pattern).to_numpy(bool, na_value=False)
            fraction[either] = fraction[either] + "0"  # 1.234 -> 1.2340: never 1234
            text[~whole] = fraction
        out[floats] = text
    other = kind == 0
    if other.any():
        out[other] = [_cell_text(v) for v in values[other].tolist()]
    return out, values[kind == 1]


def _header_score(grid: pd.DataFrame) -> int:
    """How many cells of the likeliest header row name a touchpoint column."""
    if grid.empty:
        return 0
    head = grid.iloc[:200].astype(TEXT).fillna("").apply(lambda column: column.str.strip())
    head = head.loc[head.ne("").any(axis=1)].iloc[:HEADER_SEARCH]
    return int(head.apply(lambda column: column.map(known_header).notna()).sum(axis=1).max()) if len(head) else 0


def _cell_text(value: object) -> str:
    """An Excel cell as text; numbers are written so that `parse_numbers` reads them back exactly."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = repr(value)
        return text + "0" if EITHER_WAY.fullmatch(text) else text  # 1.234 -> 1.2340: never 1234
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    return str(value)


# --- CSV -------------------------------------------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_DELIMITERS = (",", ";", "\t", "|")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters other than tab and line breaks: a text table has (almost) none."""


class _AsciiText:
    """The text of a large file of ASCII bytes (which is its UTF-8 too), read from the bytes as it is asked for: the
    pieces and tests a CSV file's reading makes (`text[:65536]`, `"\r" in text`, `len(text)`), without a copy of the
    whole file as a Python string; `str(text)` makes that copy."""

    def __init__(self, data: bytes):
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, part: slice) -> str:
        return self.data[part].decode("ascii")

    def __contains__(self, part: str) -> bool:
        return part.encode("utf-8") in self.data

    def startswith(self, prefix: str) -> bool:
        return self.data.startswith(prefix.encode("utf-8"))

    def count(self, part: str) -> int:
        return self.data.count(part.encode("utf-8"))

    def isspace(self) -> bool:
        return self[:1].isspace() and str(self).isspace()  # str's whitespace: \x1c-\x1f too

    def __str__(self) -> str:
        return self.data.decode("ascii")


def _decode(data: bytes, source: str) -> tuple[str, str]:
    """Text and the encoding it was read with: a BOM decides, else UTF-8, else cp1252, else latin-1."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding), encoding
            except UnicodeDecodeError as exc:
                if encoding != "utf-8":
                    raise _refuse(source, f"the file says it is {encoding} but is not ({exc.reason})",
                                  "save it again as CSV (UTF-8)") from exc
                data = data[len(bom):]
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


def _head(text: str) -> str:
    """The first 64 KB of the text, cut after its last line break (the sample that decides the dialect)."""
    sample = text[:65536]
    return sample[: sample.rfind("\n") + 1] or sample


def _sniffed(text: str) -> tuple[str, list[list[str]] | None]:
    """The delimiter that splits the most lines into the same number (two or more) of fields, and the records
    csv.reader cut the file's first 64 KB into with it (None when it did not cut them)."""
    sample = _head(text)
    best, best_score, cut = ",", (0, 0), {}
    for delimiter in _DELIMITERS:
        if delimiter not in sample:
            continue  # every line one field: it cannot split the most lines into two or more
        try:
            cut[delimiter] = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        widths = [len(r) for r in cut[delimiter] if any(r)]
        if not widths:
            continue
        counts = np.bincount(widths)
        width = int(counts.argmax())
        score = (int(counts[width]), width) if width >= 2 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best, cut.get(best)


def _csv_grid(data: bytes, source: str) -> tuple[pd.DataFrame, np.ndarray, str, list[str]]:
    """Cells of a delimited text file; a record's number is its row number in a spreadsheet."""
    text, encoding = (_AsciiText(data), "utf-8") if len(data) >= THREADED_BYTES and data.isascii() else \
        _decode(data, source)
    controls = len(_CONTROLS.findall(text[:65536]))
    if "\x00" in text or controls > 0.02 * min(len(text), 65536):
        raise _refuse(source, "the file is not a text table (it holds binary data)",
                      "save the table as CSV (UTF-8) or Excel (.xlsx)")
    if re.match(r"\s*<(?:!doctype\s+html|html|table|\?xml)", text[:1024], re.IGNORECASE):
        raise _refuse(source, "the file is a web page or XML, not a CSV table",
                      "open it in Excel and save it as .xlsx or CSV")
    if not text or text.isspace():
        raise _refuse(source, "the file is empty", "export the touchpoint table again, with its header row")
    delimiter, head = _sniffed(text)
    grid = _csv_fast(text, delimiter, data if encoding == "utf-8" and not data.startswith(codecs.BOM_UTF8) else None,
                     head)
    if grid is None:
        grid = _csv_records(str(text), delimiter, source)
    if len(grid) > MAX_ROWS:
        raise _too_many_rows(source)
    notices = []
    if encoding not in ("utf-8", "utf-16-le", "utf-16-be"):
        notices.append(f"read as {encoding} text (not UTF-8); check that accented letters look right")
    return grid, np.arange(1, len(grid) + 1), delimiter, notices


def _csv_fast(text: str, delimiter: str, utf8: bytes | None = None,
              head: list[list[str]] | None = None) -> pd.DataFrame | None:
    """Every record's cells through pandas' C tokenizer, one column wider than the widest record of the file's
    first 64 KB; None when the file is not that simple (a record wider still, a quote never closed, more lines
    than the row limit), for `_csv_records` to read record by record. `utf8`: the text's UTF-8 bytes, if at hand;
    `head`: the records of the first 64 KB, if cut already (`_sniffed`)."""
    try:
        head = head if head is not None else list(csv.reader(io.StringIO(_head(text), newline=""),
                                                             delimiter=delimiter))
    except csv.Error:
        return None
    width = max(map(len, head), default=0)
    lines = _count(utf8, text, "\n")
    if "\r" in text:
        lines = max(lines, _count(utf8, text, "\r"))
    if not width or lines > MAX_ROWS + 1 or width > MAX_COLUMNS or width * (lines + 1) > MAX_CELLS:
        return None
    if text.startswith("\ufeff"):  # a second byte-order mark: pandas would drop it, the csv module keeps it
        return None
    if '"' not in text and (grid := _csv_arrow(text, delimiter, head, utf8)) is not None:
        return grid
    try:
        utf8 = utf8 if utf8 is not None else text.encode("utf-8")
        grid = pd.read_csv(io.BytesIO(utf8), encoding="utf-8", sep=delimiter, header=None,
                           names=range(width + 1), dtype=str,  # one spare column: a wider row is still read
                           keep_default_na=False, na_filter=False, skip_blank_lines=False, engine="c",
                           quoting=csv.QUOTE_MINIMAL, doublequote=True, skipinitialspace=False)
    except (pd.errors.ParserError, ValueError, OverflowError, MemoryError):
        return None
    if not len(grid) or not grid.index.equals(pd.RangeIndex(len(grid))):  # pandas took a column as the index
        return None
    return grid


def _count(utf8: bytes | None, text: str, character: str) -> int:
    """How often an ASCII character occurs in the text: counted in its UTF-8 bytes by numpy when at hand (several
    times faster than `str.count` on a large file)."""
    if utf8 is None or len(utf8) < 1 << 16:
        return text.count(character)
    found, step = 0, 1 << 16
    data, scratch = np.frombuffer(utf8, dtype=np.uint8), np.empty(step, dtype=bool)
    for at in range(0, len(data), step):  # a piece at a time: no scratch array the size of the file to fault in
        piece = data[at: at + step]
        found += int(np.count_nonzero(np.equal(piece, ord(character), out=scratch[: len(piece)])))
    return found


_ODD_ROWS = 1_000
"""Most records of another width than the table's that `_csv_arrow` reads aside (titles, notes, totals)."""
THREADED_BYTES = 1 << 20
"""Files of at least this many bytes are read by Arrow's threads first (about 1.6 times as fast on two cores)."""
_TAIL = 8192
"""Characters at the end of a file whose records `_csv_arrow` looks at to place notes and totals below the table."""


def _csv_arrow(text: str, delimiter: str, head: list[list[str]], utf8: bytes | None = None) -> pd.DataFrame | None:
    """The cells of a file without quotes through Arrow's CSV reader (several times faster than pandas' with every
    cell as text): each line is a record, cut at every delimiter. Records of the width most records of the file's
    first 64 KB (`head`, as csv.reader cut them) have (blank lines: cells '') come from Arrow; up to _ODD_ROWS
    others (titles above the table, notes below it) are cut by Python and put back in their place. None when there
    are more, for pandas to read."""
    import pyarrow as pa

    try:
        string = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default string storage since 3.0
    except TypeError:  # pandas < 2.3 has no such storage: pandas' own reader takes the file
        return None
    counts = np.bincount([len(r) for r in head if len(r) > 1] or [0])
    width = int(counts.argmax())
    if width < 2:
        return None
    # valid UTF-8 either way (bytes that decoded as UTF-8 or are ASCII, or text encoded): Arrow need not check it
    data = pa.py_buffer(utf8 if utf8 is not None else text.encode("utf-8"))
    read = _arrow_threaded(data, text, delimiter, width, head) if data.size >= THREADED_BYTES else None
    if read is None:
        read = _arrow_in_order(data, delimiter, width)
    if read is None:
        return None
    table, odd = read
    n = table.num_rows + len(odd)
    at = np.array([i for i, _ in odd], dtype=np.int64)
    cells = [line.rstrip("\r\n").split(delimiter) for _, line in odd]
    wide = max(width, *map(len, cells)) if cells else width
    if len(odd) and (at.min() < 0 or at.max() >= n or len(np.unique(at)) != len(at)):
        return None
    if wide > MAX_COLUMNS or wide * n > MAX_CELLS or n > MAX_ROWS + 1:
        return None
    order = np.argsort(at)
    at, cells = at[order], [cells[k] for k in order]
    top = next((k for k in range(len(at)) if at[k] != k), len(at))  # odd records above the first regular one
    placed = bool(np.array_equal(at[top:], np.arange(n - (len(at) - top), n)))  # the rest below the last one
    columns = {}
    for j in range(wide):
        column = table.column(j) if j < width else pa.chunked_array([pa.array([""] * table.num_rows, pa.string())])
        extra = pa.array([c[j] if j < len(c) else "" for c in cells], pa.string())
        if placed:
            column = pa.chunked_array([extra[:top], *column.chunks, extra[top:]], pa.string())
        else:
            index = np.empty(n, dtype=np.int64)
            regular = np.ones(n, dtype=bool)
            regular[at] = False
            index[regular] = np.arange(table.num_rows)
            index[at] = table.num_rows + np.arange(len(at))
            column = pa.chunked_array([*column.chunks, extra], pa.string()).take(pa.array(index))
        columns[j] = pd.Series(pd.arrays.ArrowStringArray(column, dtype=string), copy=False)
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def _arrow_read(data, delimiter: str, width: int, threads: bool, aside):
    """Arrow's CSV reader on quote-free text: `width` text columns, each line a record, blank lines kept (cells
    ''); `aside(row)` gets each record of another width."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [str(j) for j in range(width)]
    try:
        return pacsv.read_csv(
            data,
            read_options=pacsv.ReadOptions(column_names=names, use_threads=threads),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False, double_quote=False,
                                             escape_char=False, newlines_in_values=False, ignore_empty_lines=False,
                                             invalid_row_handler=aside),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                 check_utf8=False))  # UTF-8 already: see _csv_arrow
    except (pa.ArrowException, ValueError, MemoryError):
        return None


def _arrow_in_order(data, delimiter: str, width: int) -> tuple[object, list[tuple[int, str]]] | None:
    """(regular records, [(position, text)] of the others) read by one thread, which numbers every record."""
    odd: list[tuple[int, str]] = []

    def aside(row) -> str:
        if row.number is None or len(odd) >= _ODD_ROWS:
            return "error"
        odd.append((row.number - 1, row.text))
        return "skip"

    table = _arrow_read(data, delimiter, width, False, aside)
    return None if table is None else (table, odd)


def _arrow_threaded(data, text: str, delimiter: str, width: int,
                    head: list[list[str]]) -> tuple[object, list[tuple[int, str]]] | None:
    """`_arrow_in_order` by Arrow's threads, which do not number the records: done when every record of another
    width is one of those the file's first 64 KB (`head`) or last _TAIL characters hold, whose places csv.reader
    gives (each line a record, counted from the start or the end); else None (read again in order)."""
    found: list[str] = []

    def aside(row) -> str:
        if len(found) >= _ODD_ROWS:
            return "error"
        found.append(row.text)
        return "skip"

    table = _arrow_read(data, delimiter, width, True, aside)
    if table is None:
        return None
    if not found:
        return table, []
    left = collections.Counter(tuple(line.rstrip("\r\n").split(delimiter)) for line in found)
    n = table.num_rows + len(found)
    places = [(k, r) for k, r in enumerate(head) if r and len(r) != width]  # a blank line is no odd record
    head_chars = len(_head(text))
    if head and head_chars < len(text) and text[head_chars - 1: head_chars] != "\n":
        # no line feed in the first 64 KB (lines ended by CR alone): its last record may go on past them, and a
        # record of the same text elsewhere would take its place
        places = [(k, r) for k, r in places if k != len(head) - 1]
    tail = text[-_TAIL:]
    cut = tail.find("\n") + 1  # a record begins after a line feed (no quotes: none is inside a record)
    if sum(left.values()) > len(places) and len(text) - len(tail) + cut >= head_chars and cut:
        try:
            below = list(csv.reader(io.StringIO(tail[cut:], newline=""), delimiter=delimiter))
        except csv.Error:
            return None
        places += [(n - len(below) + k, r) for k, r in enumerate(below) if r and len(r) != width]
    odd = []
    for place, record in places:
        key = tuple(record)
        if left[key]:
            left[key] -= 1
            odd.append((place, delimiter.join(record)))
    return (table, odd) if len(odd) == len(places) == len(found) else None


def _csv_records(text: str, delimiter: str, source: str) -> pd.DataFrame:
    """Every record's cells with Python's csv module, each record without its empty cells at the end."""
    records, cells = [], 0
    try:
        for record in csv.reader(_lines(text, source), delimiter=delimiter):
            if len(records) >= MAX_ROWS:
                raise _too_many_rows(source)
            if record and not record[-1]:  # trailing empty cells (padded exports) hold nothing
                record = record[: len(record) - sum(1 for _ in itertools.takewhile(operator.not_, reversed(record)))]
            if len(record) > MAX_COLUMNS:
                raise _refuse(source, f"the table has more than {MAX_COLUMNS:,} columns",
                              "keep only the touchpoint columns", f"row {len(records) + 1}")
            cells += len(record)
            if cells > MAX_CELLS:
                raise _refuse(source, f"the file has more than {MAX_CELLS:,} cells with data",
                              "keep only the touchpoint rows and columns")
            records.append(record)
    except csv.Error as exc:
        raise _refuse(source, f"the file is not a readable CSV table ({exc}; often a quote that is never closed)",
                      "check for a quote (\") that is never closed, or save it again as CSV") from exc
    width = max(map(len, records), default=0)
    padded = [r if len(r) == width else [*r, *[""] * (width - len(r))] for r in records]
    columns = list(zip(*padded, strict=True)) if padded else []
    return pd.DataFrame({j: pd.Series(column, dtype=object) for j, column in enumerate(columns)},
                        index=pd.RangeIndex(len(records)))


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
"""A line with its ending, as csv.reader splits a file opened with newline=''."""
MAX_LINE = 1_000_000
"""Longest line of a CSV file, in characters (no touchpoint row comes near it): one line of 50 MB would be
millions of cells in memory at once."""


def _lines(text: str, source: str) -> Iterator[str]:
    """The text's lines as csv.reader wants them, refusing one longer than MAX_LINE before it is split."""
    for number, match in enumerate(_LINE.finditer(text), start=1):  # not StringIO: it holds 4 bytes a character
        line = match.group()
        if len(line) > MAX_LINE:
            raise _refuse(source, f"line {number:,} is longer than {MAX_LINE:,} characters",
                          "keep only the touchpoint table, one touchpoint per line", f"{len(line):,} characters")
        yield line


def _too_many_rows(source: str) -> InputError:
    return _refuse(source, f"the file has more than {MAX_ROWS:,} rows",
                   "keep only the touchpoint rows (one per touchpoint), or aggregate them first")


# --- Finding the table -----------------------------------------------------------------------------------


def _letter(position: int) -> str:
    """Spreadsheet column letter of a 0-based position (0 -> A, 26 -> AA)."""
    return column_letters(position)


def _shown(table: pd.DataFrame, i: int) -> str:
    """The filled cells of the table's `i`-th row, as a notice quotes them (cut at 60 characters)."""
    cells = (table.iat[i, j] for j in range(table.shape[1]))
    text = " | ".join(str(cell) for cell in cells if not (isinstance(cell, str) and cell == ""))
    return text if len(text) <= 60 else text[:57] + "..."


def _stripped(column: pd.Series) -> pd.Series:
    """A column of cells as stripped text ('' when blank), in pandas' fastest string storage."""
    if pd.api.types.is_object_dtype(column) or not pd.api.types.is_string_dtype(column):
        column = column.astype(str if pd.api.types.is_object_dtype(column) else TEXT)
    return stripped(column)


def _filled(column: pd.Series) -> np.ndarray:
    """Where a column of stripped text has a cell that is not blank."""
    cells = held(column)
    return column.ne("").to_numpy(bool) if cells is None else nonempty(cells)


_RUNS = 16
"""Most runs of consecutive rows that `_rows_of` takes as slices of a column's Arrow array."""


def _rows_of(column: pd.Series, kept: np.ndarray, breaks: np.ndarray | None = None) -> pd.Series:
    """The column's cells at the increasing positions `kept`, numbered from 0: each run of consecutive positions a
    slice of its Arrow array (a title and a blank row above 100,000 rows copy nothing), else copied. `breaks`: where
    in `kept` a run begins after the first (`_breaks(kept)`, if at hand)."""
    breaks = _breaks(kept) if breaks is None else breaks
    if not len(breaks):
        return column.iloc[kept[0]: kept[-1] + 1].reset_index(drop=True)
    cells = held(column)
    if cells is None or len(breaks) >= _RUNS or not isinstance(column.array, pd.arrays.ArrowStringArray):
        return column.iloc[kept].reset_index(drop=True)
    import pyarrow as pa

    chunks = [chunk for run in np.split(kept, breaks) for chunk in cells.slice(int(run[0]), len(run)).chunks]
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks, cells.type), dtype=column.dtype),
                     copy=False)


def _take_rows(filled: np.ndarray, kept: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """`filled[kept]` (rows x columns), column by column in memory as `filled` is: a copy of each run of consecutive
    rows (`breaks`: `_breaks(kept)`) when there are few, so that a look along a row stays quick."""
    if not len(breaks):
        return filled[kept[0]: kept[-1] + 1]
    if len(breaks) >= _RUNS:
        return np.asfortranarray(filled[kept])
    rows = np.empty((len(kept), filled.shape[1]), dtype=filled.dtype, order="F")
    for run, begin in zip(np.split(kept, breaks), (0, *breaks.tolist()), strict=True):
        rows[begin: begin + len(run)] = filled[run[0]: run[-1] + 1]
    return rows


def _breaks(kept: np.ndarray) -> np.ndarray:
    """Where in the increasing positions `kept` a run of consecutive positions begins, after the first."""
    return np.flatnonzero(np.diff(kept) != 1) + 1


def _locate(grid: pd.DataFrame, rows: np.ndarray, source: str, notices: list[str], *,
            decimal: str | None = None, default: str = ".", delimiter: str | None = None) -> RawTable:
    """Header row, data rows and columns of the table inside a grid of text cells.

    Empty rows and columns around the table are left out first, then the limits apply. Without a `decimal`,
    the table's unambiguous numbers decide it (`default` when none does). With a `delimiter` (a CSV file),
    a data row with cells to the right of the header's last column is an error: it is almost always a
    number written with the delimiter inside (`1,234` in a comma file) that split the row.
    """
    columns = {position: column.reset_index(drop=True) for position, column in
               zip(grid.columns, side_by_side(_stripped, [grid[p] for p in grid.columns]), strict=True)}
    # column by column in memory (Fortran order): a look along a row is as quick as one down a column
    filled = np.array([_filled(c) for c in columns.values()]).T if columns else np.zeros((0, 0), dtype=bool)
    keep = filled.any(axis=1) if filled.size else np.zeros(len(grid), dtype=bool)
    used = [p for p, full in zip(columns, filled.any(axis=0) if filled.size else [], strict=True) if full]
    if not keep.any():
        raise _refuse(source, "the file has no table (every row is blank)",
                      "export the touchpoint table again, with its header row")
    if len(used) > MAX_COLUMNS:
        raise _refuse(source, f"the table has more than {MAX_COLUMNS:,} columns", "keep only the touchpoint columns")
    kept = np.flatnonzero(keep)
    breaks = _breaks(kept)
    grid = pd.DataFrame({p: _rows_of(columns[p], kept, breaks) for p in used})
    rows = np.asarray(rows)[keep]
    filled = _take_rows(filled, kept, breaks)
    if len(used) < filled.shape[1]:  # its columns: those of `used`, in their order
        kept_columns = set(used)
        filled = filled[:, [k for k, p in enumerate(columns) if p in kept_columns]]
    head = grid.iloc[:HEADER_SEARCH]
    known = pd.Series([sum(known_header(cell) is not None for cell in cells if cell)
                       for cells in zip(*(head[p].tolist() for p in used), strict=True)], dtype=int)
    width = pd.Series(filled[:HEADER_SEARCH].sum(axis=1))
    if known.max() >= 2:
        at = int(known.idxmax())
    else:
        wide = width >= max(2, int(width.max() + 1) // 2)
        at = int(wide.idxmax()) if wide.any() else 0
    for i in range(at):
        notices.append(f"skipped row {rows[i]} above the header: '{_shown(grid, i)}'")

    header = grid.iloc[at]
    header_row = int(rows[at])
    data, rows = grid.iloc[at + 1:], rows[at + 1:]
    unnamed = header.eq("")
    beyond = np.zeros(len(data), dtype=bool)
    if delimiter is not None and (~unnamed).any():
        last = max(p for p, blank in unnamed.items() if not blank)
        right = [k for k, p in enumerate(used) if p > last]
        beyond = filled[at + 1:, right].any(axis=1) if right else beyond
    for position in header.index[unnamed & filled[at + 1:].any(axis=0)] if unnamed.any() else ():
        if delimiter is None or position < max((p for p, b in unnamed.items() if not b), default=-1):
            notices.append(f"column {_letter(position)} has values but no header; it was not read")
    names = header[~unnamed].astype(str)
    repeated = names.duplicated(keep=False)
    if repeated.any():  # a repeated header gets its column's letter: 'Cost (D)', 'Cost (F)'
        letters = pd.Series([_letter(p) for p in names.index], index=names.index)
        while repeated.any():  # again where a lettered name meets a header written so ('Cost (D)')
            names = names.where(~repeated, names + " (" + letters + ")")
            repeated = names.duplicated(keep=False)
    named = (data.loc[:, ~unnamed] if unnamed.any() else data).set_axis(list(names), axis=1)
    kept, wide_rows = _drop_totals_and_notes(named, rows, notices, beyond, filled[at + 1:, ~unnamed.to_numpy(bool)]
                                             if unnamed.any() else filled[at + 1:])
    if delimiter is not None and wide_rows.any():
        raise _wide_rows(data.loc[wide_rows], rows[wide_rows], len(names), delimiter, source, notices)
    data, rows = (named if kept.all() else named.loc[kept]), rows[kept]
    data = data.set_axis(pd.RangeIndex(len(data)))
    for j in range(data.shape[1]):
        already_stripped(data.iloc[:, j])  # its rows come from the stripped columns above
    found, either = read_conventions(data, default) if len(data) else (default, np.zeros(data.shape, dtype=bool))
    decimal = decimal or found
    _explain_decimal(data, rows, decimal, notices, either)
    data.attrs = {"decimal": decimal}  # for apply_mapping and validate_touchpoints when called one by one
    return RawTable(data, np.asarray(rows), source, notices, decimal, header_row)


def _wide_rows(data: pd.DataFrame, rows: np.ndarray, width: int, delimiter: str, source: str,
               notices: list[str]) -> InputError:
    """One problem per data row with more cells than the header."""
    shown = {",": "comma", ";": "semicolon", "\t": "tab", "|": "'|'"}[delimiter]
    example = "1,234" if delimiter == "," else f"1{delimiter}234"
    problems = [Problem(int(row), None, _shown(data, k), f"the row has cells to the right of the header's last "
                        f"column (the header has {width} column{'s' if width != 1 else ''})",
                        f"a {shown} inside a value (such as {example}) splits it in two: put such values in "
                        f"quotes (\"{example}\") or write them without it; or give the extra column a header",
                        source)
                for k, row in enumerate(rows)]
    return InputError(problems, source, notices=notices)


def _drop_totals_and_notes(data: pd.DataFrame, rows: np.ndarray, notices: list[str],
                           wide: np.ndarray, filled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which rows are touchpoints: not totals rows (computed, not touchpoints) nor one-cell notes below the
    table (each left out with a notice); and which of those are `wide` (cells right of the header).
    `filled` says which cells of `data` are not blank."""
    n = len(data)
    if data.empty and not wide.any():
        return np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    width = filled.sum(axis=1) + wide
    label = np.zeros(n, dtype=bool)
    first: dict[int, str] = {}  # the first filled cell of each row that may be a totals row
    if data.shape[1]:
        at = np.where(filled[:, 0], 0, -1)  # the first filled cell's column, a column at a time
        rest = np.flatnonzero(~filled[:, 0])  # rows whose first filled cell is further right, or that have none
        for j in range(1, data.shape[1]):
            if not len(rest):
                break
            hit = filled[rest, j]
            at[rest[hit]] = j
            rest = rest[~hit]
        # rows by the column of their first filled cell: no fill, no objects
        for j in np.flatnonzero(np.bincount(at[at >= 0], minlength=1)):
            column = data.iloc[:, j]
            cells = arrow_cells(column.astype(str))
            hit = matching(cells, _TOTALS_START, (at == j) & _may_begin_totals(cells))
            for i in np.flatnonzero(hit):  # few rows: Python's re
                first[i] = column.iat[i]
                label[i] = _TOTALS.fullmatch(first[i]) is not None
    if label.any():  # a totals row has its label and numbers, nothing else
        rows_ = data.loc[label]
        text = rows_.apply(lambda column: parse_numbers(column, percent=True).isna() & column.ne(""))
        label[np.flatnonzero(label)] = text.sum(axis=1).to_numpy() == 1
    for i in np.flatnonzero(label):
        notices.append(f"dropped totals row {rows[i]} ('{first[i]}'): budgetopt adds the touchpoints up itself")
    notes = np.zeros(n, dtype=bool)
    if data.shape[1] >= 3 and (width >= 2).any():
        last = int(np.flatnonzero((width >= 2) & ~label)[-1]) if ((width >= 2) & ~label).any() else -1
        notes[last + 1:] = width[last + 1:] == 1
        notes &= ~label
    for i in np.flatnonzero(notes):
        notices.append(f"skipped row {rows[i]} below the table: '{_shown(data, i)}'")
    keep = ~(label | notes) & (width > 0)  # a row whose only cells have no header is no touchpoint
    return keep & ~wide, keep & wide


def _may_begin_totals(cells) -> np.ndarray:
    """Where a cell may begin as a totals label does (_TOTALS_START), by its first three bytes: those that cannot are
    left out before the pattern runs (a column of names mostly)."""
    head = leading_bytes(cells, 3)
    if head is None:
        return np.ones(len(cells), dtype=bool)
    head = _LOWER_ASCII[head].astype(np.int32)
    return np.isin((head[:, 0] << 16) | (head[:, 1] << 8) | head[:, 2], _TOTALS_PREFIXES)


_LOWER_ASCII = np.arange(256, dtype=np.uint8)
_LOWER_ASCII[ord("A"): ord("Z") + 1] |= 0x20
"""Each byte, ASCII capitals in lower case."""


def _explain_decimal(data: pd.DataFrame, rows: np.ndarray, decimal: str, notices: list[str],
                     either: np.ndarray) -> None:
    """One notice when numbers such as `1.234` (`either`: where they are) were read with the file's decimal
    separator."""
    if data.empty or not either.any():
        return
    i, j = (int(k[0]) for k in np.nonzero(either))
    value = data.iat[i, j]
    number = parse_numbers(pd.Series([value]), decimal).iloc[0]
    notices.append(f"read '{value}' (row {rows[i]}, column '{data.columns[j]}') as {number:.10g}: "
                   f"this file writes decimals with '{decimal}'; other numbers like it were read the same way")


# --- Into a touchpoint table -----------------------------------------------------------------------------


def to_touchpoints(table: RawTable, mapping: Mapping[str, str | Sequence[str]] | None = None) -> pd.DataFrame:
    """Map, then validate a raw table: the clean touchpoint table, with notices in `.attrs["notices"]`.

    Raises InputError listing every problem, each naming the user's header and row; the error's
    `notices` says what was done to the file before.
    """
    data = table.data.copy(deep=False)
    data.attrs = {"decimal": table.decimal}
    notices, labels = list(table.notices), {}
    try:
        columns = resolve_mapping(table.headers, mapping, table.source)
        labels = {target: column_label(target, headers) for target, headers in columns.items()}
        raw = apply_mapping(data, columns)
        notices += raw.attrs.get("notices", [])
        clean = validate_touchpoints(raw, source=table.source, rows=table.rows)
        notices += clean.attrs.get("notices", [])
    except InputError as exc:
        notices += exc.notices
        problems = [replace(p, column=labels.get(p.column, p.column)) for p in exc.problems]
        raise InputError(problems, table.source, notices=notices) from None
    clean.attrs = {"notices": notices, "source": table.source, "currency": _currency(table, columns)}
    return clean


def _currency(table: RawTable, columns: Mapping[str, Sequence[str]]) -> str | None:
    """The money's currency as the spend column says it: its header ('Cost (EUR)') or most of its cells ('€ 12')."""
    from .units import currency_of

    headers = list(columns.get(S_SPEND, ()))
    if len(headers) != 1:
        return None
    return currency_of(headers[0], table.data[headers[0]].head(1000))
