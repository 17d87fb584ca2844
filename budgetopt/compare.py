"""Scenarios side by side: one column per scenario, one row per headline figure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import schema as S
from .plan import Plan


def compare(plans: Sequence[Plan], names: Sequence[str] | None = None) -> pd.DataFrame:
    """Budget, engaged, average and marginal CPE, money moved, per-function spend and binding rules."""
    names = list(names or [p.scenario.name for p in plans])
    columns = {}
    for name, plan in zip(names, plans, strict=True):
        col: dict[str, object] = {"status": plan.status.value}
        if plan.ok:
            s = plan.summary()
            col.update({
                "budget": s["proposed_spend"], "engaged": s["proposed_engaged"],
                "engaged change": s["engaged_change_pct"], "average CPE": s["proposed_cpe"],
                "marginal CPE": plan.marginal_cpe, "money moved across functions": s["money_moved_across_functions"],
            })
            for row in plan.by(S.FUNCTION).itertuples():
                col[f"spend: {row.function}"] = row.proposed_spend
            binding = plan.binding_rules
            col["rules that bind"] = len(binding)
            col["top binding rule"] = binding["rule"].iloc[0] if len(binding) else ""
        else:
            col["why no plan"] = "; ".join(plan.conflicts[:3])
        columns[name] = col
    table = pd.DataFrame(columns)
    return table.reindex([i for i in table.index if not str(i).startswith("spend: ")]
                         + sorted(i for i in table.index if str(i).startswith("spend: ")))


def format_compare(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison as text for printing: money with separators, percentages, CPE with cents."""
    def cell(index: str, value: object) -> str:
        if isinstance(value, float):
            if np.isnan(value):
                return ""
            if index == "engaged change":
                return f"{value:+.1%}"
            if "CPE" in index:
                return f"{value:,.2f}" if np.isfinite(value) else "none"
            return f"{value:,.0f}"
        return "" if value is None else str(value)

    return pd.DataFrame({c: [cell(str(i), v) for i, v in table[c].items()] for c in table.columns},
                        index=table.index)
