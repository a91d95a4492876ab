"""One validator for every input: each class of bad value found by trying malformed inputs is
refused with one message that names the file, the key and what is allowed.

The cases are tried in process (``load_scenario``, ``with_changes``, the population reader) and a
sample of them through the command line (exit status 2, one line on stderr, no traceback).
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.parameters import KINDS, checked_value
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def change(parameter: str, value: str, extra: str = "") -> str:
    """A reform file with one change; ``value`` is TOML text."""
    return (f'description = "x"\nbaseline = "baseline"\n[[change]]\nparameter = "{parameter}"\n'
            f'value = {value}\nsource = "s"\n{extra}')


#: class of bad input -> (scenario text, fragments the message must contain)
BAD = {
    # accepted and silently wrong before
    "nan_effect": (change("behaviour.meeting_effect", "nan"), ["behaviour.meeting_effect", "finite"]),
    "nan_string": (change("behaviour.meeting_effect", '"nan"'), ["not a number", "str"]),
    "inf_effect": (change("behaviour.meeting_effect", "inf"), ["finite"]),
    "lockin_above_one": (change("behaviour.lockin_effect", "1.5"), ["within [0, 1]"]),
    "negative_multiplier": (change("behaviour.distance_multiplier.far", "-1"), ["within [0, 10]"]),
    "money_inf_string": (change("money.earnings_per_fulltime_year_dkk", '"inf"'), ["not a number"]),
    "money_inf": (change("money.effective_tax_rate", "inf"), ["finite"]),
    # tracebacks before
    "nan_whole": (change("rules.dagpenge.akasse_months", "nan"), ["finite"]),
    "inf_whole": (change("rules.dagpenge.offer_first_month", "-inf"), ["finite"]),
    "nan_schedule": (change("rules.dagpenge.contact_months", "nan"), ["not a list"]),
    "zero_weeks_per_month": (change("rules.general.weeks_per_month", "0"), ["within [4, 4.43]"]),
    # silently reinterpreted before
    "scalar_schedule": (change("rules.dagpenge.contact_months", "0.5"), ["not a list"]),
    "schedule_half_month": (change("rules.dagpenge.contact_months", "[0, 1.5]"), ["whole months"]),
    "unit_weeks_on_months": (change("rules.dagpenge.akasse_months", "6", 'unit = "weeks"\n'),
                             ["unit = 'weeks'", "'months'"]),
    "string_number": (change("rules.dagpenge.akasse_months", '"6"'), ["not a number", "str"]),
    "boolean_flag": (change("rules.resource_course.closed", "true"), ["not a number", "bool"]),
    "boolean_number": (change("rules.dagpenge.akasse_months", "true"), ["bool"]),
    # not refused before
    "saving_above_line": ('description = "x"\nbaseline = "baseline"\n[effort]\nmode = "budget_constrained"\n'
                          '[[saving]]\nstart = "2026-01"\nguidance_upskilling = 100\nsource = "s"\n',
                          ["saving[0].guidance_upskilling", "more than the whole line"]),
    "misspelt_change_key": ('description = "x"\nbaseline = "baseline"\n[[change]]\nparamter = '
                            '"rules.dagpenge.akasse_months"\nvalue = 6\nsource = "s"\n',
                            ["unknown key 'change.0.paramter'", "did you mean 'parameter'"]),
    "saving_nan": ('description = "x"\nbaseline = "baseline"\n[effort]\nmode = "budget_constrained"\n'
                   '[[saving]]\nstart = "2026-01"\nother_effort = nan\nsource = "s"\n', ["saving.0.other_effort"]),
    "saving_string": ('description = "x"\nbaseline = "baseline"\n[effort]\nmode = "budget_constrained"\n'
                      '[[saving]]\nstart = "2026-01"\nother_effort = "1"\nsource = "s"\n', ["saving.0.other_effort"]),
    "month_13": (change("rules.dagpenge.akasse_months", "6", 'start = "2025-13"\n'), ["change.0.start"]),
    "half_flag": (change("rules.job_clarification.closed", "0.5"), ["0 or 1"]),
    "half_month": (change("rules.dagpenge.akasse_months", "2.5"), ["whole number"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_values_are_refused(tmp_path, data, case):
    text, fragments = BAD[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_scenario(path, data)
    message = str(err.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    for f in fragments:
        assert f in message, message


def test_binary_file_is_refused(tmp_path, data):
    path = tmp_path / "binary.toml"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="not UTF-8"):
        load_scenario(path, data)


@pytest.mark.parametrize("value,fragment", [
    (float("nan"), "finite"), ("0.3", "str"), (True, "bool"), (np.bool_(True), "bool"), (1.5, "within [0, 1]"),
    ([0.3], "is a list"),
])
def test_with_changes_uses_the_same_validator(data, value, fragment):
    base = load_scenario("baseline", data)
    with pytest.raises(InputError, match=None) as err:
        base.with_changes({"behaviour.lockin_effect": value}, name="py")
    assert fragment in str(err.value) and "<py>" in str(err.value)


def test_with_changes_takes_numpy_numbers(data):
    base = load_scenario("baseline", data)
    reform = base.with_changes({"behaviour.lockin_effect": np.float64(0.2),
                                "rules.dagpenge.akasse_months": np.int64(6),
                                "rules.dagpenge.contact_months": (0, 2)})
    values = {c.parameter: c.value for c in reform.changes}
    assert values == {"behaviour.lockin_effect": 0.2, "rules.dagpenge.akasse_months": 6.0,
                      "rules.dagpenge.contact_months": (0, 2)}


def test_every_parameter_has_exactly_one_declaration(data):
    assert {sp.kind for sp in data.specs} <= set(KINDS)
    for name, value in data.params.items():
        found = [sp for sp in data.specs if fnmatch.fnmatchcase(name, sp.pattern)]
        assert len(found) == 1, name
        # the default passes its own declaration and comes back unchanged
        raw = list(value) if isinstance(value, tuple) else value
        assert found[0].check(raw) == value, name


def test_declared_range_edges(data):
    assert checked_value("f", "k", "rules.dagpenge.offer_first_month", -1, data) == -1.0
    assert checked_value("f", "k", "rules.dagpenge.offer_first_month", 6.0, data) == 6.0
    assert checked_value("f", "k", "rules.dagpenge@far.contact_months", [], data) == ()
    with pytest.raises(InputError, match="within"):
        checked_value("f", "k", "rules.dagpenge.offer_first_month", -2, data)
    with pytest.raises(InputError, match="within"):
        checked_value("f", "k", "rules.dagpenge.offer_length_months", 0, data)
    with pytest.raises(InputError, match="did you mean 'rules.dagpenge.akasse_months'"):
        checked_value("f", "k", "rules.dagpenge.akase_months", 6, data)
    # a unit written out as the parameter's own is accepted
    assert checked_value("f", "k", "rules.dagpenge.akasse_months", 6, data, unit="months") == 6.0


def test_a_broken_declaration_file_is_refused(tmp_path, data):
    import shutil

    from sim.parameters import load_data
    d = tmp_path / "data"
    shutil.copytree(data.directory, d)
    ranges = (d / "parameter_ranges.csv").read_text()
    (d / "parameter_ranges.csv").write_text(ranges.replace("rules.*.akasse_months,whole,0,600",
                                                           "rules.*.akasse_months,whole,4,600"))
    with pytest.raises(InputError, match="default of 'rules.dagpenge.akasse_months'"):
        load_data(d)
    (d / "parameter_ranges.csv").write_text(ranges.replace("rules.*.akasse_months", "rules.*.akasse_month"))
    with pytest.raises(InputError, match="'rules.dagpenge.akasse_months' is matched by no pattern"):
        load_data(d)


def _population(tmp_path, **change):
    df = pd.DataFrame({
        "person_id": np.arange(3, dtype=np.int64), "entry_month": ["2025-01", "2025-01", "2025-03"],
        "state": ["sick", "dagpenge", "flex_job"], "months_in_state": [2, 0, 30],
        "age": [45, 28, 50], "provider": [True, False, False], "insured": [False, True, True],
        "sick_from_job": [True, False, False], "distance": ["close", "middle", "far"],
        "municipality": np.array([101, 147, 851], np.int64),
    })
    for k, v in change.items():
        df[k] = v
    path = tmp_path / "pop.parquet"
    df.to_parquet(path)
    return path


@pytest.mark.parametrize("change,fragment", [
    ({"municipality": np.array([101, 500, 147], np.int64)}, "'municipality' must be municipality codes \\(e.g. 500\\)"),
    ({"municipality": np.array([101, -1, 147], np.int64)}, "'municipality'"),
    ({"municipality": [0.5, 1.0, 2.0]}, "'municipality'"),
    ({"entry_month": ["2025-01", "2025-13", "2025-03"]}, "'entry_month'"),
    ({"entry_month": ["2025-01", "2025-1", "2025-03"]}, "'entry_month'"),
])
def test_bad_population_values(tmp_path, data, change, fragment):
    from sim.population import from_parquet
    from sim.scenario import month_number
    path = _population(tmp_path, **change)
    with pytest.raises(InputError, match=fragment) as err:
        from_parquet(path, month_number("2025-01"), 132, month_number, municipalities=data.municipalities)
    assert str(err.value).startswith(str(path))


def test_population_municipalities_are_codes(tmp_path, data):
    """A user population names municipalities by their codes; without the column they are drawn
    by population."""
    from sim.population import from_parquet
    from sim.scenario import month_number
    codes = data.municipalities["code"].tolist()
    pop = from_parquet(_population(tmp_path), month_number("2025-01"), 132, month_number,
                       municipalities=data.municipalities)
    assert sorted(codes[i] for i in pop.municipality) == [101, 147, 851]
    path = _population(tmp_path)
    df = pd.read_parquet(path).drop(columns="municipality")
    df.to_parquet(path)
    drawn = from_parquet(path, month_number("2025-01"), 132, month_number, municipalities=data.municipalities)
    assert ((0 <= drawn.municipality) & (drawn.municipality < len(codes))).all()


def test_synthetic_population_lives_where_people_live(data):
    """The sick are drawn into the 98 municipalities by population (data/municipalities.csv), the
    others by population times a spread of the stated size (population.caseload_dispersion); with
    no spread, everyone by population."""
    from sim.population import synthetic
    from sim.simulation import population_tables
    from sim.states import SICK_STATES
    want = data.municipalities["population"].to_numpy(float)
    want = want / want.sum()
    assert len(data.municipalities) == 98 and data.municipalities["code"].is_unique
    tables = population_tables(data)

    def shares(pop, sel):
        return np.bincount(pop.municipality[sel], weights=pop.weight[sel], minlength=98) / pop.weight[sel].sum()

    flat = synthetic(data, tables, 132, seed=2, scale=0.05, caseload_dispersion=0.0)
    share = shares(flat, np.ones(len(flat), bool))
    assert np.abs(share - want).max() < 0.003 and share.argmax() == want.argmax()     # København
    assert (share > 0).all()
    spread = synthetic(data, tables, 132, seed=2, scale=0.05)
    sick = np.isin(spread.state, list(SICK_STATES))
    assert np.abs(shares(spread, sick) - want).max() < 0.003
    big = want > 0.01                      # municipalities large enough for the sample to show the spread
    log_ratio = np.log(shares(spread, ~sick)[big] / want[big])
    assert abs(log_ratio.std() - data.params["population.caseload_dispersion"]) < 0.08


def cli(*args):
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, env=dict(os.environ, REFORMSIM_CHART_WORKERS="0"))


@pytest.mark.parametrize("case", ["nan_effect", "nan_whole", "zero_weeks_per_month", "scalar_schedule",
                                  "unit_weeks_on_months", "boolean_flag", "saving_above_line",
                                  "misspelt_change_key"])
def test_bad_values_exit_2_with_one_line(tmp_path, case):
    text, fragments = BAD[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    res = cli("compare", "baseline", path, "--out", tmp_path / "out", "--scale", "0.01", "--no-breakdown")
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert str(path) in lines[0]
    for f in fragments:
        assert f in lines[0], lines[0]


def test_binary_scenario_exits_2_with_one_line(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(bytes(range(256)) * 4)
    res = cli("run", path, "--out", tmp_path / "out", "--scale", "0.01")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "not UTF-8" in res.stderr
