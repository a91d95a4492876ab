"""The command line: outputs of the contract, determinism, and clear errors for bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, env=None):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, env=e)


def assert_bad_input(res, *fragments):
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    for name in ("a", "b"):
        res = cli("run", "baseline", "--out", out / name, "--scale", "0.02", "--seed", "5")
        assert res.returncode == 0, res.stderr
    return out / "a", out / "b"


def test_run_writes_the_contract(run_dirs):
    a, _ = run_dirs
    summary = json.loads((a / "summary.json").read_text())
    for key in ("sick.persons_per_year", "sick.reaching_week22_per_year",
                "sick.to_job_clarification_per_year", "budget.effort_baseline_bn"):
        assert isinstance(summary[key], float) and summary[key] > 0
    budget = pd.read_csv(a / "budget.csv")
    assert list(budget.columns) == ["year", "scenario", "line", "payer", "dkk"]
    assert {"jobcentre_operations", "guidance_upskilling", "other_effort"} <= set(budget["line"])
    assert set(budget["payer"]) <= {"state", "municipality", "employer"}
    caseload = pd.read_parquet(a / "caseload.parquet")
    assert list(caseload.columns) == ["month", "scenario", "scheme", "group", "persons"]
    assert caseload.loc[caseload["scheme"] == "current", "group"].nunique() == 13
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["scale"] == 0.02 and manifest["engine"] == "numba"
    assert any(k.endswith("baseline.toml") for k in manifest["scenario_files"])
    assert len(list((a / "charts").glob("*.png"))) >= 2


def test_same_seed_identical_files(run_dirs):
    a, b = run_dirs
    for name in ("summary.json", "budget.csv", "caseload.parquet", "flows.parquet", "calibration.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_scenarios_lists_baseline():
    res = cli("scenarios")
    assert res.returncode == 0
    assert res.stdout.splitlines()[0].startswith("baseline")


@pytest.mark.parametrize("args,fragments", [
    (("run", "basline", "--out", "{tmp}"), ("unknown scenario 'basline'", "did you mean 'baseline'")),
    (("run", "baseline", "--out", "{tmp}", "--scale", "2"), ("--scale",)),
    (("run", "baseline", "--out", "{tmp}", "--scale", "x"), ("--scale",)),
    (("run", "baseline", "--out", "{tmp}", "--engine", "gpu"), ("--engine",)),
    (("run", "baseline", "--out", "{tmp}", "--seed", "-3"), ("--seed",)),
    (("run", "/nonexistent/x.toml", "--out", "{tmp}"), ("not found",)),
    (("frobnicate",), ("invalid choice",)),
])
def test_bad_arguments(tmp_path, args, fragments):
    assert_bad_input(cli(*(a.format(tmp=tmp_path) for a in args)), *fragments)


BAD_SCENARIOS = {
    "unknown_key": ('description = "x"\nbaseline = "baseline"\ncahnge = []\n', ("cahnge", "change")),
    "not_toml": ('description = "x\nbaseline = ', ("not valid TOML",)),
    "wrong_type": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = "rules.dagpenge.akasse_months"\n'
                   'value = "six"\nsource = "s"\n', ("change[0].value", "not a number")),
    "probability": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = '
                    '"rules.dagpenge.job_education_uptake_per_month"\nvalue = 1.5\nsource = "s"\n', ("[0, 1]",)),
    "unknown_parameter": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = '
                          '"rules.dagpenge.akase_months"\nvalue = 6\nsource = "s"\n',
                          ("akase_months", "did you mean 'rules.dagpenge.akasse_months'")),
    "out_of_order": ('description = "x"\nbaseline = "baseline"\n'
                     '[[change]]\nparameter = "rules.dagpenge.akasse_months"\nvalue = 6\nstart = "2027-01"\nsource = "s"\n'
                     '[[change]]\nparameter = "rules.dagpenge.akasse_months"\nvalue = 4\nstart = "2026-01"\nsource = "s"\n',
                     ("date order",)),
    "outside_horizon": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = '
                        '"rules.dagpenge.akasse_months"\nvalue = 6\nstart = "2040-01"\nsource = "s"\n', ("horizon",)),
    "unknown_baseline": ('description = "x"\nbaseline = "nosuch"\n', ("baseline", "unknown scenario 'nosuch'")),
    "no_horizon": ('description = "x"\n', ("horizon",)),
    "schedule_not_increasing": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = '
                                '"rules.dagpenge.contact_months"\nvalue = [3, 1]\nsource = "s"\n', ("increasing",)),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_malformed_scenarios(tmp_path, case):
    text, fragments = BAD_SCENARIOS[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    assert_bad_input(cli("run", path, "--out", tmp_path / "out", "--scale", "0.01"), str(path), *fragments)


def _population(tmp_path, **change):
    df = pd.DataFrame({
        "person_id": np.arange(4, dtype=np.int64), "entry_month": ["2025-01", "2025-01", "2025-03", "2026-02"],
        "state": ["sick", "dagpenge", "flex_job", "sa_activity_ready"], "months_in_state": [2, 0, 30, 0],
        "age": [45, 28, 50, 33], "provider": [True, False, False, True], "insured": [False, True, True, False],
        "sick_from_job": [True, False, False, False], "distance": ["close", "middle", "far", "far"],
    })
    for k, v in change.items():
        if v is None:
            df = df.drop(columns=k)
        else:
            df[k] = v
    path = tmp_path / "pop.parquet"
    df.to_parquet(path)
    return path


def test_user_population_runs(tmp_path):
    res = cli("run", "baseline", "--out", tmp_path / "o", "--population", _population(tmp_path))
    assert res.returncode == 0, res.stderr
    caseload = pd.read_parquet(tmp_path / "o" / "caseload.parquet")
    first = caseload[(caseload["month"] == "2025-01") & (caseload["scheme"] == "current")]
    assert first["persons"].sum() == pytest.approx(2.0)


@pytest.mark.parametrize("change,fragment", [
    ({"state": ["sick", "dagpenge", "flexjob", "sa_activity_ready"]}, "did you mean 'flex_job'"),
    ({"person_id": [0, 1, 1, 2]}, "duplicates"),
    ({"distance": None}, "missing column"),
    ({"entry_month": ["2025-01", "2025-01", "2025-03", "2040-01"]}, "outside"),
    ({"age": [45, 28, -1, 33]}, "'age'"),
])
def test_bad_population(tmp_path, change, fragment):
    path = _population(tmp_path, **change)
    assert_bad_input(cli("run", "baseline", "--out", tmp_path / "o", "--population", path), str(path), fragment)


def test_population_not_parquet(tmp_path):
    path = tmp_path / "pop.parquet"
    path.write_text("not parquet")
    assert_bad_input(cli("run", "baseline", "--out", tmp_path / "o", "--population", path), "Parquet")


MORE_BAD_SCENARIOS = {
    "unknown_scheme": ('description = "x"\nbaseline = "baseline"\nscheme = "expert_grup"\n',
                       ("scheme", "did you mean 'expert_group'")),
    "bad_selector": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = '
                     '"rules.dagpenge@farr.contact_months"\nvalue = [0]\nsource = "s"\n', ("selector 'farr'", "far")),
    "content_alone": ('description = "x"\nbaseline = "baseline"\ncontent_from = "expert_group"\n',
                      ("content_start",)),
    "shares_not_one": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = '
                       '"destination.sick.limit.job_clarification"\nvalue = 0.5\nsource = "s"\n',
                       ("add up to", "destination.sick.limit")),
    "circular": ('description = "x"\nbaseline = "circular.toml"\n', ("circular",)),
    "no_effect": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = '
                  '"rules.dagpenge@far.entitlement_months"\nvalue = 12\nsource = "s"\n', ("has no effect",)),
    "not_whole": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = '
                  '"rules.dagpenge.offer_first_month"\nvalue = 2.5\nsource = "s"\n', ("whole number",)),
    "half_flag": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = '
                  '"rules.resource_course.closed"\nvalue = 0.5\nsource = "s"\n', ("0 or 1",)),
    "same_name": ('description = "x"\nbaseline = "baseline"\n', ("same name",)),
}


@pytest.mark.parametrize("case", sorted(MORE_BAD_SCENARIOS))
def test_more_malformed_scenarios(tmp_path, case):
    text, fragments = MORE_BAD_SCENARIOS[case]
    path = tmp_path / f"{case}.toml"
    if case == "same_name":                 # a reform file called baseline.toml elsewhere
        (tmp_path / "sub").mkdir()
        path = tmp_path / "sub" / "baseline.toml"
    path.write_text(text)
    res = cli("compare", "baseline", path, "--out", tmp_path / "out", "--scale", "0.01", "--no-breakdown")
    assert_bad_input(res, str(path), *fragments)


def test_compare_cli(tmp_path):
    res = cli("compare", "baseline", "expert_group", "--out", tmp_path, "--scale", "0.01")
    assert res.returncode == 0, res.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    for key in ("budget.savings_bn", "budget.savings_by_line_bn", "budget.bottom_up_process_savings_bn",
                "employment.fulltime_persons_delta", "public_finances.net_effect_bn"):
        assert key in s
    assert len(list((tmp_path / "charts").glob("*.png"))) >= 4


def test_light_start():
    """The command line starts without numba, pandas, pydantic or matplotlib (``--help``, bad
    arguments), and ``sim.compare`` is the function after every module has been imported."""
    code = ("import sys, sim.cli; sim.cli.build_parser(); "
            "print(sorted(m for m in ('numba', 'pandas', 'pydantic', 'matplotlib', 'scipy') if m in sys.modules)); "
            "import sim.report, sim.comparison, sim.simulation, sim; from sim.summary import comparison_summary; "
            "print(callable(sim.compare), callable(sim.simulate), sim.compare_summary is comparison_summary)")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split("\n")[:2] == ["[]", "True True True"]


def test_bad_chart_workers(tmp_path):
    res = cli("run", "baseline", "--out", tmp_path, "--scale", "0.01", env={"REFORMSIM_CHART_WORKERS": "two"})
    assert_bad_input(res, "REFORMSIM_CHART_WORKERS", "'two'")


def _unprivileged():
    """A command prefix under which a file of mode 000 cannot be read (nothing for a non-root
    user; for root, setpriv without the capabilities that override file permissions), or None."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


@pytest.mark.parametrize("case", ["unreadable", "directory", "binary"])
def test_unreadable_scenario_file_gives_one_line(tmp_path, case):
    """A scenario file that cannot be read or decoded: one line on stderr and status 2, with the
    chart workers asked for (no warnings or tracebacks from worker processes)."""
    path = tmp_path / "reform.toml"
    prefix = []
    if case == "directory":
        path.mkdir()
    elif case == "binary":
        path.write_bytes(b"\xff\xfe\x00\x81 description = \x9c\n")
    else:
        path.write_text('description = "x"\nbaseline = "baseline"\n')
        path.chmod(0)
        prefix = _unprivileged()
        probe = subprocess.run([*(prefix or []), sys.executable, "-c", f"open({str(path)!r}).close()"],
                               capture_output=True)
        if prefix is None or probe.returncode == 0:
            pytest.skip("cannot make a file unreadable here")
    args = ["compare", "baseline", path, "--out", tmp_path / "out", "--scale", "0.01", "--no-breakdown"]
    res = subprocess.run([*prefix, sys.executable, "-m", "sim.cli", *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True, env=dict(os.environ, REFORMSIM_CHART_WORKERS="2"))
    assert_bad_input(res, str(path))
    assert res.stderr.startswith("reformsim: error: ")
