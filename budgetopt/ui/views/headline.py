"""Above the tabs: the plan against today in headline cards, with what it rests on; or, when no plan exists,
today's picture and the rules that conflict, with their numbers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...errors import BudgetOptError, ScenarioError
from ...plan import Plan
from ...risk import TAIL
from ...rule_words import conflict_words
from ...scenario import Scenario
from .. import cached, report
from .how_sure import BEST, DRAWS, GOAL_KEY, PROTECT, UNCERTAINTY, UNCERTAINTY_KEY, evidence_behind, protected_plan
from .shared import cards, md


def optimise(touchpoints: pd.DataFrame, scenario: Scenario) -> Plan | None:
    """The plan (cached); a rule that does not fit the data is shown in place and gives no plan."""
    try:
        return cached.plan_for(touchpoints, scenario.model_dump_json())
    except ScenarioError as exc:
        st.error(f"A rule does not fit this data: {md(str(exc))}. Remove it in the **Rules** tab"
                 + (" (or drop the scenario file's changes in the sidebar)." if scenario.overrides
                    or scenario.add_touchpoints else "."))
    except BudgetOptError as exc:
        st.error(md(str(exc)))
    return None


def shown_plan(touchpoints: pd.DataFrame, plan: Plan) -> tuple[Plan, str]:
    """The plan the page shows: the plan best on average, or, where 'Plan for' is set to protect the downside,
    the protected plan (the headline cards follow it, as the 'how sure' section does); and a line saying which."""
    ss = st.session_state
    if ss.get(GOAL_KEY) != PROTECT or getattr(plan, "by_period", None) is not None:
        return plan, ""
    try:
        protected = protected_plan(touchpoints, plan.scenario.model_dump_json(),
                                   ss.get(UNCERTAINTY_KEY, UNCERTAINTY) / 100, *evidence_behind(touchpoints))
    except BudgetOptError:
        protected = None
    if protected is None or not protected.ok:
        return plan, ("The cards show the plan best on average: no plan protecting the downside exists here (see "
                      "How sure below).")
    return protected, (f"The cards show the plan protecting the downside (the best average of the worst "
                       f"{TAIL:.0%} of {DRAWS:,} draws of the curves), as chosen under 'Plan for' below; switch to "
                       f"'{BEST}' for the plan best on average.")


def headline(touchpoints: pd.DataFrame, plan: Plan | None) -> None:
    """Cards: the plan against today (the protected plan when 'Plan for' says so); today's picture alone (and why)
    when there is no plan."""
    if plan is not None and plan.ok:
        plan, which = shown_plan(touchpoints, plan)
        if which:
            st.info(md(which))
        summary = plan.summary()  # once: the cards and the lines under them
        cards(report.plan_cards(plan, summary))
        notes = report.plan_notes(plan, summary)
        st.caption("  \n".join(md(n) for n in notes))
        if plan.basis is not None:
            with st.expander("What this plan rests on: evidence or assumptions"):
                st.markdown("\n".join(f"- {md(line)}" for line in plan.basis.lines(plan.currency)))
    else:
        if plan is not None:
            no_plan(plan, touchpoints)
        st.caption(md(report.today_line(touchpoints)))


def no_plan(plan: Plan, touchpoints: pd.DataFrame | None = None) -> None:
    """Why no plan exists: the rules that cannot hold together, with their numbers, in the words of the Rules tab
    (rule_words.conflict_words)."""
    conflicts, advice = (conflict_words(plan, touchpoints) if touchpoints is not None
                         else (plan.conflicts, plan.advice))
    lines = [f"- {md(c)}" for c in conflicts]
    lead = "These rules cannot all hold together:" if conflicts else ""
    advice = [f"- {md(a[:1].upper() + a[1:])}" for a in advice]
    st.error(f"**No plan: {md(plan.message)}.** {lead}\n\n" + "\n".join(lines)
             + ("\n\n" + "\n".join(advice) if advice else "")
             + "\n\nLoosen or remove one of them: the budget and the goal are in the sidebar, the rules in the "
               "**Rules** tab.")
