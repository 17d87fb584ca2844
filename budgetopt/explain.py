"""Why the money moves: for each large move of a plan, a sentence a CMO can repeat, and the curve it rests on.

At today's spend s0, a touchpoint's next `u` of money buys e(s0 + u) - e(s0) engaged customers on the curve the
plan is made on (the scenario's what-ifs applied); value x that, in weighted engagement when values differ. Money
leaves touchpoints where the next `u` buys little and goes where it buys much, until the next `u` buys the same
everywhere (the plan's margin: u / marginal CPE) or a limit stops it:

    "TV prime time -30 % (-540,000): at today's spend its next 1,000 buys 66 engaged customers; the same 1,000
     buys 116 in Live chat. It stops at a limit: TV prime time may fall at most 30 % (to 1,260,000)."

The figures are the plan's own curves and limits; `rests_on` says where each curve comes from (fitted,
tabulated, given, assumed) and when the plan goes beyond the largest spend observed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import schema as S
from . import units
from .curves import Curves
from .periods import period_curves
from .plan import Plan
from .rule_words import ASSUMED, pct

MOVE_COLUMNS = ["touchpoint", "change", "change_pct", "why", "rests_on", "partner_rests_on"]
"""explain_moves(): the touchpoint, its change in money and as a fraction, the sentence, what its own curve rests
on, and what the curve of the touchpoint it is compared with rests on ('' when none)."""
MOVES = 6
"""Large moves explained by default: the largest by money, cuts and increases alike."""
SMALLEST = 0.005
"""A move below this share of today's total spend is not a large move."""


def step(total: float) -> float:
    """The money the sentences quote ('its next 1,000'): 1,000, or for budgets under 100,000 a power of ten near
    1 % of the total, so the step stays small against the money it explains."""
    if total >= 100_000 or total <= 0:
        return 1000.0
    return float(10 ** max(0, math.floor(math.log10(total / 100))))


def buys(x: float, measure: str = "") -> str:
    """'66 engaged customers', '0.4 engaged customers', '116 units of weighted engagement'; without a measure,
    the number alone (the sentence has named it already)."""
    number = f"{x:,.1f}" if 0 < abs(x) < 10 else f"{x:,.0f}"
    if not measure:
        return number
    return f"{number} {'units of ' + units.WEIGHTED if measure == units.WEIGHTED else units.CUSTOMERS}"


def curve_words(row: pd.Series, currency: str | None) -> str:
    """Where a touchpoint's curve comes from, in a few words."""
    source = row.get(S.CURVE_SOURCE, "assumed")
    kind = str(row.get(S.CURVE, S.DEFAULT_CURVE))
    if kind == "power":
        shape = f"power, elasticity {float(row[S.ELASTICITY]):g}"
    elif kind in ("saturating", "hill"):
        shape = f"{kind}, at most {units.money(float(row[S.SATURATION]))} {units.CUSTOMERS}"
    elif kind == "linear":
        shape = f"linear, {units.money(float(row['unit_cost']), currency, digits=2)} per engaged customer"
    else:
        shape = kind
    return {"fitted": "curve fitted to its history", "tabulated": "response curve tabulated from a model",
            "given": f"curve set in the data ({shape})"}.get(source, f"assumed curve ({shape})")


def explain_moves(plan: Plan, holding: pd.DataFrame | None = None, count: int = MOVES) -> pd.DataFrame:
    """The `count` largest moves of the plan (by money, at least SMALLEST of today's total), each with why.

    `holding` is rule_words.plain_rules(plan, touchpoints): the limits a move stops at, in words (without it, a
    limit is named by its amount)."""
    if not plan.ok:
        return pd.DataFrame(columns=MOVE_COLUMNS)
    if getattr(plan, "line", None) is not None and plan.line.count > 1:
        return _moves_over_periods(plan, holding, count)
    t = plan.table
    inputs = plan.inputs.reset_index(drop=True)
    n = len(inputs)
    total = float(t["current_spend"].sum())
    u = step(total)
    measure = plan.measure
    weight = inputs[S.VALUE].to_numpy(float) if measure == units.WEIGHTED else np.ones(n)
    curves = Curves.from_table(inputs)
    today = t["current_spend"].to_numpy(float)[:n]
    planned = t["proposed_spend"].to_numpy(float)[:n]
    now = weight * (curves.engaged(today + u) - curves.engaged(today))  # the next u at today's spend
    first = weight * curves.engaged(np.full(n, u))  # the first u, from nothing
    margin = u / plan.marginal_cpe if plan.marginal_cpe > 0 else float("nan")
    change = t["change"].to_numpy(float)
    big = np.flatnonzero(np.abs(change) >= max(SMALLEST * total, 0.5))
    big = big[np.argsort(-np.abs(change[big]), kind="stable")][:count]
    order = np.argsort(-change[:n], kind="stable")
    receivers = order[change[order] > 0.5]  # largest increase first
    givers = order[::-1][change[order[::-1]] < -0.5]  # largest cut first
    names = t[S.TOUCHPOINT].astype(str).tolist()
    cur = plan.currency
    amount = units.money(u, cur)
    records = []
    for i in big.tolist():
        name, delta, fraction = names[i], float(change[i]), float(t["change_pct"].iloc[i])
        signed = f"{'+' if delta > 0 else '-'}{units.money(abs(delta), cur)}"
        head = f"{name} {signed[0]}{pct(fraction)} ({signed})" if np.isfinite(fraction) else f"{name} ({signed})"
        what_if = str(t[S.WHAT_IF].iloc[i])
        if what_if == S.REMOVED or i >= n:
            records.append((name, delta, fraction, f"{head}: removed by the scenario's what-if.", what_if, ""))
            continue
        if what_if == S.ADDED:
            why = (f"{name} (new, added by the scenario) gets {units.money(planned[i], cur)}: its first {amount} "
                   f"buys {buys(first[i], measure)}, against {buys(margin)} for the plan's last {amount}.")
            records.append((name, delta, fraction, why + _stop(t, i, holding, u, cur, margin=margin, first=first[i]),
                            _rests_on(plan, inputs, i), ""))
            continue
        against, partner = _against(i, delta, now, names, receivers, givers, margin, amount, buys)
        why = f"{head}: at today's spend its next {amount} buys {buys(now[i], measure)}{against}"
        why += _stop(t, i, holding, u, cur, margin=margin, first=first[i])
        records.append((name, delta, fraction, why, _rests_on(plan, inputs, i),
                        "" if partner is None else _rests_on(plan, inputs, partner, own=False)))
    return pd.DataFrame(records, columns=MOVE_COLUMNS)


def _against(i: int, delta: float, now: np.ndarray, names, receivers, givers, margin: float, amount: str,
             buys) -> tuple[str, int | None]:
    """What the same money buys elsewhere, to end a move's sentence, and the touchpoint it is compared with: a cut
    against the first receiver (largest first) where it buys more, a rise against the first giver where it buys
    less; else against the plan's last money (`margin`)."""
    if delta < 0:
        partner = next((int(j) for j in receivers if now[j] > now[i]), None)
        if partner is not None:
            return f"; the same {amount} buys {buys(now[partner])} in {names[partner]}.", partner
        if np.isfinite(margin) and now[i] < margin:
            return f", less than the {buys(margin)} the plan's last {amount} buys.", None
        return f", no less than the plan's last {amount}: a rule moves this money, not its returns.", None
    partner = next((int(j) for j in givers if now[j] < now[i]), None)
    if partner is not None:
        return f", against {buys(now[partner])} in {names[partner]}.", partner
    if np.isfinite(margin) and now[i] > margin:
        return f", more than the {buys(margin)} the plan's last {amount} buys.", None
    return f", no more than the plan's last {amount}: a rule moves this money, not its returns.", None


def _stop(t: pd.DataFrame, i: int, holding: pd.DataFrame | None, u: float, cur: str | None,
          margin: float = float("nan"), first: float = float("nan")) -> str:
    """Where the move stops: at a limit (in words), at nothing, or where the next `u` buys the plan's margin."""
    x, lo, hi = (float(t[c].iloc[i]) for c in ("proposed_spend", "lower_limit", "upper_limit"))
    delta = float(t["change"].iloc[i])
    tol = 1e-6 * max(1.0, abs(x))
    side = "lo" if delta < 0 and x <= lo + tol else "hi" if delta > 0 and x >= hi - tol else ""
    amount = units.money(u, cur)
    if side:
        name = str(t[S.TOUCHPOINT].iloc[i])
        hit = pd.DataFrame() if holding is None or holding.empty else holding[
            (holding["touchpoint"] == name) & (holding["side"] == side)]
        if len(hit):
            kind = "an assumption" if hit["set_by"].iloc[0] == ASSUMED else "a limit"
            return f" It stops at {kind}: {hit['limit'].iloc[0]}."
        if side == "lo" and x <= tol:
            return (f" It gets nothing: its first {amount} would buy {buys(first)}, less than the plan's last "
                    f"{amount} buys ({buys(margin)})." if np.isfinite(first) and np.isfinite(margin)
                    else " It gets nothing.")
        return f" It stops at its {'floor' if side == 'lo' else 'cap'} of {units.money(x, cur)}."
    if np.isfinite(margin):
        return (f" After the move its next {amount} buys {buys(margin)}, the same as the plan's last {amount} "
                "anywhere.")
    return ""


def _rests_on(plan: Plan, inputs: pd.DataFrame, k: int, own: bool = True) -> str:
    """What a touchpoint's curve rests on: where it comes from, its what-if and, for the touchpoint that moves
    (`own`), whether the plan goes beyond the largest spend observed there."""
    t = plan.table
    row = inputs.iloc[k]
    words = f"{row[S.TOUCHPOINT]}: {curve_words(row, plan.currency)}"
    what_if = str(t[S.WHAT_IF].iloc[k])
    if what_if and what_if not in (S.ADDED, S.REMOVED):
        words += f", with the what-if {what_if}"
    observed = float(np.nanmax([float(row[S.SPEND]), float(row.get(S.OBSERVED_MAX, np.nan))]))
    if own and float(t["proposed_spend"].iloc[k]) > observed * (1 + 1e-9) + 1e-9:
        words += (f"; the plan goes beyond the largest spend observed ({units.money(observed, plan.currency)}), "
                  "where the curve is its shape, not evidence")
    return words


def _shares(spend: np.ndarray) -> np.ndarray:
    """Each row of a (touchpoints x periods) array as shares of its total; even shares where the total is 0."""
    total = spend.sum(axis=1, keepdims=True)
    even = np.full_like(spend, 1.0 / spend.shape[1])
    return np.where(total > 0, spend / np.where(total > 0, total, 1.0), even)


def _moves_over_periods(plan: Plan, holding: pd.DataFrame | None, count: int) -> pd.DataFrame:
    """explain_moves for a plan over periods: one sentence per touchpoint over the horizon (its period of largest
    move named). What the next `u` buys is over the horizon: u spread over the periods as today's spend is
    (evenly where nothing is spent), on each period's curve (seasonality, carry-over counted as the plan counts
    it): sum_t w_it [e_it(s_it + u p_it) - e_it(s_it)]."""
    t, line, calendar = plan.table, plan.line, plan.calendar
    inputs = plan.inputs.reset_index(drop=True)
    n, periods = len(inputs), line.count
    rows = len(t) // periods  # the planned touchpoints, then those the scenario removes
    today_c = t["current_spend"].to_numpy(float).reshape(rows, periods)
    plan_c = t["proposed_spend"].to_numpy(float).reshape(rows, periods)
    names = t[S.TOUCHPOINT].astype(str).to_numpy()[::periods].tolist()
    what_ifs = t[S.WHAT_IF].astype(str).to_numpy()[::periods].tolist()
    today, planned = today_c.sum(axis=1), plan_c.sum(axis=1)
    change = planned - today
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(today > 0, change / today, np.nan)
    total = float(today.sum())
    u = step(total)
    measure = plan.measure
    value = inputs[S.VALUE].to_numpy(float) if measure == units.WEIGHTED else np.ones(n)
    weight = np.repeat(value, periods) * line.counted().ravel()
    curves = period_curves(Curves.from_table(inputs), line)

    def gain(at: np.ndarray, share: np.ndarray) -> np.ndarray:
        x = at.ravel()
        return (weight * (curves.engaged(x + u * share.ravel()) - curves.engaged(x))).reshape(n, periods).sum(axis=1)

    now = gain(today_c[:n], _shares(today_c[:n]))
    after = gain(plan_c[:n], _shares(plan_c[:n]))
    first = gain(np.zeros((n, periods)), _shares(np.zeros((n, periods))))
    margin = u / plan.marginal_cpe if plan.marginal_cpe > 0 else float("nan")
    big = np.flatnonzero(np.abs(change) >= max(SMALLEST * total, 0.5))
    big = big[np.argsort(-np.abs(change[big]), kind="stable")][:count]
    order = np.argsort(-change[:n], kind="stable")
    receivers = order[change[order] > 0.5]
    givers = order[::-1][change[order[::-1]] < -0.5]
    cur = plan.currency
    amount = units.money(u, cur)
    labels = calendar.labels
    records = []
    for i in big.tolist():
        name, delta, share = names[i], float(change[i]), float(fraction[i])
        signed = f"{'+' if delta > 0 else '-'}{units.money(abs(delta), cur)}"
        head = (f"{name} {signed[0]}{pct(share)} over the horizon ({signed})" if np.isfinite(share)
                else f"{name} over the horizon ({signed})")
        cell = plan_c[i] - today_c[i]
        k = int(np.argmax(cell) if delta > 0 else np.argmin(cell))  # the period it moves most in, its way
        head += f", most in {labels[k]} ({'+' if cell[k] > 0 else '-'}{units.money(abs(cell[k]), cur)})"
        if i >= n:  # a touchpoint the scenario removes
            why = f"{head}: removed by the scenario's what-if." if what_ifs[i] == S.REMOVED else f"{head}."
            records.append((name, delta, share, why, "", ""))
            continue
        partner = None
        if what_ifs[i] == S.ADDED:
            why = (f"{name} (new, added by the scenario) gets {units.money(planned[i], cur)} over the horizon: its "
                   f"first {amount}, spread evenly, buys {buys(first[i], measure)}, against "
                   f"{buys(margin)} for the plan's last {amount}.")
        else:
            against, partner = _against(i, delta, now, names, receivers, givers, margin, amount, buys)
            why = f"{head}: at today's spend its next {amount}, spread as today's, buys {buys(now[i], measure)}" \
                  f"{against}"
        why += _stop_over_periods(name, delta, planned[i], holding, amount, first[i], after[i], margin)
        records.append((name, delta, share, why, _rests_over_periods(plan, inputs, i, plan_c[i]),
                        "" if partner is None else _rests_over_periods(plan, inputs, partner)))
    return pd.DataFrame(records, columns=MOVE_COLUMNS)


def _stop_over_periods(name: str, delta: float, planned: float, holding: pd.DataFrame | None, amount: str,
                       first: float, after: float, margin: float) -> str:
    """Where a move over periods stops: at a limit that binds on its side in some period (its words name the
    periods), at nothing, or at what its next money buys after the move (spread as planned)."""
    side = "lo" if delta < 0 else "hi"
    if holding is not None and len(holding):
        hit = holding[(holding["touchpoint"] == name) & (holding["side"] == side)]
        if len(hit):
            kind = "an assumption" if hit["set_by"].iloc[0] == ASSUMED else "a limit"
            return f" It stops at {kind}: {hit['limit'].iloc[0]}."
    if delta < 0 and planned <= 1e-6:
        return (f" It gets nothing: its first {amount}, spread evenly, would buy {buys(first)}, "
                f"less than the plan's last {amount} buys ({buys(margin)})." if np.isfinite(margin)
                else " It gets nothing.")
    words = f" After the move it buys {buys(after)} (spread as planned)"
    if np.isfinite(margin) and after > margin * (1 + 1e-3):
        return words + f", more than the plan's last {amount} ({buys(margin)}): rules that bind keep more out."
    if np.isfinite(margin) and after < margin * (1 - 1e-3):
        return words + f", less than the plan's last {amount} ({buys(margin)}): rules that bind hold it in."
    return words + f", the same as the plan's last {amount}."


def _rests_over_periods(plan: Plan, inputs: pd.DataFrame, k: int, spend: np.ndarray | None = None) -> str:
    """What a touchpoint's curve rests on in a plan over periods; with its planned `spend` per period, the periods
    where the plan goes beyond the largest spend observed (at the period's length)."""
    row = inputs.iloc[k]
    words = f"{row[S.TOUCHPOINT]}: {curve_words(row, plan.currency)}"
    what_if = str(plan.table[S.WHAT_IF].iloc[k * plan.line.count])
    if what_if and what_if not in (S.ADDED, S.REMOVED):
        words += f", with the what-if {what_if}"
    if spend is None:
        return words
    observed = float(np.nanmax([float(row[S.SPEND]), float(row.get(S.OBSERVED_MAX, np.nan))])) * plan.line.length
    beyond = np.flatnonzero(spend > observed * (1 + 1e-9) + 1e-9)
    if len(beyond):
        words += (f"; in {plan.calendar.describe(beyond)} the plan goes beyond the largest spend observed "
                  f"({units.money(observed, plan.currency)} a period), where the curve is its shape, not evidence")
    return words
