"""What a person asks for: the budget, the objective, the rules and the settings (pydantic models)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .curves import DEFAULT_SEGMENTS
from .horizon import Calendar, parse_horizon, span_years
from .schema import MAX_AMOUNT, MAX_CPE, MAX_FACTOR, MIN_CPE
from .units import check_currency

_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
"""Unknown keys are refused, and so are inf and nan: every number of a scenario is finite and, where it is money,
customers, a change or a multiplier, within the ranges of schema.py (MAX_AMOUNT, MAX_FACTOR, MIN_CPE..MAX_CPE)."""


class Mode(StrEnum):
    """What the plan optimises."""

    MAX_ENGAGED = "max_engaged"  # most value-weighted engaged customers for the budget
    MIN_SPEND = "min_spend"  # least money that keeps engagement at a target (default: today's)
    TARGET_CPE = "target_cpe"  # most engagement with average cost per engaged customer at most a target


class Budget(BaseModel):
    """The total: an absolute amount, or a change against today's total (-0.1 = cut 10 %)."""

    model_config = _STRICT
    total: float | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    change: float | None = Field(default=None, gt=-1, le=MAX_FACTOR)
    at_most: bool = False  # False: spend exactly the budget; True: spend at most the budget

    @model_validator(mode="after")
    def _one_way(self) -> Budget:
        if self.total is not None and self.change is not None:
            raise ValueError("give the budget as 'total' or as 'change', not both")
        return self

    def amount(self, today: float) -> float:
        """The budget in money, given today's total."""
        if self.total is not None:
            return float(self.total)
        return today * (1.0 + (self.change or 0.0))


class Objective(BaseModel):
    """The mode and its target: engagement for min_spend (default today's), a CPE for target_cpe.

    `unit` says what a min_spend target counts: "weighted" (value x engaged customers, the default) or
    "customers" (engaged customers, ignoring values); the two are the same when every value is 1."""

    model_config = _STRICT
    mode: Mode = Mode.MAX_ENGAGED
    target: float | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    target_change: float | None = Field(default=None, gt=-1, le=MAX_FACTOR)  # min_spend: engagement target vs today
    unit: Literal["weighted", "customers"] = "weighted"

    @model_validator(mode="after")
    def _target(self) -> Objective:
        if self.mode is Mode.TARGET_CPE and self.target is None:
            raise ValueError("mode 'target_cpe' needs 'target': the highest average cost per engaged customer")
        if self.target is not None and self.target_change is not None:
            raise ValueError("give 'target' or 'target_change', not both")
        return self


LIMITS = ("min_spend", "max_spend", "min_share", "max_share", "min_change", "max_change",
          "lock", "min_engaged", "min_engaged_change", "max_extrapolation", "max_step")


class Target(BaseModel):
    """Who a rule or an override addresses: one touchpoint, a group (column + member) or a tag column."""

    model_config = _STRICT
    touchpoint: str | None = None
    group: str | None = None
    member: str | None = None
    tag: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        forms = [self.touchpoint is not None, self.group is not None, self.tag is not None]
        if sum(forms) != 1:
            raise ValueError("address exactly one of: 'touchpoint', 'group' (with 'member'), 'tag'")
        if self.group is not None and self.member is None:
            raise ValueError(f"'group = \"{self.group}\"' needs 'member' (which {self.group})")
        if self.member is not None and self.group is None:
            raise ValueError("'member' goes with 'group'")
        return self

    @property
    def target(self) -> str:
        """Who it addresses, in words."""
        if self.touchpoint is not None:
            return f"'{self.touchpoint}'"
        if self.tag is not None:
            return f"tag '{self.tag}'"
        return f"{self.group} '{self.member}'"


class Rule(Target):
    """A constraint a person sets on one touchpoint, a group (column + member) or a tag.

    Limits: money (min_spend, max_spend), share of the total (min_share, max_share, fractions),
    change against today (min_change, max_change, fractions: -0.3 = 30 % less), lock (keep today's
    spend) and engagement (min_engaged customers, or min_engaged_change against today).
    """

    name: str | None = None
    min_spend: float | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    max_spend: float | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    min_share: float | None = Field(default=None, ge=0, le=1)
    max_share: float | None = Field(default=None, ge=0, le=1)
    min_change: float | None = Field(default=None, ge=-1, le=MAX_FACTOR)
    max_change: float | None = Field(default=None, ge=-1, le=MAX_FACTOR)
    lock: bool = False
    min_engaged: float | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    min_engaged_change: float | None = Field(default=None, ge=-1, le=MAX_FACTOR)
    max_extrapolation: float | None = Field(default=None, ge=1, le=MAX_FACTOR)
    """Widen (or narrow) the extrapolation guard for these touchpoints: at most this many times the largest spend
    observed (Settings.max_extrapolation by default)."""
    periods: int | tuple[int, int] | str | None = None
    """A plan over periods only: the periods the rule holds for (12, [10, 12], "Q4", "Dec", "1, 4, 7"; see
    budgetopt.horizon); its limits hold for their sum. Default: the whole horizon."""
    per_period: bool = False
    """A plan over periods only: the limits hold in each of the rule's periods on its own, not for their sum."""
    max_step: float | None = Field(default=None, ge=0, le=MAX_FACTOR)
    """A plan over periods only: the money changes at most this fraction from one of the rule's periods to the
    next (0.25: +/- 25 %)."""

    @model_validator(mode="after")
    def _limits(self) -> Rule:
        if not self.lock and all(getattr(self, k) is None for k in LIMITS if k != "lock"):
            raise ValueError("a rule needs at least one limit: " + ", ".join(LIMITS))
        for low, high in (("min_spend", "max_spend"), ("min_share", "max_share"), ("min_change", "max_change")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise ValueError(f"{low} ({a}) is above {high} ({b})")
        return self

    @property
    def label(self) -> str:
        """The rule's name, or a description built from its target."""
        return self.name or self.target


class Override(Target):
    """A what-if change to the data, addressed like a rule: one touchpoint, a group (column + member) or a tag.

    cpe_multiplier 1.2: each engaged customer costs 20 % more (engaged at the same spend / 1.2);
    engaged_multiplier 1.15: 15 % more customers at the same spend; remove: drop it; lock: keep today's spend.
    """

    cpe_multiplier: float | None = Field(default=None, ge=1 / MAX_FACTOR, le=MAX_FACTOR)
    engaged_multiplier: float | None = Field(default=None, ge=1 / MAX_FACTOR, le=MAX_FACTOR)
    remove: bool = False
    lock: bool = False

    @model_validator(mode="after")
    def _change(self) -> Override:
        if not (self.remove or self.lock or self.cpe_multiplier or self.engaged_multiplier):
            raise ValueError("an override needs one of: cpe_multiplier, engaged_multiplier, remove, lock")
        return self


class NewTouchpoint(BaseModel):
    """A touchpoint that is not in the data yet ("a social listening team costing X that engages Y")."""

    model_config = _STRICT
    touchpoint: str = Field(min_length=1)
    function: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    stage: str | None = None
    spend: float = Field(default=0.0, ge=0, le=MAX_AMOUNT)
    engaged: float | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    cpe: float | None = Field(default=None, ge=MIN_CPE, le=MAX_CPE)
    curve: str | None = None
    elasticity: float | None = Field(default=None, gt=0, le=1)
    saturation: float | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    min_spend: float | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    max_spend: float | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    max_change: float | None = Field(default=None, ge=0, le=MAX_FACTOR)
    value: float | None = Field(default=None, gt=0, le=MAX_FACTOR)
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _basis(self) -> NewTouchpoint:
        if self.engaged is None and self.cpe is None:
            raise ValueError(f"new touchpoint '{self.touchpoint}' needs 'engaged' or 'cpe'")
        if self.spend == 0 and self.engaged and self.cpe is None:
            raise ValueError(f"new touchpoint '{self.touchpoint}' engages customers without spend, a cost per engaged "
                             "customer of 0: give its 'spend', or its 'cpe' and 'max_spend'")
        return self


class Settings(BaseModel):
    """How the LP is built and solved."""

    model_config = _STRICT
    segments: int = Field(default=DEFAULT_SEGMENTS, ge=1, le=200)
    max_extrapolation: float = Field(default=2.0, ge=1, le=MAX_FACTOR)
    """Without max_spend, a touchpoint whose curve rests on evidence (the data's observed_max_spend: a fitted history,
    a tabulated curve) may get at most max_extrapolation x the largest spend observed: beyond it the curve is the
    family's shape, not evidence. A rule's `max_extrapolation` widens or narrows it for its touchpoints."""
    max_growth: float = Field(default=3.0, gt=1, le=MAX_FACTOR)
    """Without max_spend, a touchpoint may grow to at most max_growth x today's spend: one observed
    point says nothing about the curve far from it."""
    refine: bool = True
    """Solve twice: the second time with extra breakpoints around the first plan (see curves.REFINE_STEPS)."""
    solver: str = "HiGHS"
    time_limit: float | None = Field(default=None, gt=0, le=86_400)  # seconds: at most a day
    rounding: float = Field(default=0.01, gt=0, le=1e6)
    """Exports round money to this step (0.01: cents; 1: whole units; 1000: thousands), so that the rounded plan
    still adds up exactly to its total (largest remainder)."""


class SeasonalIndex(Target):
    """A seasonality index for some touchpoints (addressed like a rule): one number per period of the horizon,
    how many customers the same money engages there against the touchpoint's curve (1.2: 20 % more)."""

    index: tuple[float, ...] = Field(min_length=1)

    @field_validator("index")
    @classmethod
    def _positive(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not (1 / MAX_FACTOR <= v <= MAX_FACTOR) for v in value):
            raise ValueError(f"every index lies between {1 / MAX_FACTOR:g} and {MAX_FACTOR:g} (1 = no season)")
        return value


PerPeriod = float | tuple[float, ...] | None
"""One number for every period, or one per period."""


class Periods(BaseModel):
    """A plan over time (`[periods]`): the horizon and its periods, the money per period and the pacing rules.

    Money: the scenario's [budget] is the horizon's (today's: today's spend at its rate over the horizon), or
    `budgets` gives each period's (exactly, or at most with budget.at_most). Pacing: each period's share of the
    horizon's money (`min_share`, `max_share`) or its money (`min_spend`, `max_spend`), one number for every
    period or one per period, and `max_step`, the most the total may change from one period to the next.
    Curves: each period's curve is the touchpoint's scaled to the period's length and by its seasonality index
    (`seasonality`: 'data', the data's `seasonality` column (estimated from a history), 'none', or one index per
    period for every touchpoint;
    `seasonal` sets it for some touchpoints). Carry-over: spend engages customers in its period and the ones after
    at the curve's carry-over rate; `tail` says whether what lands after the horizon counts ('counted', the
    default) or not ('cut')."""

    model_config = _STRICT
    horizon: str = "12m"
    start: date | None = None
    """The first day of the horizon (default: after a history's last period; a table's periods are numbered)."""
    data_period: str | None = None
    """How long the period of the data's spend is (e.g. 12m, 52w, 1y); default: a history's window, or a table's
    spend is for a period as long as the horizon."""
    budgets: tuple[float, ...] | None = None
    min_share: PerPeriod = None
    max_share: PerPeriod = None
    min_spend: PerPeriod = None
    max_spend: PerPeriod = None
    max_step: float | None = Field(default=None, ge=0, le=MAX_FACTOR)
    tail: Literal["counted", "cut"] = "counted"
    data_limits: Literal["auto", "period", "horizon"] = "auto"
    """Where the data's own limits (min_spend, max_spend, max_change of the touchpoint table) hold: 'horizon', on
    each touchpoint's total over the horizon (a row per limit: its money may move between periods within it);
    'period', in every period at its share of the data's period (bounds: fast at any size); 'auto' (the default),
    over the horizon unless more than periods.HORIZON_LIMITS touchpoints carry one or the plan has more than
    periods.HORIZON_COLUMNS touchpoint-periods, then per period (the plan says which)."""
    seasonality: Literal["data", "none"] | tuple[float, ...] = "data"
    seasonal: tuple[SeasonalIndex, ...] = ()
    carryover_period: str | None = None
    """The period a table's `carryover` column is per (e.g. 1w); default: a history's periods, else one period of
    the horizon."""
    shrinkage: float = Field(default=1.0, ge=0, le=100)
    """Years of evidence an estimated seasonality index is pulled toward the index of all touchpoints with."""

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, value: str) -> str:
        parse_horizon(value)
        return value

    @field_validator("data_period", "carryover_period")
    @classmethod
    def _span(cls, value: str | None) -> str | None:
        if value is not None:
            span_years(value)
        return value

    @model_validator(mode="after")
    def _lengths(self) -> Periods:
        count = self.calendar.count
        for key, low, high in (("budgets", 0, MAX_AMOUNT), ("min_share", 0, 1), ("max_share", 0, 1),
                               ("min_spend", 0, MAX_AMOUNT), ("max_spend", 0, MAX_AMOUNT),
                               ("seasonality", 1 / MAX_FACTOR, MAX_FACTOR)):
            value = getattr(self, key)
            if value is None or isinstance(value, str):
                continue
            values = value if isinstance(value, tuple) else (value,)
            if isinstance(value, tuple) and len(value) != count:
                raise ValueError(f"'{key}' has {len(value)} numbers for a horizon of {count} periods: give one per "
                                 "period" + ("" if key in ("budgets", "seasonality") else ", or one for all"))
            if any(not (low <= v <= high) for v in values):
                raise ValueError(f"'{key}': every number lies between {low:g} and {high:g}")
        for low, high in (("min_share", "max_share"), ("min_spend", "max_spend")):
            a, b = self.per_period(low), self.per_period(high)
            if a is not None and b is not None and (a > b + 1e-12).any():
                t = int((a > b).argmax())
                raise ValueError(f"period {t + 1}: {low} ({a[t]:g}) is above {high} ({b[t]:g})")
        for k, entry in enumerate(self.seasonal):
            if len(entry.index) != count:
                raise ValueError(f"seasonal entry {k + 1} ({entry.target}) has {len(entry.index)} indices for a "
                                 f"horizon of {count} periods: give one per period")
        return self

    @property
    def calendar(self) -> Calendar:
        """The periods of the horizon (numbered, or dated from `start`)."""
        return Calendar.of(self.horizon, self.start)

    def per_period(self, key: str):
        """A pacing number of every period as an array (None when not set)."""
        import numpy as np

        value = getattr(self, key)
        if value is None or isinstance(value, str):
            return None
        return np.broadcast_to(np.asarray(value, float), (self.calendar.count,)).copy()


class Scenario(BaseModel):
    """Budget + objective + rules + settings: everything the engine needs besides the data."""

    model_config = _STRICT
    name: str = "Untitled scenario"
    description: str = ""
    data: str | None = None
    """The touchpoint file, relative to the scenario file."""
    currency: str | None = None
    """Three-letter code of the money (EUR, USD, ...); default: what the data's spend header or cells say."""
    window: str | None = None
    """When the data is a history: the periods that make today (52w, 26w, 12m, 90d, all; default the last 52 weeks)."""
    curves: str | None = None
    """Response curves as points (an MMM tool's export), relative to the scenario file: the touchpoints they name
    are planned on them."""
    curves_map: dict[str, str] = Field(default_factory=dict)
    """Which header of the curves file holds a column, e.g. { touchpoint = "channel", engaged = "mean" }."""
    curves_beyond: float = Field(default=1.0, ge=1, le=MAX_FACTOR)
    """How far the plan may take a curve of `curves` beyond its last point: up to this multiple of it, continued at
    its last slope (an assumption; 1, the default: not beyond the last point the model gave)."""
    budget: Budget = Budget()
    objective: Objective = Objective()
    rules: tuple[Rule, ...] = ()
    siloed: bool = False
    """Vertical planning: every function keeps its share of the total (today's total at today's budget)."""
    protect_stages: bool = False
    """Every journey stage keeps at least today's engaged customers."""
    overrides: tuple[Override, ...] = ()
    add_touchpoints: tuple[NewTouchpoint, ...] = ()
    periods: Periods | None = None
    """A plan over time: the horizon, its periods, the money per period and pacing (None: one period)."""
    settings: Settings = Settings()

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return check_currency(value)

    @model_validator(mode="after")
    def _over_time(self) -> Scenario:
        for r, rule in enumerate(self.rules):
            keys = [k for k in ("periods", "per_period", "max_step") if getattr(rule, k) not in (None, False)]
            if keys and self.periods is None:
                raise ValueError(f"rule {r + 1} ({rule.label}): '{keys[0]}' needs a plan over periods; add a "
                                 "[periods] section (e.g. horizon = \"12m\")")
            if rule.periods is not None and self.periods is not None and (
                    self.periods.start is not None or not isinstance(rule.periods, str)):
                self.periods.calendar.select(rule.periods, f"rule {r + 1} ({rule.label}): periods")
        if self.periods is not None and self.periods.budgets is not None and (
                self.budget.total is not None or self.budget.change is not None):
            raise ValueError("give the money per period ([periods] budgets) or for the horizon ([budget]), not both")
        if self.periods is not None and self.periods.budgets is not None and self.objective.mode is Mode.MIN_SPEND:
            raise ValueError("[periods] budgets set the money, and min_spend finds the least money: drop one")
        return self

    @model_validator(mode="after")
    def _curves_beyond(self) -> Scenario:
        if self.curves_beyond > 1 and self.curves is None:
            raise ValueError(f"curves_beyond = {self.curves_beyond:g} says how far the curves of a curves file may be "
                             "taken; name that file with curves = \"...\" (or drop curves_beyond)")
        return self
