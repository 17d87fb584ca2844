"""The page's pure calls, cached by their arguments: the touchpoint table and the scenario as JSON text.

A rerun with the same data and settings (any click that changes nothing the plan depends on) costs a hash
and a dictionary look-up; a changed setting solves once and is remembered (`max_entries` per function).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ..errors import InputError
from ..io import read_touchpoints, read_touchpoints_bytes
from ..optimize import optimize
from ..plan import Plan
from ..scenario import Scenario


@st.cache_data(show_spinner=False, max_entries=4)
def touchpoints_from_file(path: str) -> pd.DataFrame:
    """A validated touchpoint table from a CSV on disk (the sample)."""
    return read_touchpoints(path)


@st.cache_data(show_spinner="Checking the file...", max_entries=4)
def touchpoints_from_upload(data: bytes, name: str, limit: int) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(table, None) for a usable upload, (None, problems as a table) otherwise; cached either way."""
    try:
        return read_touchpoints_bytes(data, name, limit), None
    except InputError as exc:
        return None, exc.as_table()


@st.cache_data(show_spinner="Optimising the plan... (when no plan exists, naming the rules that conflict takes "
                             "a few more solves)", max_entries=64)
def plan_for(touchpoints: pd.DataFrame, scenario_json: str) -> Plan:
    """The plan for a touchpoint table and a scenario given as its JSON text (hashable, exact)."""
    return optimize(touchpoints, Scenario.model_validate_json(scenario_json))
