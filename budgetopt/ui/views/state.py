"""The names under which the page keeps its widget values in st.session_state.

Tests, loading a scenario file and (later) the page's address set widgets by these names.
"""

from __future__ import annotations


class Key:
    """Session-state keys of the widgets (and of what the page remembers between reruns)."""

    DATA = "data_id"
    DATA_LABEL = "data_label"  # 'sample' or 'upload:<file name>': the data choice a link names
    SOURCE = "data_source"  # Provenance of the table on the page
    SAMPLE = "data_is_sample"  # the sample's path while the page shows it, else None
    UPLOAD = "upload"
    EVIDENCE = "evidence"  # evidence.Evidence behind the table on the page (a fitted history, curves), or None
    WINDOW = "history_window"
    HISTORY_TOUCHPOINT = "history_touchpoint"
    CURVES_UPLOAD = "curves_upload"
    CURVES_MAP = "curves_map:"  # + touchpoint or engaged: the curves file's header for it
    CURVES_BEYOND = "curves_beyond"  # how far past its last point a model's curve may be taken (1: not at all)
    CURVE_SHOWN = "curve_shown"
    MAP_FILE = "mapping_for"  # the upload (SHA-256) the column choices belong to
    MAP = "map:"  # + a touchpoint column: the header(s) chosen for it
    MAP_CONFIRMED = "mapping_confirmed"  # the column choice the plan may use (Choice.key()), or None
    MAP_CHANGE = "mapping_change"  # True while the person changes a column choice that checked out
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
    PLAN_COLUMNS = "plan_every_column"
    LINK_READ = "link_read"  # the address has been read (once per session)
    LINK_PENDING = "link_pending"  # a link's settings waiting for the data they were made with
    LINK_PROBLEMS = "link_problems"
    HISTORY = "history"  # the last settings, oldest first, for 'Step back'
    STEP_BACK = "step_back"
    CLEAN = "clean_state"  # the settings as last opened, loaded or saved
    MARK_CLEAN = "mark_clean"  # the run's settings become the clean ones (after a load or a save)
    CONFIRM_LOAD = "confirm_load"  # a scenario file waiting for 'Load anyway'
    BEFORE_LOAD = "before_load"  # the settings before the last load, for 'Undo loading'


DATA_KEYS = (Key.BUDGET_PCT, Key.BUDGET_TOTAL, Key.BUDGET_TEXT, Key.TARGET_CPE, Key.RULE_TARGET)
"""Widgets whose value depends on the data: reset when another table is loaded."""
