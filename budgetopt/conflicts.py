"""Why no plan exists: a small set of rules that cannot hold together, in numbers, and a way out.

A deletion filter over "rule units" (each row and each bound): a unit is dropped from the set when
the rest is still certainly infeasible without it (feasibility.decide: not even the tangents above the curves
have a plan), so the set found has no plan on the smooth curves. Units are tried in halving chunks, so a set of n units
with a conflict of k costs about k log n feasibility solves; the final pass with chunk 1 makes the
set minimal (every unit left is needed for the conflict). Then, for each rule in the set, a
bisection on how far it would have to move finds the single change that makes a plan possible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from . import schema as S
from .basis import counted
from .curves import Curves
from .feasibility import MAX_ROUNDS, Verdict, decide
from .model import EQ, GE, LE, MONEY, Model, Row, bound_label, implied_caps, money

CHECK_ROUNDS = 2
"""Refinements of chords and tangents per check: a check still undecided after them counts as "not certainly
infeasible", so the set found stays certain (it may keep a rule that a longer search would drop)."""


NO_SINGLE_CHANGE = ("no single change to one of these rules gives a plan: other rules conflict too (change one "
                    "of these, then look again)")
KEEP_POINTS = 16
"""Breakpoints per touchpoint carried from one check to the next (those the last refinement added)."""


def minimal_subset(units: list[int], infeasible: Callable[[list[int]], bool]) -> list[int]:
    """Shrink `units` (infeasible as a whole) to a minimal infeasible subset."""
    keep = list(units)
    chunk = max(1, len(keep) // 2)
    while True:
        i = 0
        while i < len(keep):
            trial = keep[:i] + keep[i + chunk:]
            if trial != keep and infeasible(trial):
                keep = trial
            else:
                i += chunk
        if chunk == 1:
            return keep
        chunk = max(1, chunk // 2)


class _Checker:
    """Feasibility of the model with some rows and bounds switched off or moved."""

    def __init__(self, model: Model, curves: Curves):
        self.model, self.curves = model, curves
        self.points = np.zeros((len(model.touchpoints), 0))
        self.hints: dict[tuple, np.ndarray] = {}

    def box(self, rows: list[Row], bounds: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """lo, hi of each touchpoint under these bounds, with the caps the rows imply (the budget): a touchpoint
        whose caps are all switched off is limited by nothing else (no internal bound)."""
        n = len(self.model.touchpoints)
        lo, hi = np.zeros(n), np.full(n, np.inf)
        idx, val = bounds["touchpoint"].to_numpy(int), bounds["value"].to_numpy(float)
        is_lo = bounds["side"].to_numpy() == "lo"
        np.maximum.at(lo, idx[is_lo], val[is_lo])
        np.minimum.at(hi, idx[~is_lo], val[~is_lo])
        return lo, np.minimum(hi, np.maximum(implied_caps(rows, lo), lo))

    def decide(self, rows: list[Row], bounds: pd.DataFrame, rounds: int = CHECK_ROUNDS,
               points: np.ndarray | None = None) -> Verdict:
        """Whether these rows and bounds hold together on the smooth curves (see feasibility.decide)."""
        lo, hi = self.box(rows, bounds)
        if (lo > hi + 1e-9 * np.maximum(1.0, np.where(np.isfinite(hi), hi, 1.0))).any():
            return Verdict(False, self.points, 0, rows)
        extra = self.points if points is None else np.column_stack([self.points, points])
        key = tuple(row.name for row in rows)  # a bisection moves one row's number: the last plan's duals fit
        verdict = decide(self.model, self.curves, lo, hi, self.model.scenario.settings.segments, rows=rows,
                         points=extra, max_rounds=rounds, hint=self.hints.get(key))
        if verdict.solution is not None:
            self.hints[key] = verdict.solution.row_duals
        # breakpoints where chords and tangents disagreed help the next check, which differs by a few rules
        if verdict.rounds:
            self.points = verdict.points[:, -KEEP_POINTS:]
        return verdict

    def verdict(self, rows: list[Row], bounds: pd.DataFrame, rounds: int = CHECK_ROUNDS) -> bool | None:
        """True: a plan certainly exists on the smooth curves; False: certainly none; None: undecided.
        rounds=0: the chords only (True or None), one LP."""
        return self.decide(rows, bounds, rounds).feasible

    def feasible(self, rows: list[Row], bounds: pd.DataFrame) -> bool:
        """A plan certainly exists (on the chords, so on the curves)."""
        return self.verdict(rows, bounds) is True

    def on_chords(self, rows: list[Row], bounds: pd.DataFrame, points: np.ndarray | None = None) -> bool:
        """The chords have a plan (so the curves have one); False says nothing more. One LP: for bisections."""
        return self.decide(rows, bounds, rounds=0, points=points).feasible is True

    def infeasible(self, rows: list[Row], bounds: pd.DataFrame) -> bool:
        """Certainly no plan (not even on the tangents above the curves)."""
        return self.verdict(rows, bounds) is False


EXPAND = 12
"""A group of a touchpoint limits (one data column, or one rule) in a conflict with at most this many bounds is
named bound by bound; a larger one is named as a group ("max_change of 1,204 touchpoints")."""


@dataclass
class Unit:
    """What the deletion filter keeps or drops at once: one row, or the bounds one rule or one data column sets."""

    rows: list[int]
    bounds: np.ndarray
    label: str = ""


def _units(model: Model) -> list[Unit]:
    """Each row alone; the bounds by the rule that set them (a scenario rule, or one column of the data)."""
    b = model.bounds
    units = [Unit([r], np.zeros(0, dtype=int)) for r in range(len(model.rows))]
    rule = b["rule"].to_numpy(int)
    key = np.where(rule >= 0, "rule " + rule.astype(str), b["family"].astype(str) + "|" + b["what"].astype(str))
    for k in pd.unique(key):
        members = np.flatnonzero(key == k)
        units.append(Unit([], members, str(b["what"].iloc[members[0]])))
    return units


def conflicting_units(model: Model, curves: Curves) -> tuple[list[int], list[int], list[Unit]]:
    """Rows, bounds and groups of bounds that together make the model infeasible (a minimal set): a group is
    named as one when it has more than EXPAND bounds, else bound by bound."""
    check = _Checker(model, curves)
    units = _units(model)

    def subset(chosen: list[int], extra: np.ndarray | None = None) -> tuple[list[Row], pd.DataFrame]:
        rows = sorted(r for u in chosen for r in units[u].rows)
        parts = [units[u].bounds for u in chosen] + ([extra] if extra is not None else [])
        bounds = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=int)
        return [model.rows[r] for r in rows], model.bounds.iloc[bounds]

    everything = list(range(len(units)))
    if check.verdict(*subset(everything), rounds=MAX_ROUNDS) is not False:
        return [], [], []
    found = _shrink(check, everything, subset)
    rows = sorted(r for u in found for r in units[u].rows)
    kept = [u for u in found if len(units[u].bounds)]
    small = [u for u in kept if len(units[u].bounds) <= EXPAND]
    groups = [units[u] for u in kept if len(units[u].bounds) > EXPAND]
    bounds: list[int] = []
    if small:  # name the bounds of small groups one by one: shrink over them, the rest of the set kept
        others = [u for u in found if u not in small]
        members = np.concatenate([units[u].bounds for u in small])
        inner = _shrink(check, list(range(len(members))), lambda pick: subset(others, members[np.asarray(pick, int)]))
        bounds = sorted(int(members[k]) for k in inner)
    return rows, bounds, groups


def _shrink(check: _Checker, units: list[int], subset: Callable) -> list[int]:
    """A minimal subset of `units` that certainly has no plan: shrink on the chords alone (one LP per trial; every
    subset the chords have a plan for has one on the curves), then prove what is left has none; if the chords
    dropped a rule the curves need, shrink again with certain checks (slower near the edge)."""
    found = minimal_subset(units, lambda chosen: not check.on_chords(*subset(chosen)))
    if check.verdict(*subset(found), rounds=MAX_ROUNDS) is not False:
        found = minimal_subset(units, lambda chosen: check.infeasible(*subset(chosen)))
    return found


def explain_infeasible(model: Model, curves: Curves) -> tuple[list[str], list[str]]:
    """The conflicting rules with their numbers; and advice: what they add up to, and ways out."""
    rows, bounds, groups = conflicting_units(model, curves)
    names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
    labels = [model.rows[r].label for r in rows]
    if bounds:
        labels += bound_label(model.bounds.iloc[bounds], names, model.currency).tolist()
    labels += [f"{g.label}: {_count(model, g)}, each at its own limit" for g in groups]
    if not labels:
        return [], ["the solver found no plan, but no smaller set of rules conflicts: check the numbers for tiny gaps"]
    ways = _ways_out(model, curves, rows, bounds) + _drop_groups(model, curves, groups)
    if not ways:
        ways = [NO_SINGLE_CHANGE]
    every = sorted(set(bounds) | {int(k) for g in groups for k in g.bounds})
    return labels, _arithmetic(model, rows, every) + ways


def _drop_groups(model: Model, curves: Curves, groups: list[Unit]) -> list[str]:
    """A group of limits in the conflict: dropping all of them is a way out when a plan then exists."""
    check = _Checker(model, curves)
    out = []
    for g in groups:
        rest = model.bounds.drop(index=model.bounds.index[g.bounds])
        if check.feasible(list(model.rows), rest):
            out.append(f"a way out: lift the limits '{g.label}' on those {_count(model, g)}")
    return out


def _count(model: Model, group: Unit) -> str:
    """Touchpoints a group of bounds limits, in words: counted once each, with the periods a plan over periods
    limits them in ('8 touchpoints in 12 periods (every period)'; columns are touchpoint x periods + period)."""
    columns = model.bounds["touchpoint"].to_numpy(int)[group.bounds]
    line = getattr(model, "line", None)
    if line is None:
        return counted(columns)
    return counted(columns // line.count, columns % line.count, line.calendar)


def _arithmetic(model: Model, rows: list[int], bounds: list[int]) -> list[str]:
    """'the floors add up to 10,500,000; the budget is 9,000,000' when that is the conflict."""
    budget = next((model.rows[r] for r in rows if model.rows[r].name == "budget"), None)
    if budget is None:
        return []
    b = model.bounds.iloc[bounds]
    floors = b[b["side"] == "lo"].groupby("touchpoint")["value"].max().sum()
    caps = b[b["side"] == "hi"].groupby("touchpoint")["value"].min()
    money_rows = [model.rows[r] for r in rows if model.rows[r].unit == MONEY and model.rows[r].name != "budget"
                  and (model.rows[r].a >= 0).all()]
    floors += sum(r.rhs for r in money_rows if r.sense in (GE, EQ))
    out = []
    if floors > budget.rhs + 1e-9 * max(1.0, budget.rhs):
        out.append(f"the floors in this set add up to {money(floors)}; the budget is {money(budget.rhs)}")
    if budget.sense == EQ and len(caps) and not b[b["side"] == "lo"].size:
        total_caps = caps.sum() + sum(r.rhs for r in money_rows if r.sense == LE)
        if total_caps < budget.rhs:
            out.append(f"the caps in this set add up to {money(total_caps)}; the budget is {money(budget.rhs)}")
    return out


def _ways_out(model: Model, curves: Curves, rows: list[int], bounds: list[int]) -> list[str]:
    """For each rule of the conflict: the single change to it that makes a plan possible, where one exists.

    Each is found on the chords (bisection between the rule as it is and where a plan without it puts it) and
    shown only after solving with the change made exactly as written (its rounded number, its own sense), so
    every way out shown works."""
    check = _Checker(model, curves)
    all_rows, all_bounds = list(model.rows), model.bounds
    out = []
    for r in rows:
        row = all_rows[r]
        others = all_rows[:r] + all_rows[r + 1:]
        without = check.decide(others, all_bounds)
        if without.feasible is not True:
            continue
        if row.name == "target-cpe":  # optimize's own advice names the lowest CPE reachable
            continue
        if (row.a < 0).any() or (row.b < 0).any() or row.family == "share" or without.spend is None:
            out.append(f"a way out: drop '{row.label}'")
            continue
        # where a plan without the row puts its left-hand side: moving the row there works
        reached = row.lhs(without.spend, curves.engaged(without.spend))
        moved_row = _moved_row(check, row, others, all_bounds, reached, without.points)
        if moved_row is not None:
            word = "kept at" if row.family == "lock" else {GE: "at least", LE: "at most", EQ: "exactly"}[row.sense]
            head = row.label.split(":")[0]
            out.append(f"a way out: {head} {word} {_amount(moved_row.rhs)} instead of {money(row.rhs)}")
    names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
    for k in bounds:
        rest = all_bounds.drop(index=all_bounds.index[k])
        without = check.decide(all_rows, rest)
        if without.feasible is not True or without.spend is None:
            continue
        bound = all_bounds.iloc[k]
        i = int(bound["touchpoint"])
        value = float(bound["value"])
        sign = -1.0 if bound["side"] == "lo" else 1.0
        reached = float(without.spend[i])
        span = sign * (reached - value)
        label = bound_label(all_bounds.iloc[[k]], names).iloc[0]

        def with_value(v: float, bound=bound, rest=rest) -> pd.DataFrame:
            b = bound.copy()
            b["value"] = v
            return pd.concat([rest, b.to_frame().T.astype(rest.dtypes)])

        amount = _least_move(lambda t, s=sign, v=value, p=without.points: check.on_chords(
            all_rows, with_value(v + s * t), p), span)
        if span <= 0:
            continue
        for target in _whole(value + sign * (span if amount is None else amount), up=sign > 0):
            if sign * (target - value) > 0 and check.feasible(all_rows, with_value(target)):
                where = "down to" if sign < 0 else "up to"
                out.append(f"a way out: let '{names[i]}' go {where} {_amount(target)} (now {label})")
                break
    return out


def _moved_row(check: _Checker, row: Row, others: list[Row], bounds: pd.DataFrame, reached: float,
               points: np.ndarray) -> Row | None:
    """The row with the least change of its right-hand side (towards `reached`, where a plan without it puts
    it) that certainly has a plan, rounded to a whole unit on the safe side; None when none is found."""
    sign = 1.0 if reached > row.rhs else -1.0
    span = abs(reached - row.rhs)
    if span <= 0:
        return None
    # the feasible right-hand sides form an interval that holds `reached`: moving towards it is monotone
    amount = _least_move(lambda t: check.on_chords(others + [replace(row, rhs=row.rhs + sign * t)], bounds, points),
                         span)
    value = row.rhs + sign * (span if amount is None else amount)
    for target in _whole(value, up=sign > 0):
        moved = replace(row, rhs=target)
        if check.feasible(others + [moved], bounds):
            return moved
    return None


def _whole(value: float, up: bool) -> list[float]:
    """Numbers to try, as they will be shown, for a move that ends near `value`: whole units (the nearest, the
    next one further in the move's direction `up`, the one before), then cents (an equality, such as a budget
    that locks pin to 56,539.05, may hold at one amount only)."""
    step = 1.0 if up else -1.0
    whole = float(np.round(value))
    cent = float(np.round(value, 2))
    return list(dict.fromkeys([whole, whole + step, whole - step, cent, cent + step / 100, cent - step / 100]))


def _amount(x: float) -> str:
    """money(), with cents when the amount has them."""
    return money(x) if x == np.round(x) else f"{x:,.2f}"


def _least_move(feasible_at: Callable[[float], bool], span: float, steps: int = 30) -> float | None:
    """Smallest t in [0, span] with feasible_at(t) (feasibility grows with t), or None."""
    if span <= 0 or feasible_at(0.0) or not feasible_at(span):
        return None
    lo, hi = 0.0, float(span)
    for _ in range(steps):
        mid = (lo + hi) / 2
        if feasible_at(mid):
            hi = mid
        else:
            lo = mid
        if hi - lo <= max(0.5, 1e-7 * abs(hi)):  # half a unit (or 1e-7): the whole numbers shown are checked
            break
    return hi


def lowest_average_cpe(model: Model, curves: Curves, rel_tol: float = 1e-4) -> float | None:
    """The lowest average cost per engaged customer any plan keeping the model's other rules reaches (None when
    no plan keeps them): min (sum x) / (sum e) by bisection on c, where "average CPE at most c" is the row
    sum x - c sum e <= 0, feasible exactly when c is at least the minimum."""
    k = next(r for r, row in enumerate(model.rows) if row.name == "target-cpe")
    row, others = model.rows[k], model.rows[:k] + model.rows[k + 1:]
    check = _Checker(model, curves)
    if not check.feasible(others, model.bounds):
        return None

    def reachable(c: float) -> bool:  # on the chords: a CPE they reach, the curves reach too
        return check.on_chords(others + [replace(row, b=-c * np.ones(len(row.index)))], model.bounds)

    low = float(model.scenario.objective.target)
    high = max(2.0 * low, 1e-6)
    for _ in range(80):
        if reachable(high):
            break
        low, high = high, 2.0 * high
    else:
        return None
    while high - low > rel_tol * high:
        mid = 0.5 * (low + high)
        low, high = (low, mid) if reachable(mid) else (mid, high)
    return high
