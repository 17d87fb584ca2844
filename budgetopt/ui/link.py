"""The page's settings as a link: what the sidebar and the rules tab hold, to and from the address's query
parameters, so that a reload or a shared link brings them back (no Streamlit here).

    ?goal=min_spend&keep=95&planning=siloed&rules=W3sidG91Y2hwb2ludCI6...

Only what differs from a fresh page is written. The rules travel as JSON in URL-safe base64 and are checked by
the same pydantic models as a scenario file; nothing in a link is evaluated. A link that cannot be read in part
gives what it can and says what it left out. An uploaded file cannot travel in a link: the link names it, and
the page asks for it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ..scenario import Mode, Rule
from . import controls

SAMPLE = "sample"
UPLOAD = "upload:"
MAX_RULES_TEXT = 20_000
"""Longest rules parameter read (characters): far more than a page of rules, far less than a problem."""
NAMES = {"data": "data", "goal": "goal", "budget": "budget", "at_most": "at_most", "keep": "keep", "cpe": "cpe",
         "planning": "planning", "protect": "protect", "rules": "rules", "file": "file"}
"""Query parameter names (the page writes these and nothing else)."""


class PageState(BaseModel):
    """The settings of the page: data choice, goal, budget, planning, rules and the scenario file loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    data: str = SAMPLE
    """'sample', or 'upload:<file name>' (the file itself stays in the browser that uploaded it)."""
    mode: Mode = Mode.MAX_ENGAGED
    budget: float | None = None
    """The exact amount; None: today's total."""
    at_most: bool = False
    keep_pct: float = 100.0
    target_cpe: float | None = None
    """None: today's average CPE."""
    siloed: bool = False
    protect_stages: bool = False
    rules: tuple[Rule, ...] = ()
    scenario_file: str | None = None
    """The name of the scenario file loaded (in the page's scenarios folder), for what has no widget."""

    @field_validator("budget", "target_cpe")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError("must be a finite amount, zero or more")
        return value

    @property
    def upload(self) -> str | None:
        """The uploaded file's name the settings were made with, or None for the sample."""
        return self.data.removeprefix(UPLOAD) if self.data.startswith(UPLOAD) else None


def encode_rules(rules: tuple[Rule, ...]) -> str:
    """Rules as URL-safe base64 of compact JSON (only the fields each rule sets)."""
    text = json.dumps([r.model_dump(exclude_defaults=True) for r in rules], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_rules(text: str) -> tuple[Rule, ...]:
    """The rules of `encode_rules`; raise ValueError saying what is wrong."""
    if len(text) > MAX_RULES_TEXT:
        raise ValueError(f"the rules are longer than {MAX_RULES_TEXT:,} characters")
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ValueError("the rules are not readable (the link may be cut short)") from exc
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise ValueError("the rules are not a list of rules")
    try:
        return tuple(Rule.model_validate(r) for r in raw)
    except ValidationError as exc:
        problem = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ValueError(f"a rule is not valid: {problem}") from exc


def to_query(state: PageState) -> dict[str, str]:
    """The query parameters of a state: only what differs from a fresh page."""
    q: dict[str, str] = {}
    if state.data != SAMPLE:
        q[NAMES["data"]] = state.data
    if state.mode is not Mode.MAX_ENGAGED:
        q[NAMES["goal"]] = state.mode.value
    if state.budget is not None:
        q[NAMES["budget"]] = f"{state.budget:.2f}".rstrip("0").rstrip(".")
    if state.at_most:
        q[NAMES["at_most"]] = "1"
    if state.mode is Mode.MIN_SPEND and state.keep_pct != 100.0:
        q[NAMES["keep"]] = f"{state.keep_pct:g}"
    if state.mode is Mode.TARGET_CPE and state.target_cpe is not None:
        q[NAMES["cpe"]] = f"{state.target_cpe:g}"
    if state.siloed:
        q[NAMES["planning"]] = "siloed"
    if state.protect_stages:
        q[NAMES["protect"]] = "1"
    if state.rules:
        q[NAMES["rules"]] = encode_rules(state.rules)
    if state.scenario_file:
        q[NAMES["file"]] = state.scenario_file
    return q


def from_query(params: Mapping[str, str | list[str]]) -> tuple[PageState, list[str]]:
    """The state a link describes, and what could not be read in it (each in a sentence). Unknown parameters are
    ignored; a parameter that cannot be read keeps its fresh-page value."""
    def one(name: str) -> str | None:
        value = params.get(name)
        if isinstance(value, list):
            value = value[-1] if value else None
        return None if value is None else str(value).strip()

    values: dict[str, object] = {}
    problems: list[str] = []

    def number(name: str, key: str, low: float = 0.0, high: float = math.inf) -> None:
        text = one(name)
        if text is None:
            return
        try:
            value = float(text)
            if not (math.isfinite(value) and low <= value <= high):
                raise ValueError
        except ValueError:
            problems.append(f"'{name}={text[:40]}' is not a number from {low:g} to {high:g}; left as it was")
            return
        values[key] = value

    data = one(NAMES["data"])
    if data:
        if data == SAMPLE or (data.startswith(UPLOAD) and len(data) > len(UPLOAD)):
            values["data"] = data[:300]
        else:
            problems.append(f"'data={data[:40]}' is neither the sample nor an uploaded file; showing the sample")
    goal = one(NAMES["goal"])
    if goal:
        try:
            values["mode"] = Mode(goal)
        except ValueError:
            problems.append(f"'goal={goal[:40]}' is not a goal (use one of: {', '.join(m.value for m in Mode)})")
    number(NAMES["budget"], "budget")
    number(NAMES["keep"], "keep_pct", *controls.KEEP_RANGE)
    number(NAMES["cpe"], "target_cpe", controls.MIN_TARGET_CPE)
    values["at_most"] = one(NAMES["at_most"]) in ("1", "true", "yes")
    planning = one(NAMES["planning"])
    values["siloed"] = planning == "siloed"
    if planning not in (None, "siloed", "horizontal"):
        problems.append(f"'planning={planning[:40]}' is neither siloed nor horizontal; planning across functions")
    values["protect_stages"] = one(NAMES["protect"]) in ("1", "true", "yes")
    rules = one(NAMES["rules"])
    if rules:
        try:
            values["rules"] = decode_rules(rules)
        except ValueError as exc:
            problems.append(f"The rules in the link were left out: {exc}")
    file = one(NAMES["file"])
    if file:
        values["scenario_file"] = file[:200]
    return PageState(**values), problems


def differences(before: PageState, after: PageState) -> list[str]:
    """What changed between two states, in words a person recognises: 'the goal', 'the budget', '2 rules'."""
    out = []
    if before.mode is not after.mode or (after.mode is Mode.MIN_SPEND and before.keep_pct != after.keep_pct) or (
            after.mode is Mode.TARGET_CPE and before.target_cpe != after.target_cpe):
        out.append("the goal")
    if before.budget != after.budget or before.at_most != after.at_most:
        out.append("the budget")
    if before.siloed != after.siloed:
        out.append("the planning")
    if before.protect_stages != after.protect_stages:
        out.append("protect every stage")
    if before.rules != after.rules:
        added = len(set(after.rules) - set(before.rules))
        removed = len(set(before.rules) - set(after.rules))
        parts = [f"{added} rule{'s' if added != 1 else ''} added" if added else "",
                 f"{removed} rule{'s' if removed != 1 else ''} removed" if removed else ""]
        out.append(" and ".join(p for p in parts if p) or "the order of the rules")
    if before.scenario_file != after.scenario_file:
        out.append("the scenario file")
    return out
