"""The one-page board report of a plan: a self-contained HTML file (inline CSS and SVG, nothing fetched) that
prints on one A4 page, and its PDF (the same HTML printed by a headless Chromium through Playwright).

What it shows, top to bottom: the scenario and what it asks; the headline against today (the page's own cards,
and the range of engaged customers and the chance of beating today when the plan has them: `plan.range`);
today in one line and what the plan rests on; where the money goes (by function) and the transfers between
functions with their amounts; the largest moves with their reasons (`explain`); the rules that bind with their
prices, in words (`rule_words`); the plan's basis (evidence or assumptions). No Streamlit here: the page, the
command line (`budgetopt report`) and the tests build the same HTML.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pandas as pd

from .. import __version__
from .. import schema as S
from ..errors import BudgetOptError
from ..explain import explain_moves
from ..plan import BUDGET_CHANGE, Plan
from ..rule_words import SET_BY, plain_rules
from . import report, svg

MOVES_SHOWN = 5
RULES_SHOWN = 7
TRANSFERS_SHOWN = 9
PRINTABLE_PX = (703, 1039)
"""A4 less the report's margins (186 x 275 mm), in CSS pixels (96 per inch): the PDF shrinks what is taller."""
SMALLEST_SCALE = 0.8
"""The PDF shrinks a long report at most this far (9 pt text stays above 7 pt) before it takes a second page."""
CHROMIUM_VARIABLE = "BUDGETOPT_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Where the PDF's browser is looked for: $BUDGETOPT_CHROMIUM, then these on the PATH, then Playwright's own."""

CSS = """
@page { size: A4; margin: 11mm 12mm; }
@media print { body { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
* { box-sizing: border-box; }
body { font-family: "Source Sans Pro", "Helvetica Neue", Helvetica, Arial, sans-serif; font-size: 9pt;
       color: #111827; margin: 0; line-height: 1.3; }
.page { max-width: 186mm; margin: 0 auto; }
h1 { font-size: 15pt; margin: 0 0 1mm; }
h2 { font-size: 10.5pt; margin: 3.2mm 0 1.2mm; border-bottom: 0.3mm solid #cbd5e1; padding-bottom: 0.6mm; }
p { margin: 0.6mm 0; }
.muted { color: #4b5563; }
.small { font-size: 7.8pt; }
.cards { display: grid; grid-template-columns: repeat(var(--cards), 1fr); gap: 2mm; margin: 2mm 0; }
.card { border: 0.3mm solid #cbd5e1; border-radius: 1.5mm; padding: 1.5mm 2mm; break-inside: avoid; }
.card .label { font-size: 7.8pt; color: #4b5563; }
.card .value { font-size: 14pt; font-weight: 600; }
.card .delta { font-size: 8pt; }
.good { color: #047857; } .bad { color: #b91c1c; } .off { color: #4b5563; }
.two { display: grid; grid-template-columns: 1.15fr 1fr; gap: 4mm; align-items: start; }
table { width: 100%; border-collapse: collapse; break-inside: avoid; }
th, td { text-align: left; padding: 0.4mm 1.2mm; border-bottom: 0.2mm solid #e5e7eb; vertical-align: top;
         font-size: 8.4pt; }
td.group { font-weight: 600; color: #374151; padding-top: 1.2mm; border-bottom: 0.3mm solid #cbd5e1; }
th { font-size: 7.8pt; color: #4b5563; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
ul { margin: 0.5mm 0 0.5mm 4mm; padding: 0; }
li { margin: 0 0 0.9mm; break-inside: avoid; }
footer { margin-top: 2.5mm; font-size: 7.2pt; color: #6b7280; }
svg { display: block; }
"""


def report_html(plan: Plan, touchpoints: pd.DataFrame, *, source: str | None = None,
                created: datetime | None = None) -> str:
    """The plan's one-page report as a self-contained HTML document. `touchpoints` is the table the plan was made
    from (before the scenario's what-ifs); `source` names the data (a file name)."""
    created = created or datetime.now(UTC).replace(microsecond=0)
    scenario = plan.scenario
    head = [f"<h1>{escape(scenario.name)}</h1>"]
    if scenario.description:
        head.append(f"<p>{escape(scenario.description)}</p>")
    data = f"Data: {escape(source)}. " if source else ""
    head.append(f"<p class='muted small'>{data}Planned {created:%d %B %Y, %H:%M} UTC with budgetopt {__version__}. "
                "Every change is against today: the data as given.</p>")
    if not plan.ok:
        body = _no_plan(plan)
    else:
        body = _plan(plan, touchpoints)
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(scenario.name)}: budgetopt report</title><style>{CSS}</style></head>"
            f"<body><div class='page'>{''.join(head)}{body}"
            f"<footer>budgetopt {__version__} · a linear programme (PuLP, HiGHS) on piecewise response curves; local "
            "prices are duals: what loosening a limit a little would buy.</footer></div></body></html>")


def _no_plan(plan: Plan) -> str:
    items = "".join(f"<li>{escape(c)}</li>" for c in plan.conflicts)
    advice = "".join(f"<li>{escape(a[:1].upper() + a[1:])}</li>" for a in plan.advice)
    return (f"<h2>No plan: {escape(plan.message)}</h2>"
            + (f"<p>These rules cannot all hold together:</p><ul>{items}</ul>" if items else "")
            + (f"<ul>{advice}</ul>" if advice else "")
            + f"<p class='muted'>{escape(report.today_line(None, plan))}</p>")


def _plan(plan: Plan, touchpoints: pd.DataFrame) -> str:
    cards = report.plan_cards(plan)
    shown = "".join(
        f"<div class='card'><div class='label'>{escape(c.label)}</div><div class='value'>{escape(c.value)}</div>"
        f"<div class='delta {_tone(c)}'>{escape(c.delta or '')}&nbsp;</div></div>" for c in cards)
    lines = report.plan_notes(plan)
    spread = getattr(plan, "range", None)  # engaged customers over the curves' uncertainty, where a plan has it
    if spread is not None:
        words = spread.words()
        lines.insert(0, words[:1].upper() + words[1:])
    notes = "".join(f"<p class='muted'>{escape(n)}</p>" for n in lines)
    holding = plain_rules(plan, touchpoints)
    moves = explain_moves(plan, holding, count=MOVES_SHOWN)
    bars = svg.bars_svg(report.before_after(plan, S.FUNCTION, top=report.GROUPS_SHOWN), S.FUNCTION, width=440,
                        row=19)
    parts = [f"<div class='cards' style='--cards: {len(cards)}'>{shown}</div>", notes,
             "<div class='two'><div><h2>Where the money goes, by function</h2>", bars, "</div><div>",
             "<h2>Money moving between functions</h2>", _transfers(plan), "</div></div>",
             "<h2>Why the money moves</h2>", _moves(moves),
             "<h2>What holds the plan back</h2>", _holding(holding)]
    if plan.basis is not None:
        parts += ["<h2>What the plan rests on</h2><ul class='small'>",
                  "".join(f"<li>{escape(line)}</li>" for line in plan.basis.lines(plan.currency)), "</ul>"]
    return "".join(parts)


def _tone(card: report.Card) -> str:
    """The colour of a card's change: green when it is good news, red when bad, grey when neutral."""
    if not card.delta or card.delta_color == "off" or card.delta.startswith("0.0"):
        return "off"
    up = card.delta.startswith("+")
    return "good" if up == (card.delta_color == "normal") else "bad"


def _transfers(plan: Plan) -> str:
    moved = plan.transfers
    if moved.empty:
        return "<p class='muted'>No money moves between functions.</p>"

    def name(function: str, giving: bool) -> str:
        return ("extra budget" if giving else "budget cut") if function == BUDGET_CHANGE else function

    rows = "".join(f"<tr><td>{escape(name(r.from_function, True))}</td><td>{escape(name(r.to_function, False))}</td>"
                   f"<td class='num'>{escape(plan.money(r.amount))}</td></tr>"
                   for r in moved.head(TRANSFERS_SHOWN).itertuples())
    more = len(moved) - TRANSFERS_SHOWN
    tail = f"<p class='muted small'>and {more} smaller transfers.</p>" if more > 0 else ""
    return (f"<table><tr><th>from</th><th>to</th><th class='num'>amount</th></tr>{rows}</table>{tail}")


def _moves(moves: pd.DataFrame) -> str:
    if moves.empty:
        return "<p class='muted'>No touchpoint moves more than half a percent of today's budget.</p>"
    items = "".join(f"<li>{escape(why)}" + (f"<br><span class='muted small'>Rests on: {escape(rests)}.</span>"
                                             if rests else "") + "</li>"  # its own curve (none: removed)
                    for why, rests in zip(moves["why"], moves["rests_on"], strict=True))
    return f"<ul>{items}</ul>"


def _holding(holding: pd.DataFrame) -> str:
    if holding.empty:
        return "<p class='muted'>No rule holds this plan back.</p>"
    shown = holding.head(RULES_SHOWN)
    rows = []
    for who, part in shown.groupby("set_by", sort=False):
        rows.append(f"<tr><td class='group' colspan='2'>{escape(who[:1].upper() + who[1:])}</td></tr>")
        rows += [f"<tr><td>{escape(words)}</td><td>{escape(price)}</td></tr>"
                 for words, price in zip(part["words"], part["price_text"], strict=True)]
    counts = holding["set_by"].value_counts()
    total = ", ".join(f"{int(counts[s])} from {s}" for s in SET_BY if s in counts)
    more = (f"<p class='muted small'>{len(holding)} limits bind in all ({total}); the first {RULES_SHOWN} by who "
            "set them, then by price.</p>") if len(holding) > RULES_SHOWN else ""
    return ("<table><colgroup><col style='width:52%'><col></colgroup>"
            "<tr><th>limit</th><th>what it costs (local price)</th></tr>"
            f"{''.join(rows)}</table>{more}")


def find_chromium() -> str | None:
    """A Chromium (or Chrome) to print with: $BUDGETOPT_CHROMIUM, one on the PATH, or None (Playwright's own)."""
    named = os.environ.get(CHROMIUM_VARIABLE)
    if named:
        return named
    return next((found for found in map(shutil.which, CHROMIUM_NAMES) if found), None)


def pdf_ready() -> tuple[bool, str | None]:
    """(True, None) when a PDF can be printed here, else (False, why and what to do)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False, "a PDF needs Playwright (pip install playwright); the HTML report prints from any browser"
    own = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    if find_chromium() is None and not any(own.glob("chromium*")):
        return False, ("a PDF needs Chromium (apt-get install chromium, or name one in "
                       f"${CHROMIUM_VARIABLE}); the HTML report prints from any browser")
    return True, None


def report_pdf(html: str, timeout_seconds: float = 60.0) -> bytes:
    """The HTML printed to an A4 PDF by a headless Chromium (Playwright drives it; no file is written)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BudgetOptError("a PDF needs Playwright: pip install playwright (and a Chromium: apt-get install "
                             "chromium); the HTML report needs nothing and prints from any browser") from exc
    executable = find_chromium()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, timeout=timeout_seconds * 1000,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            try:
                page = browser.new_page(viewport={"width": PRINTABLE_PX[0], "height": PRINTABLE_PX[1]})
                page.emulate_media(media="print")
                page.set_content(html, wait_until="load", timeout=timeout_seconds * 1000)
                height = float(page.evaluate("document.documentElement.scrollHeight"))
                scale = max(SMALLEST_SCALE, min(1.0, PRINTABLE_PX[1] / height)) if height > 0 else 1.0
                return page.pdf(format="A4", print_background=True, prefer_css_page_size=True, scale=scale)
            finally:
                browser.close()
    except PlaywrightError as exc:
        where = executable or "Playwright's own browser"
        raise BudgetOptError(f"the PDF could not be printed with {where}: {str(exc).splitlines()[0]}; install "
                             f"chromium (apt-get install chromium) or name one in ${CHROMIUM_VARIABLE}, or use the "
                             "HTML report and print it from a browser") from exc
