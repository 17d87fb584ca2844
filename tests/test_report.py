"""The one-page board report: self-contained HTML with the plan's own figures, and a PDF that is one A4 page
(turned into an image and text with poppler-utils' pdftoppm and pdftotext, as a reader would see it)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest
from conftest import ROOT, table
from test_app import many_touchpoints

import budgetopt as bo
from budgetopt import cli
from budgetopt.explain import explain_moves
from budgetopt.io import read_touchpoints_bytes
from budgetopt.rule_words import plain_rules
from budgetopt.ui import board_report, report

SCENARIOS = ROOT / "scenarios"


def pdf_pages(pdf: bytes, tmp_path: Path) -> tuple[list[Path], str]:
    """The PDF's pages as PNG images (100 dpi) and its text, through poppler-utils."""
    assert shutil.which("pdftoppm"), "install poppler-utils (bash .ci/setup --test does)"
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(path), str(tmp_path / "page")], check=True, timeout=60)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout
    return sorted(tmp_path.glob("page*.png")), re.sub(r"\s+", " ", text)


def test_the_html_is_self_contained_and_shows_the_plans_own_figures(sample):
    scenario = bo.io.read_scenario(SCENARIOS / "cut-10-protect-service.toml")
    plan = bo.optimize(sample, scenario)
    html = board_report.report_html(plan, sample, source="sample_touchpoints.csv")
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert not re.search(r"(src|href)\s*=|url\(|@import|<script", html)  # nothing fetched, nothing run
    assert "<h1>Cut 10 %, protect service</h1>" in html
    for card in report.plan_cards(plan):
        assert f"<div class='value'>{card.value}</div>" in html
    for amount in plan.transfers["amount"].head(board_report.TRANSFERS_SHOWN):
        assert f"<td class='num'>{plan.money(amount)}</td>" in html
    holding = plain_rules(plan, sample)
    first_move = explain_moves(plan, holding)["why"].iloc[0]
    assert escape(first_move) in html
    assert escape(holding["words"].iloc[1]) in html and escape(plan.basis.lines()[0]) in html


def test_a_plan_over_periods_explains_each_touchpoint_over_the_horizon(sample):
    """Review 2, finding 1: the report said 'removed by the scenario's what-if. Rests on: .' once per period."""
    scenario = bo.io.read_scenario(SCENARIOS / "year-plan.toml")
    plan = bo.optimize(sample, scenario)
    html = board_report.report_html(plan, sample, source="sample_touchpoints.csv")
    why = html[html.index("<h2>Why the money moves</h2>"):html.index("<h2>What holds the plan back</h2>")]
    assert "removed by the scenario" not in why and "Rests on: ." not in why
    moves = explain_moves(plan, plain_rules(plan, sample), count=board_report.MOVES_SHOWN)
    assert moves["touchpoint"].is_unique and len(moves) == board_report.MOVES_SHOWN
    for sentence, rests in zip(moves["why"], moves["rests_on"], strict=True):
        assert " over the horizon (" in sentence and escape(sentence) in why and f"Rests on: {escape(rests)}." in why
    assert escape("TV prime time must get at least 1,000,000 EUR in Q4 (M10 to M12) (your rule 1)") in html


def test_names_from_the_data_are_escaped():
    tp = table(touchpoint=["<script>alert(1)</script>", "B & 'C'"], function=["<b>f1</b>", "f2"],
               spend=[100_000, 100_000], engaged=[10_000, 50_000], curve=["linear", "linear"])
    html = board_report.report_html(bo.optimize(tp, bo.Scenario(name="<i>mine</i>")), tp)
    assert "<script>" not in html and "<b>f1" not in html and "<i>mine" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "B &amp; &#x27;C&#x27;" in html


def test_no_plan_says_why(sample):
    plan = bo.optimize(sample, bo.Scenario(rules=(bo.Rule(group="function", member="service",
                                                          min_spend=14_000_000),)))
    html = board_report.report_html(plan, sample)
    assert "No plan: no plan satisfies every rule" in html
    assert "function &#x27;service&#x27;: at least 14,000,000" in html


def test_the_pdf_is_one_readable_a4_page(sample, tmp_path):
    scenario = bo.io.read_scenario(SCENARIOS / "cut-10-protect-service.toml")
    plan = bo.optimize(sample, scenario)
    pages, text = pdf_pages(board_report.report_pdf(board_report.report_html(plan, sample)), tmp_path)
    assert len(pages) == 1
    from PIL import Image

    width, height = Image.open(pages[0]).size
    assert width == 827 and height == pytest.approx(1169, abs=1)  # A4 (210 x 297 mm) at 100 dpi
    assert "Cut 10 %, protect service" in text and "Why the money moves" in text
    assert "What holds the plan back" in text and "What the plan rests on" in text
    assert "TV prime time -30 % (-540,000)" in text
    assert "Field sales visits may fall at most 25 % (to 712,500)" in text


def test_the_year_plan_on_its_history_fits_one_page(tmp_path):
    """The plan over periods on the history (the longest sentences: over the horizon, with periods) prints on one
    A4 page."""
    from budgetopt.seasonality import for_plan

    scenario = bo.io.read_scenario(SCENARIOS / "year-plan.toml")
    touchpoints = for_plan(bo.io.read_evidence(ROOT / "data" / "sample_history.csv"), scenario)
    plan = bo.optimize(touchpoints, scenario)
    pages, text = pdf_pages(board_report.report_pdf(board_report.report_html(plan, touchpoints)), tmp_path)
    assert len(pages) == 1
    assert "TV prime time -53.5 % over the horizon" in text and "What the plan rests on" in text
    assert "removed by the scenario" not in text and "Rests on: ." not in text


def test_a_thousand_touchpoints_still_fit_one_page(tmp_path):
    touchpoints = read_touchpoints_bytes(many_touchpoints(1000), "many.csv")
    plan = bo.optimize(touchpoints)
    pages, text = pdf_pages(board_report.report_pdf(board_report.report_html(plan, touchpoints)), tmp_path)
    assert len(pages) == 1 and "limits bind in all" in text


def test_budgetopt_report_writes_html_and_pdf(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert cli.main(["report", str(SCENARIOS / "baseline.toml"), "--out", str(out)]) == cli.EXIT_OK
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"Report written to {out}" in capsys.readouterr().out
    assert cli.main(["report", str(SCENARIOS / "baseline.toml"), "--out", str(out)]) == cli.EXIT_BAD_INPUT
    assert "already exists; pass --force" in capsys.readouterr().err
    assert cli.main(["report", str(SCENARIOS / "baseline.toml"), "--out", str(tmp_path / "r.docx")]) == 2
    assert "written as .pdf or .html" in capsys.readouterr().err
    assert not (tmp_path / "r.docx").exists()


@pytest.mark.parametrize("variable", [None, "/nonexistent/chromium"])
def test_a_pdf_without_a_browser_says_what_to_do(monkeypatch, variable):
    if variable is None:
        monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
        with pytest.raises(bo.BudgetOptError, match="a PDF needs Playwright"):
            board_report.report_pdf("<p>x</p>")
        assert board_report.pdf_ready()[0] is False
    else:
        monkeypatch.setenv(board_report.CHROMIUM_VARIABLE, variable)
        with pytest.raises(bo.BudgetOptError, match="could not be printed with /nonexistent/chromium"):
            board_report.report_pdf("<p>x</p>")
