"""The optimise call, top to bottom: check -> formulate -> segment -> solve -> if ok, plan and prices."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from . import schema as S
from .conflicts import explain_infeasible
from .curves import Curves
from .engine import GAP, Solution, Status, solve
from .feasibility import decide, engagement_rows
from .lp import RowMatrix
from .model import ENGAGED, EQ, GE, MONEY, Model, bound_label, bound_names, formulate
from .overrides import apply_overrides
from .plan import PLAN_COLUMNS, RULE_COLUMNS, Plan
from .scenario import Scenario
from .touchpoints import tag_columns

FIRST_PASS_GAP = 1e-3
"""The first of two passes only places the second pass's breakpoints: a plan this close to its LP's optimum
is close enough (the second pass is solved to engine.GAP)."""


def optimize(touchpoints: pd.DataFrame, scenario: Scenario | None = None) -> Plan:
    """Reallocate spend across touchpoints for the scenario and return the Plan (never raises on infeasible)."""
    scenario = scenario or Scenario()
    touchpoints = apply_overrides(touchpoints, scenario)
    model = formulate(touchpoints, scenario)
    curves = Curves.from_table(touchpoints)
    lo, hi = model.limits()
    crossed = lo > hi + 1e-9 * np.maximum(1.0, hi)
    if crossed.any():
        return _no_plan(model, Status.INFEASIBLE, "a floor is above a cap on the same touchpoint",
                        *explain_infeasible(model, curves), {})
    segments = scenario.settings.segments
    seg = curves.segments(lo, hi, segments)
    refine = scenario.settings.refine
    first_gap = FIRST_PASS_GAP if refine else GAP
    sol = solve(model, seg, gap=first_gap)
    passes = [sol]
    points, verdict = None, None
    if sol.status is Status.INFEASIBLE and engagement_rows(model.rows):
        # the chords lie below the curves: their "no plan" proves nothing until the tangents above agree
        verdict = decide(model, curves, lo, hi, segments, gap=first_gap)
        if verdict.feasible is not False:
            points = verdict.points
            model = replace(model, rows=verdict.rows)
            seg = curves.segments(lo, hi, segments, also=points)
            sol = verdict.solution or solve(model, seg, gap=first_gap)
            passes.append(sol)
    if refine and sol.status.is_ok and len(seg):
        seg = curves.segments(lo, hi, segments, around=spend_of(seg, sol.values), also=points)
        sol = solve(model, seg, hint=sol.row_duals)
        passes.append(sol)
    stats = {"columns": sol.columns, "rows": sol.rows, "build_seconds": sol.build_seconds,
             "solve_seconds": sol.solve_seconds, "solver": sol.solver, "segments": segments,
             "passes": len(passes), "total_build_seconds": sum(p.build_seconds for p in passes),
             "total_solve_seconds": sum(p.solve_seconds for p in passes),
             "lp_rounds": sum(p.rounds for p in passes), "lp_columns": max(p.lp_columns for p in passes)}
    if verdict is not None:
        stats["feasibility_rounds"] = verdict.rounds
        stats["floors_met_within"] = verdict.shortfall
        stats["floors_lowered"] = verdict.lowered
    if sol.status is Status.INFEASIBLE:
        return _no_plan(model, sol.status, "no plan satisfies every rule", *explain_infeasible(model, curves), stats)
    if not sol.status.is_ok:
        return _no_plan(model, sol.status, sol.message, [], [], stats)
    plan = _plan(model, curves, seg, sol, stats)
    if verdict is not None and verdict.feasible is None:
        plan.message = (f"optimal, with {', '.join(repr(label) for label in verdict.lowered)} met within "
                        f"{verdict.shortfall:.4%}: no plan was found to meet them exactly, and none was proven "
                        "impossible (they are at the edge of what any plan can reach)")
    return plan


def spend_of(seg, values: np.ndarray) -> np.ndarray:
    """x_i = lo_i + sum of its segments."""
    return seg.lo + np.bincount(seg.touchpoint, weights=values, minlength=len(seg.lo))


def segment_slope(seg, x: np.ndarray, curves: Curves) -> np.ndarray:
    """Engaged per extra unit of money at x as the LP sees it: the slope of the segment the next dollar
    enters (the last segment at the cap); the smooth derivative where a touchpoint has no segment."""
    slope = curves.marginal(x)
    if len(seg) == 0:
        return slope
    t = seg.touchpoint
    seg_start = seg.starts()
    filled = x[t] >= seg_start + seg.width - 1e-9 * np.maximum(1.0, seg.width)
    # the first segment not yet filled; touchpoints at their cap keep their last segment
    order = np.where(filled, np.inf, np.arange(len(t)))
    nxt = np.full(len(x), np.inf)
    np.minimum.at(nxt, t, order)
    last = np.full(len(x), -1)
    np.maximum.at(last, t, np.arange(len(t)))
    has = last >= 0
    pick = np.where(np.isfinite(nxt), nxt, last).astype(int)
    slope[has] = seg.slope[pick[has]]
    return slope


def _plan(model: Model, curves: Curves, seg, sol: Solution, stats: dict) -> Plan:
    tp = model.touchpoints
    x = spend_of(seg, sol.values)
    x = np.where(np.abs(x - curves.spend0) <= 1e-9 * np.maximum(1.0, curves.spend0), curves.spend0, x)
    x = np.round(x, 6)
    engaged = curves.engaged(x)
    marginal = segment_slope(seg, x, curves)
    s0, e0 = curves.spend0, curves.engaged0
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame({
            S.TOUCHPOINT: tp[S.TOUCHPOINT], S.FUNCTION: tp[S.FUNCTION], S.CHANNEL: tp[S.CHANNEL],
            S.STAGE: tp[S.STAGE],
            "current_spend": s0, "proposed_spend": x, "change": x - s0,
            "change_pct": np.where(s0 > 0, (x - s0) / s0, np.nan),
            "current_engaged": e0, "proposed_engaged": engaged,
            "current_cpe": np.where(e0 > 0, s0 / e0, np.nan),
            "proposed_cpe": np.where(engaged > 0, x / engaged, np.nan),
            "marginal_cpe": np.where(marginal > 0, 1.0 / marginal, np.inf),
            "lower_limit": seg.lo, "upper_limit": seg.hi, S.VALUE: tp[S.VALUE],
        })[PLAN_COLUMNS]
    extra = [c for c in tag_columns(tp) if c not in table.columns]
    if extra:  # all at once: hundreds of tag columns one by one fragment the frame
        tags = pd.DataFrame(tp[extra].to_numpy(object), columns=extra, index=table.index, dtype=object)
        table = pd.concat([table, tags], axis=1)
    rules = _rule_prices(model, curves, seg, sol, x)
    return Plan(sol.status, "optimal", model.scenario, table, rules, model.budget, _marginal_cpe(model, sol),
                sol.objective, [], stats, tp)


def _marginal_cpe(model: Model, sol: Solution) -> float:
    """Money per extra value-weighted engaged customer: 1 / (budget dual), or the target's dual in min-spend."""
    for r, row in enumerate(model.rows):
        if row.name == "budget":
            lam = -sol.row_duals[r]  # engaged per unit of money (max form)
            return float(1.0 / lam) if lam > 1e-12 else float("inf")
        if row.name == "target":
            return float(sol.row_duals[r]) if sol.row_duals[r] > 1e-12 else 0.0
    return float("nan")


def _gain(sense: str, dual: float) -> float:
    """Objective improvement per unit of relaxing a row, from the min-form dual."""
    return dual if sense == GE else -dual if sense != EQ else abs(dual)


def _rule_prices(model: Model, curves: Curves, seg, sol: Solution, x: np.ndarray) -> pd.DataFrame:
    """Every rule with whether it binds and its local price (dual) in plain units."""
    maximise = model.maximise
    records = []
    for r, row in enumerate(model.rows):
        # a row with a non-zero dual is tight in the LP (complementary slackness); measuring it on the smooth
        # curves instead would call a tight engagement floor slack, since the chords lie below the curve
        price = _gain(row.sense, float(sol.row_duals[r]))
        binding = price > 1e-9
        records.append((row.name, row.family, row.label, binding, price if binding else 0.0, row.unit))

    # Bounds: the price of a floor (cap) is the reduced cost of moving one unit of money out of (into) the touchpoint.
    b = model.bounds
    lo, hi = seg.lo, seg.hi
    y = sol.row_duals
    ya, yb = RowMatrix.from_rows(model.rows, len(x)).pull(np.asarray(y, float))
    slope = curves.marginal(x)
    slope = np.where(np.isfinite(slope), slope, 0.0)
    c = -model.weight * slope if maximise else np.ones(len(x))
    reduced = c - ya - yb * slope  # change of the minimised objective per extra unit of money in touchpoint i
    idx = b["touchpoint"].to_numpy(int)
    is_lo = b["side"].to_numpy() == "lo"
    value = b["value"].to_numpy(float)
    tight = np.where(is_lo, np.isclose(value, lo[idx], rtol=1e-9, atol=1e-6) & (x[idx] <= lo[idx] + 1e-6),
                     np.isclose(value, hi[idx], rtol=1e-9, atol=1e-6) & (x[idx] >= hi[idx] - 1e-6))
    price = np.where(is_lo, reduced[idx], -reduced[idx]).clip(0)
    binding = tight & (price > 1e-9)
    names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
    labels = bound_label(b, names)
    frame = pd.DataFrame({
        "name": bound_names(b, names),
        "family": b["family"], "rule": labels, "binding": binding, "price": np.where(binding, price, 0.0),
        "unit": MONEY,
    })
    rows = pd.DataFrame(records, columns=["name", "family", "rule", "binding", "price", "unit"])
    out = pd.concat([rows, frame], ignore_index=True)
    text = np.full(len(out), _price_words(0.0, MONEY, maximise, False), dtype=object)
    hit = np.flatnonzero(out["binding"].to_numpy(bool))
    text[hit] = [_price_words(p, u, maximise, True, f) for p, u, f in
                 zip(out["price"].to_numpy()[hit].tolist(), out["unit"].to_numpy()[hit].tolist(),
                     out["family"].to_numpy()[hit].tolist(), strict=True)]
    out["price_text"] = text
    return out[RULE_COLUMNS]


def _price_words(price: float, unit: str, maximise: bool, binding: bool, family: str = "") -> str:
    """'costs 41.2 engaged customers per 1,000 of budget it ties up' and the like."""
    if not binding:
        return "does not bind: costs nothing"
    if family == "budget":
        return f"each extra 1,000 of budget would engage {price * 1000:,.1f} more customers"
    if family == "target":
        return f"each engaged customer less in the target would save {price:,.2f}"
    if maximise and unit == MONEY:
        return f"costs {price * 1000:,.1f} engaged customers per 1,000 of money it ties up"
    if maximise and unit == ENGAGED:
        return f"costs {price:,.2f} engaged customers elsewhere per customer it protects"
    if unit == MONEY:
        return f"costs {price * 1000:,.0f} of extra spend per 1,000 it ties up"
    return f"costs {price:,.2f} of spend per engaged customer it requires"


def _no_plan(model: Model, status: Status, message: str, conflicts: list[str], advice: list[str],
             stats: dict) -> Plan:
    tp = model.touchpoints
    table = pd.DataFrame({S.TOUCHPOINT: tp[S.TOUCHPOINT], S.FUNCTION: tp[S.FUNCTION], S.CHANNEL: tp[S.CHANNEL],
                          S.STAGE: tp[S.STAGE], "current_spend": tp[S.SPEND], "proposed_spend": np.nan,
                          "change": np.nan, "change_pct": np.nan, "current_engaged": tp[S.ENGAGED],
                          "proposed_engaged": np.nan, "current_cpe": np.nan, "proposed_cpe": np.nan,
                          "marginal_cpe": np.nan, "lower_limit": np.nan, "upper_limit": np.nan,
                          S.VALUE: tp[S.VALUE]})[PLAN_COLUMNS]
    rules = pd.DataFrame(columns=RULE_COLUMNS)
    return Plan(status, message, model.scenario, table, rules, model.budget, float("nan"), float("nan"),
                conflicts, stats, tp, advice)
