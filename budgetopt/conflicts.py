"""Why no plan exists: a small set of rules that cannot hold together, in the words of their owners.

A deletion filter over "rule units" (each row and each bound): a unit is dropped from the set when
the rest is still infeasible without it. Units are tried in halving chunks, so a set of n units
with a conflict of k costs about k log n feasibility solves; the final pass with chunk 1 makes the
set minimal (every unit left is needed for the conflict).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import schema as S
from .curves import Curves
from .engine import Status, solve
from .model import Model, bound_label


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


def conflicting_units(model: Model, curves: Curves) -> tuple[list[int], list[int]]:
    """Indices of the rows and of the bounds that together make the model infeasible (minimal set)."""
    n_rows = len(model.rows)
    n_bounds = len(model.bounds)
    segments = model.scenario.settings.segments

    def infeasible(units: list[int]) -> bool:
        rows = [model.rows[u] for u in units if u < n_rows]
        enabled = np.zeros(n_bounds, dtype=bool)
        enabled[[u - n_rows for u in units if u >= n_rows]] = True
        lo, hi = model.limits(enabled)
        if (lo > hi + 1e-9 * np.maximum(1.0, hi)).any():
            return True
        seg = curves.segments(lo, hi, segments)
        return solve(model, seg, rows=rows, feasibility_only=True).status is Status.INFEASIBLE

    everything = list(range(n_rows + n_bounds))
    if not infeasible(everything):
        return [], []
    found = minimal_subset(everything, infeasible)
    return [u for u in found if u < n_rows], [u - n_rows for u in found if u >= n_rows]


def explain_infeasible(model: Model, curves: Curves) -> list[str]:
    """Plain sentences naming a minimal set of conflicting rules, with their numbers."""
    rows, bounds = conflicting_units(model, curves)
    names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
    lines = [model.rows[r].label for r in rows]
    if bounds:
        lines += bound_label(model.bounds.iloc[bounds], names).tolist()
    if not lines:
        return ["the solver found no plan, but no smaller set of rules conflicts: check the numbers for tiny gaps"]
    return ["these rules cannot all hold together:"] + lines
