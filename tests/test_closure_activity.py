"""Abolished states: their persons keep the activity their needs called for (rule
``activity_kept_when_closed``), so an abolition changes nothing but what the provision says."""

from __future__ import annotations

import numpy as np
import pytest

from sim import layout as L
from sim.scenario import load_scenario
from sim.simulation import build_population, simulate
from sim.states import STATE

SCALE = 0.02
OFFERS = [L.A_OFFER_GUIDANCE, L.A_OFFER_EDUCATION]


def _runs(data, keep: int):
    base = load_scenario("baseline", data)
    # everyone to social assistance (the shipped closure sends 10 % out, who then get nothing)
    changes = {"rules.resource_course.closed": 1,
               "destination.resource_course.closure.social_assistance": 1.0,
               "destination.resource_course.closure.exit_other": 0.0}
    if keep != 1:
        changes["rules.resource_course.activity_kept_when_closed"] = keep
    reform = base.with_changes(changes, start="2026-01", provision="resource_course_abolished")
    population = build_population(base, 5, SCALE)
    return (simulate(base, seed=5, population=population, data=data),
            simulate(reform, seed=5, population=population, data=data))


@pytest.fixture(scope="module")
def kept(data):
    return _runs(data, 1)


def test_the_month_after_an_abolition_has_the_same_activity(kept):
    """Persons are moved out at the end of 2025-12. In 2026-01, before any exit differs, every
    activity of every person is what it would have been: same schedule, offers under way, draws."""
    base, reform = kept
    m = reform.months.index("2026-01")
    rc = STATE["resource_course"]
    assert reform.occupancy[m, rc].sum() == 0 and base.occupancy[m, rc].sum() > 0
    for a in OFFERS + [L.A_CONV_JOBCENTRE, L.A_REVIEW]:
        assert reform.activity[m, a].sum() == base.activity[m, a].sum(), a
    # the occupancy moved with them, so the activity is counted where they are now
    assert reform.activity[m, OFFERS][:, STATE["sa_activity_ready"]].sum() > \
        base.activity[m, OFFERS][:, STATE["sa_activity_ready"]].sum()


def test_entrants_who_would_have_started_the_course_get_its_activity(kept):
    """Years on, the stock of the course has turned over; the activity of its would-be entrants
    is kept, so the offer months of all states stay near today's (within the hazard differences)."""
    base, reform = kept
    y = reform.year_of_month == 2030
    total = lambda r: r.activity[y][:, OFFERS].sum()   # noqa: E731
    assert total(reform) == pytest.approx(total(base), rel=0.03)


def test_without_the_rule_the_move_cuts_the_activity(data, kept):
    """The same abolition with ``activity_kept_when_closed = 0``: the persons get only what their
    new state's rules give, which is less (the test above would fail)."""
    base, dropped = _runs(data, 0)
    m = dropped.months.index("2026-01")
    assert dropped.activity[m, OFFERS].sum() < base.activity[m, OFFERS].sum()
    y = dropped.year_of_month == 2030
    assert dropped.activity[y][:, OFFERS].sum() < 0.92 * kept[1].activity[y][:, OFFERS].sum()


def test_engines_agree_with_kept_activity(data):
    base = load_scenario("baseline", data)
    reform = base.with_changes({"rules.resource_course.closed": 1, "rules.job_clarification.closed": 1},
                               start="2025-03", provision="both_abolished")
    population = build_population(base, 7, 0.002)
    a = simulate(reform, seed=7, population=population, data=data)
    b = simulate(reform, seed=7, population=population, data=data, engine="numpy")
    for x, y in ((a.occupancy, b.occupancy), (a.activity, b.activity), (a.flow, b.flow)):
        np.testing.assert_array_equal(x, y)
