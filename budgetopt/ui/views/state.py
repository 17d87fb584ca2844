"""The names under which the page keeps its widget values in st.session_state.

Tests, loading a scenario file and (later) the page's address set widgets by these names.
"""

from __future__ import annotations


class Key:
    """Session-state keys of the widgets (and of what the page remembers between reruns)."""

    DATA = "data_id"
    SOURCE = "data_source"  # Provenance of the table on the page
    SAMPLE = "data_is_sample"  # the sample's path while the page shows it, else None
    UPLOAD = "upload"
    MAP_FILE = "mapping_for"  # the upload (SHA-256) the column choices belong to
    MAP = "map:"  # + a touchpoint column: the header(s) chosen for it
    LOAD_FILE = "scenario_file"
    LOAD_ERROR = "scenario_file_error"
    LOADED = "loaded_scenario"
    LOADED_FROM = "loaded_scenario_path"
    MODE = "mode"
    KEEP_PCT = "keep_engaged_pct"
    TARGET_CPE = "target_cpe"
    BUDGET_PCT = "budget_pct"
    BUDGET_TOTAL = "budget_total"  # the amount (a number); the box shows it as text
    BUDGET_TEXT = "budget_text"
    BUDGET_ERROR = "budget_error"
    AT_MOST = "at_most"
    PLANNING = "planning"
    PROTECT = "protect_stages"
    RULES = "rules"
    RULE_TARGET = "rule_target"
    RULE_LIMIT = "rule_limit"
    RULE_VALUE = "rule_value"
    RULE_ERROR = "rule_error"
    REMOVE = "rules_to_remove"
    TODAY_BY = "today_by"
    SAVE_NAME = "save_name"
    SAVE_DESCRIPTION = "save_description"
    SAVE_REPLACE = "save_replace"  # + ':' + file name + ':' + saves so far: a fresh, unticked box each time
    SAVES = "saves"
    SAVE_MESSAGE = "save_message"
    COMPARE = "compare"
    FRONTIER_BUTTON = "frontier_button"
    PRICES_BUTTON = "prices_button"
    SILOS_BUTTON = "silos_button"


DATA_KEYS = (Key.BUDGET_PCT, Key.BUDGET_TOTAL, Key.BUDGET_TEXT, Key.TARGET_CPE, Key.RULE_TARGET)
"""Widgets whose value depends on the data: reset when another table is loaded."""
