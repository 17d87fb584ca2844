"""Work on long columns shared between threads.

Arrow's kernels (hashing, casts, patterns) and most of numpy let go of Python's lock while they run, so two of
them can run at once on two cores. Reading a file of many rows spends most of its time in them, one column after
another; `side_by_side` lets the columns run side by side. Each thread works in a copy of the caller's context,
so what `amounts.remembered` keeps is kept for the caller too (one memo, shared). Short columns stay on the
caller's thread: a thread costs more than they do.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")

LONG = 20_000
"""Columns of at least this many rows are worth a thread."""
WORKERS = min(os.cpu_count() or 1, 4)
"""Threads at most: the cores there are, up to four."""


def side_by_side(work: Callable[[T], U], columns: Sequence[T]) -> list[U]:
    """[work(column) for column in columns], the columns shared among threads when some are long."""
    workers = min(len(columns), WORKERS)
    if workers < 2 or max(map(len, columns)) < LONG:  # type: ignore[arg-type]
        return [work(column) for column in columns]
    from concurrent.futures import ThreadPoolExecutor  # only when there is a long column to read

    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = [pool.submit(contextvars.copy_context().run, work, column) for column in columns]
        return [future.result() for future in done]
