"""Scenarios side by side: one column per scenario, one row per headline figure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import schema as S
from .plan import Plan

TODAY = "today"


def compare(plans: Sequence[Plan], names: Sequence[str] | None = None) -> pd.DataFrame:
    """Budget, engaged customers (and weighted engagement when values differ), average and marginal CPE, money
    moved, per-function spend and binding rules; one column per scenario, after a 'today' column (the data as
    given) when every plan is measured against the same today, so every change has one baseline."""
    names = list(names or [p.scenario.name for p in plans])
    weighted = any(p.weighted for p in plans)
    columns: dict[str, dict[str, object]] = {}
    todays = {(round(p.summary()["current_spend"], 6), round(p.summary()["current_engaged"], 6)) for p in plans}
    if plans and len(todays) == 1:
        s = plans[0].summary()
        today: dict[str, object] = {"status": "the data as given", "budget": s["current_spend"],
                                    "engaged": s["current_engaged"], "average CPE": s["current_cpe"]}
        if weighted:
            today["weighted"] = s["current_weighted"]
        for row in plans[0].by(S.FUNCTION).itertuples():
            today[f"spend: {row.function}"] = row.current_spend
        columns[TODAY] = today
    for name, plan in zip(names, plans, strict=True):
        col: dict[str, object] = {"status": plan.status.value}
        if plan.ok:
            s = plan.summary()
            col.update({"budget": s["proposed_spend"], "engaged": s["proposed_engaged"],
                        "engaged change": s["engaged_change_pct"]})
            if weighted:
                col.update({"weighted": s["proposed_weighted"], "weighted change": s["weighted_change_pct"]})
            col.update({"average CPE": s["proposed_cpe"], "marginal CPE": plan.marginal_cpe,
                        "money moved across functions": s["money_moved_across_functions"]})
            for row in plan.by(S.FUNCTION).itertuples():
                col[f"spend: {row.function}"] = row.proposed_spend
            binding = plan.binding_rules
            col["rules that bind"] = len(binding)
            col["top binding rule"] = binding["rule"].iloc[0] if len(binding) else ""
        else:
            col["why no plan"] = "; ".join(plan.conflicts[:3])
        columns[name if name != TODAY else f"{name} (scenario)"] = col
    table = pd.DataFrame(columns)
    return table.reindex([i for i in table.index if not str(i).startswith("spend: ")]
                         + sorted(i for i in table.index if str(i).startswith("spend: ")))


def format_compare(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison as text for printing: money with separators, percentages, CPE with cents."""
    def cell(index: str, value: object) -> str:
        if isinstance(value, float):
            if np.isnan(value):
                return ""
            if index in ("engaged change", "weighted change"):
                return f"{value:+.1%}"
            if "CPE" in index:
                return f"{value:,.2f}" if np.isfinite(value) else "none"
            return f"{value:,.0f}"
        return "" if value is None else str(value)

    return pd.DataFrame({c: [cell(str(i), v) for i, v in table[c].items()] for c in table.columns},
                        index=table.index)
