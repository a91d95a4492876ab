"""Reforms: shipped scenarios, target-group schemes, common random numbers, provision split."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from sim.comparison import compare
from sim.summary import comparison_summary as summary
from sim.groups import SCHEME_GROUPS, caseload_by_group, group_table
from sim.report import write_compare
from sim.scenario import list_scenarios, load_scenario
from sim.states import N_CELLS, STATES

REFORMS = ("expert_group", "six_cities", "kl_2030", "djoef_now", "agreement_2025")
SCALE = 0.01


@pytest.fixture(scope="module")
def expert(data):
    return compare("baseline", "expert_group", seed=2, scale=SCALE, data=data)


def test_every_reform_is_shipped_and_described():
    names = dict(list_scenarios())
    for name in ("baseline",) + REFORMS:
        assert name in names and len(names[name]) > 20


@pytest.mark.parametrize("reform", REFORMS)
def test_compare_writes_the_contract(tmp_path, data, reform):
    comp = compare("baseline", reform, seed=3, scale=SCALE, data=data, breakdown=False)
    s = write_compare(comp, tmp_path, 0.0)
    years = [str(y) for y in comp.years]
    for key in ("budget.savings_bn", "budget.bottom_up_process_savings_bn",
                "employment.fulltime_persons_delta", "public_finances.net_effect_bn"):
        assert sorted(s[key]) == years
    assert set(s["budget.savings_by_line_bn"]) == {"jobcentre_operations", "guidance_upskilling",
                                                   "other_effort", "derived_effects"}
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["budget.effort_baseline_bn"] == pytest.approx(s["budget.effort_baseline_bn"])
    budget = pd.read_csv(tmp_path / "budget.csv")
    assert set(budget["scenario"]) == {"baseline", reform}
    caseload = pd.read_parquet(tmp_path / "caseload.parquet")
    assert set(caseload["scheme"]) >= {"current"}
    assert (tmp_path / "report.xlsx").exists() and (tmp_path / "manifest.json").exists()
    # nothing changes before the reform takes effect
    first = years[0]
    assert s["budget.savings_bn"][first] == 0.0
    assert s["employment.fulltime_persons_delta"][first] == 0.0


@pytest.mark.parametrize("scheme", ["expert_group", "six_cities"])
def test_five_groups_cover_everyone(data, scheme, expert):
    table, names = group_table(scheme)
    assert len(names) == 5
    assert table.shape == (len(STATES), N_CELLS)
    assert set(np.unique(table)) == set(range(5))        # every person maps to one of the five
    cur = caseload_by_group(expert.reform.occupancy, "current")
    new = caseload_by_group(expert.reform.occupancy, scheme)
    assert cur.shape[1] == 13 and new.shape[1] == 5
    np.testing.assert_allclose(cur.sum(axis=1), new.sum(axis=1))


def test_reform_scheme_caseload_has_five_groups(tmp_path, expert):
    write_compare(expert, tmp_path, 0.0)
    caseload = pd.read_parquet(tmp_path / "caseload.parquet")
    sub = caseload[caseload["scheme"] == "expert_group"]
    assert sorted(sub["group"].unique()) == sorted(SCHEME_GROUPS["expert_group"])


def test_baseline_against_itself_is_exactly_zero(data):
    comp = compare("baseline", "baseline", seed=4, scale=SCALE, data=data)
    s = summary(comp)
    for key in ("budget.savings_bn", "budget.bottom_up_process_savings_bn",
                "employment.fulltime_persons_delta", "public_finances.net_effect_bn"):
        assert all(v == 0.0 for v in s[key].values()), key
    for line, by_year in s["budget.savings_by_line_bn"].items():
        assert all(v == 0.0 for v in by_year.values()), line
    np.testing.assert_array_equal(comp.baseline.occupancy, comp.reform.occupancy)


def test_bottom_up_positive_and_parts_add_up(expert):
    s = summary(expert)
    total = s["budget.bottom_up_process_savings_bn"]
    parts = s["budget.bottom_up_by_provision_bn"]
    assert list(parts) == load_scenario("expert_group").provisions
    for year, value in total.items():
        assert sum(p[year] for p in parts.values()) == pytest.approx(value, abs=1e-9)
    assert total["2030"] > 0
    assert total["2025"] == 0.0


def test_common_random_numbers_before_the_reform(data):
    """A reform from 2030 leaves every month before 2030 identical, draw for draw."""
    comp = compare("baseline", "kl_2030", seed=5, scale=SCALE, data=data, breakdown=False)
    before = comp.baseline.year_of_month < 2030
    np.testing.assert_array_equal(comp.baseline.occupancy[before], comp.reform.occupancy[before])
    np.testing.assert_array_equal(comp.baseline.flow[before[:-1].tolist() + [False]][:-1],
                                  comp.reform.flow[before[:-1].tolist() + [False]][:-1])
    assert not np.array_equal(comp.baseline.occupancy[~before], comp.reform.occupancy[~before])


def test_abolished_state_empties(expert):
    """Resource course and job clarification are abolished from 2026: nobody is left in them."""
    occ = expert.reform.occupancy.sum(axis=(2, 3))
    after = expert.reform.year_of_month >= 2026
    for name in ("resource_course", "job_clarification"):
        assert occ[~after, STATES.index(name)].sum() > 0
        assert occ[after, STATES.index(name)].sum() == 0
        # nobody is sent into an abolished state (moves go straight where the closure sends them)
        into = expert.reform.flow[:, :, STATES.index(name)].sum(axis=1)
        assert into[expert.reform.year_of_month >= 2026].sum() == 0
    assert occ[after, STATES.index("sick_reduced")].sum() > 0


def test_provision_order_and_kl_timing(data):
    eg, kl = load_scenario("expert_group", data), load_scenario("kl_2030", data)
    assert kl.provisions == eg.provisions and kl.scheme == "expert_group"
    assert {c.month for c in kl.changes} == {(2030 - 2000) * 12}


def test_reform_built_in_python(data):
    base = load_scenario("baseline", data)
    reform = base.with_changes({"rules.dagpenge.akasse_months": 6, "rules.dagpenge.contact_months": [0, 2, 4]},
                               start="2026-01", source="test", provision="akasse", name="py_reform")
    assert reform.provisions == ["akasse"] and reform.name == "py_reform"
    comp = compare(base, reform, seed=6, scale=SCALE)
    s = summary(comp)
    assert s["budget.savings_bn"]["2025"] == 0.0
    assert s["budget.savings_by_line_bn"]["jobcentre_operations"]["2027"] > 0   # a-kasse takes conversations
    with pytest.raises(Exception, match=r"allowed: a finite number within \[0, 1\]"):
        base.with_changes({"rules.sick.medical_certificate_share": 2.0})
    with pytest.raises(Exception, match="not a parameter"):
        base.with_changes({"rules.dagpenge.akase_months": 6})


def test_python_reform_without_effect_is_refused(data):
    from sim.errors import InputError
    from sim.simulation import simulate
    reform = load_scenario("baseline", data).with_changes({"rules.flex_job@far.entitlement_months": 12},
                                                           name="no_effect")
    with pytest.raises(InputError, match="<no_effect>.*has no effect"):
        simulate(reform, scale=0.001)


def _by_provision_reversed(baseline, reform):
    """The reform with its provisions in the opposite order (each provision's changes kept in
    their own order): the same reform, written in another order."""
    from sim.comparison import extra_changes
    extra = extra_changes(baseline, reform)
    order = list(dict.fromkeys(ch.provision for ch in extra))[::-1]
    changes = [ch for prov in order for ch in extra if ch.provision == prov]
    return dataclasses.replace(reform, changes=list(baseline.changes) + changes)


def test_breakdown_does_not_depend_on_the_order_of_the_file(data):
    base = load_scenario("baseline", data)
    reform = load_scenario("six_cities", data)
    a = summary(compare(base, reform, seed=4, scale=SCALE))
    b = summary(compare(base, _by_provision_reversed(base, reform), seed=4, scale=SCALE))
    assert list(a["budget.bottom_up_by_provision_bn"]) == list(b["budget.bottom_up_by_provision_bn"])[::-1]
    for prov, part in a["budget.bottom_up_by_provision_bn"].items():
        assert part == b["budget.bottom_up_by_provision_bn"][prov], prov
    assert "sampled" in a["budget.bottom_up_breakdown"]
    assert any(v["2030"] > 0 for v in a["budget.bottom_up_by_provision_se_bn"].values())


def test_exact_breakdown_of_two_provisions_by_hand(data):
    """With two provisions every order is taken: each part is the mean of its marginal saving
    added first and added second (the Shapley value), computed here from single runs."""
    from sim.comparison import effort_saving
    from sim.simulation import build_population, simulate
    base = load_scenario("baseline", data)
    a = {"rules.dagpenge.akasse_months": 6}
    b = {"rules.general.restart_contact_on_switch": 0}
    both = base.with_changes(a, start="2026-01", source="t", provision="a").with_changes(
        b, start="2026-01", source="t", provision="b", name="ab")
    comp = compare(base, both, seed=6, scale=SCALE)
    s = summary(comp)
    assert s["budget.bottom_up_breakdown"].startswith("exact")
    pop = build_population(base, 6, SCALE)
    # savings take time: each run's saving counts the realised part, on the reform's path
    run = lambda sc: effort_saving(comp.baseline, simulate(sc, seed=6, scale=SCALE, population=pop),  # noqa: E731
                                   comp.sheddable)
    v_a = run(base.with_changes(a, start="2026-01", source="t", provision="a", name="a"))
    v_b = run(base.with_changes(b, start="2026-01", source="t", provision="b", name="b"))
    v_ab = effort_saving(comp.baseline, comp.rule_driven, comp.sheddable)
    for y in ("2027", "2030"):
        want_a = (v_a[int(y)] + (v_ab[int(y)] - v_b[int(y)])) / 2
        assert s["budget.bottom_up_by_provision_bn"]["a"][y] == pytest.approx(want_a, rel=1e-12, abs=1e-12)
        assert s["budget.bottom_up_by_provision_se_bn"]["a"][y] == 0.0
