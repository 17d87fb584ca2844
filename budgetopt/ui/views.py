"""One Streamlit function per section of the page; app.py calls them in the order a person reads the page.

The arithmetic lives in `report` and `controls`; these functions only lay out widgets and draw.
Widget values live in st.session_state under the keys in `Key`, so tests (and later, loading a
scenario file) can set them by name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable
from functools import partial
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from .. import io, units
from .. import schema as S
from ..compare import compare
from ..errors import BudgetOptError, ScenarioError
from ..export import Provenance, plan_xlsx_bytes
from ..frontier import budget_range, frontier
from ..ingest import RawTable
from ..plan import Plan
from ..pricing import attach_whole_prices, price_rules
from ..scenario import Mode, Scenario
from ..silos import silo_cost
from . import cached, columns, controls, library, report
from . import format as fmt
from .controls import LIMITS, MODE_LABELS, PLANNING, SILOED


class Key:
    """Session-state keys of the widgets (and of what the page remembers between reruns)."""

    DATA = "data_id"
    SOURCE = "data_source"  # Provenance of the table on the page
    SAMPLE = "data_is_sample"  # the sample's path while the page shows it, else None
    UPLOAD = "upload"
    MAP_FILE = "mapping_for"  # the upload (SHA-256) the column choices belong to
    MAP = "map:"  # + a touchpoint column: the header(s) chosen for it
    LOAD_FILE = "scenario_file"
    LOAD_ERROR = "scenario_file_error"
    LOADED = "loaded_scenario"
    LOADED_FROM = "loaded_scenario_path"
    MODE = "mode"
    KEEP_PCT = "keep_engaged_pct"
    TARGET_CPE = "target_cpe"
    BUDGET_PCT = "budget_pct"
    BUDGET_TOTAL = "budget_total"  # the amount (a number); the box shows it as text
    BUDGET_TEXT = "budget_text"
    BUDGET_ERROR = "budget_error"
    AT_MOST = "at_most"
    PLANNING = "planning"
    PROTECT = "protect_stages"
    RULES = "rules"
    RULE_TARGET = "rule_target"
    RULE_LIMIT = "rule_limit"
    RULE_VALUE = "rule_value"
    RULE_ERROR = "rule_error"
    REMOVE = "rules_to_remove"
    TODAY_BY = "today_by"
    SAVE_NAME = "save_name"
    SAVE_DESCRIPTION = "save_description"
    SAVE_REPLACE = "save_replace"  # + ':' + file name + ':' + saves so far: a fresh, unticked box each time
    SAVES = "saves"
    SAVE_MESSAGE = "save_message"
    COMPARE = "compare"
    FRONTIER_BUTTON = "frontier_button"
    PRICES_BUTTON = "prices_button"
    SILOS_BUTTON = "silos_button"


DATA_KEYS = (Key.BUDGET_PCT, Key.BUDGET_TOTAL, Key.BUDGET_TEXT, Key.TARGET_CPE, Key.RULE_TARGET)
"""Widgets whose value depends on the data: reset when another table is loaded."""
NOT_MAPPED = "(not in my file)"
PRICED_DATA_LIMITS = 25
"""The app re-solves the 25 dearest of the data's own limits for their whole price (each costs two solves);
the scenario's rules are always priced."""
"""The column-mapping step's choice for a column the file does not have."""
TODAY_COLOR, PLAN_COLOR = "#a3acb9", "#2563eb"
TODAY_MARK, PLAN_MARK = "#4b5563", "#ea580c"  # the frontier's marked points: dark grey, orange


# ---- data ------------------------------------------------------------------------------------------------------

def upload_limit() -> int:
    """Largest upload in bytes: the server's limit (server.maxUploadSize, in MB) and the reader's, whichever is less."""
    return min(io.MAX_INPUT_BYTES, int(st.get_option("server.maxUploadSize")) * 1024 * 1024)


def data_source(sample: Path) -> pd.DataFrame | None:
    """Sidebar: the sample, or the person's own CSV or Excel file, which goes through the column-mapping step
    (main area). Problems with an upload are listed in the main area, each with its row, column and fix."""
    side, ss = st.sidebar, st.session_state
    side.header("Data")
    limit = upload_limit()
    upload = side.file_uploader("Your touchpoint table (optional)", type=["csv", "xlsx"], key=Key.UPLOAD,
                                help=f"CSV (any delimiter or encoding) or Excel (.xlsx); one row per touchpoint; at "
                                     f"most {limit / 1024 / 1024:,.0f} MB. Until you upload a file, the page shows "
                                     "the sample data.")
    side.download_button("Download a template CSV", io.table_csv(report.template_table()),
                         file_name="touchpoints_template.csv", mime="text/csv", on_click="ignore",
                         help="every column the tool understands, with two example rows")
    if upload is None:
        table = cached.touchpoints_from_file(str(sample))
        side.caption(f"Sample data: {len(table)} touchpoints of a made-up company.")
        _data_changed(f"sample:{sample}")
        ss[Key.SOURCE], ss[Key.SAMPLE] = Provenance(sample.name, io.file_sha256(sample)), str(sample)
        return table
    data = upload.getvalue()
    raw, problems = cached.raw_table(data, upload.name, limit)
    if problems is not None:
        _problems(upload.name, problems, "Fix them and upload the file again (or remove it to go back to the sample).")
        return None
    table, choice = column_mapping(upload.name, data, raw)
    if table is None:
        return None
    side.caption(f"{upload.name}: {len(table):,} touchpoints.")
    mapping_id = hashlib.sha256(repr(choice.key()).encode()).hexdigest()[:12]
    _data_changed(f"upload:{hashlib.sha256(data).hexdigest()}:{mapping_id}")
    ss[Key.SOURCE], ss[Key.SAMPLE] = Provenance.of_bytes(upload.name, data), None
    return table


def column_mapping(name: str, data: bytes, raw: RawTable) -> tuple[pd.DataFrame | None, columns.Choice]:
    """Main area: which header of the file is which touchpoint column (pre-filled from the headers), then the
    table checked under that mapping: its problems in place, or what was done to the file on the way."""
    ss = st.session_state
    headers = raw.headers
    file_id = hashlib.sha256(data).hexdigest()
    if ss.get(Key.MAP_FILE) != file_id or Key.MAP + S.TOUCHPOINT not in ss:  # a new file: pre-fill from its headers
        for target, chosen in columns.initial_choices(headers).items():
            ss[Key.MAP + target] = chosen if target in columns.SUMMABLE else (chosen[0] if chosen else NOT_MAPPED)
        ss[Key.MAP_FILE] = file_id
    choice = columns.choose(headers, {t: _chosen(t) for t in (*columns.MAIN, *columns.OPTIONAL)})
    table, problems, notices = cached.mapped_touchpoints(data, name, choice.key())
    with st.expander(f"Columns of {_md(name)}: which is which", expanded=problems is not None):
        st.caption("Pre-filled from your headers. Choose the column of your file that holds each; for numbers you "
                   "may choose several, which are added up (e.g. Leads + Chats = engaged). Leave a column empty "
                   "when your file does not have it.")
        for target, found in columns.ambiguous(headers).items():
            if not choice.mapping.get(target):
                st.warning(f"{' and '.join(_md(repr(h)) for h in found)} could each be **{target}**: choose one.")
        _mapping_widgets(columns.MAIN, headers)
        st.markdown("**Limits, curves and value** (optional)")
        _mapping_widgets(columns.OPTIONAL, headers)
        st.caption(f"The first rows of {_md(name)} as read ({len(raw.data):,} rows, {len(headers)} columns):")
        st.dataframe(raw.data.head(5), hide_index=True, width="stretch")
    if problems is not None:
        _problems(name, problems, "Change the columns above, or fix the file and upload it again.")
    if notices:
        st.info(f"What was done to **{_md(name)}** on the way in:\n\n" + "\n".join(f"- {_md(n)}" for n in notices))
    return table, choice


def _chosen(target: str) -> list[str]:
    value = st.session_state.get(Key.MAP + target)
    if isinstance(value, list):
        return value
    return [] if value in (None, NOT_MAPPED) else [value]


def _mapping_widgets(targets: tuple[str, ...], headers: list[str]) -> None:
    """One widget per touchpoint column, four to a row: a choice of one header, or of several for numbers."""
    for start in range(0, len(targets), 4):
        for column, target in zip(st.columns(4), targets[start:start + 4], strict=False):
            label = target + (" (required)" if target in columns.REQUIRED else "")
            label = f"{S.ENGAGED} (or {S.CPE})" if target == S.ENGAGED else label
            if target in columns.SUMMABLE:
                column.multiselect(label, headers, key=Key.MAP + target, help=columns.DESCRIPTION[target],
                                   placeholder=NOT_MAPPED)
            else:
                column.selectbox(label, [NOT_MAPPED, *headers], key=Key.MAP + target,
                                 help=columns.DESCRIPTION[target])


def _problems(name: str, problems: pd.DataFrame, what_to_do: str) -> None:
    st.error(f"**{_md(name)}** cannot be used yet: {len(problems)} problem(s), listed below with the row and column "
             f"in your file and how to fix each. {what_to_do}")
    st.dataframe(problems, hide_index=True, width="stretch")


def _data_changed(data_id: str) -> None:
    """Forget the widget values that belong to the previous table (today's budget, the target CPE)."""
    ss = st.session_state
    if ss.get(Key.DATA) != data_id:
        for key in DATA_KEYS:
            ss.pop(key, None)
        ss[Key.DATA] = data_id


# ---- scenario (sidebar) ----------------------------------------------------------------------------------------

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
    _scenario_file(folder, today)
    mode = side.radio("Goal", list(Mode), format_func=MODE_LABELS.get, key=Key.MODE)
    keep = target = None
    if mode is Mode.MIN_SPEND:
        keep = side.number_input(f"{units.measure(units.is_weighted(touchpoints[S.VALUE])).capitalize()} to keep "
                                 "(% of today's)", min_value=controls.KEEP_RANGE[0],
                                 max_value=controls.KEEP_RANGE[1], step=1.0, key=Key.KEEP_PCT,
                                 help="100 keeps today's engagement for less money")
    if mode is Mode.TARGET_CPE:
        target = side.number_input("Highest average CPE", min_value=controls.MIN_TARGET_CPE, step=0.1, format="%.2f",
                                   key=Key.TARGET_CPE, help=f"today's average is {fmt.cpe(today['cpe'])}")
    total = _budget(today["spend"], disabled=mode is Mode.MIN_SPEND)
    at_most = side.checkbox("The plan may spend less than the budget", key=Key.AT_MOST,
                            disabled=mode is not Mode.MAX_ENGAGED,
                            help="with a target CPE, the budget is always a ceiling")
    planning = side.radio("Planning", PLANNING, key=Key.PLANNING,
                          help="siloed: every function keeps its share of the budget, as in vertical planning")
    protect = side.toggle("Protect every stage of the journey", key=Key.PROTECT,
                          help="every stage (awareness ... advocacy) keeps at least today's engaged customers")
    scenario = controls.build_scenario(
        budget=controls.budget_from(today["spend"], total, at_most),
        objective=controls.objective_from(mode, keep, target),
        siloed=planning == SILOED, protect_stages=protect, rules=tuple(ss.get(Key.RULES, ())))
    loaded = ss.get(Key.LOADED)
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
    side.button("Load it", on_click=_load_file, args=(today["spend"], today["value"], today["cpe"]),
                disabled=ss.get(Key.LOAD_FILE) is None, key="load_scenario_file",
                help="sets the goal, the budget, the planning style and the rules to the file's")
    error = ss.pop(Key.LOAD_ERROR, None)
    if error:
        side.error(f"Not loaded: {_md(error)}")
    loaded = ss.get(Key.LOADED)
    if loaded is None:
        return
    text = f"Loaded **{_md(loaded.name)}** from {_md(Path(ss[Key.LOADED_FROM]).name)}."
    if library.other_data(loaded, Path(ss[Key.LOADED_FROM]), ss.get(Key.SAMPLE)):
        text += f" It was made for {_md(loaded.data)}; here it plans the data on this page."
    extra = library.without_widgets(loaded)
    if extra:
        text += " It also changes the data, which has no widget here:\n\n" + "\n".join(f"- {_md(x)}" for x in extra)
    side.info(text)
    if extra:
        side.button("Drop these changes", on_click=_forget_file, key="forget_scenario_file",
                    help="keeps the widgets as they are and plans today's data without the file's changes")


def _load_file(today_spend: float, today_value: float, today_cpe: float) -> None:
    """Set every widget the scenario file describes (a callback: it runs before the widgets are drawn)."""
    ss = st.session_state
    path = ss.get(Key.LOAD_FILE)
    if not path:
        return
    try:
        scenario = io.read_scenario(path)
    except (BudgetOptError, OSError, UnicodeDecodeError) as exc:
        ss[Key.LOAD_ERROR] = str(exc)
        return
    w = controls.widgets_for(scenario, today_spend, today_value, today_cpe)
    ss.update({Key.MODE: w.mode, Key.KEEP_PCT: w.keep_pct, Key.TARGET_CPE: w.target_cpe,
               Key.BUDGET_TOTAL: w.budget_total, Key.BUDGET_TEXT: fmt.money(w.budget_total),
               Key.BUDGET_PCT: w.budget_pct, Key.AT_MOST: w.at_most,
               Key.PLANNING: w.planning, Key.PROTECT: w.protect_stages, Key.RULES: list(w.rules), Key.REMOVE: [],
               Key.LOADED: scenario, Key.LOADED_FROM: path, Key.SAVE_NAME: scenario.name,
               Key.SAVE_DESCRIPTION: scenario.description})


def _forget_file() -> None:
    st.session_state.pop(Key.LOADED, None)
    st.session_state.pop(Key.LOADED_FROM, None)


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
        side.error(_md(error))
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
    except ValueError as exc:
        ss[Key.BUDGET_ERROR] = f"Budget not changed: {exc}."
        ss[Key.BUDGET_TEXT] = fmt.money(ss[Key.BUDGET_TOTAL])
        return
    ss[Key.BUDGET_TOTAL] = total
    ss[Key.BUDGET_TEXT] = fmt.money(total)
    ss[Key.BUDGET_PCT] = controls.slider_step(today, total)


# ---- the plan --------------------------------------------------------------------------------------------------

def optimise(touchpoints: pd.DataFrame, scenario: Scenario) -> Plan | None:
    """The plan (cached); a rule that does not fit the data is shown in place and gives no plan."""
    try:
        return cached.plan_for(touchpoints, scenario.model_dump_json())
    except ScenarioError as exc:
        st.error(f"A rule does not fit this data: {_md(str(exc))}. Remove it in the **Rules** tab"
                 + (" (or drop the scenario file's changes in the sidebar)." if scenario.overrides
                    or scenario.add_touchpoints else "."))
    except BudgetOptError as exc:
        st.error(_md(str(exc)))
    return None


def headline(touchpoints: pd.DataFrame, plan: Plan | None) -> None:
    """Cards: the plan against today; today's picture alone (and why) when there is no plan."""
    if plan is not None and plan.ok:
        _cards(report.plan_cards(plan))
        notes = report.plan_notes(plan)
        st.caption("  \n".join(_md(n) for n in notes))
        if plan.basis is not None:
            with st.expander("What this plan rests on: evidence or assumptions"):
                st.markdown("\n".join(f"- {_md(line)}" for line in plan.basis.lines(plan.currency)))
    else:
        if plan is not None:
            no_plan(plan)
        st.caption(_md(report.today_line(touchpoints)))


def no_plan(plan: Plan) -> None:
    """Why no plan exists: the rules that cannot hold together, with their numbers."""
    lines = [f"- {_md(c)}" for c in plan.conflicts]
    lead = "These rules cannot all hold together:" if plan.conflicts else ""
    advice = [f"- {_md(a[:1].upper() + a[1:])}" for a in plan.advice]
    st.error(f"**No plan: {_md(plan.message)}.** {lead}\n\n" + "\n".join(lines)
             + ("\n\n" + "\n".join(advice) if advice else "")
             + "\n\nLoosen or remove one of them: the budget and the goal are in the sidebar, the rules in the "
               "**Rules** tab.")


CARDS_PER_ROW = 5
"""More cards than this go in two even rows: six do not fit a 1,440 px screen beside the sidebar uncut."""


def _cards(cards: list[report.Card]) -> None:
    if len(cards) > CARDS_PER_ROW:
        half = (len(cards) + 1) // 2
        _cards(cards[:half])
        _cards(cards[half:])
        return
    for column, card in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(card.label, card.value, card.delta, card.delta_color, help=card.help, border=True,
                      delta_arrow="off" if card.delta_color == "off" else "auto")


def before_after(plan: Plan) -> None:
    """Bars: spend today and in the plan, by function and by channel."""
    st.subheader("Where the money goes")
    for column, by in zip(st.columns(2), (S.FUNCTION, S.CHANNEL), strict=True):
        with column:
            st.markdown(f"**By {by}**")
            frame = report.before_after(plan, by)
            st.vega_lite_chart(frame, _bars(frame, by), width="stretch")


def _bars(frame: pd.DataFrame, by: str) -> dict:
    """Vega-Lite: today as a wide grey bar, the plan as a narrow blue bar inside it, one row per group.

    A plain spec rather than an Altair chart: Altair validates every spec against the schema, which cost
    0.1 s per rerun with 1,000 touchpoints."""
    order = frame[by].unique().tolist()
    whens = [report.TODAY, report.PLAN]
    return {
        "height": 24 * len(order) + 150,  # the height includes the axes, the legend and their padding
        "encoding": {
            "y": {"field": by, "type": "nominal", "sort": order, "title": None, "axis": {"labelOverlap": False}},
            "x": {"field": "spend", "type": "quantitative", "title": "spend", "axis": {"format": "~s"}},
            "color": {"field": "when", "type": "nominal", "title": None, "legend": {"orient": "top"},
                      "scale": {"domain": whens, "range": [TODAY_COLOR, PLAN_COLOR]}},
            "tooltip": [{"field": by}, {"field": "when"}, {"field": "spend", "format": ",.0f"},
                        {"field": "engaged", "format": ",.0f"}, {"field": "cpe", "title": "CPE", "format": ",.2f"}],
        },
        "layer": [{"transform": [{"filter": {"field": "when", "equal": when}}], "mark": {"type": "bar", "size": size}}
                  for when, size in zip(whens, (18, 8), strict=True)],
    }


def _single_bars(frame: pd.DataFrame, by: str, field: str, title: str, color: str, axis_format: str = "") -> dict:
    """Vega-Lite: one bar per group, in the frame's order."""
    order = frame[by].tolist()
    return {
        "height": 26 * len(order) + 60,  # the height includes the axis
        "mark": {"type": "bar", "color": color},
        "encoding": {
            "y": {"field": by, "type": "nominal", "sort": order, "title": None, "axis": {"labelOverlap": False}},
            "x": {"field": field, "type": "quantitative", "title": title, "axis": {"format": axis_format}},
            "tooltip": [{"field": by}, {"field": S.SPEND, "format": ",.0f"},
                        {"field": "cpe", "title": "CPE", "format": ",.2f"}],
        },
    }


def money_moves(plan: Plan) -> None:
    """Sankey: which function gives how much to which (and what the budget change takes or adds)."""
    st.subheader("Money moving between functions")
    links = report.sankey(plan.transfers)
    if not links.value:
        st.info("No money moves between functions in this plan.")
        return
    figure = go.Figure(go.Sankey(
        valueformat=",.0f",
        node={"label": links.labels, "pad": 18, "thickness": 16, "color": "#94a3b8"},
        textfont={"color": "#111827", "size": 13},
        link={"source": links.source, "target": links.target, "value": links.value, "customdata": links.text,
              "hovertemplate": "%{customdata}<extra></extra>", "color": "rgba(37, 99, 235, 0.35)"},
    ))
    figure.update_layout(height=max(260, 40 * len(links.labels)), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(figure, width="stretch")


def plan_table(plan: Plan) -> None:
    """The plan touchpoint by touchpoint: sortable, numbers formatted, with the marginal CPE."""
    st.subheader("The plan, touchpoint by touchpoint")
    money = st.column_config.NumberColumn(format="localized")
    cpe = st.column_config.NumberColumn(format="%.2f")
    config = {c: money for c in report.MONEY_COLUMNS} | {c: cpe for c in report.CPE_COLUMNS}
    config["change %"] = st.column_config.NumberColumn(format="%+.1f %%")
    config["marginal CPE"] = st.column_config.NumberColumn(
        format="%.2f", help="what one more engaged customer costs here; empty: the touchpoint is at its cap")
    st.dataframe(report.plan_table(plan), hide_index=True, width="stretch", column_config=config, height=420)


def downloads(plan: Plan, touchpoints: pd.DataFrame, scenario: Scenario, folder: Path) -> None:
    """The plan as CSV (the file the command line writes) and as an Excel workbook, and the scenario as TOML."""
    stem = library.download_name(plan.scenario.name).removesuffix(".toml")
    csv, xlsx, toml = st.columns(3)
    csv.download_button("Download the plan (CSV)", partial(io.plan_csv, plan), file_name=f"plan-{stem}.csv",
                        mime="text/csv", on_click="ignore", type="primary", key="download_plan_csv",
                        width="stretch")
    prices = partial(cached.memo("prices").get, _result_key(touchpoints, scenario))  # looked up when clicked
    workbook = partial(_workbook, plan, touchpoints, prices, st.session_state.get(Key.SOURCE))
    xlsx.download_button("Download the plan (Excel)", workbook, file_name=f"plan-{stem}.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                         key="download_plan_xlsx", width="stretch",
                         help="summary, plan, rollups, transfers, rules (with their whole prices once worked out), "
                              "the inputs as used and where they came from")
    to_save = _to_save(scenario, folder)
    toml.download_button("Download the scenario (TOML)", library.toml_bytes(to_save),
                         file_name=library.download_name(to_save.name), mime="application/toml", on_click="ignore",
                         key="download_scenario_toml_plan", width="stretch",
                         help="these settings as a scenario file for `budgetopt run` or to load here later")


def _workbook(plan: Plan, touchpoints: pd.DataFrame, prices: Callable[[], pd.DataFrame | None],
              source: Provenance | None) -> bytes:
    """The Excel workbook of the plan (built when the button is clicked), with the rules' whole prices if known
    by then."""
    prices = prices()
    if prices is not None:
        attach_whole_prices(plan, prices, touchpoints)
    return plan_xlsx_bytes(plan, inputs=plan.inputs, provenance=(source or Provenance()).stamped())


def binding_rules(plan: Plan) -> None:
    """The rules that hold the plan back, most expensive first, each with its price in words."""
    st.subheader("What holds the plan back")
    table = report.binding_table(plan)
    if table.empty:
        st.success("No rule holds this plan back.")
        return
    st.caption("Each price is local: what loosening the rule a little would buy (or save).")
    st.dataframe(table, hide_index=True, width="stretch")


def rule_prices(touchpoints: pd.DataFrame, scenario: Scenario, plan: Plan) -> None:
    """On demand: the whole price of each rule (the plan solved again without it), in words."""
    st.markdown("**The whole price of each rule**")
    st.caption("What the plan would gain if a rule went entirely: the plan is solved again without each rule "
               "that binds (with many touchpoints this takes a while; the bar shows how far it is).")
    prices = _on_demand("prices", _result_key(touchpoints, scenario), "Work out the whole price of each rule",
                        partial(price_rules, touchpoints, scenario, plan, data_limits=PRICED_DATA_LIMITS),
                        key=Key.PRICES_BUTTON,
                        working="Pricing the rules")
    if prices is None:
        return
    table = report.prices_table(prices)
    if table.empty:
        st.success("No rule costs anything: the plan is the same without each of them.")
        return
    free = len(prices) - len(table)
    unit = prices["unit"].iloc[0]
    gain = (f"{unit} the plan would add" if unit in (units.CUSTOMERS, units.WEIGHTED) else "money the plan would save")
    st.caption(f"Whole price: the {gain} without the rule, all else the same."
               + (f" {free} more rule(s) and limits cost nothing." if free else ""))
    st.dataframe(table, hide_index=True, width="stretch")


def silo_costs(touchpoints: pd.DataFrame, scenario: Scenario) -> None:
    """What planning inside each function costs against planning across them: shown when siloed, else on demand."""
    def text_of(progress: None) -> str:  # the two plans from the cache: one of them is on the page already
        horizontal, vertical = (cached.plan_for(touchpoints, scenario.model_copy(update={"siloed": siloed})
                                                .model_dump_json()) for siloed in (False, True))
        return silo_cost(touchpoints, scenario, horizontal, vertical).text()

    text = _on_demand("silos", _result_key(touchpoints, scenario), "What do our silos cost?", text_of,
                      key=Key.SILOS_BUTTON,
                      auto=scenario.siloed, working="Planning with and without silos", steps=False,
                      help="plans the same scenario within each function and across functions, and compares")
    if text is not None:
        st.info(text)


def efficient_frontier(touchpoints: pd.DataFrame, scenario: Scenario) -> None:
    """On demand: the most engagement each budget can buy under these rules, with today and the plan marked."""
    st.subheader("What each budget could buy")
    budgets = budget_range(touchpoints)
    measure = units.measure(units.is_weighted(touchpoints[S.VALUE]))
    st.caption(f"The efficient frontier: the most {measure} any plan under these rules reaches at each budget from "
               f"{fmt.money(budgets[0])} to {fmt.money(budgets[-1])} (50 % to 150 % of today's), with today (the data "
               "as given) and the plan marked.")
    curve = _on_demand("frontier", _result_key(touchpoints, scenario), "Draw the efficient frontier",
                       partial(frontier, touchpoints, scenario, budgets,
                               plan=cached.plan_for(touchpoints, scenario.model_dump_json())),
                       key=Key.FRONTIER_BUTTON,
                       working="Planning each budget", help=f"{len(budgets)} plans, one per budget")
    if curve is None:
        return
    frame = report.frontier_frame(curve)
    st.vega_lite_chart(frame, _frontier_chart(report.frontier_measure(curve)), width="stretch")
    st.caption(_md(report.frontier_words(curve, touchpoints.attrs.get("currency") or scenario.currency)))
    st.download_button("Download the frontier (CSV)", io.table_csv(curve), file_name="frontier.csv", mime="text/csv",
                       on_click="ignore", key="download_frontier_csv")


def _frontier_chart(measure: str) -> dict:
    """Vega-Lite: the frontier as a line with points; today and the plan as large labelled points."""
    marked = {"filter": {"field": "point", "oneOf": ["today", "the plan"]}}
    return {
        "height": 360,
        "encoding": {
            "x": {"field": "budget", "type": "quantitative", "title": "budget", "axis": {"format": "~s"},
                  "scale": {"zero": False}},
            "y": {"field": "engagement", "type": "quantitative", "title": measure,
                  "axis": {"format": "~s"}, "scale": {"zero": False}},
            "tooltip": [{"field": "point"}, {"field": "budget", "format": ",.0f"},
                        {"field": "engagement", "title": measure, "format": ",.0f"},
                        {"field": "engaged customers", "format": ",.0f"},
                        {"field": "marginal CPE", "format": ",.2f"}],
        },
        "layer": [
            {"transform": [{"filter": {"field": "point", "equal": report.FRONTIER}}],
             "mark": {"type": "line", "point": True, "color": PLAN_COLOR}},
            {"transform": [marked], "mark": {"type": "point", "filled": True, "size": 220, "opacity": 1},
             "encoding": {"color": {"field": "point", "type": "nominal", "title": None, "legend": {"orient": "top"},
                                    "scale": {"domain": ["today", "the plan"], "range": [TODAY_MARK, PLAN_MARK]}}}},
            {"transform": [marked], "mark": {"type": "text", "align": "left", "dx": 10, "dy": -10,
                                             "fontWeight": "bold", "fontSize": 13},
             "encoding": {"text": {"field": "point"}}},
        ],
    }


def _result_key(touchpoints: pd.DataFrame, scenario: Scenario) -> tuple[str, str]:
    """What a long result depends on: the table and the scenario."""
    return cached.digest(touchpoints), scenario.model_dump_json()


def _on_demand(kind: str, result_key: Hashable, label: str, compute: Callable, *, key: str, working: str,
               auto: bool = False, steps: bool = True, help: str | None = None) -> object | None:
    """A result this session already has, or a button that computes it (with a progress bar) and remembers it.

    `compute(progress)` gets a callback `progress(done, total)` when `steps`; otherwise a spinner turns."""
    done = cached.recall(kind, result_key)
    if done is not None:
        return done
    slot = st.empty()
    if not (auto or slot.button(label, key=key, help=help)):
        return None
    slot.empty()  # the button has done its work; the result takes its place
    try:
        if steps:
            bar = st.progress(0.0, text=f"{working}...")
            value = compute(progress=lambda n, total: bar.progress(n / total if total else 1.0,
                                                                   text=f"{working}: {n:,} of {total:,}"))
            bar.empty()
        else:
            with st.spinner(f"{working}..."):
                value = compute(None)
    except BudgetOptError as exc:
        st.error(_md(str(exc)))
        return None
    cached.keep(kind, result_key, value)
    return value


# ---- today -----------------------------------------------------------------------------------------------------

def today_section(touchpoints: pd.DataFrame) -> None:
    """Today's picture: the totals, then by function, channel, stage or a tag: a table and the spend and CPE bars."""
    _cards(report.today_cards(touchpoints))
    by = st.radio("Break down by", controls.group_columns(touchpoints), horizontal=True, key=Key.TODAY_BY)
    frame = report.rollup(touchpoints, by)
    left, right = st.columns([3, 2])
    with left:
        config = {S.SPEND: st.column_config.NumberColumn("spend", format="localized"),
                  S.ENGAGED: st.column_config.NumberColumn("engaged", format="localized"),
                  "share": st.column_config.NumberColumn("share of budget", format="percent"),
                  "cpe": st.column_config.NumberColumn("CPE", format="%.2f")}
        st.dataframe(frame, hide_index=True, width="stretch", column_config=config)
    with right:
        st.vega_lite_chart(frame, _single_bars(frame, by, S.SPEND, "spend", TODAY_COLOR, "~s"), width="stretch")
        st.vega_lite_chart(frame, _single_bars(frame, by, "cpe", "cost per engaged customer (CPE)", PLAN_COLOR),
                           width="stretch")


# ---- rules -----------------------------------------------------------------------------------------------------

def rules_section(touchpoints: pd.DataFrame, scenario: Scenario) -> None:
    """A form to add a rule (floor, cap, share, limit on change, lock, engagement) and the list of rules, with
    each rule's whole price once it has been worked out (Plan tab)."""
    st.caption("Rules limit where money may go. Each applies to a function, channel, stage, tag or one touchpoint; "
               "the plan updates as soon as you add or remove one.")
    with st.form("add_rule", border=True):
        left, middle, right = st.columns([3, 3, 2])
        left.selectbox("Applies to", controls.rule_targets(touchpoints), key=Key.RULE_TARGET)
        middle.selectbox("Limit", [limit.label for limit in LIMITS], key=Key.RULE_LIMIT,
                         help="\n".join(f"- {limit.label}: {limit.help}" for limit in LIMITS))
        right.number_input("Number", value=0.0, step=1.0, key=Key.RULE_VALUE,
                           help="money for spend limits, percent for shares and changes (-20 = 20 % less)")
        st.form_submit_button("Add rule", on_click=_add_rule, type="primary")
    error = st.session_state.pop(Key.RULE_ERROR, None)
    if error:
        st.error(f"The rule was not added: {_md(error)}")
    rules = st.session_state.get(Key.RULES, [])
    if not rules:
        st.info("No rules yet: the plan may move money anywhere within each touchpoint's own limits from the data.")
        return
    words = [controls.describe(rule) for rule in rules]
    table = pd.DataFrame({"#": range(1, len(rules) + 1), "rule": words})
    prices = cached.recall("prices", _result_key(touchpoints, scenario))
    if prices is not None and len(scenario.rules) == len(rules):
        table["whole price"] = report.scenario_rule_prices(prices, len(rules))
    st.dataframe(table, hide_index=True, width="stretch")
    if prices is None:
        st.caption("What each rule costs in all: **Work out the whole price of each rule** in the Plan tab.")
    st.multiselect("Rules to remove", list(range(len(rules))), format_func=lambda i: f"{i + 1}. {words[i]}",
                   key=Key.REMOVE)
    left, right = st.columns(2)
    left.button("Remove selected rules", on_click=_remove_rules)
    right.button("Remove all rules", on_click=_clear_rules)


def _add_rule() -> None:
    ss = st.session_state
    try:
        rule = controls.make_rule(ss[Key.RULE_TARGET], ss[Key.RULE_LIMIT], ss[Key.RULE_VALUE])
    except ScenarioError as exc:
        ss[Key.RULE_ERROR] = str(exc)
        return
    ss[Key.RULES] = [*ss.get(Key.RULES, []), rule]


def _remove_rules() -> None:
    ss = st.session_state
    drop = set(ss.get(Key.REMOVE, []))
    ss[Key.RULES] = [rule for i, rule in enumerate(ss.get(Key.RULES, [])) if i not in drop]
    ss[Key.REMOVE] = []


def _clear_rules() -> None:
    st.session_state[Key.RULES] = []
    st.session_state[Key.REMOVE] = []


# ---- scenario files --------------------------------------------------------------------------------------------

def save_scenario(scenario: Scenario, folder: Path) -> None:
    """Save the current settings as a scenario file in the folder (asking before replacing one), or download them."""
    ss = st.session_state
    st.subheader("Save these settings")
    st.caption(f"As a scenario file in {folder.name}/: it appears under 'Start from a scenario file' in the sidebar, "
               "and `budgetopt run` reads it.")
    left, right = st.columns([2, 3])
    name = left.text_input("Name", key=Key.SAVE_NAME, max_chars=120, placeholder="e.g. Cut 10 %, protect service")
    right.text_input("Description (optional)", key=Key.SAVE_DESCRIPTION, max_chars=500,
                     placeholder="what the scenario asks, in a sentence")
    to_save = _to_save(scenario, folder)
    path, problem = None, None
    if name.strip():
        try:
            path = library.path_for(folder, name)
        except ScenarioError as exc:
            problem = str(exc)
    if problem:
        st.error(_md(problem))
    replace = False
    if path is not None:
        where = f"{folder.name}/{path.name}"
        data = f" It reads the data from {to_save.data}." if to_save.data else (
            " Your uploaded file is not saved with it: the scenario holds the settings, not the data.")
        st.caption(f"Saves to {where}.{_md(data)}")
        if path.exists():
            st.warning(f"{where} already exists. Saving replaces it; what it holds now is lost.")
            replace = st.checkbox("Replace it", key=f"{Key.SAVE_REPLACE}:{path.name}:{ss.get(Key.SAVES, 0)}")
    left, right = st.columns(2)
    if left.button("Save", type="primary", disabled=path is None, key="save_scenario", width="stretch"):
        _save(to_save, path, replace, folder)
    right.download_button("Download as TOML", library.toml_bytes(to_save),
                          file_name=library.download_name(to_save.name), mime="application/toml", on_click="ignore",
                          key="download_scenario_toml", width="stretch")
    kind, message = ss.pop(Key.SAVE_MESSAGE, (None, None))
    if kind == "success":
        st.success(message)
    elif kind == "error":
        st.error(message)


def _save(to_save: Scenario, path: Path, replace: bool, folder: Path) -> None:
    """Write the file (an existing one only when the box was ticked), then redraw so the sidebar lists it."""
    ss = st.session_state
    try:
        library.save(to_save, path, replace)
    except (BudgetOptError, OSError) as exc:
        ss[Key.SAVE_MESSAGE] = ("error", f"Not saved: {_md(str(exc))}")
    else:
        ss[Key.SAVE_MESSAGE] = ("success", f"Saved {folder.name}/{path.name}.")
        ss[Key.SAVES] = ss.get(Key.SAVES, 0) + 1  # the next replacement needs a fresh tick
    st.rerun()


def _to_save(scenario: Scenario, folder: Path) -> Scenario:
    """The current settings as they go into a file: the name and description typed, the sample's path if shown."""
    ss = st.session_state
    sample = ss.get(Key.SAMPLE)
    return library.for_saving(scenario, ss.get(Key.SAVE_NAME) or "",
                              ss.get(Key.SAVE_DESCRIPTION, scenario.description) or "",
                              Path(sample) if sample else None, folder)


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
            st.error(f"**{_md(label)}** cannot be planned on this data: {_md(str(exc))}")
    if not plans:
        return
    table = compare(plans, labels)
    shown = report.compare_table(table)
    st.dataframe(shown, hide_index=True, width="stretch", height=35 * (len(shown) + 1) + 3)  # every row, no scroll
    bars = report.compare_bars(table)
    for column, (figure, color) in zip(st.columns(2), (("budget", TODAY_MARK), ("engaged customers", PLAN_COLOR)),
                                       strict=True):
        frame = bars[bars["figure"] == figure]
        if not frame.empty:
            column.vega_lite_chart(frame, _compare_chart(figure, color, [str(c) for c in table.columns]),
                                   width="stretch")


def _compare_chart(figure: str, color: str, order: list[str]) -> dict:
    """Vega-Lite: one bar per scenario, in the order chosen."""
    return {
        "height": 34 * len(order) + 50,
        "title": {"text": figure, "anchor": "start", "fontSize": 13},
        "mark": {"type": "bar", "color": color},
        "encoding": {
            "y": {"field": "scenario", "type": "nominal", "sort": order, "title": None,
                  "axis": {"labelOverlap": False, "labelLimit": 220}},
            "x": {"field": "value", "type": "quantitative", "title": None, "axis": {"format": "~s"}},
            "tooltip": [{"field": "scenario"}, {"field": "value", "title": figure, "format": ",.0f"}],
        },
    }


def _md(text: str) -> str:
    """Text shown through Markdown as typed: no emphasis, links or formulas from names in the data."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~$])", r"\\\1", text)
