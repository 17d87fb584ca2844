"""Whether any plan exists on the smooth curves, not only on the chords below them.

The LP sees each concave curve e_i through chords between breakpoints, which lie below the curve: a plan that
keeps every rule on the chords keeps it on the curve (an inner approximation), but an engagement floor close to
the most any plan can reach may hold on the curve and not on the chords. So "no plan" on the chords proves
nothing. Tangents at the same breakpoints lie above a concave curve (an outer approximation, U_i >= e_i):

    chords L_i <= e_i <= U_i = min_k ( e_i(p_k) + e_i'(p_k) (x - p_k) )

and "no plan" on the tangents proves that no plan exists on the curves. When the chords have no plan and the
tangents have one (x), breakpoints are added at x and around it (where the two disagree) and both are solved
again, until one of them decides. If neither decides after MAX_ROUNDS, the floors are met within the shortfall
of the last tangent plan x on the smooth curves, which is stated (a plan exists for floors lowered by at most
that much, and the plan says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .curves import REFINE_STEPS, Curves, Segments
from .engine import Solution, Status, solve
from .model import EQ, GE, LE, Model, Row

MAX_ROUNDS = 6
"""Refinements of chords and tangents before the floors are met within a stated tolerance instead."""
TANGENT_STEPS = np.concatenate([REFINE_STEPS, [-0.003, -0.001, 0.001, 0.003]])
"""Where a round adds breakpoints around the tangent plan, relative to its spend (finer than the refinement
pass: the floors decided here are within a fraction of a per cent of what the curves can reach)."""
NEAR_LO = 10.0 ** -np.array([1, 2, 3, 4, 6, 8])
"""Tangents at lo + (hi - lo) x these: a power curve rises infinitely steeply from 0, so a tangent further up
meets x = 0 above e(0) = 0; tangents closer to lo bring the outer approximation down towards the curve (not
closer than 1e-8 of the range: their slopes would be too steep for the solver's numerics)."""


def tangent_segments(curves: Curves, lo: np.ndarray, hi: np.ndarray, points: np.ndarray) -> Segments:
    """The outer approximation U_i = min over tangents at `points` (N x k, any order) of each curve on [lo, hi]
    (hi may be inf: the last tangent goes on). Concave piecewise-linear, so it is Segments like the chords:
    slopes e'(p_k) falling, each from where its tangent takes over from the one before; base = U_i(lo) >= e_i(lo).
    Tangents where e' is not finite (a power curve at 0) are left out; a saturating curve also gets its
    asymptote (slope 0 at its saturation). Only valid for concave curves."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    n = len(lo)
    top = np.where(np.isfinite(hi), hi, np.maximum(lo, np.nanmax(np.where(np.isfinite(points), points, lo[:, None]),
                                                                axis=1, initial=0.0)))
    near = lo[:, None] + (top - lo)[:, None] * NEAR_LO[None, :]
    pts = np.sort(np.clip(np.column_stack([lo, top, near, np.asarray(points, float).reshape(n, -1)]),
                          lo[:, None], top[:, None]), axis=1)
    e = curves.engaged(pts)
    g = np.column_stack([curves.marginal(pts[:, k]) for k in range(pts.shape[1])])
    saturation = getattr(curves, "saturation", np.full(n, np.inf))
    capped = np.isfinite(saturation) & (saturation > 0)
    pts = np.column_stack([pts, np.where(capped, np.inf, np.nan)])
    e = np.column_stack([e, np.where(capped, saturation, np.nan)])
    g = np.column_stack([g, np.where(capped, 0.0, np.nan)])
    valid = np.isfinite(g) & np.isfinite(e) & (g >= 0) & ~np.isnan(pts)
    rows, cols = np.nonzero(valid)
    p, gs, es = pts[rows, cols], g[rows, cols], e[rows, cols]
    # equal slopes on a concave curve: one tangent line; keep the first of each run
    same = np.zeros(len(rows), dtype=bool)
    same[1:] = (rows[1:] == rows[:-1]) & (np.abs(gs[1:] - gs[:-1]) <= 1e-12 * np.maximum(np.abs(gs[:-1]), 1e-300))
    rows, p, gs, es = rows[~same], p[~same], gs[~same], es[~same]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    base = curves.engaged(lo)
    k0 = np.flatnonzero(first)
    with np.errstate(invalid="ignore"):
        start = np.where(np.isinf(p[k0]), es[k0], es[k0] + gs[k0] * (lo[rows[k0]] - p[k0]))
    base[rows[k0]] = np.maximum(start, base[rows[k0]])
    # where tangent k takes over from tangent k - 1 (same row): T_{k-1}(z) = T_k(z)
    z = np.full(len(rows), np.nan)
    nxt = np.flatnonzero(~first)
    prev = nxt - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        at_prev = es[prev] - gs[prev] * np.where(np.isinf(p[prev]), 0.0, p[prev])
        at_next = es[nxt] - gs[nxt] * np.where(np.isinf(p[nxt]), 0.0, p[nxt])
        z[nxt] = (at_next - at_prev) / (gs[prev] - gs[nxt])
    z[k0] = lo[rows[k0]]
    z = np.clip(np.nan_to_num(z, nan=np.inf), lo[rows], hi[rows])
    z = _running_max(z, rows)
    end = np.empty(len(rows))
    end[:-1] = z[1:]
    last = np.ones(len(rows), dtype=bool)
    last[:-1] = rows[1:] != rows[:-1]
    end[last] = hi[rows[last]]
    end = np.where(last, end, np.minimum(end, hi[rows]))
    width = end - z
    keep = width > 1e-9 * np.maximum(1.0, np.abs(np.where(np.isfinite(end), end, z)))
    outer = Segments(touchpoint=rows[keep], width=width[keep], slope=gs[keep], base_engaged=base, lo=lo, hi=hi)
    bent = ~np.asarray(getattr(curves, "concave", np.ones(n, dtype=bool)), dtype=bool)
    return _with_rays(outer, curves, bent) if bent.any() else outer


RAY_GRID = 1024
"""Points on which the steepest ray from lo over a curve that is not concave is looked for."""
RAY_MARGIN = 0.01
"""The ray's slope is raised this much above the steepest found on the grid, so it stays above the curve."""


def _with_rays(outer: Segments, curves: Curves, bent: np.ndarray) -> Segments:
    """Tangents lie above a concave curve only: for a curve that is not (an S-curve, tabulated points with convex
    stretches) the outer approximation is the steepest ray from (lo, e(lo)) over the curve, M = sup (e(x) -
    e(lo)) / (x - lo) (on a fine grid, raised by RAY_MARGIN), up to the curve's value at hi, then flat:
    U(x) = min(e(lo) + M (x - lo), e(hi)) >= e(x) for a curve that rises."""
    lo, hi = outer.lo, outer.hi
    idx = np.flatnonzero(bent & np.isfinite(hi) & (hi > lo))
    keep = ~bent[outer.touchpoint]
    t, w, g = [outer.touchpoint[keep]], [outer.width[keep]], [outer.slope[keep]]
    base = outer.base_engaged.copy()
    if len(idx):
        grid = lo[idx, None] + (hi - lo)[idx, None] * np.linspace(0.0, 1.0, RAY_GRID + 1)[None, 1:]
        values = np.zeros((len(lo), RAY_GRID))
        values[idx] = curves.engaged(np.zeros((len(lo), RAY_GRID)) + _spread(grid, idx, len(lo)))[idx]
        start = curves.engaged(lo)
        top = curves.engaged(hi)
        ray = ((values[idx] - start[idx, None]) / (grid - lo[idx, None])).max(axis=1) * (1 + RAY_MARGIN) + 1e-12
        reach = np.minimum((top[idx] - start[idx]) / ray, hi[idx] - lo[idx])
        base[idx] = start[idx]
        t += [idx, idx]
        w += [reach, hi[idx] - lo[idx] - reach]
        g += [ray, np.zeros(len(idx))]
    t, w, g = np.concatenate(t), np.concatenate(w), np.concatenate(g)
    order = np.lexsort((-g, t))
    live = w[order] > 0
    order = order[live]
    return Segments(touchpoint=t[order], width=w[order], slope=g[order], base_engaged=base, lo=lo, hi=hi)


def _spread(grid: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """The grid's rows placed at rows idx of an n-row array (zeros elsewhere)."""
    out = np.zeros((n, grid.shape[1]))
    out[idx] = grid
    return out


def _running_max(values: np.ndarray, groups: np.ndarray, passes: int = 3) -> np.ndarray:
    """values made non-decreasing within each run of equal groups (tangent crossings of a concave curve already
    are, up to rounding: a few neighbour passes repair that)."""
    out = values.copy()
    same = np.zeros(len(out), dtype=bool)
    same[1:] = groups[1:] == groups[:-1]
    for _ in range(passes):
        prev = np.concatenate([[-np.inf], out[:-1]])
        out = np.where(same, np.maximum(out, prev), out)
    return out


def engagement_rows(rows: list[Row]) -> bool:
    """True when some row counts engaged customers (the only rows chords and tangents see differently)."""
    return any(row.b.any() for row in rows)


@dataclass
class Verdict:
    """Whether a plan exists on the smooth curves: True and False are certain; None: undecided, but a plan exists
    for the floors lowered by `shortfall` (rows with the lowered right-hand sides in `rows`)."""

    feasible: bool | None
    points: np.ndarray
    """Breakpoints (N x k) the chords needed beyond the usual ones; pass them on to every later pass."""
    rounds: int
    rows: list[Row] = field(default_factory=list)
    shortfall: float = 0.0
    """Largest shortfall of a floor, relative to the floor, when undecided."""
    lowered: list[str] = field(default_factory=list)
    """Labels of the rows lowered when undecided."""
    solution: Solution | None = None
    """The chord LP's solution when feasible (on segments with `points`), for the caller to reuse."""
    spend: np.ndarray | None = None
    """Spend per touchpoint of the plan the chords found, when feasible."""


def decide(model: Model, curves: Curves, lo: np.ndarray, hi: np.ndarray, segments: int,
           rows: list[Row] | None = None, points: np.ndarray | None = None, gap: float | None = None,
           max_rounds: int = MAX_ROUNDS, hint: np.ndarray | None = None) -> Verdict:
    """Decide whether the rows (default: the model's) hold together on the smooth curves within [lo, hi] (hi may
    be inf where nothing caps a touchpoint). Chords first; when they have no plan, tangents; then refine both.
    hint: row duals (one per row) of a similar problem, where the master LP's first blocks go."""
    rows = model.rows if rows is None else rows
    n = len(lo)
    pts = np.zeros((n, 0)) if points is None else np.asarray(points, float).reshape(n, -1)
    finite = np.isfinite(hi).all()
    kwargs = {} if gap is None else {"gap": gap}
    reach = np.where(np.isfinite(hi), hi, np.maximum(np.maximum(lo, curves.spend0), 1.0) * 3.0)
    x = None
    for k in range(max_rounds + 1):
        inner_hi = np.where(np.isfinite(hi), hi, np.maximum(reach, lo))
        seg = curves.segments(lo, inner_hi, segments, also=pts if pts.shape[1] else None)
        sol = solve(model, seg, rows=rows, feasibility_only=not finite, hint=hint, **kwargs)
        if sol.status.is_ok:
            return Verdict(True, pts, k, rows, solution=sol if finite else None, spend=seg.spend(sol.values))
        if not engagement_rows(rows) and finite:
            return Verdict(False, pts, k, rows)  # money alone: chords and tangents see the same rows
        if k == max_rounds:
            break
        tangent_points = np.column_stack([curves.breakpoints(lo, inner_hi, segments), curves.spend0, pts])
        outer = tangent_segments(curves, lo, hi, tangent_points)
        method = "auto" if finite else "direct"  # an uncapped tangent has no end: the whole LP takes it
        out = solve(model, outer, rows=rows, feasibility_only=not finite, method=method, **kwargs)
        if out.status is Status.INFEASIBLE:
            return Verdict(False, pts, k + 1, rows)
        if not out.status.is_ok:
            return Verdict(None, pts, k + 1, rows, shortfall=np.inf)
        x = outer.spend(out.values)
        reach = np.maximum(reach, 2.0 * x)
        near = x[:, None] * (1.0 + TANGENT_STEPS)[None, :]
        pts = np.column_stack([pts, x, near])
    if x is None:  # no tangent plan was tried
        return Verdict(None, pts, k, rows)
    return _within(model, curves, lo, rows, pts, x, k)


def _within(model: Model, curves: Curves, lo: np.ndarray, rows: list[Row], pts: np.ndarray, x: np.ndarray,
            rounds: int) -> Verdict:
    """Undecided: lower each engagement row by its shortfall at the last tangent plan x, measured on the smooth
    curves (x is a breakpoint of the chords, so the chords then have a plan: x itself)."""
    e = curves.engaged(x)
    lowered, labels, worst = [], [], 0.0
    for row in rows:
        if not row.b.any() or row.sense == EQ:
            lowered.append(row)
            continue
        lhs = row.lhs(x, e)
        short = row.rhs - lhs if row.sense == GE else lhs - row.rhs if row.sense == LE else 0.0
        if short <= 0:
            lowered.append(row)
            continue
        short *= 1 + 1e-9
        worst = max(worst, short / max(1.0, abs(row.rhs)))
        labels.append(row.label)
        lowered.append(replace(row, rhs=row.rhs - short if row.sense == GE else row.rhs + short))
    return Verdict(None, pts, rounds, lowered, worst, labels)
