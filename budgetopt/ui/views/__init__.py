"""The page's sections as Streamlit functions, one module per place on the page (app.py calls them in the
order a person reads the page):

- `sidebar_data`: the sample or an upload, and the upload's column-mapping step.
- `sidebar_scenario`: a scenario file to start from, the goal, the budget, the planning style.
- `headline`: the plan against today above the tabs (or why there is no plan).
- `plan_tab`, `today_tab`, `rules_tab`, `scenarios_tab`: one module per tab.
- `shared`: what every section draws the same way (cards, on-demand results, text from the data).
- `state`: the session-state keys of every widget.

The figures they show are computed without Streamlit, in `budgetopt/ui/report.py`, `controls.py`, `charts.py`.
A new tab (curves, periods) gets a module of its own here and a line in app.py.
"""
