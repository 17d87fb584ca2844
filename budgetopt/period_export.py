"""A plan over time for budget sheets: long (one row per touchpoint and period) and wide (one column per period)
tables, in CSV and as sheets of the workbook, and its periods in the JSON.

The long table is a valid history for the next plan (the loop closes): its `period` is each period's first day,
`spend` the plan's money and `engaged` the customers engaged in the period (carry-over and spend before the
horizon included, as a history would have recorded them). Months and weeks read back as they are; quarters and
four-week periods have no history frequency of their own, so `history_table` splits each over its months or
weeks, evenly (plan_history.csv).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema as S
from .horizon import FOUR_WEEKS, QUARTER

LONG_COLUMNS = [S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, S.STAGE, "period", S.SPEND, S.ENGAGED, "engaged_by_its_spend",
                "current_spend", "current_engaged", "change", "season_index", S.MARGINAL_CPE, S.VALUE]
"""plan.csv of a plan over periods: the plan's money (`spend`) and the customers engaged in the period
(`engaged`), the customers its own spend engages over every period they land in (`engaged_by_its_spend`), today's
steady allocation and its customers, the period's seasonality index (`season_index`: a number per row, not the
touchpoint table's `seasonality` text) and the marginal CPE there; then tag columns."""
SPLIT = {QUARTER: (3, "MS"), FOUR_WEEKS: (4, "7D")}
"""Periods with no history frequency of their own: split into this many months or weeks."""


ENGAGED_COLUMNS = ("current_engaged", "proposed_engaged", "engaged_in_period", "current_engaged_in_period")
"""Customers per touchpoint and period: each cell rounded to 2 decimals, each period's figure their sum."""


def money_cells(plan) -> tuple[np.ndarray, np.ndarray]:
    """Today's and the plan's money per row of plan.table, rounded to the scenario's step: the plan's keeping
    every rule as displayed (export.round_plan_money, the pacing step too); today's adding up, period by period,
    to each period's today by largest remainder from today's total (517,188.33 or .34 a month, 12 of them adding
    up to 6,206,260)."""
    from .export import round_keeping_rules, round_plan_money
    from .plan import MoneyRule

    period = plan.table["period"].to_numpy(object)
    groups = [MoneyRule(np.flatnonzero(period == label), "<=", np.inf) for label in plan.periods]  # no limit
    current = round_keeping_rules(plan.table["current_spend"].to_numpy(float), plan.scenario.settings.rounding,
                                  groups)
    return current, round_plan_money(plan)


def long_table(plan, money: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """One row per touchpoint and period (LONG_COLUMNS, then tags), touchpoints of the plan only; money rounded
    to the scenario's step (money_cells, or `money` when given) adding up to the plan's total, customers to 2
    decimals."""
    current, proposed = money_cells(plan) if money is None else money
    t = plan.table.assign(current_spend=current, proposed_spend=proposed)  # keeping every rule as displayed
    t = t[t[S.WHAT_IF] != S.REMOVED] if S.WHAT_IF in t.columns else t
    calendar = plan.calendar
    starts = calendar.starts
    when = (dict(zip(calendar.labels, starts.strftime("%Y-%m-%d"), strict=True)) if starts is not None
            else {label: label for label in calendar.labels})
    out = pd.DataFrame({
        S.TOUCHPOINT: t[S.TOUCHPOINT].to_numpy(object), S.FUNCTION: t[S.FUNCTION].to_numpy(object),
        S.CHANNEL: t[S.CHANNEL].to_numpy(object), S.STAGE: t[S.STAGE].to_numpy(object),
        "period": t["period"].map(when).to_numpy(object),
        S.SPEND: t["proposed_spend"].to_numpy(float),
        S.ENGAGED: t["engaged_in_period"].round(2).to_numpy(float),
        "engaged_by_its_spend": t["proposed_engaged"].round(2).to_numpy(float),
        "current_spend": t["current_spend"].to_numpy(float),
        "current_engaged": t["current_engaged"].round(2).to_numpy(float),
        "change": None, "season_index": t["seasonality"].round(4).to_numpy(float),
        S.MARGINAL_CPE: t[S.MARGINAL_CPE].round(4).to_numpy(float), S.VALUE: t[S.VALUE].to_numpy(float),
    })
    out["change"] = np.round(out[S.SPEND] - out["current_spend"], 10)
    known = set(LONG_COLUMNS) | set(S.PLAN_ONLY) | {"period", "seasonality", "engaged_in_period",
                                                   "current_engaged_in_period", "engaged_after_horizon"}
    tags = [c for c in t.columns if c not in known and c not in S.KNOWN and t[c].dtype == object]
    for column in tags:
        out[column] = t[column].to_numpy(object)
    return out[LONG_COLUMNS + tags].reset_index(drop=True)


def history_table(plan, money: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """The long table at a history's frequency: as it is for months and weeks; a quarter split evenly over its
    three months and a four-week period over its four weeks (money and customers divided, the rest repeated).
    Needs a dated horizon."""
    long = long_table(plan, money)
    calendar = plan.calendar
    if calendar.kind not in SPLIT:
        return long
    if calendar.starts is None:
        raise ValueError("a horizon without dates has no history frequency: give [periods] a start")
    parts, freq = SPLIT[calendar.kind]
    out = long.loc[long.index.repeat(parts)].reset_index(drop=True)
    offset = np.tile(np.arange(parts), len(long))
    first = pd.to_datetime(out["period"])
    if freq == "MS":
        dates = [d + pd.DateOffset(months=int(k)) for d, k in zip(first, offset, strict=True)]
    else:
        dates = first + pd.to_timedelta(7 * offset, unit="D")
    out["period"] = pd.DatetimeIndex(dates).strftime("%Y-%m-%d")
    for column in (S.SPEND, S.ENGAGED, "engaged_by_its_spend", "current_spend", "current_engaged", "change"):
        out[column] = out[column] / parts
    return out


def wide_table(plan, column: str = "proposed_spend", money: tuple[np.ndarray, np.ndarray] | None = None
               ) -> pd.DataFrame:
    """One row per touchpoint of the plan, a column per period and the total: the plan's money as the long table
    rounds it (the cells add up to the plan's total), or another column of the plan's table to 2 decimals."""
    if column != "proposed_spend":
        return plan.wide(column).round(2)
    long = long_table(plan, money)
    labels = dict(zip(long["period"].unique(), plan.periods, strict=True))
    frame = long.pivot_table(index=S.TOUCHPOINT, columns="period", values=S.SPEND, aggfunc="sum", sort=False)
    frame = frame.rename(columns=labels).reindex(columns=plan.periods)
    frame["total"] = frame.sum(axis=1).round(2)
    head = long.drop_duplicates(S.TOUCHPOINT).set_index(S.TOUCHPOINT)[[S.FUNCTION, S.CHANNEL, S.STAGE]]
    return head.join(frame).reset_index()


def by_period_table(plan, money: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """The periods: money, engagement and marginal CPE of each (PeriodPlan.by_period), each money and customer
    figure the sum of its rounded cells (money_cells; customers to 2 decimals), so that it equals the sum of
    plan.csv's and plan_wide.csv's cells; change and change_pct from those sums."""
    from .export import step_decimals

    current, proposed = money_cells(plan) if money is None else money
    decimals = step_decimals(plan.scenario.settings.rounding)
    t = plan.table
    cells = pd.DataFrame({"period": t["period"].to_numpy(object), "current_spend": current,
                          "proposed_spend": proposed,
                          **{c: t[c].round(2).to_numpy(float) for c in ENGAGED_COLUMNS if c in t.columns}})
    sums = cells.groupby("period", sort=False).sum()
    b = plan.by_period.copy()
    at = b["period"].to_numpy(object)
    for column in sums.columns:
        b[column] = sums[column].reindex(at).to_numpy(float).round(decimals if column.endswith("_spend") else 2)
    b["change"] = (b["proposed_spend"] - b["current_spend"]).round(decimals) + 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        b["change_pct"] = np.where(b["current_spend"] > 0, b["change"] / b["current_spend"], np.nan)
    return b


def period_document(plan) -> dict[str, object]:
    """The periods of a plan for the JSON: the calendar, each period's figures, the transfers between periods and
    the price of moving money between them."""
    from .export import _decimals, _records, for_programs

    calendar = plan.calendar
    starts = calendar.starts
    decimals = _decimals(plan)
    return {"horizon": f"{calendar.count} {calendar.kind}(s)", "labels": calendar.labels,
            "starts": None if starts is None else list(starts.strftime("%Y-%m-%d")), "tail": plan.tail,
            "notes": plan.period_notes, "by_period": _records(for_programs(by_period_table(plan), decimals)),
            "transfers": _records(for_programs(plan.period_transfers, decimals)),
            "move_prices": _records(plan.move_prices())}


def long_csv_bytes(plan) -> bytes:
    """plan.csv of a plan over periods: `long_table` (UTF-8 with BOM, formula-safe)."""
    from .export import csv_text, neutralise

    return csv_text(neutralise(long_table(plan)), "%.15g").encode("utf-8-sig")


def extra_files(plan, stem: str = "plan") -> dict[str, bytes]:
    """The CSVs a plan over periods adds to plan.csv: {stem}_wide.csv (money per touchpoint and period) and, for
    quarters and four-week periods, {stem}_history.csv (the plan at a history's frequency)."""
    from .export import csv_text, neutralise

    money = money_cells(plan)
    files = {f"{stem}_wide.csv": csv_text(neutralise(wide_table(plan, money=money)), "%.15g").encode("utf-8-sig")}
    if plan.calendar.kind in SPLIT and plan.calendar.starts is not None:
        files[f"{stem}_history.csv"] = csv_text(neutralise(history_table(plan, money)), "%.15g").encode("utf-8-sig")
    return files


def period_sheets(book, plan) -> None:
    """Add the workbook's sheets of a plan over periods, after its Summary (export._Book, written row by row): By
    period (with the transfers between periods and the price of moving money), Plan by period (long), Spend by
    period and Engaged by period (wide), and for quarters and four-week periods Plan as history (history_table).
    Read back without --sheet, the workbook is the next plan's history (Plan as history, else Plan by period)."""
    from .export import _put, _table, rounded_figures, step_decimals

    ws = book.sheet("By period")
    money = money_cells(plan)
    b = rounded_figures(by_period_table(plan, money), step_decimals(plan.scenario.settings.rounding))
    _table(book, ws, b, freeze="B2", filters=False)
    r = len(b) + 3
    for title, frame in (("Transfers between periods (money moved against today's allocation)",
                          plan.period_transfers.assign(amount=lambda m: m["amount"].round(2))),
                         ("Moving money between periods: gained per 1,000 moved (negative: lost), at the margin",
                          plan.move_prices().round({"gain_per_1000": 2}))):
        _put(ws, r - 1, 0, title)
        _write(book, ws, frame, r + 1)
        r += len(frame) + 4
    for note in plan.period_notes:
        _put(ws, r - 1, 0, note)
        r += 1
    _table(book, book.sheet("Plan by period"), long_table(plan, money))
    _table(book, book.sheet("Spend by period"), wide_table(plan, money=money))
    _table(book, book.sheet("Engaged by period"), wide_table(plan, "engaged_in_period"))
    if plan.calendar.kind in SPLIT and plan.calendar.starts is not None:  # quarters: the history's months or weeks
        _table(book, book.sheet("Plan as history"), history_table(plan, money))


def _write(book, ws, frame: pd.DataFrame, top: int) -> None:
    """A small table below another on the same sheet (`top`: its header's row, 1-based): a header row, then the
    values."""
    from .export import _cell_columns, _label, _put, _rows, _safe

    bold = book.format(bold=True)
    for j, column in enumerate(frame.columns):
        _put(ws, top - 1, j, _safe(_label(column)), bold)
    _rows(ws, _cell_columns(frame), [None] * frame.shape[1], top)
