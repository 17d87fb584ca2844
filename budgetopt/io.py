"""The only module that reads or writes files: touchpoint tables (CSV, Excel) and column mappings in,
scenario TOML in and out, plans out (CSV, XLSX, JSON)."""

from __future__ import annotations

import glob
import hashlib
import json
import math
import os
import platform
import re
import tempfile
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w
from pydantic import ValidationError

from .amounts import remembered
from .curves.tabulated import TabulatedCurves, curves_from_table
from .errors import BudgetOptError, InputError, Problem, ScenarioError
from .export import (
    FORMATS,
    Provenance,
    check_formats,
    csv_text,
    plan_bytes,
    replay_document,
    rounded_figures,
    step_decimals,
)
from .export import neutralise as neutralise  # its home was io: callers may still import it from here
from .history import History, history_from_table
from .ingest import MAX_INPUT_BYTES, RawTable, parse_table, to_touchpoints
from .plan import Plan
from .scenario import Scenario
from .schema import FORMULA_STARTS as FORMULA_STARTS
from .schema import MAX_FACTOR

MAX_MAPPING_BYTES = 1024 * 1024

Source = str | os.PathLike | bytes | bytearray | memoryview
"""A file's path, or its content (e.g. an upload in the app)."""


def _read_bytes(path: str | os.PathLike, limit: int) -> bytes:
    """A file's bytes, read-only; an InputError when it is missing, unreadable or larger than `limit`."""
    path = Path(path)
    name = str(path)

    def refuse(message: str, fix: str, value: object = None) -> InputError:
        return InputError([Problem(None, None, value, message, fix, name)], name)

    try:
        exists, is_file = path.exists(), path.is_file()
        size = path.stat().st_size if is_file else 0
    except (OSError, ValueError) as exc:  # a name too long for the system, a NUL byte in it, ...
        raise refuse(f"the path cannot be used ({_why(exc)})", "give the path of a CSV or Excel file") from exc
    if not exists:
        raise refuse("the file does not exist", "check the path")
    if not is_file:
        raise refuse("is not a file", "give the path of a CSV or Excel file")
    if size > limit:
        raise refuse(f"the file is larger than the limit of {limit // 2**20} MB",
                     "keep only the touchpoint rows, or split the file", f"{size:,} bytes")
    try:
        with open(path, "rb") as handle:
            data = handle.read(size + 1)  # a buffer of the file's size: one of `limit` bytes costs milliseconds
            if len(data) > size:  # the file grew since (or its size is not known): read on, up to the limit
                data += handle.read(limit + 1 - len(data))
            return data
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
    with remembered():  # each column's number conventions read once, for the table and for its checks
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


STALE_SECONDS = 3600
"""A temporary file whose writer cannot be told (no process id in its name) is left over after this long."""


def _staging(path: Path) -> tuple[int, str]:
    """A new temporary file beside `path` (descriptor, name), named `.<name>.<pid>.<random>.tmp`, after removing
    the temporaries an earlier writer of the same file left when it was killed (its process is gone)."""
    clean_leftovers(path)
    return tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)


def clean_leftovers(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that writers of `path` left beside it when they were killed (a kill -9 or a
    power cut runs no clean-up): those whose process no longer runs, or older than STALE_SECONDS when their
    name has no process id. Returns what was removed."""
    path = Path(path)
    removed = []
    try:
        leftovers = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return removed
    for tmp in leftovers:
        middle = tmp.name[len(path.name) + 2: -len(".tmp")]
        pid = middle.split(".")[0]
        try:
            if pid.isdigit() and "." in middle:
                stale = not _running(int(pid))
            else:
                stale = time.time() - tmp.stat().st_mtime > STALE_SECONDS
            if stale:
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
        except OSError:
            continue
    return removed


def _running(pid: int) -> bool:
    """True when a process of this id runs (possibly another program that reuses the id: then the file waits)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def atomic_write(path: str | os.PathLike, write, force: bool = False) -> Path:
    """Write through a temporary file in the same folder, then rename; refuse to overwrite unless force."""
    path = Path(path)
    if path.exists() and not force:
        raise BudgetOptError(f"{path} already exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _staging(path)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_files(files: Mapping[str | os.PathLike, bytes], force: bool = False) -> list[Path]:
    """Write several files as one step: refuse if any exists (unless force), stage each as a synced temporary
    file beside it, then rename them all. A failure leaves no temporary and no half-written file."""
    targets = [(Path(path), data) for path, data in files.items()]
    existing = [str(path) for path, _ in targets if path.exists()]
    if existing and not force:
        raise BudgetOptError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
                             "pass --force to overwrite")
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in targets:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = _staging(path)
            staged.append((Path(tmp), path))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, _mode(path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            where = exc.filename or ", ".join(str(p) for p, _ in targets)
            raise BudgetOptError(f"cannot write {where}: {exc.strerror or exc}; check that the folder can be "
                                 "written to and has space") from exc
        raise
    return [path for path, _ in targets]


def _mode(path: Path) -> int:
    """An overwritten file keeps its permissions; a new one gets the umask's (temporary files start as 0600)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    try:  # Linux reports the umask without changing it (os.umask would, for every thread)
        umask = int(re.search(r"Umask:\s*([0-7]+)", Path("/proc/self/status").read_text())[1], 8)
    except (OSError, TypeError):
        umask = 0o077
    return 0o666 & ~umask


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _provenance(source: str | os.PathLike | Provenance | None) -> Provenance:
    """The input file's name and SHA-256 (when it is a file), stamped with the export time."""
    if isinstance(source, Provenance):
        return source.stamped()
    if source is None:
        return Provenance().stamped()
    sha = file_sha256(source) if Path(source).is_file() else None
    return Provenance(str(source), sha).stamped()


def format_of(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The export format: `fmt` when given (it must agree with a known extension), else the extension."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if fmt is not None:
        fmt = check_formats([fmt])[0]
        if suffix in FORMATS and suffix != fmt:
            raise BudgetOptError(f"{path} ends in .{suffix} but the format asked for is {fmt}; "
                                 f"name the file .{fmt} or drop the format")
        return fmt
    if suffix not in FORMATS:
        raise BudgetOptError(f"cannot tell the format of {path} from its extension; name it "
                             + ", ".join(f".{f}" for f in FORMATS) + " or give the format (--format)")
    return suffix


def write_plan(plan: Plan, path: str | os.PathLike, force: bool = False, *, inputs: pd.DataFrame | None = None,
               source: str | os.PathLike | Provenance | None = None, fmt: str | None = None) -> Path:
    """Write the plan to one file, its format from `fmt` or the extension (.csv, .xlsx, .json); atomic, and
    an existing file is kept unless force. `inputs` is the touchpoint table the plan was made from,
    `source` the input file (its SHA-256 goes into the workbook and the JSON)."""
    inputs = plan.inputs if inputs is None else inputs
    data = plan_bytes(plan, format_of(path, fmt), inputs=inputs, provenance=_provenance(source))
    return write_files({path: data}, force)[0]


def export_plan(plan: Plan, out_dir: str | os.PathLike, formats: Iterable[str] | str = FORMATS,
                force: bool = False, *, inputs: pd.DataFrame | None = None,
                source: str | os.PathLike | Provenance | None = None, stem: str = "plan") -> list[Path]:
    """Write out_dir/plan.xlsx, plan.csv and plan.json (or the formats asked for, e.g. 'xlsx,csv') as one step:
    every file is built before any is written, and none is written if one exists and force is not set.

    `inputs` is the touchpoint table as used, after the scenario's overrides (default: plan.inputs; the
    Inputs sheet shows it and `replay` re-optimises it); `source` is the input file, or a Provenance."""
    inputs = plan.inputs if inputs is None else inputs
    provenance = _provenance(source)
    wanted = check_formats(formats)
    files = {Path(out_dir) / f"{stem}.{fmt}": plan_bytes(plan, fmt, inputs=inputs, provenance=provenance)
             for fmt in wanted}
    if "csv" in wanted and getattr(plan, "by_period", None) is not None:  # a plan over time: its wide table too
        from .period_export import extra_files

        files.update({Path(out_dir) / name: data for name, data in extra_files(plan, stem).items()})
    return write_files(files, force)


def replay(path: str | os.PathLike) -> Plan:
    """Re-run the plan recorded in a JSON export (its inputs and scenario) and return the new Plan."""
    path = Path(path)
    if not path.is_file():
        raise BudgetOptError(f"{path} does not exist; check the path")
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise BudgetOptError(f"{path} is larger than {MAX_INPUT_BYTES:,} bytes; is it a budgetopt plan export?")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BudgetOptError(f"{path} is not readable JSON ({exc}); export the plan again with budgetopt") from exc
    if not isinstance(document, dict):
        raise BudgetOptError(f"{path} is not a budgetopt plan export; export the plan again with budgetopt")
    return replay_document(document)


def write_table(table: pd.DataFrame, path: str | os.PathLike, force: bool = False,
                decimals: int | None = None) -> Path:
    """Any result table as CSV (safe against formula injection, atomic). With `decimals` its figures are rounded
    as plan.csv's (export.rounded_figures: money to `decimals`, customers to 2, CPEs and fractions to 4) and
    written as they are (1234.5, not 1234.500000); without, each float with 6 decimals."""
    if decimals is None:
        safe = neutralise(table)
        return atomic_write(path, lambda tmp: safe.to_csv(tmp, index=False, float_format="%.6f"), force)
    data = table_csv(table, decimals)
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data), force)


def write_results(table: pd.DataFrame, path: str | os.PathLike, force: bool = False, decimals: int = 2) -> Path:
    """A results table (a sweep's): Parquet when the name ends in .parquet (pyarrow: typed and compressed;
    pandas.read_parquet reads it back), else CSV as write_table with its figures rounded (money to `decimals`,
    seconds to milliseconds). Atomic; an existing file is kept unless force."""
    if Path(path).suffix.lower() == ".parquet":
        return atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False, engine="pyarrow"), force)
    if "seconds" in table.columns:
        table = table.assign(seconds=pd.to_numeric(table["seconds"], errors="coerce").round(3))
    return write_table(table, path, force, decimals)


# --- Scenario files --------------------------------------------------------------------------------------------

def scenario_toml(scenario: Scenario) -> str:
    """The scenario as TOML, only what differs from the defaults (reads back to an identical Scenario)."""
    data = scenario.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    tables = {k: v for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    text = tomli_w.dumps({k: v for k, v in data.items() if k not in tables})
    for key, items in tables.items():  # arrays of tables as [[key]] blocks, easier to read and diff
        for item in items:
            lines = [_toml_pair(k, v) for k, v in item.items()]
            text += f"\n[[{key}]]\n" + "\n".join(lines) + "\n"
    return text


def _toml_pair(key: str, value: object) -> str:
    if isinstance(value, dict):
        inner = ", ".join(tomli_w.dumps({k: v}).strip() for k, v in value.items())
        return f"{tomli_w.dumps({key: 0}).split(' =')[0]} = {{ {inner} }}"
    return tomli_w.dumps({key: value}).strip()


MAX_SCENARIO_BYTES = 1024 * 1024
"""Largest scenario file read (the shipped ones are under 2 KB)."""


def parse_scenario(text: str, source: str = "scenario") -> Scenario:
    """A Scenario from TOML text; errors name the file, the key and what is allowed."""
    if len(text) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"{source}: the scenario is larger than {MAX_SCENARIO_BYTES // 1024} KB; is it a scenario "
                            "file? A scenario holds settings and rules, not data")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ScenarioError(f"{source}: not a scenario: its arrays or tables are nested too deeply to read; "
                            "a scenario nests at most a few levels (see scenarios/*.toml)") from exc
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{source}:\n" + "\n".join(f"  - {line}" for line in _scenario_problems(exc))) from exc


def read_scenario(path: str | os.PathLike) -> Scenario:
    """Read and check a scenario TOML file."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ScenarioError(f"{path}: no such scenario file")
        if path.stat().st_size > MAX_SCENARIO_BYTES:
            raise ScenarioError(f"{path}: the file is larger than {MAX_SCENARIO_BYTES // 1024} KB; is it a scenario "
                                "file? A scenario holds settings and rules, not data")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not a text file in UTF-8; save the scenario as UTF-8 TOML") from exc
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"{path}: cannot be read ({_why(exc)}); check the path and that you may read it") from exc
    return parse_scenario(text, str(path))


def _why(exc: Exception) -> str:
    """An OS error in words, without the path it repeats (which may be thousands of characters long)."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return "the path holds a NUL character" if "null" in str(exc) else str(exc)


def write_scenario(scenario: Scenario, path: str | os.PathLike, force: bool = False) -> Path:
    """Save a scenario as TOML (atomic; an existing file is kept unless force)."""
    text = scenario_toml(scenario)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force)


PROJECT_MARKERS = ("pyproject.toml", ".git", ".budgetopt")


def project_root(scenario_path: Path) -> Path:
    """The folder a scenario may read data from: the nearest folder above it that holds pyproject.toml,
    .git or .budgetopt; else the parent of its `scenarios/` folder; else its own folder."""
    folder = scenario_path.resolve().parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return folder.parent if folder.name == "scenarios" else folder


def scenario_data_path(scenario: Scenario, scenario_path: str | os.PathLike, key: str = "data") -> Path:
    """The scenario's data (or curves) file, relative to the scenario file, refused when it points outside the
    project."""
    scenario_path = Path(scenario_path)
    value = getattr(scenario, key)
    if not value:
        raise ScenarioError(f"{scenario_path}: the scenario names no data file; add data = \"../data/your.csv\" "
                            "or pass the file with --data")
    try:
        root = project_root(scenario_path)
        target = (scenario_path.resolve().parent / value).resolve()
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"{scenario_path}: {key} = \"{_clipped(value)}\" cannot be used as a path "
                            f"({_why(exc)}); name the file relative to the scenario file") from exc
    if not target.is_relative_to(root):
        raise ScenarioError(f"{scenario_path}: {key} = \"{value}\" points outside the project folder {root}; "
                            "a scenario may only read files inside it. Pass the file explicitly with --data if you "
                            "mean it")
    return target


def _clipped(text: object, limit: int = 80) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _scenario_problems(exc: ValidationError) -> list[str]:
    """Pydantic's errors as 'key: message (allowed: ...)'."""
    lines = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = number_words(error) or error["msg"]
        if error["type"] == "extra_forbidden":
            model = _model_at(error["loc"][:-1])
            allowed = ", ".join(model.model_fields) if model else ""
            message = f"unknown key; allowed here: {allowed}"
        lines.append(f"{loc}: {message}")
    return lines


def number_words(error: Mapping) -> str | None:
    """A pydantic error about a number in words that say what is wrong with this value and what is allowed:
    'inf is not a finite number ...', '1e+20 is too large: the supported range is up to 10,000,000,000,000'.
    None for other errors."""
    kind, value, ctx = error.get("type"), error.get("input"), error.get("ctx") or {}

    def shown(x: object) -> str:
        if isinstance(x, int | float) and abs(x) < 1e15:
            return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.10g}"
        return f"{x!r}"

    if kind == "finite_number":
        return f"{value!r} is not a finite number: write a number such as 0.1 (nan and inf cannot be planned with)"
    if kind == "less_than_equal":
        return f"{shown(value)} is too large: the supported range is up to {shown(ctx.get('le'))}"
    if kind == "less_than":
        return f"{shown(value)} is too large: it must be below {shown(ctx.get('lt'))}"
    if kind == "greater_than_equal":
        return f"{shown(value)} is too small: it must be at least {shown(ctx.get('ge'))}"
    if kind == "greater_than":
        return f"{shown(value)} is too small: it must be above {shown(ctx.get('gt'))}"
    return None


def _model_at(loc: tuple) -> type | None:
    """The pydantic model class that owns a location in a Scenario."""
    from pydantic import BaseModel

    model: type = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        inner = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        found = next((a for a in inner if issubclass(a, BaseModel)), None)
        if found is None:
            args = getattr(annotation, "__args__", ())
            found = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if found is None:
            return None
        model = found
    return model


def check_size(data: bytes, name: str, limit: int = MAX_INPUT_BYTES) -> None:
    """Refuse an upload of more than `limit` bytes (InputError saying what to do)."""
    if len(data) > limit:
        raise InputError([Problem(None, None, f"{len(data):,} bytes", f"the file is larger than {limit:,} bytes",
                                  "split it or keep only the touchpoint rows", name)], name)


def read_touchpoints_bytes(data: bytes, name: str, limit: int = MAX_INPUT_BYTES) -> pd.DataFrame:
    """Read and validate an uploaded touchpoint table given as bytes, refusing more than `limit` bytes."""
    check_size(data, name, limit)
    return read_touchpoints(bytes(data), name=name)


def plan_csv(plan: Plan) -> bytes:
    """The plan as CSV bytes, exactly what write_plan writes to plan.csv (for a download button)."""
    return plan_bytes(plan, "csv", inputs=plan.inputs, provenance=Provenance().stamped())


def frontier_csv(curve: pd.DataFrame, rounding: float) -> bytes:
    """The efficient frontier as `frontier --out` writes it and the app downloads it: money to the scenario's
    rounding step, customers to 2 decimals, CPEs to 4; where more money buys nothing, the marginal CPE is an empty
    cell, not "inf"."""
    finite = curve["marginal_cpe"].where(np.isfinite(curve["marginal_cpe"].astype(float)))
    return table_csv(curve.assign(marginal_cpe=finite), step_decimals(rounding))


def table_csv(table: pd.DataFrame, decimals: int | None = None) -> bytes:
    """Any table as CSV bytes (UTF-8, safe against formula injection), e.g. the template for a download; with
    `decimals`, its figures rounded as write_table rounds them (the frontier's download: what `frontier --out`
    writes)."""
    if decimals is not None:
        return csv_text(neutralise(rounded_figures(table, decimals)), "%.15g").encode("utf-8")
    return neutralise(table).to_csv(index=False).encode("utf-8")


def cpu_model(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> str:
    """The CPU's model name as the OS reports it (for benchmark reports); the platform's name elsewhere."""
    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def read_history(
    source: Source,
    *,
    mapping: Mapping[str, str | Sequence[str]] | None = None,
    sheet: str | None = None,
    touchpoint: str | None = None,
    window: str | None = None,
    name: str | None = None,
) -> History:
    """Read a spend and outcome history (weekly, daily or monthly rows, or an ad-platform export).

    `mapping` as for `read_touchpoints`, plus `date` and `platform`; `touchpoint` names the column whose values
    are touchpoints (`--touchpoint "Campaign name"`); `window` sets today (`52w`, `12m`, `90d`, `all`; default the
    last 52 weeks or 12 months). See `budgetopt.history`; `History.today()` is the touchpoint table of the window.
    """
    return history_from_table(read_table(source, name=name, sheet=sheet), mapping, touchpoint=touchpoint,
                              window=window)


def read_curves(
    source: Source,
    *,
    mapping: Mapping[str, str | Sequence[str]] | None = None,
    sheet: str | None = None,
    name: str | None = None,
) -> TabulatedCurves:
    """Read response curves given as points (`--curves FILE`): touchpoint, spend, engaged, optional band.

    `mapping` names the file's columns (`{"touchpoint": "channel", "engaged": "incremental_outcome"}`); see
    `budgetopt.curves.tabulated` for the shapes read (Meridian, Robyn, PyMC-Marketing) and the checks.
    """
    return curves_from_table(read_table(source, name=name, sheet=sheet), mapping)


def read_evidence(source: Source, *, mapping: Mapping[str, str | Sequence[str]] | None = None,
                  sheet: str | None = None, touchpoint: str | None = None, window: str | None = None,
                  curves: Source | None = None, curves_mapping: Mapping[str, str | Sequence[str]] | None = None,
                  name: str | None = None, curves_beyond: float = 1.0):
    """The touchpoint table of a data file, as evidence.Evidence: a touchpoint table as it is, or a history
    (a date column, several rows per touchpoint) fitted per touchpoint; then, with `curves`, the touchpoints those
    response curves name planned on them (up to `curves_beyond` x each curve's last point, continued at its last
    slope; 1: not beyond). `touchpoint` and `window` apply to histories only."""
    from .evidence import Evidence, from_history, with_curves
    from .history import is_history

    if not (math.isfinite(curves_beyond) and 1.0 <= curves_beyond <= MAX_FACTOR):
        raise BudgetOptError(f"curves_beyond {curves_beyond:g}: give a multiple from 1 to {MAX_FACTOR:,.0f}")
    with remembered():  # each column's number conventions read once, for the table and for its checks
        raw = read_table(source, name=name, sheet=sheet)
        if is_history(raw, mapping, touchpoint):
            evidence = from_history(history_from_table(raw, mapping, touchpoint=touchpoint, window=window))
        else:
            if touchpoint or window:
                raise BudgetOptError(f"{raw.source} is not a history (no date or period column beside several rows "
                                     "per touchpoint): --touchpoint and --window apply to histories only")
            table = to_touchpoints(raw, mapping)
            evidence = Evidence(table, notices=list(table.attrs.get("notices", [])))
    if curves is not None:
        tabulated = with_curves(evidence.table, read_curves(curves, mapping=curves_mapping), curves_beyond)
        tabulated.fits, tabulated.shares, tabulated.history = evidence.fits, evidence.shares, evidence.history
        evidence = tabulated
    return evidence
