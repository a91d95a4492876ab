"""Results by municipality: 98 codes whose rows sum to the national budget and caseload."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import municipalities as places
from sim.comparison import compare
from sim.report import prepare_out, write_compare, write_run
from sim.simulation import simulate

KEYS = ["year", "scenario", "line", "payer"]


@pytest.fixture(scope="module")
def comp(data):
    """The default comparison (budget-constrained: redeployed money, freed staff not yet shed and
    one-off costs are all on the lines) at a small scale."""
    return compare("baseline", "expert_group", seed=3, scale=0.01, data=data, breakdown=False)


@pytest.fixture(scope="module")
def written(comp, tmp_path_factory):
    out = prepare_out(tmp_path_factory.mktemp("places"))
    write_compare(comp, out, 0.0, lang="da")
    return out


def sums_equal_budget(table: pd.DataFrame, budget: pd.DataFrame) -> None:
    summed = table.groupby(KEYS, sort=False)["dkk"].sum()
    national = budget.set_index(KEYS)["dkk"]
    assert set(summed.index) == set(national.index)          # the same lines and payers, no more
    diff = (summed - national.reindex(summed.index)).abs()
    assert diff.max() < 0.5, diff.idxmax()                     # to the krone


def test_compare_writes_98_municipalities_that_sum_to_budget_csv(written):
    table = pd.read_csv(written / "municipalities.csv")
    budget = pd.read_csv(written / "budget.csv")
    assert list(table.columns) == places.COLUMNS
    assert table["municipality_code"].nunique() == 98
    assert len(table) == 98 * len(budget)
    sums_equal_budget(table, budget)
    assert (table.groupby("municipality_code")["dkk"].sum().abs() > 0).all()


def test_run_writes_municipalities_that_sum_to_budget_csv(tmp_path, short_scenario):
    res = simulate(short_scenario, seed=2, scale=0.01)
    out = prepare_out(tmp_path)
    write_run(res, out, 0.0)
    sums_equal_budget(pd.read_csv(out / "municipalities.csv"), pd.read_csv(out / "budget.csv"))


def test_caseload_by_municipality_sums_to_caseload(written):
    national = pd.read_parquet(written / "caseload.parquet")
    national["year"] = national["month"].str[:4].astype(int)
    mean = national.groupby(["year", "scenario", "scheme", "group"])["persons"].mean()
    places_ = pd.read_parquet(written / "caseload_municipalities.parquet")
    assert places_["municipality_code"].nunique() == 98
    summed = places_.groupby(["year", "scenario", "scheme", "group"])["persons"].sum()
    np.testing.assert_allclose(summed.reindex(mean.index).to_numpy(), mean.to_numpy(), rtol=1e-12, atol=1e-9)


def test_a_municipality_without_persons_gets_only_its_population_share(comp):
    """Every person-month and activity is its own person's municipality's: move all of one
    municipality's persons to another and its activity keys become zero."""
    res = comp.baseline
    keys = places.activity_keys(res, res.scenario.data)
    occ = res.place_occupancy.sum(axis=(1, 2, 3, 4))
    persons = places.simulated_persons(res)
    assert ((occ > 0) == (persons > 0)).all()
    assert all((k >= 0).all() for k in keys.values())


def test_shares_sum_to_one_and_fall_back_on_population():
    pop = np.array([0.5, 0.3, 0.2])
    key = np.array([[2.0, 0.0], [2.0, 0.0], [0.0, 0.0]])
    s = places.shares(key, pop)
    np.testing.assert_allclose(s.sum(axis=0), 1.0)
    np.testing.assert_allclose(s[:, 0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(s[:, 1], pop)


def test_per_inhabitant_table_flags_few_simulated_persons(written, comp):
    table = pd.read_csv(written / "municipalities_per_inhabitant.csv")
    assert table["municipality_code"].nunique() == 98
    small = table.loc[table["population"].idxmin()]
    assert small["few_persons"] and small["simulated_persons"] < places.FEW_PERSONS
    big = table.loc[table["population"].idxmax()]
    assert not big["few_persons"]
    year = table[table["year"] == 2030]
    paid = pd.read_csv(written / "municipalities.csv")
    paid = paid[(paid["year"] == 2030) & (paid["payer"] == "municipality") & (paid["line"] != "derived_effects")]
    by = paid.groupby("scenario")["dkk"].sum()
    change = by[comp.reform.scenario.name] - by[comp.baseline.scenario.name]
    assert year["municipal_spending_change_dkk"].sum() == pytest.approx(change, rel=1e-9)
    assert (written / "charts" / "municipalities_per_inhabitant.png").exists()
    assert "municipalities" in pd.ExcelFile(written / "report.xlsx").sheet_names


def test_a_municipality_simulated_alone_is_its_own_row(short_scenario, small_population):
    """Persons are conserved municipality by municipality: the persons of one municipality,
    simulated alone, give exactly that municipality's row of the full run (every person-month and
    activity counted where the person lives, nothing leaking to another), and their own national
    arrays conserve persons month by month."""
    from dataclasses import replace

    from sim.states import N_STATES
    full = simulate(short_scenario, seed=4, population=small_population)
    place = int(np.bincount(small_population.municipality).argmax())
    mine = small_population.municipality == place
    alone_pop = replace(small_population, **{f: getattr(small_population, f)[mine] for f in (
        "person_id", "entry_month", "cell", "weight", "state", "months_in_state", "months_in_spell", "age",
        "municipality")})
    alone = simulate(short_scenario, seed=4, population=alone_pop)
    np.testing.assert_array_equal(alone.place_occupancy[place], full.place_occupancy[place])
    np.testing.assert_array_equal(alone.place_activity[place], full.place_activity[place])
    others = np.arange(full.place_occupancy.shape[0]) != place
    assert alone.place_occupancy[others].sum() == 0
    stock = alone.occupancy.sum(axis=(2, 3))                             # (M, S)
    flow = alone.flow
    entries = flow[:, N_STATES:, :N_STATES].sum(axis=1)
    moves_out = flow[:, :N_STATES, :].sum(axis=2)
    moves_in = flow[:, :N_STATES, :N_STATES].sum(axis=1)
    np.testing.assert_allclose(stock[1:], stock[:-1] - moves_out[:-1] + moves_in[:-1] + entries[1:], atol=1e-9)


def test_kernel_order_by_place_is_a_stable_sort_and_changes_no_count(short_scenario, small_population):
    """The compiled kernel takes the persons by municipality (``sim.kernel.by_place``): a stable
    sort of every array by municipality, and the same counts as the persons in order of entry."""
    from sim import kernel
    from sim.rules import build_tables
    from sim.states import N_BANDS
    person = small_population.arrays()
    ordered = kernel.by_place(person)
    order = np.argsort(small_population.municipality, kind="stable")
    for got, want in zip(ordered, person):
        np.testing.assert_array_equal(got, want[order])
    assert (np.diff(ordered.municipality) >= 0).all() and (np.diff(order) != 0).all()
    regimes, rom = short_scenario.regimes()
    table = build_tables(regimes).arrays(np.asarray(rom), None, short_scenario.start)
    n_places = len(short_scenario.data.municipalities)
    args = (4, short_scenario.start, 2, short_scenario.n_months, N_BANDS, n_places)
    by_entry = kernel.simulate(person, table, *args)
    by_place = kernel.simulate(ordered, table, *args)
    for a, b in zip(by_entry, by_place):
        np.testing.assert_array_equal(a.sum(axis=0), b.sum(axis=0))
