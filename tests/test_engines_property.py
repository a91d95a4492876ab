"""Properties of the two engines on random small cases (Hypothesis).

Each case is a random population (a few hundred persons: states, cells, entry months, months
already behind them, integer weights), random valid rule tables (the shipped baseline's, with
exit probabilities, delivery shares and offer, follow-up, review and certificate rules drawn
anew) and random delivery shares. Checked: the numba kernel and the NumPy engine give identical
arrays; persons are conserved state by state and month by month; one or two threads give the
same sums; a reform equal to the baseline until month k changes nothing before k; a reform that
changes nothing gives exactly zero difference. The settings are fixed (``derandomize``) so that
every run, CI included, tries the same cases.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import engine, kernel
from sim import layout as L
from sim.arrays import PersonArrays
from sim.rules import Tables, build_tables
from sim.states import N_BANDS

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MONTH0 = 300
N_PLACES = 5            # municipalities of the random cases

cases = st.fixed_dictionaries({
    "seed": st.integers(0, 2**31 - 1),
    "n_persons": st.integers(1, 400),
    "n_months": st.integers(1, 18),
    "rationed": st.booleans(),
})


@pytest.fixture(scope="module")
def base(data) -> Tables:
    return build_tables([dict(data.params)])


def random_tables(base: Tables, rng: np.random.Generator) -> Tables:
    """The baseline's tables with behaviour and activity rules drawn anew (still valid: offsets
    and lengths in range, probabilities in [0, 1])."""
    rules = base.rules.copy()
    shape = rules.shape[:3]
    rules[..., L.R_FOLLOWUP_EVERY] = rng.integers(0, 5, shape)
    rules[..., L.R_OFFER_FIRST] = rng.integers(-1, 8, shape)
    rules[..., L.R_OFFER_EVERY] = rng.integers(0, 6, shape)
    rules[..., L.R_OFFER_LEN] = rng.integers(1, 5, shape)
    rules[..., L.R_OFFER_IS_EDU] = rng.integers(0, 2, shape)
    rules[..., L.R_REVIEW_FIRST] = rng.integers(-1, 10, shape)
    rules[..., L.R_REVIEW_EVERY] = rng.integers(0, 7, shape)
    rules[..., L.R_CERT_MONTH] = rng.integers(-1, 6, shape)
    rules[..., L.R_JOBEDU_FROM] = rng.integers(0, 6, shape)
    rules[..., L.R_JOBEDU_UNTIL] = rules[..., L.R_JOBEDU_FROM] + rng.integers(0, 4, shape)
    rules[..., L.R_INFO_FORM] = rng.integers(0, 2, shape)
    rules[..., L.R_RESTART_CONTACT] = rng.integers(0, 2, shape)
    probs = rng.choice([0.0, 0.3, 0.7, 1.0], base.probs.shape)
    p_exit = np.minimum(base.p_exit * rng.uniform(0.3, 3.0, base.p_exit.shape), 1.0)
    return Tables(rules, base.conv_sched.copy(), p_exit, base.dest_cdf.copy(), base.limit_cdf.copy(),
                  base.closure_cdf.copy(), probs, base.rehab_on_entry.copy(), set())


def random_population(rng: np.random.Generator, n: int, n_months: int, n_states: int,
                      n_cells: int) -> PersonArrays:
    """Persons sorted by entry month; a third already in their state at entry (the stock)."""
    entry = np.sort(rng.integers(0, n_months, n)).astype(np.int32)
    in_state = np.where(rng.uniform(size=n) < 1 / 3, rng.integers(1, 300, n), 0).astype(np.int16)
    in_spell = (in_state + rng.integers(0, 30, n) * (in_state > 0)).astype(np.int16)
    return PersonArrays(person_id=rng.permutation(10 * n)[:n].astype(np.int64), entry_month=entry,
                        cell=rng.integers(0, n_cells, n).astype(np.int8),
                        weight=rng.integers(1, 5000, n).astype(np.int64),
                        state=rng.integers(0, n_states, n).astype(np.int8),
                        months_in_state=in_state, months_in_spell=in_spell,
                        municipality=rng.integers(0, N_PLACES, n).astype(np.int16))


def case_inputs(base: Tables, case: dict):
    rng = np.random.default_rng(case["seed"])
    tables = random_tables(base, rng)
    n_states, n_cells = tables.rules.shape[1], tables.rules.shape[2]
    person = random_population(rng, case["n_persons"], case["n_months"], n_states, n_cells)
    ration = None
    if case["rationed"]:
        ration = rng.choice([0.0, 0.5, 1.0], (case["n_months"], L.N_KINDS, n_cells))
    return tables, person, ration


def run_kernel(person, table, n_months, n_threads=2, seed=5):
    old = numba.get_num_threads()
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    try:
        out = kernel.simulate(person, table, seed, MONTH0, n_threads, n_months, N_BANDS, N_PLACES)
    finally:
        numba.set_num_threads(old)
    return [x.sum(axis=0) for x in out]


def run_numpy(person, table, n_months, seed=5):
    return [x.sum(axis=0) for x in engine.simulate(person, table, seed, MONTH0, 1, n_months, N_BANDS, N_PLACES)]


@SETTINGS
@given(case=cases)
def test_kernel_equals_numpy_engine(base, case):
    tables, person, ration = case_inputs(base, case)
    table = tables.arrays(np.zeros(case["n_months"], np.int32), ration)
    for a, b in zip(run_kernel(person, table, case["n_months"]), run_numpy(person, table, case["n_months"])):
        np.testing.assert_array_equal(a, b)


@SETTINGS
@given(case=cases)
def test_persons_are_conserved(base, case):
    """Per state and month: persons there next month = persons this month - moves out + moves in
    (transitions and closures, this month) + entries next month (new spells, the stock, and those
    coming back after a job); those left after the last month are the last month's less its
    moves out."""
    tables, person, ration = case_inputs(base, case)
    n_months = case["n_months"]
    occupancy, _, flow, *_ = run_kernel(person, tables.arrays(np.zeros(n_months, np.int32), ration), n_months)
    n_states = tables.rules.shape[1]
    stock = occupancy.sum(axis=(2, 3))                        # (M, S): persons in each state
    entries = flow[:, n_states:, :n_states].sum(axis=1)       # (M, S): entering the simulation
    moves_out = flow[:, :n_states, :].sum(axis=2)             # (M, S): moves out of each state
    moves_in = flow[:, :n_states, :n_states].sum(axis=1)      # (M, S): moves into each state
    np.testing.assert_array_equal(stock[0], entries[0])
    for m in range(n_months - 1):
        np.testing.assert_array_equal(stock[m + 1], stock[m] - moves_out[m] + moves_in[m] + entries[m + 1])
    entered = flow[:, n_states:, :].sum()
    left = flow[:, :n_states, n_states:].sum() + flow[:, n_states:, n_states:].sum()
    remaining = (stock[-1] - moves_out[-1] + moves_in[-1]).sum()
    assert entered == left + remaining
    # entries are the population's, and those who come back after leaving for a job (never more
    # than left for one)
    population = person.weight[person.entry_month < n_months].sum()
    from sim.states import EXIT_JOB
    assert (stock >= 0).all() and population <= entered <= population + flow[:, :n_states, EXIT_JOB].sum()


@SETTINGS
@given(case=cases)
def test_municipality_sums_equal_the_national_arrays(base, case):
    """Summed over municipalities and the months of each year, the municipality arrays are the
    national occupancy and activity (by cost class), in both engines; every
    person-month is in its own person's municipality (a municipality with no persons has none)."""
    tables, person, ration = case_inputs(base, case)
    n_months = case["n_months"]
    table = tables.arrays(np.zeros(n_months, np.int32), ration, MONTH0)
    year = table.year_of_month
    for out in (run_kernel(person, table, n_months), run_numpy(person, table, n_months)):
        occupancy, activity, _, _, place_occ, place_act = out
        by_year_occ = np.stack([occupancy[year == y].sum(axis=0) for y in range(year.max() + 1)])
        cls = table.cost_class                                # (S, C): the class axis of place_act
        assert set(np.unique(cls)) <= set(range(L.N_COST_CLASSES))
        by_year_act = np.stack([np.stack([activity[year == y][:, :, cls == k].sum(axis=(0, 2))
                                          for k in range(L.N_COST_CLASSES)])
                                for y in range(year.max() + 1)])
        np.testing.assert_array_equal(place_occ.sum(axis=0), by_year_occ)
        np.testing.assert_array_equal(place_act.sum(axis=0), by_year_act)
        empty = np.setdiff1d(np.arange(N_PLACES), person.municipality)
        assert place_occ[empty].sum() == 0 and place_act[empty].sum() == 0


@SETTINGS
@given(case=cases)
def test_one_or_two_threads_give_the_same_sums(base, case):
    tables, person, ration = case_inputs(base, case)
    table = tables.arrays(np.zeros(case["n_months"], np.int32), ration)
    for a, b in zip(run_kernel(person, table, case["n_months"], 1), run_kernel(person, table, case["n_months"], 2)):
        np.testing.assert_array_equal(a, b)


def two_regimes(baseline: Tables, reform: Tables) -> Tables:
    """Regime 0 the baseline's tables, regime 1 the reform's."""
    parts = [np.concatenate([getattr(baseline, f), getattr(reform, f)]) for f in
             ("rules", "conv_sched", "p_exit", "dest_cdf", "limit_cdf", "closure_cdf", "probs", "rehab_on_entry")]
    return Tables(*parts, used=set())


@SETTINGS
@given(case=cases, start=st.integers(0, 18))
def test_reform_changes_nothing_before_it_starts(base, case, start):
    """A reform in force from month ``start`` (other behaviour and activity rules, no state
    abolished) leaves every month before it as in the baseline, in both engines."""
    tables, person, ration = case_inputs(base, case)
    n_months = case["n_months"]
    reform = random_tables(base, np.random.default_rng(case["seed"] + 1))
    both = two_regimes(tables, reform)
    of_month = (np.arange(n_months) >= start).astype(np.int32)
    before = min(start, n_months)
    for run in (run_kernel, run_numpy):
        base_out = run(person, both.arrays(np.zeros(n_months, np.int32), ration), n_months)
        reform_out = run(person, both.arrays(of_month, ration), n_months)
        for a, b in zip(base_out[:4], reform_out[:4]):             # by month
            np.testing.assert_array_equal(a[:before], b[:before])
        for a, b in zip(base_out[4:], reform_out[4:]):             # by municipality and year
            np.testing.assert_array_equal(a[:, :before // 12], b[:, :before // 12])


@SETTINGS
@given(case=cases, start=st.integers(0, 18))
def test_a_change_with_no_effect_gives_exactly_zero_difference(base, case, start):
    """A 'reform' whose tables equal the baseline's, as a regime of its own from ``start``."""
    tables, person, ration = case_inputs(base, case)
    n_months = case["n_months"]
    both = two_regimes(tables, tables)
    of_month = (np.arange(n_months) >= start).astype(np.int32)
    for run in (run_kernel, run_numpy):
        base_out = run(person, tables.arrays(np.zeros(n_months, np.int32), ration), n_months)
        reform_out = run(person, both.arrays(of_month, ration), n_months)
        for a, b in zip(base_out, reform_out):
            assert (a - b == 0).all()
