"""The browser page (reformsim serve): levers, runs, and a real browser from the user's side.

The browser test drives Debian's Chromium (``make test`` installs it) with Playwright: it opens
the page, changes a lever, runs at a small scale, sees the key figures and a chart, downloads
the workbook and the scenario files, and checks that the files reproduce the run through the
command line, byte for byte.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sim.page.jobs import Runs
from sim.page.levers import Choice, file_names, write_files
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
#: Chromium as root in a closed network: no sandbox, no background connections (they are refused)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_levers_write_files_that_load_and_keep_the_reform(tmp_path, data):
    choice = Choice("baseline", "expert_group", {"meeting_effect": "0.12", "followup_share": "0.8",
                                                 "priority": "proportional"}, scale=0.01)
    assert write_files(choice, tmp_path, data) == {}
    base_file, reform_file = file_names(choice)
    base, reform = load_scenario(tmp_path / base_file, data), load_scenario(tmp_path / reform_file, data)
    parent = load_scenario("expert_group", data)
    # the behaviour lever holds in both scenarios; the reform's own levers from its first month
    assert base.params_at(0)["behaviour.meeting_effect"] == reform.params_at(0)["behaviour.meeting_effect"] == 0.12
    first = min(ch.month for ch in parent.changes if ch not in set(base.changes)) - parent.start
    assert reform.params_at(first)["rules.general.followup_delivery_share"] == 0.8
    assert reform.params_at(first - 1)["rules.general.followup_delivery_share"] == 1.0
    # the reform's saving, youth cut and budget mode are kept; only the priority changed
    assert reform.savings == parent.savings and reform.youth_cut == parent.youth_cut
    assert reform.effort_mode == parent.effort_mode and reform.priority == "proportional"


def test_saving_lever_phases_in_linearly(tmp_path, data):
    choice = Choice("baseline", "expert_group", {"saving_bn": "2.0", "phase_from": "2027", "phase_to": "2028"})
    assert write_files(choice, tmp_path, data) == {}
    reform = load_scenario(tmp_path / file_names(choice)[1], data)
    levels = reform.saving_levels().sum(axis=1)
    months = reform.months
    assert levels[months.index("2026-12")] == 0
    assert levels[months.index("2027-01")] == pytest.approx(1.0)
    assert levels[months.index("2028-01")] == pytest.approx(2.0)


@pytest.mark.parametrize("values, field, fragment", [
    ({"followup_share": "1.5"}, "followup_share", "within [0, 1]"),
    ({"meeting_effect": "lots"}, "meeting_effect", "behaviour.meeting_effect"),
    ({"saving_bn": "20"}, "saving_bn", "allowed 0 to 11.4"),
    ({"saving_bn": "2", "phase_from": "2030", "phase_to": "2027"}, "phase_to", "before"),
])
def test_bad_lever_values_get_the_files_messages(tmp_path, data, values, field, fragment):
    errors = write_files(Choice("baseline", "expert_group", values), tmp_path, data)
    assert set(errors) == {field} and fragment in errors[field] and "\n" not in errors[field]


def test_an_upload_that_is_not_a_scenario_is_refused(tmp_path, data):
    errors = write_files(Choice("baseline", "upload", {}), tmp_path, data, upload=b"\x89PNG\r\n\x1a\n")
    assert set(errors) == {"upload"} and "not valid TOML" in errors["upload"]
    ok = (ROOT / "configs" / "djoef_now.toml").read_bytes()
    assert write_files(Choice("baseline", "upload", {}), tmp_path, data, upload=ok) == {}


def test_a_cancelled_run_leaves_no_results(tmp_path, data):
    runs = Runs(tmp_path / "results")
    staging = tmp_path / "results" / "staging" / "x"
    staging.mkdir(parents=True)
    choice = Choice("baseline", "expert_group", {}, scale=0.05, breakdown=True)
    assert write_files(choice, staging, data) == {}
    job = runs.submit(choice, staging)
    deadline = time.time() + 120
    while not job.progress() and time.time() < deadline:
        time.sleep(0.2)
    assert job.state == "running" and job.progress()
    assert runs.cancel(job.key)
    assert job.state == "cancelled"
    assert not (job.folder / "out").exists() and not (job.folder / "out.part").exists()
    assert runs.get(job.key).state == "cancelled"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``reformsim serve`` on a free port, with its results folder."""
    results = tmp_path_factory.mktemp("page")
    env = dict(os.environ, REFORMSIM_CHART_WORKERS="0")
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "serve", "--port", "0", "--results", str(results)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert match, line
    yield f"http://127.0.0.1:{match.group(1)}", results
    proc.terminate()
    proc.wait(timeout=20)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_nothing_outside_a_run_is_served(server):
    url, _ = server
    for path in ("/run/0123456789abcdef01234567/files/report.xlsx", "/run/x/files/..%2F..%2Fpyproject.toml",
                 "/run/../pyproject.toml", "/static/../levers.py", "/run/x/charts/..%2Fsummary.json"):
        assert _get(url + path) == 404, path


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="make test installs Chromium (Debian package chromium)")
def test_the_page_in_a_browser(server, tmp_path):
    from playwright.sync_api import sync_playwright
    url, results = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(accept_downloads=True)
        page.goto(url + "/")
        # bad input: the message next to the field, and no run
        page.fill("#followup_share", "1.5")
        page.select_option("#scale", "0.01")
        page.click("#run")
        assert "within [0, 1]" in page.inner_text("#error-followup_share")
        # a file that is not a scenario: the message next to the upload, and no run
        page.fill("#followup_share", "")
        page.select_option("#reform", "upload")
        page.set_input_files("#upload", str(ROOT / "docs" / "page.png"))
        page.click("#run")
        assert "not valid TOML" in page.inner_text("#error-upload")
        assert not list((results / "runs").glob("*/out"))
        page.select_option("#reform", "expert_group")
        page.set_input_files("#upload", [])
        # a lever changed, a small run in Danish
        page.fill("#followup_share", "")
        page.fill("#meeting_effect", "0.12")
        page.select_option("#lang", "da")
        page.uncheck("input[name=breakdown]")
        page.click("#run")
        page.wait_for_selector("#key-figures", timeout=300_000)
        assert "2030" in page.inner_text("#key-figures")
        chart = page.locator("img.chart").first
        chart.wait_for()
        assert page.evaluate("img => img.naturalWidth", chart.element_handle()) > 100
        saved = {}
        for name in ("report.xlsx", "baseline_page.toml", "expert_group_page.toml"):
            with page.expect_download() as info:
                page.click(f"#downloads a[href$='/{name}']")
            saved[name] = tmp_path / name
            info.value.save_as(saved[name])
        run_url = page.url
        # another browser session does not see this one's runs
        other = browser.new_context().new_page()
        other.goto(url + "/")
        assert run_url.rsplit("/", 1)[1] not in other.content()
        browser.close()
    assert saved["report.xlsx"].read_bytes()[:2] == b"PK"
    # the scenario files reproduce the run from the command line, byte for byte
    key = run_url.rsplit("/", 1)[1]
    out = tmp_path / "cli"
    env = dict(os.environ, REFORMSIM_CHART_WORKERS="0")
    res = subprocess.run([sys.executable, "-m", "sim.cli", "compare", "baseline_page.toml", "expert_group_page.toml",
                          "--out", str(out), "--scale", "0.01", "--lang", "da", "--seed", "1", "--no-breakdown"],
                         cwd=tmp_path, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    page_budget = (results / "runs" / key / "out" / "budget.csv").read_bytes()
    assert (out / "budget.csv").read_bytes() == page_budget
