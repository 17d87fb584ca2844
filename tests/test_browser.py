"""The page in a real browser: start the app on a free localhost port, drive headless Chromium (Debian's
package, through Playwright), change the budget, see the headline move, download the plan as CSV and as Excel,
take a screenshot."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
STARTUP_SECONDS = 60
WAIT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`streamlit run app.py` on localhost and a free port; stopped (by its own handle) after the test."""
    port = free_port()
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "localhost", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise AssertionError("the app did not start:\n" + (tmp_path / "streamlit.log").read_text())
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def card(page, label: str):
    """The value of the first (headline) card with this label."""
    metric = page.get_by_test_id("stMetric").filter(has=page.get_by_text(label, exact=True)).first
    return metric.get_by_test_id("stMetricValue")


def test_change_the_budget_in_a_browser_and_download_the_plan(server, tmp_path):
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install chromium (bash .ci/setup --test does)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 2400}, accept_downloads=True)
            page.goto(server)
            expect(card(page, "Budget")).to_have_text("14.05 M", timeout=WAIT_MS)
            engaged_before = card(page, "Engaged customers").inner_text()
            cpe_before = card(page, "Average CPE").inner_text()

            budget = page.get_by_label("Budget (exact amount)", exact=True)
            expect(budget).to_have_value("14,045,000")  # thousands separators in the box
            budget.fill("12,000,000")
            budget.press("Enter")
            expect(card(page, "Budget")).to_have_text("12.00 M", timeout=WAIT_MS)
            expect(card(page, "Engaged customers")).not_to_have_text(engaged_before, timeout=WAIT_MS)
            assert card(page, "Average CPE").inner_text() != cpe_before
            expect(page.get_by_text("-14.6 % against today's 14,045,000")).to_be_visible()

            download_button = page.get_by_role("button", name="Download the plan (CSV)")
            expect(download_button).to_be_visible(timeout=WAIT_MS)
            page.wait_for_timeout(1000)  # let the charts finish drawing before the screenshot
            page.screenshot(path=tmp_path / "app.png", full_page=True)
            with page.expect_download(timeout=WAIT_MS) as download:
                download_button.click()
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
            with page.expect_download(timeout=WAIT_MS) as download:  # built by the server when clicked
                page.get_by_role("button", name="Download the plan (Excel)").click()
            workbook = tmp_path / download.value.suggested_filename
            download.value.save_as(workbook)
        finally:
            browser.close()
    plan = pd.read_csv(saved)
    assert len(plan) == 51
    assert plan["proposed_spend"].sum() == pytest.approx(12_000_000, rel=1e-6)
    assert workbook.suffix == ".xlsx"
    sheet = pd.read_excel(workbook, sheet_name="Plan", engine="openpyxl")
    assert sheet["Proposed spend"].iloc[:51].sum() == pytest.approx(12_000_000, rel=1e-6)
    assert (tmp_path / "app.png").stat().st_size > 50_000
