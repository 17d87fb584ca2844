"""The cells of one worksheet of an .xlsx workbook, with work bounded by the cells that hold data.

A sheet's declared dimensions and its styled-but-empty cells say nothing about its table: a 234 KB file can
declare a row of 8 million formatted cells, or one note in cell XFD1048576. So before any cell is read, the
sheet's XML is scanned as a stream (a few MB at a time, never a tree) for the positions of cells that hold
a value; the limits apply to those, after leaving out cells far from the others (a note far to the right or
far down is a note, not a reason to refuse the file). python-calamine (Rust) then reads the values of that
region: formulas as the values Excel last saved, dates as dates, row numbers from the sheet's row 1.
Called by `ingest.py`; it never opens files.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from defusedxml import ElementTree

MAX_UNPACKED_BYTES = 250 * 1024 * 1024
"""Largest workbook once unzipped (guards against zip bombs)."""
MAX_CELLS = 1_500_000
"""Most cells that hold data in the region read (100,000 rows x 15 columns): 2,000,000 took a process to
490 MB at its peak (calamine's cells and their Python copies), too close to 500 MB."""
FAR_ROWS = 1_000
FAR_COLUMNS = 100
"""Cells beyond a gap of this many empty rows (columns) below (to the right of) the rest are far from the table."""
MAX_FAR = 10_000
"""Most cells far from the table that are left out; more, and the sheet holds a second table."""
_CHUNK = 4 * 1024 * 1024

_USUAL_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>/]*>')
_VALUE_CELL = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\s[^>/]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>/]*>')
"""The opening tag of a cell that may hold a value: `<c r="B5" t="s">`; `<c r="B5" s="1"/>` (styled, empty)
does not match, so millions of styled cells cost only the regex engine's scan."""
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


class WorkbookProblem(Exception):
    """A workbook that cannot be read as asked; `ingest` turns it into an InputError (message, fix, value)."""

    def __init__(self, message: str, fix: str, value: object = None):
        super().__init__(message)
        self.message, self.fix, self.value = message, fix, value


@dataclass
class Sheet:
    """The region of one sheet that holds data: its cells, where it starts, the title, what was left out."""

    title: str
    cells: list[list[object]]
    """Rows of cell values ('' when empty), from the region's first row and column."""
    first_row: int = 0
    """0-based sheet row of cells[0] (the user sees row first_row + 1)."""
    first_column: int = 0
    notices: list[str] = field(default_factory=list)


def column_number(letters: bytes | str) -> int:
    """0-based position of a column's letters: A -> 0, Z -> 25, AA -> 26, XFD -> 16383."""
    number = 0
    for char in letters.upper() if isinstance(letters, str) else letters.decode("ascii"):
        number = number * 26 + ord(char) - 64
    return number - 1


def column_letters(position: int) -> str:
    """Spreadsheet column letters of a 0-based position (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's title -> the zip member that holds its cells (from workbook.xml and its relationships)."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError) as exc:
        raise WorkbookProblem(f"the workbook's list of sheets cannot be read ({exc})",
                              "open it in Excel and save it again as .xlsx, or export CSV") from exc
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(_RELS)}
    members = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(_R_ID), "")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        members[sheet.get("name", "")] = re.sub(r"[^/]+/\.\./", "", path)
    return members


@dataclass
class _Scan:
    rows: np.ndarray
    """0-based row of each cell with a position that may hold a value."""
    columns: np.ndarray
    unplaced: int
    """Cells that may hold a value but have no position (`r` is optional in the file format: such a cell follows
    the one before it), counted as closing tags less placed cells."""


def _scan(archive: zipfile.ZipFile, member: str, budget: int) -> _Scan:
    """Positions of the cells that may hold a value, reading the sheet's XML as a stream."""
    rows, columns, unplaced, read, carry = [], [], 0, 0, b""
    letters: dict[bytes, int] = {}
    with archive.open(member) as stream:
        while True:
            block = stream.read(_CHUNK)
            read += len(block)
            if read > budget:
                raise WorkbookProblem(f"the workbook unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB",
                                      "copy the touchpoint table alone into a new workbook or a CSV")
            buffer = carry + block
            cut = buffer.rfind(b"<") if block else len(buffer)  # a tag cut in two waits for the next block
            cut = len(buffer) if cut < 0 else cut
            part, carry = buffer[:cut], buffer[cut:]
            if b"c>" not in part:  # no cell here can hold a value (`</c>` closes each one that does)
                if not block:
                    break
                continue
            found = _USUAL_CELL.findall(part)  # `r` first, as Excel and most writers put it
            if len(found) != part.count(b"</c>") or b":c>" in part:
                found = _VALUE_CELL.findall(part)
            if found:
                refs = np.array(found, dtype="S7")
                names, inverse = np.unique(refs[:, 0], return_inverse=True)
                numbers = np.array([letters.setdefault(n, column_number(n)) for n in names.tolist()], dtype=np.int64)
                columns.append(numbers[inverse.ravel()])
                rows.append(refs[:, 1].astype(np.int64) - 1)
            unplaced += max(0, part.count(b"</c>") + part.count(b":c>") - len(found))  # each closes a cell
            if sum(map(len, rows)) + unplaced > 4 * MAX_CELLS:  # far past any limit: stop reading
                break
            if not block:
                break
    empty = np.zeros(0, dtype=np.int64)
    return _Scan(np.concatenate(rows) if rows else empty, np.concatenate(columns) if columns else empty, unplaced)


def _main_span(positions: np.ndarray, gap: int) -> tuple[int, int]:
    """First and last position of the run of positions that starts at the smallest, ending at the first gap
    of more than `gap` empty positions."""
    ordered = np.unique(positions)
    breaks = np.flatnonzero(np.diff(ordered) > gap + 1)
    return int(ordered[0]), int(ordered[breaks[0]] if len(breaks) else ordered[-1])


def _too_many_cells() -> WorkbookProblem:
    return WorkbookProblem(f"the sheet has more than {MAX_CELLS:,} cells with data",
                           "keep only the touchpoint rows and columns, or save the table as CSV")


def _region(scan: _Scan, max_rows: int, max_columns: int) -> tuple[tuple[int, int, int, int] | None, np.ndarray]:
    """The region read (first and last row and column) and a mask of the cells left out as far from it."""
    held = len(scan.rows) + scan.unplaced
    if held > MAX_CELLS:
        raise _too_many_cells()
    if not len(scan.rows):
        return None, np.zeros(0, dtype=bool)
    near = np.ones(len(scan.rows), dtype=bool)
    while True:  # a far note may bridge a gap in the other direction: settle both spans together
        top, bottom = _main_span(scan.rows[near], FAR_ROWS)
        left, right = _main_span(scan.columns[near], FAR_COLUMNS)
        inside = near & (scan.rows <= bottom) & (scan.columns <= right)
        if (inside == near).all():
            break
        near = inside
    far = ~near
    if far.sum() > MAX_FAR:
        raise WorkbookProblem(f"the sheet holds {int(far.sum()):,} cells far below or to the right of the table",
                              "keep only the touchpoint table on this sheet (move other tables to their own sheet)")
    if bottom - top + 1 > max_rows:
        raise WorkbookProblem(f"the file has more than {max_rows:,} rows",
                              "keep only the touchpoint rows (one per touchpoint), or aggregate them first")
    if right - left + 1 > max_columns:
        raise WorkbookProblem(f"the table has more than {max_columns:,} columns", "keep only the touchpoint columns")
    if (bottom - top + 1) * (right - left + 1) > 2 * MAX_CELLS:  # a sparse region is still read as a grid
        raise WorkbookProblem(f"the table spans {bottom - top + 1:,} rows x {right - left + 1:,} columns, more than "
                              f"{2 * MAX_CELLS:,} cells", "keep only the touchpoint rows and columns on this sheet")
    return (top, bottom, left, right), far


_STYLED_ONLY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*/>")
_WHOLE_CELL = re.compile(rb'<((?:[A-Za-z_][\w.-]*:)?)c\s[^>/]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>/]*>.*?</\1c>',
                         re.DOTALL)
_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s>]")


def _last_cell_start(buffer: bytes) -> int:
    """Where the last cell tag of the buffer starts (the buffer's end when it has none)."""
    for tail in (1 << 16, len(buffer)):  # a cell is short; look at the end first
        last = deque(_CELL_START.finditer(buffer, max(0, len(buffer) - tail)), maxlen=1)
        if last:
            return last[0].start()
    return len(buffer)


def _without_far_cells(archive: zipfile.ZipFile, member: str, region: tuple[int, int, int, int]) -> bytes:
    """The workbook again, with the sheet's cells outside the region (and its styled-empty cells) removed; the
    sheet is filtered as a stream, a few MB at a time, cut before a cell's start so that no cell is split."""
    top, bottom, left, right = region

    def keep(match: re.Match) -> bytes:
        row, column = int(match.group(3)) - 1, column_number(match.group(2))
        return match.group(0) if top <= row <= bottom and left <= column <= right else b""

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy:
        for item in archive.infolist():
            if item.filename != member:
                copy.writestr(item.filename, archive.read(item.filename))
                continue
            with archive.open(member) as source, copy.open(member, "w", force_zip64=True) as target:
                carry = b""
                while True:
                    block = source.read(_CHUNK)
                    buffer = carry + block
                    cut = _last_cell_start(buffer) if block else len(buffer)
                    part, carry = buffer[:cut], buffer[cut:]
                    target.write(_WHOLE_CELL.sub(keep, _STYLED_ONLY.sub(b"", part)))
                    if not block:
                        break
    return out.getvalue()


def read_sheet(data: bytes, archive: zipfile.ZipFile, title: str, member: str, max_rows: int,
               max_columns: int) -> Sheet:
    """The cells of the sheet `title` (stored in `member`), the region with data only; notices say what was
    left out. Raises WorkbookProblem for a sheet over the limits or one that cannot be read."""
    from python_calamine import CalamineWorkbook  # a dependency, imported here because only Excel files need it

    scan = _scan(archive, member, MAX_UNPACKED_BYTES)
    region, far = _region(scan, max_rows, max_columns)
    if region is None and not scan.unplaced:
        return Sheet(title, [])
    notices = []
    if far.any():
        where = ", ".join(f"{column_letters(int(c))}{int(r) + 1}"
                          for r, c in zip(scan.rows[far][:3], scan.columns[far][:3], strict=True))
        count = int(far.sum())
        notices.append(f"left out {count:,} cell{'s' if count > 1 else ''} far from the table ({where}"
                       f"{', ...' if count > 3 else ''}): more than {FAR_ROWS:,} empty rows below it or "
                       f"{FAR_COLUMNS} empty columns to its right")
        data = _without_far_cells(archive, member, region)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        values = book.get_sheet_by_name(title)
        (first_row, first_column), (last_row, last_column) = values.start or (0, 0), values.end or (0, 0)
        if (last_row - first_row + 1) * (last_column - first_column + 1) > 2 * MAX_CELLS:  # cells the scan missed
            raise _too_many_cells()
        cells = values.to_python(skip_empty_area=True)
    finally:
        book.close()
    if len(cells) > max_rows:
        raise WorkbookProblem(f"the file has more than {max_rows:,} rows",
                              "keep only the touchpoint rows (one per touchpoint), or aggregate them first")
    return Sheet(title, cells, first_row, first_column, notices)
