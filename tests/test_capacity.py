"""The budget-constrained mode: savings by line and year, phase-in, rationing and its effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import layout as K
from sim import layout as L
from sim.capacity import shares_for_cut, tiers
from sim.comparison import compare
from sim.summary import comparison_summary as summary
from sim.scenario import load_scenario
from sim.states import N_STATES, EFFORT_LINES, N_CELLS, SICK_STATES

SCALE = 0.01


@pytest.fixture(scope="module")
def expert(data):
    comp = compare("baseline", "expert_group", seed=2, scale=SCALE, data=data, breakdown=False)
    return comp, summary(comp)


def budget_reform(path, description: str, saving: str, change: str = ""):
    """Write a budget-constrained reform of the baseline with one saving step from 2026-01."""
    path.write_text(f'description = "{description}"\nbaseline = "baseline"\n'
                    '[effort]\nmode = "budget_constrained"\n'
                    f'[[saving]]\nstart = "2026-01"\n{saving}\nsource = "test"\n{change}')
    return path


@pytest.fixture(scope="module")
def tight(tmp_path_factory, data):
    """A saving with no rule change: the budget binds and activity is rationed."""
    path = budget_reform(tmp_path_factory.mktemp("cap") / "cut.toml", "a cut with no rule change",
                         "jobcentre_operations = 1.0\nguidance_upskilling = 1.0")
    comp = compare("baseline", path, seed=3, scale=SCALE, data=data, breakdown=False)
    return comp, summary(comp)


def test_expert_group_savings_by_line(expert):
    _, s = expert
    lines = s["budget.savings_by_line_bn"]
    for line, target in (("jobcentre_operations", 1.2), ("guidance_upskilling", 1.0), ("other_effort", 0.6)):
        assert lines[line]["2030"] == pytest.approx(target, abs=0.05)
    # 2026: the 1 bn budget cut, less the year's half of the 100 m upskilling pool, less what the
    # budget could not find (reported as over budget)
    effort_2026 = sum(lines[ln]["2026"] for ln in EFFORT_LINES)
    over = sum(s["budget.over_budget_bn"][ln]["2026"] for ln in EFFORT_LINES)
    assert s["budget.one_off_costs_bn"]["2026"] == pytest.approx(0.05)
    assert effort_2026 + 0.05 + over == pytest.approx(1.0, abs=0.01)
    # jobcentre operations cannot shed its 0.43 bn in the first year at a fifth of its variable
    # cost a year; the purchased lines can, and from 2027 every line meets its budget
    assert over == pytest.approx(s["budget.over_budget_bn"]["jobcentre_operations"]["2026"]) and over > 0.05
    assert all(s["budget.over_budget_bn"][ln][y] == 0.0 for ln in EFFORT_LINES for y in ("2027", "2030"))
    assert all(lines[ln]["2025"] == 0.0 for ln in lines)
    # derived effects are the model's own figure (changed public transfers), not the assumed 0.2
    assert lines["derived_effects"]["2030"] != pytest.approx(0.2, abs=1e-6)


def test_kl_2030_nothing_before_2030(data):
    comp = compare("baseline", "kl_2030", seed=2, scale=SCALE, data=data, breakdown=False)
    s = summary(comp)
    lines = s["budget.savings_by_line_bn"]
    for year in ("2026", "2027", "2028", "2029"):
        assert sum(lines[ln][year] for ln in EFFORT_LINES) == 0.0
    # the whole cut at once: the freed staff are not yet shed (a fifth of the jobcentre's variable
    # cost a year, A-33), so what the budget cannot find is reported as over budget, less each
    # year; the purchased lines meet theirs from the second year, every line from the fourth
    over = s["budget.over_budget_bn"]
    for line, target in (("jobcentre_operations", 1.2), ("guidance_upskilling", 1.0), ("other_effort", 0.6)):
        assert lines[line]["2030"] + over[line]["2030"] == pytest.approx(target, abs=0.02)
        # (a hundredth of the population: the solver meets the budgets to within the Monte Carlo noise)
        assert lines[line]["2033"] == pytest.approx(target, abs=0.05) and over[line]["2033"] < 0.05
    jc = [over["jobcentre_operations"][y] for y in ("2030", "2031", "2032")]
    assert jc[0] > jc[1] > 0 and jc[1] >= jc[2] >= 0 and jc[0] > 0.5
    assert over["guidance_upskilling"]["2031"] < 0.05 and over["other_effort"]["2031"] < 0.05
    assert s["budget.unrealised_bn"]["jobcentre_operations"]["2030"] > 0.1


def test_every_year_reported(expert):
    comp, s = expert
    years = [str(y) for y in comp.years]
    for key in ("employment.fulltime_persons_delta", "public_finances.net_effect_bn", "budget.gap_bn"):
        assert sorted(s[key]) == years
    # the gap is the top-down effort saving less what the rule changes free
    for y in years:
        top = sum(s["budget.savings_by_line_bn"][ln][y] for ln in EFFORT_LINES)
        assert s["budget.gap_bn"][y] == pytest.approx(top - s["budget.bottom_up_process_savings_bn"][y])


def test_binding_budget_rations_and_meets_it(tight):
    comp, s = tight
    lines = s["budget.savings_by_line_bn"]
    assert lines["jobcentre_operations"]["2028"] == pytest.approx(1.0, abs=0.05)
    assert lines["guidance_upskilling"]["2028"] == pytest.approx(1.0, abs=0.05)
    assert lines["other_effort"]["2028"] == pytest.approx(0.0, abs=0.05)
    assert comp.budgeted.ration[comp.baseline.year_of_month >= 2026].min() < 1.0
    assert (comp.budgeted.ration[comp.baseline.year_of_month < 2026] == 1.0).all()
    assert sum(s["budget.rationed_by_group_bn"][g]["2028"] for g in s["budget.rationed_by_group_bn"]) > 0.5


def test_cutting_activity_raises_durations_and_transfers(tight):
    """Fewer conversations and offers (which raise exits in the behaviour model) mean longer spells,
    more persons on benefit and higher transfers: the sign is right."""
    comp, s = tight
    later = comp.baseline.year_of_month >= 2027
    persons = lambda r: r.occupancy[later].sum()   # noqa: E731
    assert persons(comp.reform) > persons(comp.baseline)
    assert s["budget.savings_by_line_bn"]["derived_effects"]["2028"] < 0      # transfers rise
    assert s["employment.fulltime_persons_delta"]["2028"] < 0


def test_lines_add_up(expert, tmp_path):
    from sim.report import write_compare
    comp, _ = expert
    write_compare(comp, tmp_path, 0.0)
    b = pd.read_csv(tmp_path / "budget.csv")
    for (year, scen), g in b.groupby(["year", "scenario"]):
        effort = g[g["line"].isin(EFFORT_LINES)]["dkk"].sum()
        transfers = g[g["line"].str.startswith("transfers:")]["dkk"].sum()
        other = g[~g["line"].isin(EFFORT_LINES) & ~g["line"].str.startswith("transfers:")]
        assert set(other["line"]) <= {"derived_effects"}
        assert effort + transfers == pytest.approx(g[g["line"] != "derived_effects"]["dkk"].sum())
        by_payer = g[g["line"].str.startswith("transfers:")].groupby("payer")["dkk"].sum()
        assert by_payer.sum() == pytest.approx(transfers)


def test_priority_rules_cut_in_order():
    demand = np.ones((K.N_KINDS, N_STATES, N_CELLS))
    far = np.array([(c // 4) % 3 == 2 for c in range(N_CELLS)])
    share = shares_for_cut(demand, cut=demand[:, :, ~far].sum() / 2, tier=tiers("protect_far"))
    assert np.all(share[:, :, far] == 1.0) and np.allclose(share[:, :, ~far], 0.5)
    share = shares_for_cut(demand, cut=demand.sum() / 4, tier=tiers("proportional"))
    assert np.allclose(share, 0.75)
    youth = np.array([c >= 12 for c in range(N_CELLS)])
    share = shares_for_cut(demand, cut=1.0, tier=tiers("youth_offers_first"))
    assert (share[K.K_CONV] == 1.0).all() and (share[:, :, ~youth] == 1.0).all()


def test_documented_priority_cuts_youth_vulnerable_and_insured_first():
    """youth_vulnerable_insured: the sick and the others keep their activity while the three
    groups the documents name (001) can carry the cut."""
    from sim.groups import GAP_GROUPS, group_of_cell
    group = np.broadcast_to(group_of_cell()[None], (K.N_KINDS, N_STATES, N_CELLS))
    named = np.isin(group, [GAP_GROUPS.index(g) for g in ("youth", "vulnerable_adults", "insured_unemployed")])
    demand = np.ones((K.N_KINDS, N_STATES, N_CELLS))
    share = shares_for_cut(demand, cut=demand[named].sum() / 2, tier=tiers("youth_vulnerable_insured"))
    assert np.allclose(share[named], 0.5) and (share[~named] == 1.0).all()
    # more than they have: the rest falls on everyone else
    share = shares_for_cut(demand, cut=demand[named].sum() + demand[~named].sum() / 4,
                           tier=tiers("youth_vulnerable_insured"))
    assert np.allclose(share[named], 0.0) and np.allclose(share[~named], 0.75)


def test_an_allotted_cut_is_taken_from_its_group_and_no_more():
    demand = np.ones((K.N_KINDS, N_STATES, N_CELLS))
    youth = np.broadcast_to(np.array([c >= 12 for c in range(N_CELLS)])[None, None, :], demand.shape)
    tier = tiers("proportional")
    share = shares_for_cut(demand, cut=100.0, tier=tier, allotted=youth, allotted_cut=30.0)
    assert ((1 - share) * demand)[youth].sum() == pytest.approx(30.0)
    assert ((1 - share) * demand)[~youth].sum() == pytest.approx(70.0)
    # the others cannot carry the rest: the allotted group gives more
    share = shares_for_cut(demand, cut=demand[~youth].sum() + 50.0, tier=tier, allotted=youth, allotted_cut=30.0)
    assert np.allclose(share[~youth], 0.0)
    assert ((1 - share) * demand)[youth].sum() == pytest.approx(50.0)


def test_saving_needs_budget_mode(tmp_path, data):
    from sim.errors import InputError
    path = tmp_path / "x.toml"
    path.write_text('description = "x"\nbaseline = "baseline"\n[[saving]]\nstart = "2026-01"\n'
                    'jobcentre_operations = 1.0\nsource = "s"\n')
    with pytest.raises(InputError, match="budget_constrained"):
        load_scenario(path, data)
    path.write_text('description = "x"\nbaseline = "baseline"\n[effort]\nmode = "budget"\n')
    with pytest.raises(InputError, match="budget_constrained"):
        load_scenario(path, data)


def test_public_finances_split_adds_up(expert):
    _, s = expert
    for y, net in s["public_finances.net_effect_bn"].items():
        payers = s["public_finances.net_effect_by_payer_bn"]
        assert payers["state"][y] + payers["municipality"][y] == pytest.approx(net, abs=1e-9)
        parts = s["public_finances.net_effect_by_budget_bn"]
        assert sum(parts[k][y] for k in ("service_ceiling", "transfers", "tax")) == pytest.approx(net, abs=1e-9)
    assert s["employment.labour_supply_goal_persons"] == 45000
    assert s["budget.derived_effects_expert_group_bn"] == 0.2


def test_result_measures(expert):
    comp, s = expert
    assert set(s["results.targets"]) == {"exits to education and employment", "share in ordinary hours",
                                         "share on public support", "citizen satisfaction", "company satisfaction"}
    assert sum(1 for v in s["results.targets"].values() if v.startswith("not measured")) == 2
    assert s["results.exits_to_job_delta"]["2025"] == 0.0
    occ_delta = (comp.reform.occupancy - comp.baseline.occupancy).sum(axis=(1, 2, 3))
    years = comp.baseline.year_of_month
    assert s["results.persons_on_benefit_delta"]["2030"] == pytest.approx(occ_delta[years == 2030].mean())


@pytest.mark.parametrize("which", ["expert", "tight"])
def test_effort_cut_by_group_and_kind_adds_up(which, request):
    """The splits by group and by kind add up to the bottom-up total and the rationed total, and
    the cut by group is their sum; a cut with no rule change frees nothing bottom-up."""
    comp, s = request.getfixturevalue(which)
    for y in ("2026", "2028", "2030"):
        bottom_up = s["budget.bottom_up_process_savings_bn"][y]
        for key in ("budget.bottom_up_by_group_bn", "budget.bottom_up_by_kind_bn"):
            assert sum(v[y] for v in s[key].values()) == pytest.approx(bottom_up, rel=1e-9, abs=1e-9)
        rationed = s["budget.rationed_bn"][y]
        assert sum(v[y] for v in s["budget.rationed_by_kind_bn"].values()) == pytest.approx(rationed, abs=1e-9)
        assert sum(v[y] for v in s["budget.rationed_by_group_bn"].values()) == pytest.approx(rationed, abs=1e-9)
        cut = s["budget.effort_cut_by_group_bn"]
        for g in cut:
            assert cut[g][y] == pytest.approx(s["budget.bottom_up_by_group_bn"][g][y]
                                              + s["budget.rationed_by_group_bn"][g][y], abs=1e-9)
    assert s["budget.rationed_bn"]["2025"] == 0.0
    if which == "tight":
        assert all(abs(v["2028"]) < 1e-9 for v in s["budget.bottom_up_by_group_bn"].values())
        assert s["budget.rationed_bn"]["2028"] > 0.5
    else:
        assert set(s["budget.effort_cut_by_group_bn"]) == {"youth", "vulnerable_adults", "insured_unemployed",
                                                          "sick", "other"}


def test_rule_driven_reform_rations_nothing(data):
    comp = compare("baseline", "six_cities", seed=2, scale=SCALE, data=data, breakdown=False)
    s = summary(comp)
    assert all(v == 0.0 for v in s["budget.rationed_bn"].values())
    assert s["budget.effort_cut_by_group_bn"] == s["budget.bottom_up_by_group_bn"]


@pytest.fixture(scope="module")
def slack(tmp_path_factory, data):
    """Rule changes that free more than the cut: money is left on jobcentre operations."""
    return budget_reform(tmp_path_factory.mktemp("slack") / "slack.toml", "frees more than it cuts",
                         "jobcentre_operations = 0.03",
                         '[[change]]\nprovision = "less_followup"\nparameter = "rules.general.followup_delivery_share"\n'
                         'value = 0.5\nstart = "2026-01"\nsource = "test"\n')


def test_money_left_is_spent_on_those_furthest_away(data, slack):
    """A-8: the money a line has left buys more conversations for those furthest from the labour
    market, with their effects, so the line spends its budget; the others' activity is the rule
    changes' own."""
    from sim import budget as money
    comp = compare("baseline", slack, seed=3, scale=0.02, data=data, breakdown=False)
    s = summary(comp)
    y, years = "2030", comp.baseline.year_of_month == 2030
    assert s["budget.bottom_up_process_savings_bn"][y] > 0.06              # frees twice the 0.03 cut
    bought = s["budget.redeployed_as_activity_bn"]["jobcentre_operations"][y]
    assert bought > 0.03 and s["budget.redeployed_bn"]["jobcentre_operations"][y] >= bought
    assert s["budget.savings_by_line_bn"]["jobcentre_operations"][y] == pytest.approx(0.03, abs=0.012)
    far = money.furthest_mask()
    conv = lambda r: r.activity[years][:, L.A_CONV_JOBCENTRE].sum(axis=0)  # noqa: E731
    assert conv(comp.reform)[far].sum() > 1.3 * conv(comp.rule_driven)[far].sum()
    assert conv(comp.reform)[~far].sum() == pytest.approx(conv(comp.rule_driven)[~far].sum(), rel=0.02)
    assert comp.budgeted.ration.max() > 1.0 and (comp.budgeted.ration[:, :, ~far] <= 1.0).all()


def test_money_left_is_returned_with_a_redeploy_share_of_zero(data, slack):
    base = load_scenario("baseline", data)
    returned = load_scenario(slack, data).with_changes({"money.redeploy_share": 0.0}, start="2026-01",
                                                         provision="return", name="slack")
    comp = compare(base, returned, seed=3, scale=0.02, data=data, breakdown=False)
    s = summary(comp)
    y = "2030"
    assert s["budget.redeployed_bn"]["jobcentre_operations"][y] == 0.0
    assert s["budget.redeployed_as_activity_bn"]["jobcentre_operations"][y] == 0.0
    assert (comp.budgeted.ration <= 1.0).all()
    # what the rules free beyond the cut is a saving
    assert s["budget.savings_by_line_bn"]["jobcentre_operations"][y] > 0.06
