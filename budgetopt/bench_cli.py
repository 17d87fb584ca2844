"""Benchmark of the whole command line job against an end-to-end floor (issue 13).

    budgetopt bench --cli                       # or: python -m budgetopt.bench_cli (1,000 and 10,000 rows)
    budgetopt bench --cli --rows 1000 --repeat 5

For each size it writes a budget-only touchpoint CSV (smooth power curves, a limit on change on two thirds of
the rows) and runs, interleaved and each in a fresh process:

- budgetopt: `budgetopt optimize FILE --out plan.csv` (start Python, import, read and check the file, plan,
  print the summary, write the plan);
- floor: a short script (FLOOR_SCRIPT) that starts Python, reads the file with `pandas.read_csv`, finds the
  exact optimum of the same problem by bisection on the budget's multiplier (numpy) and writes the plan's
  spend and engagement with `DataFrame.to_csv`: what the job costs with nothing but pandas.

It prints the median wall-clock seconds of each, their ratio (goals: at most 3x at 1,000 rows, 2x at 10,000),
the plan's engagement against the floor's exact optimum (the segment LP is below the smooth curve by a
little), and where budgetopt's time goes: one more fresh process runs the command's stages through the API
and times each (Python's start-up is the floor's own start-up time).
Timings are printed, never asserted: other processes on the machine make them noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = (1_000, 10_000)
GOALS = {1_000: 3.0, 10_000: 2.0}
MAX_GROWTH = 3.0
"""budgetopt's default growth cap (Settings.max_growth): without max_spend, at most 3x today's spend."""

FLOOR_SCRIPT = """
import sys
import numpy as np
import pandas as pd

t = pd.read_csv(sys.argv[1])
s0, e0, a = t["spend"].to_numpy(float), t["engaged"].to_numpy(float), t["elasticity"].to_numpy(float)
change = t["max_change"].to_numpy(float)
lo = np.where(np.isnan(change), 0.0, s0 * np.clip(1 - np.nan_to_num(change), 0, None))
hi = np.where(np.isnan(change), MAX_GROWTH * s0, np.minimum(s0 * (1 + np.nan_to_num(change)), MAX_GROWTH * s0))
budget = s0.sum()
# max sum e0 (x / s0)^a  s.t.  sum x = budget, lo <= x <= hi: x_i(lam) = clip(s0 (lam / k_i)^(1 / (a_i - 1)))
log_k, inv = np.log(a * e0 / s0), 1.0 / (a - 1.0)
low = float((log_k + (a - 1.0) * np.log(hi / s0)).min()) - 1.0
high = float((log_k + (a - 1.0) * np.log(np.maximum(lo, 1e-9 * s0) / s0)).max()) + 1.0
for _ in range(100):
    mid = 0.5 * (low + high)
    if np.clip(s0 * np.exp((mid - log_k) * inv), lo, hi).sum() > budget:
        low = mid
    else:
        high = mid
x = np.clip(s0 * np.exp((0.5 * (low + high) - log_k) * inv), lo, hi)
pd.DataFrame({"touchpoint": t["touchpoint"], "proposed_spend": x,
              "proposed_engaged": e0 * (x / s0) ** a}).to_csv(sys.argv[2], index=False)
""".replace("MAX_GROWTH", repr(MAX_GROWTH))

STAGES_SCRIPT = """
import json, sys, time
started = time.perf_counter()
from budgetopt.cli import main  # noqa: E402
from budgetopt.evidence import DRAWS, SEED, plan_range  # noqa: E402
from budgetopt.io import read_evidence, write_plan  # noqa: E402
from budgetopt.optimize import optimize  # noqa: E402
from budgetopt.scenario import Scenario  # noqa: E402
imported = time.perf_counter()
evidence = read_evidence(sys.argv[1])
read = time.perf_counter()
plan = optimize(evidence.table, Scenario(name="optimize"))
plan.range = plan_range(plan, evidence, DRAWS, SEED)
planned = time.perf_counter()
text = plan.summary_text()
summary = time.perf_counter()
write_plan(plan, sys.argv[2], force=True, source=sys.argv[1])
written = time.perf_counter()
print(json.dumps({"import": imported - started, "read": read - imported, "plan": planned - read,
                  "summary": summary - planned, "write": written - summary}))
"""


def budget_only_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """A budget-only touchpoint table: power curves (elasticity 0.2-0.95), a limit on change (30 % or 50 %) on
    two thirds of the rows, no group; written with the column names budgetopt reads directly."""
    rng = np.random.default_rng(seed)
    spend = np.exp(rng.normal(10.5, 1.0, rows)).round(2)
    return pd.DataFrame({
        "touchpoint": [f"tp{i:06d}" for i in range(rows)], "function": "marketing", "channel": "search",
        "spend": spend, "engaged": (spend / np.exp(rng.normal(2.5, 0.8, rows))).round(3), "curve": "power",
        "elasticity": rng.uniform(0.2, 0.95, rows).round(3), "max_change": rng.choice([np.nan, 0.3, 0.5], rows),
    })


def _seconds(command: Sequence[str], env: dict[str, str]) -> float:
    """Wall-clock seconds of a fresh process running `command` (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - started


def _environment() -> dict[str, str]:
    """The measuring processes' environment: single-threaded BLAS (as budgetopt bench), nothing else changed."""
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def measure(rows: int, repeat: int, folder: Path) -> dict[str, object]:
    """Median seconds of the CLI and of the floor on one file (interleaved), the plan's engagement against the
    exact optimum, and the CLI's stages timed in one more process."""
    data = folder / f"touchpoints-{rows}.csv"
    budget_only_table(rows).to_csv(data, index=False)
    ours_out, floor_out = folder / f"plan-{rows}.csv", folder / f"floor-{rows}.csv"
    cli = [sys.executable, "-m", "budgetopt", "optimize", str(data), "--out", str(ours_out), "--force"]
    floor = [sys.executable, "-c", FLOOR_SCRIPT, str(data), str(floor_out)]
    env = _environment()
    _seconds(cli, env), _seconds(floor, env)  # warm the file cache and the byte-code caches
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(_seconds(cli, env))
        theirs.append(_seconds(floor, env))
    engaged = float(pd.read_csv(ours_out)["proposed_engaged"].sum())
    exact = float(pd.read_csv(floor_out)["proposed_engaged"].sum())
    stages = json.loads(subprocess.run([sys.executable, "-c", STAGES_SCRIPT, str(data), str(ours_out)], check=True,
                                       capture_output=True, text=True, env=env).stdout.splitlines()[-1])
    return {"rows": rows, "cli": statistics.median(ours), "floor": statistics.median(theirs),
            "gap": 1 - engaged / exact, "stages": stages}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the CLI's time against the floor's for each size; return 0."""
    parser = argparse.ArgumentParser(prog="budgetopt bench --cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(map(str, ROWS)), help="CSV sizes, comma separated")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command per size (median)")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.rows.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--rows takes whole numbers separated by commas, not {args.rows!r}")
    if not sizes or any(s < 2 for s in sizes) or args.repeat < 1:
        parser.error("sizes must be at least 2 and --repeat at least 1")
    print(f"command line benchmark  |  python {sys.version.split()[0]}, pandas {pd.__version__}, numpy "
          f"{np.__version__}  |  load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'rows':>7} | {'budgetopt s':>11} | {'floor s':>7} | {'x floor':>7} | {'goal':>4} | {'gap to exact':>12} | "
          "budgetopt's stages (s): import, read, plan, summary, write")
    with tempfile.TemporaryDirectory(prefix="budgetopt-bench-cli-") as folder:
        for rows in sizes:
            r = measure(rows, args.repeat, Path(folder))
            goal = f"{GOALS[rows]:.0f}x" if rows in GOALS else "-"
            stages = ", ".join(f"{r['stages'][k]:.3f}" for k in ("import", "read", "plan", "summary", "write"))
            print(f"{rows:>7,} | {r['cli']:>11.3f} | {r['floor']:>7.3f} | {r['cli'] / r['floor']:>6.2f}x | "
                  f"{goal:>4} | {r['gap']:>11.4%} | {stages}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
