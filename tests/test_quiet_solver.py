"""Nothing but budgetopt's own output on stdout: the HiGHS banner ("Running HiGHS ...") never reaches it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, SAMPLE


@pytest.mark.parametrize("args", [
    ["optimize", str(SAMPLE)],
    ["optimize", str(SAMPLE), "--mode", "min-spend"],
    ["validate", str(SAMPLE)],
    ["run", str(ROOT / "scenarios" / "cut-10-protect-service.toml"), "--price-limit", "3"],
    ["compare", str(ROOT / "scenarios" / "baseline.toml"), str(ROOT / "scenarios" / "tv-dearer.toml")],
    ["frontier", str(ROOT / "scenarios" / "baseline.toml"), "--steps", "3"],
])
def test_the_cli_prints_no_solver_banner(args, tmp_path):
    done = subprocess.run([sys.executable, "-m", "budgetopt", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()  # the command's own output is there ...
    assert "HiGHS" not in done.stdout and "Copyright" not in done.stdout  # ... and nothing of the solver's
    assert "HiGHS" not in done.stderr
