"""budgetopt in the browser: today's engagement budget, a what-if scenario, and the plan that follows.

Run it with `.venv/bin/streamlit run app.py`. Each line below is one section of the page; the sections
live in budgetopt/ui/views.py and every figure they show is computed in budgetopt/ui/report.py.
"""

from pathlib import Path

import streamlit as st

from budgetopt.ui import library, views

SAMPLE = Path(__file__).parent / "data" / "sample_touchpoints.csv"
SCENARIOS = library.folder(Path(__file__).parent / "scenarios")  # or $BUDGETOPT_SCENARIOS

st.set_page_config(page_title="budgetopt: engagement budget", page_icon=":bar_chart:", layout="wide")
st.title("Engagement budget across functions")
st.caption("Where does the same money engage more customers, and how can the same engagement cost less? "
           "Set the budget, the goal and the rules on the left; the plan follows.")

# Sidebar: the sample data or your own CSV or Excel file; an upload gets a column-mapping step here, in the
# main area, and its problems are listed here too.
touchpoints = views.data_source(SAMPLE)
if touchpoints is None:
    st.stop()

# Sidebar: a scenario file to start from, the goal, the budget, siloed or horizontal, protect the journey stages
# (+ the rules from the Rules tab).
scenario = views.scenario_controls(touchpoints, SCENARIOS)
plan = views.optimise(touchpoints, scenario)

# Headline: the plan against today (or today's picture and the rules that conflict).
views.headline(touchpoints, plan)

plan_tab, today_tab, rules_tab, scenarios_tab = st.tabs(["Plan", "Today", "Rules", "Scenarios"])

with plan_tab:
    if plan is not None and plan.ok:
        views.before_after(plan)
        views.money_moves(plan)
        views.silo_costs(touchpoints, scenario)
        views.plan_table(plan)
        views.downloads(plan, touchpoints, scenario, SCENARIOS)
        views.binding_rules(plan)
        views.rule_prices(touchpoints, scenario, plan)
        views.efficient_frontier(touchpoints, scenario)
    else:
        st.info("No plan to show: see why above.")

with today_tab:
    views.today_section(touchpoints)

with rules_tab:
    views.rules_section(touchpoints, scenario)

with scenarios_tab:
    views.save_scenario(scenario, SCENARIOS)
    views.compare_scenarios(touchpoints, scenario, SCENARIOS)
