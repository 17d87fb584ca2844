"""The segment LP in numbers, and an exact way to solve it through a master LP whose size does not grow
with the number of touchpoints.

The segment LP (see engine.py): columns s_j in [0, w_j], one per curve segment j of touchpoint t_j with
slope g_j; row r has coefficient a_r[t_j] + b_r[t_j] g_j; the objective per unit of money is
cg[t_j] g_j + c0[t_j] (cg = value, c0 = 0 when maximising engagement; cg = 0, c0 = 1 when minimising spend).

Classes. Touchpoints with the same (a_r, b_r, cg, c0) in every row are interchangeable at the margin: no row
can tell a unit of money in one from a unit in another, except by the slope it buys. When every row prefers
more engaged customers (b_r >= 0 in a >= row, b_r <= 0 in a <= row, b_r = 0 in an == row), moving money
within a class from a lower slope to a higher one never hurts, so some optimum fills each class's segments
in order of falling slope: the class behaves like one concave curve, the merge of its members' segments.

Blocks and pricing. The master LP sees each class curve as a few blocks (chords over runs of consecutive
merged segments): a block column spreads its money over its segments in proportion to their widths, so
every master solution is a solution of the segment LP with the same objective. With the master's row duals
y, segment j's reduced cost (minimisation form) is  d_j = (sc cg_c - y.b_c) g_j + (sc c0_c - y.a_c)
(sc = -1 when maximising); the master solution is optimal for the segment LP exactly when every segment
at 0 has d_j >= 0, every full one d_j <= 0 and every one in between d_j = 0 (within tolerance). Blocks
holding a segment that breaks this are split around the point where d changes sign, settled neighbours are
merged, and the master is solved again (column generation) until weak duality certifies its plan within GAP
of the segment LP's optimum (see Decomposition.gap). Its duals are then the segment LP's duals.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import schema as S
from .curves import Segments
from .lp import LinearProgram, LPResult, Status, column_lp, dot, matvec, row_bounds, violated
from .model import EQ, GE, LE, Model, Row

STEP = 4
"""Cuts around a class's threshold sit at offsets 0, 1, -+STEP, -+STEP^2, ... merged segments."""
KEEP = 4
"""Cuts within KEEP merged segments of a class's threshold are never merged away."""
INITIAL_BLOCKS = 4
"""Equal-money blocks per class in the first master, besides the cuts around the first guess."""
HINT_BLOCKS = 1
"""The same when row duals of a similar LP (the first pass) place the guess: one block, no extra cuts."""
GAP = 1e-6
"""Relative gap to the segment LP's optimum at which the master LP stops (see Decomposition.gap)."""
MAX_ROUNDS = 40
"""Master LPs solved before giving up on the decomposition and solving the segment LP whole."""
REL_TOL = 1e-9
"""A reduced cost within REL_TOL x the size of the terms it is made of (|c_j| + sum_r |y_r A_rj|) is zero."""


@dataclass(frozen=True)
class SegmentProblem:
    """Rows over touchpoints (only rows some segment touches), objective weights and the segments."""

    seg: Segments
    a: np.ndarray  # (rows x touchpoints) money coefficients
    b: np.ndarray  # (rows x touchpoints) engaged-customer coefficients
    sense: np.ndarray
    rhs: np.ndarray  # after moving the constants of lo and base engagement to the right
    row_id: np.ndarray  # position in the model's row list
    today: np.ndarray  # today's spend per touchpoint (the first guess of where the optimum lies)
    cg: np.ndarray  # objective per engaged customer, per touchpoint
    c0: np.ndarray  # objective per unit of money, per touchpoint
    maximise: bool
    constant: float

    def cost(self, k: np.ndarray, slope: np.ndarray, c_g: np.ndarray | None = None,
             c_0: np.ndarray | None = None) -> np.ndarray:
        """Objective coefficient of columns (representative k, slope g): cg_k g + c0_k."""
        c_g = self.cg if c_g is None else c_g
        c_0 = self.c0 if c_0 is None else c_0
        return c_g[k] * slope + c_0[k]

    def full_lp(self) -> LinearProgram:
        """The segment LP itself: one column per segment."""
        s = self.seg
        lower, upper = row_bounds(self.sense, self.rhs)
        return column_lp(self.a, self.b, self.row_id, lower, upper, s.touchpoint, s.slope, s.width,
                         self.cost(s.touchpoint, s.slope), self.maximise, self.constant)

    @property
    def prefers_engagement(self) -> bool:
        """True when no row is hurt by more engaged customers (the condition for classes, see above)."""
        b = self.b
        sense = self.sense[:, None]
        bad = ((sense == GE) & (b < 0)) | ((sense == LE) & (b > 0)) | ((sense == EQ) & (b != 0))
        return not bad.any() and bool((self.cg >= 0).all())


def segment_problem(model: Model, seg: Segments, rows: list[Row],
                    feasibility_only: bool = False) -> SegmentProblem | str:
    """The segment LP's numbers, or a sentence when a row no segment touches is already broken."""
    n = len(seg.lo)
    a = np.array([r.a for r in rows], dtype=float).reshape(len(rows), n)
    b = np.array([r.b for r in rows], dtype=float).reshape(len(rows), n)
    sense = np.array([r.sense for r in rows], dtype=object)
    rhs = np.array([r.rhs for r in rows], dtype=float) - (matvec(a, seg.lo) + matvec(b, seg.base_engaged))
    moving = np.zeros(n, dtype=bool)
    moving[seg.touchpoint] = True
    coef_a, coef_b = np.abs(a[:, moving]), np.abs(b[:, moving])
    touched = (coef_a.max(axis=1, initial=0.0) > 0) | (coef_b.max(axis=1, initial=0.0) > 0)
    scale = np.maximum(1.0, np.abs([r.rhs for r in rows]))
    broken = ~touched & violated(np.zeros(len(rows)), sense, rhs, scale)
    if broken.any():
        return f"rule '{rows[int(np.flatnonzero(broken)[0])].label}' cannot hold: nothing it covers can move"
    if model.maximise:
        cg, c0, constant = model.weight.astype(float), np.zeros(n), dot(model.weight, seg.base_engaged)
    else:
        cg, c0, constant = np.zeros(n), np.ones(n), float(seg.lo.sum())
    if feasibility_only:
        cg, c0 = np.zeros(n), np.zeros(n)
    keep = np.flatnonzero(touched)
    today = model.touchpoints[S.SPEND].to_numpy(float)
    return SegmentProblem(seg, a[keep], b[keep], sense[keep], rhs[keep], keep, today, cg, c0, model.maximise,
                          constant)


def classes(key: np.ndarray) -> np.ndarray:
    """Class number of every column of key (features x items): equal columns, equal numbers.

    A random projection groups the columns in one pass; equal projections are checked to come from equal
    columns, and an exact (slower) grouping is used in the unlikely case they do not."""
    h = matvec(key.T, np.random.default_rng(0).uniform(1.0, 2.0, key.shape[0]))
    _, first, cls = np.unique(h, return_index=True, return_inverse=True)
    if np.array_equal(key, key[:, first[cls]]):
        return cls
    return np.unique(key.T, axis=0, return_inverse=True)[1].reshape(-1)


class Decomposition:
    """Classes of interchangeable touchpoints, their merged curves, and the blocks the master LP sees."""

    def __init__(self, problem: SegmentProblem, hint: np.ndarray | None = None):
        p = self.problem = problem
        s = p.seg
        seg_class = classes(np.vstack([p.a, p.b, p.cg, p.c0]))[s.touchpoint]
        used, seg_class = np.unique(seg_class, return_inverse=True)
        self.num_class = len(used)
        by_slope = np.argsort(-s.slope)
        order = by_slope[np.argsort(seg_class[by_slope], kind="stable")]  # by class, then falling slope
        self.order = order
        self.cls = seg_class[order]
        self.slope = s.slope[order]
        self.width = s.width[order]
        self.money = np.concatenate([[0.0], np.cumsum(self.width)])
        self.start = np.searchsorted(self.cls, np.arange(self.num_class + 1))
        rep = np.empty(self.num_class, dtype=int)
        rep[self.cls] = s.touchpoint[order]  # any member represents its class
        self.a, self.b = p.a[:, rep], p.b[:, rep]
        self.cg, self.c0 = p.cg[rep], p.c0[rep]
        self._sign = -1.0 if p.maximise else 1.0  # HiGHS minimises: a maximised cost changes sign
        self._set_cuts(self._initial_cuts(hint))

    @property
    def num_pieces(self) -> int:
        return len(self.slope)

    @property
    def num_blocks(self) -> int:
        return len(self.cuts) - 1

    def _initial_cuts(self, hint: np.ndarray | None) -> np.ndarray:
        """Class edges, equal-money quantiles, and geometric cuts around a first guess of each class's
        threshold: where the hint's duals put it, else where the class's money today would reach."""
        start, end = self.start[:-1], self.start[1:]
        t = np.linspace(0.0, 1.0, (HINT_BLOCKS if hint is not None else INITIAL_BLOCKS) + 1)[1:-1]
        m0, m1 = self.money[start], self.money[end]
        quantiles = np.searchsorted(self.money, (m0[:, None] + (m1 - m0)[:, None] * t[None, :]).ravel())
        if hint is not None:
            guess = self._threshold(self._reduced_costs(np.asarray(hint, float)[self.problem.row_id]))
        else:
            s = self.problem.seg
            class_of = np.zeros(len(s.lo), dtype=int)
            class_of[s.touchpoint[self.order]] = self.cls
            moving = np.zeros(len(s.lo), dtype=bool)
            moving[s.touchpoint] = True
            above_lo = (np.clip(self.problem.today, s.lo, s.hi) - s.lo)[moving]
            class_today = np.bincount(class_of[moving], weights=above_lo, minlength=self.num_class)
            guess = np.searchsorted(self.money, m0 + class_today)
        return np.unique(np.concatenate([self.start, quantiles, self._around(guess)]))

    def _threshold(self, d: np.ndarray) -> np.ndarray:
        """Per class, the first merged piece the duals do not want full (d is rising within a class)."""
        return self.start[:-1] + np.bincount(self.cls, weights=d < 0, minlength=self.num_class).astype(int)

    def _around(self, guess: np.ndarray) -> np.ndarray:
        """Cuts at guess, guess + 1 and guess -+ STEP^k inside each class."""
        size = int(np.diff(self.start).max(initial=1))
        steps = STEP ** np.arange(1, int(np.ceil(np.log(max(size, 2)) / np.log(STEP))) + 1)
        offsets = np.concatenate([[0, 1], steps, -steps])
        cand = (guess[:, None] + offsets[None, :])
        lo, hi = self.start[:-1, None], self.start[1:, None]
        return cand[(cand > lo) & (cand < hi)]

    def _set_cuts(self, cuts: np.ndarray) -> None:
        """Blocks between consecutive cuts: their class, money width and slope (summed exactly per block)."""
        self.cuts = cuts
        first = cuts[:-1]
        self.block_cls = self.cls[first]
        self.block_width = np.add.reduceat(self.width, first)
        engaged = np.add.reduceat(self.width * self.slope, first)
        self.block_slope = engaged / np.maximum(self.block_width, 1e-300)
        self.block_of_piece = np.repeat(np.arange(len(first)), np.diff(cuts))

    def master(self) -> LinearProgram:
        """The master LP: one column per block."""
        p = self.problem
        cls, slope = self.block_cls, self.block_slope
        lower, upper = row_bounds(p.sense, p.rhs)
        cost = p.cost(cls, slope, self.cg, self.c0)
        return column_lp(self.a, self.b, p.row_id, lower, upper, cls, slope, self.block_width, cost, p.maximise,
                         p.constant)

    def expand(self, block_values: np.ndarray) -> np.ndarray:
        """Segment values (in the segments' own order) from block values: each block spreads evenly."""
        piece = self._fill(block_values)[self.block_of_piece] * self.width
        out = np.empty_like(piece)
        out[self.order] = piece
        return out

    def _reduced_costs(self, y: np.ndarray) -> np.ndarray:
        """d_j of every merged piece (minimisation form) for row duals y (one per LP row)."""
        alpha = self._sign * self.cg - y @ self.b
        beta = self._sign * self.c0 - y @ self.a
        return alpha[self.cls] * self.slope + beta[self.cls]

    def gap(self, block_values: np.ndarray, duals: np.ndarray) -> float:
        """Certified relative gap between the master's solution and the segment LP's optimum (weak duality).

        For any row duals y of the right signs (min form), every solution of the segment LP costs at least
            LB(y) = sum_r (y_r L_r if y_r > 0 else y_r U_r) + sum_j min(0, d_j) w_j,
        so (master cost - LB) / max(1, |master cost|) bounds how far the master is from the optimum."""
        p = self.problem
        y = np.array(duals, float)
        lower, upper = row_bounds(p.sense, p.rhs)
        y[(y > 0) & ~np.isfinite(lower)] = 0.0
        y[(y < 0) & ~np.isfinite(upper)] = 0.0
        d = self._reduced_costs(y)
        pos, neg = y > 0, y < 0
        bound = float(y[pos] @ lower[pos] + y[neg] @ upper[neg])
        bound += dot(np.minimum(d, 0.0), self.width)
        cost = self._sign * p.cost(self.block_cls, self.block_slope, self.cg, self.c0)
        z = dot(cost, np.clip(block_values, 0.0, self.block_width))
        return max(0.0, z - bound) / max(1.0, abs(z))

    def refine(self, block_values: np.ndarray, duals: np.ndarray) -> bool:
        """Split the blocks whose segments the duals price inconsistently, and merge neighbours that are
        both full (or both empty), priced consistently and away from the threshold; False when no block is
        left to split (the master solution is then optimal for the segment LP)."""
        d = self._reduced_costs(duals)
        y = np.abs(duals)
        # each piece's d_j against the size of the terms it is made of: |c_j| + sum_r |y_r A_rj|
        per_slope = np.abs(self.cg) + y @ np.abs(self.b)
        fixed = np.abs(self.c0) + y @ np.abs(self.a)
        tol = REL_TOL * (fixed[self.cls] + per_slope[self.cls] * np.abs(self.slope))
        cls, block, first = self.block_cls, self.block_of_piece, self.cuts[:-1]
        fill = self._fill(block_values)
        size = np.diff(self.cuts)
        f = fill[block]
        eps = 1e-9
        wrong = ((d < -tol) & (f < 1 - eps)) | ((d > tol) & (f > eps))
        inconsistent = np.zeros(len(fill), dtype=bool)
        inconsistent[block[wrong]] = True
        bad = inconsistent & (size > 1)
        if not bad.any():
            return False
        threshold = self._threshold(d)
        cand = self._around(threshold)
        inside = bad[np.searchsorted(self.cuts, cand, side="right") - 1]
        new = np.setdiff1d(cand[inside], self.cuts)
        if len(new) == 0:  # the sign change is not inside a bad block: halve every bad block
            new = first[bad] + size[bad] // 2
        # Merging keeps the master's current solution (full + full is full), so its objective never falls.
        left, right = np.arange(len(fill) - 1), np.arange(1, len(fill))
        settled = ~inconsistent[left] & ~inconsistent[right] & (cls[left] == cls[right]) & (
            ((fill[left] >= 1 - eps) & (fill[right] >= 1 - eps)) | ((fill[left] <= eps) & (fill[right] <= eps)))
        cut = self.cuts[1:-1]
        settled &= np.abs(cut - threshold[cls[right]]) > KEEP
        self._set_cuts(np.union1d(np.concatenate([self.cuts[:1], cut[~settled], self.cuts[-1:]]), new))
        return True

    def _fill(self, block_values: np.ndarray) -> np.ndarray:
        """Share of each block's money the master uses, in [0, 1]."""
        return np.clip(block_values / np.maximum(self.block_width, 1e-300), 0.0, 1.0)


def solve_by_master(problem: SegmentProblem, solve_lp: Callable[[LinearProgram], LPResult],
                    hint: np.ndarray | None = None, gap: float = GAP) -> tuple[LPResult, int, int]:
    """Column generation: solve master LPs with `solve_lp` until the plan is certified within `gap` of the
    segment LP's optimum. Returns the result in segment values (duals per LP row), the LPs solved and the
    columns of the largest. hint: row duals (per model row) of a similar LP, to place the first blocks."""
    started = time.perf_counter()
    dec = Decomposition(problem, hint)
    build, solve_s, largest = time.perf_counter() - started, 0.0, 0
    for rounds in range(1, MAX_ROUNDS + 1):
        lp = dec.master()
        largest = max(largest, lp.num_col)
        r = solve_lp(lp)
        build, solve_s = build + r.build_seconds, solve_s + r.solve_seconds
        if not r.status.is_ok:
            break
        started = time.perf_counter()
        settled = dec.gap(r.values, r.duals) <= gap
        split = not settled and dec.refine(r.values, r.duals)
        build += time.perf_counter() - started
        if settled:
            return LPResult(r.status, r.message, dec.expand(r.values), r.duals, build, solve_s), rounds, largest
        if not split:  # the gap is open but no block can be split: only the whole LP can close it
            break
    # Blocks restrict the segment LP: only a master over single segments (or one with no engagement rows,
    # where blocks lose nothing) proves it infeasible, and a master that did not settle is no answer either.
    # Both fall back to the segment LP whole: always correct, slow only when a large LP with engagement
    # rules has no plan (the benchmarks never needed it).
    restricted = bool(problem.b.any()) and dec.num_blocks < dec.num_pieces
    if not (r.status.is_ok or (r.status is Status.INFEASIBLE and restricted)):
        return LPResult(r.status, r.message, np.zeros(len(problem.seg)), r.duals, build, solve_s), rounds, largest
    lp = problem.full_lp()
    whole = solve_lp(lp)
    whole.build_seconds += build
    whole.solve_seconds += solve_s
    return whole, rounds + 1, max(largest, lp.num_col)
