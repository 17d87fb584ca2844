"""Benchmark of curves from evidence (issue 11): fitting a history, planning on S-curves, and how close the plans are.

    budgetopt bench --curves                   # or: python -m budgetopt.bench_curves
    budgetopt bench --curves --fit 1000x104 --mip 200 --accuracy 30x52 --repeat 3

It prints, each measured in this process (median of --repeat runs):
- fitting 1,000 touchpoints x 104 weeks (`fit_curves`: every family, with and without carry-over, AICc, held-out
  check) and planning on the fitted table (`evidence.from_history` + `optimize`), with the families found;
- a plan on 200 touchpoints whose curves are S-shaped (Hill, shape 1.5-4): the MIP's binaries, time and
  certified gap;
- on 30 touchpoints x 52 weeks from known curves (floors 0.3x, caps 2x today): the plan's true engagement
  against the true optimum (dynamic programming on a budget grid) and its prediction against the truth.
Timings are printed, never asserted: other processes on the machine make them noisy.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd


def _median(seconds: list[float]) -> float:
    return statistics.median(seconds)


def fitting(n: int, periods: int, repeat: int) -> dict[str, object]:
    """Seconds to fit n touchpoints x periods, the share of families found as generated, and seconds to plan."""
    from .curves import synthetic_history
    from .curves.fit import fit_curves

    history = synthetic_history(n, periods, carryover=(0.0, 0.5), late=0.2, seed=1)
    times, fits = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fits = fit_curves(history.spend, history.engaged, history.observed)
        times.append(time.perf_counter() - start)
    found = float(np.mean(fits.family == history.family))
    verdicts = pd.Series(fits.verdict).value_counts().to_dict()
    return {"touchpoints": n, "periods": periods, "fit_seconds": _median(times), "family_found": found,
            "verdicts": verdicts}


def plan_on_fit(n: int, periods: int) -> dict[str, object]:
    """From a history file's rows to a plan: read the history, fit, make the table, plan (seconds for each)."""
    from .curves import synthetic_history
    from .evidence import from_history
    from .history import history_from_table
    from .ingest import parse_table
    from .optimize import optimize

    h = synthetic_history(n, periods, families=("power", "saturating", "hill"), seed=2)
    weeks = pd.date_range("2024-01-01", periods=periods, freq="W-MON").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"week": np.tile(weeks, n), "touchpoint": np.repeat([f"t{i}" for i in range(n)], periods),
                          "function": np.repeat([f"f{i % 8}" for i in range(n)], periods), "channel": "c",
                          "spend": h.spend.ravel().round(2), "engaged": h.engaged.ravel().round(2)})
    data = frame.to_csv(index=False).encode()
    start = time.perf_counter()
    raw = parse_table(data, "history.csv")
    read = time.perf_counter() - start
    evidence = from_history(history_from_table(raw))
    fitted = time.perf_counter() - start - read
    plan = optimize(evidence.table)
    planned = time.perf_counter() - start - read - fitted
    return {"rows": len(frame), "read_seconds": read, "fit_seconds": fitted, "plan_seconds": planned,
            "mip_touchpoints": plan.stats.get("mip_touchpoints", 0), "status": plan.status.value}


def s_curve_mip(n: int, repeat: int) -> dict[str, object]:
    """A plan on n touchpoints with S-shaped (Hill) curves: the MIP's size, time and certified gap."""
    from .optimize import optimize
    from .touchpoints import validate_touchpoints

    rng = np.random.default_rng(3)
    spend = rng.uniform(1e4, 1e5, n)
    half = spend * rng.uniform(0.7, 1.5, n)
    shape = rng.uniform(1.5, 4.0, n)
    saturation = rng.uniform(1e3, 1e4, n)
    engaged = saturation * spend**shape / (half**shape + spend**shape)
    raw = pd.DataFrame({"touchpoint": [f"s{i}" for i in range(n)], "function": [f"f{i % 8}" for i in range(n)],
                        "channel": "c", "spend": spend, "engaged": engaged,
                        "curve": "hill", "saturation": saturation, "half_saturation": half, "shape": shape,
                        "max_spend": 2 * spend})
    table = validate_touchpoints(raw)
    times, plan = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        plan = optimize(table)
        times.append(time.perf_counter() - start)
    return {"touchpoints": n, "binaries": plan.stats.get("mip_binaries"), "seconds": _median(times),
            "mip_seconds": plan.stats.get("mip_seconds"), "gap": plan.stats.get("mip_gap"),
            "method": plan.stats.get("mip_method"), "status": plan.status.value}


def accuracy(n: int, periods: int, seeds: Sequence[int]) -> list[dict[str, float]]:
    """Plans from histories of known curves against the true optimum, and their predictions against the truth."""
    from .curves import families as F
    from .curves import synthetic_history
    from .evidence import from_history
    from .history import history_from_table
    from .ingest import parse_table
    from .optimize import optimize

    out = []
    for seed in seeds:
        h = synthetic_history(n, periods, families=("power", "saturating", "hill"), noise=0.05, spread=0.5,
                              dark=0.05, seed=seed)
        total = h.spend.sum(axis=1)
        weeks = pd.date_range("2024-01-01", periods=periods, freq="W-MON").strftime("%Y-%m-%d")
        frame = pd.DataFrame({
            "week": np.tile(weeks, n), "touchpoint": np.repeat([f"t{i:03d}" for i in range(n)], periods),
            "function": "f", "channel": "c", "spend": h.spend.ravel().round(2), "engaged": h.engaged.ravel().round(2),
            "min_spend": np.repeat((0.3 * total).round(2), periods),
            "max_spend": np.repeat((2.0 * total).round(2), periods)})
        evidence = from_history(history_from_table(parse_table(frame.to_csv(index=False).encode(), "h.csv")))
        plan = optimize(evidence.table)
        share = h.spend / total[:, None]
        shares = F.adstock_rows(np.concatenate([share, share], axis=1), h.carryover)[:, periods:]

        def truth(i: int, s: np.ndarray, h=h, shares=shares) -> np.ndarray:
            a = np.atleast_1d(s)[:, None] * shares[i][None, :]
            params = [np.array([v]) for v in (h.scale[i], h.exponent[i], h.half_saturation[i], h.shape[i])]
            return F.evaluate(np.array([h.family[i]]), a.reshape(1, -1), *params).reshape(a.shape).sum(axis=1)

        index = [int(t[1:]) for t in plan.table["touchpoint"]]
        x = plan.table["proposed_spend"].to_numpy()
        got = sum(truth(i, x[k])[0] for k, i in enumerate(index))
        steps, best = 4000, None
        step = total.sum() / steps
        for i in range(n):
            grid = np.arange(int(np.ceil(0.3 * total[i] / step)), int(2.0 * total[i] / step) + 1)
            values = truth(i, grid * step)
            new = np.full(steps + 1, -np.inf)
            for g, v in zip(grid[grid <= steps], values, strict=False):
                before = np.r_[0.0, np.full(steps - g, -np.inf)] if best is None else best[:steps + 1 - g]
                new[g:] = np.maximum(new[g:], before + v)
            best = new
        optimum = float(best.max())
        out.append({"seed": seed, "plan_vs_optimum": got / optimum - 1,
                    "prediction_vs_truth": float(plan.table["proposed_engaged"].sum()) / got - 1})
    return out


def _size(text: str) -> tuple[int, int]:
    a, b = text.lower().split("x")
    return int(a), int(b)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="budgetopt bench --curves", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", default="1000x104", help="touchpoints x weeks to fit (default 1000x104)")
    parser.add_argument("--mip", type=int, default=200, help="S-curve touchpoints in the MIP (default 200)")
    parser.add_argument("--accuracy", default="30x52", help="touchpoints x weeks of the accuracy check")
    parser.add_argument("--seeds", type=int, default=3, help="histories in the accuracy check (default 3)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per timing (median; default 1)")
    args = parser.parse_args(argv)
    n, periods = _size(args.fit)
    print("budgetopt benchmark: curves from evidence")
    f = fitting(n, periods, args.repeat)
    print(f"fit {f['touchpoints']:,} touchpoints x {f['periods']} weeks: {f['fit_seconds']:.2f} s; family found "
          f"as generated {f['family_found']:.0%}; verdicts {f['verdicts']}")
    p = plan_on_fit(n, periods)
    print(f"history file of {p['rows']:,} rows -> plan: read {p['read_seconds']:.2f} s, fit and table "
          f"{p['fit_seconds']:.2f} s, plan {p['plan_seconds']:.2f} s ({p['mip_touchpoints']} S-curves in its MIP, "
          f"{p['status']})")
    m = s_curve_mip(args.mip, args.repeat)
    print(f"S-curves, {m['touchpoints']} touchpoints: {m['binaries']} binaries, {m['seconds']:.2f} s in all "
          f"({m['mip_seconds']:.2f} s solving), certified gap {m['gap']:.2e} by {m['method']}, {m['status']}")
    n, periods = _size(args.accuracy)
    for row in accuracy(n, periods, range(args.seeds)):
        print(f"accuracy, {n} x {periods} weeks, seed {row['seed']}: plan vs true optimum "
              f"{row['plan_vs_optimum']:+.3%}, prediction vs truth {row['prediction_vs_truth']:+.3%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
