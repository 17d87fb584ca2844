"""The Rules tab: a form to add a rule to any function, channel, stage, tag or touchpoint, and the list of rules
with each one's whole price once it has been worked out (in the Plan tab)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ... import schema as S
from ...errors import ScenarioError
from ...scenario import Scenario
from .. import cached, controls, report
from ..controls import LIMITS
from .shared import md, result_key
from .state import Key


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
        right.number_input("Number", value=None, min_value=-S.MAX_AMOUNT, max_value=S.MAX_AMOUNT, step=1.0,
                           key=Key.RULE_VALUE, placeholder="e.g. 500000 or -20",
                           help="money for spend limits, percent for shares and changes (-20 = 20 % less); empty "
                                "until you type one, so no limit is set to 0 by accident")
        st.form_submit_button("Add rule", on_click=_add_rule, type="primary")
    error = st.session_state.pop(Key.RULE_ERROR, None)
    if error:
        st.error(f"The rule was not added: {md(error)}")
    rules = st.session_state.get(Key.RULES, [])
    if not rules:
        st.info("No rules yet: the plan may move money anywhere within each touchpoint's own limits from the data.")
        return
    words = [controls.describe(rule) for rule in rules]
    table = pd.DataFrame({"#": range(1, len(rules) + 1), "rule": words})
    prices = cached.recall("prices", result_key(touchpoints, scenario))
    if prices is not None and len(scenario.rules) == len(rules):
        table["whole price"] = report.scenario_rule_prices(prices, len(rules))
    st.table(table, hide_index=True)  # long names wrap, nothing is cut
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
