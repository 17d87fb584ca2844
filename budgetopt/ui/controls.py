"""Widget values -> a Scenario: the budget, the goal, the planning style and the rules (no Streamlit here).

The page passes plain values (numbers, labels from fixed lists) in and gets pydantic models back, so every
choice a person makes in the browser is checked by the same models a scenario file goes through.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pydantic import ValidationError

from .. import schema as S
from ..errors import ScenarioError
from ..io import number_words
from ..scenario import Budget, Mode, Objective, Periods, Rule, Scenario
from ..touchpoints import tag_columns
from . import format as fmt

MODE_LABELS: dict[Mode, str] = {
    Mode.MAX_ENGAGED: "Most engagement for the budget",
    Mode.MIN_SPEND: "Same engagement for less money",
    Mode.TARGET_CPE: "Most engagement at a target average CPE",
}
HORIZONTAL = "Across functions (horizontal)"
SILOED = "Each function keeps its share (siloed)"
PLANNING = (HORIZONTAL, SILOED)

KEEP_RANGE = (1.0, 1000.0)
"""The 'engaged customers to keep' field's range, in percent of today."""
MIN_TARGET_CPE = 0.01

BUDGET_STEPS = (-50, 50)
"""The budget slider's range: percent change against today's total (the exact field takes any amount)."""

MAX_GROUP_MEMBERS = 60
"""A tag column with more distinct values than this is free text, not a grouping: rules cannot address it."""

TOUCHPOINT_TARGET = "touchpoint"
TARGET_SEPARATOR = ": "


@dataclass(frozen=True)
class Limit:
    """One kind of limit a person can put on a target, and how the number they type maps to the Rule."""

    label: str
    field: str
    unit: str  # "money", "percent of total", "percent change", "" (no number)
    help: str

    def value(self, typed: float | None) -> float | bool:
        """The Rule field's value for the number typed in the form."""
        if self.unit == "":
            return True
        if typed is None:
            raise ScenarioError(f"'{self.label}' needs a number")
        if self.unit == "times":
            return float(typed)
        return float(typed) if self.unit == "money" else float(typed) / 100.0  # percent: -20 -> -0.2


LIMITS: tuple[Limit, ...] = (
    Limit("Spend at least (money)", "min_spend", "money", "a floor: e.g. 500000"),
    Limit("Spend at most (money)", "max_spend", "money", "a cap: e.g. 2000000"),
    Limit("Share of the total at least (%)", "min_share", "percent of total", "e.g. 40 for 40 % of the budget"),
    Limit("Share of the total at most (%)", "max_share", "percent of total", "e.g. 10 for 10 % of the budget"),
    Limit("Change against today at least (%)", "min_change", "percent change",
          "0 keeps at least today's money; -20 allows a cut of at most 20 %"),
    Limit("Change against today at most (%)", "max_change", "percent change",
          "0 allows no increase; 30 allows at most 30 % more"),
    Limit("Keep today's spend (lock)", "lock", "", "no number needed"),
    Limit("Engaged customers against today at least (%)", "min_engaged_change", "percent change",
          "0 keeps today's engaged customers; -5 allows 5 % fewer"),
    Limit("At most x times the largest spend observed", "max_extrapolation", "times",
          "widens or narrows the extrapolation guard of curves from evidence: e.g. 3"),
)
LIMIT_BY_LABEL = {limit.label: limit for limit in LIMITS}


def budget_from(today: float, total: float, at_most: bool = False) -> Budget:
    """The Budget for an amount typed or slid to; today's total stays 'no change' so a saved scenario reads well."""
    if abs(total - today) <= 0.5:
        return Budget(at_most=at_most)
    return Budget(total=max(0.0, float(total)), at_most=at_most)


def slider_step(today: float, total: float) -> int:
    """The budget slider position (whole percent, clamped to its range) for an exact amount."""
    if today <= 0:
        return 0
    low, high = BUDGET_STEPS
    return int(min(high, max(low, round(100 * (total / today - 1)))))


def objective_from(mode: Mode, keep_engaged_pct: float | None = None, target_cpe: float | None = None) -> Objective:
    """The Objective: min_spend keeps keep_engaged_pct % of today's engagement, target_cpe caps the average CPE."""
    if mode is Mode.MIN_SPEND:
        change = None if keep_engaged_pct is None or keep_engaged_pct == 100 else keep_engaged_pct / 100 - 1
        return Objective(mode=mode, target_change=change)
    if mode is Mode.TARGET_CPE:
        return Objective(mode=mode, target=target_cpe)
    return Objective(mode=mode)


def build_scenario(*, budget: Budget, objective: Objective, siloed: bool, protect_stages: bool,
                   rules: tuple[Rule, ...] = (), name: str = "From the app",
                   periods: Periods | None = None) -> Scenario:
    """Everything the sidebar and the rules tab hold, as one Scenario (over `periods` when a loaded scenario file
    plans over time; rules about periods need them: without, ScenarioError names the first)."""
    if periods is None:
        timed = next((r for r in rules if over_time(r)), None)
        if timed is not None:
            raise ScenarioError(f"the rule '{describe(timed)}' is about periods, and the plan has none (load a "
                                "scenario file with [periods] to plan over time)")
    return Scenario(name=name, budget=budget, objective=objective, rules=tuple(rules), siloed=siloed,
                    protect_stages=protect_stages, periods=periods)


def over_time(rule: Rule) -> bool:
    """True for a rule about periods (periods, per_period or max_step): it needs a plan over periods."""
    return rule.periods is not None or rule.per_period or rule.max_step is not None


def group_columns(touchpoints: pd.DataFrame) -> list[str]:
    """Columns a rule or a breakdown can group by: function, channel, stage and short tag columns."""
    tags = [c for c in tag_columns(touchpoints) if touchpoints[c].nunique() <= MAX_GROUP_MEMBERS]
    return [*S.GROUP_COLUMNS, *tags]


def rule_targets(touchpoints: pd.DataFrame) -> list[str]:
    """Everything a rule can address, as 'column: member' labels: groups first, then every touchpoint."""
    out = []
    for column in group_columns(touchpoints):
        members = sorted(m for m in touchpoints[column].astype(str).unique() if m)
        out += [f"{column}{TARGET_SEPARATOR}{m}" for m in members]
    out += [f"{TOUCHPOINT_TARGET}{TARGET_SEPARATOR}{t}" for t in touchpoints[S.TOUCHPOINT]]
    return out


def make_rule(target: str, limit_label: str, typed: float | None) -> Rule:
    """The Rule for one row of the form ('function: service', 'Change against today at least (%)', 0)."""
    column, sep, member = target.partition(TARGET_SEPARATOR)
    if not sep or not member:
        raise ScenarioError(f"choose what the rule applies to (got '{target}')")
    limit = LIMIT_BY_LABEL.get(limit_label)
    if limit is None:
        raise ScenarioError(f"unknown kind of limit '{limit_label}'; choose one of: "
                            + ", ".join(x.label for x in LIMITS))
    where = {"touchpoint": member} if column == TOUCHPOINT_TARGET else {"group": column, "member": member}
    try:
        return Rule(**where, **{limit.field: limit.value(typed)})
    except ValidationError as exc:
        problem = "; ".join(number_words(e) or e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ScenarioError(f"{limit.label} = {typed:g}: {problem}") from exc


def describe(rule: Rule) -> str:
    """A rule in words: "function 'service': change against today at least +0.0 %"."""
    parts = []
    if rule.lock:
        parts.append("keeps today's spend")
    if rule.min_spend is not None:
        parts.append(f"spends at least {fmt.money(rule.min_spend)}")
    if rule.max_spend is not None:
        parts.append(f"spends at most {fmt.money(rule.max_spend)}")
    if rule.min_share is not None:
        parts.append(f"gets at least {fmt.percent(rule.min_share)} of the total")
    if rule.max_share is not None:
        parts.append(f"gets at most {fmt.percent(rule.max_share)} of the total")
    if rule.min_change is not None:
        parts.append(f"changes by at least {fmt.percent(rule.min_change, signed=True)} against today")
    if rule.max_change is not None:
        parts.append(f"changes by at most {fmt.percent(rule.max_change, signed=True)} against today")
    if rule.min_engaged is not None:
        parts.append(f"engages at least {fmt.count(rule.min_engaged)} customers")
    if rule.min_engaged_change is not None:
        parts.append(f"engages at least {fmt.percent(rule.min_engaged_change, signed=True)} against today")
    if rule.max_extrapolation is not None:
        parts.append(f"gets at most {rule.max_extrapolation:g}x the largest spend observed")
    if rule.max_step is not None:
        parts.append(f"changes by at most {fmt.percent(rule.max_step)} from one period to the next")
    when = ""
    if rule.periods is not None:
        spec = rule.periods
        shown = (f"periods {spec[0]} to {spec[1]}" if isinstance(spec, tuple) else
                 f"period {spec}" if isinstance(spec, int) else str(spec))
        when = f" in {'each of ' if rule.per_period else ''}{shown}"
    elif rule.per_period:
        when = " in every period"
    return f"{rule.label} " + " and ".join(parts) + when


# ---- a scenario file -> the widgets, and back ------------------------------------------------------------------

@dataclass(frozen=True)
class Widgets:
    """The sidebar's and the rules tab's values for a scenario (what loading a scenario file sets)."""

    mode: Mode
    keep_pct: float
    target_cpe: float
    budget_total: float
    budget_pct: int
    at_most: bool
    planning: str
    protect_stages: bool
    rules: tuple[Rule, ...]


def widgets_for(scenario: Scenario, today_spend: float, today_value: float, today_cpe: float) -> Widgets:
    """The widget values that describe `scenario` on data with today's spend, value-weighted engagement and CPE.

    The budget becomes an amount (a change of -10 % on 14,045,000 is 12,640,500); an engagement target becomes
    a percentage of today's (value-weighted) engagement."""
    objective = scenario.objective
    keep = 100.0
    if objective.mode is Mode.MIN_SPEND:
        if objective.target is not None and today_value > 0:
            keep = 100.0 * objective.target / today_value
        elif objective.target_change is not None:
            keep = 100.0 * (1.0 + objective.target_change)
    target = objective.target if objective.mode is Mode.TARGET_CPE else round(today_cpe, 2)
    total = scenario.budget.amount(today_spend)
    keep = min(KEEP_RANGE[1], max(KEEP_RANGE[0], keep))
    return Widgets(mode=objective.mode, keep_pct=float(keep), target_cpe=float(max(MIN_TARGET_CPE, target)),
                   budget_total=float(total), budget_pct=slider_step(today_spend, total),
                   at_most=scenario.budget.at_most, planning=SILOED if scenario.siloed else HORIZONTAL,
                   protect_stages=scenario.protect_stages, rules=tuple(scenario.rules))


def with_loaded(built: Scenario, loaded: Scenario, today_spend: float, today_value: float) -> Scenario:
    """The scenario the widgets describe, completed by the scenario file they were loaded from.

    Where the widgets still say what the file says, the file's own form is kept (a budget 'change = -0.10'
    stays a change, not an amount); what has no widget (overrides, added touchpoints, settings) comes from
    the file. The name is the file's, marked '(changed)' once a widget says something else."""
    update: dict[str, object] = {"overrides": loaded.overrides, "add_touchpoints": loaded.add_touchpoints,
                                 "settings": loaded.settings, "description": loaded.description,
                                 "periods": loaded.periods, "currency": loaded.currency}
    if (abs(built.budget.amount(today_spend) - loaded.budget.amount(today_spend)) <= 0.5
            and built.budget.at_most == loaded.budget.at_most):
        update["budget"] = loaded.budget
    if _same_objective(built.objective, loaded.objective, today_value):
        update["objective"] = loaded.objective
    merged = built.model_copy(update=update)
    same = merged.model_copy(update={"name": loaded.name, "data": loaded.data}) == loaded
    return merged.model_copy(update={"name": loaded.name if same else f"{loaded.name} (changed)"})


def _same_objective(a: Objective, b: Objective, today_value: float) -> bool:
    """True when two objectives ask for the same thing (an engagement target as a number or as a change)."""
    if a.mode is not b.mode:
        return False
    if a.mode is Mode.MIN_SPEND:
        def goal(o: Objective) -> float:
            return o.target if o.target is not None else today_value * (1.0 + (o.target_change or 0.0))
        return abs(goal(a) - goal(b)) <= 1e-9 * max(1.0, abs(goal(b)))
    if a.mode is Mode.TARGET_CPE:
        return abs((a.target or 0.0) - (b.target or 0.0)) <= 1e-9 * max(1.0, abs(b.target or 0.0))
    return True
