"""From the bytes of a user's file to a raw table of text cells, with the row numbers the user sees.

What it accepts: CSV with `,` `;` tab or `|` (sniffed), UTF-8 (with or without BOM), UTF-16 with BOM,
cp1252 and latin-1; Excel workbooks (.xlsx, .xlsm) on the first or a named sheet. Around the table it
skips blank rows and columns, title rows above the header, notes below it, and totals rows (a label
such as `Total` or `Grand total` with only numbers beside it), each with a notice. What it refuses
(empty files, PDFs and other binary files, old .xls, web pages, files over the size limits) it
refuses with an InputError that says what to do. It never opens files: `io.py` does that.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .amounts import EITHER_WAY, TEXT, ambiguous, decimal_separator, parse_numbers
from .errors import InputError, Problem
from .mapping import apply_mapping, column_label, known_header, resolve_mapping
from .schema import SPEND as S_SPEND
from .touchpoints import validate_touchpoints

MAX_INPUT_BYTES = 50 * 1024 * 1024
"""Largest file read (CSV or Excel)."""
MAX_UNPACKED_BYTES = 250 * 1024 * 1024
"""Largest Excel workbook once unzipped (guards against zip bombs)."""
MAX_ROWS = 100_000
"""Most rows read from a file, blank and title rows included."""
MAX_COLUMNS = 1_000
HEADER_SEARCH = 30
"""The header is looked for in the first this many non-blank rows."""

_TOTALS = re.compile(
    r"(?:grand\s*|sub-?\s*)?totals?(?:\s.*)?:?|sum|summe|gesamt(?:summe)?|total\s+g[ée]n[ée]ral", re.IGNORECASE
)
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
    if not data.strip():
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
    return _locate(grid, rows, source, notices, default="," if delimiter == ";" else ".")


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
    import openpyxl  # a dependency, imported here because only Excel files need it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                (grid, decimal), title, notices = _pick_sheet(book, sheet, source)
            finally:
                book.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on damaged files; all mean the same to a user
        raise _refuse(source, f"the Excel file is damaged or not a workbook ({type(exc).__name__}: {exc})",
                      "open it in Excel and save it again as .xlsx, or export CSV") from exc
    return grid, np.arange(1, len(grid) + 1), f"{source}, sheet '{title}'", notices, decimal


def _pick_sheet(book, sheet: str | None, source: str) -> tuple[tuple[pd.DataFrame, str], str, list[str]]:
    """The named sheet; without a name, the first sheet whose header names touchpoint columns, else the first."""
    sheets = book.worksheets
    if not sheets:
        raise _refuse(source, "the workbook has no worksheet", "put the touchpoint table on a worksheet")
    if sheet is not None:
        for match in (lambda s: s.title == sheet, lambda s: s.title.strip().casefold() == sheet.strip().casefold()):
            if hits := [s for s in sheets if match(s)]:
                return _sheet_cells(hits[0], source), hits[0].title, []
        if sheet.strip().isdigit() and 1 <= int(sheet) <= len(sheets):
            return _sheet_cells(sheets[int(sheet) - 1], source), sheets[int(sheet) - 1].title, []
        raise InputError([Problem(None, None, sheet, "the workbook has no sheet of that name",
                                  "use one of: " + ", ".join(f"'{s.title}'" for s in sheets), source)], source)
    first = _sheet_cells(sheets[0], source)
    if len(sheets) == 1 or _header_score(first[0]) >= 2:
        return first, sheets[0].title, []
    for other in sheets[1:]:
        cells = _sheet_cells(other, source)
        if _header_score(cells[0]) >= 2:
            return cells, other.title, [f"read sheet '{other.title}': the first sheet, '{sheets[0].title}', "
                                        "has no touchpoint table (pick another with --sheet)"]
    names = ", ".join(f"'{s.title}'" for s in sheets)
    return first, sheets[0].title, [f"read the first sheet; the workbook has sheets {names} (pick one with --sheet)"]


def _sheet_cells(sheet, source: str) -> tuple[pd.DataFrame, str]:
    """A worksheet's cells as text, one row per sheet row from row 1, and the decimal separator of its text.

    Only cells typed as text say how the sheet writes decimals: typed numbers have no convention.
    """
    sheet.reset_dimensions()  # stored dimensions are often wrong; read what is there
    cells = []
    for values in sheet.iter_rows(values_only=True):
        if len(cells) >= MAX_ROWS:
            raise _too_many_rows(source)
        cells.append(values[:MAX_COLUMNS + 1])
    # openpyxl hands out Python objects cell by cell, so they are turned into text cell by cell too
    grid = _padded(cells)
    values = pd.Series(grid.to_numpy(dtype=object).ravel())
    decimal = decimal_separator(values[values.map(type).eq(str).to_numpy()])
    return grid.map(_cell_text), decimal


def _header_score(grid: pd.DataFrame) -> int:
    """How many cells of the likeliest header row name a touchpoint column."""
    if grid.empty:
        return 0
    head = grid.astype(TEXT).fillna("").apply(lambda column: column.str.strip())
    head = head.loc[head.ne("").any(axis=1)].iloc[:HEADER_SEARCH]
    return int(head.apply(lambda column: column.map(known_header).notna()).sum(axis=1).max()) if len(head) else 0


def _cell_text(value: object) -> str:
    """An Excel cell as text; numbers are written so that `parse_numbers` reads them back exactly."""
    if value is None:
        return ""
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


def _sniff(text: str) -> str:
    """The delimiter that splits the most lines into the same number (two or more) of fields."""
    sample = text[:65536]
    sample = sample[: sample.rfind("\n") + 1] or sample
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        if not widths:
            continue
        counts = np.bincount(widths)
        width = int(counts.argmax())
        score = (int(counts[width]), width) if width >= 2 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_grid(data: bytes, source: str) -> tuple[pd.DataFrame, np.ndarray, str, list[str]]:
    """Cells of a delimited text file; a record's number is its row number in a spreadsheet."""
    text, encoding = _decode(data, source)
    controls = len(_CONTROLS.findall(text, 0, 65536))
    if "\x00" in text or controls > 0.02 * min(len(text), 65536):
        raise _refuse(source, "the file is not a text table (it holds binary data)",
                      "save the table as CSV (UTF-8) or Excel (.xlsx)")
    if re.match(r"\s*<(?:!doctype\s+html|html|table|\?xml)", text[:1024], re.IGNORECASE):
        raise _refuse(source, "the file is a web page or XML, not a CSV table",
                      "open it in Excel and save it as .xlsx or CSV")
    if not text.strip():
        raise _refuse(source, "the file is empty", "export the touchpoint table again, with its header row")
    delimiter = _sniff(text)
    records = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if len(records) >= MAX_ROWS:
                raise _too_many_rows(source)
            records.append(record[:MAX_COLUMNS + 1])
    except csv.Error as exc:
        raise _refuse(source, f"the file is not a readable CSV table ({exc}; often a quote that is never closed)",
                      "check for a quote (\") that is never closed, or save it again as CSV") from exc
    notices = []
    if encoding not in ("utf-8", "utf-16-le", "utf-16-be"):
        notices.append(f"read as {encoding} text (not UTF-8); check that accented letters look right")
    grid = _padded(records)
    return grid, np.arange(1, len(grid) + 1), delimiter, notices


def _padded(records: list) -> pd.DataFrame:
    """Rows of different lengths as one grid of objects; missing cells are None."""
    width = max(map(len, records), default=0)
    return pd.DataFrame([[*r, *[None] * (width - len(r))] for r in records], dtype=object)


def _too_many_rows(source: str) -> InputError:
    return _refuse(source, f"the file has more than {MAX_ROWS:,} rows",
                   "keep only the touchpoint rows (one per touchpoint), or aggregate them first")


# --- Finding the table -----------------------------------------------------------------------------------


def _letter(position: int) -> str:
    """Spreadsheet column letter of a 0-based position (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _shown(cells: pd.Series) -> str:
    text = " | ".join(cells[cells.ne("")].astype(str))
    return text if len(text) <= 60 else text[:57] + "..."


def _locate(grid: pd.DataFrame, rows: np.ndarray, source: str, notices: list[str], *,
            decimal: str | None = None, default: str = ".") -> RawTable:
    """Header row, data rows and columns of the table inside a grid of text cells.

    Without a `decimal`, the table's unambiguous numbers decide it (`default` when none does).
    """
    if grid.shape[1] > MAX_COLUMNS:
        raise _refuse(source, f"the table has more than {MAX_COLUMNS:,} columns",
                      "keep only the touchpoint columns")
    cells = pd.Series(grid.to_numpy(dtype=object).ravel()).astype(TEXT).fillna("").str.strip()
    grid = pd.DataFrame(cells.to_numpy(dtype=object).reshape(grid.shape), columns=grid.columns)
    filled = grid.ne("")
    keep = filled.any(axis=1).to_numpy()
    grid, rows = grid.loc[keep, filled.any(axis=0)], rows[keep]
    if grid.empty:
        raise _refuse(source, "the file has no table (every row is blank)",
                      "export the touchpoint table again, with its header row")
    grid.index = pd.RangeIndex(len(grid))
    filled = grid.ne("")
    known = grid.iloc[:HEADER_SEARCH].apply(lambda column: column.map(known_header).notna()).sum(axis=1)
    width = filled.iloc[:HEADER_SEARCH].sum(axis=1)
    if known.max() >= 2:
        at = int(known.idxmax())
    else:
        wide = width >= max(2, int(width.max() + 1) // 2)
        at = int(wide.idxmax()) if wide.any() else 0
    for i in range(at):
        notices.append(f"skipped row {rows[i]} above the header: '{_shown(grid.iloc[i])}'")

    header = grid.iloc[at]
    data, rows = grid.iloc[at + 1:], rows[at + 1:]
    unnamed = header.eq("")
    for position in header.index[unnamed & filled.iloc[at + 1:].any(axis=0)]:
        notices.append(f"column {_letter(position)} has values but no header; it was not read")
    data = data.loc[:, ~unnamed]
    names = header[~unnamed].astype(str)
    repeated = names.duplicated(keep=False)
    letters = pd.Series([_letter(p) for p in names.index], index=names.index)
    names = names.where(~repeated, names + " (" + letters + ")")
    data.columns = list(names)
    data, rows = _drop_totals_and_notes(data, rows, notices)
    data.index = pd.RangeIndex(len(data))
    decimal = decimal or (decimal_separator(data, default=default) if len(data) else default)
    _explain_decimal(data, rows, decimal, notices)
    data.attrs = {"decimal": decimal}  # for apply_mapping and validate_touchpoints when called one by one
    return RawTable(data, np.asarray(rows), source, notices, decimal)


def _drop_totals_and_notes(data: pd.DataFrame, rows: np.ndarray, notices: list[str]):
    """Leave out totals rows (computed, not touchpoints) and one-cell notes below the table, with notices."""
    if data.empty:
        return data, rows
    filled = data.ne("")
    first = data.where(filled).bfill(axis=1).iloc[:, 0].fillna("").astype(str)
    label = pd.Series(first, dtype=TEXT).str.fullmatch(_TOTALS.pattern, case=False).fillna(False).to_numpy(bool)
    if label.any():  # a totals row has its label and numbers, nothing else
        rows_ = data.loc[label]
        text = rows_.apply(lambda column: parse_numbers(column, percent=True).isna() & column.ne(""))
        label[np.flatnonzero(label)] = text.sum(axis=1).to_numpy() == 1
    for i in np.flatnonzero(label):
        notices.append(f"dropped totals row {rows[i]} ('{first.iloc[i]}'): budgetopt adds the touchpoints up itself")
    width = filled.sum(axis=1).to_numpy()
    notes = np.zeros(len(data), dtype=bool)
    if data.shape[1] >= 3 and (width >= 2).any():
        last = int(np.flatnonzero((width >= 2) & ~label)[-1]) if ((width >= 2) & ~label).any() else -1
        notes[last + 1:] = width[last + 1:] == 1
        notes &= ~label
    for i in np.flatnonzero(notes):
        notices.append(f"skipped row {rows[i]} below the table: '{_shown(data.iloc[i])}'")
    keep = ~(label | notes)
    return data.loc[keep], rows[keep]


def _explain_decimal(data: pd.DataFrame, rows: np.ndarray, decimal: str, notices: list[str]) -> None:
    """One notice when numbers such as `1.234` were read with the file's decimal separator."""
    if data.empty:
        return
    either = ambiguous(pd.Series(data.to_numpy(dtype=object).ravel())).to_numpy().reshape(data.shape)
    if not either.any():
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
    except InputError as exc:
        problems = [replace(p, column=labels.get(p.column, p.column)) for p in exc.problems]
        raise InputError(problems, table.source, notices=notices) from None
    notices += clean.attrs.get("notices", [])
    clean.attrs = {"notices": notices, "source": table.source, "currency": _currency(table, columns)}
    return clean


def _currency(table: RawTable, columns: Mapping[str, Sequence[str]]) -> str | None:
    """The money's currency as the spend column says it: its header ('Cost (EUR)') or most of its cells ('€ 12')."""
    from .units import currency_of

    headers = list(columns.get(S_SPEND, ()))
    if len(headers) != 1:
        return None
    return currency_of(headers[0], table.data[headers[0]].head(1000))
