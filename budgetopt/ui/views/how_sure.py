"""Beside the headline: how sure the plan is. Its range over joint draws of the curves ("3.71 M engaged, 90 %
between 3.55 M and 3.86 M"), the chance it beats today's allocation, the distribution of its outcome against
today's, and a switch between the plan best on average and the one that protects the downside, with what the
protection costs. The curves of a table without evidence vary by a stated +/- on engagement (an assumption, set
here); the figures come from robust.robust_plan and risk.PlanRange. A plan over periods shows its range over the
horizon (each period's curves as the plan has them); it has no protected form yet, so the switch is left out and a
caption says why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from ... import schema as S
from ...errors import BudgetOptError
from ...evidence import Evidence, plan_range
from ...plan import Plan
from ...risk import TAIL
from ...robust import CVAR, Robust, robust_plan
from ...scenario import Scenario
from .. import cached
from .. import format as fmt
from ..charts import PLAN_COLOR, TODAY_COLOR
from .shared import md
from .state import Key

DRAWS = 500
SEED = 0
UNCERTAINTY = 20
"""The stated +/- on engagement (percent) the page starts with, for curves without evidence of their uncertainty."""
BEST, PROTECT = "Best on average", "Protect the downside"
GOAL_KEY, UNCERTAINTY_KEY = "how_sure_goal", "how_sure_uncertainty"
SHOWN_MOVES = 6


@st.cache_data(show_spinner="Planning to protect the downside over draws of the curves...", max_entries=16,
               hash_funcs=cached.BY_DIGEST)
def protected_plan(touchpoints: pd.DataFrame, scenario_json: str, uncertainty: float,
                   _evidence: Evidence | None = None, evidence_key: str = "") -> Plan:
    """The plan protecting the worst 10 % of draws of the curves, as the 'how sure' section draws it (how_sure's
    draws, seed and uncertainty; the fitted history or curves behind the table when there are, named by
    `evidence_key` for the cache)."""
    evidence = _evidence if _evidence is not None else touchpoints
    return robust_plan(evidence, Scenario.model_validate_json(scenario_json), Robust(CVAR, TAIL), DRAWS, SEED,
                       uncertainty)


def evidence_behind(touchpoints: pd.DataFrame) -> tuple[Evidence | None, str]:
    """The fitted history or model's curves behind the page's table, if the session holds them for these
    touchpoints, and what names them for the caches; (None, "") otherwise."""
    ss = st.session_state
    evidence = ss.get(Key.EVIDENCE)
    same = evidence is not None and list(evidence.table[S.TOUCHPOINT]) == list(touchpoints[S.TOUCHPOINT])
    return (evidence, str(ss.get(Key.DATA, ""))) if same else (None, "")


@st.cache_data(show_spinner="Drawing the curves and planning over them...", max_entries=32,
               hash_funcs=cached.BY_DIGEST)
def over_draws(touchpoints: pd.DataFrame, scenario_json: str, uncertainty: float, protect: bool,
               _evidence: Evidence | None = None, evidence_key: str = "") -> dict:
    """The page's plan (or, when `protect`, the plan protecting the worst 10 %) over DRAWS joint draws of the
    curves (fits by their covariance and bands where the table rests on them: `_evidence`, named by `evidence_key`
    for the cache): the figures the section shows, and each draw's engaged customers for the chart."""
    evidence = _evidence if _evidence is not None else touchpoints
    if protect:  # the same plan as the headline's cards show (one cache)
        plan = protected_plan(touchpoints, scenario_json, uncertainty, _evidence, evidence_key)
    else:
        plan = cached.plan_for(touchpoints, scenario_json)
        plan.range = plan_range(plan, evidence, DRAWS, SEED, uncertainty=uncertainty)
    if not plan.ok:
        return {"ok": False, "message": f"no plan over the draws: {plan.message}"}
    if plan.range is None:
        return {"ok": False, "message": "no curve varies over the draws: set an uncertainty above 0"}
    span = plan.range
    return {"ok": True, "figures": span.figures(), "plan": span.plan, "today": span.today, "method": span.method,
            "words": plan.protection.words() if plan.protection is not None else "",
            "table": plan.table[[S.TOUCHPOINT, S.FUNCTION, "current_spend", "proposed_spend"]]}


def how_sure(touchpoints: pd.DataFrame, scenario: Scenario, plan) -> None:
    """The section under the headline cards (see the module docstring); nothing when there is no plan."""
    if plan is None or not plan.ok:
        return
    over_time = scenario.periods is not None
    with st.container(border=True):
        left, right = st.columns([3, 2])
        if over_time:  # no robust form over periods yet (robust.robust_plan): the plan best on average only
            goal = BEST
            right.caption(f"{PROTECT} is for plans of one period: a plan over periods has no protected form yet, "
                          "so this is the plan above, best on average, with its range over the horizon.")
        else:
            goal = right.radio("Plan for", [BEST, PROTECT], horizontal=True, key=GOAL_KEY,
                               help="Best on average: the plan on the curves as given (the Plan tab shows it). "
                                    "Protect the downside: "
                                    "the plan with the best average over the worst 10 % of the draws (CVaR), which "
                                    "usually costs a little on average against the plan best on average over the "
                                    "draws.")
        stated = right.number_input("Uncertainty of curves without evidence (+/- % on engagement)", 0, 100,
                                    UNCERTAINTY, 5, key=UNCERTAINTY_KEY,
                                    help="An assumption, for curves that rest neither on a fit nor on a band: each "
                                         "such touchpoint's engagement at any spend may be this much off (90 % of the "
                                         "draws within it), independently of the others. Fitted curves vary by "
                                         "their fit's covariance, a model's curves within their band.")
        args = (touchpoints, scenario.model_dump_json(), stated / 100)
        behind = evidence_behind(touchpoints)  # a fitted history or a model's curves behind the table, if any
        try:
            best = over_draws(*args, False, *behind)
            shown = over_draws(*args, True, *behind) if goal == PROTECT else best
        except BudgetOptError as exc:
            left.info(f"How sure: {md(str(exc))}")
            return
        if not shown["ok"]:
            left.info(f"How sure: {md(shown['message'])}")
            return
        f = shown["figures"]
        which = "the plan protecting the downside" if goal == PROTECT else "the plan"
        over = " over the horizon" if over_time else ""
        left.markdown(f"**How sure is {which}?** {fmt.short(f['plan_mean'])} engaged{over}, 90 % between "
                      f"{fmt.short(f['plan_low'])} and {fmt.short(f['plan_high'])}; it beats today's allocation in "
                      f"**{fmt.percent(f['beats_today'], 0)}** of {DRAWS:,} draws of the curves.")
        left.caption(f"The worst 10 % of draws average {fmt.short(f['plan_tail'])} engaged customers (today's "
                     f"allocation: {fmt.short(f['today_tail'])}). What varies: {md(shown['method'])}.")
        if goal == PROTECT:
            left.markdown(md(shown["words"]))
        left.vega_lite_chart(outcomes(shown["plan"], shown["today"]), distribution_spec(), width="stretch")
        if goal == PROTECT:
            moves = protected_moves(best["table"], shown["table"])
            if len(moves):
                st.caption("Where protecting the downside moves money against the plan best on average:")
                st.dataframe(moves, hide_index=True, width="stretch",
                             column_config={c: st.column_config.NumberColumn(format="%,.0f")
                                            for c in ("best on average", "protecting the downside", "difference")})


def outcomes(plan: np.ndarray, today: np.ndarray) -> pd.DataFrame:
    """Each draw's engaged customers under the plan and under today's allocation, long."""
    return pd.DataFrame({"engaged customers": np.concatenate([plan, today]),
                         "allocation": ["the plan"] * len(plan) + ["today's allocation"] * len(today)})


def distribution_spec() -> dict:
    """A Vega-Lite histogram of the draws' engaged customers: the plan in blue over today's in grey."""
    return {
        "height": 240,
        "mark": {"type": "bar", "opacity": 0.7, "binSpacing": 0},
        "encoding": {
            "x": {"field": "engaged customers", "type": "quantitative", "bin": {"maxbins": 60},
                  "axis": {"format": "~s"}, "title": "engaged customers over the draws of the curves"},
            "y": {"aggregate": "count", "type": "quantitative", "stack": None, "title": "draws"},
            "color": {"field": "allocation", "type": "nominal", "title": None, "legend": {"orient": "top"},
                      "scale": {"domain": ["today's allocation", "the plan"], "range": [TODAY_COLOR, PLAN_COLOR]}},
        },
    }


def protected_moves(best: pd.DataFrame, protected: pd.DataFrame) -> pd.DataFrame:
    """The touchpoints whose money differs most between the plan best on average and the protected one (at most
    SHOWN_MOVES; none under 1)."""
    frame = pd.DataFrame({"touchpoint": best[S.TOUCHPOINT], "function": best[S.FUNCTION],
                          "best on average": best["proposed_spend"],
                          "protecting the downside": protected["proposed_spend"].to_numpy()})
    frame["difference"] = frame["protecting the downside"] - frame["best on average"]
    frame = frame[frame["difference"].abs() >= 1]
    return frame.reindex(frame["difference"].abs().sort_values(ascending=False).index).head(SHOWN_MOVES)
