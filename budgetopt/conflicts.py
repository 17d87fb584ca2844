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
from dataclasses import replace

import numpy as np
import pandas as pd

from . import schema as S
from .curves import Curves
from .feasibility import MAX_ROUNDS, decide
from .model import EQ, GE, LE, MONEY, Model, Row, bound_label, money

CHECK_ROUNDS = 2
"""Refinements of chords and tangents per check: a check still undecided after them counts as "not certainly
infeasible", so the set found stays certain (it may keep a rule that a longer search would drop)."""


KEEP_POINTS = 80
"""Breakpoints per touchpoint carried from one check to the next."""


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
        self.n_rows = len(model.rows)
        self.points = np.zeros((len(model.touchpoints), 0))

    def verdict(self, rows: list[Row], bounds: pd.DataFrame, rounds: int = CHECK_ROUNDS) -> bool | None:
        """True: a plan certainly exists on the smooth curves; False: certainly none; None: undecided.
        rounds=0: the chords only (True or None), one LP."""
        n = len(self.model.touchpoints)
        lo, hi = np.zeros(n), np.full(n, self.model.open_cap)
        idx, val = bounds["touchpoint"].to_numpy(int), bounds["value"].to_numpy(float)
        is_lo = bounds["side"].to_numpy() == "lo"
        np.maximum.at(lo, idx[is_lo], val[is_lo])
        np.minimum.at(hi, idx[~is_lo], val[~is_lo])
        if (lo > hi + 1e-9 * np.maximum(1.0, hi)).any():
            return False
        verdict = decide(self.model, self.curves, lo, hi, self.model.scenario.settings.segments, rows=rows,
                         points=self.points, max_rounds=rounds)
        # breakpoints where chords and tangents disagreed help the next check, which differs by a few rules
        self.points = verdict.points[:, -KEEP_POINTS:]
        return verdict.feasible

    def feasible(self, rows: list[Row], bounds: pd.DataFrame) -> bool:
        """A plan certainly exists (on the chords, so on the curves)."""
        return self.verdict(rows, bounds) is True

    def on_chords(self, rows: list[Row], bounds: pd.DataFrame) -> bool:
        """The chords have a plan (so the curves have one); False says nothing more. One LP: for bisections."""
        return self.verdict(rows, bounds, rounds=0) is True

    def infeasible(self, rows: list[Row], bounds: pd.DataFrame) -> bool:
        """Certainly no plan (not even on the tangents above the curves)."""
        return self.verdict(rows, bounds) is False

    def subset(self, units: list[int]) -> tuple[list[Row], pd.DataFrame]:
        rows = [self.model.rows[u] for u in units if u < self.n_rows]
        bounds = self.model.bounds.iloc[[u - self.n_rows for u in units if u >= self.n_rows]]
        return rows, bounds


def conflicting_units(model: Model, curves: Curves) -> tuple[list[int], list[int]]:
    """Indices of the rows and of the bounds that together make the model infeasible (minimal set)."""
    check = _Checker(model, curves)
    everything = list(range(check.n_rows + len(model.bounds)))
    if check.verdict(*check.subset(everything), rounds=MAX_ROUNDS) is not False:
        return [], []
    # Fast: shrink on the chords alone (one LP per trial). Every subset the chords have a plan for has one on the
    # curves, so what is left is minimal for certain; it only needs proof that it has no plan itself.
    found = minimal_subset(everything, lambda units: not check.on_chords(*check.subset(units)))
    if check.verdict(*check.subset(found), rounds=MAX_ROUNDS) is not False:
        # the chords dropped a rule the curves need: shrink with certain checks (slower near the edge)
        found = minimal_subset(everything, lambda units: check.infeasible(*check.subset(units)))
    return [u for u in found if u < check.n_rows], [u - check.n_rows for u in found if u >= check.n_rows]


def explain_infeasible(model: Model, curves: Curves) -> tuple[list[str], list[str]]:
    """The conflicting rules with their numbers; and advice: what they add up to, and ways out."""
    rows, bounds = conflicting_units(model, curves)
    names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
    labels = [model.rows[r].label for r in rows]
    if bounds:
        labels += bound_label(model.bounds.iloc[bounds], names).tolist()
    if not labels:
        return [], ["the solver found no plan, but no smaller set of rules conflicts: check the numbers for tiny gaps"]
    return labels, _arithmetic(model, rows, bounds) + _ways_out(model, curves, rows, bounds)


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
    """For each rule of the conflict: the single change to it that makes a plan possible, where one exists."""
    check = _Checker(model, curves)
    all_rows, all_bounds = list(model.rows), model.bounds
    out = []
    for r in rows:
        row = all_rows[r]
        others = all_rows[:r] + all_rows[r + 1:]
        if not check.feasible(others, all_bounds):
            continue
        if row.unit != MONEY or (row.a < 0).any() or row.family == "share":
            out.append(f"a way out: drop '{row.label}'")
            continue
        directions = {GE: [-1], LE: [1], EQ: [1, -1]}[row.sense]
        for sign in directions:
            span = row.rhs if sign < 0 else model.open_cap
            def moved(t: float, s=sign, row=row, others=others) -> bool:
                # an equality is feasible on an interval: move it as "at most B + t" or "at least B - t"
                sense = row.sense if row.sense != EQ else (LE if s > 0 else GE)
                return check.on_chords(others + [replace(row, rhs=row.rhs + s * t, sense=sense)], all_bounds)

            amount = _least_move(moved, span)
            if amount is not None:
                target = row.rhs + sign * amount
                word = {GE: "at least", LE: "at most"}.get(row.sense, "at least" if sign > 0 else "at most")
                head = row.label.split(":")[0]
                out.append(f"a way out: {head} {word} {money(target)} instead of {money(row.rhs)}")
    names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
    for k in bounds:
        rest = all_bounds.drop(index=all_bounds.index[k])
        if not check.feasible(all_rows, rest):
            continue
        bound = all_bounds.iloc[k]
        sign = -1 if bound["side"] == "lo" else 1
        span = bound["value"] if sign < 0 else model.open_cap
        label = bound_label(all_bounds.iloc[[k]], names).iloc[0]
        name = names[int(bound["touchpoint"])]

        def moved(t: float, bound=bound, sign=sign, rest=rest) -> bool:
            b = bound.copy()
            b["value"] = bound["value"] + sign * t
            return check.on_chords(all_rows, pd.concat([rest, b.to_frame().T.astype(rest.dtypes)]))

        amount = _least_move(moved, span)
        if amount is not None:
            where = "down to" if sign < 0 else "up to"
            out.append(f"a way out: let '{name}' go {where} {money(bound['value'] + sign * amount)} "
                       f"(now {label})")
    return out


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
        if hi - lo <= max(1.0, 1e-6 * hi):
            break
    return float(np.ceil(hi)) if hi > 1 else hi
