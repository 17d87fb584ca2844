"""One Streamlit function per section of the page; app.py calls them in the order a person reads the page.

The arithmetic lives in `report` and `controls`; these functions only lay out widgets and draw.
Widget values live in st.session_state under the keys in `Key`, so tests (and later, loading a
scenario file) can set them by name.
"""

from __future__ import annotations

import hashlib
import re
from functools import partial
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from .. import io
from .. import schema as S
from ..errors import BudgetOptError, ScenarioError
from ..plan import Plan
from ..scenario import Mode, Scenario
from . import cached, controls, report
from . import format as fmt
from .controls import LIMITS, MODE_LABELS, PLANNING, SILOED


class Key:
    """Session-state keys of the widgets."""

    DATA = "data_id"
    UPLOAD = "upload"
    MODE = "mode"
    KEEP_PCT = "keep_engaged_pct"
    TARGET_CPE = "target_cpe"
    BUDGET_PCT = "budget_pct"
    BUDGET_TOTAL = "budget_total"
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


DATA_KEYS = (Key.BUDGET_PCT, Key.BUDGET_TOTAL, Key.TARGET_CPE, Key.RULE_TARGET)
"""Widgets whose value depends on the data: reset when another table is loaded."""
TODAY_COLOR, PLAN_COLOR = "#a3acb9", "#2563eb"


# ---- data ------------------------------------------------------------------------------------------------------

def upload_limit() -> int:
    """Largest upload in bytes: the server's limit (server.maxUploadSize, in MB) and the reader's, whichever is less."""
    return min(io.MAX_INPUT_BYTES, int(st.get_option("server.maxUploadSize")) * 1024 * 1024)


def data_source(sample: Path) -> pd.DataFrame | None:
    """Sidebar: the sample, or the person's own CSV. Problems with an upload are listed in the main area."""
    side = st.sidebar
    side.header("Data")
    limit = upload_limit()
    upload = side.file_uploader("Your touchpoint CSV (optional)", type=["csv"], key=Key.UPLOAD,
                                help=f"One row per touchpoint; at most {limit / 1024 / 1024:,.0f} MB. "
                                     "Until you upload a file, the page shows the sample data.")
    side.download_button("Download a template CSV", io.table_csv(report.template_table()),
                         file_name="touchpoints_template.csv", mime="text/csv", on_click="ignore",
                         help="every column the tool understands, with two example rows")
    if upload is None:
        table = cached.touchpoints_from_file(str(sample))
        side.caption(f"Sample data: {len(table)} touchpoints of a made-up company.")
        _data_changed(f"sample:{sample}")
        return table
    data = upload.getvalue()
    table, problems = cached.touchpoints_from_upload(data, upload.name, limit)
    if problems is not None:
        st.error(f"**{_md(upload.name)}** cannot be used yet: {len(problems)} problem(s), listed below with the row "
                 "and column in your file and how to fix each. Fix them and upload the file again "
                 "(or remove it to go back to the sample).")
        st.dataframe(problems, hide_index=True, width="stretch")
        return None
    side.caption(f"{upload.name}: {len(table):,} touchpoints.")
    _data_changed("upload:" + hashlib.sha256(data).hexdigest())
    return table


def _data_changed(data_id: str) -> None:
    """Forget the widget values that belong to the previous table (today's budget, the target CPE)."""
    ss = st.session_state
    if ss.get(Key.DATA) != data_id:
        for key in DATA_KEYS:
            ss.pop(key, None)
        ss[Key.DATA] = data_id


# ---- scenario (sidebar) ----------------------------------------------------------------------------------------

def scenario_controls(touchpoints: pd.DataFrame) -> Scenario:
    """Sidebar: the goal, the budget (slider or exact amount), siloed or horizontal, protect the stages."""
    side = st.sidebar
    today = report.today_figures(touchpoints)
    ss = st.session_state
    ss.setdefault(Key.KEEP_PCT, 100.0)
    ss.setdefault(Key.TARGET_CPE, round(today["cpe"], 2))
    side.header("Scenario")
    mode = side.radio("Goal", list(Mode), format_func=MODE_LABELS.get, key=Key.MODE)
    keep = target = None
    if mode is Mode.MIN_SPEND:
        keep = side.number_input("Engaged customers to keep (% of today)", min_value=1.0, max_value=1000.0,
                                 step=1.0, key=Key.KEEP_PCT, help="100 keeps today's engagement for less money")
    if mode is Mode.TARGET_CPE:
        target = side.number_input("Highest average CPE", min_value=0.01, step=0.1, format="%.2f",
                                   key=Key.TARGET_CPE, help=f"today's average is {fmt.cpe(today['cpe'])}")
    total = _budget(today["spend"], disabled=mode is Mode.MIN_SPEND)
    at_most = side.checkbox("The plan may spend less than the budget", key=Key.AT_MOST,
                            disabled=mode is not Mode.MAX_ENGAGED,
                            help="with a target CPE, the budget is always a ceiling")
    planning = side.radio("Planning", PLANNING, key=Key.PLANNING,
                          help="siloed: every function keeps its share of the budget, as in vertical planning")
    protect = side.toggle("Protect every stage of the journey", key=Key.PROTECT,
                          help="every stage (awareness ... advocacy) keeps at least today's engaged customers")
    return controls.build_scenario(
        budget=controls.budget_from(today["spend"], total, at_most),
        objective=controls.objective_from(mode, keep, target),
        siloed=planning == SILOED, protect_stages=protect, rules=tuple(ss.get(Key.RULES, ())))


def _budget(today: float, disabled: bool) -> float:
    """The budget slider (percent against today) and the exact amount, kept in step with each other."""
    side, ss = st.sidebar, st.session_state
    ss.setdefault(Key.BUDGET_TOTAL, float(round(today)))
    ss.setdefault(Key.BUDGET_PCT, controls.slider_step(today, ss[Key.BUDGET_TOTAL]))
    low, high = controls.BUDGET_STEPS
    side.slider("Budget against today", low, high, step=1, format="%+d %%", key=Key.BUDGET_PCT,
                on_change=_slid, args=(today,), disabled=disabled)
    side.number_input("Budget (exact amount)", min_value=0.0, step=10_000.0, format="%.0f", key=Key.BUDGET_TOTAL,
                      on_change=_typed, args=(today,), disabled=disabled)
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


def _typed(today: float) -> None:
    ss = st.session_state
    ss[Key.BUDGET_PCT] = controls.slider_step(today, ss[Key.BUDGET_TOTAL])


# ---- the plan --------------------------------------------------------------------------------------------------

def optimise(touchpoints: pd.DataFrame, scenario: Scenario) -> Plan | None:
    """The plan (cached); a rule that does not fit the data is shown in place and gives no plan."""
    try:
        return cached.plan_for(touchpoints, scenario.model_dump_json())
    except ScenarioError as exc:
        st.error(f"A rule does not fit this data: {_md(str(exc))}. Remove it in the **Rules** tab.")
    except BudgetOptError as exc:
        st.error(_md(str(exc)))
    return None


def headline(touchpoints: pd.DataFrame, plan: Plan | None) -> None:
    """Cards: the plan against today; today's picture alone (and why) when there is no plan."""
    if plan is not None and plan.ok:
        _cards(report.plan_cards(plan))
    elif plan is not None:
        no_plan(plan)
    st.caption(report.today_line(touchpoints))


def no_plan(plan: Plan) -> None:
    """Why no plan exists: the rules that cannot hold together, with their numbers."""
    lines = [f"- {_md(c)}" for c in plan.conflicts]
    lead = "These rules cannot all hold together:" if plan.conflicts else ""
    advice = [f"- {_md(a[:1].upper() + a[1:])}" for a in plan.advice]
    st.error(f"**No plan: {_md(plan.message)}.** {lead}\n\n" + "\n".join(lines)
             + ("\n\n" + "\n".join(advice) if advice else "")
             + "\n\nLoosen or remove one of them: the budget and the goal are in the sidebar, the rules in the "
               "**Rules** tab.")


def _cards(cards: list[report.Card]) -> None:
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


def download_plan(plan: Plan) -> None:
    """The plan as CSV, the same file the command line writes."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", plan.scenario.name).strip("-").lower() or "plan"
    st.download_button("Download the plan (CSV)", partial(io.plan_csv, plan), file_name=f"plan-{name}.csv",
                       mime="text/csv", on_click="ignore", type="primary", key="download_plan_csv")


def binding_rules(plan: Plan) -> None:
    """The rules that hold the plan back, most expensive first, each with its price in words."""
    st.subheader("What holds the plan back")
    table = report.binding_table(plan)
    if table.empty:
        st.success("No rule holds this plan back.")
        return
    st.caption("Each price is local: what loosening the rule a little would buy (or save).")
    st.dataframe(table, hide_index=True, width="stretch")


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

def rules_section(touchpoints: pd.DataFrame) -> None:
    """A form to add a rule (floor, cap, share, limit on change, lock, engagement) and the list of rules."""
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
    st.dataframe(pd.DataFrame({"#": range(1, len(rules) + 1), "rule": words}), hide_index=True, width="stretch")
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


def _md(text: str) -> str:
    """Text shown through Markdown as typed: no emphasis, links or formulas from names in the data."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~$])", r"\\\1", text)
