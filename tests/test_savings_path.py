"""Savings take time: a fall in an effort line's cost is money only as staff leave and contracts
run out (``money.shed_share_per_year``); one-off implementation costs are paid on top."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.comparison import compare, effort_by_line, reform_start, shedding_path, unrealised_by_line
from sim.errors import InputError
from sim.scenario import load_scenario
from sim.states import EFFORT_LINES
from sim.summary import comparison_summary as summary

SCALE = 0.01
RULES = {"rules.general.followup_delivery_share": 0.5, "rules.sa_activity_ready.offer_every_months": 24}


@pytest.fixture(scope="module")
def slow(data):
    """A rule-driven reform from 2026-01 that frees conversations and offers."""
    base = load_scenario("baseline", data)
    reform = base.with_changes(RULES, start="2026-01", provision="less", name="less")
    return compare(base, reform, seed=3, scale=SCALE, data=data, breakdown=False)


def test_shedding_path_by_hand(data):
    base = load_scenario("baseline", data)
    reform = load_scenario("expert_group", data)
    start = reform_start(base, reform)
    assert reform.months[start] == "2026-01"
    path = shedding_path(reform, start)
    jc, gu = EFFORT_LINES.index("jobcentre_operations"), EFFORT_LINES.index("guidance_upskilling")
    f = data.params["money.effort_fixed_share"]
    variable = {ln: (1 - f) * bn * 1e9 / 12 for ln, bn in zip(data.effort_lines["line"], data.effort_lines["baseline_bn"])}
    assert np.isinf(path[:start]).all()
    # a fifth of the jobcentre's variable cost a year: after one month a sixtieth, after five years all
    assert path[start, jc] == pytest.approx(0.2 / 12 * variable["jobcentre_operations"])
    assert path[start + 11, jc] == pytest.approx(0.2 * variable["jobcentre_operations"])
    assert path[start + 59, jc] == pytest.approx(variable["jobcentre_operations"]) == path[-1, jc]
    # all of a purchased line within a year
    assert path[start, gu] == pytest.approx(variable["guidance_upskilling"] / 12)
    assert path[start + 11, gu] == pytest.approx(variable["guidance_upskilling"]) == path[-1, gu]
    assert reform_start(base, base) is None and np.isinf(shedding_path(base, None)).all()


def test_reform_pays_for_what_it_has_not_shed(slow):
    """The reform's budget.csv effort lines are its activity plus the unrealised cost, which is
    the fall in cost beyond what can have been shed by then; it is gone once enough is shed."""
    comp, s = slow, summary(slow)
    b = comp.budget
    reform = b[(b["scenario"] == "less") & b["line"].isin(EFFORT_LINES)].pivot_table(
        index="year", columns="line", values="dkk", aggfunc="sum")[list(EFFORT_LINES)]
    own = effort_by_line(comp.reform)
    unreal = unrealised_by_line(comp)
    pd.testing.assert_frame_equal(reform, own + unreal, check_names=False, rtol=1e-12)
    fall = (effort_by_line(comp.baseline, monthly=True) - effort_by_line(comp.reform, monthly=True)).to_numpy()
    by_hand = np.maximum(fall - comp.sheddable, 0)
    for y in (2026, 2027):
        got = unreal.loc[y].to_numpy()
        want = by_hand[comp.baseline.year_of_month == y].sum(axis=0)
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert unreal.loc[2026].sum() > 0.1 * np.maximum(fall, 0)[comp.baseline.year_of_month == 2026].sum()
    assert (unreal.loc[2030:] == 0).all().all()
    # the bottom-up saving counts the realised part: less than the fall at first, all of it later
    assert s["budget.bottom_up_process_savings_bn"]["2026"] < 0.8 * fall[comp.baseline.year_of_month == 2026].sum() / 1e9
    assert s["budget.bottom_up_process_savings_bn"]["2030"] == pytest.approx(
        fall[comp.baseline.year_of_month == 2030].sum() / 1e9, rel=1e-9)
    assert sum(s["budget.unrealised_bn"][ln]["2026"] for ln in EFFORT_LINES) == pytest.approx(
        unreal.loc[2026].sum() / 1e9)


def test_savings_at_once_when_everything_can_be_shed_at_once(data, slow):
    base = load_scenario("baseline", data)
    at_once = {f"money.shed_share_per_year.{ln}": 100 for ln in EFFORT_LINES}
    reform = base.with_changes({**RULES, **at_once}, start="2026-01", provision="less", name="less")
    comp = compare(base, reform, seed=3, scale=SCALE, data=data, breakdown=False)
    s = summary(comp)
    assert (unrealised_by_line(comp) == 0).all().all()
    fall = (effort_by_line(comp.baseline) - effort_by_line(comp.reform)).sum(axis=1) / 1e9
    for y in ("2026", "2027", "2030"):
        assert s["budget.bottom_up_process_savings_bn"][y] == pytest.approx(fall[int(y)], rel=1e-9)
    assert s["budget.bottom_up_process_savings_bn"]["2026"] > summary(slow)["budget.bottom_up_process_savings_bn"]["2026"]


def test_one_off_costs_are_paid_and_checked(tmp_path, data):
    comp = compare("baseline", "expert_group", seed=2, scale=SCALE, data=data, breakdown=False)
    s = summary(comp)
    assert s["budget.one_off_costs_bn"]["2026"] == pytest.approx(0.05)
    assert s["budget.one_off_costs_bn"]["2027"] == pytest.approx(0.05)
    assert sum(s["budget.one_off_costs_bn"].values()) == pytest.approx(0.1)
    head = 'description = "x"\nbaseline = "baseline"\n[[one_off]]\nprovision = "p"\nsource = "s"\n'
    for body, message in (('year = 2026\nline = "jobcentre"\nbn = 0.1\n', "not an effort line"),
                          ('year = 2040\nline = "other_effort"\nbn = 0.1\n', "outside the horizon"),
                          ('year = 2026\nline = "other_effort"\nbn = -1\n', "one_off")):
        path = tmp_path / "x.toml"
        path.write_text(head + body)
        with pytest.raises(InputError, match=message):
            load_scenario(path, data)
