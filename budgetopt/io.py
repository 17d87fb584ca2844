"""The only module that reads or writes files: touchpoint CSVs in, plans out."""

from __future__ import annotations

import os
import platform
import tempfile
from pathlib import Path

import pandas as pd

from .errors import BudgetOptError, InputError, Problem
from .touchpoints import validate_touchpoints

MAX_INPUT_BYTES = 50 * 1024 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def read_touchpoints(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a touchpoint CSV; raise InputError listing every problem."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise InputError([Problem(None, None, None, "the file does not exist", "check the path", name)], name)
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError([Problem(None, None, f"{size:,} bytes", f"the file is larger than {MAX_INPUT_BYTES:,} bytes",
                                  "split it or keep only the touchpoint rows", name)], name)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skip_blank_lines=True, encoding="utf-8-sig")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError([Problem(None, None, None, f"the file is not a readable CSV table ({exc})",
                                  "save it as CSV (comma separated, UTF-8)", name)], name) from exc
    return validate_touchpoints(raw, source=name)


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


def cpu_model(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> str:
    """The CPU's model name as the OS reports it (for benchmark reports); the platform's name elsewhere."""
    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"
