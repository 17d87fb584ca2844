"""Pieces every part of the page draws the same way: text from the data shown as typed, headline cards, results
computed on a button, and the current settings as a scenario file."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from pathlib import Path

import pandas as pd
import streamlit as st

from ...errors import BudgetOptError
from ...scenario import Scenario
from .. import cached, library, report
from .state import Key

CARDS_PER_ROW = 5
"""More cards than this go in two even rows: six do not fit a 1,440 px screen beside the sidebar uncut."""


def md(text: str) -> str:
    """Text shown through Markdown as typed: no emphasis, links or formulas from names in the data."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~$])", r"\\\1", text)


def cards(shown: list[report.Card]) -> None:
    """Headline figures as bordered cards, at most CARDS_PER_ROW to a row."""
    if len(shown) > CARDS_PER_ROW:
        half = (len(shown) + 1) // 2
        cards(shown[:half])
        cards(shown[half:])
        return
    for column, card in zip(st.columns(len(shown)), shown, strict=True):
        column.metric(card.label, card.value, card.delta, card.delta_color, help=card.help, border=True,
                      delta_arrow="off" if card.delta_color == "off" else "auto")


def result_key(touchpoints: pd.DataFrame, scenario: Scenario) -> tuple[str, str]:
    """What a long result depends on: the table and the scenario."""
    return cached.digest(touchpoints), scenario.model_dump_json()


def on_demand(kind: str, result_key: Hashable, label: str, compute: Callable, *, key: str, working: str,
              auto: bool = False, steps: bool = True, help: str | None = None) -> object | None:
    """A result this session already has, or a button that computes it (with a progress bar) and remembers it.

    `compute(progress)` gets a callback `progress(done, total)` when `steps`; otherwise a spinner turns."""
    done = cached.recall(kind, result_key)
    if done is not None:
        return done
    slot = st.empty()
    if not (auto or slot.button(label, key=key, help=help)):
        return None
    slot.empty()  # the button has done its work; the result takes its place
    try:
        if steps:
            bar = st.progress(0.0, text=f"{working}...")
            value = compute(progress=lambda n, total: bar.progress(n / total if total else 1.0,
                                                                   text=f"{working}: {n:,} of {total:,}"))
            bar.empty()
        else:
            with st.spinner(f"{working}..."):
                value = compute(None)
    except BudgetOptError as exc:
        st.error(md(str(exc)))
        return None
    cached.keep(kind, result_key, value)
    return value


def to_save(scenario: Scenario, folder: Path) -> Scenario:
    """The current settings as they go into a file: the name and description typed, the sample's path if shown."""
    ss = st.session_state
    sample = ss.get(Key.SAMPLE)
    return library.for_saving(scenario, ss.get(Key.SAVE_NAME) or "",
                              ss.get(Key.SAVE_DESCRIPTION, scenario.description) or "",
                              Path(sample) if sample else None, folder)
