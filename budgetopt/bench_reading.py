"""Benchmark of reading and checking touchpoint files, against pandas reading the same file.

    python -m budgetopt.bench_reading                    # 1,000 / 10,000 / 100,000-row CSVs, a 20,000-row xlsx
    python -m budgetopt.bench_reading --rows 1000,10000 --xlsx-rows 2000 --repeat 3

Each file has the given number of rows: a title row, a blank row, the header and the touchpoints (so the
100,000-row file, at the row limit, holds 99,997 touchpoints). For each file it prints the median wall-clock
time of `read_touchpoints` (find the table, map the headers, parse every number, check every row) and of the
pandas call that only parses the same file (`pandas.read_csv`; for the workbook `pandas.read_excel` with the
calamine engine, the fastest pandas has), and their ratio; the two calls take turns, round after round, so that
a busy moment of the machine slows both, and the lowest and highest ratio of a round show how much the machine
moved the figures. The goal (issue 13): within 3x of pandas at 100,000 CSV rows and 20,000 workbook rows.
Timings are printed, never asserted: other processes on the machine make them noisy.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .io import read_touchpoints

CSV_ROWS = (1_000, 10_000, 100_000)
XLSX_ROWS = 20_000
TOP = 3
"""Rows above the touchpoints in each file: a title, a blank row and the header."""
FUNCTIONS = ("marketing", "sales", "service", "pr", "product", "logistics", "content", "partnerships")
STAGES = ("awareness", "consideration", "purchase", "retention", "advocacy")
CHANNELS = ("tv", "search", "social", "e-mail", "chat", "store", "events", "press")


def touchpoint_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """A valid touchpoint table of `rows` rows, as an analyst's export would hold it (a title row is added
    by the writers; numbers with two decimals, a percentage column, a tag column)."""
    rng = np.random.default_rng(seed)
    spend = np.round(rng.lognormal(10, 1.2, rows), 2)
    cpe = rng.lognormal(2, 0.8, rows)
    return pd.DataFrame({
        "Touchpoint": [f"Touchpoint {i}" for i in range(rows)],
        "Department": np.asarray(FUNCTIONS)[rng.integers(0, len(FUNCTIONS), rows)],
        "Channel": np.asarray(CHANNELS)[rng.integers(0, len(CHANNELS), rows)],
        "Stage": np.asarray(STAGES)[rng.integers(0, len(STAGES), rows)],
        "Cost": spend,
        "Engaged customers": np.maximum(1, np.round(spend / cpe)),
        "Curve": np.where(rng.random(rows) < 0.7, "power", "linear"),
        "Elasticity": np.round(rng.uniform(0.3, 0.9, rows), 2),
        "Max change": np.where(rng.random(rows) < 0.5, "30%", ""),
        "Digital": np.where(rng.random(rows) < 0.5, "yes", "no"),
    })


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """The table as a comma CSV with a title row and a blank row above the header."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("Engagement budget (benchmark)\n\n")
        table.to_csv(handle, index=False)
    return path


def write_xlsx(table: pd.DataFrame, path: Path) -> Path:
    """The table as a one-sheet workbook with a title row (typed numbers, text cells as text)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Touchpoints")
    sheet.append(["Engagement budget (benchmark)"])
    sheet.append([])
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):  # a benchmark fixture, written once
        sheet.append([None if v == "" else v for v in row])
    book.save(path)
    return path


def seconds_in_turns(calls: Sequence[Callable[[], object]], repeat: int) -> list[list[float]]:
    """Wall-clock seconds of each call in each of `repeat` rounds that make each call in turn (so that a slower
    moment of the machine falls on all of them alike), garbage collected before each."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(repeat):
        for call, taken in zip(calls, times, strict=True):
            gc.collect()
            start = time.perf_counter()
            call()
            taken.append(time.perf_counter() - start)
    return times


def measure(path: Path, repeat: int) -> tuple[list[float], list[float], int]:
    """(read_touchpoints seconds, pandas seconds, each a round's; touchpoints read) for one file."""
    if path.suffix == ".xlsx":
        def baseline() -> object:
            return pd.read_excel(path, engine="calamine", skiprows=2)
    else:
        def baseline() -> object:
            return pd.read_csv(path, skiprows=2)
    rows = len(read_touchpoints(path))  # also warms imports and caches
    baseline()
    ours, theirs = seconds_in_turns([lambda: read_touchpoints(path), baseline], repeat)
    return ours, theirs, rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print read times against pandas; return 0."""
    parser = argparse.ArgumentParser(prog="budgetopt bench --reading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(map(str, CSV_ROWS)), help="CSV sizes, comma separated")
    parser.add_argument("--xlsx-rows", type=int, default=XLSX_ROWS, help="workbook size (0: none)")
    parser.add_argument("--repeat", type=int, default=11, help="rounds per file (median)")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.rows.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--rows takes whole numbers separated by commas, not {args.rows!r}")
    if any(s < 1 for s in sizes) or args.xlsx_rows < 0 or args.repeat < 1:
        parser.error("sizes and --repeat must be positive")
    print(f"reading benchmark  |  python {sys.version.split()[0]}, pandas {pd.__version__}, numpy {np.__version__}")
    print(f"{'file':>22} | {'touchpoints':>11} | {'budgetopt ms':>12} | {'pandas ms':>9} | {'x pandas':>8} | "
          f"{'rounds':>11}")
    with tempfile.TemporaryDirectory(prefix="budgetopt-bench-reading-") as folder:
        files = [(n, write_csv(touchpoint_table(max(1, n - TOP)), Path(folder) / f"touchpoints-{n}.csv"))
                 for n in sizes]
        if args.xlsx_rows:
            files.append((args.xlsx_rows, write_xlsx(touchpoint_table(max(1, args.xlsx_rows - TOP)),
                                                     Path(folder) / f"touchpoints-{args.xlsx_rows}.xlsx")))
        for size, path in files:
            ours, theirs, rows = measure(path, args.repeat)
            kind = "xlsx" if path.suffix == ".xlsx" else "csv"
            mine, pandas = statistics.median(ours), statistics.median(theirs)
            each = [a / b for a, b in zip(ours, theirs, strict=True)]  # a round's ratio: both timed in one moment
            print(f"{f'{kind}, {size:,} rows':>22} | {rows:>11,} | {mine * 1e3:>12.1f} | {pandas * 1e3:>9.1f} | "
                  f"{mine / pandas:>7.1f}x | {f'{min(each):.1f}-{max(each):.1f}x':>11}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
