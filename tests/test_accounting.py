"""Accounting identities: persons are conserved, budget lines and payers add up."""

from __future__ import annotations

import numpy as np
import pytest

from sim import budget as money
from sim.simulation import simulate
from sim.states import EFFORT_LINES, N_STATES, PAYERS


@pytest.fixture(scope="module")
def res(short_scenario, small_population):
    return simulate(short_scenario, seed=3, population=small_population)


def test_persons_conserved_every_month(res):
    """Persons in month m = persons in m-1 - exits in m-1 + new spells in m (all states),
    and per state: + moves in - moves out."""
    occ = res.occupancy.sum(axis=(2, 3))                       # (M, S)
    new = res.flow[:, N_STATES:, :N_STATES].sum(axis=1)        # (M, S): new spells and stock
    moves = res.flow[:, :N_STATES, :]                          # (M, S, K)
    out_of = moves.sum(axis=2)                                 # leaving each state
    into = moves[:, :, :N_STATES].sum(axis=1)                  # entering each state from another
    for m in range(1, occ.shape[0]):
        np.testing.assert_allclose(occ[m], occ[m - 1] - out_of[m - 1] + into[m - 1] + new[m], atol=1e-6)
    exits = moves[:, :, N_STATES:].sum(axis=(1, 2))
    total = occ.sum(axis=1)
    np.testing.assert_allclose(total[1:], total[:-1] - exits[:-1] + new[1:].sum(axis=1), atol=1e-6)
    assert exits.sum() > 0 and new.sum() > 0


def test_budget_lines_and_payers_add_up(res, data):
    b = money.budget_table(res, data)
    assert set(EFFORT_LINES) <= set(b["line"])
    assert set(b["payer"]) <= set(PAYERS)
    transfers = b[b["line"].str.startswith("transfers:")]
    # payers add up to the transfer total computed independently: person-months x rate
    direct = (res.occupancy.sum(axis=3) * money.rate_table(data)).sum(axis=(1, 2))
    by_year = {y: direct[res.year_of_month == y].sum() for y in res.scenario.years}
    for y, total in by_year.items():
        assert transfers.loc[transfers["year"] == y, "dkk"].sum() == pytest.approx(total, rel=1e-12)
    # each line's payer shares sum to the line (no leakage in the refund split)
    shares = money.payer_shares(data)
    np.testing.assert_allclose(shares.sum(axis=2), 1.0)
    # effort lines add up to the total effort
    for y in res.scenario.years:
        lines = b[(b["year"] == y) & b["line"].isin(EFFORT_LINES)]
        assert lines["dkk"].sum() / 1e9 == pytest.approx(money.effort_total_bn(b, y))
        assert (lines["dkk"] > 0).all()


def test_employer_pays_only_sick_benefit(res, data):
    b = money.budget_table(res, data)
    employer = b[(b["payer"] == "employer") & (b["dkk"] > 0)]
    assert set(employer["line"]) == {"transfers:sickness_benefit"}


def test_every_parameter_is_used(data):
    """Every parameter in data/ reaches the tables or the money module (none is silently ignored)."""
    from sim.parameters import MONEY_PARAMETERS
    from sim.rules import build_tables
    tables = build_tables([data.params])
    assert set(data.params) - tables.used == set(MONEY_PARAMETERS)


def test_scale_is_a_weighted_subset(short_scenario):
    from sim.simulation import build_population
    full = build_population(short_scenario, seed=9, scale=0.02)
    part = build_population(short_scenario, seed=9, scale=0.01)
    assert set(part.person_id) <= set(full.person_id)
    ratio = part.weight.sum() / full.weight.sum()
    assert ratio == pytest.approx(1.0, abs=0.03)


def test_population_layout(short_scenario):
    """Stock first (entry month 0), then new spells numbered month by month, state by state,
    as many per month and state as the calibrated inflows give."""
    from sim.population import _counts, inflow_per_month
    from sim.simulation import build_population
    from sim.states import STATES
    pop = build_population(short_scenario, seed=2, scale=1.0)
    assert np.array_equal(pop.person_id, np.arange(len(pop)))
    assert np.all(np.diff(pop.entry_month) >= 0)
    new = pop.months_in_state == 0
    n_stock = int(np.argmax(new))
    assert np.all(pop.entry_month[:n_stock] == 0) and np.all(pop.months_in_state[:n_stock] > 0)
    assert np.all(new[n_stock:]) and np.all(pop.months_in_spell[n_stock:] == 0)
    counts = np.zeros((short_scenario.n_months, len(STATES)), np.int64)
    np.add.at(counts, (pop.entry_month[n_stock:], pop.state[n_stock:]), 1)
    for s, name in enumerate(STATES):
        assert np.array_equal(counts[:, s], _counts(inflow_per_month(short_scenario.data, name),
                                                      short_scenario.n_months)), name
    for m in range(3):                  # within a month, states in order
        assert np.all(np.diff(pop.state[n_stock:][pop.entry_month[n_stock:] == m]) >= 0)


def test_fill_population_without_stock():
    from sim import population_fill as kernel
    counts = np.array([[2, 0, 1], [0, 0, 0], [1, 3, 0]], np.int64)
    empty8, empty16 = np.zeros(0, np.int8), np.zeros(0, np.int16)
    pid, entry, state, dur, spell, cell = kernel.fill_population(counts, empty8, empty16, empty16, empty8)
    assert pid.tolist() == list(range(7))
    assert entry.tolist() == [0, 0, 0, 2, 2, 2, 2]
    assert state.tolist() == [0, 0, 2, 0, 1, 1, 1]
    assert dur.tolist() == [0] * 7 and spell.tolist() == [0] * 7 and cell.tolist() == [-1] * 7
