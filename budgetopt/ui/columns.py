"""The upload's column-mapping step: which header of the person's file is which touchpoint column (no Streamlit).

The page pre-fills every choice from `suggest_mapping` (a header it recognises; nothing when two headers could
both be the column: the person chooses), lets the person change each, and hands the choices to
`to_touchpoints` as an explicit mapping. A header the page suggested for a column the person left empty is
left out of the table, so leaving a column empty means empty (and not "guess again").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .. import schema as S
from ..ingest import RawTable
from ..mapping import suggest_mapping

MAIN = (S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, S.STAGE, S.SPEND, S.ENGAGED, S.CPE)
"""The columns asked for first: the required ones, the stage, and the two ways to give engagement."""
OPTIONAL = tuple(c.name for c in S.COLUMNS if c.name not in MAIN)
"""Limits, curves and value: asked for below the main ones."""
ASKED = (*MAIN, *OPTIONAL)
"""Every touchpoint column the page asks for, in the order it asks."""
SUMMABLE = frozenset(S.NUMBER_COLUMNS)
"""Number columns: several headers may be chosen and are added up (Leads + Chats = engaged)."""
REQUIRED = frozenset(S.REQUIRED)
DESCRIPTION = {c.name: c.meaning for c in S.COLUMNS}


def initial_choices(headers: Sequence[str]) -> dict[str, list[str]]:
    """For every touchpoint column, the header(s) to pre-select: the one recognised header, else none."""
    suggested = suggest_mapping(headers)
    return {target: list(suggested.get(target, [])) if len(suggested.get(target, [])) == 1 else []
            for target in ASKED}


def ambiguous(headers: Sequence[str]) -> dict[str, list[str]]:
    """Columns that more than one header could be: the person has to choose."""
    return {target: found for target, found in suggest_mapping(headers).items() if len(found) > 1}


@dataclass(frozen=True)
class Choice:
    """The mapping a person chose, ready for `to_touchpoints`, and the headers it leaves out."""

    mapping: dict[str, list[str]]
    left_out: tuple[str, ...]

    def key(self) -> tuple:
        """A hashable form (for caching the validated table)."""
        return tuple((t, tuple(h)) for t, h in self.mapping.items()), self.left_out


def choose(headers: Sequence[str], choices: Mapping[str, Sequence[str]]) -> Choice:
    """The explicit mapping from the widgets' values; headers suggested for a column left empty are left out."""
    mapping = {target: list(chosen) for target, chosen in choices.items() if chosen}
    used = {h for chosen in mapping.values() for h in chosen}
    suggested = suggest_mapping(headers)
    left_out = sorted({h for target, found in suggested.items() if target not in mapping for h in found} - used)
    return Choice(mapping, tuple(left_out))


def narrowed(table: RawTable, left_out: Sequence[str]) -> RawTable:
    """The table without the headers left out (with a notice for each, so the person sees it happened)."""
    if not left_out:
        return table
    notices = [*table.notices, *(f"column '{h}' was not used: no touchpoint column is mapped to it" for h in left_out)]
    return replace(table, data=table.data.drop(columns=list(left_out)), notices=notices)

