"""The Today tab: the data as given, in totals and by function, channel, stage or a tag."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ... import schema as S
from .. import charts, controls, printing, report
from .shared import cards
from .state import Key


def today_section(touchpoints: pd.DataFrame, currency: str | None = None) -> None:
    """Today's picture: the totals, then by function, channel, stage or a tag: a table and the spend and CPE bars."""
    cards(report.today_cards(touchpoints, currency))
    by = st.radio("Break down by", controls.group_columns(touchpoints), horizontal=True, key=Key.TODAY_BY)
    frame = report.rollup(touchpoints, by)
    left, right = st.columns([3, 2])
    with left:
        config = {S.SPEND: st.column_config.NumberColumn("spend", format="localized"),
                  S.ENGAGED: st.column_config.NumberColumn("engaged", format="localized"),
                  "share": st.column_config.NumberColumn("share of budget", format="percent"),
                  "cpe": st.column_config.NumberColumn("CPE", format="%.2f")}
        st.dataframe(frame, hide_index=True, width="stretch", column_config=config)
        st.html(printing.print_only(frame.assign(share=100 * frame["share"]), f"{by} values",
                                    money=(S.SPEND, S.ENGAGED), cpe=("cpe",), percent=("share",)))
    with right:
        spend = charts.single_bars(frame, by, S.SPEND, "spend", charts.TODAY_COLOR, "~s")
        cpe = charts.single_bars(frame, by, "cpe", "cost per engaged customer (CPE)", charts.PLAN_COLOR)
        st.vega_lite_chart(frame, spend, width="stretch")
        st.vega_lite_chart(frame, cpe, width="stretch")
