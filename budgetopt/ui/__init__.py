"""The browser front end's building blocks (app.py at the repository root is the page itself).

- `format`: numbers for people (money with thousands separators, percentages, CPE).
- `controls`: widget values -> a Scenario and its Rules, and rules back into words (pure, no Streamlit).
- `report`: the figures and chart frames the page shows: cards, rollups, before/after, Sankey links (pure).
- `charts`: the page's Vega-Lite chart specs (pure); `svg`: the Sankey and the bars as SVG (pure).
- `link`: the page's settings to and from its address (pure); `printing`: the print stylesheet and print-only
  tables (pure); `board_report`: the one-page report as HTML and PDF.
- `cached`: the cached pure calls (sample data, upload parsing, the optimise call).
- `views/`: the Streamlit sections, one module per place on the page (sidebar, headline, each tab).
"""
