"""budgetopt in the browser: today's engagement budget, a what-if scenario, and the plan that follows.

Run it with `.venv/bin/streamlit run app.py`. Each line below is one section of the page; the sections
live in budgetopt/ui/views.py and every figure they show is computed in budgetopt/ui/report.py.
"""

from pathlib import Path

import streamlit as st

from budgetopt.ui import views

SAMPLE = Path(__file__).parent / "data" / "sample_touchpoints.csv"

st.set_page_config(page_title="budgetopt: engagement budget", page_icon=":bar_chart:", layout="wide")
st.title("Engagement budget across functions")
st.caption("Where does the same money engage more customers, and how can the same engagement cost less? "
           "Set the budget, the goal and the rules on the left; the plan follows.")

# Sidebar: the sample data or your own CSV (problems with it are listed here, in the main area).
touchpoints = views.data_source(SAMPLE)
if touchpoints is None:
    st.stop()

# Sidebar: goal, budget, siloed or horizontal, protect the journey stages (+ the rules from the Rules tab).
scenario = views.scenario_controls(touchpoints)
plan = views.optimise(touchpoints, scenario)

# Headline: the plan against today (or today's picture and the rules that conflict).
views.headline(touchpoints, plan)

plan_tab, today_tab, rules_tab = st.tabs(["Plan", "Today", "Rules"])

with plan_tab:
    if plan is not None and plan.ok:
        views.before_after(plan)
        views.money_moves(plan)
        views.plan_table(plan)
        views.download_plan(plan)
        views.binding_rules(plan)
    else:
        st.info("No plan to show: see why above.")

with today_tab:
    views.today_section(touchpoints)

with rules_tab:
    views.rules_section(touchpoints)
