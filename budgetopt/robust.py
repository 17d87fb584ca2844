"""Plans that protect against the curves' uncertainty and stay linear programmes (issue 14 part 3).

Draws k = 1..K of every curve (draws.Draws, equally likely, p = 1/K) are cut at the same breakpoints: segment j
of touchpoint t_j (width w_j, money s_j in [0, w_j]) has its own slope g_jk in each draw, and draw k's engagement
at lo (the touchpoints' floors) is base_ik. With u_i the measure's weight (the value v_i; 1 for a min-spend target
counted in customers), draw k's outcome is

    W_k(s) = sum_i u_i base_ik + sum_j u_t_j g_jk s_j.

- **mean** (best on average): maximise the sample average (1/K) sum_k W_k = an ordinary segment LP with the mean
  slopes g_j = (1/K) sum_k g_jk, solved by engine.solve as any plan (the class decomposition for large plans and
  the MIP for S-curves carry over unchanged).
- **cvar:a** (protect the downside): maximise the worst-a average, CVaR_a (Rockafellar-Uryasev):
      max  tau - 1/(a K) sum_k z_k   s.t.  z_k >= tau - W_k(s),  z_k >= 0    (one column tau, one column and
  one row per draw). In min-spend mode the cheapest plan whose CVaR_a reaches the target.
- **floor:a[:F]** (best on average, with a floor on the downside): maximise the mean subject to CVaR_a >= F (default
  F: today's allocation's CVaR_a on the same draws); in min-spend mode the cheapest plan keeping both.

Every rule row holds as in an ordinary plan, its engaged-customer terms (coverage floors, a min-spend target, the
CPE target) on the mean slopes: in expectation. When every draw's curves are concave, the averaged objective and
CVaR are concave in the segment money and every W_k rises with it, so segments filled in order are optimal and the
LP is exact for the piecewise draws; touchpoints where some draw has a convex stretch (S-curves) are filled in
order by binaries (lp.fill_in_order), then the LP with the binaries fixed gives the prices. Two passes, as in
optimize.py: the second cuts the curves again around the first pass's plan.

Prices: rule rows keep their duals (per unit of the protected measure for cvar: the worst-a average); the price of
a touchpoint's floor or cap is the LP's own reduced cost of its next unit of money. The price of protection is the
expected outcome the robust plan gives up against the mean plan, on the same draws.

Classes (decompose.py) do not carry over to CVaR as they stand: a segment's coefficient in row k is u g_jk, one
number per draw, so touchpoints with equal rule coefficients are no longer priced alike up to their own slope; the
CVaR LP is solved whole (K dense rows; budgetopt bench-risk measures it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import units
from .curves import Segments
from .decompose import segment_problem
from .draws import Draws, draw_curves
from .engine import MIP_GAP, MIP_TIME_LIMIT, Solution, Status, solve, solve_program
from .errors import BudgetOptError
from .evidence import Evidence
from .lp import LinearProgram, LPResult, RowMatrix, csc, fill_in_order
from .model import ENGAGED, Model
from .optimize import _no_plan, _plan, planned_model
from .plan import RULE_COLUMNS, Plan
from .risk import TAIL, plan_risk, tail_mean
from .scenario import Scenario

MEAN, CVAR, FLOOR = "mean", "cvar", "floor"
KINDS = (MEAN, CVAR, FLOOR)
WORDS = {MEAN: "best on average", CVAR: "protect the downside", FLOOR: "best on average with a floor on the downside"}


@dataclass(frozen=True)
class Robust:
    """Which robust plan: MEAN, CVAR at `tail` (0.1: the worst 10 %), or FLOOR (the mean with CVaR_tail >= floor;
    floor None: today's allocation's)."""

    kind: str = MEAN
    tail: float = TAIL
    floor: float | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise BudgetOptError(f"robust: '{self.kind}' is not a kind; use mean, cvar:0.1 or floor:0.1")
        if not 0 < self.tail <= 1 or not np.isfinite(self.tail):
            raise BudgetOptError(f"robust: the tail {self.tail:g} is outside (0, 1]; write e.g. cvar:0.1 for the "
                                 "worst 10 %")
        if self.floor is not None and not (np.isfinite(self.floor) and self.floor >= 0):
            raise BudgetOptError(f"robust: the floor {self.floor:g} must be a number of 0 or more")

    @classmethod
    def parse(cls, text: str) -> Robust:
        """'mean', 'cvar', 'cvar:0.1', 'floor:0.1' or 'floor:0.1:3500000' (the floor in the measure's units)."""
        parts = [p.strip() for p in str(text).strip().lower().split(":")]
        kind = parts[0]
        if kind not in KINDS or len(parts) > (3 if kind == FLOOR else 2 if kind == CVAR else 1):
            raise BudgetOptError(f"--robust {text}: write mean, cvar:0.1 (protect the worst 10 %) or floor:0.1 "
                                 "(best on average, the worst 10 % no worse than today's; floor:0.1:AMOUNT for "
                                 "another floor)")
        try:
            tail = float(parts[1]) if len(parts) > 1 and parts[1] else TAIL
            floor = float(units.parse_amount(parts[2])) if len(parts) > 2 else None
        except ValueError:
            raise BudgetOptError(f"--robust {text}: the tail and the floor are numbers, e.g. cvar:0.1 or "
                                 "floor:0.1:3500000") from None
        return cls(kind, tail, floor)

    def words(self) -> str:
        if self.kind == MEAN:
            return WORDS[MEAN]
        if self.kind == CVAR:
            return f"protect the downside: the best average of the worst {self.tail:.0%} of draws"
        return (f"best on average, the worst {self.tail:.0%} of draws averaging at least "
                + ("today's allocation's" if self.floor is None else f"{self.floor:,.0f}"))


@dataclass(frozen=True)
class Protection:
    """What protection costs: the robust plan against the mean plan on the same draws, in the protected measure."""

    robust: Robust
    measure: str
    mean: float
    """Expected outcome of this plan."""
    tail_value: float
    """Its worst-tail average."""
    best_mean: float
    """Expected outcome of the mean plan (best on average)."""
    best_mean_tail: float
    """The mean plan's worst-tail average."""
    floor: float | None = None
    """The floor the plan keeps (FLOOR), in the measure."""
    spend: float | None = None
    """Min-spend mode: this plan's money (None when the plan maximises the measure on a budget)."""
    best_spend: float | None = None
    """Min-spend mode: the money of the plan best on average."""
    currency: str | None = None

    @property
    def cost(self) -> float:
        """Expected outcome given up against the mean plan (>= 0 up to the solver's tolerance)."""
        return self.best_mean - self.mean

    @property
    def money_cost(self) -> float:
        """Min-spend mode: the money protection costs, this plan's spend - the plan best on average's (NaN when the
        plan maximises the measure on a budget: its price is in the measure, `cost`)."""
        if self.spend is None or self.best_spend is None:
            return float("nan")
        return self.spend - self.best_spend

    @property
    def gain(self) -> float:
        """How much higher the worst-tail average is than the mean plan's."""
        return self.tail_value - self.best_mean_tail

    def words(self) -> str:
        tail = f"worst {self.robust.tail:.0%}"
        if self.robust.kind == MEAN:
            return (f"Best on average over the draws: expected {self.measure} {self.mean:,.0f}; the {tail} of draws "
                    f"average {self.tail_value:,.0f}.")
        share = self.cost / self.best_mean if self.best_mean else float("nan")
        if self.spend is not None and self.best_spend is not None:  # min-spend: protection is paid in money
            return self._money_words(tail)
        what = ("Protecting the downside (the best average of the " + tail + " of draws)" if self.robust.kind == CVAR
                else f"Best on average with the {tail} of draws averaging at least {self.floor:,.0f}")
        return (f"{what}: the {tail} of draws average {self.tail_value:,.0f} {self.measure}, "
                f"{self.gain:+,.0f} against the plan best on average; the protection costs "
                f"{max(self.cost, 0.0):,.0f} {self.measure} on average ({max(share, 0.0):.2%} of its "
                f"{self.best_mean:,.0f}).")


    def _money_words(self, tail: str) -> str:
        """Min-spend: the cheapest plan keeping its target in the worst tail (CVAR) or on average with a floor on
        the tail (FLOOR), and the money that costs against the cheapest plan keeping the target on average."""
        what = (f"Protecting the downside: the cheapest plan whose {tail} of draws average at least "
                f"{self.floor:,.0f} {self.measure} (the target)" if self.robust.kind == CVAR
                else f"The cheapest plan keeping the target on average with the {tail} of draws averaging at least "
                     f"{self.floor:,.0f} {self.measure}")
        extra = self.money_cost
        paid = (f"spends {units.money(extra, self.currency)} more than the cheapest plan keeping the target on "
                f"average ({units.money(self.spend, self.currency)} against "
                f"{units.money(self.best_spend, self.currency)}): the price of protection"
                if extra > 0.5 else f"spends no more than the cheapest plan keeping the target on average "
                                    f"({units.money(self.spend, self.currency)}): protection costs nothing here")
        return (f"{what} {paid}; its {tail} of draws average {self.tail_value:,.0f} {self.measure}, "
                f"{self.gain:+,.0f} against that plan's.")


@dataclass
class Sampled:
    """Segments with one slope per draw (K x J) and each draw's engagement at the floors (K x N)."""

    seg: Segments
    """The shared breakpoints, with the mean slopes and the mean engagement at the floors."""
    slopes: np.ndarray
    base: np.ndarray
    extra: dict = field(default_factory=dict)

    def restrict(self, lo: np.ndarray, hi: np.ndarray) -> tuple[Sampled, np.ndarray, np.ndarray]:
        """Segments.restrict on every draw: filled segments move into each draw's base."""
        fixed, keep, filled = self.seg.restrict(lo, hi)
        t, w = self.seg.touchpoint, self.seg.width
        base = self.base.copy()
        for_draw = self.slopes[:, filled] * w[filled]
        np.add.at(base, (slice(None), t[filled]), for_draw)
        return Sampled(fixed, self.slopes[:, keep], base), keep, filled


def sampled_segments(draws: Draws, seg: Segments) -> Sampled:
    """Every draw's chords on the same breakpoints: g_jk = (e_k(end_j) - e_k(start_j)) / w_j, base_ik = e_k(lo_i);
    the draws evaluated once on a (touchpoints x points) grid."""
    t, w = seg.touchpoint, seg.width
    n = len(seg.lo)
    first = np.searchsorted(t, t)
    position = np.arange(len(t)) - first
    width = int(position.max(initial=-1)) + 2
    points = np.repeat(seg.lo[:, None], width, axis=1)
    points[t, position + 1] = seg.starts() + w
    values = draws.engaged(points)  # K x N x M
    with np.errstate(invalid="ignore", divide="ignore"):
        slopes = (values[:, t, position + 1] - values[:, t, position]) / w[None, :]
    slopes = np.nan_to_num(slopes)
    base = values[:, :, 0] if n else np.zeros((draws.count, 0))
    mean = Segments(t, w, slopes.mean(axis=0), base.mean(axis=0), seg.lo, seg.hi)
    return Sampled(mean, slopes, base)


def out_of_order(sampled: Sampled) -> np.ndarray:
    """Per touchpoint: True where some draw (or the mean) has a segment steeper than the one before it."""
    ordered = sampled.seg.out_of_order()
    t, g = sampled.seg.touchpoint, sampled.slopes
    if len(t) > 1:
        same = t[1:] == t[:-1]
        rises = same[None, :] & (g[:, 1:] > g[:, :-1] + 1e-12 * np.maximum(1.0, np.abs(g[:, :-1])))
        ordered[t[1:][rises.any(axis=0)]] = True
    return ordered


def _measure_weights(model: Model) -> np.ndarray:
    """u_i: the value (the objective's weight), or the min-spend target row's weights (customers or weighted)."""
    target = next((row for row in model.rows if row.name == "target"), None)
    if target is not None:
        u = np.zeros(len(model.touchpoints))
        u[target.index] = target.b
        return u
    return np.asarray(model.weight, float)


@dataclass
class _Built:
    lp: LinearProgram
    model_rows: int  # LP rows that are model rows (problem.row_id)
    row_id: np.ndarray
    floor_row: int | None  # the CVaR row (FLOOR, or min-spend CVAR)


def build_lp(model: Model, sampled: Sampled, robust: Robust, floor: float | None) -> _Built | str:
    """The robust LP as arrays (module docstring): the segment LP of the rules on the mean slopes, then the column
    tau, one column z_k and one row per draw, and for FLOOR (or a min-spend CVAR) the row CVaR >= floor."""
    problem = segment_problem(model, sampled.seg, model.rows)
    if isinstance(problem, str):
        return problem
    base_lp = problem.full_lp()
    seg, g = sampled.seg, sampled.slopes
    k, j = g.shape
    u = _measure_weights(model)
    r0 = base_lp.num_row
    tau, z = j, j + 1 + np.arange(k)
    min_spend = not model.maximise
    cvar_row = robust.kind == FLOOR or min_spend
    # existing entries, then each segment in every draw row, then tau and z in the draw rows and the CVaR row
    col = [np.repeat(np.arange(j), np.diff(base_lp.start)), np.repeat(np.arange(j), k), np.full(k, tau), z]
    row = [base_lp.index, np.tile(r0 + np.arange(k), j), r0 + np.arange(k), r0 + np.arange(k)]
    value = [base_lp.value, (u[seg.touchpoint][:, None] * g.T).ravel(), -np.ones(k), np.ones(k)]
    row_lower = [base_lp.row_lower, -(sampled.base @ u)]
    row_upper = [base_lp.row_upper, np.full(k, np.inf)]
    if cvar_row:
        col += [np.array([tau]), z]
        row += [np.array([r0 + k]), np.full(k, r0 + k)]
        value += [np.ones(1), np.full(k, -1.0 / (robust.tail * k))]
        row_lower.append(np.array([floor]))
        row_upper.append(np.array([np.inf]))
    col, row, value = (np.concatenate(v) for v in (col, row, value))
    order = np.lexsort((row, col))
    start, index, value = csc(j + 1 + k, row[order].astype(np.int32), col[order].astype(np.int64), value[order],
                              summed=False)
    if robust.kind == CVAR and not min_spend:  # maximise tau - 1/(a K) sum z
        cost = np.concatenate([np.zeros(j), [1.0], np.full(k, -1.0 / (robust.tail * k))])
        constant = 0.0
    else:  # the mean (or the spend) as in the ordinary plan
        cost = np.concatenate([base_lp.cost, np.zeros(1 + k)])
        constant = base_lp.constant
    lp = LinearProgram(cost, np.concatenate([seg.width, np.full(1 + k, np.inf)]), start, index, value,
                       np.concatenate(row_lower), np.concatenate(row_upper), problem.row_id, model.maximise, constant)
    return _Built(lp, r0, problem.row_id, r0 + k if cvar_row else None)


def _fill(seg: Segments, spend: np.ndarray) -> np.ndarray:
    """Segment values that reach `spend` filling each touchpoint's segments in order from lo."""
    return np.clip(spend[seg.touchpoint] - seg.starts(), 0.0, seg.width)


def _reduced_costs(lp: LinearProgram, duals: np.ndarray, columns: int) -> np.ndarray:
    """d_j = c_j - sum_r y_r A_rj (minimisation form) of the first `columns` columns."""
    cost = -lp.cost if lp.maximise else lp.cost
    col = np.repeat(np.arange(lp.num_col), np.diff(lp.start))
    pulled = np.bincount(col, weights=lp.value * duals[lp.index], minlength=lp.num_col)
    return (cost - pulled)[:columns]


def _margin_reduced(seg: Segments, values: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Per touchpoint, the reduced cost of the segment its next unit of money enters (the last one at its cap);
    NaN where it has no segment."""
    t = seg.touchpoint
    out = np.full(len(seg.lo), np.nan)
    if not len(t):
        return out
    filled = values >= seg.width - 1e-9 * np.maximum(1.0, seg.width)
    order = np.where(filled, np.iinfo(np.int64).max, np.arange(len(t)))
    nxt = np.full(len(seg.lo), np.iinfo(np.int64).max)
    np.minimum.at(nxt, t, order)
    last = np.full(len(seg.lo), -1)
    np.maximum.at(last, t, np.arange(len(t)))
    has = last >= 0
    pick = np.where(nxt < np.iinfo(np.int64).max, nxt, last)
    out[has] = d[pick[has]]
    return out


@dataclass
class _Result:
    status: Status
    message: str
    values: np.ndarray  # segment values
    duals: np.ndarray  # per model row (min form)
    floor_dual: float
    objective: float
    reduced: np.ndarray  # per touchpoint
    sampled: Sampled
    stats: dict


def solve_robust(model: Model, sampled: Sampled, robust: Robust, floor: float | None,
                 guide: np.ndarray | None = None, exact: bool = True) -> _Result:
    """Solve the robust LP: where some draw is out of order (S-curves), a MIP first whose binaries fill segments in
    order, then the LP with its binaries fixed (each such touchpoint held to the segment its spend is in). Not
    `exact`, the MIP is skipped and those touchpoints are held to the segments a `guide` spend is in (the plan best
    on average: optimal given that choice, not proven globally; the first of two passes only places breakpoints).
    A MIP that finds no plan within its time limit falls back on the guide, and the plan's stats say so."""
    settings = model.scenario.settings
    n_rows = len(model.rows)
    built = build_lp(model, sampled, robust, floor)
    if isinstance(built, str):
        return _Result(Status.INFEASIBLE, built, np.zeros(len(sampled.seg)), np.zeros(n_rows), 0.0, float("nan"),
                       np.full(len(sampled.seg.lo), np.nan), sampled, {})
    j = len(sampled.seg)
    ordered = out_of_order(sampled)
    stats = {"robust_columns": built.lp.num_col, "robust_rows": built.lp.num_row, "robust_nonzeros": built.lp.num_nz}
    if ordered.any():
        seg = sampled.seg
        found = False
        if exact or guide is None:
            mip = solve_program(fill_in_order(built.lp, seg.touchpoint, seg.width, ordered), settings, MIP_GAP,
                                settings.time_limit or MIP_TIME_LIMIT)
            stats.update({"mip_touchpoints": int(ordered.sum()), "mip_gap": mip.mip_gap,
                          "mip_seconds": mip.solve_seconds, "mip_binaries": int(mip.values.size - built.lp.num_col)})
            found = mip.status.is_ok or (mip.status is Status.TIME_LIMIT and np.isfinite(mip.mip_gap))
            if not found and (guide is None or mip.status is not Status.TIME_LIMIT):
                return _Result(mip.status, mip.message, np.zeros(j), np.zeros(n_rows), 0.0, float("nan"),
                               np.full(len(seg.lo), np.nan), sampled, stats)
        if not found:  # held to the guide's segments
            stats["s_curves_held_to_the_mean_plan"] = int(ordered.sum())
            mip = LPResult(Status.OPTIMAL, "", _fill(seg, guide), np.zeros(0), 0.0, 0.0)
        x = seg.spend(mip.values[:j])
        start, end, t = seg.starts(), seg.starts() + seg.width, seg.touchpoint
        near = 1e-9 * np.maximum(1.0, end)
        inside = ordered[t] & (start <= x[t] + near) & (x[t] < end - near)
        last = ordered[t] & np.r_[t[1:] != t[:-1], True] & (x[t] >= end - near)
        pick = inside | last
        lo, hi = seg.lo.copy(), seg.hi.copy()
        lo[t[pick]], hi[t[pick]] = start[pick], end[pick]
        inner, keep, filled = sampled.restrict(lo, hi)
        result = solve_robust(model, inner, robust, floor, guide, exact)
        values = np.where(filled, seg.width, 0.0)
        values[keep] = result.values
        stats = {**stats, **{k: v for k, v in result.stats.items() if not k.startswith("mip")},
                 "prices_from": "the LP with the MIP's binaries fixed"}
        return _Result(result.status, result.message, values, result.duals, result.floor_dual, result.objective,
                       result.reduced, sampled, stats)
    r: LPResult = solve_program(built.lp, settings)
    stats["robust_solve_seconds"] = r.solve_seconds
    duals = np.zeros(n_rows)
    if not r.status.is_ok:
        return _Result(r.status, r.message, np.zeros(j), duals, 0.0, float("nan"),
                       np.full(len(sampled.seg.lo), np.nan), sampled, stats)
    duals[built.row_id] = r.duals[:built.model_rows]
    floor_dual = float(r.duals[built.floor_row]) if built.floor_row is not None else 0.0
    if robust.kind == CVAR and not model.maximise:  # the CVaR row stands for the target: its price is the target's
        target = next(i for i, row in enumerate(model.rows) if row.name == "target")
        duals[target] += floor_dual
    values = r.values[:j]
    objective = float(np.dot(built.lp.cost, r.values) + built.lp.constant)
    reduced = _margin_reduced(sampled.seg, values, _reduced_costs(built.lp, r.duals, j))
    return _Result(r.status, r.message, values, duals, floor_dual, objective, reduced, sampled, stats)


def robust_plan(evidence: Evidence | pd.DataFrame, scenario: Scenario | None = None, robust: Robust | None = None,
                draws: int = 500, seed: int = 0, uncertainty: float | None = None,
                sample: Draws | None = None) -> Plan:
    """The plan that is best on average over joint draws of the curves, or protects its worst tail (module
    docstring), with its range (plan.range) and what the protection costs (plan.protection). Never raises on
    infeasible: the plan says why. `sample`: draws made before (draw_curves with this scenario)."""
    scenario = scenario or Scenario()
    robust = robust or Robust()
    if scenario.periods is not None:
        raise BudgetOptError("a robust plan over periods is not computed yet: ranges and robust plans are for plans "
                             "of one period (drop [periods], or plan the periods without --robust)")
    table = evidence.table if isinstance(evidence, Evidence) else evidence
    sample = sample if sample is not None else draw_curves(evidence, scenario, draws, seed, uncertainty)
    if not sample.varying.any():
        raise BudgetOptError("no curve varies over the draws (none rests on a fit or a band): state an uncertainty "
                             "for curves without evidence of it (--uncertainty 0.2: +/-20 % on engagement), or plan "
                             "on a history or a curves file with a band")
    started = time.perf_counter()
    model, curves = planned_model(table, scenario)
    if list(model.touchpoints["touchpoint"]) != list(sample.names):
        raise BudgetOptError("the draws are of other touchpoints than the scenario plans: draw them with its "
                             "scenario")
    lo, hi = model.limits()
    if (lo > hi + 1e-9 * np.maximum(1.0, hi)).any():
        return _no_plan(model, curves, Status.INFEASIBLE, "a floor is above a cap on the same touchpoint", {})
    u = _measure_weights(model)
    measure = units.measure(units.is_weighted(u))
    best = _mean_plan(model, curves, sample, lo, hi)
    if best.status is not Status.OPTIMAL or robust.kind == MEAN:
        plan = _finish(model, curves, best, sample, robust, None, None, started)
        return plan
    floor = robust.floor
    if robust.kind == FLOOR and floor is None:  # today's allocation's worst-tail average on the same draws
        floor = tail_mean(sample.totals(model.baseline.spend, u), robust.tail)
    if robust.kind == CVAR and not model.maximise:
        floor = next(row.rhs for row in model.rows if row.name == "target")
    guide = best.sampled.seg.spend(best.values)
    result = _passes(model, curves, lo, hi, lambda seg, exact: solve_robust(
        model, sampled_segments(sample, seg), robust, floor, guide, exact))
    if result.status is Status.INFEASIBLE and robust.kind == FLOOR:
        reach = _passes(model, curves, lo, hi, lambda seg, exact: solve_robust(
            model, sampled_segments(sample, seg), Robust(CVAR, robust.tail), None, guide, exact))
        plan = _no_plan(model, curves, Status.INFEASIBLE, f"no plan keeps the worst {robust.tail:.0%} of draws "
                        f"averaging at least {floor:,.0f} {measure} under these rules", {}, explain=False)
        if reach.status.is_ok:
            x = reach.sampled.seg.spend(reach.values)
            best_tail = tail_mean(sample.totals(x, u), robust.tail)
            plan.advice = [f"the most any plan keeps in the worst {robust.tail:.0%} of draws is {best_tail:,.0f} "
                           f"{measure} on average (protect the downside: --robust cvar:{robust.tail:g}); lower the "
                           "floor to at most that"]
        return plan
    return _finish(model, curves, result, sample, robust, best, floor, started)


def _passes(model: Model, curves, lo: np.ndarray, hi: np.ndarray, solve_on) -> _Result:
    """Solve on the curves' breakpoints, then (settings.refine) on breakpoints refined around that plan; only the
    last pass is solved exactly (solve_on(seg, exact))."""
    settings = model.scenario.settings
    seg = curves.segments(lo, hi, settings.segments)
    result = solve_on(seg, not settings.refine)
    passes = 1
    if settings.refine and result.status.is_ok and len(seg):
        seg = curves.segments(lo, hi, settings.segments, around=seg.spend(result.values))
        result = solve_on(seg, True)
        passes = 2
    result.stats["passes"] = passes
    return result


def _mean_plan(model: Model, curves, sample: Draws, lo: np.ndarray, hi: np.ndarray) -> _Result:
    """The plan best on average: the ordinary engine on the mean slopes (engine.solve: the decomposition for large
    plans, the MIP where the mean slopes rise). Filling in order by the mean slopes is exact for the average of the
    draws' piecewise curves, whatever each draw's own order."""

    def on(seg: Segments, exact: bool) -> _Result:
        sampled = sampled_segments(sample, seg)
        sol = solve(model, sampled.seg)
        mean = sampled.seg
        ya, yb = RowMatrix.from_rows(model.rows, len(seg.lo)).pull(np.asarray(sol.row_duals, float))
        cost = -model.weight[mean.touchpoint] * mean.slope if model.maximise else np.ones(len(mean))
        d = cost - ya[mean.touchpoint] - yb[mean.touchpoint] * mean.slope  # reduced costs on the mean slopes
        return _Result(sol.status, sol.message, sol.values, sol.row_duals, 0.0, sol.objective,
                       _margin_reduced(mean, sol.values, d), sampled,
                       {**sol.extra, "lp_rounds": sol.rounds, "lp_columns": sol.lp_columns,
                        "robust_solve_seconds": sol.solve_seconds})

    return _passes(model, curves, lo, hi, on)


def _finish(model: Model, curves, result: _Result, sample: Draws, robust: Robust, best: _Result | None,
            floor: float | None, started: float) -> Plan:
    """The Plan of a solved robust LP: the table on the curves as planned, prices, its range and its protection."""
    stats = {**result.stats, "robust": robust.kind, "robust_tail": robust.tail, "draws": sample.count,
             "seed": sample.seed, "robust_seconds": time.perf_counter() - started}
    if result.status is Status.INFEASIBLE:
        return _no_plan(model, curves, result.status, result.message or "no plan satisfies every rule", stats)
    if not result.status.is_ok:
        return _no_plan(model, curves, result.status, result.message, stats, explain=False)
    seg = result.sampled.seg
    sol = Solution(result.status, result.message, result.values, result.duals, result.objective, len(seg),
                   len(model.rows), 0.0, 0.0, model.scenario.settings.solver)
    plan = _plan(model, curves, seg, sol, stats, result.reduced)
    if stats.get("s_curves_held_to_the_mean_plan"):
        plan.message = (f"optimal with the {stats['s_curves_held_to_the_mean_plan']} S-curve touchpoint(s) held to the "
                        "segments of the plan best on average: the mixed-integer programme found no plan within its "
                        "time limit (settings.time_limit)")
    u = _measure_weights(model)
    span = plan_risk(plan, sample, tail=robust.tail)
    x = plan.table["proposed_spend"].to_numpy(float)[:len(sample)]
    outcome = sample.totals(x, u)
    if best is None:
        best_x, best_outcome = x, outcome
    else:
        best_x = best.sampled.seg.spend(best.values)
        best_outcome = sample.totals(best_x, u)
    measure = units.measure(units.is_weighted(u))
    plan.range = span
    money = {} if model.maximise else {"spend": float(x.sum()), "best_spend": float(best_x.sum())}
    plan.protection = Protection(robust, measure, float(outcome.mean()), tail_mean(outcome, robust.tail),
                                 float(best_outcome.mean()), tail_mean(best_outcome, robust.tail), floor,
                                 currency=model.currency, **money)
    if robust.kind == FLOOR and not model.maximise:
        _floor_margin(plan, model, robust, floor, result.floor_dual, measure)
    if robust.kind == FLOOR:
        plan.rules = pd.concat([plan.rules, _floor_rule(model, robust, floor, result.floor_dual, measure)],
                               ignore_index=True)
    if robust.kind == CVAR and model.maximise:  # prices count what the plan maximises: the worst-tail average
        tail = f"{measure} (the worst-{robust.tail:.0%} average)"
        plan.rules["price_text"] = plan.rules["price_text"].str.replace(measure, tail, regex=False)
        plan.rules["price_unit"] = plan.rules["price_unit"].str.replace(measure, tail, regex=False)
        plan.stats["prices_count"] = f"the worst-{robust.tail:.0%} average of {measure}"
    return plan


def _floor_margin(plan: Plan, model: Model, robust: Robust, floor: float, floor_dual: float, measure: str) -> None:
    """Min-spend with a floor on the worst tail: when the floor, not the target, holds the plan, the target's dual
    is 0 and '0.00 per extra engaged customer' would be false: one more in the target costs nothing because the
    plan already engages more on average. Its marginal CPE is then none at the target, and the words say what the
    next unit of the protected tail costs (the floor's dual)."""
    target = next((row for row in model.rows if row.name == "target"), None)
    if target is None or plan.marginal_cpe > 1e-12:
        return
    one = "unit of weighted engagement" if measure == units.WEIGHTED else "engaged customer"
    plan.marginal_cpe = float("nan")
    price = max(float(floor_dual), 0.0)
    plan.stats["marginal_words"] = (
        f"none at the target - the target ({target.rhs:,.0f} {measure}) does not bind: to keep the worst "
        f"{robust.tail:.0%} of draws averaging at least {floor:,.0f}, the plan engages more on average. Each extra "
        f"{one} in the worst-{robust.tail:.0%} average costs {units.money(price, model.currency, 2)} (the floor's "
        "price)")


def _floor_rule(model: Model, robust: Robust, floor: float, dual: float, measure: str) -> pd.DataFrame:
    """The floor on the worst tail as a rule with its price: the mean given up per unit it protects."""
    price = max(float(dual), 0.0)
    binding = price > 1e-9
    if model.maximise:
        text = (f"costs {price:,.2f} {measure} on average per unit of the worst-{robust.tail:.0%} average it holds "
                "up" if binding else "does not bind: costs nothing")
        unit = f"{measure} per unit of the worst-{robust.tail:.0%} average"
    else:
        text = (f"costs {units.money(price, model.currency, digits=2)} of spend per unit of the "
                f"worst-{robust.tail:.0%} average it holds up" if binding else "does not bind: costs nothing")
        unit = f"{model.currency or 'money'} per unit of the worst-{robust.tail:.0%} average"
    record = {"name": "tail-floor", "family": "risk",
              "rule": f"the worst {robust.tail:.0%} of draws average at least {floor:,.0f} {measure}",
              "binding": binding, "price": price if binding else 0.0, "unit": ENGAGED, "price_unit": unit,
              "price_text": text}
    return pd.DataFrame([record])[RULE_COLUMNS]
