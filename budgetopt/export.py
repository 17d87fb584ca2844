"""A plan for planners and programs: the Excel workbook, the flat CSV and the JSON, built in memory as bytes.

`io.py` writes them to files (atomically); the app offers the same bytes as downloads. Safety: every text
cell of the CSV and the workbook that a spreadsheet would run as a formula (starting with =, +, -, @, tab
or CR) gets a leading apostrophe, headers included; numbers stay numbers. The JSON is for programs and
carries text as it is. `plan.csv` is a valid input (see touchpoints.plan_as_input); the JSON holds the
inputs and the scenario, so `replay_document` re-runs the plan.
"""

from __future__ import annotations

import csv
import hashlib
import io as _bytes_io
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from . import schema as S
from .cells import arrow_cells, made_of, matching, starting_with
from .engine import solver_versions
from .errors import BudgetOptError
from .optimize import optimize
from .plan import BUDGET_CHANGE, MoneyRule, Plan
from .scenario import Scenario
from .touchpoints import validate_touchpoints
from .units import LEGEND

SCHEMA = "budgetopt.plan"
SCHEMA_VERSION = 2
"""Version of the JSON layout; raised when a key changes meaning or disappears (new keys keep it). 2: every *_pct
is a percentage (1 had fractions outside plan[]), money rounded to Settings.rounding."""
FORMATS: tuple[str, ...] = ("xlsx", "csv", "json")
INPUT_COLUMNS: tuple[str, ...] = (S.CURVE, S.ELASTICITY, S.SATURATION, S.HALF_SATURATION, S.SHAPE, S.CURVE_POINTS,
                                  S.CURVE_BEYOND, S.SPREAD, S.CARRYOVER, S.CURVE_SOURCE, S.OBSERVED_MAX, S.MIN_SPEND,
                                  S.MAX_SPEND, S.LOCKED, S.MAX_CHANGE)
"""Input columns plan.csv carries beside the plan's own (value and tags are in the plan already), each where the
inputs have it: a tabulated curve's points and how far it may go beyond them, a period's spread. Not
curve_engaged: read back, the plan's engagement is on the curve at the plan's spend, which is its default."""
POWER_ONLY = "power"
"""The only curve that uses `elasticity`: other rows show it empty (the default 0.6 says nothing about them)."""
INPUT_ORDER: tuple[str, ...] = (S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, S.STAGE, S.SPEND, S.ENGAGED, S.CPE,
                                S.MIN_SPEND, S.MAX_SPEND, S.LOCKED, S.MAX_CHANGE, S.CURVE, S.ELASTICITY,
                                S.SATURATION, S.HALF_SATURATION, S.SHAPE, S.CURVE_ENGAGED, S.CARRYOVER,
                                S.CURVE_SOURCE, S.OBSERVED_MAX, S.VALUE)
SHEETS: tuple[str, ...] = ("Summary", "Plan", "By function", "By channel", "By stage", "Transfers", "Rules",
                           "Inputs", "About this plan")

CELL_BY_CELL = False
"""Write every workbook cell through XlsxWriter's own calls (the tests compare the two ways byte for byte)."""

MONEY = "#,##0.00"
CHANGE = "#,##0.00;[Red]-#,##0.00"
COUNT = "#,##0"
CPE = "#,##0.00"
PCT = "0.0%;[Red]-0.0%"
FRACTION = "0.00"
PRICE = "0.000000"
FORMAT = {
    "current_spend": MONEY, "proposed_spend": MONEY, "change": CHANGE, "change_pct": PCT,
    "current_engaged": COUNT, "proposed_engaged": COUNT, "current_cpe": CPE, "proposed_cpe": CPE,
    "marginal_cpe": CPE, "lower_limit": MONEY, "upper_limit": MONEY, S.VALUE: FRACTION,
    S.SPEND: MONEY, S.ENGAGED: COUNT, S.CPE: CPE, S.MIN_SPEND: MONEY, S.MAX_SPEND: MONEY,
    S.MAX_CHANGE: PCT, S.ELASTICITY: FRACTION, S.SATURATION: COUNT, "amount": MONEY,
    "share_current": PCT, "share_proposed": PCT, "price": PRICE,
}
LABEL = {
    S.TOUCHPOINT: "Touchpoint", S.FUNCTION: "Function", S.CHANNEL: "Channel", S.STAGE: "Stage",
    "current_spend": "Current spend", "proposed_spend": "Proposed spend", "change": "Change",
    "change_pct": "Change %", "current_engaged": "Engaged today", "proposed_engaged": "Engaged planned",
    "current_cpe": "Average CPE today", "proposed_cpe": "Average CPE planned", "marginal_cpe": "Marginal CPE",
    "lower_limit": "Lowest allowed spend", "upper_limit": "Highest allowed spend", S.VALUE: "Value",
    S.CURVE: "Curve", S.ELASTICITY: "Elasticity", S.SATURATION: "Saturation", S.MIN_SPEND: "Min spend",
    S.MAX_SPEND: "Max spend", S.LOCKED: "Locked", S.MAX_CHANGE: "Max change", S.SPEND: "Spend",
    S.ENGAGED: "Engaged", S.CPE: "CPE", "share_current": "Share today", "share_proposed": "Share planned",
    "from_function": "From function", "to_function": "To function", "amount": "Amount",
    "name": "Name", "family": "Family", "rule": "Rule", "binding": "Binds", "price": "Price (dual)",
    "unit": "Limit in", "price_text": "What it costs",
}
MEANING = {
    "current_spend": "money spent today (the input's spend)",
    "proposed_spend": "money the plan gives the touchpoint",
    "change": "proposed spend - current spend (negative: a cut)",
    "change_pct": "change / current spend (empty for a touchpoint with no spend today)",
    "current_engaged": "customers engaged today (the input)",
    "proposed_engaged": "customers the plan engages, on the touchpoint's response curve",
    "current_cpe": "average cost per engaged customer today: current spend / engaged today",
    "proposed_cpe": "average cost per engaged customer in the plan",
    "marginal_cpe": "what one more engaged customer costs at the planned spend (empty: more money buys nothing)",
    "lower_limit": "the least the rules let the touchpoint have",
    "upper_limit": "the most the rules (and the growth assumption) let the touchpoint have",
    S.VALUE: "weight of one engaged customer here (1 = ordinary)",
}
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
"""Control characters a workbook cannot store (openpyxl's ILLEGAL_CHARACTERS_RE): written as U+FFFD."""
STORABLE_BYTES = bytes([9, 10, 13, *range(32, 256)])
"""The UTF-8 bytes of text without those characters (each is one byte below 32, and no longer character's)."""
_GUARDED = re.compile(S.GUARDED)
HEADING = object()
"""Marks a heading row for _pairs."""


@dataclass(frozen=True)
class Provenance:
    """Where a plan came from: the input file's name and SHA-256, and when it was exported."""

    source: str | None = None
    source_sha256: str | None = None
    created: datetime | None = None

    @classmethod
    def of_bytes(cls, name: str | None, data: bytes) -> Provenance:
        """The provenance of an input given as bytes (e.g. an upload): its name and SHA-256."""
        return cls(name, hashlib.sha256(data).hexdigest())

    def stamped(self) -> Provenance:
        """This provenance with the export time set (now, in UTC, unless given)."""
        return self if self.created else replace(self, created=datetime.now(UTC).replace(microsecond=0))


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells and headers a spreadsheet would run as a formula get a leading apostrophe; numbers stay numbers."""
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        categorical = isinstance(column.dtype, pd.CategoricalDtype)
        if categorical:
            column = column.astype(object)
        kind = pd.api.types.infer_dtype(column, skipna=True)
        if kind == "string":
            text = column.astype("string")
            cells = arrow_cells(text)
            risky = matching(cells, S.GUARDED, starting_with(cells, _RISKY_STARTS))  # most cells: one byte looked at
            if risky.any() or categorical:  # else the column stays as it is (its dtype too)
                out.isetitem(i, column.where(~risky, ("'" + text).astype(object)))
        elif kind.startswith("mixed"):  # text among other values: only the text is guarded
            out.isetitem(i, column.map(_guard).astype(object))
    out.columns = [_guard(c) for c in out.columns]
    return out


_RISKY_STARTS = ("'" + "".join(S.FORMULA_STARTS)).encode()
"""The first characters of a cell that S.GUARDED may match."""


def _guard(text: object) -> object:
    return "'" + text if isinstance(text, str) and _GUARDED.match(text) else text


def round_to_total(values: np.ndarray, step: float = 0.01) -> np.ndarray:
    """Amounts rounded to multiples of `step` that add up exactly to their rounded total (largest remainder):
    each amount moves by less than one step, and the rounded plan still adds up to its budget."""
    values = np.nan_to_num(np.asarray(values, dtype=float))
    scaled = values / step
    down = np.floor(scaled + 1e-9)
    short = int(round(round(float(scaled.sum()), 6))) - int(down.sum())
    order = np.argsort(-(scaled - down), kind="stable")
    if short > 0:
        down[order[:short]] += 1
    elif short < 0:
        down[order[::-1][: -short]] -= 1
    return np.round(down * step, step_decimals(step)) + 0.0  # + 0.0: no -0.0 (a "-0" cell)


SNAP = 1e-6
"""An amount within this many steps of a multiple of the step is that multiple (the LP's rounding noise)."""
REPAIRED, MOVES_TRIED, PARTNERS = 5_000_000, 50, 4096
"""Rules that cross others, or weigh their cells, are repaired after rounding (round_keeping_rules) while the
rules hold at most REPAIRED cells in all, each broken rule trying at most MOVES_TRIED of its cells to move a step
from or to, their partners PARTNERS at a time."""


def round_keeping_rules(values: np.ndarray, step: float = 0.01, rules: Iterable[MoneyRule] = (),
                        own: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                        weighted: Iterable[tuple[np.ndarray, np.ndarray, str]] = ()) -> np.ndarray:
    """Amounts rounded to multiples of `step` so that the rounded plan keeps its rules as displayed.

    round_to_total alone keeps the grand total but a sum over a few cells may lose a cent (three months of TV at
    least 1,000,000 in Q4: 999,999.99). Here every amount, and every rule's sum, is rounded down or up (never
    further), a rule that binds on the side that keeps it (a floor's sum at or above its floor, a cap's at or
    below its cap, a cell at its own limit likewise), and the parts of each rule add up to its rounded sum:
    largest remainder, top-down from the total through the rules to the cells. Rules are taken smallest first
    while they nest (each inside or apart from every rule taken); one that crosses a rule already taken (TV in Q4
    and each month's marketing) is repaired afterwards where a step can move from a cell inside it to one outside
    that the same rules hold (_repair); where none can, its sum may miss by a step. An amount within SNAP of a
    multiple is that multiple. `own` gives cells' own limits as arrays (cell, sense, rhs): one-cell rules, at
    once. `weighted` gives rules sum_i a_i x_i (sense) 0 over some cells (index, a, sense), such as the pacing step
    X_t - 1.35 X_s <= 0: where one binds (its exact sum within half a step of 0), the rounded plan keeps it
    exactly, by the same repair, where a step can move for it."""
    v = np.nan_to_num(np.asarray(values, dtype=float)) / step
    n = len(v)
    nearest = np.round(v)
    v = np.where(np.abs(v - nearest) <= SNAP * np.maximum(1.0, 1e-6 * np.abs(v)), nearest, v)
    low, high = _choices(v)  # each cell: its floor, and its ceiling where it has a fraction
    wider: list[tuple[np.ndarray, MoneyRule]] = []
    one: list[tuple[int, MoneyRule]] = []  # a cell's own limits (a touchpoint's floor, cap or lock)
    for rule in rules:
        index = np.asarray(rule.index, np.int64).ravel()
        if index.size > 1:
            index = np.unique(index)
        index = index[(index >= 0) & (index < n)]
        if len(index) == 1:
            one.append((int(index[0]), rule))
        elif len(index):
            wider.append((index, rule))
    cell = np.array([i for i, _ in one], np.int64)
    sense = np.array([rule.sense for _, rule in one], dtype=object)
    rhs = np.array([rule.rhs for _, rule in one], float) / step
    if own is not None:
        inside = (own[0] >= 0) & (own[0] < n)
        cell = np.concatenate([cell, np.asarray(own[0], np.int64)[inside]])
        sense = np.concatenate([sense, np.asarray(own[1], dtype=object)[inside]])
        rhs = np.concatenate([rhs, np.asarray(own[2], float)[inside] / step])
    if len(cell):  # each cell's own limits: the side it may round to (_favour, for every such rule at once)
        total = v[cell]
        floor_side = np.isin(sense, (">=", "==")) & (total >= rhs - 0.5)
        cap_side = np.isin(sense, ("<=", "==")) & (total <= rhs + 0.5)
        np.maximum.at(low, cell[floor_side], np.ceil(rhs[floor_side] - SNAP))
        np.minimum.at(high, cell[cap_side], np.floor(rhs[cap_side] + SNAP))
        clash = np.flatnonzero(low > high)  # a lock between two multiples: the nearest
        low[clash] = high[clash] = np.round(v[clash])
    owner = np.full(n, -1)  # the smallest rule holding each cell
    top = np.full(n, -1)  # the largest rule holding each cell
    region: list[int] = []  # cells of each rule taken (whose largest rule it is, while it is the largest)
    parent: list[int] = []
    sums: list[float] = []
    bounds: list[tuple[float, float]] = []
    seen: dict[bytes, int] = {}
    crossing: list[tuple[np.ndarray, MoneyRule]] = []
    members: list[np.ndarray] = []  # the cells of each rule taken
    for index, rule in sorted(wider, key=lambda pair: len(pair[0])):
        key = index.tobytes()
        if key in seen:  # another rule on the same cells (a floor and a cap): both keep their side
            k = seen[key]
            bounds[k] = _favour(sums[k], rule, step, *bounds[k])
            continue
        inside = top[index]
        held, count = np.unique(inside[inside >= 0], return_counts=True)
        if len(held) and (count != np.asarray(region)[held]).any():
            crossing.append((index, rule))  # crosses a rule already taken (holds some of its cells, not all)
            continue
        k = len(parent)
        seen[key] = k
        members.append(index)
        parent.append(-1)
        region.append(len(index))
        for h in held:
            parent[h] = k
        total = float(v[index].sum())
        sums.append(total)
        lo, hi = _choices(np.array([total]))
        bounds.append(_favour(total, rule, step, float(lo[0]), float(hi[0])))
        owner[index[owner[index] < 0]] = k
        top[index] = k
    cells = np.argsort(owner, kind="stable")
    split = np.searchsorted(owner[cells], np.arange(-1, len(parent) + 1))
    children: dict[int, list[int]] = {}
    for k, p in enumerate(parent):
        children.setdefault(p, []).append(k)
    out = low.copy()
    target = np.zeros(len(parent))
    for k in [-1, *range(len(parent) - 1, -1, -1)]:  # a rule is taken after the rules inside it: parents first
        kids = np.asarray(children.get(k, []), np.int64)
        mine = cells[split[k + 1]:split[k + 2]]
        exact = np.concatenate([np.asarray(sums, float)[kids] if len(kids) else [], v[mine]])
        lo = np.concatenate([[bounds[c][0] for c in kids], low[mine]])
        hi = np.concatenate([[bounds[c][1] for c in kids], high[mine]])
        goal = round(float(v.sum())) if k < 0 else target[k]
        shared = _largest_remainder(exact, lo, hi, goal)
        target[kids] = shared[:len(kids)]
        out[mine] = shared[len(kids):]
    weighted = [(np.asarray(index, np.int64), np.asarray(a, float), sense) for index, a, sense in weighted]
    if crossing or weighted:
        taken = [(index, None, lo, hi) for index, (lo, hi) in zip(members, bounds, strict=True)]
        limits = taken + [(index, None, *_favour(float(v[index].sum()), rule, step, -np.inf, np.inf))
                          for index, rule in crossing]
        for index, a, sense in weighted:
            total = float(a @ v[index])
            limits.append((index, a, 0.0 if sense in (">=", "==") and total >= -0.5 else -np.inf,
                           0.0 if sense in ("<=", "==") and total <= 0.5 else np.inf))
        if _any_broken(out, limits[len(taken):]) and sum(len(index) for index, *_ in limits) <= REPAIRED:
            out = _repair(out, low, high, limits, len(taken))
    return np.round(out * step, step_decimals(step)) + 0.0  # + 0.0: no -0.0 (a "-0" cell)


def _any_broken(out: np.ndarray, limits: list[tuple]) -> bool:
    """Whether a rounded plan (in steps) breaks any of these limits (as _repair reads them): a quick look first."""
    for index, a, least, most in limits:
        total = float(out[index].sum() if a is None else a @ out[index])
        slack = 0.5 if a is None else 1e-6
        if total > most + slack or total < least - slack:
            return True
    return False


def _repair(out: np.ndarray, low: np.ndarray, high: np.ndarray, limits: list[tuple], first: int) -> np.ndarray:
    """The rules left out for crossing others, or weighing their cells (limits[first:]), kept where steps can be
    moved for them: each move takes a step from one cell and gives it to another, every cell staying at its floor
    or ceiling (low, high) and every rule within its limits (the rules taken: their rounded sums; the others:
    their side where they bind) or no further from them than before.

    A limit is (index, coefficients or None for a plain sum, least, most), in steps: sum_i a_i x_i within
    [least, most]. A plain sum is whole and may sit half a step off; a weighted one (X_t - 1.35 X_s <= 0: the
    pacing step) is held to its side exactly. A broken rule's sum is moved toward its limits by a step off a
    cell whose coefficient hurts (or onto one whose coefficient helps), paired with any cell that does not undo
    it; at most MOVES_TRIED cells of the rule are tried, their partners in blocks of PARTNERS."""
    from scipy import sparse

    rows = np.concatenate([np.full(len(index), r) for r, (index, *_) in enumerate(limits)])
    cols = np.concatenate([index for index, *_ in limits])
    data = np.concatenate([np.ones(len(index)) if a is None else np.asarray(a, float) for index, a, _, _ in limits])
    member = sparse.csc_matrix((data, (rows, cols)), shape=(len(limits), len(out)))
    by_rule = member.tocsr()
    least = np.array([lo for *_, lo, _ in limits], float)
    most = np.array([hi for *_, hi in limits], float)
    slack = np.array([0.5 if a is None else 1e-6 for _, a, _, _ in limits])
    out = out.copy()
    for _ in range(8 * (len(limits) - first)):
        sums = by_rule @ out
        above, below = sums > most + slack, sums < least - slack
        broken = first + np.flatnonzero(above[first:] | below[first:])
        if not len(broken):
            break
        moved = False
        for r in broken.tolist():
            way = -1.0 if above[r] else 1.0  # the rule's sum must fall (a cap) or rise (a floor)
            start, stop = by_rule.indptr[r], by_rule.indptr[r + 1]
            cells, a = by_rule.indices[start:stop], by_rule.data[start:stop]
            where = np.zeros(len(out))
            where[cells] = way * a  # > 0: a step onto the cell helps; < 0: a step off it helps
            down, up = out - 1 >= low - SNAP, out + 1 <= high + SNAP
            for cell in cells[np.argsort(-np.abs(a), kind="stable")][:MOVES_TRIED]:
                off = where[cell] < 0  # take the step off this cell, else put it on
                if not (down[cell] if off else up[cell]):
                    continue
                partners = np.flatnonzero((up if off else down) & ((where >= 0) if off else (where <= 0)))
                partners = partners[partners != cell]
                for block in range(0, len(partners), PARTNERS):
                    part = partners[block:block + PARTNERS]
                    sign = 1.0 if off else -1.0  # +1 on the partner and -1 on the cell, or the reverse
                    change = sign * (member[:, part].toarray() - member[:, [cell]].toarray())
                    after = sums[:, None] + change
                    fine = (((after <= most[:, None] + slack[:, None]) | (after <= sums[:, None] + 1e-9))
                            & ((after >= least[:, None] - slack[:, None]) | (after >= sums[:, None] - 1e-9)))
                    fine &= way * change[r] > 1e-12
                    ok = np.flatnonzero(fine.all(axis=0))
                    if len(ok):
                        out[part[ok[0]]] += sign
                        out[cell] -= sign
                        moved = True
                        break
                if moved:
                    break
            if moved:
                break
        if not moved:
            break  # no step can move for the rules left broken: they may miss by a step
    return out


def _choices(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two whole numbers an amount (in steps) may round to: its floor, and its ceiling (the floor again
    when it is whole)."""
    down = np.floor(scaled + SNAP)
    return down, np.where(scaled - down > SNAP, down + 1, down)


def _favour(total: float, rule: MoneyRule, step: float, lo: float, hi: float) -> tuple[float, float]:
    """The rounded sums a rule allows, of `lo`..`hi`: where it binds (within half a step), only those on its side.
    A rule that cannot keep both sides (a lock between two multiples) takes the nearest."""
    rhs = rule.rhs / step
    if rule.sense in (">=", "==") and total >= rhs - 0.5:
        lo = max(lo, float(np.ceil(rhs - SNAP)))
    if rule.sense in ("<=", "==") and total <= rhs + 0.5:
        hi = min(hi, float(np.floor(rhs + SNAP)))
    if lo > hi:
        lo = hi = float(round(total))
    return lo, hi


def _largest_remainder(exact: np.ndarray, lo: np.ndarray, hi: np.ndarray, goal: float) -> np.ndarray:
    """Whole numbers between lo and hi (which differ by at most one) adding up to `goal`: all at lo, then those
    with the largest remainders up (when the goal is out of reach, as close as lo and hi allow)."""
    out = np.asarray(lo, float).copy()
    room = np.flatnonzero(np.asarray(hi) > out)
    up = int(min(max(round(goal - out.sum()), 0), len(room)))
    if up:
        remainder = exact[room] - np.floor(exact[room] + SNAP)
        out[room[np.argsort(-remainder, kind="stable")[:up]]] += 1
    return out


def step_decimals(step: float) -> int:
    """Decimals a multiple of `step` needs: 2 for 0.01, 0 for 1 or 1000."""
    return max(0, int(-np.floor(np.log10(step) + 1e-9)))


def _decimals(plan: Plan) -> int:
    return step_decimals(plan.scenario.settings.rounding)


CPE_COLUMNS = ("current_cpe", "proposed_cpe", "marginal_cpe")


def rounded(plan: Plan) -> Plan:
    """The plan as exports show it: money in multiples of Settings.rounding (cents by default) adding up exactly to
    the plan's total, changes recomputed from the rounded amounts, customers to 2 decimals, CPEs to 4."""
    step = plan.scenario.settings.rounding
    t = plan.table.copy()
    if getattr(plan, "by_period", None) is not None:  # today's money adding up period by period too
        from .period_export import money_cells

        t["current_spend"], t["proposed_spend"] = money_cells(plan)
    else:
        t["current_spend"] = round_to_total(t["current_spend"].to_numpy(float), step)
        t["proposed_spend"] = round_plan_money(plan)
    for column in ("lower_limit", "upper_limit"):
        t[column] = round_to_total(t[column].to_numpy(float), step)
    exact = plan.table["proposed_spend"].to_numpy(float)
    for column in ("lower_limit", "upper_limit"):  # a row at its own limit shows the limit it is rounded to
        at = np.abs(exact - plan.table[column].to_numpy(float)) <= SNAP * step * np.maximum(1.0, 1e-6 * exact / step)
        t.loc[at, column] = t.loc[at, "proposed_spend"]
    t["change"] = np.round(t["proposed_spend"] - t["current_spend"], 10)
    with np.errstate(divide="ignore", invalid="ignore"):
        t["change_pct"] = np.where(t["current_spend"] > 0, t["change"] / t["current_spend"], np.nan)
    for column in ("current_engaged", "proposed_engaged"):
        t[column] = t[column].round(2)
    for column in CPE_COLUMNS:
        t[column] = t[column].round(4)
    return replace(plan, table=t, budget=float(round_to_total(np.array([plan.budget]), step)[0]))


def round_plan_money(plan: Plan) -> np.ndarray:
    """The plan's money per row of plan.table, rounded to Settings.rounding so that it adds up to its total and
    keeps the rules as displayed (round_keeping_rules): the plan's money rules, and each row's own floor and cap
    (lower_limit, upper_limit)."""
    t = plan.table
    rules = list(getattr(plan, "money_rules", None) or [])
    x = t["proposed_spend"].to_numpy(float)
    step = plan.scenario.settings.rounding
    cells, senses, limits = [], [], []
    for column, sense in (("lower_limit", ">="), ("upper_limit", "<=")):
        if column in t.columns:
            bound = t[column].to_numpy(float)
            near = np.flatnonzero(np.isfinite(bound) & (np.abs(x - bound) < step))  # a row at its own limit keeps it
            cells.append(near)
            senses.append(np.full(len(near), sense, dtype=object))
            limits.append(bound[near])
    own = ((np.concatenate(cells), np.concatenate(senses), np.concatenate(limits)) if cells else None)
    return round_keeping_rules(x, step, rules, own, pacing_steps(plan))


def pacing_steps(plan: Plan) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """A plan over periods with [periods] max_step d: its rules X_t - (1 + d) X_s <= 0 and X_t - (1 - d) X_s >= 0
    (the latter while d < 1) for consecutive periods s, t (X: the plan's money in a period), as weighted rules
    (index, coefficients, sense) over plan.table's rows for round_keeping_rules; none for other plans."""
    periods = getattr(plan.scenario, "periods", None)
    step = getattr(periods, "max_step", None)
    labels = getattr(plan, "periods", None)
    if step is None or labels is None or "period" not in plan.table.columns:
        return []
    t_of = plan.table["period"].map({label: t for t, label in enumerate(labels)}).to_numpy(float)
    if S.WHAT_IF in plan.table.columns:  # rows a scenario removed hold no money of the plan
        t_of = np.where(plan.table[S.WHAT_IF].eq(S.REMOVED).to_numpy(bool), np.nan, t_of)
    out = []
    for t in range(1, len(labels)):
        now, before = np.flatnonzero(t_of == t), np.flatnonzero(t_of == t - 1)
        index = np.concatenate([now, before])
        for sense, factor in (("<=", 1 + step), (">=", 1 - step)):
            if factor > 0:
                out.append((index, np.concatenate([np.ones(len(now)), np.full(len(before), -factor)]), sense))
    return out


def _check(plan: Plan, inputs: pd.DataFrame) -> None:
    if not plan.ok:
        raise BudgetOptError(f"there is no plan to export (status {plan.status.value}: {plan.message}); "
                             "export once the scenario has a plan")
    planned = plan.table[plan.table[S.WHAT_IF] != S.REMOVED] if S.WHAT_IF in plan.table.columns else plan.table
    missing = sorted(set(planned[S.TOUCHPOINT]) - set(inputs[S.TOUCHPOINT]))
    if missing:
        raise BudgetOptError("the inputs given with the plan are not the plan's: they lack "
                             + ", ".join(repr(m) for m in missing[:5]) + "; pass the table the plan was made from")


def _aligned(plan: Plan, inputs: pd.DataFrame) -> pd.DataFrame:
    """The inputs, one row per plan row, in the plan's order."""
    names = plan.table[S.TOUCHPOINT].to_numpy(object)
    if len(names) == len(inputs) and (inputs[S.TOUCHPOINT].to_numpy(object) == names).all():
        return inputs.reset_index(drop=True)  # the usual case: the same touchpoints in the same order
    return inputs.set_index(S.TOUCHPOINT).reindex(plan.table[S.TOUCHPOINT].to_numpy()).rename_axis(
        S.TOUCHPOINT).reset_index()  # a touchpoint the scenario removed has no input row: its columns stay empty


def plan_table(plan: Plan, inputs: pd.DataFrame) -> pd.DataFrame:
    """The Plan sheet and plan.csv: the plan per touchpoint, then the input columns a faithful re-read needs."""
    _check(plan, inputs)
    table = plan.table.reset_index(drop=True)
    used = _aligned(plan, inputs)
    head = [c for c in table.columns if c in set(S.PLAN_ONLY) | {S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, S.STAGE}]
    tail = [c for c in table.columns if c not in head]
    carried = used[[c for c in INPUT_COLUMNS if c in used.columns and c not in table.columns]]
    if S.ELASTICITY in carried.columns and S.CURVE in carried.columns:
        carried = carried.assign(**{S.ELASTICITY: carried[S.ELASTICITY].where(carried[S.CURVE].eq(POWER_ONLY))})
    return pd.concat([table[head], carried, table[tail]], axis=1)


def inputs_table(inputs: pd.DataFrame) -> pd.DataFrame:
    """The touchpoint table as used, in input form: `cpe` (the engine's unit cost) instead of `unit_cost`."""
    table = inputs.rename(columns={"unit_cost": S.CPE}).reset_index(drop=True)
    known = [c for c in INPUT_ORDER if c in table.columns]
    return table[known + [c for c in table.columns if c not in known]]


PERCENT_SUFFIX = "_pct"
"""Every figure whose name ends in _pct is a percentage in the CSV and the JSON (-30.0 = 30 % less); the workbook
holds the fraction under a percent format (-30.0 %), as Excel expects."""
MONEY_FIGURES = frozenset({"budget", "current_spend", "proposed_spend", "change", "lower_limit", "upper_limit",
                           "amount", "money_moved_across_functions", "money_saved"})
"""Money figures of the plan: rounded to Settings.rounding (cents) in every export."""
COUNT_FIGURES = frozenset({"current_engaged", "proposed_engaged", "current_weighted", "proposed_weighted",
                           "engaged_in_period", "current_engaged_in_period", "engaged_after_horizon",
                           "curves_today_engaged", "curves_today_weighted", "whatif_engaged", "whatif_weighted"})
"""Engaged customers and weighted engagement: rounded to 2 decimals in every export."""


def as_percent(table: pd.DataFrame) -> pd.DataFrame:
    """Every *_pct column as a percentage (-30.0 = 30 % less), rounded to 2 decimals, for CSV and JSON, which carry
    no number format (the workbook keeps the fraction under a percent format)."""
    pct = [c for c in table.columns if str(c).endswith(PERCENT_SUFFIX)]
    return table.assign(**{c: (100 * table[c].astype(float)).round(2) for c in pct}) if pct else table


RANGE_COUNTS = re.compile(r"^(protected_)?(plan|today)_(mean|low|median|high|tail)$")
"""A range's figures over draws (risk.PlanRange.figures): engaged customers (or weighted engagement), 2 decimals."""
RESULT_MONEY = frozenset({"money_needed", "protection_money"})
"""Money columns of the frontier and sweep tables beside MONEY_FIGURES (budget, proposed_spend, current_spend)."""
RESULT_COUNTS = frozenset({"engaged_customers", "weighted_engagement", "protection_cost"})
"""Engagement columns of the frontier and sweep tables beside COUNT_FIGURES."""
FRACTIONS = frozenset({"share_current", "share_proposed", "beats_today"})
"""Fractions that are not *_pct (a share, a probability): 4 decimals (0.0144 = 1.44 %)."""


def _decimals_of(name: str, decimals: int, percent: bool) -> int | None:
    """How many decimals a figure named `name` keeps in an export (None: as it is): money `decimals`, customers 2,
    CPEs 4, fractions 4, and *_pct 2 as a percentage (`percent`) or 4 as the fraction the workbook formats."""
    if name in MONEY_FIGURES or name in RESULT_MONEY:
        return decimals
    if name in COUNT_FIGURES or name in RESULT_COUNTS or RANGE_COUNTS.match(name):
        return 2
    if name in CPE_COLUMNS or name in FRACTIONS:
        return 4
    if name.endswith(PERCENT_SUFFIX):
        return 2 if percent else 4
    return None


def rounded_figures(table: pd.DataFrame, decimals: int = 2, percent: bool = False) -> pd.DataFrame:
    """Every figure of a table rounded as plan.csv rounds it (_decimals_of): money to `decimals` (a sum of rounded
    amounts carries float noise: 707689.1399999999 -> 707689.14), customers to 2 decimals, CPEs and fractions to
    4, *_pct as the fraction to 4 (the workbook) or, with `percent`, as a percentage to 2. Other columns as they
    are."""
    out = as_percent(table) if percent else table
    numeric = {c: d for c in out.columns if (d := _decimals_of(str(c), decimals, percent)) is not None
               and pd.api.types.is_float_dtype(out[c])}
    return out.assign(**{c: out[c].round(d) + 0.0 for c, d in numeric.items()}) if numeric else out  # no -0.0


def for_programs(table: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """A table as the CSV and the JSON give it: *_pct in percent (as_percent), every figure rounded
    (rounded_figures)."""
    return rounded_figures(table, decimals, percent=True)


def figures_for_programs(figures: Mapping[str, object], decimals: int = 2, *, percent: bool = True,
                         protected: bool = True) -> dict[str, object]:
    """The summary's figures as the JSON gives them: the rules of `for_programs`, key by key, into nested figures
    (the range: its figures rounded, `draws` a whole number, its protected_* only with `protected`)."""
    out = dict(figures)
    for key, value in figures.items():
        if isinstance(value, Mapping):
            inner = {k: v for k, v in value.items() if protected or not str(k).startswith("protected_")}
            if isinstance(inner.get("draws"), float | np.floating) and float(inner["draws"]).is_integer():
                inner["draws"] = int(inner["draws"])
            out[key] = figures_for_programs(inner, decimals, percent=percent, protected=protected)
            continue
        if not isinstance(value, float | np.floating) or not np.isfinite(value):
            continue
        places = _decimals_of(key, decimals, percent)
        if places is not None:
            out[key] = round((100 if percent and key.endswith(PERCENT_SUFFIX) else 1) * float(value), places) + 0.0
    return out


def rollup(plan: Plan, column: str) -> pd.DataFrame:
    """plan.by(column) in sheet order, with each member's share of the total today and in the plan."""
    g = plan.by(column)
    g["share_current"] = g["current_spend"] / g["current_spend"].sum()
    g["share_proposed"] = g["proposed_spend"] / g["proposed_spend"].sum()
    order = [column, "current_spend", "proposed_spend", "change", "change_pct", "share_current", "share_proposed",
             "current_engaged", "proposed_engaged", "current_cpe", "proposed_cpe"]
    return g[order + [c for c in g.columns if c not in order]]


def rules_table(plan: Plan) -> pd.DataFrame:
    """Every rule, binding ones first (dearest first), with any extra columns the plan carries (e.g. whole_price).

    A rule a person set may be several LP rows and bounds (a group's floor and cap, the growth assumption on
    many touchpoints): its whole price is written once, on its first row, and `priced_with` names the rule on
    every row, so that summing the column counts each rule once."""
    rules = plan.rules.reset_index(drop=True)
    key = rules.assign(_bind=~rules["binding"].astype(bool), _price=-rules["price"].astype(float))
    rules = rules.loc[key.sort_values(["_bind", "_price"], kind="stable").index].reset_index(drop=True)
    if "rule_unit" in rules.columns:
        first = ~rules["rule_unit"].duplicated() | rules["rule_unit"].isna()
        rules["whole_price"] = rules["whole_price"].where(first)
        rules = rules.rename(columns={"rule_unit": "priced_with"})
    return rules


def biggest(plan: Plan, n: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The n biggest cuts and the n biggest increases, by money."""
    t = plan.table[[S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, "change", "change_pct"]]
    cuts = t[t["change"] < -0.005].nsmallest(n, "change")
    rises = t[t["change"] > 0.005].nlargest(n, "change")
    return cuts.reset_index(drop=True), rises.reset_index(drop=True)


def headline(plan: Plan) -> dict[str, object]:
    """Status, budget and the summary figures, for the Summary sheet and the JSON."""
    scenario = plan.scenario
    return {"scenario": scenario.name, "description": scenario.description, "status": plan.status.value,
            "message": plan.message, "budget": plan.budget, "budget_is_at_most": scenario.budget.at_most,
            "mode": scenario.objective.mode.value, "currency": plan.currency, "measure": plan.measure,
            "today_is": "the data as given", **plan.summary(),
            "notes": plan.notes(), "rests_on": plan.basis.lines(plan.currency) if plan.basis is not None else [],
            "rests_on_summary": plan.basis.headline() if plan.basis is not None else "",
            "how_sure": how_sure(plan), "range": plan.range.figures() if plan.range is not None else {}}


def how_sure(plan: Plan) -> list[str]:
    """The plan's range over draws of the curves and what protecting its downside costs, in words (none: [])."""
    lines = []
    if plan.range is not None:
        words = plan.range.words()
        lines.append(words[:1].upper() + words[1:])
    if plan.protection is not None:
        lines.append(plan.protection.words())
    return lines


def assumptions(plan: Plan, inputs: pd.DataFrame) -> list[str]:
    """The response-curve and growth assumptions behind the plan, in words."""
    settings = plan.scenario.settings
    lines = []
    for curve, rows in inputs.groupby(S.CURVE, sort=True):
        n = f"{len(rows)} touchpoint{'s' if len(rows) != 1 else ''}"
        if curve == "linear":
            lines.append(f"linear: {n}; constant cost per engaged customer")
        elif curve == "power":
            e = rows[S.ELASTICITY]
            lines.append(f"power: {n}; engaged = engaged today x (spend / spend today) ^ elasticity, elasticity "
                         f"{e.min():.2f} to {e.max():.2f} (default {S.DEFAULT_ELASTICITY} where not given)")
        elif curve == "hill":
            lines.append(f"hill: {n}; engaged = saturation x spend^shape / (half_saturation^shape + spend^shape)")
        else:
            lines.append(f"{curve}: {n}; engaged = saturation x (1 - exp(-spend / k)), k = half_saturation / ln 2 "
                         "where given, else fitted to today's point")
    lines.append(f"without max_spend a touchpoint may grow to at most {settings.max_growth:g} x today's spend")
    lines.append(f"each curve is cut into {settings.segments} segments (chords below the curve)"
                 + (", refined once around the first plan" if settings.refine else ""))
    return lines


def _file_name(source: str | None) -> str | None:
    """A file's name without its folders: exports never carry a path of the machine that made them."""
    if not source:
        return source
    return re.split(r"[\\/]", str(source).rstrip("/\\"))[-1]


def about(plan: Plan, inputs: pd.DataFrame, provenance: Provenance) -> dict[str, object]:
    """Where the plan came from and how it was made: input file, solver, versions, assumptions, scenario."""
    from . import __version__

    stats = plan.stats
    return {
        "created": provenance.stamped().created.isoformat(),
        "budgetopt_version": __version__,
        "input_file": _file_name(provenance.source),
        "input_sha256": provenance.source_sha256,
        "touchpoints": int(plan.table[S.TOUCHPOINT].nunique()),  # over periods: each once, not once per period
        **({"periods": plan.calendar.count} if getattr(plan, "calendar", None) is not None else {}),
        "solver": stats.get("solver", plan.scenario.settings.solver),
        "solver_versions": solver_versions(),
        "segments_per_curve": plan.scenario.settings.segments,
        "solver_passes": stats.get("passes"),
        "lp_columns": stats.get("columns"),
        "lp_rows": stats.get("rows"),
        "solve_seconds": stats.get("total_solve_seconds"),
        "curve_assumptions": assumptions(plan, inputs),
        "scenario": {**(dumped := plan.scenario.model_dump(mode="json")), "data": _file_name(dumped.get("data"))},
    }


# ---------------------------------------------------------------- CSV


def plan_csv_bytes(plan: Plan, *, inputs: pd.DataFrame) -> bytes:
    """plan.csv: the Plan sheet as one flat table (UTF-8 with BOM for Excel), itself a valid input. Money in cents
    (Settings.rounding) adding up to the plan's total; change_pct in percent (-30 = 30 % less). A plan over periods
    writes its long table instead (period_export.long_table: a valid history for the next plan)."""
    if getattr(plan, "by_period", None) is not None:
        from .period_export import long_csv_bytes

        return long_csv_bytes(plan)
    plan = rounded(plan)
    table = neutralise(for_programs(plan_table(plan, inputs), _decimals(plan)))
    return csv_text(table, "%.15g").encode("utf-8-sig")


def csv_text(frame: pd.DataFrame, float_format: str) -> str:
    """`frame.to_csv(index=False, float_format=float_format)`, the same text, faster: each float column is
    formatted by one list comprehension (NaN as an empty cell) where pandas makes several calls per cell
    (10,000 plan rows: 0.3 s -> 0.05 s)."""
    columns = [_csv_cells(frame.iloc[:, i], float_format) for i in range(frame.shape[1])]
    if not columns or any(cells is None for cells in columns) or not isinstance(frame.columns, pd.Index) or \
            isinstance(frame.columns, pd.MultiIndex):
        out = frame.copy(deep=False)
        for i, dtype in enumerate(frame.dtypes):
            if dtype == np.float64:
                out.isetitem(i, _float_texts(frame.iloc[:, i].to_numpy(), float_format))
        return out.to_csv(index=False, float_format=float_format)
    buffer = _bytes_io.StringIO()  # pandas' own writer and dialect: csv.writer, QUOTE_MINIMAL, os.linesep
    writer = csv.writer(buffer, lineterminator=os.linesep)
    writer.writerow(frame.columns.tolist())
    writer.writerows(zip(*columns, strict=True))
    return buffer.getvalue()


def _csv_cells(column: pd.Series, float_format: str) -> list | None:
    """A column's cells as csv.writer writes them as pandas would: floats formatted, missing text as None (an
    empty cell), whole numbers and booleans as they are; None for a column of other values (pandas writes it)."""
    if column.dtype == np.float64:
        return _float_texts(column.to_numpy(), float_format).tolist()
    if column.dtype == np.int64 or column.dtype == np.bool_:
        return column.to_numpy().tolist()
    if (column.dtype == object or pd.api.types.is_string_dtype(column)) and \
            pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
        cells = column.to_numpy(dtype=object)
        missing = pd.isna(cells)
        if missing.any():
            cells = cells.copy()
            cells[missing] = None
        return cells.tolist()
    return None


def _float_texts(values: np.ndarray, float_format: str) -> np.ndarray:
    """`float_format % value` for each float, '' for NaN; a column that repeats its values (an elasticity, a
    limit, a column left empty) formats each distinct value once (bit for bit: -0.0 is not 0.0)."""
    text = np.full(len(values), "", dtype=object)
    filled = ~np.isnan(values)
    if not filled.any():
        return text
    numbers = values[filled]
    codes, distinct = pd.factorize(numbers.view(np.int64))
    if len(distinct) <= len(numbers) // 2:
        words = np.array([float_format % v for v in distinct.view(np.float64).tolist()], dtype=object)
        text[filled] = words[codes]
    elif float_format == "%.15g":
        text[filled] = _fixed_texts(numbers)
    else:
        text[filled] = [float_format % v for v in numbers.tolist()]
    return text


_EXACT = ((4, 1e11), (2, 1e13))
"""(decimals d, bound): a value below the bound that is a whole number k of 10^-d has k below 1e15."""


def _fixed_texts(numbers: np.ndarray) -> np.ndarray:
    """`'%.15g' % v` for each float, by whole arrays where v is a whole number k of 10^-d (d = 4, or 2 for larger
    amounts) with k below 1e15: then v is the float nearest to k / 10^d, which '%.15g' writes exactly, in fixed
    notation (|v| is 0 or at least 1e-4) without trailing zeros. The other values one by one. Exports round money to
    cents and costs per customer to 4 decimals, so most values take the fast way."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = np.empty(len(numbers), dtype=object)
    size = np.abs(numbers)
    left = np.ones(len(numbers), dtype=bool)
    for decimals, bound in _EXACT:
        unit = 10.0 ** decimals
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.rint(size * unit)
            fast = left & (size < bound) & (scaled / unit == size)
        if not fast.any():
            continue
        left &= ~fast
        k = scaled[fast].astype(np.int64)
        negative = np.signbit(numbers[fast])
        whole = pc.cast(pa.array(np.where(negative, -(k // int(unit)), k // int(unit))), pa.string())
        minus_zero = negative & (k < unit)  # -0.5 and -0.0: -(0) would lose the sign
        if minus_zero.any():
            whole = pc.replace_with_mask(whole, pa.array(minus_zero), pa.array(["-0"] * int(minus_zero.sum())))
        digits = pc.utf8_rtrim(pc.utf8_lpad(pc.cast(pa.array(k % int(unit)), pa.string()), decimals, "0"), "0")
        point = pc.if_else(pc.equal(pc.binary_length(digits), 0), "", ".")
        text[fast] = pc.binary_join_element_wise(whole, point, digits, "").to_numpy(zero_copy_only=False)
    slow = np.flatnonzero(left)
    if len(slow):
        text[slow] = [f"{v:.15g}" for v in numbers[slow].tolist()]
    return text


# ---------------------------------------------------------------- JSON


def _plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain Python values (float, int, bool, str), None for missing values, NaN and infinities."""
    missing = np.array(frame.isna().to_numpy(), dtype=bool)  # a copy: pandas may hand out a read-only view
    for i, dtype in enumerate(frame.dtypes):
        if pd.api.types.is_float_dtype(dtype):
            missing[:, i] |= ~np.isfinite(frame.iloc[:, i].to_numpy())
    return frame.astype(object).where(~missing, None)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts; NaN and infinities become null."""
    return _plain_frame(frame).to_dict("records")


def _plain(value: object) -> object:
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


def plan_document(plan: Plan, *, inputs: pd.DataFrame, provenance: Provenance | None = None) -> dict[str, object]:
    """Everything the workbook shows, as one JSON-ready dict with a schema version."""
    provenance = (provenance or Provenance()).stamped()
    plan = rounded(plan)
    decimals = _decimals(plan)
    table = for_programs(plan_table(plan, inputs), decimals)
    cuts, rises = biggest(plan)
    periods = {}
    if getattr(plan, "by_period", None) is not None:  # a plan over time: its periods (period_export)
        from .period_export import period_document

        periods = {"periods": period_document(plan)}
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "summary": {k: _plain(v) for k, v in figures_for_programs(
            headline(plan), decimals, protected=getattr(plan, "protection", None) is not None).items()},
        "biggest_cuts": _records(for_programs(cuts, decimals)),
        "biggest_increases": _records(for_programs(rises, decimals)),
        "plan": _records(table),
        "by_function": _records(for_programs(rollup(plan, S.FUNCTION), decimals)),
        "by_channel": _records(for_programs(rollup(plan, S.CHANNEL), decimals)),
        "by_stage": _records(for_programs(rollup(plan, S.STAGE), decimals)),
        "transfers": _records(for_programs(plan.transfers, decimals)),
        "rules": _records(rules_table(plan)),
        "inputs": _records(inputs_table(inputs)),
        "about": about(plan, inputs, provenance),
        **periods,
    }


def plan_json_bytes(plan: Plan, *, inputs: pd.DataFrame, provenance: Provenance | None = None) -> bytes:
    """plan.json: `plan_document` as strict JSON (no NaN), UTF-8."""
    document = plan_document(plan, inputs=inputs, provenance=provenance)
    return json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False).encode("utf-8")


def replay_document(document: Mapping[str, object]) -> Plan:
    """Re-run the plan recorded in a JSON export: its inputs table and scenario, through the same optimiser."""
    if document.get("schema") != SCHEMA or not isinstance(document.get("inputs"), list):
        raise BudgetOptError("this JSON is not a budgetopt plan export (no 'schema': 'budgetopt.plan' and "
                             "'inputs'); export the plan again with budgetopt")
    version = document.get("schema_version")
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise BudgetOptError(f"this plan export has schema version {version!r}; this budgetopt reads up to "
                             f"{SCHEMA_VERSION}: upgrade budgetopt")
    about_ = document.get("about")
    recorded = about_.get("scenario") if isinstance(about_, Mapping) else None
    try:
        scenario = Scenario.model_validate(recorded)
    except ValueError as exc:  # pydantic's ValidationError
        raise BudgetOptError(f"the scenario recorded in this plan export cannot be read: {exc}") from exc
    inputs = validate_touchpoints(pd.DataFrame.from_records(document["inputs"]), source="the JSON's inputs")
    # the inputs are recorded after the scenario's overrides: apply them once only
    return optimize(inputs, scenario.model_copy(update={"overrides": (), "add_touchpoints": ()}))


# ---------------------------------------------------------------- XLSX


def _cells(frame: pd.DataFrame) -> list[tuple]:
    """Rows of safe cell values: neutralised text without control characters, yes/no for booleans, None for
    missing values, NaN and infinities (made column by column, then put side by side)."""
    return list(zip(*_cell_columns(frame), strict=True))


def _cell_columns(frame: pd.DataFrame) -> list[list]:
    """The safe cell values of `_cells`, column by column."""
    safe = neutralise(frame)
    return [_column_cells(safe.iloc[:, i]) for i in range(safe.shape[1])]


def _column_cells(column: pd.Series) -> list:
    """One column's cell values as plain Python values (see `_cells`)."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        if not column.hasnans:  # yes/no reads better than True/False or 1/0
            return np.where(column.to_numpy(bool), "yes", "no").tolist()
    elif pd.api.types.is_float_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        values = column.to_numpy(float, na_value=np.nan)
        cells = values.tolist()
        for at in np.flatnonzero(~np.isfinite(values)).tolist():
            cells[at] = None
        return cells
    if pd.api.types.infer_dtype(column, skipna=True) == "boolean":
        column = column.map(_yes_no).astype(object)
    elif pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        text = column.astype("string")
        if not made_of(arrow_cells(text), STORABLE_BYTES):  # a control character somewhere: replace it
            cleaned = text.str.replace(ILLEGAL_CHARACTERS_RE, "\ufffd", regex=True)
            changed = cleaned.ne(text).fillna(False).astype(bool)
            column = column.where(~changed, cleaned.astype(object))
    return column.astype(object).where(column.notna(), None).tolist()


def _yes_no(value: object) -> object:
    return ("yes" if value else "no") if isinstance(value, bool | np.bool_) else value


def _safe(value: object) -> object:
    value = _yes_no(_plain(value))
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", _guard(value))
    return value


def _label(column: object) -> str:
    return LABEL.get(str(column), str(column).replace("_", " ").capitalize())


def _width(frame: pd.DataFrame, column: str, label: str) -> float:
    """A column width (in characters) that shows the header and the widest value, within 8 to 80."""
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        longest = 5
    elif pd.api.types.is_numeric_dtype(values):
        finite = values[np.isfinite(values.astype(float))].abs()
        longest = len(f"{finite.max():,.2f}") + 1 if len(finite) else 4
    else:
        longest = int(values.astype("string").str.len().fillna(0).max()) if len(values) else 0
    return float(min(80, max(8, len(label) + 2, longest + 2)))


class _Book:
    """The workbook being written (XlsxWriter in constant_memory mode: each row goes out as soon as the next one
    starts, so rows are written in order and never revisited) and its cell formats, made once per look."""

    HEAD = {"bold": True, "bg_color": "#DDE4EE", "pattern": 1, "text_wrap": True, "valign": "top"}
    TITLE = {"bold": True, "font_size": 14}

    def __init__(self, buffer: _bytes_io.BytesIO):
        import xlsxwriter  # imported when a workbook is written: CSV and JSON do not need it

        # text is written as text whatever it looks like (never a formula, a link or a number)
        self.book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_formulas": False,
                                                 "strings_to_urls": False, "strings_to_numbers": False})
        self._formats: dict[tuple, object] = {}

    def format(self, **look: object) -> object | None:
        """The cell format with these properties (None for none)."""
        if not look:
            return None
        key = tuple(sorted(look.items()))
        if key not in self._formats:
            self._formats[key] = self.book.add_format(dict(look))
        return self._formats[key]

    def sheet(self, title: str):
        """A new worksheet, printed landscape one page wide."""
        ws = self.book.add_worksheet(title)
        # XlsxWriter copies text that starts with <r> and ends with </r> into the XML unescaped, as rich text: a
        # touchpoint so named could add cells (formulas too) to the sheet. Such text is written as plain text.
        ws._xml_rich_inline_string = lambda text, attributes: ws._xml_inline_string(text, False, attributes)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        return ws


def _put(ws, row: int, col: int, value: object, fmt: object | None = None) -> None:
    """One cell (0-based), by the value's type: text as text, numbers as numbers; an empty cell only if formatted."""
    if value is None:
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _table(book: _Book, ws, frame: pd.DataFrame, top: int = 1, totals: Mapping[str, object] | None = None,
           filters: bool = True, freeze: str | None = "B2") -> None:
    """Write a table with a bold header, number formats, widths, filters, frozen header and a totals row (`top`:
    the header's row, 1-based as in Excel)."""
    columns = list(frame.columns)
    for j, column in enumerate(columns):
        ws.set_column(j, j, _width(frame, column, _label(column)))
    if freeze:
        ws.freeze_panes(freeze)
    head = book.format(**_Book.HEAD)
    for j, column in enumerate(columns):
        _put(ws, top - 1, j, _safe(_label(column)), head)
    formats = [_format(frame, column) for column in columns]
    cell_formats = [book.format(num_format=f) if f else None for f in formats]
    _rows(ws, _cell_columns(frame), cell_formats, top)  # 0-based: the row after the header
    last = top + len(frame)
    if totals is not None:
        for j, column in enumerate(columns):
            _put(ws, last, j, _safe(totals.get(column)),
                 book.format(bold=True, **({"num_format": formats[j]} if formats[j] else {})))
    if filters and columns:
        ws.autofilter(top - 1, 0, max(last, top + 1) - 1, len(columns) - 1)


def _rows(ws, columns: list[list], formats: list, first: int) -> None:
    """Rows of cells given column by column, from row `first` (0-based): straight into the sheet's XML
    (`sheet_rows.write_rows`) when the cells are plain, else cell by cell."""
    from .sheet_rows import write_rows  # imported with XlsxWriter, when a workbook is written

    if CELL_BY_CELL or not write_rows(ws, columns, formats, first):
        write_string, write_number = ws.write_string, ws.write_number
        for r, values in enumerate(zip(*columns, strict=True), start=first):
            for j, value in enumerate(values):
                kind = value.__class__
                if kind is str:
                    write_string(r, j, value, formats[j])
                elif kind is float or kind is int:
                    write_number(r, j, value, formats[j])
                else:
                    _put(ws, r, j, value, formats[j])


def _format(frame: pd.DataFrame, column: str) -> str | None:
    if column in FORMAT:
        return FORMAT[column]
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "#,##0.00"
    return None


def _totals(frame: pd.DataFrame, key: str, plan: Plan | None = None, decimals: int = 2) -> dict[str, object]:
    """The totals row: sums of money and engagement, and the ratios of those sums, rounded as the rows are."""
    sums = {c: float(frame[c].sum()) for c in ("current_spend", "proposed_spend", "change", "current_engaged",
                                                "proposed_engaged", "share_current", "share_proposed")
            if c in frame.columns}
    cur, new = sums.get("current_spend", 0.0), sums.get("proposed_spend", 0.0)
    e0, e1 = sums.get("current_engaged", 0.0), sums.get("proposed_engaged", 0.0)
    out: dict[str, object] = {key: "Total", **sums, "change_pct": (new / cur - 1) if cur else None,
                              "current_cpe": cur / e0 if e0 else None, "proposed_cpe": new / e1 if e1 else None}
    if plan is not None:
        out["marginal_cpe"] = plan.marginal_cpe
    return figures_for_programs(out, decimals, percent=False)


def _pairs(book: _Book, ws, rows: Iterable[tuple], start: int, formats: Mapping[int, str] | None = None,
           left: bool = False) -> int:
    """Write label/value rows from `start` (first cell bold); (HEADING, text) is a heading. Return the next row.

    `formats` maps a value's position (1 = the cell after the label) to its number format; `left` aligns
    values to the left (for a list of facts rather than columns of figures)."""
    r = start
    for row in rows:
        if row and row[0] is HEADING:
            _put(ws, r - 1, 0, _safe(row[1]), book.format(bold=True))
        else:
            for j, value in enumerate(row, start=1):
                value = _safe(value)
                look: dict[str, object] = {}
                if j == 1:
                    look["bold"] = True
                elif formats and j - 1 in formats and isinstance(value, int | float):
                    look["num_format"] = formats[j - 1]
                if left and j > 1:
                    look["align"] = "left"
                _put(ws, r - 1, j - 1, value, book.format(**look))
        r += 1
    return r


def _summary_sheet(book: _Book, ws, plan: Plan) -> None:
    decimals = _decimals(plan)
    h = figures_for_programs(headline(plan), decimals, percent=False)
    ws.set_column(0, 0, 48)
    ws.set_column(1, 4, 18)
    _put(ws, 0, 0, "Reallocation plan", book.format(**_Book.TITLE))
    status = h["status"] if h["message"] == h["status"] else f"{h['status']}: {h['message']}"
    r = _pairs(book, ws, [("Scenario", h["scenario"]), ("Description", h["description"]), ("Status", status),
                          ("Objective", h["mode"]), ()], start=3, left=True)
    for j, text in enumerate(("", "Today", "Plan", "Change", "Change %")):
        _put(ws, r - 1, j, text, book.format(bold=True, align="right"))

    def line(label: str, today: float, planned: float, fmt: str, places: int) -> tuple:
        today, planned = round(today, places) + 0.0, round(planned, places) + 0.0
        pct = round(planned / today - 1, 4) + 0.0 if today else None
        return (label, today, planned, round(planned - today, places) + 0.0, pct), {1: fmt, 2: fmt, 3: fmt, 4: PCT}

    cur = f" ({plan.currency})" if plan.currency else ""
    rows = [line(f"Budget (spend){cur}", h["current_spend"], h["proposed_spend"], MONEY, decimals),
            line("Engaged customers", h["current_engaged"], h["proposed_engaged"], COUNT, 2)]
    if plan.weighted:
        rows.append(line("Weighted engagement", h["current_weighted"],
                         h["proposed_weighted"], COUNT, 2))
    rows.append(line(f"Average CPE{cur}", h["current_cpe"], h["proposed_cpe"], CPE, 4))
    r += 1
    for values, formats in rows:
        r = _pairs(book, ws, [values], r, formats)
    today_is = "Today is the data as given" + ("." if plan.currency else "; no currency was stated.")
    legend = [(LEGEND[0].upper() + LEGEND[1:] + ".",)] if plan.weighted else []
    r = _pairs(book, ws, [*legend, (today_is,), *((note,) for note in h["notes"]),
                          *((line,) for line in h["how_sure"])], r)
    marginal = h["marginal_cpe"]
    words = (f"what one more {plan.one} costs at the margin" if np.isfinite(marginal)
             else plan.marginal_words().replace("none - ", "none: ", 1))
    budget = f"{'at most' if h['budget_is_at_most'] else 'exactly'} the budget set by the scenario"
    saved, amount = plan.money_line()
    amount = round(amount, decimals) + 0.0
    r = _pairs(book, ws, [(), (f"Marginal CPE{cur}", round(marginal, 4) if np.isfinite(marginal) else None, words),
                          (f"Money moved across functions{cur}", h["money_moved_across_functions"],
                           "money taken from one function and given to another (see Transfers)"),
                          (f"{saved}{cur}", amount, "today's total - the plan's total" if saved == "Money saved"
                           else "the plan's total - today's total: it spends more than today"),
                          (f"Budget set by the scenario{cur}", h["budget"], budget), ()], r, {1: MONEY})
    if h["rests_on"]:
        r = _pairs(book, ws, [(HEADING, "What the plan rests on: evidence or assumptions"), (h["rests_on_summary"],),
                              *((f"• {text}",) for text in h["rests_on"]), ()], r)
    cuts, rises = biggest(plan)
    for title, frame in (("The three biggest cuts", cuts), ("The three biggest increases", rises)):
        r = _pairs(book, ws, [(HEADING, title), ("Touchpoint", "Function", "Channel", "Change", "Change %")], r)
        if frame.empty:
            r = _pairs(book, ws, [("none",)], r)
        for row in _plain_frame(rounded_figures(frame, decimals)).to_numpy(object).tolist():
            r = _pairs(book, ws, [tuple(row)], r, {3: CHANGE, 4: PCT})
        r += 1
    binding = plan.binding_rules
    r = _pairs(book, ws, [(HEADING, f"Rules that bind: {len(binding)} (every rule and its price: see Rules)")], r)
    for rule in binding.head(5).itertuples():
        r = _pairs(book, ws, [(rule.rule, rule.price_text)], r)


def _about_sheet(book: _Book, ws, plan: Plan, inputs: pd.DataFrame, provenance: Provenance) -> None:
    info = about(plan, inputs, provenance)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 100)
    _put(ws, 0, 0, "About this plan", book.format(**_Book.TITLE))
    rows: list[tuple] = [
        ("Created", info["created"]), ("budgetopt version", info["budgetopt_version"]),
        ("Input file", info["input_file"] or "(not a file)"),
        ("Input file SHA-256", info["input_sha256"] or "(not computed)"),
        ("Touchpoints", info["touchpoints"]), *((("Periods", info["periods"]),) if "periods" in info else ()),
        ("Solver", info["solver"]),
        *((f"{name} version", version) for name, version in info["solver_versions"].items()),
        ("Segments per curve", info["segments_per_curve"]), ("Solver passes", info["solver_passes"]),
        ("LP columns x rows", f"{info['lp_columns']} x {info['lp_rows']}"),
        ("Solve time (s)", round(info["solve_seconds"] or 0.0, 3)), (),
        (HEADING, "Response curves and assumptions"), *(("", line) for line in info["curve_assumptions"]), (),
        (HEADING, "The scenario in full (as budgetopt read it)"),
        *_flatten(info["scenario"]), (),
        (HEADING, "Columns of the Plan sheet"),
        *((_label(c), m) for c, m in MEANING.items()),
    ]
    _pairs(book, ws, rows, start=3, left=True)


def _flatten(value: object, path: str = "") -> list[tuple[str, object]]:
    """A nested dict/list as (dotted.path, value) rows; empty lists show as '(none)'."""
    if isinstance(value, Mapping):
        return [row for k, v in value.items() for row in _flatten(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list | tuple):
        if not value:
            return [(path, "(none)")]
        return [row for i, v in enumerate(value, start=1) for row in _flatten(v, f"{path}.{i}")]
    return [(path, "(not set)" if value is None else value)]


def plan_xlsx_bytes(plan: Plan, *, inputs: pd.DataFrame, provenance: Provenance | None = None) -> bytes:
    """plan.xlsx: Summary, Plan, By function/channel/stage, Transfers, Rules, Inputs and About this plan.

    Written by XlsxWriter row by row (constant_memory mode), with the same contents, formats, widths, filters and
    frozen headers openpyxl wrote before: at 5,000 touchpoints 1.5 s instead of 4 s."""
    provenance = (provenance or Provenance()).stamped()
    plan = rounded(plan)
    decimals = _decimals(plan)
    table = rounded_figures(plan_table(plan, inputs), decimals)
    buffer = _bytes_io.BytesIO()
    book = _Book(buffer)
    book.book.set_properties({"author": "budgetopt", "title": f"Reallocation plan: {plan.scenario.name}"[:250],
                              "created": provenance.created.replace(tzinfo=None)})
    _summary_sheet(book, book.sheet(SHEETS[0]), plan)
    if getattr(plan, "by_period", None) is not None:  # a plan over time: its periods, after the Summary
        from .period_export import period_sheets

        period_sheets(book, plan)
    _table(book, book.sheet("Plan"), table, totals=_totals(table, S.TOUCHPOINT, plan, decimals))
    for column, title in ((S.FUNCTION, "By function"), (S.CHANNEL, "By channel"), (S.STAGE, "By stage")):
        g = rounded_figures(rollup(plan, column), decimals)
        _table(book, book.sheet(title), g, totals=_totals(g, column, decimals=decimals))
    moves = plan.transfers.assign(amount=lambda m: m["amount"].round(decimals))
    ws = book.sheet("Transfers")
    _table(book, ws, moves, freeze="A2", filters=False)
    if moves.empty:
        _put(ws, 1, 0, "No money moves between functions.")
    elif (moves[["from_function", "to_function"]] == BUDGET_CHANGE).any().any():
        _put(ws, len(moves) + 2, 0, f"{BUDGET_CHANGE}: money added to or taken from the total")
    _table(book, book.sheet("Rules"), rules_table(plan), freeze="A2")
    if plan.range is not None and plan.range.by_function is not None:  # engaged customers per function over draws
        _table(book, book.sheet("How sure"), rounded_figures(plan.range.by_function, decimals), freeze="A2")
    _table(book, book.sheet("Inputs"), inputs_table(inputs))
    _about_sheet(book, book.sheet("About this plan"), plan, inputs, provenance)
    book.book.close()
    return buffer.getvalue()


def plan_bytes(plan: Plan, fmt: str, *, inputs: pd.DataFrame, provenance: Provenance | None = None) -> bytes:
    """The plan in one format: 'xlsx', 'csv' or 'json'."""
    fmt = check_formats([fmt])[0]
    if fmt == "csv":
        return plan_csv_bytes(plan, inputs=inputs)
    if fmt == "json":
        return plan_json_bytes(plan, inputs=inputs, provenance=provenance)
    return plan_xlsx_bytes(plan, inputs=inputs, provenance=provenance)


def check_formats(formats: Iterable[str] | str) -> list[str]:
    """Formats as a clean list (accepts 'xlsx,csv'); raise naming the ones budgetopt cannot write."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = list(dict.fromkeys(str(f).strip().lower().lstrip(".") for f in items if str(f).strip()))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise BudgetOptError(f"cannot export as {', '.join(unknown) or 'nothing'}; use one or more of: "
                             + ", ".join(FORMATS))
    return wanted
