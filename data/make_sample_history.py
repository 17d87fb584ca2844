"""Write data/sample_history.csv: two years of weekly spend and engaged customers for eight touchpoints of the
sample company, made from known curves with carry-over and seasonality (see data/README.md). Deterministic:

    python data/make_sample_history.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from budgetopt.curves import families as F

WEEKS = 104
FIRST_MONDAY = "2024-01-01"
SEED = 15
NOISE = 0.05
RETAIL = np.array([0.90, 0.85, 0.95, 1.00, 1.00, 0.95, 0.85, 0.90, 1.00, 1.05, 1.20, 1.35])
"""Engagement per money by month of the year: the same money engages more before Christmas, less in summer."""
SUMMER = np.array([0.90, 0.90, 1.00, 1.05, 1.15, 1.20, 1.20, 1.10, 1.00, 0.90, 0.80, 0.80])
FLAT = np.ones(12)
TOUCHPOINTS = [
    # name, function, channel, stage, mean weekly spend, family, (scale, exponent, half-saturation, shape),
    # carry-over per week, season
    ("TV prime time", "marketing", "tv", "awareness", 34_000, F.SATURATING, (9_000, np.nan, 40_000, np.nan), 0.5,
     RETAIL),
    ("Radio spots", "marketing", "radio", "awareness", 7_000, F.POWER, (8.0, 0.55, np.nan, np.nan), 0.3, RETAIL),
    ("Paid search (generic terms)", "marketing", "search ads", "consideration", 20_000, F.POWER,
     (13.0, 0.6, np.nan, np.nan), 0.0, RETAIL),
    ("Paid social ads", "marketing", "social ads", "consideration", 12_000, F.HILL, (6_000, np.nan, 10_000, 1.8),
     0.1, RETAIL),
    ("Live chat", "service", "chat", "retention", 6_000, F.POWER, (2.5, 0.8, np.nan, np.nan), 0.0, FLAT),
    ("Customer newsletter", "content", "e-mail", "retention", 1_500, F.SATURATING, (3_500, np.nan, 2_000, np.nan),
     0.0, FLAT),
    ("Field sales visits", "sales", "field sales", "purchase", 18_000, F.POWER, (0.02, 0.9, np.nan, np.nan), 0.0,
     FLAT),
    ("Member events", "loyalty", "events", "advocacy", 5_000, F.POWER, (2.0, 0.5, np.nan, np.nan), 0.2, SUMMER),
]


def make(seed: int = SEED) -> pd.DataFrame:
    """The history as a long table: week, touchpoint, function, channel, stage, spend, engaged."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range(FIRST_MONDAY, periods=WEEKS, freq="7D")
    month = (weeks + pd.Timedelta(days=3)).month.to_numpy() - 1
    frames = []
    for name, function, channel, stage, mean, family, (scale, p, half, n), lam, season in TOUCHPOINTS:
        # spend varies week to week (and a little more before Christmas), so that the curve can be fitted
        spend = mean * rng.lognormal(0.0, 0.4, WEEKS) * np.where(np.isin(month, [9, 10, 11]), 1.15, 1.0)
        spend = np.round(spend, -1)
        stocked = F.adstock(spend, lam)
        response = F.evaluate(np.array([family]), stocked[None, :], np.array([scale]), np.array([p]),
                              np.array([half]), np.array([n]))[0]
        engaged = season[month] / season.mean() * response * (1 + NOISE * rng.standard_normal(WEEKS))
        frames.append(pd.DataFrame({"week": weeks.strftime("%Y-%m-%d"), "touchpoint": name, "function": function,
                                    "channel": channel, "stage": stage, "spend": spend,
                                    "engaged": np.round(np.clip(engaged, 0, None))}))
    return pd.concat(frames, ignore_index=True)


if __name__ == "__main__":
    path = Path(__file__).with_name("sample_history.csv")
    make().to_csv(path, index=False)
    print(f"written: {path}")
