"""The only module that reads or writes files: touchpoint tables (CSV, Excel) and column mappings in, plans out."""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .errors import BudgetOptError, InputError, Problem
from .ingest import MAX_INPUT_BYTES, RawTable, parse_table, to_touchpoints

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_MAPPING_BYTES = 1024 * 1024

Source = str | os.PathLike | bytes | bytearray | memoryview
"""A file's path, or its content (e.g. an upload in the app)."""


def _read_bytes(path: str | os.PathLike, limit: int) -> bytes:
    """A file's bytes, read-only; an InputError when it is missing, unreadable or larger than `limit`."""
    path = Path(path)
    name = str(path)

    def refuse(message: str, fix: str, value: object = None) -> InputError:
        return InputError([Problem(None, None, value, message, fix, name)], name)

    if not path.exists():
        raise refuse("the file does not exist", "check the path")
    if not path.is_file():
        raise refuse("is not a file", "give the path of a CSV or Excel file")
    size = path.stat().st_size
    if size > limit:
        raise refuse(f"the file is larger than the limit of {limit // 2**20} MB",
                     "keep only the touchpoint rows, or split the file", f"{size:,} bytes")
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except OSError as exc:
        raise refuse(f"the file cannot be read ({exc.strerror or exc})", "check that you may read it") from exc


def read_table(source: Source, *, name: str | None = None, sheet: str | None = None) -> RawTable:
    """The raw table in a CSV or Excel file (a path or its bytes), with the row numbers the user sees.

    Never changes the file. `name` names the file in messages (default: the path; give it for bytes).
    `sheet` picks an Excel sheet by name (default: the first sheet).
    """
    if isinstance(source, bytes | bytearray | memoryview):
        return parse_table(bytes(source), name or "uploaded file", sheet=sheet)
    return parse_table(_read_bytes(source, MAX_INPUT_BYTES), name or str(source), sheet=sheet)


def read_touchpoints(
    source: Source,
    *,
    mapping: Mapping[str, str | Sequence[str]] | None = None,
    sheet: str | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Read, map and validate a touchpoint file; raise InputError listing every problem.

    `mapping` names the file's column(s) for touchpoint columns (`{"spend": "Cost", "engaged": ["Leads",
    "Chats"]}`); the rest are recognised by name. What was done to the file on the way (rows skipped,
    totals dropped) is in the result's `.attrs["notices"]`.
    """
    return to_touchpoints(read_table(source, name=name, sheet=sheet), mapping)


def read_mapping(path: str | os.PathLike) -> dict[str, str | list[str]]:
    """A column mapping from TOML: `spend = "Cost"`, `engaged = ["Leads", "Chats"]` (at the top or under [columns])."""
    name = str(path)
    try:
        data = tomllib.loads(_read_bytes(path, MAX_MAPPING_BYTES).decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(None, None, None, f"the mapping file is not valid TOML ({exc})",
                                  'write one line per column, e.g. spend = "Cost"', name)], name) from exc
    table = data.get("columns", data) if isinstance(data.get("columns"), dict) else data
    problems = [Problem(None, str(key), value, "must be a header or a list of headers",
                        'write e.g. spend = "Cost" or engaged = ["Leads", "Chats"]', name)
                for key, value in table.items()
                if not (isinstance(value, str) or (isinstance(value, list) and value
                                                   and all(isinstance(v, str) for v in value)))]
    if problems:
        raise InputError(problems, name)
    return dict(table)


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe; numbers stay numbers."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype(object)
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
            out[column] = text.where(~risky, "'" + text.astype(str))
    return out


def atomic_write(path: str | os.PathLike, write, force: bool = False) -> Path:
    """Write through a temporary file in the same folder, then rename; refuse to overwrite unless force."""
    path = Path(path)
    if path.exists() and not force:
        raise BudgetOptError(f"{path} already exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_plan(plan, path: str | os.PathLike, force: bool = False) -> Path:
    """Write the plan table as CSV (safe against formula injection, atomic)."""
    table = neutralise(plan.table)
    return atomic_write(path, lambda tmp: table.to_csv(tmp, index=False, float_format="%.6f"), force)
