"""The Plan: proposed spend per touchpoint, rollups, transfers between functions, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import schema as S
from . import units
from .baseline import WhatIf
from .engine import Status
from .scenario import Mode, Scenario

PLAN_COLUMNS = [
    S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, S.STAGE, "current_spend", "proposed_spend", "change", "change_pct",
    "current_engaged", "proposed_engaged", "current_cpe", "proposed_cpe", "marginal_cpe", "lower_limit",
    "upper_limit", S.VALUE, S.WHAT_IF,
]
"""plan.table. current_*: today, from the data as given; proposed_*: the plan, on the scenario's curves (its
what-ifs applied); what_if: the scenario's what-ifs on this touchpoint, in words ('' when none)."""
RULE_COLUMNS = ["name", "family", "rule", "binding", "price", "unit", "price_unit", "price_text"]
"""plan.rules: each LP row and touchpoint bound, whether it binds, its local price (the dual) per `price_unit`,
`unit` the kind of limit (money or engaged), and the price in words."""
TRANSFER_COLUMNS = ["from_function", "to_function", "amount"]
BUDGET_CHANGE = "(budget change)"
CURVES_DIFFER = 0.005
"""Where today's allocation on the plan's curves differs from the data by more than this (a fitted or a model's
curve), the summary says so, with the plan's gain on the same curves."""


@dataclass(frozen=True)
class MoneyRule:
    """A rule that is a plain sum of money over some rows of plan.table: sum of proposed_spend over `index`
    (sense) rhs. Exports round the plan so that every such rule still holds (export.round_plan_money)."""

    index: np.ndarray
    sense: str
    """'>=', '<=' or '=='."""
    rhs: float


@dataclass
class Plan:
    """The result of one optimisation. `status` says whether `table` holds a usable plan."""

    status: Status
    message: str
    scenario: Scenario
    table: pd.DataFrame
    rules: pd.DataFrame
    budget: float
    marginal_cpe: float
    """Money per extra unit of the plan's measure (`measure`: weighted engagement, or engaged customers when every
    value is 1) at the margin: the inverse of the budget's dual (min-spend: the target's dual)."""
    objective: float
    conflicts: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    inputs: pd.DataFrame | None = None
    """The touchpoint table as used (after the scenario's overrides)."""
    advice: list[str] = field(default_factory=list)
    """When no plan exists: what the conflicting rules add up to, and single changes that would make a plan."""
    currency: str | None = None
    """The money's currency (EUR, USD, ...), when the data or the scenario says it."""
    whatif: WhatIf | None = None
    """Today's allocation on the scenario's what-if curves (None: the scenario has no what-ifs)."""
    basis: object | None = None
    """What the plan rests on: evidence or assumptions (basis.Basis; None when there is no plan)."""
    range: object | None = None
    """How sure its engaged customers are, over joint draws of the curves (risk.PlanRange; None: none drawn)."""
    protection: object | None = None
    """A plan over draws of the curves (robust.py): best on average or protecting its worst tail, and what that
    costs against the plan best on average (robust.Protection; None for an ordinary plan)."""
    money_rules: list[MoneyRule] = field(default_factory=list)
    """The LP's rows that are plain sums of money over the plan's rows (budget, group floors and caps, a rule over
    some periods, a touchpoint's limit over the horizon): kept by the exports' rounding."""

    @property
    def weighted(self) -> bool:
        """True when values weight customers at some touchpoints above others (weighted engagement != count)."""
        return units.is_weighted(self.table[S.VALUE])

    @property
    def measure(self) -> str:
        """What the plan's marginal CPE prices: 'weighted engagement' or 'engaged customers'. The figure the plan
        maximises; in min-spend mode the unit of its target (`--target-unit customers`: engaged customers, whatever
        the values), whose dual the marginal CPE inverts."""
        objective = self.scenario.objective
        if objective.mode is Mode.MIN_SPEND and objective.unit == "customers":
            return units.CUSTOMERS
        return units.measure(self.weighted)

    @property
    def one(self) -> str:
        """One unit of the measure, for 'per extra ...': 'unit of weighted engagement' or 'engaged customer'."""
        return "unit of weighted engagement" if self.measure == units.WEIGHTED else "engaged customer"

    def money_line(self) -> tuple[str, float]:
        """The plan's money against today's as a label and a positive amount: ('Money saved', 1,840,336) when it
        spends less, ('Money added', 498,000) when it spends more (never 'saved: -498,000')."""
        saved = float(self.table["current_spend"].sum() - self.table["proposed_spend"].sum())
        return ("Money added", -saved) if saved < -0.005 else ("Money saved", max(saved, 0.0))

    def money(self, x: float, digits: int = 0) -> str:
        """An amount in the plan's currency: '14,045,000 EUR'."""
        return units.money(x, self.currency, digits)

    @property
    def ok(self) -> bool:
        """True when a plan exists."""
        return self.status.is_ok

    def by(self, column: str) -> pd.DataFrame:
        """Rollup of spend and engagement by function, channel, stage or any tag column."""
        t = self.table
        g = t.groupby(column, sort=True)[["current_spend", "proposed_spend", "current_engaged",
                                          "proposed_engaged"]].sum()
        g["change"] = g["proposed_spend"] - g["current_spend"]
        with np.errstate(divide="ignore", invalid="ignore"):
            g["change_pct"] = np.where(g["current_spend"] > 0, g["change"] / g["current_spend"], np.nan)
            g["current_cpe"] = g["current_spend"] / g["current_engaged"]
            g["proposed_cpe"] = g["proposed_spend"] / g["proposed_engaged"]
        return g.reset_index()

    @property
    def transfers(self) -> pd.DataFrame:
        """Money moved between functions: largest giver to largest receiver, deterministically.

        When the total changes, the difference comes from or goes to '(budget change)'."""
        return transfers(self.by(S.FUNCTION).set_index(S.FUNCTION)["change"])

    @property
    def binding_rules(self) -> pd.DataFrame:
        """The rules that hold the plan back, most expensive first."""
        r = self.rules[self.rules["binding"]]
        return r.sort_values(["price", "name"], ascending=[False, True]).reset_index(drop=True)

    def summary(self) -> dict[str, float]:
        """Headline figures: today (the data as given) against the plan.

        engaged = engaged customers (a count); weighted = weighted engagement (value x engaged customers);
        whatif_* = today's allocation on the scenario's what-if curves (present only with what-ifs)."""
        return self._summary_and_transfers()[0]

    def _summary_and_transfers(self) -> tuple[dict[str, float], pd.DataFrame]:
        """summary() and the transfers it counts, worked out once."""
        t = self.table
        cur_s, new_s = float(t["current_spend"].sum()), float(t["proposed_spend"].sum())
        cur_e, new_e = float(t["current_engaged"].sum()), float(t["proposed_engaged"].sum())
        cur_w = float((t["current_engaged"] * t[S.VALUE]).sum())
        new_w = float((t["proposed_engaged"] * t[S.VALUE]).sum())
        moved = self.transfers
        across = float(moved.loc[(moved["from_function"] != BUDGET_CHANGE) & (moved["to_function"] != BUDGET_CHANGE),
                                 "amount"].sum())
        out = {
            "current_spend": cur_s,
            "proposed_spend": new_s,
            "current_engaged": cur_e,
            "proposed_engaged": new_e,
            "engaged_change_pct": (new_e / cur_e - 1) if cur_e else float("nan"),
            "current_cpe": cur_s / cur_e if cur_e else float("nan"),
            "proposed_cpe": new_s / new_e if new_e else float("nan"),
            "money_moved_across_functions": across,
            "money_saved": cur_s - new_s,
            "marginal_cpe": self.marginal_cpe,
            "current_weighted": cur_w,
            "proposed_weighted": new_w,
            "weighted_change_pct": (new_w / cur_w - 1) if cur_w else float("nan"),
        }
        if self.whatif is not None:
            out["curves_today_engaged"], out["curves_today_weighted"] = self.whatif.engaged, self.whatif.weighted
            if self.whatif.changes:
                out["whatif_engaged"], out["whatif_weighted"] = self.whatif.engaged, self.whatif.weighted
        return out, moved

    def summary_text(self) -> str:
        """The printed summary: figures, what the plan rests on, transfers and binding rules, in plain words."""
        lines = [f"Scenario: {self.scenario.name}", f"Status: {self.status.value} - {self.message}"]
        if not self.ok:
            if self.conflicts:
                lines.append("These rules cannot all hold together:")
            lines += [f"  - {c}" for c in self.conflicts]
            lines += [f"  {a[0].upper()}{a[1:]}" for a in self.advice]
            return "\n".join(lines)
        s, moves = self._summary_and_transfers()
        cur = f" ({self.currency})" if self.currency else ""
        lines += [
            f"{'':28}{'today':>16}{'plan':>16}{'change':>10}",
            _line(f"Budget (spend){cur}", s["current_spend"], s["proposed_spend"]),
            _line("Engaged customers", s["current_engaged"], s["proposed_engaged"]),
            *([_line("Weighted engagement", s["current_weighted"], s["proposed_weighted"])] if self.weighted else []),
            _line(f"Average CPE{cur}", s["current_cpe"], s["proposed_cpe"], digits=2),
            *([units.LEGEND[0].upper() + units.LEGEND[1:] + "."] if self.weighted else []),
            "Today is the data as given" + ("." if self.currency else
                                             "; money is shown without a currency (none stated: set --currency)."),
            *self.notes(s),
            f"Money moved across functions: {self.money(s['money_moved_across_functions'])}",
        ]
        mode = self.scenario.objective.mode
        if mode is Mode.MIN_SPEND:
            label, amount = self.money_line()
            lines.append(f"{label}: {self.money(amount)}"
                         + (" (the plan spends more than today to reach its target)" if label == "Money added"
                            else ""))
        lines.append(f"Marginal CPE: {self.marginal_words()}")
        if self.range is not None:
            lines.append(self.range.words()[0].upper() + self.range.words()[1:])
        if self.protection is not None:
            lines.append(self.protection.words())
            if self.stats.get("prices_count"):
                lines.append(f"Rule prices and the marginal CPE count {self.stats['prices_count']}.")
        if self.basis is not None:
            lines.append("What the plan rests on:")
            lines += [f"  - {line}" for line in self.basis.lines(self.currency)]
        if len(moves):
            lines.append("Transfers:")
            lines += [f"  {r.from_function} -> {r.to_function}: {self.money(r.amount)}" for r in moves.itertuples()]
        binding = self.binding_rules
        lines.append("Rules that bind:" if len(binding) else "Rules that bind: none")
        lines += [f"  - {rule}: {price}" for rule, price in  # columns as Python lists: no row objects
                  zip(binding["rule"].to_numpy(object).tolist(), binding["price_text"].to_numpy(object).tolist(),
                      strict=True)]
        return "\n".join(lines)

    def marginal_words(self) -> str:
        """The marginal CPE in words: '7.22 per extra engaged customer (...)', or why there is none."""
        if self.stats.get("marginal_words"):  # a plan that sets its own (robust.py: a floor, not the target, binds)
            return str(self.stats["marginal_words"])
        if np.isfinite(self.marginal_cpe):
            return (f"{self.money(self.marginal_cpe, 2)} per extra {self.one} (what the next one costs at the "
                    "margin)")
        return "none - more money buys nothing under these rules"

    def notes(self, summary: dict[str, float] | None = None) -> list[str]:
        """Sentences a reader needs next to the figures: the what-ifs' effect on today, and why the count of
        engaged customers may fall in a plan that keeps weighted engagement (`summary`: this plan's, if at hand)."""
        s = summary if summary is not None else self.summary()
        out = []
        if self.whatif is not None:
            on_curves = s["curves_today_engaged"]
            figure = (f"{units.money(s['curves_today_weighted'])} {units.WEIGHTED} "
                      f"({units.money(on_curves)} {units.CUSTOMERS})" if self.weighted
                      else f"{units.money(on_curves)} {units.CUSTOMERS}")
            gain = s["proposed_engaged"] / on_curves - 1 if on_curves > 0 else float("nan")
            against = f"; against it the plan's {units.CUSTOMERS} change {gain:+.1%}" if np.isfinite(gain) else ""
            if self.whatif.changes:
                out.append(f"With the scenario's what-ifs ({'; '.join(self.whatif.changes)}), today's allocation "
                           f"would reach {figure}{against}.")
            elif abs(on_curves - s["current_engaged"]) > CURVES_DIFFER * max(1.0, s["current_engaged"]):
                out.append(f"On the plan's curves, today's allocation reaches {figure}, where the data says "
                           f"{units.money(s['current_engaged'])}{against}: the gain on the same curves.")
        if self.stats.get("mip_touchpoints"):
            n, gap = self.stats["mip_touchpoints"], self.stats.get("mip_gap", 0.0)
            out.append(f"{n} touchpoint{'s have' if n != 1 else ' has'} an S-shaped curve (or one with convex "
                       f"stretches): the plan is the global optimum of a mixed-integer programme (certified within "
                       f"{gap:.2%}); rule prices come from the LP with its binaries fixed.")
        objective = self.scenario.objective
        if objective.mode is Mode.MIN_SPEND and self.weighted and objective.unit == "weighted":
            change = s["engaged_change_pct"]
            today = s["current_weighted"]
            goal = (objective.target if objective.target is not None
                    else today * (1 + (objective.target_change or 0.0)))
            target = goal / today - 1 if today > 0 else float("nan")
            if abs(target) < 0.0005 and abs(change) >= 0.0005:  # today's weighted engagement kept
                out.append(f"The plan keeps {units.WEIGHTED} at today's; the count of {units.CUSTOMERS} moves "
                           f"{change:+.1%} because values weight customers at some touchpoints above others.")
            elif np.isfinite(target) and abs(change - target) >= 0.0005:  # a target above or below today's
                out.append(f"The plan reaches its target of {units.money(goal)} {units.WEIGHTED} ({target:+.1%} "
                           f"against today's {units.money(today)}); the count of {units.CUSTOMERS} moves "
                           f"{change:+.1%}, not the same, because values weight customers at some touchpoints above "
                           "others.")
        return out


def _line(label: str, today: float, plan: float, digits: int = 0) -> str:
    change = plan / today - 1 if today else float("nan")
    pct = "" if not today else "0.0%" if abs(change) < 0.0005 else f"{change:+.1%}"
    return f"{label:28}{today:>16,.{digits}f}{plan:>16,.{digits}f}{pct:>10}"


def transfers(change_by_function: pd.Series) -> pd.DataFrame:
    """Match givers (change < 0) with receivers (change > 0), largest first, names breaking ties."""
    tol = 0.5  # less than one unit of money is not a transfer
    change = change_by_function.round(6)
    givers = sorted(((-v, k) for k, v in change.items() if v < -tol), key=lambda p: (-p[0], p[1]))
    takers = sorted(((v, k) for k, v in change.items() if v > tol), key=lambda p: (-p[0], p[1]))
    net = float(change.sum())
    if net > tol:
        givers.append((net, BUDGET_CHANGE))
    elif net < -tol:
        takers.append((-net, BUDGET_CHANGE))
    out = []
    gi = ti = 0
    g_left = givers[0][0] if givers else 0.0
    t_left = takers[0][0] if takers else 0.0
    while gi < len(givers) and ti < len(takers):
        amount = min(g_left, t_left)
        if amount > tol:
            out.append((givers[gi][1], takers[ti][1], round(amount, 6)))
        g_left -= amount
        t_left -= amount
        if g_left <= tol:
            gi += 1
            g_left = givers[gi][0] if gi < len(givers) else 0.0
        if t_left <= tol:
            ti += 1
            t_left = takers[ti][0] if ti < len(takers) else 0.0
    return pd.DataFrame(out, columns=TRANSFER_COLUMNS)
