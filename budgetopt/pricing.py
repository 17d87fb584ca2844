"""The whole price of each rule: how much engagement (or money) the plan gives up for it.

The dual of a rule is its local price (per unit, at the margin). The whole price is the difference
between the optimum without the rule and with it, each solved on the same piecewise curves (segments
over the wider range, with the narrower floors and caps as fixed segments), so removing a rule never
lowers the optimum. A rule whose dual is zero costs nothing (the plan stays optimal without it), so
only rules that bind are re-solved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema as S
from .curves import Curves, Segments
from .engine import solve
from .model import Model, implied_caps, money
from .model import bound_names as model_bound_names
from .optimize import optimize, planned_model
from .plan import Plan
from .scenario import Scenario

PRICE_GAP = 1e-9
"""Both solves of a whole price are certified this close to their LP's optimum, so the difference is exact
to far below the money or engagement it reports."""
PRICE_COLUMNS = ["rule", "kind", "binding", "whole_price", "unit", "price_text"]


@dataclass
class RuleUnit:
    """One rule as a person set it, and the rows and bounds of the LP that carry it."""

    label: str
    kind: str
    rows: list[int]
    bounds: np.ndarray  # boolean mask over model.bounds
    names: list[str]  # names in plan.rules


def rule_units(model: Model) -> list[RuleUnit]:
    """Every rule a person set (scenario rules, siloed, protected stages, the data's own limits) and the
    growth-cap assumption, each as one unit."""
    b = model.bounds
    names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
    bound_names = np.array(model_bound_names(b, names), dtype=object)
    units: list[RuleUnit] = []
    none = np.zeros(len(b), dtype=bool)

    def add(label: str, kind: str, rows: list[int], mask: np.ndarray):
        if rows or mask.any():
            units.append(RuleUnit(label, kind, rows, mask,
                                  [model.rows[r].name for r in rows] + bound_names[mask].tolist()))

    for r, rule in enumerate(model.scenario.rules):
        rows = [k for k, row in enumerate(model.rows) if row.rule == r]
        labels = [model.rows[k].label for k in rows] or [f"{rule.label}"]
        add(f"rule {r + 1}: {'; '.join(labels)}" if rows else f"rule {r + 1}: {rule.label}", "scenario rule", rows,
            (b["rule"] == r).to_numpy())
    add("siloed planning (each function keeps its share)", "siloed",
        [k for k, row in enumerate(model.rows) if row.family == "silo"], none)
    add("every stage keeps today's engaged customers", "stages",
        [k for k, row in enumerate(model.rows) if row.name.startswith("stage-")], none)
    add("pacing over the periods ([periods] floors, caps and steps on each period's money)", "pacing",
        [k for k, row in enumerate(model.rows) if row.family == "pacing"], none)
    data = b[(b["rule"] == -1) & b["family"].isin(["floor", "cap", "change", "lock"])]
    for (tp, what), group in data.groupby(["touchpoint", "what"], sort=True):
        mask = none.copy()
        mask[group.index.to_numpy()] = True
        add(f"{what} of '{names[tp]}' (data)", "data limit", [], mask)
    add(f"growth cap assumption (at most {model.scenario.settings.max_growth:g}x today without max_spend)",
        "assumption", [], (b["family"] == "growth").to_numpy())
    add("extrapolation guard assumption (at most "
        f"{model.scenario.settings.max_extrapolation:g}x the largest spend observed without max_spend)",
        "assumption", [], (b["family"] == "extrapolation").to_numpy())
    return units


def price_rules(touchpoints: pd.DataFrame, scenario: Scenario, plan: Plan | None = None,
                progress: Callable[[int, int], None] | None = None,
                data_limits: int | None = None) -> pd.DataFrame:
    """Whole price of every rule: engaged customers gained (max modes) or money saved (min_spend) without it.

    Each binding rule costs two LP solves. `data_limits` caps how many of the data's own limits (per-row
    floors, caps, locks, limits on change) are re-solved: the dearest by local price; the others keep
    their local price only (whole_price NaN). The scenario's rules, siloed planning, protected stages and
    the growth assumption are always priced."""
    plan = plan or optimize(touchpoints, scenario)
    if not plan.ok:
        return pd.DataFrame(columns=PRICE_COLUMNS)
    model, curves = planned_model(touchpoints, scenario)
    x = plan.table["proposed_spend"].to_numpy(float)
    binding = set(plan.rules.loc[plan.rules["binding"], "name"])
    lo_w, hi_w = model.limits()
    units = rule_units(model)
    skipped = _beyond_limit(units, plan, data_limits)
    records = []
    for k, unit in enumerate(units):
        tight_bound = _tight(model, unit.bounds, x, lo_w, hi_w)
        if not (binding & set(unit.names)) and not tight_bound:
            price = 0.0
        elif k in skipped:
            price = float("nan")
        else:
            price = _whole_price(model, curves, unit, x, lo_w, hi_w)
        records.append((unit.label, unit.kind, bool(binding & set(unit.names)) or price > 0, price))
        if progress:
            progress(k + 1, len(units))
    out = pd.DataFrame(records, columns=["rule", "kind", "binding", "whole_price"])
    out["unit"] = model.measure if model.maximise else (model.currency or "money")
    out["price_text"] = [_words(p, model, k in skipped) for k, p in enumerate(out["whole_price"])]
    return out[PRICE_COLUMNS]


def _beyond_limit(units: list[RuleUnit], plan: Plan, data_limits: int | None) -> set[int]:
    """Indices of the data-limit units past the `data_limits` dearest (by their largest local price)."""
    if data_limits is None:
        return set()
    local = plan.rules.groupby("name")["price"].max()
    data = [(k, max((local.get(n, 0.0) for n in unit.names), default=0.0)) for k, unit in enumerate(units)
            if unit.kind == "data limit"]
    data.sort(key=lambda kp: (-kp[1], kp[0]))
    return {k for k, _ in data[data_limits:]}


def _tight(model: Model, mask: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    b = model.bounds[mask]
    if b.empty:
        return False
    i = b["touchpoint"].to_numpy(int)
    v = b["value"].to_numpy(float)
    tol = 1e-6 * np.maximum(1.0, np.abs(v))
    is_lo = b["side"].to_numpy() == "lo"
    return bool(np.any(np.where(is_lo, (np.abs(v - lo[i]) <= tol) & (x[i] <= lo[i] + tol),
                                (np.abs(v - hi[i]) <= tol) & (x[i] >= hi[i] - tol))))


def _whole_price(model: Model, curves: Curves, unit: RuleUnit, x: np.ndarray, lo_w: np.ndarray,
                 hi_w: np.ndarray) -> float:
    """Optimum without the unit minus optimum with it, on one shared piecewise curve."""
    lo_wo, hi_wo = model.limits(~unit.bounds)
    rows = [row for k, row in enumerate(model.rows) if k not in set(unit.rows)]
    # Without its caps a touchpoint is limited only by what the rows imply (the budget); in min-spend mode
    # also by the plan's total: the optimum without a rule spends no more than with it, so no optimal plan
    # puts more than that in one touchpoint. Neither bound removes a plan the rule's absence allows.
    implied = implied_caps(rows, lo_wo)
    if not model.maximise:
        implied = np.minimum(implied, float(x.sum()))
    if unit.kind != "assumption":  # without its cap a touchpoint falls back to the assumption's cap
        assumed = model.assumed_cap
        # a cap at or above the assumption's (or on a touchpoint with no spend today) has nothing to fall back to:
        # without it only what the rows imply limits the touchpoint
        hi_wo = np.minimum(hi_wo, np.where(assumed > hi_w, assumed, implied))
    else:
        hi_wo = np.minimum(hi_wo, implied)
    seg = curves.segments(lo_wo, hi_wo, model.scenario.settings.segments, around=x,
                          also=np.column_stack([lo_w, hi_w]))
    with_rule = solve(model, restrict(seg, lo_w, hi_w), gap=PRICE_GAP)
    without = solve(model, seg, rows=rows, gap=PRICE_GAP)
    if not (with_rule.status.is_ok and without.status.is_ok):
        return float("nan")
    gain = without.objective - with_rule.objective
    if not model.maximise:
        gain = -gain
    return max(gain, 0.0) if gain > -1e-7 * max(1.0, abs(with_rule.objective)) else gain


def restrict(seg: Segments, lo: np.ndarray, hi: np.ndarray) -> Segments:
    """The same piecewise curves on a narrower range [lo, hi] whose ends are breakpoints (Segments.restrict)."""
    return seg.restrict(lo, hi)[0]


def _words(price: float, model: Model, skipped: bool = False) -> str:
    if skipped:
        return "not re-solved (only the dearest data limits are): see its local price"
    if np.isnan(price):
        return "could not be priced: the plan without it has no solution"
    if price <= 0:
        return "costs nothing: the plan is the same without it"
    if model.maximise:
        return f"costs {money(price)} {model.measure}: the plan without it reaches that much more"
    return f"costs {money(price, model.currency)}: the plan without it spends that much less"


def attach_whole_prices(plan: Plan, prices: pd.DataFrame, touchpoints: pd.DataFrame) -> Plan:
    """Add a `whole_price` column to plan.rules (each LP row or bound gets its rule's whole price)."""
    model, _ = planned_model(touchpoints, plan.scenario)
    by_name, unit_of = {}, {}
    for unit, price in zip(rule_units(model), prices["whole_price"], strict=True):
        for name in unit.names:
            by_name[name], unit_of[name] = price, unit.label
    plan.rules["whole_price"] = plan.rules["name"].map(by_name)
    plan.rules["rule_unit"] = plan.rules["name"].map(unit_of)  # the rule a person set that the row belongs to
    return plan


__all__ = ["PRICE_COLUMNS", "attach_whole_prices", "price_rules", "rule_units"]
