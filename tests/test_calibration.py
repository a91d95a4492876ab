"""The full-scale baseline meets the calibration targets in data/targets.csv."""

from __future__ import annotations

import pytest

from sim import budget as money
from sim.calibration import report
from sim.summary import baseline_summary
from sim.simulation import simulate


@pytest.fixture(scope="module")
def full_baseline(data):
    res = simulate("baseline", seed=1, data=data)
    summary = baseline_summary(res, money.budget_table(res, data))
    return res, summary


def test_contract_figures_within_tolerance(full_baseline):
    _, s = full_baseline
    assert s["sick.persons_per_year"] == pytest.approx(700_000, rel=0.05)
    assert s["sick.reaching_week22_per_year"] == pytest.approx(30_000, rel=0.15)
    assert s["sick.to_job_clarification_per_year"] == pytest.approx(5_000, rel=0.20)
    assert s["budget.effort_baseline_bn"] == pytest.approx(11.4, rel=0.03)


def test_every_calibrated_target_within_tolerance(full_baseline, data):
    res, s = full_baseline
    table = report(res, data, s)
    assert len(table) == len(data.targets)          # every target is compared
    hard = table[table["role"] == "calibrated"]
    assert hard["within"].all(), hard.loc[~hard["within"], ["target", "value", "model"]].to_string()


def test_baseline_is_stationary(full_baseline):
    """Calibrated inflows and the initial stock give a flat baseline: no drift over 11 years."""
    res, s = full_baseline
    persons = s["sick.persons_by_year"]
    assert max(persons.values()) / min(persons.values()) < 1.01
    total = res.occupancy.sum(axis=(1, 2, 3))
    assert abs(total[-12:].mean() / total[:12].mean() - 1) < 0.03


def test_calibrate_command_reports_the_effort_targets(tmp_path, data):
    """``reformsim calibrate`` writes every target, the effort ones included, to calibration.csv
    and the effort measures under the targets' names to summary.json."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd
    root = Path(__file__).resolve().parent.parent
    res = subprocess.run([sys.executable, "-m", "sim.cli", "calibrate", "--out", str(tmp_path)], cwd=root,
                         capture_output=True, text=True, env=dict(os.environ, REFORMSIM_CHART_WORKERS="0"))
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(tmp_path / "calibration.csv")
    assert list(table["target"]) == list(data.targets["name"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    effort = [n for n in data.targets["name"] if n.startswith(("effort.", "flows."))]
    assert len(effort) == 4
    for name in effort:
        model = table.loc[table["target"] == name, "model"].iloc[0]
        assert summary[name] == pytest.approx(model) and summary[name] > 0
