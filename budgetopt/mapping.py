"""Which column of the user's file is which column of the touchpoint table.

Headers are compared after `normalise_header` (case, accents, spaces, underscores, punctuation, a unit in
brackets and currency words do not matter) against each column's name and its synonyms. A person can
say it explicitly (`--map spend=Cost`, a TOML mapping file, the app's mapping step); several number
columns can be summed into one (`engaged = "Leads + Chats"`).
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from . import schema as S
from .amounts import TEXT, parse_numbers, plain_text
from .errors import InputError, Problem

SYNONYMS: dict[str, tuple[str, ...]] = {
    S.TOUCHPOINT: ("touchpoint name", "touch point", "touchpoint id", "name", "activity", "initiative",
                   "campaign", "campaign name"),
    S.FUNCTION: ("department", "dept", "owner", "owning function", "business function", "team",
                 "budget owner", "function owner"),
    S.CHANNEL: ("medium", "media", "channel type", "channel name"),
    S.STAGE: ("journey stage", "customer journey stage", "funnel stage", "phase"),
    S.SPEND: ("cost", "costs", "amount spent", "amount", "budget", "spend amount", "actual spend", "total spend",
              "media spend", "expense", "expenses", "expenditure", "investment"),
    S.ENGAGED: ("engaged customers", "customers engaged", "engagements", "engaged users", "engaged contacts"),
    S.CPE: ("cost per engaged customer", "cost per engagement", "cost per engaged"),
    S.MIN_SPEND: ("minimum spend", "min", "minimum", "floor", "spend floor"),
    S.MAX_SPEND: ("maximum spend", "max", "maximum", "cap", "spend cap"),
    S.LOCKED: ("lock", "fixed", "frozen"),
    S.MAX_CHANGE: ("maximum change", "max change pct", "change limit"),
    S.CURVE: ("response curve", "curve type"),
    S.ELASTICITY: ("spend elasticity",),
    S.SATURATION: ("saturation level",),
    S.VALUE: ("weight", "value per customer", "value per engaged customer"),
}
"""Other names people give the columns. Plan columns (`current_spend`, `proposed_spend`) are deliberately
not here: an exported plan is recognised as such elsewhere."""

TARGETS = tuple(c.name for c in S.COLUMNS)

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_CURRENCY_WORDS = re.compile(
    r"(?:\b(?:in|en)\s+)?(?:[€$£¥₹]|\b(?:eur|usd|gbp|chf|jpy|sek|nok|dkk|pln|cad|aud|inr)\b)", re.IGNORECASE
)


def normalise_header(header: object) -> str:
    """`'Amount spent (EUR)'` -> `'amount_spent'`: lower case, no accents, no unit, words joined by `_`."""
    return _normalised(str(header)[:200])  # no header is longer; the cut keeps this fast


@functools.lru_cache(maxsize=4096)
def _normalised(header: str) -> str:
    """normalise_header of a text, remembered: finding a file's header looks at the same cells again and again."""
    text = _BRACKETED.sub(" ", header)
    text = _CURRENCY_WORDS.sub(" ", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").casefold()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


_NAMES: dict[str, tuple[int, str]] = {}  # normalised name -> (rank, target); rank 0: the column's own name
for _target in TARGETS:
    _NAMES[normalise_header(_target)] = (0, _target)
for _target, _words in SYNONYMS.items():
    for _word in _words:
        _NAMES.setdefault(normalise_header(_word), (1, _target))


def known_header(header: object) -> str | None:
    """The touchpoint column a header names (by its own name or a synonym), or None."""
    hit = _NAMES.get(normalise_header(header))
    return hit[1] if hit else None


def suggest_mapping(headers: Sequence[object]) -> dict[str, list[str]]:
    """For each touchpoint column, the headers that could be it, best first.

    A header named exactly like the column (after normalising) beats synonyms; more than one
    candidate means the choice is ambiguous and a person has to make it.
    """
    found: dict[str, dict[int, list[str]]] = {}
    for header in headers:
        hit = _NAMES.get(normalise_header(header))
        if hit:
            rank, target = hit
            found.setdefault(target, {}).setdefault(rank, []).append(str(header))
    return {t: ranks[min(ranks)] for t in TARGETS if (ranks := found.get(t))}


def parse_map_items(items: Iterable[str], source: str = "--map") -> dict[str, str]:
    """`["spend=Cost", "engaged=Leads + Chats"]` -> `{"spend": "Cost", "engaged": "Leads + Chats"}`."""
    out: dict[str, str] = {}
    problems = []
    for item in items:
        target, sep, header = item.partition("=")
        if not sep or not target.strip() or not header.strip():
            problems.append(Problem(None, None, item, "is not of the form COLUMN=HEADER",
                                    'write e.g. --map spend=Cost or --map engaged="Leads + Chats"', source))
            continue
        out[target.strip()] = header.strip().strip('"').strip("'")
    if problems:
        raise InputError(problems, source)
    return out


def _split(spec: str | Sequence[str], headers: Sequence[str]) -> list[str]:
    """One header, or several to be summed: a list, or 'A + B' when no header is literally called that."""
    if not isinstance(spec, str):
        return [str(h).strip() for h in spec]
    if spec in headers or "+" not in spec:
        return [spec.strip()]
    return [part.strip() for part in spec.split("+")]


def _find(wanted: str, headers: Sequence[str]) -> str | None:
    """The header the user meant: exact, else equal after normalising (if only one is)."""
    if wanted in headers:
        return wanted
    same = [h for h in headers if normalise_header(h) == normalise_header(wanted) and normalise_header(h)]
    return same[0] if len(same) == 1 else None


def resolve_mapping(
    headers: Sequence[object],
    explicit: Mapping[str, str | Sequence[str]] | None = None,
    source: str | None = None,
) -> dict[str, list[str]]:
    """The full mapping, touchpoint column -> the header(s) it comes from; raise InputError listing every problem.

    Explicit entries win; every other column is taken from `suggest_mapping` and must be unambiguous.
    """
    headers = [str(h) for h in headers]
    problems: list[Problem] = []
    mapping: dict[str, list[str]] = {}
    numbers = set(S.NUMBER_COLUMNS)
    explicit = {(normalise_header(t) if normalise_header(t) in TARGETS else t): v for t, v in (explicit or {}).items()}
    for target, spec in explicit.items():
        if target not in TARGETS:
            close = difflib.get_close_matches(str(target), TARGETS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(Problem(None, str(target), None, "is not a column budgetopt uses",
                                    f"{hint}map one of: {', '.join(TARGETS)}", source))
            continue
        parts = _split(spec, headers)
        if len(parts) > 1 and target not in numbers:
            problems.append(Problem(None, target, " + ".join(parts), "only number columns can be summed",
                                    f"map {target} to a single column", source))
            continue
        found = []
        for part in parts:
            header = _find(part, headers)
            if header is None:
                close = difflib.get_close_matches(part, headers, n=1, cutoff=0.4)
                hint = f"the closest header is '{close[0]}'" if close else "the headers are: " + ", ".join(headers)
                problems.append(Problem(None, target, part, "no column in the file has this header",
                                        f"check the spelling; {hint}", source))
            else:
                found.append(header)
        if len(found) == len(parts):
            mapping[target] = found
    used = [h for hs in mapping.values() for h in hs]
    for header in sorted({h for h in used if used.count(h) > 1}):
        targets = [t for t, hs in mapping.items() if header in hs]
        problems.append(Problem(None, header, None, f"is mapped to {' and '.join(targets)}",
                                "map each column of the file to one touchpoint column", source))
    for target, candidates in suggest_mapping([h for h in headers if h not in used]).items():
        if target in mapping or target in explicit:
            continue
        if len(candidates) > 1:
            named = " and ".join(f"'{c}'" for c in candidates)
            problems.append(Problem(None, target, None, f"columns {named} could each be {target}",
                                    f'say which one to use, e.g. --map {target}="{candidates[0]}", '
                                    "or rename the others", source))
        else:
            mapping[target] = candidates
    if problems:
        raise InputError(problems, source)
    return {t: mapping[t] for t in TARGETS if t in mapping}


def column_label(target: str, headers: Sequence[str]) -> str:
    """How a touchpoint column is named to the user: their header, and ours when it differs."""
    shown = " + ".join(headers)
    return target if len(headers) == 1 and normalise_header(shown) == target else f"{shown} ({target})"


def apply_mapping(raw: pd.DataFrame, mapping: Mapping[str, str | Sequence[str]]) -> pd.DataFrame:
    """The raw table with mapped columns renamed to touchpoint column names and summed columns added up.

    Columns not mapped keep their header (they become tag columns), except one whose header would
    collide with a mapped column's name: it is left out, with a line in `.attrs["notices"]`.
    Summed cells that are not all numbers keep their text (`Leads='12' + Chats='x'`) so that
    validation reports them.
    """
    headers = [str(h) for h in raw.columns]
    columns: dict[str, pd.Series] = {}
    used: set[str] = set()
    for target, spec in mapping.items():
        parts = _split(spec, headers)
        used.update(parts)
        columns[target] = raw[parts[0]] if len(parts) == 1 else _sum(raw[parts], raw.attrs.get("decimal"))
    notices = list(raw.attrs.get("notices", []))
    for header in headers:
        target = normalise_header(header)
        if header in used:
            continue
        if target in mapping:
            source = " + ".join(_split(mapping[target], headers))
            notices.append(f"column '{header}' was not used: {target} comes from '{source}'")
            continue
        columns[header] = raw[header]
    out = pd.DataFrame(columns, index=raw.index)
    out.attrs = {**raw.attrs, "notices": notices}
    return out


def _sum(parts: pd.DataFrame, decimal: str | None) -> pd.Series:
    """Row sums of several number columns as text; rows with a part that is not a number keep their text."""
    cells = parts.astype(TEXT).fillna("")
    values = pd.concat([parse_numbers(cells[p], decimal) for p in cells.columns], axis=1)
    blank = (cells.apply(lambda column: column.str.strip()) == "").to_numpy()
    good = (values.notna().to_numpy() | blank).all(axis=1)
    total = pd.Series(values.sum(axis=1, min_count=1).to_numpy(), index=parts.index)
    shown = pd.Series("", index=parts.index, dtype=TEXT)
    for i, name in enumerate(cells.columns):  # e.g. Leads='12' + Chats='x'
        shown = shown + ("" if i == 0 else " + ") + f"{name}='" + cells[name] + "'"
    return plain_text(total).where(good, shown).where(~blank.all(axis=1), "")


def find_columns(
    headers: Sequence[object],
    vocabulary: Mapping[str, Sequence[str]],
    explicit: Mapping[str, str] | None = None,
    source: str | None = None,
) -> dict[str, str]:
    """For each target of a vocabulary (target -> its synonyms), the one header it comes from.

    For readers of other tables than the touchpoint table (histories, response curves), which bring their own
    targets and synonyms. Explicit entries win (`{"date": "Reporting starts"}`, the header exact or equal after
    `normalise_header`); else a header named like the target beats one named like a synonym, and two headers of
    the same standing are an error asking the user to choose. Targets no header names are left out. Raises
    InputError listing every problem (unknown targets, headers not in the file, ambiguities).
    """
    headers = [str(h) for h in headers]
    problems: list[Problem] = []
    found: dict[str, str] = {}
    for target, header in (explicit or {}).items():
        if target not in vocabulary:
            close = difflib.get_close_matches(str(target), list(vocabulary), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(Problem(None, str(target), None, "is not a column of this table",
                                    f"{hint}map one of: {', '.join(vocabulary)}", source))
            continue
        hit = _find(str(header), headers)
        if hit is None:
            close = difflib.get_close_matches(str(header), headers, n=1, cutoff=0.4)
            hint = f"the closest header is '{close[0]}'" if close else "the headers are: " + ", ".join(headers)
            problems.append(Problem(None, target, header, "no column in the file has this header",
                                    f"check the spelling; {hint}", source))
        else:
            found[target] = hit
    taken = set(found.values())
    normalised = {h: normalise_header(h) for h in headers if h not in taken}
    for target, synonyms in vocabulary.items():
        if target in found or target in (explicit or {}):
            continue
        own = normalise_header(target)
        others = {normalise_header(s) for s in synonyms}
        best = [h for h, n in normalised.items() if n == own] or [h for h, n in normalised.items() if n in others]
        if len(best) > 1:
            named = " and ".join(f"'{h}'" for h in best)
            problems.append(Problem(None, target, None, f"columns {named} could each be {target}",
                                    f'say which one to use, e.g. --map {target}="{best[0]}"', source))
        elif best:
            found[target] = best[0]
            normalised.pop(best[0])
    if problems:
        raise InputError(problems, source)
    return found
