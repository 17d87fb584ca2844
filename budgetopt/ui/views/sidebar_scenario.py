"""The sidebar's scenario section: a scenario file to start from, the goal, the budget (a slider in percent and
the exact amount, kept in step), siloed or horizontal planning, protect the journey stages."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ... import io, units
from ... import schema as S
from ...errors import BudgetOptError, ScenarioError
from ...scenario import Mode, Scenario
from .. import controls, library, report
from .. import format as fmt
from ..controls import MODE_LABELS, PLANNING, SILOED
from . import history
from .shared import md
from .state import Key


def scenario_controls(touchpoints: pd.DataFrame, folder: Path) -> Scenario:
    """Sidebar: a scenario file to start from, then the goal, the budget (slider or exact amount), siloed or
    horizontal, protect the stages. Loading a file sets these widgets and the rules; what has no widget
    (overrides, added touchpoints) is applied and shown as a note."""
    side = st.sidebar
    today = report.today_figures(touchpoints)
    ss = st.session_state
    ss.setdefault(Key.KEEP_PCT, 100.0)
    ss.setdefault(Key.TARGET_CPE, round(today["cpe"], 2))
    side.header("Scenario")
    history.step_back_button(today, folder)
    _scenario_file(folder, today)
    mode = side.radio("Goal", list(Mode), format_func=MODE_LABELS.get, key=Key.MODE)
    keep = target = None
    if mode is Mode.MIN_SPEND:
        keep = side.number_input(f"{units.measure(units.is_weighted(touchpoints[S.VALUE])).capitalize()} to keep "
                                 "(% of today's)", min_value=controls.KEEP_RANGE[0],
                                 max_value=controls.KEEP_RANGE[1], step=1.0, key=Key.KEEP_PCT,
                                 help="100 keeps today's engagement for less money")
    if mode is Mode.TARGET_CPE:
        target = side.number_input("Highest average CPE", min_value=controls.MIN_TARGET_CPE, max_value=S.MAX_CPE,
                                   step=0.1, format="%.2f",
                                   key=Key.TARGET_CPE, help=f"today's average is {fmt.cpe(today['cpe'])}")
    total = _budget(today["spend"], disabled=mode is Mode.MIN_SPEND)
    at_most = side.checkbox("The plan may spend less than the budget", key=Key.AT_MOST,
                            disabled=mode is not Mode.MAX_ENGAGED,
                            help="with a target CPE, the budget is always a ceiling")
    planning = side.radio("Planning", PLANNING, key=Key.PLANNING,
                          help="siloed: every function keeps its share of the budget, as in vertical planning")
    protect = side.toggle("Protect every stage of the journey", key=Key.PROTECT,
                          help="every stage (awareness ... advocacy) keeps at least today's engaged customers")
    loaded = ss.get(Key.LOADED)
    settings = dict(budget=controls.budget_from(today["spend"], total, at_most),
                    objective=controls.objective_from(mode, keep, target), siloed=planning == SILOED,
                    protect_stages=protect)
    rules = tuple(ss.get(Key.RULES, ()))
    try:
        scenario = controls.build_scenario(**settings, rules=rules, periods=loaded.periods if loaded else None)
    except ScenarioError as exc:  # rules about periods without a plan over periods: planned without them
        side.error(f"Left out: {md(str(exc))}.")
        scenario = controls.build_scenario(**settings, rules=tuple(r for r in rules if not controls.over_time(r)))
    return scenario if loaded is None else controls.with_loaded(scenario, loaded, today["spend"], today["value"])


def _scenario_file(folder: Path, today: dict[str, float]) -> None:
    """A scenario file to start from (sets the widgets below), and a note on what it changes beyond them."""
    side, ss = st.sidebar, st.session_state
    files = library.list_files(folder)
    labels = {str(f.path): f.label for f in files}
    if ss.get(Key.LOAD_FILE) not in labels:
        ss.pop(Key.LOAD_FILE, None)
    side.selectbox("Start from a scenario file", list(labels), format_func=labels.get, index=None,
                   key=Key.LOAD_FILE, placeholder=f"{len(files)} in {folder.name}/" if files else f"none in {folder}",
                   help="the scenarios shipped with budgetopt and those saved in the Scenarios tab")
    side.button("Load it", on_click=_ask_to_load, args=(today,),
                disabled=ss.get(Key.LOAD_FILE) is None, key="load_scenario_file",
                help="sets the goal, the budget, the planning style and the rules to the file's")
    waiting = ss.get(Key.CONFIRM_LOAD)
    if waiting is not None and waiting == ss.get(Key.LOAD_FILE) and waiting in labels:
        changes = history.unsaved(today)
        side.warning(f"Your changes ({md(', '.join(changes) or 'none left')}) are not saved. Loading "
                     f"**{md(labels[waiting])}** replaces them; **Step back** brings them back.")
        left, right = side.columns(2)
        left.button("Load anyway", on_click=_load_file, args=(today,), key="load_anyway", type="primary")
        right.button("Keep my changes", on_click=ss.pop, args=(Key.CONFIRM_LOAD, None), key="keep_my_changes")
    elif waiting is not None:
        ss.pop(Key.CONFIRM_LOAD)
    error = ss.pop(Key.LOAD_ERROR, None)
    if error:
        side.error(f"Not loaded: {md(error)}")
    loaded = ss.get(Key.LOADED)
    if loaded is None:
        return
    text = f"Loaded **{md(loaded.name)}** from {md(Path(ss[Key.LOADED_FROM]).name)}."
    if library.other_data(loaded, Path(ss[Key.LOADED_FROM]), ss.get(Key.SAMPLE)):
        text += f" It was made for {md(loaded.data)}; here it plans the data on this page."
    extra = library.without_widgets(loaded)
    if extra:
        text += " It also sets what has no widget here:\n\n" + "\n".join(f"- {md(x)}" for x in extra)
    side.info(text)
    if extra:
        side.button("Drop these changes", on_click=_forget_file, key="forget_scenario_file",
                    help="keeps the widgets as they are and plans today's data without the file's changes")
    if ss.get(Key.BEFORE_LOAD) is not None:
        side.button("Undo loading", on_click=_undo_load, args=(today, folder), key="undo_load",
                    help="brings back the settings as they were before this file was loaded")


def _ask_to_load(today: dict[str, float]) -> None:
    """Load the chosen file, or first ask when the settings have changes that were never saved."""
    if history.unsaved(today):
        st.session_state[Key.CONFIRM_LOAD] = st.session_state.get(Key.LOAD_FILE)
        return
    _load_file(today)


def _undo_load(today: dict[str, float], folder: Path) -> None:
    ss = st.session_state
    state, name, description = ss.pop(Key.BEFORE_LOAD)
    history.apply(state, today, folder)
    ss[Key.SAVE_NAME], ss[Key.SAVE_DESCRIPTION] = name, description


def _load_file(today: dict[str, float]) -> None:
    """Set every widget the scenario file describes (a callback: it runs before the widgets are drawn)."""
    ss = st.session_state
    ss.pop(Key.CONFIRM_LOAD, None)
    path = ss.get(Key.LOAD_FILE)
    if not path:
        return
    try:
        scenario = io.read_scenario(path)
    except (BudgetOptError, OSError, UnicodeDecodeError) as exc:
        ss[Key.LOAD_ERROR] = str(exc)
        return
    ss[Key.BEFORE_LOAD] = (history.current(today), ss.get(Key.SAVE_NAME, ""), ss.get(Key.SAVE_DESCRIPTION, ""))
    ss[Key.MARK_CLEAN] = True
    w = controls.widgets_for(scenario, today["spend"], today["value"], today["cpe"])
    ss.update({Key.MODE: w.mode, Key.KEEP_PCT: w.keep_pct, Key.TARGET_CPE: w.target_cpe,
               Key.BUDGET_TOTAL: w.budget_total, Key.BUDGET_TEXT: fmt.money(w.budget_total),
               Key.BUDGET_PCT: w.budget_pct, Key.AT_MOST: w.at_most,
               Key.PLANNING: w.planning, Key.PROTECT: w.protect_stages, Key.RULES: list(w.rules), Key.REMOVE: [],
               Key.LOADED: scenario, Key.LOADED_FROM: path, Key.SAVE_NAME: scenario.name,
               Key.SAVE_DESCRIPTION: scenario.description})


def _forget_file() -> None:
    for key in (Key.LOADED, Key.LOADED_FROM, Key.BEFORE_LOAD):
        st.session_state.pop(key, None)


def _budget(today: float, disabled: bool) -> float:
    """The budget slider (percent against today) and the exact amount, kept in step with each other. The amount
    is typed as people write money (14,045,000 or 14.045.000 or 14 045 000) and shown with thousands separators."""
    side, ss = st.sidebar, st.session_state
    loaded = ss.get(Key.LOADED)  # new data after loading a file: the file's budget on the new data
    ss.setdefault(Key.BUDGET_TOTAL, float(round(today)) if loaded is None else loaded.budget.amount(today))
    ss.setdefault(Key.BUDGET_PCT, controls.slider_step(today, ss[Key.BUDGET_TOTAL]))
    ss.setdefault(Key.BUDGET_TEXT, fmt.money(ss[Key.BUDGET_TOTAL]))
    low, high = controls.BUDGET_STEPS
    side.slider("Budget against today", low, high, step=1, format="%+d %%", key=Key.BUDGET_PCT,
                on_change=_slid, args=(today,), disabled=disabled)
    side.text_input("Budget (exact amount)", key=Key.BUDGET_TEXT, on_change=_typed, args=(today,),
                    disabled=disabled, help="the total to spend, e.g. 12,000,000")
    error = ss.pop(Key.BUDGET_ERROR, None)
    if error:
        side.error(md(error))
    total = float(ss[Key.BUDGET_TOTAL])
    if disabled:
        side.caption("This goal finds the least money that keeps the engagement: no budget to set.")
    else:
        side.caption(f"{fmt.money(total)}: {fmt.percent(total / today - 1, signed=True)} against today's "
                     f"{fmt.money(today)}")
    return total


def _slid(today: float) -> None:
    ss = st.session_state
    ss[Key.BUDGET_TOTAL] = float(round(today * (1 + ss[Key.BUDGET_PCT] / 100)))
    ss[Key.BUDGET_TEXT] = fmt.money(ss[Key.BUDGET_TOTAL])


def _typed(today: float) -> None:
    ss = st.session_state
    try:
        total = units.parse_amount(ss[Key.BUDGET_TEXT])
        if total < 0:
            raise ValueError(f"'{ss[Key.BUDGET_TEXT]}' is negative; a budget is zero or more")
        if total > S.MAX_AMOUNT:
            raise ValueError(f"'{ss[Key.BUDGET_TEXT]}' is too large: the supported range is "
                             f"{S.supported(0, S.MAX_AMOUNT)}")
    except ValueError as exc:
        ss[Key.BUDGET_ERROR] = f"Budget not changed: {exc}."
        ss[Key.BUDGET_TEXT] = fmt.money(ss[Key.BUDGET_TOTAL])
        return
    ss[Key.BUDGET_TOTAL] = total
    ss[Key.BUDGET_TEXT] = fmt.money(total)
    ss[Key.BUDGET_PCT] = controls.slider_step(today, total)
