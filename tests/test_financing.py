"""Business cycles and the two financing regimes: inflow multipliers, exposure, who pays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sim import financing
from sim.comparison import compare
from sim.errors import InputError
from sim.population import COPY_ID_FROM, municipality_exposure, with_inflows
from sim.report import prepare_out, write_compare
from sim.scenario import InflowShock, load_scenario, month_number
from sim.simulation import build_population, simulate
from sim.states import STATE

#: the documented size of the downturn (Nordic Labour Journal 2010, citing the Danish Labour Market
#: Agency: gross unemployment +103 % in the financial crisis), as in configs/downturn.toml
DOCUMENTED_RISE_PCT = 103


def shock(scenario, multiplier, states=("dagpenge",), first="2026-01", last="2026-06", exposed=False, places=None):
    s = InflowShock(month_number(first), month_number(last), tuple(STATE[x] for x in states), multiplier,
                    places, exposed, "test")
    return dataclasses.replace(scenario, inflows=[s], name=f"{scenario.name}+shock")


def entrants(pop, scenario, state="dagpenge", first="2026-01", last="2026-06"):
    month = scenario.start + pop.entry_month.astype(int)
    return ((pop.months_in_state == 0) & (pop.state == STATE[state])
            & (month >= month_number(first)) & (month <= month_number(last)))


def test_a_multiplier_of_two_doubles_new_spells_and_keeps_everyone(short_scenario, small_population):
    doubled = with_inflows(small_population, shock(short_scenario, 2.0), seed=3)
    before = entrants(small_population, short_scenario)
    after = entrants(doubled, short_scenario)
    assert after.sum() == 2 * before.sum() > 0
    assert np.isin(small_population.person_id, doubled.person_id).all()          # nobody dropped
    added = doubled.person_id[doubled.person_id >= COPY_ID_FROM]
    assert added.size == before.sum() and np.unique(doubled.person_id).size == len(doubled)
    assert (np.diff(doubled.entry_month) >= 0).all()                              # still by entry month
    assert len(doubled) - after.sum() == len(small_population) - before.sum()      # no one else copied


def test_a_multiplier_below_one_thins_and_one_changes_nothing(short_scenario, small_population):
    half = with_inflows(small_population, shock(short_scenario, 0.5), seed=3)
    n, k = entrants(small_population, short_scenario).sum(), entrants(half, short_scenario).sum()
    assert abs(k / n - 0.5) < 4 * np.sqrt(0.25 / n)
    same = with_inflows(small_population, shock(short_scenario, 1.0), seed=3)
    np.testing.assert_array_equal(same.person_id, small_population.person_id)


def test_months_before_a_downturn_are_unchanged(short_scenario, small_population):
    """Common random numbers: every person of the calm population keeps their draws, so months
    before the shock are identical."""
    calm = simulate(short_scenario, seed=3, population=small_population)
    hit = simulate(shock(short_scenario, 2.0, first="2026-01", last="2026-12"), seed=3, population=small_population)
    k = month_number("2026-01") - short_scenario.start
    np.testing.assert_array_equal(calm.occupancy[:k], hit.occupancy[:k])
    assert hit.occupancy[k:].sum() > calm.occupancy[k:].sum()


def test_exposure_has_a_population_weighted_mean_of_one(data):
    pop = data.municipalities["population"].to_numpy(float)
    for sigma in (0.0, 0.3, 1.0):
        e = municipality_exposure(data, sigma)
        assert np.dot(pop / pop.sum(), e) == pytest.approx(1.0)
        assert (e > 0).all()
    np.testing.assert_allclose(municipality_exposure(data, 0.0), 1.0)
    assert municipality_exposure(data, 0.6).std() > municipality_exposure(data, 0.3).std()


@pytest.fixture(scope="module")
def downturn(data, tmp_path_factory):
    comp = compare("downturn", "downturn_service_ceiling", seed=2, scale=0.02, data=data, breakdown=False)
    out = prepare_out(tmp_path_factory.mktemp("downturn"))
    summary = write_compare(comp, out, 0.0)
    return comp, summary, out


def test_the_downturn_has_the_documented_size(downturn):
    _, summary, _ = downturn
    assert abs(summary["financing.unemployed_rise_pct"] - DOCUMENTED_RISE_PCT) < 15


def test_financing_identities(downturn):
    comp, summary, out = downturn
    fin = pd.read_csv(out / "financing.csv")
    assert set(fin["regime"]) == {"today", "service_ceiling"}
    assert fin.groupby("regime")["municipality_code"].nunique().eq(98).all()
    for regime, block in fin.groupby("regime"):
        share = comp.baseline.scenario.params_at(0)[f"financing.ceiling_share.{regime}"]
        by = block.groupby("year")
        np.testing.assert_allclose(by["gap_dkk"].sum(), by["spending_dkk"].sum() - by["financing_dkk"].sum(),
                                   atol=1.0)
        # the municipalities together pay the ceiling's share of the rise in effort spending
        np.testing.assert_allclose(by["gap_dkk"].sum(), share * by["effort_rise_dkk"].sum(), atol=1.0)
        p = f"financing.{regime}."
        for y in summary[p + "state_bn"]:
            assert summary[p + "state_bn"][y] + summary[p + "municipalities_bn"][y] == pytest.approx(
                summary[p + "public_cost_bn"][y], abs=1e-9)
    today, ceiling = "financing.today.", "financing.service_ceiling."
    peak = str(summary["financing.peak_year"])
    assert summary[today + "municipalities_bn"][peak] > 0.1            # half the effort's rise, uncompensated
    assert summary[ceiling + "activity_cut_bn"][peak] > 0.5            # the ceiling cuts activity instead
    assert summary[today + "activity_cut_bn"][peak] == 0
    assert abs(summary[ceiling + "municipalities_bn"][peak]) < 0.1
    assert len(summary[ceiling + "most_exposed_dkk_per_inhabitant"]) == 10
    assert (out / "charts" / "financing.png").exists()


def test_inflow_errors_name_the_key(tmp_path, data):
    cases = {
        'states = ["dagpengee"]': ("inflow[0].states", "dagpenge"),
        'states = ["dagpenge"]\nregions = ["Jylland"]': ("inflow[0].regions", "Nordjylland"),
        'states = ["dagpenge"]\nmunicipalities = [999]': ("inflow[0].municipalities", "999"),
    }
    for body, fragments in cases.items():
        path = tmp_path / "bad.toml"
        path.write_text(f'description = "x"\nbaseline = "baseline"\n[[inflow]]\nstart = "2027-01"\n'
                        f'end = "2027-06"\nmultiplier = 2\nsource = "test"\n{body}\n')
        with pytest.raises(InputError) as err:
            load_scenario(path, data)
        for f in fragments:
            assert f in str(err.value)
    path = tmp_path / "order.toml"
    path.write_text('description = "x"\nbaseline = "baseline"\n[[inflow]]\nstart = "2027-06"\nend = "2027-01"\n'
                    'states = ["dagpenge"]\nmultiplier = 2\nsource = "t"\n')
    with pytest.raises(InputError, match="before"):
        load_scenario(path, data)
