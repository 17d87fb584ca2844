"""Long columns read side by side on threads (budgetopt.parallel): the same results as one after another, and what
the threads work out remembered for the caller."""

from __future__ import annotations

import numpy as np
import pandas as pd

from budgetopt import amounts, parallel


def _column(rows: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    cells = rng.choice(["1.234", "0,5", "12 000", "x", "", "30%", "(1,200)", "7"], rows)
    return pd.Series(cells, dtype="str")


def test_columns_side_by_side_give_what_one_after_another_gives(monkeypatch):
    columns = [_column(parallel.LONG, seed) for seed in range(5)]
    together = parallel.side_by_side(amounts._shapes, columns)
    monkeypatch.setattr(parallel, "LONG", 1 << 40)
    alone = parallel.side_by_side(amounts._shapes, columns)
    assert all(np.array_equal(a, b) for a, b in zip(together, alone, strict=True))


def test_what_the_threads_work_out_is_remembered_for_the_caller(monkeypatch):
    """Inside `remembered`, each column's distinct cells are worked out once, on whichever thread: the caller asking
    again works nothing out."""
    columns = [_column(parallel.LONG, seed) for seed in range(3)]
    made = []
    read = amounts._read_distinct
    monkeypatch.setattr(amounts, "_read_distinct", lambda series: made.append(1) or read(series))
    monkeypatch.setattr(parallel, "WORKERS", 2)
    with amounts.remembered():
        parallel.side_by_side(amounts._shapes, columns)
        assert len(made) == 3
        for column in columns:
            amounts.distinct(column)
        assert len(made) == 3
