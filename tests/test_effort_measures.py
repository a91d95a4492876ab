"""How the effort is spent (issue 14's targets): cost by item, state and cell adds up to the effort
lines; the measures follow their definitions; a rule change moves them the way it should."""

from __future__ import annotations

import numpy as np
import pytest

from sim import budget as money
from sim.population import WEIGHT_UNIT
from sim.simulation import simulate
from sim.states import BENEFIT_OF_STATE, DISTANCE_CLASSES, FURTHEST_STATES, N_CELLS, STATE, STATES, cell_parts


@pytest.fixture(scope="module")
def res(short_scenario, small_population):
    return simulate(short_scenario, seed=3, population=small_population)


def test_cost_by_item_adds_up_to_the_effort_lines(res, data):
    """The variable cost of the items plus each line's fixed part is the effort; the full cost of
    an item is its variable cost over the variable share."""
    items = money.effort_by_item(res, data, variable=True)
    full = money.effort_by_item(res, data)
    fixed = money.fixed_cost_by_line(res, data)
    share = data.params["money.effort_fixed_share"]
    assert 0 < share < 1 and np.allclose(money.fixed_share_by_month(res), share)
    effort = money.effort(res, data)
    for month in res.months[:3] + res.months[-2:]:
        m = res.months.index(month)
        total = sum(float(v[m].sum()) for v in items.values()) + fixed[m].sum()
        assert total == pytest.approx(effort.loc[effort["month"] == month, "dkk"].sum(), rel=1e-12)
        for k in items:
            np.testing.assert_allclose(items[k][m] / (1 - share), full[k][m], rtol=1e-12)
    lines = dict(zip(data.effort_lines["line"], data.effort_lines["baseline_bn"]))
    for li, line in enumerate(money.EFFORT_LINES):
        assert fixed[0, li] == pytest.approx(share * lines[line] * 1e9 / 12)
    assert set(money.CASEWORKER_ITEMS) <= set(items) and set(money.OFFER_ITEMS) <= set(items)


def test_furthest_mask_follows_its_definition():
    mask = money.furthest_mask()
    far = DISTANCE_CLASSES.index("far")
    for s, name in enumerate(STATES):
        for c in range(N_CELLS):
            assert mask[s, c] == (name in FURTHEST_STATES or (name in money.CASE_STATES and cell_parts(c)[1] == far))
    assert not mask[STATE["flex_job"]].any() and not mask[STATE["disability_pension_job"]].any()
    assert mask[STATE["sa_activity_ready"]].all() and not mask[STATE["dagpenge"]].all()


def test_measures_by_hand(res, data):
    y = res.base_year
    got = money.effort_measures(res, data, y)
    items = money.effort_by_item(res, data)
    months = res.year_of_month == y
    youth = [c for c in range(N_CELLS) if cell_parts(c)[0] == 1]
    by_hand = sum(items[k][months][:, :, youth].sum() for k in money.OFFER_ITEMS) / money.DKK_PER_BN
    assert got["effort.youth_offers_bn"] == pytest.approx(by_hand, rel=1e-12)
    assert 0 < got["effort.far_share_of_caseworker_time"] < 1
    shares = money.external_shares(data)
    assert all(0 <= v <= 1 for v in shares.values())
    total = sum(float(v[months].sum()) for v in items.values()) / money.DKK_PER_BN
    assert 0 < got["effort.external_providers_bn"] < total


def test_benefit_switches_need_a_restart(short_scenario, small_population, res):
    y = res.base_year
    assert money.benefit_switches(res, y) > 0
    no_restart = short_scenario.with_changes({"rules.general.restart_contact_on_switch": 0}, name="no_restart",
                                             source="test")
    quiet = simulate(no_restart, seed=3, population=small_population)
    assert money.benefit_switches(quiet, y) == 0
    # by hand: moves between jobcentre cases on different benefits, and new sick spells of
    # persons sick from unemployment (from dagpenge or social assistance to sickness benefit)
    moves = res.flow[res.year_of_month == y][:, :len(STATES), :len(STATES)].sum(axis=0)
    by_hand = sum(moves[STATE[a], STATE[b]] for a in money.CASE_STATES for b in money.CASE_STATES
                  if BENEFIT_OF_STATE[a] and BENEFIT_OF_STATE[b] and BENEFIT_OF_STATE[a] != BENEFIT_OF_STATE[b])
    pop = small_population
    months = np.flatnonzero(res.year_of_month == y)
    sick = sum(int(w) for st, mis, c, e, w in zip(pop.state, pop.months_in_state, pop.cell, pop.entry_month, pop.weight)
               if st == STATE["sick"] and mis == 0 and cell_parts(int(c))[3] == 0 and months[0] <= e <= months[-1])
    sick /= WEIGHT_UNIT
    assert sick > 0 and money.sick_from_unemployment_spells(res, y) == pytest.approx(sick)
    assert money.benefit_switches(res, y) == pytest.approx(by_hand + sick)
    mask = money.switch_mask()
    assert not mask[STATE["sick"], STATE["sick_extended"]] and not mask[STATE["ledighedsydelse"], STATE["flex_job"]]
    assert mask[STATE["dagpenge"], STATE["sa_job_ready"]] and mask[STATE["sick"], STATE["job_clarification"]]


def test_offers_share_is_solved_to_the_target(res, data):
    """The solver's share gives the target exactly on the run it was solved on."""
    from sim.calibration import solve_external_share
    share = solve_external_share(res, data)
    assert 0 <= share <= 1
    target = data.target("effort.external_providers_bn")
    items = money.effort_by_item(res, data)
    months = res.year_of_month == res.base_year
    fixed = dict(zip(data.unit_costs["activity"], data.unit_costs["external_share"]))
    paid = sum(float(v[months].sum()) * (share if np.isnan(fixed[k]) else fixed[k]) for k, v in items.items())
    assert paid / money.DKK_PER_BN == pytest.approx(target, rel=1e-9)


def test_caseworker_time_is_solved_to_vive_and_the_line(res, data):
    """The solved factor and scale give VIVE's share and the jobcentre line's total exactly on the
    run they were solved on (the run is a short, small one: the values differ from the shipped)."""
    import dataclasses

    from sim.calibration import solve_caseworker_time
    scale, factor = solve_caseworker_time(res, data)
    assert scale > 0 and factor > 1
    solved = dataclasses.replace(data, calibrated={**data.calibrated, money.TIME_SCALE: scale,
                                                   money.FURTHEST_FACTOR: factor})
    got = money.effort_measures(res, solved, res.base_year)
    assert got["effort.far_share_of_caseworker_time"] == pytest.approx(data.target(
        "effort.far_share_of_caseworker_time"), rel=1e-9)
    items = money.effort_by_item(res, solved)
    months = res.year_of_month == res.base_year
    line = dict(zip(data.unit_costs["activity"], data.unit_costs["line"]))
    jobcentre = sum(float(v[months].sum()) for k, v in items.items() if line[k] == "jobcentre_operations")
    total = data.effort_lines.set_index("line").loc["jobcentre_operations", "baseline_bn"]
    assert jobcentre / money.DKK_PER_BN == pytest.approx(total, rel=1e-9)


def test_unit_costs_by_cost_class_take_the_calibrated_factors(data):
    """The caseworker items cost the furthest factor more for those furthest away, the line-average
    offers the youth factor times an adult's for persons under 30, everything else the same for
    all; the calibrated values are read from data/calibrated.csv, not written into code."""
    cost, _, case_cost = money.cost_by_cell(data)                  # (A, S, C), (S, C)
    far = money.furthest_mask()
    young = np.broadcast_to(money.youth_cells()[None, :], far.shape)
    factor = data.calibrated[money.FURTHEST_FACTOR]
    scale = data.calibrated[money.TIME_SCALE]
    youth = data.calibrated[money.YOUTH_OFFER_FACTOR]
    assert 0 < youth != 1
    base, _, base_case = money.unit_costs(data)
    for a, name in enumerate(money.ACTIVITIES):
        if name in money.CASEWORKER_ITEMS:
            np.testing.assert_allclose(cost[a][far], base[a] * scale * factor)
            np.testing.assert_allclose(cost[a][~far], base[a] * scale)
        elif name in money.YOUTH_PRICED_ITEMS:
            np.testing.assert_allclose(cost[a][young], base[a] * youth)
            np.testing.assert_array_equal(cost[a][~young], base[a])
        else:
            np.testing.assert_array_equal(cost[a], base[a])
    np.testing.assert_allclose(case_cost[far], base_case * scale * factor)
    np.testing.assert_allclose(case_cost[~far], base_case * scale)
    # the kernel's class codes carry both parts
    classes = money.cost_classes()
    np.testing.assert_array_equal(classes % 2 == 1, far)
    np.testing.assert_array_equal(classes // 2 == 1, young)


def test_offer_costs_and_youth_factor_are_solved_to_the_lines_and_kl(res, data):
    """The solved unit costs and youth factor give the guidance and other-effort lines their
    totals and the offers to the young KL's 750 m exactly, on the run they were solved on."""
    import dataclasses

    from sim.calibration import solve_offer_costs
    costs, factor = solve_offer_costs(res, data)
    assert 0 < factor < 1 and set(costs) == set(money.YOUTH_PRICED_ITEMS)
    solved = dataclasses.replace(data, calibrated={**data.calibrated, money.YOUTH_OFFER_FACTOR: factor,
                                                   **{f"unit_cost.{k}": v for k, v in costs.items()}})
    got = money.effort_measures(res, solved, res.base_year)
    assert got["effort.youth_offers_bn"] == pytest.approx(data.target("effort.youth_offers_bn"), rel=1e-9)
    items = money.effort_by_item(res, solved)
    months = res.year_of_month == res.base_year
    line = dict(zip(data.unit_costs["activity"], data.unit_costs["line"]))
    totals = data.effort_lines.set_index("line")["baseline_bn"]
    for ln in ("guidance_upskilling", "other_effort"):
        paid = sum(float(v[months].sum()) for k, v in items.items() if line[k] == ln)
        assert paid / money.DKK_PER_BN == pytest.approx(totals[ln], rel=1e-9)
    # a higher target needs a higher factor; an impossible one is a clear error
    more = dataclasses.replace(data, targets=data.targets.assign(value=np.where(
        data.targets["name"] == "effort.youth_offers_bn", 1.5, data.targets["value"])))
    assert solve_offer_costs(res, more)[1] > factor
    none = dataclasses.replace(data, targets=data.targets.assign(value=np.where(
        data.targets["name"] == "effort.youth_offers_bn", 0.0, data.targets["value"])))
    with pytest.raises(ValueError, match="no youth factor"):
        solve_offer_costs(res, none)
