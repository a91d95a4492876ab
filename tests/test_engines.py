"""One model, two engines: the numba kernel and the NumPy engine agree exactly."""

from __future__ import annotations

import numpy as np
import pytest

from sim.simulation import build_population, simulate


@pytest.mark.parametrize("seed", [1, 7, 2024])
def test_numba_equals_numpy(short_scenario, seed):
    pop = build_population(short_scenario, seed=seed, scale=0.005)
    a = simulate(short_scenario, seed=seed, engine="numba", population=pop)
    b = simulate(short_scenario, seed=seed, engine="numpy", population=pop)
    assert a.occupancy.sum() > 0
    np.testing.assert_array_equal(a.occupancy, b.occupancy)
    np.testing.assert_array_equal(a.activity, b.activity)
    np.testing.assert_array_equal(a.flow, b.flow)
    np.testing.assert_array_equal(a.spell, b.spell)


def test_engines_agree_on_tiny_populations(short_scenario):
    """Edge cases: a handful of persons, a single person, persons entering in the last month."""
    pop = build_population(short_scenario, seed=5, scale=0.0002)
    assert 50 < len(pop) < 5000
    for keep in (np.arange(len(pop)) < 1, pop.entry_month == pop.entry_month.max(), np.ones(len(pop), bool)):
        sub = type(pop)(*(getattr(pop, f)[keep] for f in ("person_id", "entry_month", "cell", "weight",
                          "state", "months_in_state", "months_in_spell", "age", "municipality")), pop.scale)
        a = simulate(short_scenario, seed=5, engine="numba", population=sub)
        b = simulate(short_scenario, seed=5, engine="numpy", population=sub)
        np.testing.assert_array_equal(a.occupancy, b.occupancy)
        np.testing.assert_array_equal(a.flow, b.flow)
        np.testing.assert_array_equal(a.activity, b.activity)


def test_one_and_two_threads_identical(short_scenario, small_population):
    a = simulate(short_scenario, seed=3, population=small_population, n_threads=1)
    b = simulate(short_scenario, seed=3, population=small_population, n_threads=2)
    np.testing.assert_array_equal(a.occupancy, b.occupancy)
    np.testing.assert_array_equal(a.activity, b.activity)
    np.testing.assert_array_equal(a.flow, b.flow)
    np.testing.assert_array_equal(a.spell, b.spell)


def test_chunking_does_not_matter(short_scenario, small_population):
    """More slices than threads: same sums (each slice writes its own accumulator)."""
    from sim import kernel
    from sim.rules import build_tables
    from sim.population import N_MUNICIPALITIES
    from sim.states import N_BANDS
    regimes, of_month = short_scenario.regimes()
    table = build_tables(regimes).arrays(np.array(of_month))
    outs = [kernel.simulate(small_population.arrays(), table, 3, short_scenario.start, k,
                            short_scenario.n_months, N_BANDS, N_MUNICIPALITIES) for k in (1, 3, 8)]
    for o in outs[1:]:
        for x, y in zip(outs[0], o):
            np.testing.assert_array_equal(x.sum(axis=0), y.sum(axis=0))


def test_seed_changes_draws(short_scenario, small_population):
    a = simulate(short_scenario, seed=3, population=small_population)
    b = simulate(short_scenario, seed=4, population=small_population)
    assert not np.array_equal(a.flow, b.flow)


def test_uniform_draws_match_and_are_uniform():
    from sim import rng
    pid = np.arange(20000, dtype=np.int64)
    u_np = rng.uniform_numpy(11, pid, 300, 2)
    u_nb = np.array([rng.uniform(11, int(p), 300, 2) for p in pid[:200]])
    np.testing.assert_array_equal(rng.uniform_array(11, pid, 300, 2), u_np)
    np.testing.assert_array_equal(u_np[:200], u_nb)
    assert 0 <= u_np.min() and u_np.max() < 1
    # law of large numbers: mean 1/2 within 4 standard errors, deciles near 10 %
    assert abs(u_np.mean() - 0.5) < 4 * np.sqrt(1 / 12 / pid.size)
    counts = np.histogram(u_np, bins=10, range=(0, 1))[0] / pid.size
    assert np.all(np.abs(counts - 0.1) < 0.01)
    # different purposes give unrelated draws
    assert abs(np.corrcoef(u_np, rng.uniform_numpy(11, pid, 300, 3))[0, 1]) < 0.03


def test_engines_agree_under_rationing(short_scenario):
    """With a budget, due activity is delivered with a share per month, kind and cell."""
    from sim import layout
    from sim.states import N_CELLS
    pop = build_population(short_scenario, seed=8, scale=0.005)
    rng = np.random.default_rng(0)
    ration = rng.uniform(0.0, 1.0, (short_scenario.n_months, layout.N_KINDS, N_CELLS))
    ration[:, :, ::3] = 1.0
    a = simulate(short_scenario, seed=8, engine="numba", population=pop, ration=ration)
    b = simulate(short_scenario, seed=8, engine="numpy", population=pop, ration=ration)
    np.testing.assert_array_equal(a.occupancy, b.occupancy)
    np.testing.assert_array_equal(a.activity, b.activity)
    np.testing.assert_array_equal(a.flow, b.flow)
    np.testing.assert_array_equal(a.spell, b.spell)
    full = simulate(short_scenario, seed=8, population=pop)
    rationed = a.activity[:, layout.A_CONV_RATIONED].sum()
    assert rationed > 0
    # due conversations are the same whether or not they are held... in the first month
    held_plus_rationed = a.activity[0, layout.A_CONV_JOBCENTRE].sum() + a.activity[0, layout.A_CONV_RATIONED].sum()
    assert held_plus_rationed == full.activity[0, layout.A_CONV_JOBCENTRE].sum()


@pytest.mark.parametrize("reform", ["expert_group", "agreement_2025", "djoef_now", "six_cities"])
def test_engines_agree_on_shipped_reforms(data, reform):
    """Closures, regime changes, selectors, delivery shares and rationing: both engines agree."""
    from sim import layout
    from sim.scenario import load_scenario
    from sim.states import N_CELLS
    sc = load_scenario(reform, data)
    pop = build_population(load_scenario("baseline", data), seed=9, scale=0.0015)
    ration = np.ones((sc.n_months, layout.N_KINDS, N_CELLS))
    ration[24:, :, 1::2] = 0.6
    a = simulate(sc, seed=9, engine="numba", population=pop, ration=ration)
    b = simulate(sc, seed=9, engine="numpy", population=pop, ration=ration)
    for x, y in ((a.occupancy, b.occupancy), (a.activity, b.activity), (a.flow, b.flow), (a.spell, b.spell)):
        np.testing.assert_array_equal(x, y)
    assert len(set(a.regime_of_month)) > 1


@pytest.mark.parametrize("name", ["baseline", "expert_group", "agreement_2025"])
def test_schedule_repeats_beyond_its_table(data, name):
    """The kernel looks contact months past the schedule table up by its period: the same bits."""
    from sim import kernel as K
    from sim.rules import build_tables
    from sim.scenario import load_scenario
    tables = build_tables(load_scenario(name, data).regimes()[0])
    sched, repeat = K.build_schedule(tables.rules, tables.conv_sched)
    n_reg, n_states, n_cells = tables.rules.shape[:3]
    checked = 0
    for r in range(n_reg):
        for s in range(n_states):
            for c in range(n_cells):
                start, period = repeat[r, s, c]
                if start < 0:               # does not repeat within the table: due_bits is called
                    continue
                for dc in range(K.N_SCHEDULE, 1200, 5):
                    assert K.due_bits(tables.rules, tables.conv_sched, r, s, c, dc) == \
                        sched[r, s, c, start + (dc - start) % period], (r, s, c, dc)
                    checked += 1
    assert checked > 10_000


def test_engines_agree_on_long_spells(short_scenario):
    """Persons far into their contact process (past the kernel's schedule table) and long spells."""
    pop = build_population(short_scenario, seed=9, scale=0.002)
    stock = pop.entry_month == 0
    assert stock.sum() > 100
    pop.months_in_state[stock] = 230 + (np.arange(stock.sum()) % 40).astype(np.int16)
    pop.months_in_spell[stock] = pop.months_in_state[stock] + 5
    a = simulate(short_scenario, seed=9, engine="numba", population=pop)
    b = simulate(short_scenario, seed=9, engine="numpy", population=pop)
    np.testing.assert_array_equal(a.occupancy, b.occupancy)
    np.testing.assert_array_equal(a.activity, b.activity)
    np.testing.assert_array_equal(a.flow, b.flow)
    assert a.activity.sum() > 0


def _both_engines(population, tables, regime_of_month, month0, n_months, n_chunks=2):
    from sim import engine, kernel
    from sim.population import N_MUNICIPALITIES
    from sim.states import N_BANDS
    table = tables.arrays(np.asarray(regime_of_month), month0=month0)
    a = kernel.simulate(population, table, 4, month0, n_chunks, n_months, N_BANDS, N_MUNICIPALITIES)
    b = engine.simulate(population, table, 4, month0, 1, n_months, N_BANDS, N_MUNICIPALITIES)
    return [x.sum(axis=0) for x in a], [x.sum(axis=0) for x in b]


def test_engines_agree_where_the_schedule_does_not_repeat(short_scenario):
    """Rules whose schedule has not settled by the end of the kernel's table (a-kasse months far
    out): the kernel falls back to due_bits for late contact months."""
    from sim import kernel
    from sim import layout as K
    from sim.rules import build_tables
    regimes, of_month = short_scenario.regimes()
    tables = build_tables(regimes)
    tables.rules[..., K.R_AKASSE_MONTHS] = K.N_SCHEDULE + 10
    assert (kernel.build_schedule(tables.rules, tables.conv_sched)[1][..., 0] < 0).all()
    pop = build_population(short_scenario, seed=4, scale=0.002)
    stock = pop.entry_month == 0
    pop.months_in_state[stock] = K.N_SCHEDULE - 5 + (np.arange(stock.sum()) % 30).astype(np.int16)
    pop.months_in_spell[stock] = pop.months_in_state[stock]
    a, b = _both_engines(pop.arrays(), tables, of_month, short_scenario.start, short_scenario.n_months)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert a[1].sum() > 0


def test_engines_agree_on_a_move_into_a_closed_state_in_the_last_month():
    """A hand-made table: state 0 always moves to state 1, which is closed (leavers go out).
    The move is sent on where the closure says at once, in every month, the last included:
    nobody is ever counted in the closed state."""
    from sim import layout as K
    from sim.arrays import PersonArrays
    from sim.rules import Tables
    n_states, n_cells, n_months, n_dur = 2, 2, 3, 4
    rules = np.zeros((1, n_states, n_cells, K.N_RULES), np.int32)
    for col in (K.R_OFFER_FIRST, K.R_CERT_MONTH, K.R_REVIEW_FIRST, K.R_LIMIT):
        rules[..., col] = -1
    rules[0, 1, :, K.R_CLOSED] = 1
    p_exit = np.zeros((1, n_states, n_dur, n_cells, K.N_COMBOS))
    p_exit[0, 0] = 1.0
    dest = np.ones((1, n_states, n_cells, n_states + 1))
    dest[0, 0, :, 0] = 0.0                      # from state 0: to state 1
    closure = np.zeros_like(dest)
    closure[..., -1] = 1.0                      # out of the closed state: leave
    tables = Tables(rules, np.zeros((1, n_states, n_cells, 4), np.int8), p_exit, dest, dest.copy(),
                    closure, np.ones((1, n_states, n_cells, K.N_PROBS)),
                    np.zeros((1, n_states + 1), np.int8), set())
    entry = np.array([0, 1, 2, 2], np.int32)
    pop = PersonArrays(np.arange(4, dtype=np.int64), entry, np.array([0, 1, 0, 1], np.int8),
           np.full(4, 1000, np.int64), np.zeros(4, np.int8), np.zeros(4, np.int16), np.zeros(4, np.int16),
           np.array([0, 97, 3, 3], np.int16))
    a, b = _both_engines(pop, tables, np.zeros(n_months, np.int32), 300, n_months)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    flow = a[2]
    assert flow[n_months - 1, 0, n_states] == 2000      # both last-month entrants sent out at once
    assert flow[:, :n_states, 1].sum() == 0 and a[0][:, 1].sum() == 0


def test_engines_agree_with_redeployed_activity(short_scenario):
    """Shares above 1 (money redeployed) add conversations and offers where none is due, by
    state and cell; both engines agree, and the extra activity is there."""
    from sim import layout
    from sim.states import N_CELLS, N_STATES, STATE
    pop = build_population(short_scenario, seed=8, scale=0.005)
    rng = np.random.default_rng(1)
    ration = rng.uniform(0.5, 1.6, (short_scenario.n_months, layout.N_KINDS, N_STATES, N_CELLS))
    a = simulate(short_scenario, seed=8, engine="numba", population=pop, ration=ration)
    b = simulate(short_scenario, seed=8, engine="numpy", population=pop, ration=ration)
    for x, y in ((a.occupancy, b.occupancy), (a.activity, b.activity), (a.flow, b.flow), (a.spell, b.spell)):
        np.testing.assert_array_equal(x, y)
    # only extra: more conversations and offer months than at full delivery, only where asked
    more = np.ones_like(ration)
    sa = STATE["sa_activity_ready"]
    more[:, :, sa] = 1.5
    extra = simulate(short_scenario, seed=8, population=pop, ration=more)
    full = simulate(short_scenario, seed=8, population=pop)
    for act in (layout.A_CONV_JOBCENTRE, layout.A_OFFER_GUIDANCE):
        assert extra.activity[:, act, sa].sum() > 1.2 * full.activity[:, act, sa].sum()
    # the first month, before any exit differs: other states' activity is untouched
    others = [s for s in range(N_STATES) if s != sa]
    np.testing.assert_array_equal(extra.activity[0][:, others], full.activity[0][:, others])
