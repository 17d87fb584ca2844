"""What a person asks for: the budget, the objective, the rules and the settings (pydantic models)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .curves import DEFAULT_SEGMENTS
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
          "lock", "min_engaged", "min_engaged_change", "max_extrapolation")


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
    budget: Budget = Budget()
    objective: Objective = Objective()
    rules: tuple[Rule, ...] = ()
    siloed: bool = False
    """Vertical planning: every function keeps its share of the total (today's total at today's budget)."""
    protect_stages: bool = False
    """Every journey stage keeps at least today's engaged customers."""
    overrides: tuple[Override, ...] = ()
    add_touchpoints: tuple[NewTouchpoint, ...] = ()
    settings: Settings = Settings()

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return check_currency(value)
