"""Never lose work: the page's settings live in its address (so a reload or a shared link brings them back),
the last few settings can be stepped back through, and loading a scenario file over unsaved changes asks first.

`restore` runs once the data is on the page and before the sidebar's widgets are drawn; `remember` runs at the
end of every run. The settings <-> address arithmetic is `budgetopt/ui/link.py`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ...scenario import Mode
from .. import controls, library, link, report
from .. import format as fmt
from ..link import PageState
from .shared import md
from .state import Key

KEEP = 10
"""Settings remembered for 'Step back' (the newest ones)."""


def current(today: dict[str, float]) -> PageState:
    """The settings the widgets hold now (today's figures decide what counts as 'unchanged')."""
    ss = st.session_state
    mode = ss.get(Key.MODE, Mode.MAX_ENGAGED)
    total = ss.get(Key.BUDGET_TOTAL)
    budget = None if total is None or abs(float(total) - today["spend"]) <= 0.5 else float(total)
    target = ss.get(Key.TARGET_CPE)
    target = None if target is None or mode is not Mode.TARGET_CPE or target == round(today["cpe"], 2) else target
    loaded_from = ss.get(Key.LOADED_FROM) if ss.get(Key.LOADED) is not None else None
    return PageState(data=ss.get(Key.DATA_LABEL, link.SAMPLE), mode=mode, budget=budget,
                     at_most=bool(ss.get(Key.AT_MOST, False)),
                     keep_pct=float(ss.get(Key.KEEP_PCT, 100.0)) if mode is Mode.MIN_SPEND else 100.0,
                     target_cpe=target, siloed=ss.get(Key.PLANNING) == controls.SILOED,
                     protect_stages=bool(ss.get(Key.PROTECT, False)), rules=tuple(ss.get(Key.RULES, ())),
                     scenario_file=Path(loaded_from).name if loaded_from else None)


def apply(state: PageState, today: dict[str, float], folder: Path) -> list[str]:
    """Set every widget to the state (before the widgets are drawn: in a callback or before the sidebar); return
    what could not be restored, in sentences."""
    ss = st.session_state
    total = today["spend"] if state.budget is None else state.budget
    ss.update({Key.MODE: state.mode, Key.KEEP_PCT: state.keep_pct,
               Key.TARGET_CPE: state.target_cpe if state.target_cpe is not None else round(today["cpe"], 2),
               Key.BUDGET_TOTAL: float(total), Key.BUDGET_TEXT: fmt.money(total),
               Key.BUDGET_PCT: controls.slider_step(today["spend"], total), Key.AT_MOST: state.at_most,
               Key.PLANNING: controls.SILOED if state.siloed else controls.HORIZONTAL,
               Key.PROTECT: state.protect_stages, Key.RULES: list(state.rules), Key.REMOVE: []})
    ss.pop(Key.LOADED, None)
    ss.pop(Key.LOADED_FROM, None)
    if not state.scenario_file:
        return []
    listed = {f.path.name: f for f in library.list_files(folder)}  # only a file the folder holds, by its name
    found = listed.get(state.scenario_file)
    if found is None:
        return [f"the scenario file {state.scenario_file} is not in {folder.name}/, so what it changes beyond the "
                "widgets (overrides, added touchpoints) is left out"]
    if found.scenario is None:
        return [f"the scenario file {state.scenario_file} cannot be read ({found.error}), so what it changes beyond "
                "the widgets is left out"]
    ss[Key.LOADED], ss[Key.LOADED_FROM] = found.scenario, str(found.path)
    return []


def restore(touchpoints: pd.DataFrame, folder: Path) -> None:
    """On a fresh page, the settings its address holds; they are applied once the data they were made with is on
    the page (an upload has to be uploaded again). Says what could not be restored."""
    ss = st.session_state
    today = report.today_figures(touchpoints)
    if Key.LINK_READ not in ss:
        ss[Key.LINK_READ] = True
        state, problems = link.from_query(st.query_params.to_dict())
        if st.query_params:
            ss[Key.LINK_PENDING] = state
            ss[Key.LINK_PROBLEMS] = problems
    pending = ss.get(Key.LINK_PENDING)
    if pending is not None and pending.data == ss.get(Key.DATA_LABEL, link.SAMPLE):
        ss[Key.LINK_PROBLEMS] = ss.get(Key.LINK_PROBLEMS, []) + apply(pending, today, folder)
        ss.pop(Key.LINK_PENDING)
        ss[Key.CLEAN] = pending
    elif pending is not None and pending.upload:
        st.sidebar.warning(f"This link was made with the file **{md(pending.upload)}**, which a link cannot carry: "
                           "upload it above and its settings follow.")
    problems = ss.pop(Key.LINK_PROBLEMS, [])
    if problems:
        st.sidebar.warning("From the link: " + "; ".join(md(p) for p in problems) + ".")


def remember(touchpoints: pd.DataFrame) -> None:
    """At the end of a run: the settings into the address, and into the list 'Step back' goes through."""
    ss = st.session_state
    state = current(report.today_figures(touchpoints))
    if ss.get(Key.LINK_PENDING) is None:  # a link still waiting for its upload keeps the address as it is
        query = link.to_query(state)
        if st.query_params.to_dict() != query:
            st.query_params.from_dict(query)
    past = ss.setdefault(Key.HISTORY, [])
    if not past or past[-1] != state:
        past.append(state)
        del past[:-KEEP]
    if ss.pop(Key.MARK_CLEAN, False) or Key.CLEAN not in ss:
        ss[Key.CLEAN] = state


def unsaved(today: dict[str, float]) -> list[str]:
    """What changed since the settings were last loaded, saved or opened (empty: nothing to lose)."""
    clean = st.session_state.get(Key.CLEAN)
    return [] if clean is None else link.differences(clean, current(today))


def step_back_button(today: dict[str, float], folder: Path) -> None:
    """A button that brings back the settings before the latest change (as often as there are some)."""
    past = st.session_state.get(Key.HISTORY, [])
    earlier = len(past) - (1 if past and past[-1] == current(today) else 0)  # this run's settings join at its end
    st.sidebar.button(f"Step back ({earlier})" if earlier else "Step back", key=Key.STEP_BACK,
                      on_click=_step_back, args=(today, folder), disabled=not earlier, width="stretch",
                      help=f"the settings before your latest change; the page keeps the last {KEEP}")


def _step_back(today: dict[str, float], folder: Path) -> None:
    ss = st.session_state
    past = ss.get(Key.HISTORY, [])
    if len(past) < 2:
        return
    past.pop()
    apply(past[-1], today, folder)
