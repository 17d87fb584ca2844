"""Numbers a CFO can trust (issue 10): one baseline, one meaning per word, no impossible figures, the currency
on every money figure, exports that add up, and what a plan rests on next to the plan."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import ROOT, table

import budgetopt as bo
from budgetopt import export, units
from budgetopt.cli import main
from budgetopt.compare import compare
from budgetopt.io import read_scenario
from budgetopt.pricing import attach_whole_prices, price_rules
from budgetopt.scenario import Override


def lin(**kw) -> pd.DataFrame:
    """Two linear touchpoints: A costs 10 per engaged customer, B costs 5 (cap 150)."""
    cols = dict(function=["m", "s"], spend=[100, 100], engaged=[10, 20], curve=["linear", "linear"],
                max_spend=[300, 150])
    cols.update(kw)
    return table(**cols)


# ---- 1. one today: the data as given ----------------------------------------------------------------------------

def test_a_what_if_changes_the_plan_never_today(sample):
    dearer = read_scenario(ROOT / "scenarios" / "tv-dearer.toml")
    base, tv = bo.optimize(sample), bo.optimize(sample, dearer)
    assert tv.summary()["current_engaged"] == base.summary()["current_engaged"] == sample["engaged"].sum()
    # TV dearer engages fewer customers, and its change against today says so (it used to look better)
    assert tv.summary()["proposed_engaged"] < base.summary()["proposed_engaged"]
    assert tv.summary()["engaged_change_pct"] < base.summary()["engaged_change_pct"]
    table_ = compare([base, tv], ["baseline", "tv dearer"])
    assert list(table_.columns) == ["today", "baseline", "tv dearer"]
    assert table_.loc["engaged", "today"] == sample["engaged"].sum()
    # the what-if's effect on today's own allocation is its own line, in every output
    tv_today = sample.loc[sample["channel"] == "tv", "engaged"].sum()
    expected = sample["engaged"].sum() - tv_today + tv_today / 1.2
    assert tv.summary()["whatif_engaged"] == pytest.approx(expected)
    assert "today's allocation would reach" in tv.summary_text()
    assert f"{units.money(tv.summary()['whatif_weighted'])} weighted engagement" in tv.summary_text()


def test_removing_a_touchpoint_keeps_it_in_todays_figures(sample):
    plan = bo.optimize(sample, bo.Scenario(overrides=(Override(touchpoint="Podcast", remove=True),)))
    s = plan.summary()
    assert s["current_spend"] == sample["spend"].sum() and s["proposed_spend"] == pytest.approx(s["current_spend"])
    row = plan.table.set_index("touchpoint").loc["Podcast"]
    assert (row["proposed_spend"], row["what_if"]) == (0.0, bo.schema.REMOVED)
    assert plan.by("function")["current_spend"].sum() == pytest.approx(sample["spend"].sum())


# ---- 2. engaged customers (a count) and weighted engagement --------------------------------------------------

def test_a_min_spend_target_counts_what_the_user_chose(sample):
    customers = bo.optimize(sample, bo.Scenario(objective=bo.Objective(mode="min_spend", target=3_500_000,
                                                                       unit="customers")))
    # on the smooth curves a plan reaches its target (kept exactly on the chords below them) or a hair more
    assert 3_500_000 <= customers.summary()["proposed_engaged"] <= 3_500_000 * (1 + 1e-5)
    weighted = bo.optimize(sample, bo.Scenario(objective=bo.Objective(mode="min_spend", target=3_500_000)))
    assert 3_500_000 <= weighted.summary()["proposed_weighted"] <= 3_500_000 * (1 + 1e-5)
    target = weighted.rules.set_index("name").loc["target"]
    assert "weighted engagement" in target["rule"] and "weighted engagement" in target["price_unit"]
    # the CLI says the unit and honours it
    assert main(["optimize", str(ROOT / "data" / "sample_touchpoints.csv"), "--mode", "min-spend",
                 "--target", "3,500,000", "--target-unit", "customers"]) == 0


def test_the_count_falling_in_a_same_engagement_plan_says_why(sample):
    plan = bo.optimize(sample, bo.Scenario(objective=bo.Objective(mode="min_spend")))
    assert plan.summary()["proposed_weighted"] == pytest.approx(plan.summary()["current_weighted"], rel=1e-4)
    assert plan.summary()["engaged_change_pct"] < 0  # the count falls...
    assert any("because values weight customers" in n for n in plan.notes())  # ...and the plan says why
    from budgetopt.ui import report

    engaged = next(c for c in report.plan_cards(plan) if c.label == "Engaged customers")
    assert engaged.delta_color == "off" and "keeps weighted engagement" in engaged.help  # not red


def test_local_prices_name_their_unit(sample):
    plan = bo.optimize(sample)
    binding = plan.binding_rules
    assert binding["price_text"].str.contains("weighted engagement").all()
    unweighted = bo.optimize(sample.assign(value=1.0))
    assert not unweighted.binding_rules["price_text"].str.contains("weighted").any()
    assert unweighted.measure == "engaged customers" and plan.measure == "weighted engagement"


# ---- 4. labels that differ only by case or spaces --------------------------------------------------------------

def test_labels_that_differ_by_case_or_spaces_are_one():
    raw = pd.DataFrame({"touchpoint": ["TV", "Chat", "Mail"], "function": ["MARKETING", "marketing ", " Marketing"],
                        "channel": ["tv", "Chat", "chat"], "spend": [100, 50, 50], "engaged": [10, 20, 5],
                        "digital": ["No", "yes", "YES"]})
    tp = bo.validate_touchpoints(raw)
    assert tp["function"].tolist() == ["MARKETING"] * 3 and tp["channel"].tolist() == ["tv", "Chat", "Chat"]
    assert tp["digital"].tolist() == ["No", "yes", "yes"]
    assert any("2 function label(s)" in n and "1 function remains" in n for n in tp.attrs["notices"])
    with pytest.raises(bo.InputError, match="used more than once"):
        bo.validate_touchpoints(raw.assign(touchpoint=["TV  prime", "tv prime", "Mail"]))


# ---- 5. a target CPE no plan can reach -------------------------------------------------------------------------

def test_target_cpe_without_a_plan_names_the_lowest_reachable():
    tp = lin(locked=["yes", "no"])
    plan = bo.optimize(tp, bo.Scenario(budget=bo.Budget(total=250), objective=bo.Objective(mode="target_cpe",
                                                                                          target=5.0)))
    assert not plan.ok
    # A is locked at 100 (10 customers); B at its cap 150 adds 30: (100 + 150) / 40 = 6.25 is the lowest
    assert any("lowest average cost per engaged customer the other rules allow is 6.25" in a for a in plan.advice)
    assert not any("at most 5.00 at most" in a for a in plan.advice)
    assert bo.optimize(tp, bo.Scenario(budget=bo.Budget(total=250),
                                       objective=bo.Objective(mode="target_cpe", target=6.26))).ok


# ---- 6. currency ------------------------------------------------------------------------------------------------

def test_the_currency_comes_from_the_data_and_shows_on_every_money_figure(tmp_path, capsys):
    path = tmp_path / "eur.csv"
    path.write_text("touchpoint,function,channel,Cost (EUR),engaged\nTV,marketing,tv,100000,5000\n"
                    "Chat,service,chat,20000,4000\n")
    assert main(["optimize", str(path), "--budget", "90.000", "--out", str(tmp_path / "plan.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "Budget (spend) (EUR)" in out and "EUR per extra engaged customer" in out and "dollar" not in out
    assert "90,000" in out  # --budget as people write money
    ws = openpyxl.load_workbook(tmp_path / "plan.xlsx")["Summary"]
    labels = [c.value for c in ws["A"] if c.value]
    assert "Budget (spend) (EUR)" in labels and "Marginal CPE (EUR)" in labels
    plan = bo.optimize(bo.read_touchpoints(path))
    assert plan.currency == "EUR"
    assert json.loads(bo.plan_json_bytes(plan, inputs=plan.inputs))["summary"]["currency"] == "EUR"
    # a scenario's currency wins over the data's
    assert bo.optimize(bo.read_touchpoints(path), bo.Scenario(currency="usd")).currency == "USD"


# ---- 7. exported numbers a budget system takes ------------------------------------------------------------------

def test_exported_money_is_in_cents_and_adds_up_to_the_budget(sample):
    plan = bo.optimize(sample, bo.Scenario(budget=bo.Budget(change=-0.1)))
    csv = pd.read_csv(io.BytesIO(bo.plan_csv_bytes(plan, inputs=sample)))
    assert (csv["proposed_spend"] * 100).round(6).mod(1).eq(0).all()
    assert round(csv["proposed_spend"].sum(), 2) == round(plan.budget, 2) == 12_640_500.0
    assert csv["change_pct"].abs().max() > 1  # a percentage, not a fraction
    assert np.allclose(csv["change"], csv["proposed_spend"] - csv["current_spend"], atol=1e-6)


def test_round_to_total_is_largest_remainder():
    values = np.array([1.004, 1.004, 1.002, 0.0])
    out = export.round_to_total(values, 0.01)
    assert out.tolist() == [1.0, 1.0, 1.01, 0.0] or round(out.sum(), 2) == round(values.sum(), 2)
    assert round(out.sum(), 2) == 3.01 and np.abs(out - values).max() < 0.01
    assert export.round_to_total(np.array([333.333, 333.333, 333.334]), 1).sum() == 1000


def test_the_rules_sheet_counts_each_rules_whole_price_once(sample):
    scenario = bo.Scenario(budget=bo.Budget(change=-0.1),
                           rules=(bo.Rule(group="function", member="service", min_change=0.0, max_change=0.1),))
    plan = bo.optimize(sample, scenario)
    prices = price_rules(sample, scenario, plan, data_limits=5)
    attach_whole_prices(plan, prices, sample)
    ws = openpyxl.load_workbook(io.BytesIO(bo.plan_xlsx_bytes(plan, inputs=plan.inputs)))["Rules"]
    frame = pd.DataFrame(list(ws.values)[1:], columns=[c.value for c in ws[1]])
    whole = pd.to_numeric(frame["Whole price"], errors="coerce")
    assert whole.sum() == pytest.approx(prices["whole_price"].fillna(0).sum())
    assert frame.groupby("Priced with")["Whole price"].count().max() == 1  # one price per rule unit
    growth = frame[frame["Priced with"].str.startswith("growth cap", na=False)]
    assert len(growth) > 1  # the assumption is one unit over many rows


# ---- 9. what the plan rests on ---------------------------------------------------------------------------------

def test_the_basis_by_hand():
    plan = bo.optimize(lin())  # A: 100 -> 50; B: 100 -> 150 (its cap)
    basis = plan.basis
    assert basis.sources.to_dict("list") == {"source": ["given"], "touchpoints": [2], "spend": [200.0],
                                             "share": [1.0]}
    # B goes 50 beyond the largest spend observed on it (today's 100) and expects 30 - 20 = 10 customers from it
    assert (basis.money_beyond, basis.touchpoints_beyond, basis.gain_beyond, basis.gain) == (50.0, 1, 10.0, 5.0)
    assert basis.evidence_share == 0.0 and basis.headline().startswith("This plan rests on assumptions")
    assumed = bo.optimize(table(spend=[1000, 10], engaged=[1, 100])).basis  # B grows to its assumed 3x cap
    assert assumed.sources["source"].tolist() == ["assumed"]
    assert "growth cap" in " ".join(assumed.binding_assumptions)


def test_the_basis_reads_the_same_in_the_cli_the_app_and_the_workbook(sample, capsys):
    plan = bo.optimize(sample)
    assert main(["optimize", str(ROOT / "data" / "sample_touchpoints.csv")]) == 0
    out = capsys.readouterr().out
    for line in plan.basis.lines():
        assert line in out
    from budgetopt.ui import report

    assert plan.basis.headline() in report.plan_notes(plan)
    ws = openpyxl.load_workbook(io.BytesIO(bo.plan_xlsx_bytes(plan, inputs=plan.inputs)))["Summary"]
    texts = {c.value for c in ws["A"] if isinstance(c.value, str)}
    assert plan.basis.headline() in texts and all(f"• {line}" in texts for line in plan.basis.lines())


def test_readme_describes_the_baseline_and_the_two_figures():
    text = Path(ROOT / "README.md").read_text()
    assert "the data as given" in text and "weighted engagement" in text and "engaged customers" in text


def test_the_cli_and_the_workbook_use_the_same_words(sample, tmp_path, capsys):
    plan = bo.optimize(sample)
    assert main(["optimize", str(ROOT / "data" / "sample_touchpoints.csv"), "--out", str(tmp_path / "p.xlsx")]) == 0
    out = capsys.readouterr().out
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx")["Summary"]
    labels = {c.value for c in ws["A"] if isinstance(c.value, str)}
    for words in ("Budget (spend)", "Engaged customers", "Weighted engagement", "Average CPE", "Marginal CPE",
                  "Money moved across functions"):
        assert words in labels and words in out, words
    legend = units.LEGEND[0].upper() + units.LEGEND[1:] + "."
    assert legend in out and legend in labels
    assert plan.basis.headline() in labels
