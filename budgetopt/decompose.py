"""The segment LP in numbers, and an exact way to solve it through a master LP far smaller than itself.

The segment LP (see engine.py): columns s_j in [0, w_j], one per curve segment j of touchpoint t_j with slope
g_j; row r has coefficient A_rj = a_r[t_j] + b_r[t_j] g_j (rows sparse, lp.RowMatrix); the objective per unit of
money is c_j = cg[t_j] g_j + c0[t_j] (cg = value, c0 = 0 when maximising engagement; cg = 0, c0 = 1 when
minimising spend). In minimisation form (sc = -1 when maximising) segment j's reduced cost for row duals y is

    d_j = (sc cg_t - y.b_t) g_j + (sc c0_t - y.a_t),    t = t_j,

and a solution is optimal exactly when every segment at 0 has d_j >= 0, every full one d_j <= 0 and every one in
between d_j = 0. So the duals decide everything but the few segments of the basis: the master LP only has to
find them.

Classes. Touchpoints with the same coefficients in the rows whose dual is not zero (the "active" rows; all rows
before any dual is known) and the same c0 are priced alike but for their own value and slope: within such a
class d_j rises as (sc cg_t - y.b) g_j does, so the duals fill each class's segments in that order (falling
value x slope; falling slope when values are shared). Rows whose dual is zero do not change the order, so
hundreds of group rules that do not bind do not split the classes.

Blocks. Each round sorts every segment by (class, d_j) and cuts the classes into blocks: at the threshold where
d_j changes sign and at geometric distances from it, where the previous round's solution changes fill (so that
solution stays a solution of the new master), and, in the first round, at equal-money quantiles and around
where today's money would reach. A block column spreads its money over its segments in proportion to their
widths; its coefficients are the exact money-weighted sums of its segments' (touchpoints in one block may differ
in rows whose dual is zero). Every master solution is a solution of the segment LP with the same objective, and
the rounds stop when weak duality certifies it within GAP of the segment LP's optimum (Decomposition.gap).

Phase 1. When a master has no solution (blocks restrict the segment LP), the same blocks are solved for the least
violation u of the rows (two elastic columns); if weak duality proves that violation positive for the segment LP
itself, the segment LP has no plan (decided without solving it whole); otherwise the rounds go on from the
least-violation solution until it keeps every row, then on to the objective.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import schema as S
from .curves import Segments
from .lp import LinearProgram, LPResult, RowMatrix, Status, csc, dot, row_bounds, violated
from .model import EQ, GE, LE, Model, Row

STEP = 4
"""Cuts around a class's threshold sit at offsets 0, 1, -+STEP, -+STEP^2, ... segments."""
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
MAX_CLASSES = 2_000
"""Classes in a first master without duals: beyond this (hundreds of group rules that tell every touchpoint
apart), the first master's classes use only the rows that cover the most touchpoints; duals add the rest."""
ACTIVE = 1e-12
"""A row dual this small relative to the largest is zero: the row does not split classes."""
FEASIBLE = 1e-7
"""Least violation (in the rows' own units, like HiGHS's primal feasibility tolerance) at or below which phase 1
has found a plan; a weak-duality bound above it proves the segment LP has none."""


@dataclass(frozen=True)
class SegmentProblem:
    """Rows over touchpoints (only rows some segment touches), objective weights and the segments."""

    seg: Segments
    rows: RowMatrix  # LP rows x touchpoints: money (a) and engaged-customer (b) coefficients
    sense: np.ndarray
    rhs: np.ndarray  # after moving the constants of lo and base engagement to the right
    row_id: np.ndarray  # position in the model's row list
    today: np.ndarray  # today's spend per touchpoint (the first guess of where the optimum lies)
    cg: np.ndarray  # objective per engaged customer, per touchpoint
    c0: np.ndarray  # objective per unit of money, per touchpoint
    maximise: bool
    constant: float
    scale: np.ndarray  # size of each row (for the elastic phase): max(1, |rhs|, sum |terms| at the bounds)

    def cost(self, k: np.ndarray, slope: np.ndarray) -> np.ndarray:
        """Objective coefficient of segments (touchpoint k, slope g): cg_k g + c0_k."""
        return self.cg[k] * slope + self.c0[k]

    def full_lp(self) -> LinearProgram:
        """The segment LP itself: one column per segment."""
        s = self.seg
        lower, upper = row_bounds(self.sense, self.rhs)
        item = np.arange(len(s), dtype=np.int64)
        row, col, value = self.rows.columns(item, s.touchpoint, np.ones(len(s)), s.slope)
        start, index, value = csc(len(s), row, col, value, summed=False)
        return LinearProgram(self.cost(s.touchpoint, s.slope), np.asarray(s.width, float), start, index, value,
                             lower, upper, self.row_id, self.maximise, self.constant)

    @property
    def prefers_engagement(self) -> bool:
        """True when no row is hurt by more engaged customers (the condition for classes, see above)."""
        m = self.rows
        sense = self.sense[m.row]
        bad = ((sense == GE) & (m.b < 0)) | ((sense == LE) & (m.b > 0)) | ((sense == EQ) & (m.b != 0))
        return not bad.any() and bool((self.cg >= 0).all())


def segment_problem(model: Model, seg: Segments, rows: list[Row], feasibility_only: bool = False,
                    spend: float = 0.0) -> SegmentProblem | str:
    """The segment LP's numbers, or a sentence when a row no segment touches is already broken. spend: instead of
    the model's objective, minimise spend x total money (1: the least money the rows allow, -1: the most)."""
    n = len(seg.lo)
    matrix = RowMatrix.from_rows(rows, n)
    sense = np.array([r.sense for r in rows], dtype=object)
    given = np.array([r.rhs for r in rows], dtype=float)
    rhs = given - matrix.lhs(seg.lo, seg.base_engaged)
    moving = np.zeros(n, dtype=bool)
    moving[seg.touchpoint] = True
    touches = moving[matrix.col] & ((matrix.a != 0) | (matrix.b != 0))
    touched = np.bincount(matrix.row[touches], minlength=len(rows)) > 0
    broken = ~touched & violated(np.zeros(len(rows)), sense, rhs, np.maximum(1.0, np.abs(given)))
    if broken.any():
        return f"rule '{rows[int(np.flatnonzero(broken)[0])].label}' cannot hold: nothing it covers can move"
    if model.maximise:
        cg, c0, constant = model.weight.astype(float), np.zeros(n), dot(model.weight, seg.base_engaged)
    else:
        cg, c0, constant = np.zeros(n), np.ones(n), float(seg.lo.sum())
    if feasibility_only:
        cg, c0 = np.zeros(n), np.zeros(n)
    maximise = model.maximise
    if spend:
        cg, c0, constant, maximise = np.zeros(n), np.full(n, float(spend)), float(spend) * float(seg.lo.sum()), False
    keep = np.flatnonzero(touched)
    matrix = matrix.take(keep)
    with np.errstate(invalid="ignore"):  # uncapped tangents: inf x 0
        top = np.bincount(seg.touchpoint, weights=seg.width * np.abs(seg.slope), minlength=n)
        reach = np.bincount(matrix.row, weights=np.abs(matrix.a) * (seg.hi - seg.lo)[matrix.col]
                            + np.abs(matrix.b) * top[matrix.col], minlength=len(keep))
    scale = np.maximum(1.0, np.maximum(np.abs(given[keep]), np.where(np.isfinite(reach), reach, 0.0)))
    today = model.touchpoints[S.SPEND].to_numpy(float)
    return SegmentProblem(seg, matrix, sense[keep], rhs[keep], keep, today, cg, c0, maximise, constant, scale)


def classes(key: np.ndarray) -> np.ndarray:
    """Class number of every column of key (features x items): equal columns, equal numbers.

    A random projection groups the columns in one pass; equal projections are checked to come from equal
    columns, and an exact (slower) grouping is used in the unlikely case they do not."""
    h = np.einsum("ij,i->j", key, np.random.default_rng(0).uniform(1.0, 2.0, key.shape[0]))
    _, first, cls = np.unique(h, return_index=True, return_inverse=True)
    if np.array_equal(key, key[:, first[cls]]):
        return cls
    return np.unique(key.T, axis=0, return_inverse=True)[1].reshape(-1)


def _row_weights(num_rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(1.0, 2.0, num_rows), rng.uniform(1.0, 2.0, num_rows)


class Decomposition:
    """Classes of touchpoints priced alike, the order the duals fill their segments in, and the blocks of the
    master LP (see the module docstring)."""

    def __init__(self, problem: SegmentProblem, hint: np.ndarray | None = None):
        p = self.problem = problem
        s = p.seg
        self.t, self.g, self.w = s.touchpoint, np.asarray(s.slope, float), np.asarray(s.width, float)
        self.c = p.cost(self.t, self.g)
        self._sign = -1.0 if p.maximise else 1.0  # HiGHS minimises: a maximised cost changes sign
        self.lower, self.upper = row_bounds(p.sense, p.rhs)
        self.phase = 2
        m = p.rows
        self._wa, self._wb = _row_weights(m.num_rows, 0)
        self._tp_class = None
        self._whole = self._hash(np.ones(m.num_rows, dtype=bool))  # every row: exact classes agree here
        cover = np.bincount(m.row, minlength=m.num_rows)
        self._widest = np.zeros(m.num_rows, dtype=bool)
        self._widest[np.argsort(-cover, kind="stable")[:max(1, int(np.log2(MAX_CLASSES)))]] = True
        y = None if hint is None else np.asarray(hint, float)[p.row_id]
        self.elastic = self._elastic_columns()
        self._build(y, None, first=True)

    # ------------------------------------------------------------------ pricing

    def _pull(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.problem.rows.pull(y)

    def reduced_costs(self, y: np.ndarray, phase: int | None = None) -> np.ndarray:
        """d_j of every segment (minimisation form) for row duals y; phase 1: the cost is the violation only."""
        ya, yb = self._pull(y)
        phase = self.phase if phase is None else phase
        c = self._sign * self.c if phase == 2 else 0.0
        return c - ya[self.t] - yb[self.t] * self.g

    def _tolerance(self, y: np.ndarray) -> np.ndarray:
        """REL_TOL x (|c_j| + sum_r |y_r A_rj|) per segment."""
        ya, yb = self.problem.rows.pull(y, absolute=True)
        c = np.abs(self.c) if self.phase == 2 else 0.0
        return REL_TOL * (c + ya[self.t] + yb[self.t] * np.abs(self.g))

    # ------------------------------------------------------------------ classes and blocks

    def _classes(self, y: np.ndarray | None) -> np.ndarray:
        """Class of every touchpoint: the same (a, b) in the active rows and the same c0 (see the docstring);
        classes are only ever split, never merged, so the last solution stays cheap to represent."""
        cls = self._pattern(y)
        if getattr(self, "_tp_class", None) is not None:
            cls = np.unique(self._tp_class.astype(np.int64) * (int(cls.max(initial=0)) + 1) + cls,
                            return_inverse=True)[1].reshape(-1)
        self._tp_class = cls
        # a class whose members agree in every row (not only the active ones) is one column per block
        first = np.zeros(int(cls.max(initial=-1)) + 1, dtype=np.int64)
        first[cls[::-1]] = np.arange(len(cls))[::-1]
        self._rep = first
        self._exact = bool(np.array_equal(self._whole[first[cls]], self._whole))
        return cls

    def _pattern(self, y: np.ndarray | None) -> np.ndarray:
        """Touchpoints numbered by their (a, b) in the rows with a dual (all rows without duals) and their c0."""
        p = self.problem
        m = p.rows
        known = y is not None and bool(np.any(y))
        active = np.abs(y) > ACTIVE * np.abs(y).max() if known else np.ones(m.num_rows, dtype=bool)
        for _ in range(2):
            cls = np.unique(self._hash(active), return_inverse=True)[1].reshape(-1)
            if known or cls.max(initial=0) < MAX_CLASSES:
                return cls
            active = active & self._widest  # no duals yet, and the rows tell too many apart: the widest rows only
        return cls

    def _shared_value(self, cls_of_tp: np.ndarray) -> bool:
        """Every class's members have one value (objective per engaged customer)."""
        cg = self.problem.cg
        size = int(cls_of_tp.max(initial=-1)) + 1
        high = np.full(size, -np.inf)
        low = np.full(size, np.inf)
        np.maximum.at(high, cls_of_tp, cg)
        np.minimum.at(low, cls_of_tp, cg)
        return bool((high <= low).all())

    def _hash(self, active: np.ndarray) -> np.ndarray:
        """A random projection of each touchpoint's (a, b) in the active rows and its c0: equal for equal ones."""
        p, m = self.problem, self.problem.rows
        on = active[m.row]
        h = np.bincount(m.col[on], weights=m.a[on] * self._wa[m.row[on]] + m.b[on] * self._wb[m.row[on]],
                        minlength=len(p.seg.lo))
        return h + p.c0 * 0.7310585786300049

    def _build(self, y: np.ndarray | None, x_prev: np.ndarray | None, first: bool = False) -> None:
        """Sort the segments by (class, d) for duals y and cut them into blocks (see the docstring)."""
        p = self.problem
        if y is None:  # no duals yet: value x slope (slope alone when minimising spend), falling
            d = -(p.cg[self.t] * self.g) if p.maximise else -self.g
        else:
            d = self.reduced_costs(y)
        cls_of_tp = self._classes(y)
        # Within a class whose members share their value, the duals fill by falling slope whatever they are
        # (d = alpha g + beta with alpha <= 0): that order is kept from round to round while the classes stay.
        by_slope = self.phase == 2 and self._shared_value(cls_of_tp) and (
            y is None or bool((self._sign * p.cg - self.problem.rows.pull(y)[1] <= 0).all()))
        cached = getattr(self, "_sorted", None)
        if not (by_slope and cached is not None and np.array_equal(cached["classes"], cls_of_tp)):
            used, cls = np.unique(cls_of_tp[self.t], return_inverse=True)
            key = -self.g if by_slope else d
            # sort by class, then the key, in one sort: the key mapped monotonically into [0, 1) plus the class
            spread = float(np.median(np.abs(key))) or 1.0
            order = np.argsort(cls + (0.5 + np.arctan(key / spread) / np.pi) * (1 - 1e-9))
            w = self.w[order]
            cached = {"classes": cls_of_tp, "order": order, "used": used, "piece_class": cls, "cls": cls[order],
                      "w": w, "gw": self.g[order] * w, "cw": self.c[order] * w,
                      "money": np.concatenate([[0.0], np.cumsum(w)])}
            self._sorted = cached if by_slope else None
        self._arrays = cached
        self.class_id = cached["used"]  # the touchpoint class each sorted class stands for
        self.order, self.cls, self.money = cached["order"], cached["cls"], cached["money"]
        num_class = len(self.class_id)
        self.start = np.searchsorted(self.cls, np.arange(num_class + 1))
        self.num_class = num_class
        order, width = self.order, cached["w"]
        negative = np.bincount(cached["piece_class"], weights=d < 0, minlength=num_class).astype(int)
        threshold = self.start[:-1] + negative
        cuts = [self.start, self._around(threshold)]
        if x_prev is not None:
            # where the last solution's fill changes along the new order: it stays a solution of the new master
            fill = np.clip(x_prev[order] / np.maximum(width, 1e-300), 0.0, 1.0)
            cuts.append(np.flatnonzero(np.abs(np.diff(fill)) > 1e-9) + 1)
        if first:
            blocks = HINT_BLOCKS if y is not None else INITIAL_BLOCKS
            t = np.linspace(0.0, 1.0, blocks + 1)[1:-1]
            m0, m1 = self.money[self.start[:-1]], self.money[self.start[1:]]
            cuts.append(np.searchsorted(self.money, (m0[:, None] + (m1 - m0)[:, None] * t[None, :]).ravel()))
            if y is None:
                s = p.seg
                class_of = np.zeros(len(s.lo), dtype=np.int64)
                class_of[self.t[order]] = self.cls
                moving = np.zeros(len(s.lo), dtype=bool)
                moving[self.t] = True
                above_lo = (np.clip(p.today, s.lo, s.hi) - s.lo)[moving]
                class_today = np.bincount(class_of[moving], weights=above_lo, minlength=num_class)
                cuts.append(self._around(np.searchsorted(self.money, m0 + class_today)))
        self._set_cuts(np.unique(np.concatenate(cuts)))

    def _around(self, guess: np.ndarray) -> np.ndarray:
        """Cuts at guess, guess + 1 and guess -+ STEP^k inside each class."""
        size = int(np.diff(self.start).max(initial=1))
        steps = STEP ** np.arange(1, int(np.ceil(np.log(max(size, 2)) / np.log(STEP))) + 1)
        offsets = np.concatenate([[0, 1], steps, -steps])
        cand = guess[:, None] + offsets[None, :]
        lo, hi = self.start[:-1, None], self.start[1:, None]
        return cand[(cand > lo) & (cand < hi)]

    def _set_cuts(self, cuts: np.ndarray) -> None:
        """Blocks between consecutive cuts: their money width, and which block each sorted segment is in."""
        cuts = cuts[(cuts >= 0) & (cuts <= len(self.order))]
        self.cuts = np.unique(np.concatenate([[0, len(self.order)], cuts]))
        first = self.cuts[:-1]
        self.block_width = np.add.reduceat(self._arrays["w"], first) if len(first) else np.zeros(0)
        self.block_of_piece = np.repeat(np.arange(len(first)), np.diff(self.cuts))

    @property
    def num_blocks(self) -> int:
        return len(self.cuts) - 1

    # ------------------------------------------------------------------ the master LP

    def _elastic_columns(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Two columns u+ (adds 1 to >= and == rows) and u- (subtracts 1 from <= and == rows), with an upper bound
        large enough for the all-empty solution: the phase-1 master always has a solution. (Unit coefficients, like
        the blocks' own: scaling them by the rows' sizes left HiGHS's simplex stopping at false optima.)"""
        p = self.problem
        plus = np.where((p.sense == GE) | (p.sense == EQ), 1.0, 0.0)
        minus = np.where((p.sense == LE) | (p.sense == EQ), -1.0, 0.0)
        need = np.where(p.sense == LE, -p.rhs, np.where(p.sense == GE, p.rhs, np.abs(p.rhs)))
        return plus, minus, float(max(need.max(initial=0.0), 0.0) * 2 + 1.0)

    def master(self, phase: int | None = None) -> LinearProgram:
        """The master LP: one column per block (money in it), and in phase 1 the two elastic columns."""
        p = self.problem
        phase = self.phase if phase is None else phase
        arrays, block, first = self._arrays, self.block_of_piece, self.cuts[:-1]
        nb = self.num_blocks
        if self._exact:  # every member of a block's class has its coefficients: one (block, member) pair
            pair_block, pair_tp = np.arange(nb), self._rep[self.class_id[self.cls[first]]]
            money, engaged = self.block_width, np.add.reduceat(arrays["gw"], first)
        else:  # (block, touchpoint) pairs: the money and engaged customers each touchpoint puts in each block
            key = block.astype(np.int64) * (len(p.seg.lo) + 1) + self.t[self.order]
            pairs, inverse = np.unique(key, return_inverse=True)
            money = np.bincount(inverse, weights=arrays["w"], minlength=len(pairs))
            engaged = np.bincount(inverse, weights=arrays["gw"], minlength=len(pairs))
            pair_block, pair_tp = pairs // (len(p.seg.lo) + 1), pairs % (len(p.seg.lo) + 1)
        width = np.maximum(self.block_width, 1e-300)
        per_money = 1.0 / width[pair_block]
        row, col, value = p.rows.columns(pair_block, pair_tp, money * per_money, engaged * per_money)
        cost = np.add.reduceat(arrays["cw"], first) / width
        upper = self.block_width.copy()
        lower_r, upper_r = row_bounds(p.sense, p.rhs)
        if phase == 1:
            plus, minus, big = self.elastic
            rows_idx = np.arange(len(plus))
            extra_row = np.concatenate([rows_idx, rows_idx])
            extra_col = np.concatenate([np.full(len(plus), nb), np.full(len(minus), nb + 1)])
            row = np.concatenate([row, extra_row])
            col = np.concatenate([col, extra_col])
            value = np.concatenate([value, plus, minus])
            cost = np.concatenate([np.zeros(nb), [1.0, 1.0]])
            upper = np.concatenate([upper, [big, big]])
            start, index, value = csc(nb + 2, row.astype(np.int32), col, value)
            return LinearProgram(cost, upper, start, index, value, lower_r, upper_r, p.row_id, False, 0.0)
        start, index, value = csc(nb, row.astype(np.int32), col, value)
        return LinearProgram(cost, upper, start, index, value, lower_r, upper_r, p.row_id, p.maximise, p.constant)

    def expand(self, block_values: np.ndarray) -> np.ndarray:
        """Segment values (in the segments' own order) from block values: each block spreads evenly."""
        fill = self._fill(block_values[:self.num_blocks])
        piece = np.repeat(fill, np.diff(self.cuts)) * self._arrays["w"]
        out = np.empty_like(piece)
        out[self.order] = piece
        return out

    def _fill(self, block_values: np.ndarray) -> np.ndarray:
        """Share of each block's money the master uses, in [0, 1]."""
        return np.clip(block_values / np.maximum(self.block_width, 1e-300), 0.0, 1.0)

    # ------------------------------------------------------------------ certificates

    def _dual_bound(self, duals: np.ndarray, phase: int) -> tuple[float, np.ndarray]:
        """Weak duality: for duals y of the right signs (min form), every solution of the segment LP costs at least
            LB(y) = sum_r (y_r L_r if y_r > 0 else y_r U_r) + sum_j min(0, d_j) w_j  (+ the elastic columns')."""
        y = np.array(duals, float)
        y[(y > 0) & ~np.isfinite(self.lower)] = 0.0
        y[(y < 0) & ~np.isfinite(self.upper)] = 0.0
        d = self.reduced_costs(y, phase)
        pos, neg = y > 0, y < 0
        bound = float(y[pos] @ self.lower[pos] + y[neg] @ self.upper[neg]) + dot(np.minimum(d, 0.0), self.w)
        if phase == 1:
            plus, minus, big = self.elastic
            bound += min(0.0, 1.0 - float(y @ plus)) * big + min(0.0, 1.0 - float(y @ minus)) * big
        return bound, y

    def gap(self, values: np.ndarray, duals: np.ndarray) -> float:
        """Certified relative gap between a segment solution (values per segment, own order) and the segment
        LP's optimum: (cost - LB(y)) / max(1, |cost|)."""
        bound, _ = self._dual_bound(duals, 2)
        z = dot(self._sign * self.c, np.clip(values, 0.0, self.w))
        return max(0.0, z - bound) / max(1.0, abs(z))

    def keeps_rows(self, values: np.ndarray, tol: float = 1e-7) -> bool:
        """The segment solution keeps every row of the segment LP (relative tol of each row's size)."""
        p = self.problem
        t, w = self.t, np.clip(values, 0.0, self.w)
        money = np.bincount(t, weights=w, minlength=p.rows.num_cols)
        engaged = np.bincount(t, weights=w * self.g, minlength=p.rows.num_cols)
        lhs = p.rows.lhs(money, engaged)
        slack = tol * p.scale
        return bool(((lhs >= self.lower - slack) & (lhs <= self.upper + slack)).all())

    def proves_infeasible(self, duals: np.ndarray) -> bool:
        """Phase-1 duals whose weak-duality bound on the least violation is positive: no plan at all."""
        bound, _ = self._dual_bound(duals, 1)
        return bound > FEASIBLE

    def refine(self, values: np.ndarray, duals: np.ndarray) -> None:
        """New blocks for the next master: sorted by the new duals, cut where the last solution changes fill."""
        self._build(np.asarray(duals, float), values)


def solve_by_master(problem: SegmentProblem, solve_lp: Callable[[LinearProgram], LPResult],
                    hint: np.ndarray | None = None, gap: float = GAP) -> tuple[LPResult, int, int]:
    """Column generation: solve master LPs with `solve_lp` until the plan is certified within `gap` of the
    segment LP's optimum, or its having no plan is proven. Returns the result in segment values (duals per LP
    row), the LPs solved and the columns of the largest. hint: row duals (per model row) of a similar LP."""
    started = time.perf_counter()
    dec = Decomposition(problem, hint)
    build, solve_s, largest = time.perf_counter() - started, 0.0, 0
    r = None
    for rounds in range(1, MAX_ROUNDS + 1):
        lp = dec.master()
        largest = max(largest, lp.num_col)
        r = solve_lp(lp)
        build, solve_s = build + r.build_seconds, solve_s + r.solve_seconds
        if dec.phase == 2 and r.status is Status.INFEASIBLE:
            dec.phase = 1  # the blocks restrict the segment LP: least violation on the same blocks
            continue
        if not r.status.is_ok:
            break
        started = time.perf_counter()
        values = dec.expand(r.values)
        if dec.phase == 1:
            violation = float(r.values[-2:].sum())
            if violation <= FEASIBLE:
                dec.phase = 2
                dec.refine(values, np.zeros(len(r.duals)) if hint is None else np.asarray(hint)[problem.row_id])
            elif dec.proves_infeasible(r.duals):
                build += time.perf_counter() - started
                out = LPResult(Status.INFEASIBLE, "no plan satisfies every rule", np.zeros(len(problem.seg)),
                               r.duals, build, solve_s)
                return out, rounds, largest
            else:
                dec.refine(values, r.duals)
            build += time.perf_counter() - started
            continue
        settled = dec.gap(values, r.duals) <= gap
        if settled and dec.keeps_rows(values):
            build += time.perf_counter() - started
            return LPResult(r.status, r.message, values, r.duals, build, solve_s), rounds, largest
        if settled:  # a certificate needs a plan that keeps every row: never expected, checked all the same
            break
        dec.refine(values, r.duals)
        build += time.perf_counter() - started
    # The rounds did not settle (or the solver failed): the segment LP whole is always an answer.
    if r is not None and not (r.status.is_ok or r.status is Status.INFEASIBLE):
        return LPResult(r.status, r.message, np.zeros(len(problem.seg)), r.duals, build, solve_s), rounds, largest
    lp = problem.full_lp()
    whole = solve_lp(lp)
    whole.build_seconds += build
    whole.solve_seconds += solve_s
    return whole, rounds + 1, max(largest, lp.num_col)
