"""The fast paths of table building and budgeting give the figures of the straightforward ones."""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pandas as pd
import pytest

from sim import budget as money
from sim.rules import ParamReader, build_regime, build_tables
from sim.states import ACTIVITIES, BENEFIT_OF_STATE, EFFORT_LINES, N_BANDS, N_CELLS, N_STATES, PAYERS, STATES

FIELDS = ("rules", "conv_sched", "p_exit", "dest_cdf", "limit_cdf", "closure_cdf", "probs", "rehab_on_entry")


def _with_selectors(data) -> dict:
    params = dict(data.params)
    params["rules.dagpenge@far.contact_months"] = (0, 3, 6)
    params["rules.general@youth.followup_every_months"] = 2.0
    params["rules.sa_job_ready@insured.followup_delivery_share"] = 0.5
    params["rules.general@from_job.medical_certificate_month"] = 1
    return params


def test_rule_by_cell_is_rule_of_each_cell(data):
    params = _with_selectors(data)
    fast, slow = ParamReader(params), ParamReader(params)
    for state in STATES:
        for rule, default in (("contact_months", ()), ("followup_every_months", 0),
                              ("followup_delivery_share", 1.0), ("medical_certificate_month", -1)):
            assert fast.rule_by_cell(state, rule, default) == [slow.rule(state, rule, default, c)
                                                               for c in range(N_CELLS)]
    assert fast.used == slow.used
    assert "rules.general@youth.followup_every_months" in fast.used


@pytest.mark.parametrize("selectors", [False, True])
def test_cached_tables_equal_fresh_ones(data, selectors):
    params = _with_selectors(data) if selectors else dict(data.params)
    first, again = build_tables([params]), build_tables([dict(params)])
    fresh = build_regime(params)
    for i, name in enumerate(FIELDS):
        assert np.array_equal(getattr(first, name)[0], fresh[i])
        assert np.array_equal(getattr(again, name)[0], fresh[i])
        assert getattr(again, name).flags.writeable
    assert first.used == again.used == fresh[-1]


def test_changed_value_is_not_served_from_the_cache(data):
    params = dict(data.params)
    before = build_tables([params]).probs
    params["rules.general.followup_delivery_share"] = 0.25
    after = build_tables([params]).probs
    assert not np.array_equal(before, after)
    assert np.array_equal(after[0], build_regime(params)[6])


def _reference_budget(results, data) -> pd.DataFrame:
    """The budget built from one small table per (state, payer) and line, then grouped."""
    split = np.einsum("msb,sbp->msp", (results.occupancy * money.rate_table(data)[None, :, :, None]).sum(axis=2),
                      money.payer_shares(data))
    frames = [pd.DataFrame({"month": results.months, "line": f"transfers:{BENEFIT_OF_STATE[name]}",
                            "payer": payer, "dkk": split[:, s, p]})
              for s, name in enumerate(STATES) if BENEFIT_OF_STATE[name] for p, payer in enumerate(PAYERS)]
    transfers = pd.concat(frames).groupby(["month", "line", "payer"], as_index=False, sort=False)["dkk"].sum()
    effort = money.effort(results, data)
    monthly = pd.concat([effort, transfers], ignore_index=True)
    monthly["year"] = monthly["month"].str[:4].astype(int)
    out = monthly.groupby(["year", "line", "payer"], as_index=False, sort=False)["dkk"].sum()
    out.insert(1, "scenario", results.scenario.name)
    return out[["year", "scenario", "line", "payer", "dkk"]], transfers


def test_budget_equals_grouped_tidy_tables(data):
    rng = np.random.default_rng(7)
    months = [f"{y}-{m:02d}" for y in range(2025, 2028) for m in range(1, 13)][3:-2]
    results = types.SimpleNamespace(
        occupancy=rng.lognormal(3, 2, (len(months), N_STATES, N_CELLS, N_BANDS)),
        activity=rng.lognormal(2, 2, (len(months), len(ACTIVITIES), N_STATES, N_CELLS)),
        months=months, regime_of_month=np.zeros(len(months), np.int64),
        scenario=types.SimpleNamespace(name="random", regimes=lambda: ([dict(data.params)], [0] * len(months))))
    expected, expected_transfers = _reference_budget(results, data)
    got = money.budget_table(results, data)
    assert got.equals(expected) and list(got.dtypes) == list(expected.dtypes)
    assert money.transfers(results, data).equals(expected_transfers)
    assert set(got["line"]) >= set(EFFORT_LINES)


@pytest.mark.parametrize("name", ["baseline", "expert_group", "kl_2030", "agreement_2025"])
def test_regimes_equal_parameters_month_by_month(data, name):
    """``Scenario.regimes`` looks parameters up only where a change starts; the regimes and their
    months must be those of looking every month up, including a change starting mid-horizon."""
    from sim.scenario import Change, load_scenario
    sc = load_scenario(name, data)
    if name == "baseline":      # a change starting in the 40th month, ending nothing
        extra = Change(sc.start + 40, "money.effective_tax_rate", 0.5, "test", "test")
        sc = dataclasses.replace(sc, changes=list(sc.changes) + [extra])
    sets, keys, of_month = [], [], []
    for m in range(sc.n_months):
        params = sc.params_at(m)
        key = tuple(sorted(params.items()))
        if key not in keys:
            keys.append(key)
            sets.append(params)
        of_month.append(keys.index(key))
    assert sc.regimes() == (sets, of_month)
    assert len(set(of_month)) == len(sets) and (name != "baseline" or of_month[40] != of_month[39])
