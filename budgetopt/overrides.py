"""What-if changes to the data without touching the file: dearer, more engaging, removed, locked, added."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema as S
from . import units
from .errors import InputError, ScenarioError
from .model import select
from .scenario import NewTouchpoint, Override, Scenario
from .touchpoints import fold_labels, validate_touchpoints


def apply_overrides(touchpoints: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The touchpoint table as the scenario sees it.

    A cost multiplier m scales the whole curve down: engaged(s) -> engaged(s) / m (unit cost x m,
    saturation and curve_engaged / m); an engagement multiplier scales it up. Both change "today's" engagement too.
    """
    if not scenario.overrides and not scenario.add_touchpoints:
        return touchpoints
    tp = touchpoints.copy()
    for k, override in enumerate(scenario.overrides):
        mask = select(tp, override, f"override {k + 1} ({override.target})")
        if override.remove:
            tp = tp[~mask].reset_index(drop=True)
            continue
        factor = (override.engaged_multiplier or 1.0) / (override.cpe_multiplier or 1.0)
        if factor != 1.0:
            tp.loc[mask, S.ENGAGED] *= factor
            tp.loc[mask, S.SATURATION] *= factor
            if S.CURVE_ENGAGED in tp.columns:
                tp.loc[mask, S.CURVE_ENGAGED] *= factor
            tp.loc[mask, "unit_cost"] /= factor
        if override.lock:
            tp.loc[mask, S.LOCKED] = True
    if scenario.add_touchpoints:
        tp = pd.concat([tp, _new_rows(tp, scenario.add_touchpoints)], ignore_index=True)
        for column in (S.FUNCTION, S.CHANNEL):  # 'Service' in a scenario is the data's 'service'
            tp[column] = fold_labels(tp[column], column, [])
        dup = tp[S.TOUCHPOINT].str.casefold().duplicated()
        if dup.any():
            raise ScenarioError(f"add_touchpoints: '{tp.loc[dup, S.TOUCHPOINT].iloc[0]}' is already a touchpoint; "
                                "give the new one another name")
    if tp.empty:
        raise ScenarioError("the overrides remove every touchpoint; keep at least one")
    return tp


def _new_rows(tp: pd.DataFrame, added: tuple[NewTouchpoint, ...]) -> pd.DataFrame:
    """Validate the new touchpoints exactly like rows of a file."""
    records = []
    for new in added:
        record = new.model_dump(exclude={"tags"}, exclude_none=True)
        record.update(new.tags)
        records.append({k: str(v) for k, v in record.items()})
    raw = pd.DataFrame(records)
    try:
        clean = validate_touchpoints(raw, source="scenario add_touchpoints",
                                     rows=np.arange(1, len(raw) + 1))
    except InputError as exc:
        lines = [f"add_touchpoints entry {p.row}: {p.column}: {p.message}. Fix: {p.fix}" for p in exc.problems]
        raise ScenarioError("\n".join(lines)) from exc
    for column in tp.columns:
        if column not in clean.columns:
            clean[column] = "" if tp[column].dtype == object else np.nan
    return clean[list(tp.columns) + [c for c in clean.columns if c not in tp.columns]]


def describe_override(override: Override) -> str:
    """An override in words: "channel 'tv': each engaged customer costs 1.2x as much"."""
    parts = []
    if override.remove:
        parts.append("left out of the plan")
    if override.cpe_multiplier is not None:
        parts.append(f"each engaged customer costs {override.cpe_multiplier:g}x as much")
    if override.engaged_multiplier is not None:
        parts.append(f"engages {override.engaged_multiplier:g}x as many customers for the same money")
    if override.lock:
        parts.append("keeps today's spend")
    return f"{override.target}: " + " and ".join(parts)


def describe_added(new: NewTouchpoint, currency: str | None = None) -> str:
    """An added touchpoint in words: "new touchpoint 'Social listening team' (service, social listening) ..."."""
    cost = (f"costs {units.money(new.cpe, currency, digits=2)} per engaged customer" if new.cpe is not None
            else f"engages {units.money(new.engaged)} customers for {units.money(new.spend, currency)}")
    limits = f", up to {units.money(new.max_spend, currency)}" if new.max_spend is not None else ""
    return (f"new touchpoint '{new.touchpoint}' ({new.function}, {new.channel}): {cost}{limits}; "
            f"today's spend {units.money(new.spend, currency)}")


def describe_whatifs(scenario: Scenario, currency: str | None = None) -> list[str]:
    """Every what-if of a scenario (overrides and added touchpoints), one line each."""
    return [describe_override(o) for o in scenario.overrides] + [describe_added(t, currency)
                                                                   for t in scenario.add_touchpoints]


def whatif_labels(planned: pd.DataFrame, scenario: Scenario, added: np.ndarray) -> np.ndarray:
    """Per planned touchpoint, the scenario's what-ifs on it in a few words ('' when none): 'each engaged customer
    costs 1.2x as much', 'added by the scenario'."""
    labels = np.full(len(planned), "", dtype=object)
    for k, override in enumerate(scenario.overrides):
        if override.remove:
            continue
        mask = select(planned, override, f"override {k + 1} ({override.target})")
        text = describe_override(override).split(": ", 1)[1]
        labels[mask] = np.where(labels[mask] == "", text, labels[mask] + "; " + text)
    labels[np.asarray(added, dtype=bool)] = S.ADDED
    return labels
