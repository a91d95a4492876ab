"""Evaluation designs replicated in the model (data/replications.csv), and the behaviour model's
signs: more early meetings raise exits; a mandatory offer's threat effect goes with the offer."""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import InputError
from sim.population import WEIGHT_UNIT, Population
from sim.replication import cohort_weeks, parse_rules, replicate
from sim.rules import build_tables
from sim.simulation import run_engine
from sim.states import N_STATES, STATE


def test_replications_come_from_data_and_say_whether_they_hold(data):
    table = replicate(data, n=20_000)
    assert list(table["replication"]) == list(data.replications["name"])
    assert np.isfinite(table["model"]).all()
    np.testing.assert_array_equal(table["within"], (table["low"] <= table["model"]) & (table["model"] <= table["high"]))
    assert (table["low"] <= table["value"]).all() and (table["value"] <= table["high"]).all()


def test_every_replication_lies_within_its_study_range(data):
    """The calibrated behaviour effects reproduce each study: the model's effect (treatment minus
    control on the same draws, 50,000 persons: a Monte Carlo error of hundredths of a week)
    lies within the study's range."""
    table = replicate(data, n=50_000)
    assert table["within"].all(), table[["replication", "low", "high", "model"]].to_string()


def test_more_early_meetings_raise_exits(data):
    """The Maibom, Rosholm & Svarer design: a meeting every month of the first three against one
    a quarter shortens the time on benefit; and a larger meeting effect shortens it more."""
    row = data.replications.set_index("name").loc["maibom_2017_individual_meetings"]
    control, treatment = (parse_rules(row[k], data, "test") for k in ("control", "treatment"))
    effect = {}
    for size in (0.1, 0.3):
        extra = {"behaviour.meeting_effect": size}
        effect[size] = (cohort_weeks(data, "dagpenge", {**treatment, **extra}, 24, 20_000)
                        - cohort_weeks(data, "dagpenge", {**control, **extra}, 24, 20_000))
    assert effect[0.1] < 0 and effect[0.3] < effect[0.1]


def _exits_by_month(data, params, months=9, n=20_000):
    tables = build_tables([{**data.params, **params}])
    pid = np.arange(n, dtype=np.int64)
    zeros = np.zeros(n, np.int16)
    pop = Population(pid, np.zeros(n, np.int32), np.zeros(n, np.int8), np.full(n, WEIGHT_UNIT, np.int64),
                     np.full(n, STATE["dagpenge"], np.int8), zeros, zeros, zeros, zeros, 1.0)
    _, _, flow, *_ = run_engine(pop, tables, np.zeros(months, np.int32), 7, 0, months)
    return flow.sum(axis=0)[:, STATE["dagpenge"], N_STATES:].sum(axis=1)     # exits from dagpenge by month


def test_removing_a_mandatory_offer_removes_its_threat_effect(data):
    """With the offer in contact month 6, exits rise in month 5 (the threat) and fall in month 6
    (lock-in); without it, the months before 5 are the same draw for draw, month 5 has fewer exits."""
    with_offer = _exits_by_month(data, {"rules.dagpenge.offer_first_month": 6})
    without = _exits_by_month(data, {"rules.dagpenge.offer_first_month": -1})
    np.testing.assert_array_equal(with_offer[:5], without[:5])
    assert with_offer[5] > without[5] * (1 + 0.5 * data.params["behaviour.threat_effect"])
    assert with_offer[6] < without[6]


def test_a_bad_rule_in_a_replication_is_named(data):
    with pytest.raises(InputError, match="rules.dagpenge.contact_monthz"):
        parse_rules("rules.dagpenge.contact_monthz=0 1", data, "data/replications.csv")
    with pytest.raises(InputError, match="parameter=value"):
        parse_rules("rules.dagpenge.contact_months", data, "data/replications.csv")


def _cohort_flows(data, state, params, months, n=20_000, seed=11):
    """Moves of a cohort of ``n`` new spells in ``state`` by month: (M, S + 2, K) persons."""
    from sim.population import new_spells
    tables = build_tables([{**data.params, **params}])
    _, _, flow, *_ = run_engine(new_spells(data, state, n, seed), tables, np.zeros(months, np.int32), seed, 0,
                                months)
    return flow.sum(axis=0) / WEIGHT_UNIT


def test_removing_company_based_offers_for_the_long_term_unemployed_lowers_their_employment(data):
    """Job-ready social-assistance recipients get an offer after six months, half of them
    company-based: without company-based offers (all guidance: a longer lock-in, a smaller effect
    after) fewer of them are in a job after two years."""
    from sim.states import EXIT_JOB
    state = "sa_job_ready"
    assert data.params[f"rules.{state}.company_offer_share"] > 0
    jobs = {}
    for share in (data.params[f"rules.{state}.company_offer_share"], 0.0):
        flow = _cohort_flows(data, state, {f"rules.{state}.company_offer_share": share}, 24)
        jobs[share] = flow[:, :N_STATES, EXIT_JOB].sum()
    with_company, without = jobs.values()
    assert without < with_company * 0.99


def test_an_offer_raises_exits_after_it_ends_for_its_post_programme_months(data):
    """A one-month company-based offer in contact month 6: exits are the same draw for draw until
    it ends, rise after it by about the post-programme effect, and stop rising when its months
    are over (with the effect set to 0 for comparison)."""
    months = int(data.params["behaviour.post_months"])
    common = {"rules.dagpenge.company_offer_share": 1.0, "rules.dagpenge.offer_length_months": 1}
    exits = {}
    for size in (data.params["behaviour.post_effect_company"], 0.0):
        flow = _cohort_flows(data, "dagpenge", {**common, "behaviour.post_effect_company": size}, 10 + months)
        exits[size] = flow[:, STATE["dagpenge"], N_STATES:].sum(axis=1)
    effect, none = exits.values()
    np.testing.assert_array_equal(effect[:7], none[:7])        # through the offer's month (6)
    size = data.params["behaviour.post_effect_company"]
    assert effect[7] > none[7] * (1 + 0.5 * size)
    # after the post-programme months the hazards are equal again: fewer exits, as fewer are left
    after = 7 + months
    assert effect[after] < none[after]


def test_leavers_for_a_job_come_back_within_the_window(data):
    """Recurrence: of a cohort's exits to jobs (from dagpenge, and from social assistance after it),
    the re-entry share comes back as new spells, spread over the window's months after the exit;
    without it, nobody comes back."""
    from sim.states import EXIT_JOB
    months, window, share = 36, int(data.params["behaviour.reentry_months"]), 0.2
    base = {"behaviour.reentry_share": share, "behaviour.reentry_reduction_after_offer": 0.0}
    flow = _cohort_flows(data, "dagpenge", base, months)
    none = _cohort_flows(data, "dagpenge", {**base, "behaviour.reentry_share": 0.0}, months)
    dagpenge = STATE["dagpenge"]
    assert none[1:, N_STATES, dagpenge].sum() == 0                     # a cohort: entries in month 0 only
    from sim.states import REENTRY_STATES
    back = flow[1:, N_STATES, :].sum()                                  # new spells after month 0
    jobs = flow[:, [STATE[x] for x in REENTRY_STATES], EXIT_JOB].sum(axis=1)   # (dagpenge, then social assistance)
    # an exit in month t comes back in month t + 1 ... t + window, alike: inside the horizon for
    # min(window, months - 1 - t) of them
    inside = np.minimum(window, months - 1 - np.arange(months)) / window
    assert back == pytest.approx(share * (jobs * inside).sum(), rel=0.05)


def test_fewer_come_back_after_an_offer(data):
    """Blasco & Rosholm's direction: leaving for a job in an offer's post-programme months, fewer
    come back (the reduction set to a half against none; company-based offers for everyone)."""
    from sim.states import EXIT_JOB
    common = {"rules.dagpenge.company_offer_share": 1.0, "behaviour.reentry_share": 0.2}
    rate = {}
    for reduction in (0.0, 0.5):
        flow = _cohort_flows(data, "dagpenge", {**common, "behaviour.reentry_reduction_after_offer": reduction}, 30)
        rate[reduction] = flow[1:, N_STATES, STATE["dagpenge"]].sum() / flow[:, STATE["dagpenge"], EXIT_JOB].sum()
    assert rate[0.5] < rate[0.0] * 0.95
