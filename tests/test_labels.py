"""Labels that differ only by case or spaces are one (touchpoints.label_key, fold_labels): the vectorised versions
against their row-by-row definitions, on labels with every kind of whitespace and case that casefold treats apart."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from budgetopt.touchpoints import fold_labels, label_key

CHARACTERS = list("aAbBxZé-_ßẞİıΣσς \t\n\x0b\x0c\r\x1c\x85\xa0\u1680\u2000\u2005\u200a\u200b\u2028\u202f\u3000") + ["ﬁ"]
WORDS = ["", "Marketing", "marketing", " marketing ", "MARKETING", "Sales", "sales  team", "Sales\tTeam", "ß", "SS",
         "Straße", "STRASSE", "a\u3000b", "a b", "x"]


def key_by_definition(labels: pd.Series) -> pd.Series:
    """casefold(strip(label) with each run of whitespace as one space), by Python's re on every label."""
    return labels.astype("string").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()


def fold_by_definition(labels: pd.Series, column: str, notices: list[str]) -> pd.Series:
    key = key_by_definition(labels)
    first = labels.groupby(key.to_numpy(), sort=False).transform("first")
    changed = labels.ne(first) & labels.ne("")
    if changed.any():
        pairs = sorted(set(zip(labels[changed].astype(str), first[changed].astype(str), strict=True)))
        shown = ", ".join(f"'{was}' -> '{now}'" for was, now in pairs[:5]) + (" ..." if len(pairs) > 5 else "")
        remain = int(key[labels.ne("")].nunique())
        notices.append(f"{int(changed.sum())} {column} label(s) that differ only by case or spaces were merged "
                       f"into the first spelling ({shown}); {remain} {column}{'s' if remain != 1 else ''} remain"
                       f"{'s' if remain == 1 else ''}")
    return first.astype(object)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(st.sampled_from(CHARACTERS), max_size=8)), max_size=12), st.booleans())
def test_the_label_key_is_its_definition(values, as_text):
    labels = pd.Series(values, dtype="string" if as_text else object)
    pd.testing.assert_series_equal(label_key(labels), key_by_definition(labels))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=15), st.integers(0, 3))
def test_folding_keeps_the_first_spelling_and_says_so_as_defined(values, start):
    labels = pd.Series(values, dtype=object, index=pd.RangeIndex(start, start + len(values)), name="function")
    ours, defined = [], []
    pd.testing.assert_series_equal(fold_labels(labels, "function", ours), fold_by_definition(labels, "function",
                                                                                             defined))
    assert ours == defined


def test_folding_by_hand():
    notices: list[str] = []
    folded = fold_labels(pd.Series(["Marketing", "sales", " MARKETING", "Sales ", "pr"]), "function", notices)
    assert folded.tolist() == ["Marketing", "sales", "Marketing", "sales", "pr"]
    assert notices == ["2 function label(s) that differ only by case or spaces were merged into the first spelling "
                       "(' MARKETING' -> 'Marketing', 'Sales ' -> 'sales'); 3 functions remain"]


@settings(deadline=None, max_examples=300)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from([*"aB1 -", "\t", "é", "\x7f", "~"]),
                                             max_size=6)), min_size=1, max_size=6), st.integers(0, 2))
def test_the_quick_look_at_plain_labels_agrees_with_the_label_by_label_one(labels, cut):
    """`_all_plain` (one look at the bytes) says what `_plain(...).all()` says: missing labels, two spaces within a
    label or across two, bytes outside printable ASCII, slices of an array."""
    import pyarrow as pa

    from budgetopt import touchpoints as tp

    arrow = pa.chunked_array([pa.array(labels, pa.string()).slice(min(cut, len(labels) - 1))])
    assert tp._all_plain(arrow) == bool(tp._plain(arrow).all())


@settings(deadline=None, max_examples=300)
@given(st.lists(st.sampled_from(["TV", "tv", "Chat", "chat ", "Mail", "", "é", "É"]), min_size=1, max_size=12),
       st.integers(0, 3), st.booleans())
def test_names_used_twice_are_those_pandas_finds_twice(names, cut, chunked):
    """`_used_twice` on Arrow text (its distinct keys counted first, then each key's rows) marks exactly the names
    `duplicated(keep=False)` marks: none repeated, some, all; sliced and chunked arrays."""
    import numpy as np
    import pyarrow as pa

    from budgetopt import touchpoints as tp

    arrow = pa.array(names, pa.large_string()).slice(min(cut, len(names) - 1))
    if chunked and len(arrow) > 1:
        arrow = pa.chunked_array([arrow.slice(0, 1), arrow.slice(1)])
    key = pd.Series(pd.arrays.ArrowStringArray(arrow))
    np.testing.assert_array_equal(tp._used_twice(key), key.astype(object).duplicated(keep=False).to_numpy(bool))
