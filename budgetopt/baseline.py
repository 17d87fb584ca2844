"""Today: the data as it is, the one baseline every figure of a plan is measured against.

A scenario's what-ifs (a channel 20 % dearer, a touchpoint removed or added) change the curves the plan is
made on, never today: "+12 % engaged customers" always means against the data as the user gave it. What the
what-ifs would do to today's own allocation is a separate figure (`WhatIf`), shown on its own line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import schema as S


def _key(names: pd.Series) -> pd.Series:
    return names.astype(str).str.strip().str.casefold()


@dataclass(frozen=True)
class Baseline:
    """Today's spend and engaged customers, from the data, for the touchpoints a plan is made on."""

    data: pd.DataFrame
    """The touchpoint table as given, before the scenario's what-ifs."""
    spend: np.ndarray
    """Today's spend of each planned touchpoint (0 for one the scenario adds)."""
    engaged: np.ndarray
    """Today's engaged customers of each planned touchpoint (0 for one the scenario adds)."""
    added: np.ndarray
    """True for planned touchpoints that are not in the data (added by the scenario)."""
    removed: pd.DataFrame = field(repr=False)
    """Rows of the data the scenario removes: today they spend and engage, in the plan they get nothing."""

    @classmethod
    def of(cls, data: pd.DataFrame, planned: pd.DataFrame) -> Baseline:
        """Align the data's today with the touchpoints a scenario plans (after overrides, additions, removals)."""
        if planned is data:
            n = len(data)
            return cls(data, data[S.SPEND].to_numpy(float), data[S.ENGAGED].to_numpy(float), np.zeros(n, bool),
                       data.iloc[0:0])
        index = pd.Series(np.arange(len(data)), index=_key(data[S.TOUCHPOINT]).to_numpy())
        index = index[~index.index.duplicated()]
        pos = index.reindex(_key(planned[S.TOUCHPOINT]).to_numpy()).to_numpy()
        added = np.isnan(pos)
        take = np.where(added, 0, pos).astype(int)
        spend = np.where(added, 0.0, data[S.SPEND].to_numpy(float)[take])
        engaged = np.where(added, 0.0, data[S.ENGAGED].to_numpy(float)[take])
        kept = np.zeros(len(data), dtype=bool)
        kept[take[~added]] = True
        return cls(data, spend, engaged, added, data[~kept])

    @property
    def total_spend(self) -> float:
        """Today's total spend (every touchpoint of the data)."""
        return float(self.data[S.SPEND].sum())

    @property
    def total_engaged(self) -> float:
        """Today's engaged customers (every touchpoint of the data)."""
        return float(self.data[S.ENGAGED].sum())

    @property
    def total_weighted(self) -> float:
        """Today's weighted engagement: sum of value x engaged customers over the data."""
        return float((self.data[S.ENGAGED] * self.data[S.VALUE]).sum())


@dataclass(frozen=True)
class WhatIf:
    """Today's allocation on the curves a plan is made on: what the scenario's what-ifs alone would change, and
    where the curves rest on evidence (a fit, a model's curves), what they say of today beside the data."""

    changes: list[str]
    """The what-ifs in words ("channel 'tv': each engaged customer costs 1.2x as much"); empty: none."""
    engaged: float
    """Engaged customers today's allocation would reach with the what-ifs."""
    weighted: float
    """The same in weighted engagement."""
