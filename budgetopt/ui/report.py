"""What the page shows, as plain data: headline cards, rollups, before/after frames, Sankey links, tables.

Everything here is arithmetic on the touchpoint table or a Plan; the Streamlit views only draw it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S
from .. import units
from ..plan import BUDGET_CHANGE, Plan
from ..scenario import Mode
from . import format as fmt

TODAY, PLAN = "today", "plan"


@dataclass(frozen=True)
class Card:
    """One headline figure: a label, the value in words, and how it changed (st.metric's arguments)."""

    label: str
    value: str
    delta: str | None = None
    delta_color: str = "normal"  # "normal": up is good; "inverse": down is good; "off": neutral
    help: str | None = None


def today_figures(touchpoints: pd.DataFrame) -> dict[str, float]:
    """Today's totals: spend, engaged customers (and value-weighted: 'value'), average CPE, number of
    touchpoints and functions."""
    spend = float(touchpoints[S.SPEND].sum())
    engaged = float(touchpoints[S.ENGAGED].sum())
    value = float((touchpoints[S.ENGAGED] * touchpoints[S.VALUE]).sum())
    return {"spend": spend, "engaged": engaged, "value": value, "cpe": spend / engaged if engaged else float("nan"),
            "touchpoints": len(touchpoints), "functions": int(touchpoints[S.FUNCTION].nunique())}


def today_cards(touchpoints: pd.DataFrame, currency: str | None = None) -> list[Card]:
    """Today's picture in four cards (money in the currency the plan's cards use: the scenario's, else the data's)."""
    t = today_figures(touchpoints)
    currency = currency or touchpoints.attrs.get("currency")
    cur = f" {currency}" if currency else ""
    return [
        Card(f"Budget today{cur}", fmt.short(t["spend"]), help=fmt.money(t["spend"])),
        Card("Engaged customers today", fmt.short(t["engaged"]), help=fmt.count(t["engaged"])),
        Card(f"Average CPE today{cur}", fmt.cpe(t["cpe"]), help="cost per engaged customer = spend / engaged"),
        Card("Touchpoints", f"{t['touchpoints']:,}", help=f"owned by {t['functions']} functions"),
    ]


def today_line(touchpoints: pd.DataFrame | None, plan: Plan | None = None, summary: dict | None = None) -> str:
    """Today in one sentence (the data as given), for the line under the plan's cards; from a plan's own today
    when it is given (a scenario may remove or add touchpoints; `summary`: the plan's, if at hand)."""
    periods = ""
    if plan is not None:
        s = summary if summary is not None else plan.summary()
        t = plan.table
        spend, engaged, cpe = s["current_spend"], s["current_engaged"], s["current_cpe"]
        today = t[t[S.WHAT_IF] != S.ADDED]
        count = int(today[S.TOUCHPOINT].nunique())  # over periods: each touchpoint once, not once per period
        functions = int(today[S.FUNCTION].nunique())
        currency = plan.currency
        calendar = getattr(plan, "calendar", None)
        if calendar is not None and calendar.count > 1:
            periods = f" over {calendar.count} periods ({calendar.labels[0]} to {calendar.labels[-1]})"
    else:
        t = today_figures(touchpoints)
        spend, engaged, cpe, count, functions = t["spend"], t["engaged"], t["cpe"], t["touchpoints"], t["functions"]
        currency = touchpoints.attrs.get("currency")
    return (f"Today (the data as given): {units.money(spend, currency)} spent{periods} on {count:,} touchpoints of "
            f"{functions} functions, {fmt.count(engaged)} engaged customers, average CPE "
            f"{units.money(cpe, currency, digits=2)}.")


def rollup(touchpoints: pd.DataFrame, by: str) -> pd.DataFrame:
    """Today by one column: spend, share of the budget, engaged customers and CPE, largest spend first."""
    g = touchpoints.groupby(by, sort=False)[[S.SPEND, S.ENGAGED]].sum()
    total = g[S.SPEND].sum()
    g["share"] = g[S.SPEND] / total if total else np.nan
    g["cpe"] = (g[S.SPEND] / g[S.ENGAGED].where(g[S.ENGAGED] > 0)).astype(float)
    g["touchpoints"] = touchpoints.groupby(by, sort=False).size()
    return g.sort_values(S.SPEND, ascending=False).reset_index()[[by, "touchpoints", S.SPEND, "share", S.ENGAGED,
                                                                  "cpe"]]


def plan_cards(plan: Plan, summary: dict | None = None) -> list[Card]:
    """The plan's headline: engaged customers (and weighted engagement when values differ), average CPE, the money
    (spent or saved), money moved, the next unit's cost. Every change is against today: the data as given.

    Values are short ('3.46 M') so the cards fit a laptop screen; the exact figures are in each card's help.
    `summary`: the plan's, if at hand (it is worked out from the whole plan table)."""
    s = summary if summary is not None else plan.summary()
    today = s["current_spend"]
    cur = f" {plan.currency}" if plan.currency else ""
    budget_change = s["proposed_spend"] / today - 1 if today else float("nan")
    keeps_weighted = (plan.scenario.objective.mode is Mode.MIN_SPEND and plan.weighted
                      and plan.scenario.objective.unit == "weighted")
    engaged_help = f"{fmt.count(s['proposed_engaged'])} in the plan; today (the data as given): " \
                   f"{fmt.count(s['current_engaged'])}"
    if keeps_weighted:
        engaged_help += (f". The plan keeps {units.WEIGHTED} at its target; the count may move because values "
                         "weight customers at some touchpoints above others")
    cards = [Card("Engaged customers", fmt.short(s["proposed_engaged"]),
                  fmt.percent(s["engaged_change_pct"], signed=True), "off" if keeps_weighted else "normal",
                  help=engaged_help)]
    if plan.weighted:
        cards.append(Card("Weighted engagement", fmt.short(s["proposed_weighted"]),
                          fmt.percent(s["weighted_change_pct"], signed=True),
                          help=f"value x engaged customers: {fmt.count(s['proposed_weighted'])} in the plan; today: "
                               f"{fmt.count(s['current_weighted'])}"))
    cards.append(Card(f"Average CPE{cur}", fmt.cpe(s["proposed_cpe"]),
                      fmt.percent(s["proposed_cpe"] / s["current_cpe"] - 1, signed=True), "inverse",
                      help="cost per engaged customer = spend / engaged customers; today: "
                           f"{fmt.cpe(s['current_cpe'])}"))
    unspent = plan.budget - s["proposed_spend"]  # below the budget: the plan chose to spend less
    if plan.scenario.objective.mode is Mode.MIN_SPEND or unspent > 0.5:
        label, amount = plan.money_line()  # 'Money added' when the plan spends more than today
        cards.append(Card(f"{label}{cur}", fmt.short(amount),
                          fmt.percent(amount / today) + " of today's", "off",
                          help=f"{plan.money(amount)}: the plan spends {plan.money(s['proposed_spend'])}, "
                               f"today {plan.money(today)}"))
    else:
        cards.append(Card(f"Budget{cur}", fmt.short(s["proposed_spend"]), fmt.percent(budget_change, signed=True),
                          "off", help=f"{plan.money(s['proposed_spend'])} in the plan; today: {plan.money(today)}"))
    moved = s["money_moved_across_functions"]
    cards.append(Card(f"Money moved{cur}", fmt.short(moved), fmt.percent(moved / today) + " of today's", "off",
                      help=f"{plan.money(moved)} taken from one function and given to another"))
    marginal = s["marginal_cpe"]
    cards.append(Card(f"Marginal CPE{cur}", fmt.cpe(marginal) if np.isfinite(marginal) else "none",
                      help=f"what one more {plan.one} costs at the margin of this plan"
                      if np.isfinite(marginal) else plan.marginal_words().removeprefix("none - ")))
    return cards


def plan_notes(plan: Plan, summary: dict | None = None) -> list[str]:
    """The sentences under the cards: the one baseline, the what-ifs' effect on today, and what the plan rests on
    (`summary`: the plan's, if at hand)."""
    summary = summary if summary is not None else plan.summary()
    lines = [today_line(None, plan, summary)]
    lines += plan.notes(summary)
    if plan.basis is not None:
        lines.append(plan.basis.headline())
    return lines


GROUPS_SHOWN = 12
"""A chart by a column with more groups than this shows the largest movers and one bar for the rest."""


def before_after(plan: Plan, by: str, top: int | None = None) -> pd.DataFrame:
    """Spend, engaged customers and CPE today and in the plan, one row per (group, when), in long form, today
    before the plan.

    Without `top`, groups come in order of today's spend (largest first). With `top` and more groups than it,
    the top - 1 groups that move most money (largest change either way) come first and the rest are summed in
    one last group, '29 other channels' (its CPE from its sums)."""
    g = plan.by(by)
    if top is not None and len(g) > top:
        g = g.assign(_moved=g["change"].abs()).sort_values(["_moved", by], ascending=[False, True], kind="stable")
        kept, rest = g.iloc[:top - 1], g.iloc[top - 1:]
        sums = rest[["current_spend", "proposed_spend", "current_engaged", "proposed_engaged", "change"]].sum()
        plural = f"{by}s" if by in S.GROUP_COLUMNS else f"{by} values"
        other = pd.DataFrame([{by: f"{len(rest)} other {plural}", **sums.to_dict()}])
        with np.errstate(divide="ignore", invalid="ignore"):
            other["current_cpe"] = other["current_spend"] / other["current_engaged"]
            other["proposed_cpe"] = other["proposed_spend"] / other["proposed_engaged"]
        g = pd.concat([kept.drop(columns="_moved"), other], ignore_index=True)
        order = g[by].tolist()
    else:
        order = g.sort_values("current_spend", ascending=False)[by].tolist()
    frames = []
    for when, prefix in ((TODAY, "current"), (PLAN, "proposed")):
        frames.append(pd.DataFrame({by: g[by], "when": when, "spend": g[f"{prefix}_spend"],
                                    "engaged": g[f"{prefix}_engaged"], "cpe": g[f"{prefix}_cpe"]}))
    out = pd.concat(frames, ignore_index=True)
    rank = out[by].map({name: i for i, name in enumerate(order)})
    out = out.assign(_rank=rank).sort_values(["_rank", "when"], ascending=[True, False], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)


@dataclass(frozen=True)
class Sankey:
    """Nodes and links of the money moving between functions (givers on the left, receivers on the right)."""

    labels: list[str]
    source: list[int]
    target: list[int]
    value: list[float]
    text: list[str]


def sankey(transfers: pd.DataFrame) -> Sankey:
    """Sankey nodes and links from Plan.transfers; the budget change becomes 'budget cut' or 'extra budget'."""
    def name(function: str, giving: bool) -> str:
        if function == BUDGET_CHANGE:
            return "extra budget" if giving else "budget cut"
        return f"{function} (gives)" if giving else f"{function} (gets)"

    givers = [name(f, True) for f in transfers["from_function"]]
    takers = [name(f, False) for f in transfers["to_function"]]
    labels = list(dict.fromkeys(givers)) + list(dict.fromkeys(takers))
    index = {label: i for i, label in enumerate(labels)}
    amounts = transfers["amount"].astype(float).tolist()
    return Sankey(labels, [index[g] for g in givers], [index[t] for t in takers], amounts,
                  [f"{g} -> {t}: {fmt.money(a)}" for g, t, a in zip(givers, takers, amounts, strict=True)])


PLAN_TABLE = {
    S.TOUCHPOINT: "touchpoint", S.FUNCTION: "function", S.CHANNEL: "channel", S.STAGE: "stage",
    "current_spend": "spend today", "proposed_spend": "spend in plan", "change": "change",
    "change_pct": "change %", "current_engaged": "engaged today", "proposed_engaged": "engaged in plan",
    "current_cpe": "CPE today", "proposed_cpe": "CPE in plan", "marginal_cpe": "marginal CPE",
}
PLAN_TABLE_SHORT = ("touchpoint", "function", "spend today", "spend in plan", "change %", "CPE today", "CPE in plan",
                    "marginal CPE")
"""The plan table's columns that fit a 1,440 px screen beside the sidebar: average and marginal CPE in view."""
MONEY_COLUMNS = ("spend today", "spend in plan", "change", "engaged today", "engaged in plan")
CPE_COLUMNS = ("CPE today", "CPE in plan", "marginal CPE")


def plan_table(plan: Plan) -> pd.DataFrame:
    """The plan per touchpoint for people: whole money and customers, CPE to the cent, change in percent.

    Values stay numbers (so the table sorts); a marginal CPE with no next customer (at a cap) is empty."""
    t = plan.table[list(PLAN_TABLE)].rename(columns=PLAN_TABLE)
    if "period" in plan.table.columns:  # a plan over time: one row per touchpoint and period
        t["touchpoint"] = t["touchpoint"].astype(str) + " (" + plan.table["period"].astype(str) + ")"
    t[list(MONEY_COLUMNS)] = t[list(MONEY_COLUMNS)].round(0)
    t[list(CPE_COLUMNS)] = t[list(CPE_COLUMNS)].replace([np.inf, -np.inf], np.nan).round(2)
    t["change %"] = (100 * t["change %"]).round(1)
    return t.sort_values("change", ascending=True, kind="stable").reset_index(drop=True)


def problems_for_people(problems: pd.DataFrame, header_row: int | None = None) -> pd.DataFrame:
    """InputError.as_table() for the page: row numbers as whole numbers, and a problem with a whole column (a
    missing or repeated header) on the header's row."""
    out = problems.copy()
    row = pd.to_numeric(out["row"], errors="coerce")
    if header_row is not None:
        about_column = row.isna() & out["column"].notna() & out["column"].astype(str).ne("")
        row = row.mask(about_column, float(header_row))
    out["row"] = row.astype("Int64")
    return out


def template_table() -> pd.DataFrame:
    """A touchpoint CSV to start from: every column of the schema, two example rows that validate."""
    rows = [
        {S.TOUCHPOINT: "Search ads (brand)", S.FUNCTION: "marketing", S.CHANNEL: "search", S.STAGE: "consideration",
         S.SPEND: 250000, S.ENGAGED: 90000, S.CPE: "", S.MIN_SPEND: "", S.MAX_SPEND: 400000, S.LOCKED: "no",
         S.MAX_CHANGE: 0.5, S.CURVE: "power", S.ELASTICITY: 0.35, S.SATURATION: "", S.VALUE: 1},
        {S.TOUCHPOINT: "Live chat", S.FUNCTION: "service", S.CHANNEL: "chat", S.STAGE: "retention",
         S.SPEND: 160000, S.ENGAGED: 50000, S.CPE: "", S.MIN_SPEND: 80000, S.MAX_SPEND: "", S.LOCKED: "no",
         S.MAX_CHANGE: "", S.CURVE: "saturating", S.ELASTICITY: "", S.SATURATION: 120000, S.VALUE: 1},
    ]
    return pd.DataFrame(rows, columns=[c.name for c in S.COLUMNS])


# ---- the efficient frontier ------------------------------------------------------------------------------------

FRONTIER = "frontier"
POINT_LABELS = {"": FRONTIER, "today": "today", "plan": "the plan"}


def frontier_measure(curve: pd.DataFrame) -> str:
    """What the frontier's engagement axis counts: weighted engagement when it differs from the count."""
    ok = curve["weighted_engagement"].notna()
    same = np.allclose(curve.loc[ok, "weighted_engagement"], curve.loc[ok, "engaged_customers"], rtol=1e-12)
    return units.CUSTOMERS if same else units.WEIGHTED


def frontier_frame(curve: pd.DataFrame) -> pd.DataFrame:
    """The frontier's points for a chart: budget, engagement (in `frontier_measure`), which point it is, and a
    tooltip line; sweep points without a plan are left out, today and the plan are marked."""
    ok = curve["weighted_engagement"].notna()
    out = pd.DataFrame({
        "budget": curve["budget"].astype(float), "engagement": curve["weighted_engagement"].astype(float),
        "engaged customers": curve["engaged_customers"].astype(float),
        "point": curve["marker"].map(POINT_LABELS).fillna(FRONTIER),
        "marginal CPE": curve["marginal_cpe"].replace([np.inf, -np.inf], np.nan).astype(float).round(2),
    })[ok.to_numpy()]
    return out.reset_index(drop=True)


def frontier_words(curve: pd.DataFrame, currency: str | None = None) -> str:
    """What the frontier says at today's budget, in one sentence, in the same figures as the headline cards."""
    points = curve[(curve["marker"] == "") & curve["weighted_engagement"].notna()]
    today = curve[curve["marker"] == "today"]
    if points.empty or today.empty:
        return "No budget in the range has a plan under these rules."
    spend = float(today["budget"].iloc[0])
    if not points["budget"].min() <= spend <= points["budget"].max():
        return f"Today's budget ({units.money(spend, currency)}) is outside the range drawn."
    measure = frontier_measure(curve)
    best = float(np.interp(spend, points["budget"], points["weighted_engagement"]))
    now = float(today["weighted_engagement"].iloc[0])
    words = (f"With today's budget of {units.money(spend, currency)}, the best plan under these rules reaches about "
             f"{fmt.count(best)} {measure} against today's {fmt.count(now)}")
    plan = curve[curve["marker"] == "plan"]
    if measure == units.WEIGHTED and len(plan):
        words += (f" (the plan on this page: {fmt.count(float(plan['weighted_engagement'].iloc[0]))} {measure}, "
                  f"{fmt.count(float(plan['engaged_customers'].iloc[0]))} {units.CUSTOMERS})")
    return words + ": the gap between today's point and the curve is what moving money buys."


# ---- the price of each rule ------------------------------------------------------------------------------------

SCENARIO_RULE = re.compile(r"rule (\d+):")


def prices_table(prices: pd.DataFrame) -> pd.DataFrame:
    """The rules that cost something, dearest first: what the plan gives up for each (whole price, in words)."""
    costly = prices[prices["whole_price"].fillna(1.0) > 0].sort_values("whole_price", ascending=False,
                                                                        na_position="first")
    return pd.DataFrame({"rule": costly["rule"].to_numpy(object), "kind": costly["kind"].to_numpy(object),
                         "whole price": [whole_price(p, u) for p, u in zip(costly["whole_price"], costly["unit"],
                                                                          strict=True)]})


def whole_price(price: float, unit: str) -> str:
    """A whole price, short: '121,307 engaged customers', '9,100 weighted engagement', '52,000 EUR', 'nothing'.
    `unit` is price_rules' unit: an engagement measure, or the currency ('money' when none is known)."""
    if price is None or np.isnan(price):
        return "could not be priced: without it, no plan"
    if price <= 0:
        return "nothing"
    if unit in (units.CUSTOMERS, units.WEIGHTED):
        return f"{fmt.count(price)} {unit}"
    return f"{fmt.money(price)} of money" if unit == "money" else units.money(price, unit)


def scenario_rule_prices(prices: pd.DataFrame, n_rules: int) -> list[str]:
    """The whole price of each of the scenario's rules, in the scenario's order ('nothing' if it binds nowhere)."""
    out = ["nothing"] * n_rules
    for label, kind, price, unit in zip(prices["rule"], prices["kind"], prices["whole_price"], prices["unit"],
                                        strict=True):
        hit = SCENARIO_RULE.match(str(label))
        if kind == "scenario rule" and hit and 0 < int(hit.group(1)) <= n_rules:
            out[int(hit.group(1)) - 1] = whole_price(price, unit)
    return out


# ---- scenarios side by side ------------------------------------------------------------------------------------

COMPARE_LABELS = {"status": "status", "budget": "budget (spent in the plan)", "engaged": "engaged customers",
                  "engaged change": "engaged customers against today", "weighted": "weighted engagement",
                  "weighted change": "weighted engagement against today", "average CPE": "average CPE",
                  "marginal CPE": "marginal CPE", "money moved across functions": "money moved across functions",
                  "rules that bind": "rules that bind", "top binding rule": "dearest binding rule",
                  "why no plan": "why no plan"}


def compare_table(table: pd.DataFrame) -> pd.DataFrame:
    """`compare`'s table for people: a 'figure' column, then one text column per scenario."""
    def cell(row: str, value: object) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if row in ("engaged change", "weighted change"):
            return fmt.percent(value, signed=True)
        if row in ("average CPE", "marginal CPE"):
            return fmt.cpe(value) if np.isfinite(value) else "none"
        if row == "rules that bind":
            return f"{int(value):,}"
        if isinstance(value, int | float | np.number) and not isinstance(value, bool):
            return fmt.money(float(value))
        return str(value)

    rows = [str(i) for i in table.index]
    out = {"figure": [COMPARE_LABELS.get(r, r) for r in rows]}
    for column in table.columns:
        out[str(column)] = [cell(r, v) for r, v in zip(rows, table[column].tolist(), strict=True)]
    return pd.DataFrame(out)


def compare_bars(table: pd.DataFrame) -> pd.DataFrame:
    """Budget and engaged customers of each scenario that has a plan, long form (scenario, figure, value)."""
    frames = []
    for row, label in (("budget", "budget"), ("engaged", "engaged customers")):
        if row in table.index:
            values = pd.to_numeric(table.loc[row], errors="coerce")
            frames.append(pd.DataFrame({"scenario": [str(c) for c in table.columns], "figure": label,
                                        "value": values.to_numpy(float)}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["scenario", "figure", "value"])
    return out.dropna(subset=["value"]).reset_index(drop=True)
