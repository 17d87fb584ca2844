"""A linear programme in arrays (CSC), the form every LP takes just before a solver sees it.

    optimise  cost @ x + constant   s.t.  row_lower <= A x <= row_upper,  0 <= x <= col_upper

Columns here are money in a curve piece: a segment of one touchpoint, or a block of merged segments
(see decompose.py). A column j belongs to a "representative" k_j (a touchpoint, or a class of
touchpoints) and has slope g_j, so its coefficient in row r is  a_r[k_j] + b_r[k_j] * g_j
(money and engaged customers, as in model.Row). Kept free of any solver so the engine (through PuLP)
and the benchmark (straight into highspy) hand the very same numbers to HiGHS.
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


def column_lp(a: np.ndarray, b: np.ndarray, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray,
              k: np.ndarray, slope: np.ndarray, width: np.ndarray, cost: np.ndarray, maximise: bool,
              constant: float) -> LinearProgram:
    """The LP over columns (k_j, g_j, w_j): A_rj = a[r, k_j] + b[r, k_j] g_j, only for the given rows.

    a, b are (rows x representatives); rows are the model row positions these LP rows stand for."""
    touches = (a != 0.0) | (b != 0.0)
    col, row = np.nonzero(touches[:, k].T)  # column-major: sorted by column, then row
    kc = k[col]
    value = a[row, kc] + b[row, kc] * slope[col]
    keep = np.abs(value) > ZERO
    col, row, value = col[keep], row[keep], value[keep]
    start = np.searchsorted(col, np.arange(len(k) + 1)).astype(np.int32)
    return LinearProgram(np.asarray(cost, float), np.asarray(width, float), start, row.astype(np.int32), value,
                         lower, upper, rows, maximise, constant)


def fill_in_order(lp: LinearProgram, touchpoint: np.ndarray, width: np.ndarray, ordered: np.ndarray) -> LinearProgram:
    """The LP made a MIP whose columns fill the segments of the `ordered` touchpoints in order. The LP's first
    columns are segments (touchpoint, width), consecutive per touchpoint in spend order; for each pair j, j' of
    consecutive segments of an ordered touchpoint, a binary z:
        s_j - w_j z >= 0  (z = 1: j is full)     s_j' - w_j' z <= 0  (j' takes money only when z = 1)."""
    t = np.asarray(touchpoint)
    pair = np.flatnonzero((t[1:] == t[:-1]) & ordered[t[:-1]])
    m = len(pair)
    if m == 0:
        return lp
    n0, r0 = lp.num_col, lp.num_row
    z = n0 + np.arange(m)
    full, nxt = r0 + 2 * np.arange(m), r0 + 2 * np.arange(m) + 1
    col = np.concatenate([np.repeat(np.arange(n0), np.diff(lp.start)), pair, z, pair + 1, z])
    row = np.concatenate([lp.index, full, full, nxt, nxt])
    value = np.concatenate([lp.value, np.ones(m), -width[pair], np.ones(m), -width[pair + 1]])
    order = np.lexsort((row, col))
    col, row, value = col[order], row[order], value[order]
    start = np.searchsorted(col, np.arange(n0 + m + 1)).astype(np.int32)
    link_lower = np.tile([0.0, -np.inf], m)
    link_upper = np.tile([np.inf, 0.0], m)
    integer = np.concatenate([np.zeros(n0, bool) if lp.integer is None else lp.integer, np.ones(m, bool)])
    return LinearProgram(np.concatenate([lp.cost, np.zeros(m)]), np.concatenate([lp.col_upper, np.ones(m)]),
                         start, row.astype(np.int32), value, np.concatenate([lp.row_lower, link_lower]),
                         np.concatenate([lp.row_upper, link_upper]), lp.row_id, lp.maximise, lp.constant, integer)
