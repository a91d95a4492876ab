"""The README's screenshot of the browser page: ``python docs/make_screenshot.py`` (after
``make test`` has installed Chromium). Starts ``reformsim serve`` on a free port, runs the
expert group's reform at a small scale with one lever changed, and saves the form
(docs/page_form.png) and the results (docs/page.png)."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

with tempfile.TemporaryDirectory() as results:
    server = subprocess.Popen([sys.executable, "-m", "sim.cli", "serve", "--port", "0", "--results", results],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    url = re.search(r"http://\S+/", server.stdout.readline()).group(0)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(url)
            page.fill("#meeting_effect", "0.12")
            page.select_option("#scale", "0.02")
            page.screenshot(path=str(ROOT / "docs" / "page_form.png"), full_page=True)
            page.click("#run")
            page.wait_for_selector("#key-figures", timeout=600_000)
            page.locator("img.chart").first.wait_for()
            page.screenshot(path=str(ROOT / "docs" / "page.png"), full_page=False)
            browser.close()
    finally:
        server.terminate()
