"""A linear programme in arrays (CSC), the form every LP takes just before a solver sees it.

    optimise  cost @ x + constant   s.t.  row_lower <= A x <= row_upper,  0 <= x <= col_upper

Columns here are money in a curve piece: a segment of one touchpoint, or a block of segments (see
decompose.py). A segment j of touchpoint t_j with slope g_j has coefficient a_r[t_j] + b_r[t_j] * g_j in
row r (money and engaged customers, as in model.Row); a block has the money-weighted sum of its segments'.
The rows are kept sparse (RowMatrix). Kept free of any solver so the engine and the benchmark hand the
very same numbers to HiGHS.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from .model import EQ, GE, LE


class Status(StrEnum):
    """What the solver said, as a result to report rather than an exception to raise."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ERROR = "error"

    @property
    def is_ok(self) -> bool:
        """True when the plan can be used."""
        return self is Status.OPTIMAL


@dataclass
class LPResult:
    """What solving one LP gave: status, column values, row duals (minimisation form, one per LP row)."""

    status: Status
    message: str
    values: np.ndarray
    duals: np.ndarray
    build_seconds: float
    solve_seconds: float
    mip_gap: float = float("nan")
    """For a MIP, the relative gap the solver certified between its plan and the best possible (0 when proven)."""


ZERO = 1e-12
"""Coefficients at or below this magnitude are left out of the matrix."""


@dataclass(frozen=True)
class LinearProgram:
    """Columns in CSC form: column j's nonzeros are index/value[start[j]:start[j + 1]]."""

    cost: np.ndarray
    col_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_id: np.ndarray
    """Position of each LP row in the model's row list (rows no column touches are left out)."""
    maximise: bool
    constant: float
    integer: np.ndarray | None = None
    """Per column, True for a binary (0 or 1) column; None: every column is continuous (an LP)."""

    @property
    def num_col(self) -> int:
        return len(self.cost)

    @property
    def num_row(self) -> int:
        return len(self.row_lower)

    @property
    def num_nz(self) -> int:
        return len(self.value)

    def rows(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The matrix row by row: (column indices, values) of each row (CSC -> CSR)."""
        col = np.repeat(np.arange(self.num_col), np.diff(self.start))
        order = np.argsort(self.index, kind="stable")
        cut = np.searchsorted(self.index[order], np.arange(self.num_row + 1))
        cols, vals = col[order], self.value[order]
        return [(cols[cut[r]:cut[r + 1]], vals[cut[r]:cut[r + 1]]) for r in range(self.num_row)]


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """a . b summed in numpy's own loop (einsum), not in BLAS: OpenBLAS threads a long dot, and on a busy
    2-core machine that was measured to turn 0.01 ms into 4 ms."""
    return float(np.einsum("i,i->", a, b))


def matvec(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """m @ v without BLAS threads (see dot)."""
    return np.einsum("ij,j->i", m, v)


def row_bounds(sense: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """>= rhs -> [rhs, inf], <= rhs -> [-inf, rhs], == rhs -> [rhs, rhs]."""
    lower = np.where(sense == LE, -np.inf, rhs)
    upper = np.where(sense == GE, np.inf, rhs)
    return lower, upper


def violated(lhs: np.ndarray, sense: np.ndarray, rhs: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Rows whose constant left-hand side breaks them (relative tolerance 1e-9)."""
    tol = 1e-9 * scale
    return ((sense == GE) & (lhs < rhs - tol)) | ((sense == LE) & (lhs > rhs + tol)) | (
        (sense == EQ) & (np.abs(lhs - rhs) > tol))


@dataclass(frozen=True)
class RowMatrix:
    """Rows over touchpoints, sparse: entry k is row `row[k]`, touchpoint `col[k]`, money coefficient a[k] and
    engaged-customer coefficient b[k] (as in model.Row), sorted by row. Rows of a thousand group rules over a
    hundred thousand touchpoints take as much memory as the touchpoints they name, not rows x touchpoints."""

    num_rows: int
    num_cols: int
    row: np.ndarray
    col: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def from_rows(cls, rows: list, num_cols: int) -> RowMatrix:
        """From model.Row objects (index, a, b over their touchpoints)."""
        sizes = np.array([len(r.index) for r in rows], dtype=np.int64)

        def cat(parts: list, dtype) -> np.ndarray:
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)

        return cls(len(rows), num_cols, np.repeat(np.arange(len(rows), dtype=np.int32), sizes),
                   cat([r.index for r in rows], np.int32), cat([r.a for r in rows], float),
                   cat([r.b for r in rows], float))

    def take(self, rows: np.ndarray) -> RowMatrix:
        """The given rows (positions, ascending), renumbered 0, 1, ..."""
        new = np.full(self.num_rows, -1, dtype=np.int32)
        new[rows] = np.arange(len(rows), dtype=np.int32)
        keep = new[self.row] >= 0
        return RowMatrix(len(rows), self.num_cols, new[self.row[keep]], self.col[keep], self.a[keep], self.b[keep])

    def lhs(self, money: np.ndarray, engaged: np.ndarray) -> np.ndarray:
        """sum_i a_ri money_i + b_ri engaged_i for every row."""
        return np.bincount(self.row, weights=self.a * money[self.col] + self.b * engaged[self.col],
                           minlength=self.num_rows)

    def pull(self, y: np.ndarray, absolute: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(sum_r y_r a_ri, sum_r y_r b_ri) for every touchpoint i (with |y| |a|, |y| |b| when absolute)."""
        w = np.abs(y[self.row]) if absolute else y[self.row]
        a, b = (np.abs(self.a), np.abs(self.b)) if absolute else (self.a, self.b)
        return (np.bincount(self.col, weights=w * a, minlength=self.num_cols),
                np.bincount(self.col, weights=w * b, minlength=self.num_cols))

    def by_column(self) -> tuple[np.ndarray, np.ndarray]:
        """Entries in touchpoint order (rows ascending within one), and where each touchpoint's run starts."""
        cached = self.__dict__.get("_by_column")
        if cached is None:
            order = np.argsort(self.col, kind="stable")
            start = np.searchsorted(self.col[order], np.arange(self.num_cols + 1)).astype(np.int64)
            cached = (order, start)
            object.__setattr__(self, "_by_column", cached)
        return cached

    def columns(self, item: np.ndarray, touchpoint: np.ndarray, money: np.ndarray,
                engaged: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Entries (row, item, money a_ri + engaged b_ri) of columns that are sums over (item, touchpoint i) pairs:
        one item is a curve segment of one touchpoint, or a block of segments of several."""
        order, start = self.by_column()
        first, count = start[touchpoint], start[touchpoint + 1] - start[touchpoint]
        pair = np.repeat(np.arange(len(item)), count)
        offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        entry = order[first[pair] + offset]
        return self.row[entry], item[pair], money[pair] * self.a[entry] + engaged[pair] * self.b[entry]


DENSE_KEYS = 4_000_000
"""csc() adds duplicate entries on a dense grid of columns x rows up to this size (32 MB), else by sorting."""


def csc(num_col: int, row: np.ndarray, col: np.ndarray, value: np.ndarray,
        summed: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, index, value) of the matrix with these entries; duplicates of (row, col) are added up unless the
    entries are already in column order with no duplicate (summed=False). Entries at or below ZERO go."""
    if summed and len(value):
        width = int(row.max(initial=0)) + 1
        key = col.astype(np.int64) * width + row
        if num_col * width <= DENSE_KEYS:  # few columns x rows (a master LP): add up on a dense grid, no sort
            total = np.bincount(key, weights=value, minlength=num_col * width)
            unique = np.flatnonzero(total)
            value = total[unique]
        else:
            unique, inverse = np.unique(key, return_inverse=True)
            value = np.bincount(inverse, weights=value, minlength=len(unique))
        col, row = (unique // width).astype(np.int64), (unique % width).astype(np.int32)
    keep = np.abs(value) > ZERO
    col, row, value = col[keep], row[keep], value[keep]
    start = np.searchsorted(col, np.arange(num_col + 1)).astype(np.int32)
    return start, row.astype(np.int32), np.asarray(value, float)


def fill_in_order(lp: LinearProgram, touchpoint: np.ndarray, width: np.ndarray, ordered: np.ndarray,
                  slope: np.ndarray | None = None) -> LinearProgram:
    """The LP made a MIP whose columns fill the segments of the `ordered` touchpoints in order. The LP's first
    columns are segments (touchpoint, width, slope), consecutive per touchpoint in spend order. For each pair j, j'
    of consecutive segments of an ordered touchpoint up to its last convex kink (a segment steeper than the one
    before it), a binary z:
        s_j - w_j z >= 0  (z = 1: j is full)     s_j' - w_j' z <= 0  (j' takes money only when z = 1);
    every later segment k (slopes only fall from there, so an LP fills them in order) takes money only once the
    last binary is 1: s_k - w_k z_last <= 0. Without `slope`, every pair gets a binary."""
    t = np.asarray(touchpoint)
    same = (t[1:] == t[:-1]) & ordered[t[:-1]]
    tail = np.zeros(0, dtype=int)
    tail_z = np.zeros(0, dtype=int)
    if slope is not None:  # pairs after a touchpoint's last rising one share its binary
        g = np.asarray(slope, float)
        rises = same & (g[1:] > g[:-1] + 1e-12 * np.maximum(1.0, np.abs(g[:-1])))
        last = np.full(len(ordered), -1)
        np.maximum.at(last, t[:-1][rises], np.flatnonzero(rises))
        position = np.arange(len(same))
        tail = np.flatnonzero(same & (position > last[t[:-1]]) & (last[t[:-1]] >= 0)) + 1  # segments gated later
        same &= position <= last[t[:-1]]
    pair = np.flatnonzero(same)
    m = len(pair)
    if m == 0:
        return lp
    n0, r0 = lp.num_col, lp.num_row
    z = n0 + np.arange(m)
    if len(tail):  # the binary of each gated segment's touchpoint's last rising pair
        z_of = np.full(len(ordered), -1)
        z_of[t[pair]] = z  # pairs are in order: the last write per touchpoint is its last pair
        tail_z = z_of[t[tail]]
    k = len(tail)
    full, nxt = r0 + 2 * np.arange(m), r0 + 2 * np.arange(m) + 1
    gate = r0 + 2 * m + np.arange(k)
    col = np.concatenate([np.repeat(np.arange(n0), np.diff(lp.start)), pair, z, pair + 1, z, tail, tail_z])
    row = np.concatenate([lp.index, full, full, nxt, nxt, gate, gate])
    value = np.concatenate([lp.value, np.ones(m), -width[pair], np.ones(m), -width[pair + 1], np.ones(k),
                            -width[tail]])
    order = np.lexsort((row, col))
    col, row, value = col[order], row[order], value[order]
    start = np.searchsorted(col, np.arange(n0 + m + 1)).astype(np.int32)
    link_lower = np.concatenate([np.tile([0.0, -np.inf], m), np.full(k, -np.inf)])
    link_upper = np.concatenate([np.tile([np.inf, 0.0], m), np.zeros(k)])
    integer = np.concatenate([np.zeros(n0, bool) if lp.integer is None else lp.integer, np.ones(m, bool)])
    return LinearProgram(np.concatenate([lp.cost, np.zeros(m)]), np.concatenate([lp.col_upper, np.ones(m)]),
                         start, row.astype(np.int32), value, np.concatenate([lp.row_lower, link_lower]),
                         np.concatenate([lp.row_upper, link_upper]), lp.row_id, lp.maximise, lp.constant, integer)
