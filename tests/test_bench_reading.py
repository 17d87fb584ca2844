"""The reading benchmark runs end to end on tiny files (its figures are printed, never asserted)."""

from __future__ import annotations

import re

import budgetopt as bo
from budgetopt.bench_reading import touchpoint_table, write_csv, write_xlsx
from budgetopt.cli import main


def test_benchmark_files_are_valid_touchpoint_files(tmp_path):
    table = touchpoint_table(40)
    for path in (write_csv(table, tmp_path / "t.csv"), write_xlsx(table, tmp_path / "t.xlsx")):
        tp = bo.read_touchpoints(path)
        assert len(tp) == 40 and tp["spend"].tolist() == table["Cost"].tolist()
        assert any("skipped row 1 above the header" in n for n in tp.attrs["notices"])


def test_bench_reading_prints_one_line_per_file(capsys):
    assert main(["bench", "--reading", "--rows", "30,60", "--xlsx-rows", "20", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("|")[0].strip() for line in lines[2:]] == ["csv, 30 rows", "csv, 60 rows", "xlsx, 20 rows"]
    assert [int(line.split("|")[1]) for line in lines[2:]] == [27, 57, 17]  # title, blank row and header above
    assert lines[1].split("|")[-1].strip() == "rounds"  # each round's lowest and highest ratio
    assert all(re.fullmatch(r"\d+\.\d-\d+\.\dx", line.split("|")[-1].strip()) for line in lines[2:])
