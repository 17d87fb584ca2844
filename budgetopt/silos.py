"""What the silos cost: the same scenario planned vertically (each function keeps its share) and
horizontally (money follows cost per engaged customer across functions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .optimize import optimize
from .plan import Plan
from .scenario import Budget, Mode, Objective, Scenario
from .units import money


@dataclass
class SiloCost:
    """Horizontal against vertical, in engagement at the same budget and in money at the same engagement."""

    horizontal: Plan
    vertical: Plan
    engaged_at_same_budget: float
    """Weighted engagement (the count when every value is 1) the horizontal plan adds at the vertical plan's
    budget."""
    money_at_same_engagement: float
    """Money the horizontal plan saves while reaching the vertical plan's weighted engagement."""

    def text(self) -> str:
        """One paragraph for people."""
        if np.isnan(self.engaged_at_same_budget):
            return "The silos could not be priced: one of the plans has no solution."
        plan = self.horizontal
        return (f"What the silos cost: planning across functions instead of within them adds "
                f"{money(self.engaged_at_same_budget)} {plan.measure} for the same money, or reaches the same "
                f"{plan.measure} for {plan.money(self.money_at_same_engagement)} less.")


def value_engaged(plan: Plan) -> float:
    """Weighted engagement of a plan (value x engaged customers, smooth curves)."""
    return float((plan.table["proposed_engaged"] * plan.table["value"]).sum())


def silo_cost(touchpoints: pd.DataFrame, scenario: Scenario, horizontal: Plan | None = None,
              vertical: Plan | None = None) -> SiloCost:
    """Solve the scenario siloed and not, then price the difference both ways.

    `horizontal` and `vertical` are the two plans when the caller has them already (the app does, from its
    cache): optimize(touchpoints, scenario with siloed False, resp. True)."""
    horizontal = horizontal or optimize(touchpoints, scenario.model_copy(update={"siloed": False}))
    vertical = vertical or optimize(touchpoints, scenario.model_copy(update={"siloed": True}))
    nan = float("nan")
    if not (horizontal.ok and vertical.ok):
        return SiloCost(horizontal, vertical, nan, nan)
    v_spend = float(vertical.table["proposed_spend"].sum())
    v_value = value_engaged(vertical)
    if scenario.objective.mode is Mode.MIN_SPEND:
        same_budget = optimize(touchpoints, scenario.model_copy(update={
            "siloed": False, "objective": Objective(mode=Mode.MAX_ENGAGED), "budget": Budget(total=v_spend)}))
        engaged = value_engaged(same_budget) - v_value if same_budget.ok else nan
        saved = v_spend - float(horizontal.table["proposed_spend"].sum())
    else:
        engaged = value_engaged(horizontal) - v_value
        same_engagement = optimize(touchpoints, scenario.model_copy(update={
            "siloed": False, "objective": Objective(mode=Mode.MIN_SPEND, target=v_value, unit="weighted")}))
        saved = v_spend - float(same_engagement.table["proposed_spend"].sum()) if same_engagement.ok else nan
    return SiloCost(horizontal, vertical, engaged, saved)
