"""Sweeps: a real Dask cluster gives the serial results, resuming after a kill, bad sweep files,
failed runs, and the bands keep Monte Carlo error apart from parameter uncertainty.

Small and fast: scale 0.005 over a two-year horizon (a short baseline and reform in tmp_path).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.scenario import load_scenario
from sim.sweep import RESULT_COLUMNS, apply_values, bands, load_sweep, run_sweep

ROOT = Path(__file__).resolve().parent.parent
SCALE = 0.005
KEYS = ["run_id", "variant", "draw", "seed", "year"]


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, **kw)


@pytest.fixture(scope="module")
def scen(tmp_path_factory):
    """A two-year baseline and a reform of it (reassessment at week 16 from 2026-01)."""
    d = tmp_path_factory.mktemp("sweep_scen")
    (d / "short_base.toml").write_text('description = "baseline, two years"\nbaseline = "baseline"\n'
                                       '[horizon]\nstart = "2025-01"\nend = "2026-12"\n')
    (d / "short_reform.toml").write_text(
        'description = "earlier reassessment"\nbaseline = "short_base.toml"\n'
        '[[change]]\nparameter = "rules.sick.reassessment_week"\nvalue = 16\nstart = "2026-01"\n'
        'source = "test"\n')
    return d


def sweep_file(scen: Path, name: str, body: str) -> Path:
    path = scen / f"{name}.toml"
    path.write_text(f'description = "test sweep {name}"\nbaseline = "short_base.toml"\n'
                    f'reform = "short_reform.toml"\nscale = {SCALE}\n{body}')
    return path


def metrics(df: pd.DataFrame) -> pd.DataFrame:
    cols = KEYS + [c for c in df.columns if "." in c] + list(RESULT_COLUMNS) + ["status", "error"]
    return df[cols].sort_values(KEYS, ignore_index=True)


@pytest.fixture(scope="module")
def grid4(scen):
    """4 runs: two worlds (meeting effect, applied to both scenarios) x two seeds."""
    return sweep_file(scen, "grid4", 'seeds = [1, 2]\n[grid]\n"behaviour.meeting_effect" = [0.05, 0.15]\n')


@pytest.fixture(scope="module")
def serial(grid4, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return out, run_sweep(grid4, out, workers=0, progress=False)


def test_local_cluster_gives_the_serial_results(grid4, serial, tmp_path):
    out_serial, df_serial = serial
    df = run_sweep(grid4, tmp_path, workers=2, progress=False)
    assert df["run_id"].nunique() == 4 and (df["status"] == "ok").all()
    assert sorted(df["year"].unique()) == [2025, 2026]
    assert not set(df["worker"].str.split(":").str[1].astype(int)) & {os.getpid()}   # ran elsewhere
    pd.testing.assert_frame_equal(metrics(df), metrics(df_serial))
    for f in ("results.parquet", "bands.csv", "bands.json", "bands.png", "sweep.json"):
        assert (tmp_path / f).exists(), f
    assert len(list((tmp_path / "runs").glob("run-*.parquet"))) == 4
    # the world parameter changes results; the reform's first year (2025) is untouched
    last = df[df["year"] == 2026].groupby("behaviour.meeting_effect")["employment_delta"].mean()
    assert last.loc[0.05] != last.loc[0.15]
    assert (df.loc[df["year"] == 2025, "savings_bn"] == 0).all()
    # a second call computes nothing
    again = run_sweep(grid4, tmp_path, workers=2, progress=False)
    assert again.attrs["computed"] == 0 and again.attrs["reused"] == 4
    pd.testing.assert_frame_equal(metrics(again), metrics(df))


def test_kill_and_resume(scen, tmp_path):
    path = sweep_file(scen, "resume", 'seeds = [1, 2]\n[grid]\n"rules.sick.reassessment_week" = [14, 16, 18]\n')
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "sweep", path, "--out", out, "--workers", "1"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while not list((out / "runs").glob("run-*.parquet")):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no run finished in 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)     # the sweep and its cluster's workers
        proc.wait()
        proc.stderr.close()
    before = len(list((out / "runs").glob("run-*.parquet")))
    assert 1 <= before < 6
    res = cli("sweep", path, "--out", out, "--workers", "0")
    assert res.returncode == 0, res.stderr
    assert f"{6 - before} computed now, {before} reused" in res.stdout
    df = pd.read_parquet(out / "results.parquet")
    assert df.groupby("run_id").size().tolist() == [2] * 6        # each run once, both years
    assert len(list((out / "runs").iterdir())) == 6                 # no leftovers of the cut write
    whole = run_sweep(path, tmp_path / "whole", workers=0, progress=False)
    pd.testing.assert_frame_equal(metrics(df), metrics(whole))


BAD = {
    "unknown_parameter": ('[grid]\n"behaviour.meeting_efect" = [0.1]\n',
                          ["grid key 'behaviour.meeting_efect'", "did you mean 'behaviour.meeting_effect'"]),
    "empty_grid": ("[grid]\n", ["key 'grid' is empty"]),
    "bad_distribution": ('n_draws = 2\n[[draw]]\nparameter = "behaviour.meeting_effect"\n'
                         'distribution = "gaussian"\nmean = 0.1\nsd = 0.02\n',
                         ["draw[0].distribution = 'gaussian'", "allowed: uniform, normal"]),
    "probability_out_of_range": ('n_draws = 2\n[[draw]]\nparameter = "hazard.sick.5_60"\n'
                                 'distribution = "uniform"\nlow = 0.1\nhigh = 1.5\n', ["within [0, 1]"]),
    "unknown_key": ('seed = [1]\n', ["unknown key 'seed'", "did you mean 'seeds'"]),
    # passed loading before, every run then failed and the sweep exited 0
    "half_flag_in_grid": ('[grid]\n"rules.resource_course.closed" = [0, 0.5]\n', ["grid.'rules.resource_course.closed'[1]",
                                                                               "0 or 1"]),
    "drawn_flag": ('n_draws = 2\n[[draw]]\nparameter = "rules.job_clarification.closed"\ndistribution = "uniform"\n'
                   'low = 0\nhigh = 1\n', ["draw[0]", "0 or 1 (a flag)", "choice"]),
    "half_month_in_grid": ('[grid]\n"rules.dagpenge.akasse_months" = [2.5, 6]\n', ["whole number"]),
    "nan_in_grid": ('[grid]\n"behaviour.meeting_effect" = [nan]\n', ["finite"]),
    "string_in_grid": ('[grid]\n"behaviour.meeting_effect" = ["0.1"]\n', ["not a number"]),
    "draw_beyond_range": ('n_draws = 2\n[[draw]]\nparameter = "behaviour.lockin_effect"\ndistribution = "triangular"\n'
                          'low = 0.2\nmode = 0.9\nhigh = 1.4\n', ["[0.2, 1.4]", "within [0, 1]"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_sweep_file_exits_2_before_any_work(scen, tmp_path, case):
    body, fragments = BAD[case]
    path = sweep_file(scen, f"bad_{case}", body)
    out = tmp_path / "out"
    res = cli("sweep", path, "--out", out, "--workers", "2")
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    for f in [str(path)] + fragments:
        assert f in lines[0], lines[0]
    assert not (out / "runs").exists()


@pytest.mark.parametrize("body, fragment", [
    ('replicates = 2\nseeds = [1]\n', "exclude each other"),
    ('[grid]\n"behaviour.meeting_effect" = []\n', "non-empty list"),
    ('[grid]\n"effort.priority" = ["proportional"]\n', "budget_constrained"),
    ('[grid]\n"rules.dagpenge.contact_months" = [[3, 1]]\n', "increasing"),
    ('[[draw]]\nparameter = "behaviour.meeting_effect"\ndistribution = "uniform"\nlow = 0\nhigh = 1\n', "n_draws"),
    ('n_draws = 2\n[[draw]]\nparameter = "behaviour.meeting_effect"\ndistribution = "uniform"\nlow = 0.2\n'
     'high = 0.1\n', "below high"),
    ('n_draws = 2\n[[draw]]\nparameter = "behaviour.meeting_effect"\ndistribution = "normal"\nmean = 0.1\n'
     'sd = 0.02\nmode = 1\n', "unknown key 'mode'"),
    ('n_draws = 2\n[[draw]]\nparameter = "hazard.sick.5_60"\ndistribution = "normal"\nmean = 0.1\nsd = 0.02\n',
     "finite bounds"),
    ('replicates = 10\nmax_runs = 8\n[grid]\n"behaviour.meeting_effect" = [0.05, 0.15]\n', "more than max_runs"),
])
def test_validation_messages(scen, body, fragment):
    path = sweep_file(scen, "bad", body)
    with pytest.raises(InputError, match=None) as err:
        load_sweep(path)
    assert str(path) in str(err.value) and fragment in str(err.value), str(err.value)


def test_draws_are_valid_reproducible_and_independent_of_other_entries(scen):
    one = ('n_draws = 5\ndraw_seed = 3\n[[draw]]\nparameter = "behaviour.meeting_effect"\n'
           'distribution = "normal"\nmean = 0.1\nsd = 0.05\nlow = 0.0\nhigh = 1.0\n')
    two = one + ('[[draw]]\nparameter = "hazard.sick.5_60"\ndistribution = "triangular"\nlow = 0.1\n'
                 'mode = 0.2\nhigh = 0.3\n')
    a = load_sweep(sweep_file(scen, "d1", one))
    b = load_sweep(sweep_file(scen, "d2", two))
    va = [r.values["behaviour.meeting_effect"] for r in a.runs]
    assert va == [r.values["behaviour.meeting_effect"] for r in b.runs]
    assert min(va) >= 0 and len(set(va)) == 5
    assert all(0.1 <= r.values["hazard.sick.5_60"] <= 0.3 for r in b.runs)
    assert [r.run_id for r in a.runs] == [r.run_id for r in load_sweep(sweep_file(scen, "d1", one)).runs]


def test_world_parameters_change_both_scenarios_rules_the_reform_only(scen, data):
    base = load_scenario(scen / "short_base.toml", data)
    reform = load_scenario(scen / "short_reform.toml", data)
    b, r = apply_values(base, reform, {"behaviour.meeting_effect": 0.2, "rules.sick.reassessment_week": 12.0,
                                       "rules.sick.medical_certificate_month": 3.0})
    assert b.params_at(0)["behaviour.meeting_effect"] == r.params_at(0)["behaviour.meeting_effect"] == 0.2
    assert b.params_at(23)["rules.sick.reassessment_week"] == 22          # baseline untouched
    assert r.params_at(11)["rules.sick.reassessment_week"] == 22          # the reform's date is kept
    assert r.params_at(12)["rules.sick.reassessment_week"] == 12          # its value is the sweep's
    assert r.params_at(11)["rules.sick.medical_certificate_month"] == b.params_at(11)["rules.sick.medical_certificate_month"]
    assert r.params_at(12)["rules.sick.medical_certificate_month"] == 3   # from the reform's start


def test_failed_run_is_recorded_and_the_others_finish(scen, data, tmp_path):
    ok = data.params["destination.sick.limit.exit_job"]
    path = sweep_file(scen, "fail", f'[grid]\n"destination.sick.limit.exit_job" = [{ok}, 0.9]\n')
    df = run_sweep(path, tmp_path, workers=0, progress=False)
    bad = df[df["destination.sick.limit.exit_job"] == 0.9]
    good = df[df["destination.sick.limit.exit_job"] == ok]
    assert len(bad) == 1 and bad["status"].iloc[0] == "failed" and "add up to" in bad["error"].iloc[0]
    assert bad["year"].isna().all()
    assert len(good) == 2 and (good["status"] == "ok").all()
    b = pd.read_csv(tmp_path / "bands.csv")
    assert set(b["year"]) == {2025, 2026} and (b["n_draws"] == 1).all()
    assert df.attrs["failed"] == 1
    assert run_sweep(path, tmp_path, workers=0, progress=False).attrs["computed"] == 0
    assert run_sweep(path, tmp_path, workers=0, progress=False, retry_failed=True).attrs["computed"] == 1


def test_bands_keep_monte_carlo_error_apart():
    rows = []
    for draw, level in enumerate([1.0, 2.0, 3.0, 4.0, 5.0]):
        for seed, noise in ((1, -0.1), (2, 0.1)):
            rows.append({"run_id": f"{draw}-{seed}", "variant": "r", "draw": draw, "seed": seed, "year": 2030,
                         "savings_bn": level + noise, "employment_delta": 0.0, "net_effect_bn": level,
                         "status": "ok"})
    rows.append({"run_id": "x", "variant": "r", "draw": 9, "seed": 1, "year": None, "savings_bn": np.nan,
                 "employment_delta": np.nan, "net_effect_bn": np.nan, "status": "failed"})
    b = bands(pd.DataFrame(rows)).set_index("measure")
    s = b.loc["savings_bn"]
    assert (s["n_draws"], s["n_seeds"]) == (5, 2)
    assert s["p50"] == pytest.approx(3.0) and s["p5"] == pytest.approx(1.2) and s["p95"] == pytest.approx(4.8)
    assert s["mc_sd"] == pytest.approx(np.sqrt(0.02)) and s["mc_se"] == pytest.approx(0.1)
    assert s["param_sd"] == pytest.approx(np.sqrt(2.5 - 0.01))
    assert b.loc["net_effect_bn", "mc_sd"] == 0.0


def test_example_is_small(data):
    sweep = load_sweep(ROOT / "configs" / "sweeps" / "example.toml", data)
    assert len(sweep.runs) <= 8 and sweep.scale == 0.02
    assert sweep.n_draws >= 2 and len(sweep.seeds) >= 2 and len(sweep.variants) >= 2


def test_fixed_share_sweep_draws_the_share_for_both_scenarios(data):
    """configs/sweeps/fixed_share.toml varies the calibrated fixed share over its stated range, for
    baseline and reform alike (a world parameter), and the comparison reads it."""
    from sim.sweep.run import apply_values
    from sim.comparison import compare
    from sim.summary import comparison_summary
    sweep = load_sweep(ROOT / "configs" / "sweeps" / "fixed_share.toml", data)
    assert len(sweep.runs) == 5
    values = [run.values["money.effort_fixed_share"] for run in sweep.runs]
    assert all(0.1 <= v <= 0.5 for v in values) and len(set(values)) == 5
    base, reform = apply_values(load_scenario("baseline", data), load_scenario("expert_group", data),
                                {"money.effort_fixed_share": 0.5})
    s = comparison_summary(compare(base, reform, seed=1, scale=0.01, breakdown=False))
    low = comparison_summary(compare("baseline", "expert_group", seed=1, scale=0.01, data=data, breakdown=False))
    # the sweep records who bears the cut as well
    from sim.sweep.run import run_task
    assert {"rationed_bn", "youth_cut_bn"} <= set(RESULT_COLUMNS)
    row = run_task(sweep.task(sweep.runs[0])).set_index("year").loc[2030]
    assert row["status"] == "ok" and row["rationed_bn"] > 0.5 and 0 < row["youth_cut_bn"] < 1
    # the rule changes free (1 - share) of the variable cost they remove
    assert s["budget.bottom_up_process_savings_bn"]["2030"] == pytest.approx(
        low["budget.bottom_up_process_savings_bn"]["2030"] * 0.5 / (1 - data.params["money.effort_fixed_share"]), rel=1e-9)


def test_downturn_exposure_sweep_records_the_spread_of_the_gap(data):
    """configs/sweeps/downturn_exposure.toml draws the exposure assumption (A-35) for both
    scenarios over its stated range, and each run records the reform's financing figures: a
    more uneven exposure spreads the municipalities' gap per inhabitant wider."""
    from sim.sweep.run import run_task
    sweep = load_sweep(ROOT / "configs" / "sweeps" / "downturn_exposure.toml", data)
    values = [run.values["cycle.exposure_dispersion"] for run in sweep.runs]
    assert len(values) == 5 and all(0.0 <= v <= 0.6 for v in values)
    assert {"municipalities_gap_bn", "activity_cut_bn", "gap_p10_dkk", "gap_p90_dkk"} <= set(RESULT_COLUMNS)
    spread = {}
    for v in (0.0, 0.6):
        task = dict(sweep.task(sweep.runs[0]), scale=0.02, values={"cycle.exposure_dispersion": v})
        row = run_task(task).set_index("year").loc[2028]
        assert row["status"] == "ok", row["error"]
        assert row["activity_cut_bn"] > 0.5                     # the ceiling rations the downturn's effort
        spread[v] = row["gap_p90_dkk"] - row["gap_p10_dkk"]
    assert spread[0.6] > 1.5 * spread[0.0]


def test_behaviour_uncertainty_sweep_draws_every_stated_range(data, tmp_path):
    """[[draw]] parameters = "behaviour.*" draws every behaviour effect with a range in
    data/behaviour_ranges.csv at once, within its range, for both scenarios; a pattern that
    matches none, or a key such a draw does not take, is refused by name."""
    sweep = load_sweep(ROOT / "configs" / "sweeps" / "behaviour_uncertainty.toml", data)
    ranges = data.behaviour_ranges.set_index("parameter")
    assert set(sweep.runs[0].values) == set(ranges.index) and len(ranges) >= 4
    assert set(sweep.roles.values()) == {"world"}
    for name, row in ranges.iterrows():
        values = np.array([run.values[name] for run in sweep.runs])
        assert (values >= row["low"]).all() and (values <= row["high"]).all() and values.std() > 0
    for body, fragment in (('parameters = "hazard.*"', "matches no parameter"),
                           ('parameters = "behaviour.*"\ndistribution = "uniform"', "unknown key 'distribution'")):
        path = tmp_path / "bad.toml"
        path.write_text('description = "x"\nbaseline = "baseline"\nreform = "expert_group"\nn_draws = 2\n'
                        f'[[draw]]\nsource = "t"\n{body}\n')
        with pytest.raises(InputError, match=fragment):
            load_sweep(path, data)


def test_a_behaviour_range_must_hold_its_default(data, tmp_path):
    import shutil
    from sim.parameters import load_data
    d = tmp_path / "data"
    shutil.copytree(data.directory, d)
    path = d / "behaviour_ranges.csv"
    path.write_text(path.read_text().replace("behaviour.meeting_effect,0.05,1.0", "behaviour.meeting_effect,0.5,1.0"))
    with pytest.raises(InputError, match="outside its range"):
        load_data(d)
