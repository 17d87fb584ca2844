"""budgetopt in the browser: today's engagement budget, a what-if scenario, and the plan that follows.

Run it with `.venv/bin/streamlit run app.py`. Each line below is one section of the page; the sections
live in budgetopt/ui/views/ (one module per place on the page) and every figure they show is computed in
budgetopt/ui/report.py.
"""

from pathlib import Path

import streamlit as st

from budgetopt.ui import library, printing
from budgetopt.ui.views import (
    curves_tab,
    headline,
    history,
    how_sure,
    periods,
    plan_tab,
    rules_tab,
    scenarios_tab,
    today_tab,
)
from budgetopt.ui.views import sidebar_data as data
from budgetopt.ui.views import sidebar_scenario as sidebar

SAMPLE = Path(__file__).parent / "data" / "sample_touchpoints.csv"
SCENARIOS = library.folder(Path(__file__).parent / "scenarios")  # or $BUDGETOPT_SCENARIOS

st.set_page_config(page_title="budgetopt: engagement budget", page_icon=":bar_chart:", layout="wide")
st.html(printing.STYLE)  # on paper: no sidebar or buttons, whole width, nothing split, tables printed whole
st.title("Engagement budget across functions")
st.caption("Where does the same money engage more customers, and how can the same engagement cost less? "
           "Set the budget, the goal and the rules on the left; the plan follows.")

# Sidebar: the sample data or your own CSV or Excel file; an upload gets a column-mapping step here, in the
# main area, and its problems are listed here too.
touchpoints = data.data_source(SAMPLE)
if touchpoints is None:
    st.stop()

# The settings a link or a reload brings back (they live in the page's address).
history.restore(touchpoints, SCENARIOS)

# Sidebar: step back, a scenario file to start from (asking first over unsaved changes), the goal, the budget,
# siloed or horizontal, protect the journey stages (+ the rules from the Rules tab).
scenario = sidebar.scenario_controls(touchpoints, SCENARIOS)
touchpoints = data.for_scenario(touchpoints, scenario)  # a plan over periods on a history: its seasonality
plan = headline.optimise(touchpoints, scenario)

# Headline: the plan against today (or today's picture and the rules that conflict).
headline.headline(touchpoints, plan)
how_sure.how_sure(touchpoints, scenario, plan)  # its range over draws of the curves; best on average or protected

plan_view, curves_view, today_view, rules_view, scenarios_view = st.tabs(
    ["Plan", "Curves", "Today", "Rules", "Scenarios"])

with plan_view:
    if plan is not None and plan.ok:
        plan_tab.before_after(plan)
        plan_tab.money_moves(plan)
        periods.period_views(plan)  # a plan over time: its periods, a touchpoint x period heat map, transfers
        plan_tab.why_moves(touchpoints, scenario)
        plan_tab.silo_costs(touchpoints, scenario)
        plan_tab.plan_table(plan)
        plan_tab.downloads(plan, touchpoints, scenario, SCENARIOS)
        plan_tab.binding_rules(touchpoints, scenario)
        plan_tab.rule_prices(touchpoints, scenario, plan)
        plan_tab.efficient_frontier(touchpoints, scenario)
    else:
        st.info("No plan to show: see why above.")

with curves_view:  # each touchpoint's curve: the evidence, the fit's band, the range observed, the plan on it
    if plan is not None and plan.ok:
        curves_tab.curves_section(plan)

with today_view:
    today_tab.today_section(touchpoints, scenario.currency)

with rules_view:
    rules_tab.rules_section(touchpoints, scenario)

with scenarios_view:
    scenarios_tab.save_scenario(scenario, SCENARIOS)
    scenarios_tab.compare_scenarios(touchpoints, scenario, SCENARIOS)

# The settings into the page's address and the list 'Step back' goes through.
history.remember(touchpoints)
