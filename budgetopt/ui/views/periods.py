"""The Plan tab's plan over time (shown when the plan has periods): each period's money and the customers engaged
in it, a touchpoint x period heat map, the transfers between periods, each period's marginal CPE and what moving
money between periods would gain, and the plan as long and wide CSV for a budget sheet."""

from __future__ import annotations

from functools import partial

import streamlit as st

from ...export import neutralise
from ...period_export import long_csv_bytes, wide_table
from ...plan import Plan
from .. import period_report, printing
from .shared import md

SPEND, CHANGE = "Spend in the plan", "Change against today"


def period_views(plan: Plan | None) -> None:
    """The plan over time; nothing for a plan of one period."""
    if not period_report.has_periods(plan):
        return
    st.subheader("The plan over time")
    st.caption("  \n".join(md(note[:1].upper() + note[1:]) for note in plan.period_notes))
    periods = plan.periods
    st.markdown("**Spend and engaged customers by period**")
    frame = period_report.periods_frame(plan)
    st.vega_lite_chart(frame, period_report.periods_chart(periods), width="stretch")

    st.markdown("**Touchpoint by period**")
    shown = st.radio("Colour", (SPEND, CHANGE), horizontal=True, key="period_heat_measure",
                     label_visibility="collapsed")
    measure = "change" if shown == CHANGE else "proposed_spend"
    heat = period_report.heat_frame(plan, measure)
    st.vega_lite_chart(heat, period_report.heat_chart(heat, periods, measure), width="stretch")
    if heat["touchpoint"].nunique() >= period_report.HEAT_ROWS:
        st.caption(f"The {period_report.HEAT_ROWS - 1} touchpoints whose money moves most, largest first; the last "
                   "row sums the rest.")

    st.markdown("**Each period: money, engagement and the marginal CPE**")
    table = period_report.period_table(plan)
    money = st.column_config.NumberColumn(format="localized")
    config = {c: money for c in ("spend today", "spend in plan", "engaged in it today", "engaged in it in plan")}
    config["change %"] = st.column_config.NumberColumn(format="%+.1f %%")
    config["marginal CPE"] = st.column_config.NumberColumn(
        format="%.2f", help="what one more engaged customer costs in this period: the dual of its budget")
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)
    st.html(printing.print_only(table, "periods", money=("spend today", "spend in plan"), cpe=("marginal CPE",),
                                percent=("change %",)))
    left, right = st.columns(2)
    with left:
        st.markdown("**Transfers between periods** (against today's allocation)")
        moves = plan.period_transfers
        if moves.empty:
            st.info("No money moves between periods.")
        else:
            st.table(moves.assign(amount=moves["amount"].map(plan.money)).rename(
                columns={"from_period": "from", "to_period": "to"}))
    with right:
        st.markdown("**Moving money between periods**")
        for line in period_report.move_words(plan, plan.currency):
            st.markdown(md(line))

    wide, long = st.columns(2)
    wide.download_button("Download spend by period (CSV, a column per period)",
                         partial(_wide_csv, plan), file_name="plan-by-period-wide.csv", mime="text/csv",
                         on_click="ignore", key="download_periods_wide")
    long.download_button("Download the plan by period (CSV, a row per touchpoint and period)",
                         partial(long_csv_bytes, plan), file_name="plan-by-period.csv", mime="text/csv",
                         on_click="ignore", key="download_periods_long")


def _wide_csv(plan: Plan) -> bytes:
    return neutralise(wide_table(plan)).to_csv(index=False, float_format="%.15g").encode("utf-8-sig")
