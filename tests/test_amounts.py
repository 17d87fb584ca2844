"""Numbers as people write them: every convention read exactly, anything else left for validation to report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from budgetopt import units
from budgetopt.amounts import ambiguous, decimal_separator, parse_numbers, plain_text


@pytest.mark.parametrize("text, decimal, expected", [
    ("1200", ".", 1200), ("1200.50", ".", 1200.5), ("1200,50", ".", 1200.5),
    ("1.234.567,89", ".", 1234567.89), ("1,234,567.89", ",", 1234567.89),
    ("1 234 567,89", ".", 1234567.89), ("12\u00a0000", ".", 12000), ("1'234.50", ".", 1234.5),
    ("€ 12 000", ".", 12000), ("$1,200", ".", 1200), ("12000 EUR", ".", 12000), ("EUR12000", ".", 12000),
    ("£1,200.50", ".", 1200.5), ("Fr. 1'200", ".", 1200),
    ("1.234", ".", 1.234), ("1.234", ",", 1234), ("1,234", ".", 1234), ("1,234", ",", 1.234),
    ("0,300", ".", 0.3), ("1234,567", ".", 1234.567), ("12,34,567.5", ".", 1234567.5),
    ("-5", ".", -5), ("−5", ".", -5), ("(1,200)", ".", -1200), ("1.200,00-", ",", -1200), ("+7", ".", 7),
    ("1e6", ".", 1e6), ("1.5E-3", ".", 0.0015), ("  42  ", ".", 42),
])
def test_conventions(text, decimal, expected):
    assert parse_numbers(pd.Series([text]), decimal).iloc[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text", ["abc", "12 apples", "1.2.3,4.5", "1,23,4", "--5", "12-3", "inf", "nan", "1e999",
                                  "30%", "", "-", "٣", "1,2,3"])
def test_not_numbers_are_nan(text):
    assert math.isnan(parse_numbers(pd.Series([text]), ".").iloc[0])


def test_percent_only_where_allowed():
    s = pd.Series(["30%", "15 %", "0.2", "-10%"])
    assert parse_numbers(s, percent=True).tolist() == pytest.approx([0.3, 0.15, 0.2, -0.1])
    assert parse_numbers(s).isna().tolist() == [True, True, False, True]


def test_numbers_pass_through_and_booleans_are_not_numbers():
    assert parse_numbers(pd.Series([1.5, 2.0])).tolist() == [1.5, 2.0]
    assert parse_numbers(pd.Series([True, False])).isna().all()


def test_decimal_separator_follows_the_unambiguous_cells():
    assert decimal_separator(pd.DataFrame({"a": ["1.234,5", "7"], "b": ["1.234", "x"]})) == ","
    assert decimal_separator(pd.Series(["1,234.5", "1.234"])) == "."
    assert decimal_separator(pd.Series(["1.234", "1,234", "12"]), default=",") == ","
    assert decimal_separator(pd.Series(["1.234.567"])) == ","  # points between thousands: decimals are commas
    assert parse_numbers(pd.Series(["1.234", "1.234,5"])).tolist() == [1234, 1234.5]  # inferred from the column


def test_ambiguous_cells_are_flagged():
    assert ambiguous(pd.Series(["1.234", "1,234", "1.5", "1234", "12.345,6"])).tolist() == [
        True, True, False, False, False]


@settings(deadline=None, max_examples=40)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_plain_text_reads_back_exactly_under_either_convention(x):
    text = plain_text(pd.Series([x]))
    for decimal in (".", ","):
        assert parse_numbers(text, decimal).iloc[0] == x


PIECES = st.sampled_from([*"0123456789.,-+ %()eE€$'_", "EUR", "Fr.", "1.234", "1,234", "12", "abc", "\u00a0", "−"])


@settings(deadline=None, max_examples=300)
@given(st.lists(st.lists(PIECES, max_size=8).map("".join), min_size=1, max_size=40), st.sampled_from([".", ","]),
       st.booleans(), st.booleans())
def test_the_vectorised_lanes_read_every_cell_as_the_full_shapes_do(cells, decimal, percent, arrow):
    """Plain cells are read in one vectorised call, repeated cells once: the same numbers as every cell read by
    the full shapes (`_parse_shapes`), whatever the string storage."""
    from budgetopt.amounts import _parse_shapes

    column = pd.Series(cells * 20, dtype=object)  # repeated: read once per distinct cell
    fast = parse_numbers(column.astype("str") if arrow else column, decimal, percent=percent)
    full = _parse_shapes(column, decimal, percent)
    pd.testing.assert_series_equal(fast, full.where(full.abs() < math.inf), check_names=False)


@settings(deadline=None, max_examples=200)
@given(st.lists(st.from_regex(r"-?[0-9]{0,330}(\.[0-9]{0,330})?", fullmatch=True), min_size=1, max_size=20),
       st.booleans())
@example(["1" * 301, "1" * 300, "." + "1" * 301, "-" + "9" * 300 + "." + "9" * 300, "1" * 300 + "%"], True)
@example(["1" * 301, "-" + "1" * 300, "0" * 299 + "." + "5", "9" * 310 + ".5"], False)
def test_plain_cells_read_as_pythons_float_and_match_the_bounded_pattern(cells, arrow):
    """Digits, a sign and a point, however long: the bounded plain pattern decides which are plain (at most 300
    digits on a side), and a plain cell reads as Python's float (correctly rounded)."""
    import re

    from budgetopt.amounts import _PLAIN_NUMBER, _plain

    column = pd.Series(cells, dtype="str" if arrow else object)
    text = column.astype("str" if arrow else "string[python]").str.strip()
    expected = np.array([re.fullmatch(_PLAIN_NUMBER, c) is not None for c in cells])
    assert (_plain(text) == expected).all()
    plain = [c for c, p in zip(cells, expected, strict=True) if p and not c.endswith("%")]
    if plain:
        read = parse_numbers(pd.Series(plain, dtype=object), ".", overflow=True).to_numpy()
        assert read.tolist() == [float(c) for c in plain]


def test_words_of_four_letters_are_no_numbers_but_currency_codes_are_read():
    cells = pd.Series(["EURO 12", "12 EUR", "Touchpoint 12", "1e5", "USD 1,200.50", "eur 7", "EURUSD 3", "Fr. 40"])
    read = parse_numbers(cells, ".")
    assert read.isna().tolist() == [True, False, True, False, False, False, True, False]
    assert read.dropna().tolist() == [12.0, 1e5, 1200.5, 7.0, 40.0]


def test_remembered_reads_each_column_once_and_a_changed_column_anew(monkeypatch):
    """Inside `remembered`, the conventions and the numbers of a column come from one reading of its cells; a
    column changed meanwhile (a new Arrow array) is read again; outside it, every call reads."""
    from budgetopt import amounts
    from budgetopt.amounts import read_conventions, remembered

    readings = []
    read = amounts._read_lanes
    monkeypatch.setattr(amounts, "_read_lanes", lambda series: readings.append(len(series)) or read(series))
    frame = pd.DataFrame({"spend": [f"{i}.234" for i in range(50)], "name": [f"tp {i}" for i in range(50)]},
                         dtype="str")
    with remembered():
        decimal, either = read_conventions(frame)
        spend = parse_numbers(frame["spend"], decimal)
        assert len(readings) == 2  # one reading per column
        changed = frame["spend"].copy()
        changed.iloc[0] = "7,5"
        assert parse_numbers(changed, ",").iloc[0] == 7.5 and len(readings) == 3
    assert decimal == "." and either[1:, 0].all() and not either[0, 0] and not either[:, 1].any()  # 0.234 proves "."
    assert spend.tolist() == [i + 0.234 for i in range(50)]
    parse_numbers(frame["spend"], decimal)
    parse_numbers(frame["spend"], decimal)
    assert len(readings) == 5


@pytest.mark.parametrize("cells, plain", [
    (["1200", "-3.75", ".5", "-.5", "-0", "007"], True),
    (["1200", "5."], False),  # a trailing point is no plain number
    (["1200", "-"], False), (["1-2", "3"], False), (["1..2"], False), (["1200", ""], False),
    (["1e5", "2"], False), (["30%", "2"], False), (["9" * 301], False), (["9" * 300], True),
])
def test_a_column_of_plain_numbers_is_read_by_one_cast_as_the_patterns_read_it(cells, plain):
    """Made of digits, a point and a leading minus only, a column whose cells Arrow's cast reads whole is plain
    cell by cell (the patterns agree), and its values are those the plain lane reads; anything else: None."""
    import pyarrow as pa

    from budgetopt.amounts import _all_plain, _plain, _plain_floats

    arrow = pa.array(cells, pa.large_string())
    values = _all_plain(arrow)
    assert (values is not None) == plain
    if plain:
        assert _plain(arrow).all()
        assert values.tolist() == _plain_floats(pd.Series(cells, dtype="str")).tolist()


@pytest.mark.parametrize("text, expected", [
    ("9000000", 9e6), ("9,000,000", 9e6), ("9.000.000", 9e6), ("9 000 000 EUR", 9e6), ("9000000.50", 9000000.5),
    ("272,426,326", 272426326), ("90.000", 90000), ("90,000", 90000), ("1,234.5", 1234.5), ("0.5", 0.5),
    ("-5", -5), ("€ 12 000", 12000), ("1.234", 1234), ("12.34", 12.34)])
def test_an_amount_typed_in_a_box_reads_as_meant(text, expected):
    assert units.parse_amount(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1e400", "nine"])
def test_what_is_not_an_amount_says_so(text):
    with pytest.raises(ValueError, match="amount"):
        units.parse_amount(text)


@settings(deadline=None, max_examples=300)
@given(st.from_regex(units._PLAIN_AMOUNT, fullmatch=True))
@example("0")
@example("-0")
@example("1,234")
@example("999,999,999,999,999.99")
@example("123456789012345.5")
def test_an_amount_as_the_budget_box_shows_it_reads_as_the_column_reader_reads_it(text):
    """The quick read of a plain amount (float alone) gives what the column reader gives, to the bit."""
    quick, full = units.parse_amount(text), units._read_amount(text)
    assert quick == full and math.copysign(1, quick) == math.copysign(1, full)


@settings(max_examples=60, deadline=None)
@given(words=st.lists(st.text(alphabet="ab ,.1", max_size=3), min_size=1, max_size=6),
       picks=st.lists(st.integers(0, 5), min_size=1, max_size=40), late=st.booleans(), cut=st.integers(0, 3000),
       missing=st.booleans())
def test_a_long_columns_distinct_cells_are_those_pandas_factorises(words, picks, late, cut, missing):
    """A long column of repeated text (Arrow, in chunks, sliced): the codes and distinct cells `_read_distinct` gives
    are pandas' own factorisation, also when a cell first appears after the first cells it looks up the others among
    (`late`) and when a cell is missing."""
    import pyarrow as pa

    from budgetopt import amounts

    cells = [words[p % len(words)] for p in picks]
    column = (cells * (10_000 // len(cells) + 1))[:10_000]
    if late:
        column[9_000] = "a new cell"
    if missing:
        column[5_000] = None
    arrow = pa.array(column, pa.large_string())
    chunked = pa.chunked_array([arrow.slice(0, 4_000), arrow.slice(4_000)]).slice(cut)
    series = pd.Series(pd.arrays.ArrowStringArray(chunked, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
    codes, distinct = amounts._read_distinct(series)
    expected_codes, expected = pd.factorize(series, use_na_sentinel=False)
    assert codes is not None
    assert np.array_equal(codes, expected_codes)
    assert distinct.dtype == series.dtype
    assert distinct.equals(pd.Series(expected, dtype=series.dtype))
