"""The Curves tab: per touchpoint, what its curve rests on, the evidence, the fit's band, the range observed and where
the plan puts it; the weakest fits first."""

from __future__ import annotations

import streamlit as st

from ...plan import Plan
from .. import charts, curve_view
from .shared import md
from .state import Key


def curves_section(plan: Plan) -> None:
    """A table of every touchpoint's curve, weakest first, and the chart of the one chosen."""
    evidence = st.session_state.get(Key.EVIDENCE)
    table = curve_view.curves_table(plan, evidence)
    st.caption("Where each touchpoint's curve comes from and how well it fits, weakest first: a plan is only as sure "
               "as the curves it moves money along. 'Beyond seen': the plan gives it more than the most spent on it in "
               "the evidence.")
    money = st.column_config.NumberColumn(format="localized")
    config = {"spend today": money, "spend in plan": money,
              "periods": st.column_config.NumberColumn(help="periods of the history with spend", format="%d"),
              "beyond seen": st.column_config.TextColumn(help="the plan gives it more than the most spent on it in "
                                                              "the evidence")}
    st.dataframe(table, hide_index=True, width="stretch", height=min(420, 35 * (len(table) + 1) + 3),
                 column_config=config)
    names = table["touchpoint"].tolist()
    if st.session_state.get(Key.CURVE_SHOWN) not in names:
        st.session_state[Key.CURVE_SHOWN] = names[0]
    name = st.selectbox("Show the curve of", names, key=Key.CURVE_SHOWN)
    frames = curve_view.curve_frames(name, plan, evidence)
    st.vega_lite_chart(charts.curve_data(frames), charts.curve_chart(frames["per"], "lower" in frames["line"]),
                       width="stretch")
    st.caption(md(frames["note"]))
