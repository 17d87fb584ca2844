"""The page's pure calls, cached by their arguments: the touchpoint table and the scenario as JSON text.

A rerun with the same data and settings (any click that changes nothing the plan depends on) costs a hash
and a dictionary look-up; a changed setting solves once and is remembered (`max_entries` per function).

The long calls a person asks for with a button (the frontier, the whole price of each rule, what the silos
cost) report progress while they run, so they are not behind `st.cache_data` (which would replay or drop
the progress bar); their results are remembered in the session instead (`recall`, `keep`), under a key made
of the touchpoint table's digest and the scenario, so a changed setting asks again.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Hashable

import pandas as pd
import streamlit as st

from ..errors import InputError
from ..evidence import Evidence
from ..explain import explain_moves
from ..ingest import RawTable, to_touchpoints
from ..io import check_size, read_table, read_touchpoints
from ..optimize import optimize
from ..plan import Plan
from ..rule_words import plain_rules
from ..scenario import Scenario
from . import columns

REMEMBERED = "remembered"
KEEP_PER_KIND = 4
"""Results remembered per kind of long call and session (the newest ones)."""


def digest(touchpoints: pd.DataFrame) -> str:
    """A short fingerprint of a touchpoint table (values and column names), for remembering results: worked out
    once per table object while it lives (the page hands one table to every call of a run and never changes a
    table in place; a run's new table is a new object), so a run hashes its table once, not once per cached call."""
    known = _DIGESTS.get(id(touchpoints))
    if known is not None and known[0]() is touchpoints:
        return known[1]
    h = hashlib.sha256(pd.util.hash_pandas_object(touchpoints, index=True).to_numpy().tobytes())
    h.update("\x1f".join(map(str, touchpoints.columns)).encode())
    value = h.hexdigest()[:16]
    key = id(touchpoints)  # forgotten when the table goes (before its id can be another object's)
    _DIGESTS[key] = (weakref.ref(touchpoints, lambda _, key=key: _DIGESTS.pop(key, None)), value)
    return value


_DIGESTS: dict[int, tuple[weakref.ref, str]] = {}
"""The digests of the tables alive, by identity (held weakly: remembering one keeps no table in memory)."""
BY_DIGEST = {pd.DataFrame: digest}
"""`hash_funcs` of the cached calls that take the touchpoint table: Streamlit would hash it again on every call."""


@st.cache_data(show_spinner=False, max_entries=4)
def touchpoints_from_file(path: str) -> pd.DataFrame:
    """A validated touchpoint table from a CSV on disk (the sample)."""
    return read_touchpoints(path)


@st.cache_data(show_spinner="Reading the file...", max_entries=4)
def raw_table(data: bytes, name: str, limit: int) -> tuple[RawTable | None, pd.DataFrame | None]:
    """(the table as found in the file, None), or (None, why it cannot be read as a table); `limit` in bytes."""
    try:
        check_size(data, name, limit)
        return parsed(data, name), None
    except InputError as exc:
        return None, exc.as_table()


@st.cache_data(show_spinner=False, max_entries=4)
def parsed(data: bytes, name: str) -> RawTable:
    """The table found in an upload (io.read_table), parsed once per file content and name: the column mapping,
    the history check and the fit all start from it. Raises InputError (not remembered) when it cannot be read."""
    return read_table(data, name=name)


@st.cache_data(show_spinner="Checking the columns...", max_entries=8)
def mapped_touchpoints(data: bytes, name: str, choice: tuple) -> tuple[pd.DataFrame | None, pd.DataFrame | None,
                                                                        list[str]]:
    """(table, None, notices) when the file validates under the chosen mapping, else (None, problems, notices).

    `choice` is `columns.Choice.key()`: the mapping and the headers left out, hashable."""
    pairs, left_out = choice
    table = columns.narrowed(parsed(data, name), left_out)
    try:
        clean = to_touchpoints(table, {target: list(headers) for target, headers in pairs})
    except InputError as exc:
        return None, exc.as_table(), exc.notices
    return clean, None, list(clean.attrs.get("notices", []))


@st.cache_data(show_spinner="Optimising the plan... (when no plan exists, naming the rules that conflict takes "
                             "a few more solves)", max_entries=64, hash_funcs=BY_DIGEST)
def plan_for(touchpoints: pd.DataFrame, scenario_json: str) -> Plan:
    """The plan for a touchpoint table and a scenario given as its JSON text (hashable, exact)."""
    return optimize(touchpoints, Scenario.model_validate_json(scenario_json))


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=BY_DIGEST)
def holding_back(touchpoints: pd.DataFrame, scenario_json: str) -> pd.DataFrame:
    """The rules and limits that bind in the plan, in plain words (rule_words.plain_rules)."""
    return plain_rules(plan_for(touchpoints, scenario_json), touchpoints)


@st.cache_data(show_spinner=False, max_entries=64, hash_funcs=BY_DIGEST)
def moves(touchpoints: pd.DataFrame, scenario_json: str) -> pd.DataFrame:
    """The plan's largest moves, each with why (explain.explain_moves)."""
    return explain_moves(plan_for(touchpoints, scenario_json), holding_back(touchpoints, scenario_json))


def memo(kind: str) -> dict:
    """This session's remembered results of one kind, by key (the same dict from run to run)."""
    return st.session_state.setdefault(REMEMBERED, {}).setdefault(kind, {})


def recall(kind: str, key: Hashable) -> object | None:
    """A result this session computed before for (kind, key), or None."""
    return memo(kind).get(key)


def keep(kind: str, key: Hashable, value: object) -> None:
    """Remember a result for (kind, key); only the newest few per kind are kept."""
    store = memo(kind)
    store.pop(key, None)
    store[key] = value
    while len(store) > KEEP_PER_KIND:
        store.pop(next(iter(store)))


@st.cache_data(show_spinner=False, max_entries=8)
def is_history(data: bytes, name: str) -> bool:
    """Whether an upload is a history (a date column and several rows per touchpoint), not a touchpoint table."""
    from ..history import is_history as history_like

    try:
        return history_like(parsed(data, name))
    except InputError:
        return False


@st.cache_data(show_spinner="Fitting a response curve to each touchpoint's history...", max_entries=8)
def evidence_from_history(data: bytes, name: str, window: str | None, touchpoint: str | None
                          ) -> tuple[Evidence | None, pd.DataFrame | None, list[str]]:
    """(the fitted Evidence, None, notices), or (None, problems, notices) when the history cannot be used."""
    from ..evidence import from_history
    from ..history import history_from_table

    try:
        evidence = from_history(history_from_table(parsed(data, name), touchpoint=touchpoint or None,
                                                   window=window or None))
    except InputError as exc:
        return None, exc.as_table(), exc.notices
    return evidence, None, evidence.notices


@st.cache_data(show_spinner="Reading the response curves...", max_entries=8, hash_funcs=BY_DIGEST)
def evidence_with_curves(touchpoints: pd.DataFrame, data: bytes, name: str, mapping: tuple, beyond: float = 1.0
                         ) -> tuple[Evidence | None, pd.DataFrame | None, list[str]]:
    """The touchpoint table with the uploaded curves attached (taken up to `beyond` x their last points), or
    (None, problems, notices)."""
    from ..curves.tabulated import curves_from_table
    from ..evidence import with_curves

    try:  # the file as raw_table parsed it (io.read_curves reads the same way)
        evidence = with_curves(touchpoints, curves_from_table(parsed(data, name), dict(mapping) or None), beyond)
    except InputError as exc:
        return None, exc.as_table(), exc.notices
    return evidence, None, evidence.notices


@st.cache_data(show_spinner=False, max_entries=8)
def seasonal_table(_evidence: Evidence, evidence_key: str, periods_json: str) -> pd.DataFrame:
    """The fitted history's table with the seasonality its history shows over the scenario's periods (its
    `[periods]` as JSON, all that seasonality.for_plan reads: a budget or a rule moved does not estimate it again),
    as the command line plans it; `evidence_key` names the evidence for the cache."""
    from ..scenario import Periods
    from ..seasonality import for_plan

    return for_plan(_evidence, Scenario(periods=Periods.model_validate_json(periods_json)))
