"""Every validation rule: the message names the row (as the user sees it), the column and the fix."""

from __future__ import annotations

import pandas as pd
import pytest

import budgetopt as bo

GOOD = {"touchpoint": ["TV", "Chat"], "function": ["marketing", "service"], "channel": ["tv", "chat"],
        "spend": ["1000", "200"], "engaged": ["100", "50"]}


def problems(**changes) -> list[bo.Problem]:
    raw = pd.DataFrame({**GOOD, **changes})
    with pytest.raises(bo.InputError) as info:
        bo.validate_touchpoints(raw, source="x.csv")
    return info.value.problems


def only(problems_: list[bo.Problem], column: str) -> bo.Problem:
    hits = [p for p in problems_ if p.column == column]
    assert hits, problems_
    return hits[0]


def test_good_table_passes():
    tp = bo.validate_touchpoints(pd.DataFrame(GOOD))
    assert list(tp["spend"]) == [1000, 200]
    assert list(tp["stage"]) == ["unassigned", "unassigned"]


@pytest.mark.parametrize("column, values, row, words", [
    ("spend", ["1000", "abc"], 3, "not a number"),
    ("spend", ["-5", "200"], 2, "negative"),
    ("spend", ["", "200"], 2, "empty"),
    ("engaged", ["0", "50"], 2, "must engage someone"),
    ("touchpoint", ["TV", "tv"], 2, "more than once"),
    ("touchpoint", ["", "Chat"], 2, "empty"),
    ("function", ["marketing", " "], 3, "empty"),
    ("stage", ["awareness", "buying"], 3, "not a known stage"),
    ("locked", ["maybe", ""], 2, "true or false"),
    ("curve", ["cubic", ""], 2, "not a known curve"),
    ("elasticity", ["1.5", ""], 2, "at most 1"),
    ("value", ["0", ""], 2, "worthless"),
])
def test_each_rule_names_row_and_column(column, values, row, words):
    p = only(problems(**{column: values}), column)
    assert p.row == row
    assert words in p.message
    assert p.fix
    assert f"row {row}" in str(p) and f"column '{column}'" in str(p) and "x.csv" in str(p)


def test_floor_above_cap_and_spend_outside_its_limits():
    ps = problems(min_spend=["900", "300"], max_spend=["800", ""])
    assert only(ps, "min_spend").row == 2
    assert any(p.column == "spend" and p.row == 3 and "below" in p.message for p in ps)
    assert any(p.column == "spend" and p.row == 2 and "above" in p.message for p in ps)


def test_saturating_needs_a_level_above_today():
    p = only(problems(curve=["saturating", "saturating"], saturation=["", "40"]), "saturation")
    assert p.row == 2
    assert len([q for q in problems(curve=["saturating", "saturating"], saturation=["", "40"])
                if q.column == "saturation"]) == 2


def test_missing_columns_name_the_closest_header():
    raw = pd.DataFrame({"touchpoint": ["a"], "function": ["f"], "channel": ["c"], "spnd": ["1"], "engaged": ["1"]})
    with pytest.raises(bo.InputError) as info:
        bo.validate_touchpoints(raw)
    p = info.value.problems[0]
    assert p.column == "spend" and "spnd" in p.fix


def test_cpe_instead_of_engaged_and_a_clash_between_them():
    tp = bo.validate_touchpoints(pd.DataFrame({**{k: v for k, v in GOOD.items() if k != "engaged"},
                                               "cpe": ["10", "4"]}))
    assert list(tp["engaged"]) == [100, 50]
    p = only(problems(cpe=["10", "5"]), "cpe")
    assert p.row == 3 and "disagrees" in p.message


def test_every_problem_is_reported_at_once():
    ps = problems(spend=["x", "-1"], stage=["nowhere", "awareness"])
    assert {(p.row, p.column) for p in ps} >= {(2, "spend"), (3, "spend"), (2, "stage")}


def test_as_table_lists_row_column_value_fix():
    with pytest.raises(bo.InputError) as info:
        bo.validate_touchpoints(pd.DataFrame({**GOOD, "spend": ["x", "1"]}), source="x.csv")
    t = info.value.as_table()
    assert list(t.columns) == ["file", "row", "column", "value", "problem", "fix"]
    assert t.iloc[0]["row"] == 2 and t.iloc[0]["value"] == "x"


def test_new_touchpoint_needs_cpe_and_cap():
    ps = problems(spend=["1000", "0"], engaged=["100", ""])
    assert any(p.row == 3 and p.column == "cpe" for p in ps)
    assert any(p.row == 3 and p.column == "max_spend" for p in ps)


def test_an_unreadable_engaged_is_reported_once_not_also_as_empty():
    ps = [p for p in problems(engaged=["abc", "50"]) if p.column == "engaged"]
    assert [(p.row, p.message) for p in ps] == [(2, "is not a number")]


def test_a_cost_per_engaged_customer_out_of_range_shows_spend_over_engaged():
    """Only the rows out of range are shown, as 'spend / engaged' (the numbers as read)."""
    found = problems(spend=["10000000000", "200"], engaged=["1", "50"])
    assert [(p.row, p.column, p.value) for p in found] == [(2, "engaged", "10000000000.0 / 1.0")]
    assert "spend / engaged) outside the supported range" in found[0].message
