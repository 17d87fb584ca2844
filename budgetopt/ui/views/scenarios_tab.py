"""The Scenarios tab: save the current settings as a scenario file (asking before replacing one) or download
them, and compare up to four scenarios side by side."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ...compare import compare
from ...errors import BudgetOptError, ScenarioError
from ...scenario import Scenario
from .. import cached, charts, library, report
from .shared import md, to_save
from .state import Key


def save_scenario(scenario: Scenario, folder: Path) -> None:
    """Save the current settings as a scenario file in the folder (asking before replacing one), or download them."""
    ss = st.session_state
    st.subheader("Save these settings")
    shared = library.saving() == library.SHARED
    if shared:
        st.caption(f"As a scenario file in {folder.name}/: it appears under 'Start from a scenario file' in the "
                   "sidebar, and `budgetopt run` reads it.")
        st.info(library.SHARED_NOTE)
    else:
        st.info(library.OFF_NOTE)
    left, right = st.columns([2, 3])
    name = left.text_input("Name", key=Key.SAVE_NAME, max_chars=120, placeholder="e.g. Cut 10 %, protect service")
    right.text_input("Description (optional)", key=Key.SAVE_DESCRIPTION, max_chars=500,
                     placeholder="what the scenario asks, in a sentence")
    as_file = to_save(scenario, folder)
    path, problem = None, None
    if name.strip():
        try:
            path = library.path_for(folder, name)
        except ScenarioError as exc:
            problem = str(exc)
    if problem:
        st.error(md(problem))
    replace = False
    if path is not None:
        where = f"{folder.name}/{path.name}"
        data = f" It reads the data from {as_file.data}." if as_file.data else (
            " Your uploaded file is not saved with it: the scenario holds the settings, not the data.")
        st.caption(f"Saves to {where}.{md(data)}")
        if path.exists():
            st.warning(f"{where} already exists. Saving replaces it; what it holds now is lost.")
            replace = st.checkbox("Replace it", key=f"{Key.SAVE_REPLACE}:{path.name}:{ss.get(Key.SAVES, 0)}")
    left, right = st.columns(2)
    if left.button("Save for everyone on this server" if shared else "Save (off on this server)", type="primary",
                   disabled=path is None or not shared, key="save_scenario", width="stretch"):
        _save(as_file, path, replace, folder)
    right.download_button("Download as TOML", library.toml_bytes(as_file),
                          file_name=library.download_name(as_file.name), mime="application/toml", on_click="ignore",
                          key="download_scenario_toml", width="stretch")
    kind, message = ss.pop(Key.SAVE_MESSAGE, (None, None))
    if kind == "success":
        st.success(message)
    elif kind == "error":
        st.error(message)


def _save(as_file: Scenario, path: Path, replace: bool, folder: Path) -> None:
    """Write the file (an existing one only when the box was ticked), then redraw so the sidebar lists it."""
    ss = st.session_state
    try:
        library.save(as_file, path, replace)
    except (BudgetOptError, OSError) as exc:
        ss[Key.SAVE_MESSAGE] = ("error", f"Not saved: {md(str(exc))}")
    else:
        ss[Key.SAVE_MESSAGE] = ("success", f"Saved {folder.name}/{path.name}.")
        ss[Key.SAVES] = ss.get(Key.SAVES, 0) + 1  # the next replacement needs a fresh tick
        ss[Key.MARK_CLEAN] = True  # nothing to lose any more
    st.rerun()


CURRENT = "current settings"


def compare_scenarios(touchpoints: pd.DataFrame, scenario: Scenario, folder: Path) -> None:
    """Up to four scenarios (files and the current settings) side by side on the page's data: a table, two bars."""
    st.subheader("Compare scenarios")
    st.caption("Up to four, side by side, each planned on the data on this page and measured against the same "
               "today: the data as given (a scenario's what-ifs change its plan, never today).")
    files = {str(f.path): f for f in library.list_files(folder) if f.scenario is not None}
    names = {CURRENT: f"Current settings ({scenario.name})"} | {p: f.label for p, f in files.items()}
    if any(p not in names for p in st.session_state.get(Key.COMPARE, [])):
        st.session_state[Key.COMPARE] = [p for p in st.session_state[Key.COMPARE] if p in names]
    chosen = st.multiselect("Scenarios", list(names), format_func=names.get, max_selections=4, key=Key.COMPARE,
                            placeholder="choose two to four")
    if not chosen:
        st.info("Choose scenarios to compare: the current settings and any file.")
        return
    plans, labels = [], []
    for option in chosen:
        wanted = scenario if option == CURRENT else files[option].scenario
        label = CURRENT if option == CURRENT else wanted.name
        label = label if label not in labels else f"{label} ({Path(option).name})"
        try:
            plans.append(cached.plan_for(touchpoints, wanted.model_dump_json()))
            labels.append(label)
        except BudgetOptError as exc:
            st.error(f"**{md(label)}** cannot be planned on this data: {md(str(exc))}")
    if not plans:
        return
    table = compare(plans, labels)
    shown = report.compare_table(table)
    st.table(shown, hide_index=True)  # every figure in full: long rule names wrap, nothing scrolls
    bars = report.compare_bars(table)
    colours = (("budget", charts.TODAY_MARK), ("engaged customers", charts.PLAN_COLOR))
    for column, (figure, color) in zip(st.columns(2), colours, strict=True):
        frame = bars[bars["figure"] == figure]
        if not frame.empty:
            column.vega_lite_chart(frame, charts.compare_chart(figure, color, [str(c) for c in table.columns]),
                                   width="stretch")
