"""What a plan rests on: which of its figures come from evidence and which from assumptions.

Every touchpoint's curve has a source (schema.CURVE_SOURCES): `fitted` to its history or `tabulated` from a
model's response curve (evidence), `given` in the data by a person or `assumed` by default (assumptions). And
every curve is known only up to the largest spend observed: one observed point per touchpoint says nothing
about what more money buys, so the money a plan puts beyond that, and the engagement it expects from it, rest
on the curve's shape alone. The same few lines are printed by the CLI, shown beside the app's headline and
written on the workbook's Summary sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import schema as S
from . import units
from .curves import Curves

SOURCE_WORDS = {
    "fitted": "curves fitted to their history",
    "tabulated": "response curves tabulated from a model",
    "given": "curve shapes set in the data, not fitted to evidence",
    "assumed": f"the default curve (power, elasticity {S.DEFAULT_ELASTICITY}), assumed for want of evidence",
}
ASSUMPTION_FAMILIES = {
    "growth": "the growth cap (a touchpoint without max_spend may grow to at most {growth:g}x today's spend)",
    "extrapolation": "the extrapolation guard (a touchpoint without max_spend may get at most a stated multiple of "
                     "the largest spend observed; default {factor:g}x)",
}
"""Bounds that come from an assumption rather than a rule or the data, by their family in model.bounds."""


@dataclass(frozen=True)
class Basis:
    """Evidence against assumption, for one plan."""

    sources: pd.DataFrame
    """One row per curve source: touchpoints, today's spend and its share of today's total."""
    money_beyond: float
    """Planned money above the largest spend observed, summed over touchpoints."""
    touchpoints_beyond: int
    gain: float
    """The plan's engaged customers minus today's (the headline's gain)."""
    gain_beyond: float
    """Engaged customers the plan expects from its money beyond the largest spend observed."""
    binding_assumptions: list[str]
    at_curve_end: int = 0
    """Touchpoints planned at the last point of a tabulated curve that may not go beyond it."""

    @property
    def evidence_share(self) -> float:
        """Share of today's money on touchpoints whose curve rests on evidence (fitted or tabulated)."""
        s = self.sources
        return float(s.loc[s["source"].isin(S.EVIDENCE_SOURCES), "share"].sum())

    def lines(self, currency: str | None = None) -> list[str]:
        """The basis in a few sentences."""
        total = int(self.sources["touchpoints"].sum())
        out = [f"{int(r.touchpoints)} of {total} touchpoints ({r.share:.0%} of today's money): "
               f"{SOURCE_WORDS[r.source]}" for r in self.sources.itertuples()]
        if self.touchpoints_beyond:
            sign = "+" if self.gain > 0 else ""
            model = " (a model's curve: its last point)" if (self.sources["source"] == "tabulated").any() else ""
            out.append(f"{units.money(self.money_beyond, currency)} of the plan's money on "
                       f"{self.touchpoints_beyond} touchpoint{'s' if self.touchpoints_beyond != 1 else ''} goes "
                       f"beyond the largest spend observed there{model}, and the plan expects "
                       f"{units.money(self.gain_beyond)} {units.CUSTOMERS} from it (its net gain: "
                       f"{sign}{units.money(self.gain)}): what more money buys there is the curve's shape, not "
                       "evidence")
        else:
            out.append("no touchpoint is planned beyond the largest spend observed on it")
        out += [f"assumption that binds: {a}" for a in self.binding_assumptions]
        if self.at_curve_end:
            n = self.at_curve_end
            who = f"{n} touchpoints are planned at the last point of their" if n != 1 else \
                "1 touchpoint is planned at the last point of its"
            out.append(f"{who} tabulated curve: the model says nothing beyond it, so the plan goes no further "
                       "(to let it, at the curve's last slope, as an assumption: --curves-beyond, or the app's "
                       "'Plan beyond a curve's last point')")
        return out

    def headline(self) -> str:
        """One sentence for beside the headline figures."""
        evidence = self.evidence_share
        rest = ("rests on evidence" if evidence >= 0.995 else "rests on assumptions" if evidence <= 0.005
                else f"rests on evidence for {evidence:.0%} of today's money, on assumptions for the rest")
        beyond = ""
        if self.gain > 0 and self.gain_beyond > 0:
            part = ("all" if self.gain_beyond >= self.gain else f"{self.gain_beyond / self.gain:.0%}")
            beyond = f"; {part} of its net gain comes from spending beyond the largest spend observed"
        binds = f"; {len(self.binding_assumptions)} assumption binds" if len(self.binding_assumptions) == 1 else (
            f"; {len(self.binding_assumptions)} assumptions bind" if self.binding_assumptions else "")
        return f"This plan {rest}{beyond}{binds}."


def plan_basis(plan, curves: Curves) -> Basis:
    """The basis of a plan (with a solution) made on `curves` (the planned touchpoints, plan.inputs's order)."""
    tp = plan.inputs
    n = len(tp)
    table = plan.table.iloc[:n]
    source = tp[S.CURVE_SOURCE] if S.CURVE_SOURCE in tp.columns else pd.Series("assumed", index=tp.index)
    spend_today = plan.table["current_spend"]
    total = float(spend_today.sum())
    frame = pd.DataFrame({"source": source.to_numpy(object), "spend": table["current_spend"].to_numpy(float)})
    removed = plan.table.iloc[n:]
    if len(removed):  # the data's rows the scenario removes keep their own source in the data
        frame = pd.concat([frame, pd.DataFrame({"source": "given", "spend": removed["current_spend"]})])
    codes, names = pd.factorize(frame["source"])
    money = frame["spend"].to_numpy(float)
    sources = pd.DataFrame({"source": names, "touchpoints": np.bincount(codes, minlength=len(names)),
                            "spend": pd.Series(money).groupby(codes).sum().to_numpy()})  # pandas' compensated sum
    sources["share"] = sources["spend"] / total if total > 0 else 0.0
    order = {s: i for i, s in enumerate(S.CURVE_SOURCES)}
    sources = sources.sort_values("source", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)

    x = table["proposed_spend"].to_numpy(float)
    observed = tp[S.SPEND].to_numpy(float)
    if S.OBSERVED_MAX in tp.columns:
        observed = np.fmax(observed, tp[S.OBSERVED_MAX].to_numpy(float))
    last = _last_points(tp)  # a model's curve is evidence up to its last point
    observed = np.where(np.isfinite(last), np.fmax(observed, last), observed)
    beyond = x > observed * (1 + 1e-9) + 1e-9
    gain_beyond = float((curves.engaged(x) - curves.engaged(np.minimum(x, observed)))[beyond].sum())
    gain = float(plan.table["proposed_engaged"].sum()) - float(plan.table["current_engaged"].sum())
    return Basis(sources, float((x - observed)[beyond].sum()), int(beyond.sum()), gain, gain_beyond,
                 _binding_assumptions(plan),
                 _at_curve_end(tp, x, last))


def _last_points(tp: pd.DataFrame) -> np.ndarray:
    """The spend of each tabulated curve's last point (NaN for other curves)."""
    last = np.full(len(tp), np.nan)
    if S.CURVE_POINTS not in tp.columns or not (tabulated := (tp[S.CURVE] == "tabulated").to_numpy()).any():
        return last
    from .curves.text import read_points

    xs, _ = read_points(tp[S.CURVE_POINTS])
    if xs.shape[1]:
        last = np.where(tabulated, np.nanmax(np.where(np.isfinite(xs), xs, -np.inf), axis=1), np.nan)
    return np.where(last > 0, last, np.nan)


def _at_curve_end(tp: pd.DataFrame, x: np.ndarray, last: np.ndarray) -> int:
    """How many touchpoints the plan holds at the last point of their tabulated curve (`last`, NaN for other
    curves), not let go beyond it."""
    if not np.isfinite(last).any():
        return 0
    beyond = tp[S.CURVE_BEYOND].to_numpy(float) if S.CURVE_BEYOND in tp.columns else np.full(len(x), np.nan)
    held = np.isfinite(last) & ~(np.nan_to_num(beyond, nan=1.0) > 1.0)  # last is finite on tabulated curves only
    return int((held & (x >= last * (1 - 1e-6))).sum())


def counted(touchpoints: np.ndarray, periods: np.ndarray | None = None, calendar=None) -> str:
    """Touchpoints in words, counted once each however many periods they are limited in: '7 touchpoints' in a
    one-period plan; '8 touchpoints in 12 periods (every period)', '3 touchpoints in M10 to M12' over periods.

    `touchpoints` and `periods` are per limited cell (a touchpoint's id and its period's position); `calendar`
    (horizon.Calendar) names the periods."""
    n = len(np.unique(np.asarray(touchpoints)))
    words = f"{n:,} touchpoint{'s' if n != 1 else ''}"
    if periods is None or calendar is None or calendar.count <= 1:
        return words
    at = np.unique(np.asarray(periods, int))
    if len(at) == 1:
        return f"{words} in {calendar.labels[at[0]]}"
    return f"{words} in {len(at)} periods ({calendar.describe(at)})"


def _binding_assumptions(plan) -> list[str]:
    """Each assumption that binds: how many touchpoints it holds back (over periods: in which periods) and its
    dearest bound."""
    rules = plan.rules
    groups = getattr(plan, "rule_groups", None)
    calendar = getattr(plan, "calendar", None)
    over_periods = (groups is not None and calendar is not None and "period" in rules.columns
                    and len(groups) == len(rules))
    out = []
    for family, words in ASSUMPTION_FAMILIES.items():
        mask = (rules["family"].eq(family) & rules["binding"].astype(bool)).to_numpy()
        hit = rules[mask]
        if len(hit):
            dearest = hit.sort_values("price", ascending=False).iloc[0]
            text = words.format(growth=plan.scenario.settings.max_growth,
                                factor=plan.scenario.settings.max_extrapolation)
            if over_periods:  # one group per limit and touchpoint; its bounds are that touchpoint's periods
                position = {label: k for k, label in enumerate(calendar.labels)}
                held = counted(groups[mask], hit["period"].map(position).to_numpy(int), calendar)
            else:
                held = counted(np.arange(len(hit)))
            out.append(f"{text} holds back {held}; the dearest: {dearest['rule']}, {dearest['price_text']}")
    return out
