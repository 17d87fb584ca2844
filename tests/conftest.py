from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import budgetopt as bo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_touchpoints.csv"


def table(**columns) -> pd.DataFrame:
    """A validated touchpoint table from columns given as lists (touchpoint names default to A, B, ...)."""
    n = len(next(iter(columns.values())))
    base = {"touchpoint": [chr(65 + i) for i in range(n)], "function": ["f"] * n, "channel": ["c"] * n}
    base.update(columns)
    return bo.validate_touchpoints(pd.DataFrame(base))


@pytest.fixture(scope="session")
def sample() -> pd.DataFrame:
    return bo.read_touchpoints(SAMPLE)
