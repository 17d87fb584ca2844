"""The Plan tab: where the money goes, the money moving between functions, why it moves, what the silos cost,
the plan per touchpoint, downloads, what holds the plan back, the whole price of each rule and the efficient
frontier."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from ... import io, rule_words, units
from ... import schema as S
from ...export import Provenance, plan_xlsx_bytes
from ...frontier import budget_range, frontier, plan_note
from ...plan import Plan
from ...pricing import attach_whole_prices, price_rules
from ...scenario import Scenario
from ...silos import silo_cost
from .. import board_report, cached, charts, library, printing, report, svg
from .. import format as fmt
from .shared import md, on_demand, result_key, to_save
from .state import Key

PRICED_DATA_LIMITS = 25
"""The app re-solves the 25 dearest of the data's own limits for their whole price (each costs two solves);
the scenario's rules are always priced."""


def before_after(plan: Plan) -> None:
    """Bars: spend today and in the plan, by function and by channel (with many groups, the largest movers first
    and one bar for the rest)."""
    st.subheader("Where the money goes")
    for column, by in zip(st.columns(2), (S.FUNCTION, S.CHANNEL), strict=True):
        with column:
            st.markdown(f"**By {by}**")
            frame = report.before_after(plan, by, top=report.GROUPS_SHOWN)
            st.vega_lite_chart(frame, charts.before_after_bars(frame, by), width="stretch")
            if frame[by].nunique() == report.GROUPS_SHOWN and len(plan.by(by)) > report.GROUPS_SHOWN:
                st.caption(f"The {report.GROUPS_SHOWN - 1} {by}s that move most money, largest first; the last bar "
                           "sums the rest.")


def money_moves(plan: Plan) -> None:
    """Sankey: which function gives how much to which (and what the budget change takes or adds), the amount
    written on every link."""
    st.subheader("Money moving between functions")
    links = report.sankey(plan.transfers)
    if not links.value:
        st.info("No money moves between functions in this plan.")
        return
    st.image(svg.sankey_svg(links), width="stretch")  # an SVG: st.html would strip it


def why_moves(touchpoints: pd.DataFrame, scenario: Scenario) -> None:
    """The largest moves, each in a sentence: what the next unit of money buys where it leaves and where it goes,
    and where the move stops; with the curves it rests on."""
    st.subheader("Why the money moves")
    moves = cached.moves(touchpoints, scenario.model_dump_json())
    if moves.empty:
        st.info("No touchpoint moves more than half a percent of today's budget.")
        return
    if scenario.periods is not None:  # each touchpoint over the horizon; the periods have their own section
        st.caption("Each touchpoint's move over the whole horizon, with the period it moves most in. What the next "
                   "amount of money buys is spread over the periods as today's spend is (after the move: as "
                   "planned), on each period's curve with its seasonality and carry-over. See **The plan over "
                   "time** below for each period's money, its marginal CPE and what moving money between periods "
                   "would gain.")
    else:
        st.caption("At today's spend, what the next amount of money buys at each touchpoint, on the curves the plan "
                   "is made on; money goes where it buys more until a limit stops it or it buys the same "
                   "everywhere.")
    rests = [f"{own}. {other}" if own and other else own or other
             for own, other in zip(moves["rests_on"], moves["partner_rests_on"], strict=True)]
    st.markdown("\n".join(f"- {md(why)}" + (f"  \n  <small>Rests on: {md(on)}.</small>" if on else "")
                           for why, on in zip(moves["why"], rests, strict=True)), unsafe_allow_html=True)


def plan_table(plan: Plan) -> None:
    """The plan touchpoint by touchpoint: sortable, numbers formatted, average and marginal CPE in view without
    scrolling sideways (channel, stage, the change in money and engaged customers on a toggle); on paper, a
    plain table of the same figures."""
    st.subheader("The plan, touchpoint by touchpoint")
    money = st.column_config.NumberColumn(format="localized")
    cpe = st.column_config.NumberColumn(format="%.2f")
    config = {c: money for c in report.MONEY_COLUMNS} | {c: cpe for c in report.CPE_COLUMNS}
    config["change %"] = st.column_config.NumberColumn(format="%+.1f %%")
    config["marginal CPE"] = st.column_config.NumberColumn(
        format="%.2f", help="what one more engaged customer costs here; empty: the touchpoint is at its cap")
    config["touchpoint"] = st.column_config.TextColumn(pinned=True)
    table = report.plan_table(plan)
    every = st.toggle("Every column", key=Key.PLAN_COLUMNS,
                      help="also the channel, the stage, the change in money and engaged customers today and in the "
                           "plan")
    shown = list(table.columns) if every else list(report.PLAN_TABLE_SHORT)
    st.dataframe(table, hide_index=True, width="stretch", column_config=config, column_order=shown, height=420)
    st.html(printing.print_only(table[list(report.PLAN_TABLE_SHORT)], "touchpoints", money=report.MONEY_COLUMNS,
                                cpe=report.CPE_COLUMNS, percent=("change %",)))


def downloads(plan: Plan, touchpoints: pd.DataFrame, scenario: Scenario, folder: Path) -> None:
    """The plan as CSV (the file the command line writes) and as an Excel workbook, and the scenario as TOML."""
    stem = library.download_name(plan.scenario.name).removesuffix(".toml")
    csv, xlsx, toml = st.columns(3)
    csv.download_button("Download the plan (CSV)", partial(io.plan_csv, plan), file_name=f"plan-{stem}.csv",
                        mime="text/csv", on_click="ignore", type="primary", key="download_plan_csv",
                        width="stretch")
    prices = partial(cached.memo("prices").get, result_key(touchpoints, scenario))  # looked up when clicked
    workbook = partial(_workbook, plan, touchpoints, prices, st.session_state.get(Key.SOURCE))
    xlsx.download_button("Download the plan (Excel)", workbook, file_name=f"plan-{stem}.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                         key="download_plan_xlsx", width="stretch",
                         help="summary, plan, rollups, transfers, rules (with their whole prices once worked out), "
                              "the inputs as used and where they came from")
    as_file = to_save(scenario, folder)
    toml.download_button("Download the scenario (TOML)", library.toml_bytes(as_file),
                         file_name=library.download_name(as_file.name), mime="application/toml", on_click="ignore",
                         key="download_scenario_toml_plan", width="stretch",
                         help="these settings as a scenario file for `budgetopt run` or to load here later")
    report_downloads(plan, touchpoints, stem)


def report_downloads(plan: Plan, touchpoints: pd.DataFrame, stem: str) -> None:
    """The one-page board report of this scenario as PDF and as HTML (built when clicked)."""
    source = st.session_state.get(Key.SOURCE)
    html = partial(_report_html, plan, touchpoints, source.source if source else None)
    pdf, page, _ = st.columns(3)
    ready, why_not = board_report.pdf_ready()
    pdf.download_button("One-page report (PDF)", partial(_report_pdf, html), file_name=f"report-{stem}.pdf",
                        mime="application/pdf", on_click="ignore", key="download_report_pdf", width="stretch",
                        disabled=not ready, help=why_not or "the scenario on one A4 page: headline, where the money "
                                                            "goes, why it moves, what holds it back, what it rests on")
    page.download_button("One-page report (HTML)", html, file_name=f"report-{stem}.html", mime="text/html",
                         on_click="ignore", key="download_report_html", width="stretch",
                         help="the same page as one self-contained file: opens and prints in any browser")
    st.caption("The one-page report: the scenario on one A4 page, for a board pack. To share the page itself, share "
               "its address: it holds these settings (an uploaded file has to be uploaded again).")


def _report_html(plan: Plan, touchpoints: pd.DataFrame, source: str | None) -> bytes:
    return board_report.report_html(plan, touchpoints, source=source).encode("utf-8")


def _report_pdf(html: Callable[[], bytes]) -> bytes:
    return board_report.report_pdf(html().decode("utf-8"))


def _workbook(plan: Plan, touchpoints: pd.DataFrame, prices: Callable[[], pd.DataFrame | None],
              source: Provenance | None) -> bytes:
    """The Excel workbook of the plan (built when the button is clicked), with the rules' whole prices if known
    by then."""
    prices = prices()
    if prices is not None:
        attach_whole_prices(plan, prices, touchpoints)
    return plan_xlsx_bytes(plan, inputs=plan.inputs, provenance=(source or Provenance()).stamped())


HOLDING_SHOWN = 10
"""Limits listed per group under 'What holds the plan back'; the rest are in a table below them."""
SET_BY_TITLES = {rule_words.YOURS: "Your rules and settings", rule_words.DATA: "The data's limits",
                 rule_words.ASSUMED: "Assumptions"}


def binding_rules(touchpoints: pd.DataFrame, scenario: Scenario) -> None:
    """The rules that hold the plan back, in words: the person's own first, then the data's limits, then
    assumptions; dearest first in each, with the local price in words."""
    st.subheader("What holds the plan back")
    holding = cached.holding_back(touchpoints, scenario.model_dump_json())
    if holding.empty:
        st.success("No rule holds this plan back.")
        return
    st.caption("Each price is local: what loosening the limit a little would buy (or save). A floor holds money "
               "in a touchpoint, a cap keeps money out.")
    for set_by, title in SET_BY_TITLES.items():
        part = holding[holding["set_by"] == set_by]
        if part.empty:
            continue
        st.markdown(f"**{title}** ({len(part)})")
        table = pd.DataFrame({"limit": part["words"], "what it costs": part["price_text"]})
        st.table(table.head(HOLDING_SHOWN), hide_index=True)
        if len(part) > HOLDING_SHOWN:
            with st.expander(f"{len(part) - HOLDING_SHOWN} more {title.lower()}"):
                st.dataframe(table.iloc[HOLDING_SHOWN:], hide_index=True, width="stretch")


def rule_prices(touchpoints: pd.DataFrame, scenario: Scenario, plan: Plan) -> None:
    """On demand: the whole price of each rule (the plan solved again without it), in words."""
    st.markdown("**The whole price of each rule**")
    st.caption("What the plan would gain if a rule went entirely: the plan is solved again without each rule "
               "that binds (with many touchpoints this takes a while; the bar shows how far it is).")
    prices = on_demand("prices", result_key(touchpoints, scenario), "Work out the whole price of each rule",
                        partial(price_rules, touchpoints, scenario, plan, data_limits=PRICED_DATA_LIMITS),
                        key=Key.PRICES_BUTTON,
                        working="Pricing the rules")
    if prices is None:
        return
    table = report.prices_table(prices)
    if table.empty:
        st.success("No rule costs anything: the plan is the same without each of them.")
        return
    free = len(prices) - len(table)
    unit = prices["unit"].iloc[0]
    gain = (f"{unit} the plan would add" if unit in (units.CUSTOMERS, units.WEIGHTED) else "money the plan would save")
    st.caption(f"Whole price: the {gain} without the rule, all else the same."
               + (f" {free} more rule(s) and limits cost nothing." if free else ""))
    st.table(table, hide_index=True)  # long rule names wrap, and it prints whole


def silo_costs(touchpoints: pd.DataFrame, scenario: Scenario) -> None:
    """What planning inside each function costs against planning across them: shown when siloed, else on demand."""
    def text_of(progress: None) -> str:  # the two plans from the cache: one of them is on the page already
        horizontal, vertical = (cached.plan_for(touchpoints, scenario.model_copy(update={"siloed": siloed})
                                                .model_dump_json()) for siloed in (False, True))
        return silo_cost(touchpoints, scenario, horizontal, vertical).text()

    text = on_demand("silos", result_key(touchpoints, scenario), "What do our silos cost?", text_of,
                      key=Key.SILOS_BUTTON,
                      auto=scenario.siloed, working="Planning with and without silos", steps=False,
                      help="plans the same scenario within each function and across functions, and compares")
    if text is not None:
        st.info(text)


def efficient_frontier(touchpoints: pd.DataFrame, scenario: Scenario) -> None:
    """On demand: the most engagement each budget can buy under these rules, with today and the plan marked."""
    st.subheader("What each budget could buy")
    budgets = budget_range(touchpoints)
    measure = units.measure(units.is_weighted(touchpoints[S.VALUE]))
    st.caption(f"The efficient frontier: the most {measure} any plan under these rules reaches at each budget from "
               f"{fmt.money(budgets[0])} to {fmt.money(budgets[-1])} (50 % to 150 % of today's), with today (the data "
               "as given) and the plan marked.")
    curve = on_demand("frontier", result_key(touchpoints, scenario), "Draw the efficient frontier",
                       partial(frontier, touchpoints, scenario, budgets,
                               plan=cached.plan_for(touchpoints, scenario.model_dump_json())),
                       key=Key.FRONTIER_BUTTON,
                       working="Planning each budget", help=f"{len(budgets)} plans, one per budget")
    if curve is None:
        return
    frame = report.frontier_frame(curve)
    st.vega_lite_chart(frame, charts.frontier_chart(report.frontier_measure(curve)), width="stretch")
    st.caption(md(report.frontier_words(curve, touchpoints.attrs.get("currency") or scenario.currency)))
    counted = "weighted_engagement" if report.frontier_measure(curve) == units.WEIGHTED else "engaged_customers"
    if note := plan_note(curve, scenario.settings.segments, counted):
        st.caption(md(note))
    st.download_button("Download the frontier (CSV)", partial(io.frontier_csv, curve, scenario.settings.rounding),
                       file_name="frontier.csv", mime="text/csv",
                       on_click="ignore", key="download_frontier_csv")
