"""Scenario files for the page: list the folder, name a new file safely, save without overwriting by accident,
and say in words what a scenario changes that has no widget (overrides, added touchpoints). No Streamlit here.

The folder is `scenarios/` next to app.py unless the environment variable BUDGETOPT_SCENARIOS names another
(the tests point it at a temporary folder). A name a person types only ever becomes a file name inside it.

Who sees what: the app has no sign-in, so it cannot tell its users apart, and the folder is one library shared
by everyone who opens the app on this server: a scenario saved there (name, description, rules) is listed for
all of them. The page says so before anything is saved. A server whose users must not see each other's
scenarios sets BUDGETOPT_SCENARIO_SAVING=off: then nothing is saved on the server, and each person downloads
their scenario as a TOML file and loads it again from their own disk.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .. import io
from ..errors import BudgetOptError, ScenarioError
from ..overrides import describe_whatifs
from ..scenario import Scenario

FOLDER_VARIABLE = "BUDGETOPT_SCENARIOS"
SAVING_VARIABLE = "BUDGETOPT_SCENARIO_SAVING"
SHARED, OFF = "shared", "off"
SHARED_NOTE = ("Saved for everyone on this server: the app has no sign-in, so every person who opens it here sees "
               "this scenario in their list, with its name and description.")
OFF_NOTE = ("Saving on this server is off (the server sets BUDGETOPT_SCENARIO_SAVING=off, so that users do not see "
            "each other's scenarios): download the scenario as TOML and keep it yourself.")
MAX_STEM = 60
RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
"""Names Windows will not give a file, whatever the extension."""


def folder(default: Path) -> Path:
    """The scenarios folder: $BUDGETOPT_SCENARIOS when set, else `default`."""
    return Path(os.environ.get(FOLDER_VARIABLE) or default)


@dataclass(frozen=True)
class ScenarioFile:
    """One .toml file of the folder: its scenario, or why it cannot be read."""

    path: Path
    scenario: Scenario | None
    error: str | None = None

    @property
    def label(self) -> str:
        """How the file is offered in a list: the scenario's name and the file."""
        if self.scenario is None:
            return f"{self.path.name} (cannot be read)"
        return f"{self.scenario.name} ({self.path.name})"


def list_files(where: Path) -> list[ScenarioFile]:
    """Every scenario file in the folder (not its subfolders), by file name; unreadable ones say why."""
    if not where.is_dir():
        return []
    out = []
    for path in sorted(where.glob("*.toml"), key=lambda p: p.name.casefold()):
        try:
            out.append(ScenarioFile(path, io.read_scenario(path)))
        except (BudgetOptError, OSError, UnicodeDecodeError) as exc:
            out.append(ScenarioFile(path, None, str(exc)))
    return out


def file_name(name: str) -> str:
    """A safe file name for a scenario name: 'Cut 10 %, protect service' -> 'cut-10-protect-service.toml'.

    Letters and digits only (accents dropped), joined by '-', at most 60 characters: no folder, no dot,
    nothing a file system treats specially."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    stem = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:MAX_STEM].strip("-")
    if not stem:
        raise ScenarioError("give the scenario a name with at least one letter or digit")
    if stem in RESERVED:
        stem += "-scenario"
    return f"{stem}.toml"


def download_name(name: str) -> str:
    """The file name a downloaded scenario gets: as it would be saved, or 'scenario.toml'."""
    try:
        return file_name(name)
    except ScenarioError:
        return "scenario.toml"


def path_for(where: Path, name: str) -> Path:
    """The file a scenario of this name is saved to: always directly inside the folder."""
    path = where / file_name(name)
    if path.resolve().parent != where.resolve():  # cannot happen with file_name's alphabet; checked anyway
        raise ScenarioError(f"'{name}' does not make a file name inside {where}")
    return path


def for_saving(scenario: Scenario, name: str, description: str, data: Path | None, where: Path) -> Scenario:
    """The scenario as it goes into a file in `where`: its name and description, and the data file relative
    to the folder when a scenario there may read it (inside the project); otherwise no data file."""
    relative = None
    if data is not None:
        candidate = Path(os.path.relpath(data.resolve(), where.resolve())).as_posix()
        try:
            io.scenario_data_path(scenario.model_copy(update={"data": candidate}), where / "scenario.toml")
            relative = candidate
        except ScenarioError:
            relative = None
    return scenario.model_copy(update={"name": name.strip() or scenario.name, "description": description.strip(),
                                       "data": relative})


def other_data(scenario: Scenario, path: Path, shown: str | os.PathLike | None) -> bool:
    """True when the scenario file names a data file other than the one shown (`shown`: None for an upload)."""
    if not scenario.data:
        return False
    try:
        return shown is None or io.scenario_data_path(scenario, path) != Path(shown).resolve()
    except ScenarioError:
        return True


def saving() -> str:
    """How the server keeps saved scenarios: SHARED (one library for every user, the default) or OFF (none kept).
    Set by the environment variable BUDGETOPT_SCENARIO_SAVING; anything else than 'off' means shared."""
    return OFF if os.environ.get(SAVING_VARIABLE, "").strip().lower() == OFF else SHARED


def save(scenario: Scenario, path: Path, replace: bool) -> Path:
    """Write the scenario file; an existing file is kept unless `replace` (the person confirmed). Refused when
    the server keeps no scenarios (saving() is OFF)."""
    if saving() == OFF:
        raise ScenarioError(OFF_NOTE)
    if path.exists() and not replace:
        raise ScenarioError(f"{path.name} already exists: tick 'Replace it' to overwrite it, or choose another name")
    return io.write_scenario(scenario, path, force=replace)


def toml_bytes(scenario: Scenario) -> bytes:
    """The scenario file's content, for a download."""
    return io.scenario_toml(scenario).encode("utf-8")


def without_widgets(scenario: Scenario) -> list[str]:
    """What a scenario changes that the page has no widget for, one line each."""
    lines = describe_whatifs(scenario)
    if scenario.periods is not None:
        lines.append(f"a plan over time: {periods_words(scenario.periods)}")
    if scenario.settings != type(scenario.settings)():
        changed = scenario.settings.model_dump(exclude_defaults=True)
        lines.append("solver settings: " + ", ".join(f"{k} = {v}" for k, v in changed.items()))
    return lines


def periods_words(periods) -> str:
    """[periods] in a few words: '12 months from the data's next; pacing 5 % to 12 % a period; ...'."""
    calendar = periods.calendar
    kind = calendar.kind + ("s" if calendar.count != 1 else "")
    parts = [f"{calendar.count} {kind}" + (f" from {calendar.labels[0]}" if calendar.start is not None else "")]
    for key, word in (("budgets", "a budget per period"), ("min_share", "a floor per period"),
                      ("max_share", "a cap per period"), ("min_spend", "a floor per period"),
                      ("max_spend", "a cap per period")):
        if getattr(periods, key) is not None and word not in parts:
            parts.append(word)
    if periods.max_step is not None:
        parts.append(f"the total changes at most {periods.max_step:.0%} from one period to the next")
    if isinstance(periods.seasonality, tuple) or periods.seasonal:
        parts.append("seasonality set in the file")
    if periods.tail == "cut":
        parts.append("what lands after the horizon not counted")
    return "; ".join(parts)
