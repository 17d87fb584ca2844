"""validate_touchpoints reads a file's cells faster than it reads other cells: Arrow's kernels on Arrow text, each
distinct cell of a repeated column read once, the distinct and stripped cells amounts remembers while a file is
read. The same cells as Python objects take the general way (pandas' string methods cell by cell). Both ways must
give the same clean table, notices and problems, on tables with every kind of problem."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt import amounts
from budgetopt import schema as S
from budgetopt.touchpoints import fold_labels

LABELS = ["marketing", "Marketing", " MARKETING", "service", "sales  team", "Sales\tTeam", "Straße", "STRASSE",
          "a\u3000b", "", " ", "'=x", "''=x", "'abc", "=SUM(A1)", "unassigned", "Unassigned ", "x\u00a0", "ß"]
NUMBERS = ["", " ", "0", "-5", "12", "1000", "1.5", "1,234", "1.234,5", "€ 12 000", "30%", "(12)", "1e400", "abc",
           "0.000000001", "2e13", "5e9"]
POOLS = {  # the first cells of each pool are good ones
    S.SPEND: ["100", "2500.5", "40", *NUMBERS], S.ENGAGED: ["10", "300", "4", *NUMBERS],
    S.STAGE: ["", "awareness", "Consideration ", "unassigned", "UNASSIGNED", "bogus", "'=x"],
    S.CURVE: ["", "power", "Linear", "saturating", "hill", " HILL ", "tabulated", "bogus"],
    S.LOCKED: ["", "yes", "no", "True", "x", "maybe", " T "],
    S.CURVE_SOURCE: ["", "fitted", "given", " Assumed", "bogus"],
    S.SATURATION: ["", "500", "5", "0"], S.HALF_SATURATION: ["", "800", "0"], S.SHAPE: ["", "2", "0.2"],
    S.CURVE_ENGAGED: ["", "50", "0"], S.CARRYOVER: ["", "0.3", "0.95"], S.CPE: ["", "", "10", "0", "1e-9"],
    S.MAX_SPEND: ["", "5000", "10"], S.MIN_SPEND: ["", "0", "2000"], S.ELASTICITY: ["", "0.5", "1.5"]}
GOOD = {S.SPEND: 3, S.ENGAGED: 3, S.STAGE: 4, S.CURVE: 3, S.LOCKED: 3, S.CURVE_SOURCE: 3}
OPTIONAL = [*POOLS, "digital", "Region"]


@st.composite
def tables(draw) -> dict[str, list[object]]:
    """Columns of text cells (NaN for a missing one), some cells drawn from all kinds of problems; 64 rows or more
    in one table of three, so that amounts reads its repeated columns once per distinct cell."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    n, repeat = rng.randint(1, 6), rng.choice([1, 1, 12, 30])
    chaos = rng.choice([0.0, 0.0, 0.05, 0.3])
    columns = [c for c in (S.TOUCHPOINT, S.FUNCTION, S.CHANNEL, S.SPEND) if rng.random() < 0.97]
    columns += rng.sample([c for c in OPTIONAL if c != S.SPEND], rng.randint(0, 6))
    table = {}
    for name in columns:
        pool = POOLS.get(name, LABELS)
        good = pool[:GOOD.get(name, 1 if name in POOLS else 4)]
        cells = [rng.choice(pool) if rng.random() < chaos else rng.choice(good) for _ in range(n)] * repeat
        if name == S.TOUCHPOINT:  # names unique, or in pairs the same but for case and spaces
            pairs = rng.random() < 0.2
            cells = [rng.choice(LABELS) if rng.random() < chaos else f"{rng.choice(['tp', 'TP', 'Tp '])} {i // 2}"
                     if pairs else f"tp {i}" for i in range(n * repeat)]
        table[name] = [np.nan if rng.random() < chaos / 5 else c for c in cells]
    return table


def outcome(frame: pd.DataFrame) -> tuple[str, object]:
    try:
        return "clean", bo.validate_touchpoints(frame, source="x.csv", rows=np.arange(len(frame)) + 4)
    except bo.InputError as exc:
        return "problems", ([(p.row, p.column, p.value, p.message, p.fix) for p in exc.problems], exc.notices)


def as_read(table: dict[str, list[object]]) -> tuple[str, object]:
    """The cells as Arrow text, validated as a file read validates them (amounts has read their conventions)."""
    frame = pd.DataFrame(table, dtype="str")
    with amounts.remembered():
        amounts.read_conventions(frame)
        return outcome(frame)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables())
def test_arrow_text_and_python_objects_read_the_same(table):
    fast, general = as_read(table), outcome(pd.DataFrame(table, dtype=object))
    assert fast[0] == general[0], (fast, general)
    if fast[0] == "clean":
        pd.testing.assert_frame_equal(fast[1], general[1], check_exact=True)
        assert fast[1].attrs == general[1].attrs
    else:
        assert fast[1] == general[1]


def test_a_read_table_with_repeated_columns_by_hand():
    """60 rows repeating 3 of each label, stage and curve: the labels folded, the stages and curves checked once."""
    table = {"touchpoint": [f"tp {i}" for i in range(60)], "function": ["Marketing", " marketing", "service"] * 20,
             "channel": ["tv", "TV ", "chat"] * 20, "spend": ["100", "200", "0"] * 20,
             "engaged": ["10", "20", "0"] * 20, "stage": ["Awareness", "unassigned", "bogus"] * 20,
             "curve": ["hill", "", "power"] * 20, "cpe": ["", "", "5"] * 20, "max_spend": ["", "", "50"] * 20}
    kind, (problems, notices) = as_read(table)
    assert kind == "problems"
    assert [(p[0], p[1], p[2], p[3]) for p in problems[:3]] == [
        (4, "saturation", None, "a hill curve needs saturation, half_saturation and shape"),
        (4, "half_saturation", None, "a hill curve needs saturation, half_saturation and shape"),
        (4, "shape", None, "a hill curve needs saturation, half_saturation and shape")]
    assert {p[3] for p in problems} == {"a hill curve needs saturation, half_saturation and shape",
                                        "is not a known stage"}
    assert sum(p[3] == "is not a known stage" for p in problems) == 20
    assert notices == []
    table.update(stage=["Awareness", "unassigned", ""] * 20, curve=["linear", "", "power"] * 20)
    kind, clean = as_read(table)
    assert kind == "clean"
    assert clean["function"].tolist()[:3] == ["Marketing", "Marketing", "service"]
    assert clean["channel"].tolist()[:3] == ["tv", "tv", "chat"]
    assert clean["stage"].tolist()[:3] == ["awareness", "unassigned", "unassigned"]
    assert clean["curve"].tolist()[:3] == ["linear", "power", "linear"]  # no spend today: a constant cost
    assert clean.attrs["notices"] == [
        "20 function label(s) that differ only by case or spaces were merged into the first spelling ('marketing' -> "
        "'Marketing'); 2 functions remain",
        "20 channel label(s) that differ only by case or spaces were merged into the first spelling ('TV' -> 'tv'); "
        "2 channels remain"]
    assert clean["touchpoint"].dtype == object and clean["function"].dtype == object


@pytest.mark.parametrize("dtype", ["str", object])
def test_folding_arrow_text_and_objects_alike(dtype):
    notices: list[str] = []
    folded = fold_labels(pd.Series(["Sales", "sales ", "SALES", "pr", "Pr"] * 3, dtype=dtype), "function", notices)
    assert folded.tolist() == ["Sales", "Sales", "Sales", "pr", "pr"] * 3
    assert folded.dtype == object
    assert notices == ["9 function label(s) that differ only by case or spaces were merged into the first spelling "
                       "('Pr' -> 'pr', 'SALES' -> 'Sales', 'sales ' -> 'Sales'); 2 functions remain"]


def test_the_clean_table_is_the_callers_to_change():
    """Number columns the table has not share one array while they are checked; the clean table's columns do not."""
    clean = bo.validate_touchpoints(pd.DataFrame({"touchpoint": ["a", "b"], "function": ["f", "f"],
                                                  "channel": ["c", "c"], "spend": ["10", "20"], "engaged": ["1", "2"]}))
    floats = [c for c in clean.columns if clean[c].dtype == float and clean[c].isna().all()]
    assert {"min_spend", "max_spend", "max_change", "saturation", "shape"} <= set(floats)
    for i, name in enumerate(floats):
        clean.loc[0, name] = float(i)
    assert [clean.loc[0, name] for name in floats] == [float(i) for i in range(len(floats))]
    assert clean.loc[1, floats].isna().all()
