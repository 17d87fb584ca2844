"""The only module that reads or writes files: touchpoint CSVs in, scenario TOML in and out, plans out."""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path

import pandas as pd
import tomli_w
from pydantic import ValidationError

from .errors import BudgetOptError, InputError, Problem, ScenarioError
from .scenario import Scenario
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


def write_table(table: pd.DataFrame, path: str | os.PathLike, force: bool = False) -> Path:
    """Any result table as CSV (safe against formula injection, atomic)."""
    safe = neutralise(table)
    return atomic_write(path, lambda tmp: safe.to_csv(tmp, index=False, float_format="%.6f"), force)


def write_plan(plan, path: str | os.PathLike, force: bool = False) -> Path:
    """Write the plan table as CSV (safe against formula injection, atomic)."""
    table = neutralise(plan.table)
    return atomic_write(path, lambda tmp: table.to_csv(tmp, index=False, float_format="%.6f"), force)


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


def parse_scenario(text: str, source: str = "scenario") -> Scenario:
    """A Scenario from TOML text; errors name the file, the key and what is allowed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{source}:\n" + "\n".join(f"  - {line}" for line in _scenario_problems(exc))) from exc


def read_scenario(path: str | os.PathLike) -> Scenario:
    """Read and check a scenario TOML file."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: no such scenario file")
    return parse_scenario(path.read_text(encoding="utf-8"), str(path))


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


def scenario_data_path(scenario: Scenario, scenario_path: str | os.PathLike) -> Path:
    """The scenario's data file, relative to the scenario file, refused when it points outside the project."""
    scenario_path = Path(scenario_path)
    if not scenario.data:
        raise ScenarioError(f"{scenario_path}: the scenario names no data file; add data = \"../data/your.csv\" "
                            "or pass the file with --data")
    root = project_root(scenario_path)
    target = (scenario_path.resolve().parent / scenario.data).resolve()
    if not target.is_relative_to(root):
        raise ScenarioError(f"{scenario_path}: data = \"{scenario.data}\" points outside the project folder {root}; "
                            "a scenario may only read data inside it. Pass the file explicitly with --data if you "
                            "mean it")
    return target


def _scenario_problems(exc: ValidationError) -> list[str]:
    """Pydantic's errors as 'key: message (allowed: ...)'."""
    lines = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            model = _model_at(error["loc"][:-1])
            allowed = ", ".join(model.model_fields) if model else ""
            message = f"unknown key; allowed here: {allowed}"
        lines.append(f"{loc}: {message}")
    return lines


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
