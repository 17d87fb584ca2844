"""What holds a plan back, in plain words: each rule and limit that binds as a sentence a manager can read
("Field sales visits may fall at most 25 % (to 712,500)"), with its local price, ordered the way a person
looks for them: their own rules and settings first, then the data's limits, then the assumptions.

The words are made from the LP's rows and bounds (`optimize.planned_model` builds them again for the plan's
scenario, in the order plan.rules lists them; the names are checked one by one, and a rule whose name does not
match keeps the engine's own label). The prices are the plan's: `price_text` says "holds in" for a floor and
"keeps out" for a cap.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import schema as S
from . import units
from .horizon import Calendar
from .model import GE, LE, Model, Row, bound_label, bound_names
from .optimize import planned_model
from .plan import Plan
from .scenario import Mode, Rule

YOURS, DATA, ASSUMED = "your rules and settings", "the data", "assumptions"
SET_BY = (YOURS, DATA, ASSUMED)
"""Who set a limit, in the order the page lists them."""
WORD_COLUMNS = ["name", "set_by", "words", "limit", "touchpoint", "side", "binding", "price", "price_text"]
"""plain_rules(): the rule's name in plan.rules, who set it, the sentence, the limit alone (the sentence without
why an assumption is made), the touchpoint of a bound ('' for rows) and its side ('lo' floor, 'hi' cap, '' for
rows), and the plan's binding flag, local price and its words."""
WHY_ASSUMED = {"growth": "; assumed, as the data gives it no cap",
               "extrapolation": "; assumed, as beyond the largest spend observed the curve is its shape, not evidence"}
ASSUMPTION_FAMILIES = ("growth", "extrapolation")


def pct(x: float) -> str:
    """A share or a change for a sentence: 0.15 -> '15 %', 0.125 -> '12.5 %', -0.3 -> '30 %' (no sign)."""
    value = abs(100 * x)
    return f"{value:,.0f} %" if abs(value - round(value)) < 0.05 else f"{value:,.1f} %"


def subject(rule: Rule) -> str:
    """Who a rule addresses, as the subject of a sentence: 'TV prime time', 'Function service', 'Touchpoints
    tagged digital'."""
    if rule.touchpoint is not None:
        return rule.touchpoint
    if rule.tag is not None:
        return f"Touchpoints tagged {rule.tag}"
    return f"{rule.group.capitalize()} {rule.member}"


def change_words(who: str, change: float, side: str, to: str) -> str:
    """A limit on change against today: side 'lo' is the least (min_change), 'hi' the most (max_change).

    lo -0.3: 'may fall at most 30 % (to X)'; lo 0: 'keeps at least today's X'; lo +0.1: 'must grow at least 10 %
    (to X)'; hi +0.2: 'may grow at most 20 % (to X)'; hi 0: 'may not grow above today's X'; hi -0.1: 'must fall
    at least 10 % (to X)'."""
    if abs(change) < 1e-12:
        return f"{who} keeps at least today's {to}" if side == "lo" else f"{who} may not grow above today's {to}"
    if side == "lo":
        return (f"{who} may fall at most {pct(change)} (to {to})" if change < 0
                else f"{who} must grow at least {pct(change)} (to {to})")
    return (f"{who} may grow at most {pct(change)} (to {to})" if change > 0
            else f"{who} must fall at least {pct(change)} (to {to})")


class _Bounds:
    """model.bounds and the touchpoint columns its words need, as plain lists (read once, not row by row)."""

    def __init__(self, model: Model):
        b, tp = model.bounds, model.touchpoints
        self.model = model
        self.touchpoint, self.side = b["touchpoint"].astype(int).tolist(), b["side"].astype(str).tolist()
        self.value, self.family = b["value"].astype(float).tolist(), b["family"].astype(str).tolist()
        self.rule, self.what = b["rule"].astype(int).tolist(), b["what"].astype(str).tolist()
        line = getattr(model, "line", None)
        periods = line.count if line is not None else 1
        if periods > 1:  # a plan over periods: a column is (touchpoint, period); its words name the touchpoint
            self.names = [str(model.names[c // periods]) for c in range(len(tp))]
        else:
            self.names = tp[S.TOUCHPOINT].astype(str).tolist()
        self.today = tp[S.SPEND].astype(float).tolist()  # the curve's anchor: limits on change are against it
        self.max_change = tp[S.MAX_CHANGE].astype(float).tolist()
        self.observed = (tp[S.OBSERVED_MAX].astype(float).tolist() if S.OBSERVED_MAX in tp.columns
                         else [float("nan")] * len(tp))

    def words(self, k: int, when: str = "") -> tuple[str, str]:
        """(who set it, the sentence) for bound k of the model; `when` names its periods (' in 2026-10 to
        2026-12'), said before who set it."""
        i, side, value, family, r = self.touchpoint[k], self.side[k], self.value[k], self.family[k], self.rule[k]
        name, today = self.names[i], self.today[i]
        money = units.money(value, self.model.currency)
        if family == "growth":
            growth = self.model.scenario.settings.max_growth
            return ASSUMED, f"{name} may grow to at most {growth:g}x today's spend ({money}){when}"
        if family == "extrapolation" and "tabulated" in self.what[k]:
            beyond = re.search(r"at most (\S+x) the last point", self.what[k])  # let go on by --curves-beyond
            if beyond:
                return ASSUMED, (f"{name} may get at most {beyond.group(1)} the last point of its tabulated curve, "
                                 f"continued at its last slope ({money}){when}")
            return ASSUMED, f"{name} may get at most the last point of its tabulated curve ({money}){when}"
        if family == "extrapolation":
            factor = value / self.observed[i] if self.observed[i] > 0 else float("nan")
            times = f"{factor:g}x " if np.isfinite(factor) else "a multiple of "
            return ASSUMED, f"{name} may get at most {times}the largest spend observed ({money}){when}"
        mine = r >= 0
        who = YOURS if mine else DATA
        tail = when + (f" (your rule {r + 1})" if mine else "")
        if family == "lock":
            return who, f"{name} is kept at today's {money}{tail}"
        if family == "floor":
            return who, f"{name} must get at least {money}{tail}"
        if family == "cap":
            return who, f"{name} gets nothing{tail}" if value <= 0 else f"{name} may get at most {money}{tail}"
        if mine:  # a limit on change
            rule = self.model.scenario.rules[r]
            change = rule.min_change if side == "lo" else rule.max_change
        else:
            change = -self.max_change[i] if side == "lo" else self.max_change[i]
        if change is None or not np.isfinite(change) or today <= 0:
            return who, f"{name} {'must get at least' if side == 'lo' else 'may get at most'} {money}{tail}"
        return who, change_words(name, float(change), side, money) + tail


def _row_words(model: Model, row: Row) -> tuple[str, str]:
    """(who set it, the sentence) for a row of the model."""
    cur = model.currency
    scenario = model.scenario
    if row.family == "budget" and row.name != "budget":  # one period's budget (a plan over periods): its label
        return YOURS, row.label[:1].upper() + row.label[1:]
    if row.family == "budget":
        word = "at most" if row.sense == LE else "exactly"
        return YOURS, f"The plan spends {word} the budget of {units.money(row.rhs, cur)}"
    if row.name == "target":
        unit = units.WEIGHTED if units.WEIGHTED in row.label else units.CUSTOMERS
        return YOURS, f"The plan keeps at least {units.money(row.rhs)} {unit} (the goal's target)"
    if row.name == "target-cpe":
        target = scenario.objective.target if scenario.objective.mode is Mode.TARGET_CPE else float("nan")
        return YOURS, f"The average cost per engaged customer may be at most {units.money(target, cur, digits=2)}"
    if row.family == "silo":
        function = row.name.removeprefix("silo-")
        return YOURS, f"Siloed planning: function {function} keeps its share of the budget ({_share(row.label)})"
    if row.name.startswith("stage-"):
        stage = row.name.removeprefix("stage-")
        return YOURS, (f"Stage {stage} keeps at least today's {units.money(row.rhs)} {units.CUSTOMERS} "
                       "(protect every stage)")
    data = _data_row(model, row)
    if data is not None:
        return DATA, data[2]
    if row.rule is None:
        return YOURS, row.label[:1].upper() + row.label[1:]
    rule = scenario.rules[row.rule]
    who = subject(rule)
    tail = _rule_when(model, row, rule) + f" (your rule {row.rule + 1})"
    base = (float(model.baseline.spend[row.index][row.a > 0].sum()) if model.baseline is not None
            else float("nan"))
    key = row.name.split("-", 1)[0]  # 'floor-0', 'floor-0-10' (a rule's row in period 10)
    if key == "lock":
        return YOURS, f"{who} is kept at today's {units.money(row.rhs, cur)}{tail}"
    if key == "floor":
        return YOURS, f"{who} must get at least {units.money(row.rhs, cur)}{tail}"
    if key == "cap":
        return YOURS, f"{who} may get at most {units.money(row.rhs, cur)}{tail}"
    if key in ("min_change", "max_change"):
        change = rule.min_change if key == "min_change" else rule.max_change
        side = "lo" if key == "min_change" else "hi"
        return YOURS, change_words(who, float(change), side, units.money(base * (1 + change), cur)) + tail
    if key in ("min_share", "max_share"):
        share = rule.min_share if key == "min_share" else rule.max_share
        word = "at least" if row.sense == GE else "at most"
        return YOURS, f"{who} gets {word} {pct(share)} of the total{tail}"
    if key == "coverage":
        return YOURS, f"{who} engages at least {units.money(row.rhs)} {units.CUSTOMERS}{tail}"
    if key == "coverage_change":
        change = rule.min_engaged_change
        return YOURS, (f"{who} engages at least {units.money(row.rhs)} {units.CUSTOMERS} "
                       f"({'+' if change > 0 else '-' if change < 0 else ''}{pct(change)} against today){tail}")
    return YOURS, row.label


DATA_ROWS = {"min_spend-": "lo", "max_spend-": "hi", "max_change-lo-": "lo", "max_change-hi-": "hi"}
"""The rows a plan over periods sets for the table's own limits over the horizon (periods.formulate_periods), by
the start of their name, and their side."""


def _data_row(model: Model, row: Row) -> tuple[str, str, str] | None:
    """(touchpoint, side, sentence) for a row of the table's own limits over the horizon (a plan over periods):
    "Social care may get at most 250,000 over the horizon"; None for any other row."""
    planned = getattr(model, "planned", None)
    if row.rule is not None or planned is None or row.family not in ("floor", "cap", "change"):
        return None
    start = next((p for p in DATA_ROWS if row.name.startswith(p)), None)
    if start is None:
        return None
    name, side = row.name.removeprefix(start), DATA_ROWS[start]
    money = units.money(row.rhs, model.currency)
    if start == "min_spend-":
        return name, side, f"{name} must get at least {money} over the horizon"
    if start == "max_spend-":
        return name, side, f"{name} may get at most {money} over the horizon"
    change = planned.loc[planned[S.TOUCHPOINT].astype(str) == name, S.MAX_CHANGE].astype(float)
    if not len(change) or not np.isfinite(change.iloc[0]):
        word = "must get at least" if side == "lo" else "may get at most"
        return name, side, f"{name} {word} {money} over the horizon"
    c = float(change.iloc[0])
    return name, side, change_words(name, -c if side == "lo" else c, side, money) + " over the horizon"


def _rule_when(model: Model, row: Row, rule: Rule) -> str:
    """The periods a rule's row holds in, for its sentence: '' over the whole horizon (or without periods), ' in
    2026-03' for one period of a rule per period, ' in Q4 (2026-10 to 2026-12)' for the rule's own periods."""
    line = getattr(model, "line", None)
    if line is None or line.count <= 1:
        return ""
    calendar = line.calendar
    tag = row.name.split("-")[-1]
    if (rule.per_period or rule.lock) and len(row.name.split("-")) == 3 and tag.isdigit():
        return f" in {calendar.labels[int(tag) - 1]}"
    if rule.periods is None:
        return ""
    try:
        positions = calendar.select(rule.periods)
    except ValueError:  # the model was built from it: it names periods of the horizon
        return ""
    return periods_words(calendar, positions, rule.periods if isinstance(rule.periods, str) else None, count=False)


def periods_words(calendar: Calendar, positions: np.ndarray, name: str | None = None, count: bool = True) -> str:
    """Some periods of a horizon, for the end of a sentence (as the command line groups them): ' in 2026-03',
    ' in 12 periods (every period)', ' in 3 periods (2026-10 to 2026-12)'; without `count`, ' in 2026-10 to
    2026-12'; with the rule's own `name` for them, ' in Q4 (2026-10 to 2026-12)'."""
    positions = np.unique(np.asarray(positions, int))
    described = calendar.describe(positions)
    if name is not None and name.casefold() != described.casefold():
        return f" in {name} ({described})"
    if len(positions) == 1 or not count:
        return f" in {described}"
    return f" in {len(positions)} periods ({described})"


def _share(label: str) -> str:
    """The share in a silo row's label ('siloed: function 'x' keeps its 12.3% share' -> '12.3 %')."""
    found = [w for w in label.split() if w.endswith("%")]
    return found[-1].replace("%", " %") if found else "today's share"


def plain_rules(plan: Plan, touchpoints: pd.DataFrame, binding_only: bool = True) -> pd.DataFrame:
    """plan.rules in plain words (WORD_COLUMNS), only those that bind unless `binding_only` is False.

    `touchpoints` is the table the plan was made from (before the scenario's what-ifs)."""
    rules = plan.rules
    if not plan.ok or rules.empty:
        return pd.DataFrame(columns=WORD_COLUMNS)
    model, _ = planned_model(touchpoints, plan.scenario)
    names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
    expected = [row.name for row in model.rows] + bound_names(model.bounds, names)
    same = len(expected) == len(rules) and expected == rules["name"].tolist()
    pick = np.flatnonzero(rules["binding"].to_numpy(bool)) if binding_only else np.arange(len(rules))
    n_rows = len(model.rows)
    bounds = _Bounds(model) if same else None
    columns = {c: rules[c].to_numpy(object) for c in ("name", "family", "rule", "binding", "price", "price_text")}
    when: dict[int, str] = {}
    groups = getattr(plan, "rule_groups", None)
    line = getattr(model, "line", None)
    if bounds is not None and line is not None and line.count > 1 and groups is not None and len(groups) == len(
            rules):  # a plan over periods: one limit's bounds on one touchpoint in several periods, listed once
        pick, when = _grouped(pick, n_rows, np.asarray(groups, object), columns["price"].astype(float),
                              np.asarray(bounds.touchpoint) % line.count, line.calendar)
    records = []
    for k in pick.tolist():
        family = str(columns["family"][k])
        touchpoint, side = "", ""
        if bounds is None:  # the model does not line up with the plan: the engine's own label
            who = ASSUMED if family in ASSUMPTION_FAMILIES else YOURS
            words = str(columns["rule"][k])
        elif k < n_rows:
            row = model.rows[k]
            data = _data_row(model, row)  # a limit of the table's own over the horizon, on one touchpoint
            if data is not None:
                (touchpoint, side, words), who = data, DATA
            else:
                who, words = _row_words(model, row)
        else:
            touchpoint, side = bounds.names[bounds.touchpoint[k - n_rows]], bounds.side[k - n_rows]
            who, words = bounds.words(k - n_rows, when.get(k, ""))
        full = words + WHY_ASSUMED.get(family, "") if bounds is not None and who == ASSUMED else words
        records.append((columns["name"][k], who, full, words, touchpoint, side, bool(columns["binding"][k]),
                        float(columns["price"][k]), columns["price_text"][k]))
    out = pd.DataFrame(records, columns=WORD_COLUMNS)
    order = out["set_by"].map({s: i for i, s in enumerate(SET_BY)})
    out = out.assign(_order=order).sort_values(["_order", "price", "name"], ascending=[True, False, True],
                                               kind="stable")
    return out.drop(columns="_order").reset_index(drop=True)


def _grouped(pick: np.ndarray, n_rows: int, groups: np.ndarray, price: np.ndarray, period: np.ndarray,
              calendar: Calendar) -> tuple[np.ndarray, dict[int, str]]:
    """The rules to word in a plan over periods: every row, and one bound per limit (plan.rule_groups), its
    dearest, with the periods it binds in (`period`: the period of each bound); (positions kept, words of the
    periods by position)."""
    rows, bound = pick[pick < n_rows], pick[pick >= n_rows]
    if not len(bound):
        return pick, {}
    frame = pd.DataFrame({"k": bound, "group": groups[bound], "price": price[bound],
                          "period": period[bound - n_rows]})
    dearest = frame.sort_values(["price", "k"], ascending=[False, True], kind="stable").drop_duplicates("group")
    periods = frame.groupby("group", sort=False)["period"].agg(list)
    when = {int(k): periods_words(calendar, np.array(periods[g])) for k, g in zip(dearest["k"], dearest["group"],
                                                                                   strict=True)}
    return np.concatenate([rows, np.sort(dearest["k"].to_numpy())]), when


def conflict_words(plan: Plan, touchpoints: pd.DataFrame) -> tuple[list[str], list[str]]:
    """A plan's conflicts and advice (no plan) in the page's words: each conflicting rule or limit as the sentence
    plain_rules gives it ("Function marketing must get at least 4,100,000 (your rule 1)", not "function
    'marketing': at least 4,100,000"), and the advice's "(now ...)" likewise. A conflict the words do not know (a
    group of limits) keeps the engine's label.

    `touchpoints` is the table the plan was made from (before the scenario's what-ifs)."""
    conflicts, advice = list(plan.conflicts), list(plan.advice)
    if not conflicts:
        return conflicts, advice
    try:
        model, _ = planned_model(touchpoints, plan.scenario)
    except Exception:  # noqa: BLE001 - words only: the engine's labels are still right
        return conflicts, advice
    words = {row.label: _row_words(model, row)[1] for row in model.rows}
    if len(model.bounds):
        names = model.touchpoints[S.TOUCHPOINT].to_numpy(object)
        bounds = _Bounds(model)
        labels = bound_label(model.bounds, names, model.currency).tolist()
        line = getattr(model, "line", None)
        periods = line.count if line is not None else 1

        def when(k: int) -> str:  # a plan over periods: the bound's period, as its label had it
            return f" in {line.calendar.labels[bounds.touchpoint[k] % periods]}" if periods > 1 else ""

        words.update({label: bounds.words(k, when(k))[1] for k, label in enumerate(labels) if label in set(conflicts)
                      or any(label in a for a in advice)})
    shown = [words.get(c, c) for c in conflicts]
    for label, sentence in words.items():
        advice = [a.replace(f"(now {label})", f"(now: {sentence})") for a in advice]
    return shown, advice
