"""What-if changes to the data without touching the file: dearer, more engaging, removed, locked, added."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema as S
from .errors import InputError, ScenarioError
from .model import select
from .scenario import NewTouchpoint, Scenario
from .touchpoints import validate_touchpoints


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
