"""The Plan: proposed spend per touchpoint, rollups, transfers between functions, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import schema as S
from .engine import Status
from .scenario import Mode, Scenario

PLAN_COLUMNS = [
    S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, S.STAGE, "current_spend", "proposed_spend", "change", "change_pct",
    "current_engaged", "proposed_engaged", "current_cpe", "proposed_cpe", "marginal_cpe", "lower_limit",
    "upper_limit", S.VALUE,
]
RULE_COLUMNS = ["name", "family", "rule", "binding", "price", "unit", "price_text"]
TRANSFER_COLUMNS = ["from_function", "to_function", "amount"]
BUDGET_CHANGE = "(budget change)"


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
    """Money per extra (value-weighted) engaged customer at the margin: the inverse of the budget's dual."""
    objective: float
    conflicts: list[str] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    inputs: pd.DataFrame | None = None
    """The touchpoint table as used (after the scenario's overrides)."""
    advice: list[str] = field(default_factory=list)
    """When no plan exists: what the conflicting rules add up to, and single changes that would make a plan."""

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
        """Headline figures: today against the plan."""
        t = self.table
        cur_s, new_s = float(t["current_spend"].sum()), float(t["proposed_spend"].sum())
        cur_e, new_e = float(t["current_engaged"].sum()), float(t["proposed_engaged"].sum())
        moved = self.transfers
        across = float(moved.loc[(moved["from_function"] != BUDGET_CHANGE) & (moved["to_function"] != BUDGET_CHANGE),
                                 "amount"].sum())
        return {
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
            "current_value": float((t["current_engaged"] * t["value"]).sum()),
            "proposed_value": float((t["proposed_engaged"] * t["value"]).sum()),
        }

    def summary_text(self) -> str:
        """The printed summary: figures, transfers and binding rules in plain words."""
        lines = [f"Scenario: {self.scenario.name}", f"Status: {self.status.value} - {self.message}"]
        if not self.ok:
            if self.conflicts:
                lines.append("These rules cannot all hold together:")
            lines += [f"  - {c}" for c in self.conflicts]
            lines += [f"  {a[0].upper()}{a[1:]}" for a in self.advice]
            return "\n".join(lines)
        s = self.summary()
        mode = self.scenario.objective.mode
        lines += [
            f"{'':28}{'today':>16}{'plan':>16}{'change':>10}",
            _line("Spend", s["current_spend"], s["proposed_spend"]),
            _line("Engaged customers", s["current_engaged"], s["proposed_engaged"]),
            _line("Average CPE", s["current_cpe"], s["proposed_cpe"], digits=2),
            *([_line("Value-weighted engaged", s["current_value"], s["proposed_value"])]
              if s["current_value"] != s["current_engaged"] else []),
            f"Money moved across functions: {s['money_moved_across_functions']:,.0f}",
        ]
        if mode is Mode.MIN_SPEND:
            lines.append(f"Money saved: {s['money_saved']:,.0f}")
        if np.isfinite(self.marginal_cpe):
            lines.append(f"Marginal CPE of the next dollar: {self.marginal_cpe:,.2f} "
                         f"(one more engaged customer costs that much at the margin)")
        else:
            lines.append("Marginal CPE of the next dollar: none - more money buys nothing under these rules")
        moves = self.transfers
        if len(moves):
            lines.append("Transfers:")
            lines += [f"  {r.from_function} -> {r.to_function}: {r.amount:,.0f}" for r in moves.itertuples()]
        binding = self.binding_rules
        lines.append("Rules that bind:" if len(binding) else "Rules that bind: none")
        lines += [f"  - {r.rule}: {r.price_text}" for r in binding.itertuples()]
        return "\n".join(lines)


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
            out.append((givers[gi][1], takers[ti][1], amount))
        g_left -= amount
        t_left -= amount
        if g_left <= tol:
            gi += 1
            g_left = givers[gi][0] if gi < len(givers) else 0.0
        if t_left <= tol:
            ti += 1
            t_left = takers[ti][0] if ti < len(takers) else 0.0
    return pd.DataFrame(out, columns=TRANSFER_COLUMNS)
