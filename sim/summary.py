"""The keys of ``summary.json``: the output contract's figures, computed in one place.

:func:`baseline_summary` gives the keys of one run (the base-year figures of the contract and
their companions by year); :func:`comparison_summary` adds those of a comparison of a baseline
and a reform (savings by line, bottom-up savings and their split by provision, employment, the
public finances, rationing and the result measures). Keys are flat dotted names; per-year values
are objects keyed by year; signs follow DESIGN.md: a saving is positive when the reform spends
less, a net effect is positive when the public finances improve, deltas are reform minus baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import budget as money
from . import capacity
from .budget import DKK_PER_BN
from .comparison import (DERIVED, Comparison, effort_by_line, effort_saving, one_offs_by_line, redeployed_by_line,
                         reform_effort, unrealised_by_line)
from .groups import GAP_GROUPS, group_of_cell
from .parameters import EARNINGS, EXPERT_DERIVED, FULLTIME, GOAL, JOB_RETENTION, TAX_MUNICIPAL, TAX_RATE
from .simulation import Results
from .states import ACTIVITIES, DEST, EFFORT_LINES, EXIT_JOB, STATE, STATES

#: the five result targets (FACTS.md §5) and what the model has for each
RESULT_TARGETS = {
    "exits to education and employment": "measured: results.exits_to_job_delta, results.exits_to_education_delta",
    "share in ordinary hours": "proxy: results.ordinary_job_share_of_job_exits (exits to ordinary jobs "
                               "against ordinary jobs plus flex jobs); hours are not modelled",
    "share on public support": "measured: results.persons_on_benefit_delta (persons in the modelled benefits)",
    "citizen satisfaction": "not measured: the model has no satisfaction",
    "company satisfaction": "not measured: the model has no companies",
}


def baseline_summary(results, budget: pd.DataFrame) -> dict:
    """The contract's baseline keys (base-year numbers) and per-year companions."""
    data = results.scenario.data
    y = results.base_year
    persons = results.sick_persons_per_year()
    reach = results.sick_reaching_week22_per_year()
    to_jc = results.sick_to_job_clarification_per_year()
    effort = {int(yr): money.effort_total_bn(budget, int(yr)) for yr in sorted(budget["year"].unique())}
    transfers = (budget[budget["line"].str.startswith("transfers:")].groupby("year")["dkk"].sum() / DKK_PER_BN)
    return {
        "sick.persons_per_year": persons[y],
        "sick.reaching_week22_per_year": reach[y],
        "sick.to_job_clarification_per_year": to_jc[y],
        "budget.effort_baseline_bn": effort[y],
        "sick.persons_by_year": {str(k): v for k, v in persons.items()},
        "sick.reaching_week22_by_year": {str(k): v for k, v in reach.items()},
        "sick.to_job_clarification_by_year": {str(k): v for k, v in to_jc.items()},
        "sick.stock_fulltime": money.fulltime_sick_stock(results, data),
        "budget.effort_bn": {str(k): v for k, v in effort.items()},
        "budget.transfers_bn": {str(int(k)): float(v) for k, v in transfers.items()},
        "base_year": y,
    }


def employment(results: Results) -> np.ndarray:
    """Persons in jobs after leaving benefits for a job, by month (a retention curve applied to
    the monthly exits to jobs; ``money.job_retention_per_month``)."""
    keep = results.scenario.params_at(0)[JOB_RETENTION]
    exits = results.flow[:, :len(STATES), EXIT_JOB].sum(axis=1)
    out = np.zeros_like(exits)
    level = 0.0
    for m, x in enumerate(exits):
        level = level * keep + x
        out[m] = level
    return out


def comparison_summary(comp: Comparison) -> dict:
    """The contract's comparison keys (per-year objects keyed by year) and companions."""
    data = comp.baseline.scenario.data
    b_budget = comp.budget[comp.budget["scenario"] == comp.baseline.scenario.name]
    out = baseline_summary(comp.baseline, b_budget[b_budget["line"] != DERIVED])
    years = comp.years
    yr = lambda series: {str(y): float(series.get(y, 0.0)) for y in years}  # noqa: E731

    eb, er = effort_by_line(comp.baseline), reform_effort(comp)
    by_line = {ln: yr((eb[ln] - er[ln]) / DKK_PER_BN) for ln in EFFORT_LINES}
    b = comp.budget
    derived = b[(b["line"] == DERIVED) & (b["scenario"] == comp.reform.scenario.name)].groupby("year")["dkk"].sum()
    by_line[DERIVED] = yr((0.0 - derived) / DKK_PER_BN)        # a fall in public transfers is a saving
    savings = {y: sum(by_line[ln][y] for ln in by_line) for y in by_line[DERIVED]}

    # bottom-up: what the rule changes free in the rule-driven runs, and its split by provision
    bottom_up = yr(effort_saving(comp.baseline, comp.rule_driven, comp.sheddable))
    out.update(effort_cut_by_group_and_kind(comp))
    parts, errors = {}, {}
    if comp.breakdown is not None:
        for prov in comp.breakdown.provisions:
            parts[prov] = yr(comp.breakdown.part(prov))
            errors[prov] = yr(comp.breakdown.standard_error(prov))

    params = comp.reform.scenario.params_at(comp.reform.scenario.n_months - 1)
    fulltime = params[FULLTIME]
    emp_b, emp_r = employment(comp.baseline), employment(comp.reform)
    years_of_month = comp.baseline.year_of_month
    emp_delta = {str(y): float((emp_r - emp_b)[years_of_month == y].mean() * fulltime) for y in years}
    earnings, tax_rate = params[EARNINGS], params[TAX_RATE]
    tax = {y: emp_delta[y] * earnings * tax_rate / DKK_PER_BN for y in emp_delta}
    if comp.budgeted is not None:
        red = redeployed_by_line(comp)
        bought = pd.DataFrame(comp.budgeted.spent_as_activity, columns=list(EFFORT_LINES))
        bought = bought.groupby(comp.baseline.year_of_month).sum()
        out["budget.redeployed_bn"] = {ln: yr((red[ln] + bought[ln]) / DKK_PER_BN) for ln in EFFORT_LINES}
        out["budget.redeployed_as_activity_bn"] = {ln: yr(bought[ln] / DKK_PER_BN) for ln in EFFORT_LINES}
        out["budget.rationing_rounds"] = comp.budgeted.rounds
        over = comp.budgeted.over_budget
        years_ = [str(y) for y in np.unique(comp.baseline.year_of_month)]
        out["budget.over_budget_bn"] = {ln: {y: float(over[i, li] / DKK_PER_BN) for i, y in enumerate(years_)}
                                        for li, ln in enumerate(EFFORT_LINES)}
        top_down = {y: sum(by_line[ln][y] for ln in EFFORT_LINES) for y in savings}
        out["budget.gap_bn"] = {y: top_down[y] - bottom_up[y] for y in savings}
        out.update(rationed_by_group(comp))
    by_payer = {"state": {}, "municipality": {}}
    b = comp.budget
    for payer in by_payer:
        d = b[(b["line"] == DERIVED) & (b["scenario"] == comp.reform.scenario.name) & (b["payer"] == payer)]
        d = d.groupby("year")["dkk"].sum()
        share = params[TAX_MUNICIPAL] if payer == "municipality" else 1 - params[TAX_MUNICIPAL]
        for y in savings:
            effort = sum(by_line[ln][y] for ln in EFFORT_LINES) if payer == "municipality" else 0.0
            by_payer[payer][y] = effort - float(d.get(int(y), 0.0)) / DKK_PER_BN + tax[y] * share
    out.update(result_measures(comp))
    out.update({
        "budget.derived_effects_expert_group_bn": params[EXPERT_DERIVED],
        "employment.labour_supply_goal_persons": params[GOAL],
        "public_finances.net_effect_by_payer_bn": by_payer,
        "public_finances.net_effect_by_budget_bn": {
            "service_ceiling": {y: sum(by_line[ln][y] for ln in EFFORT_LINES) for y in savings},
            "transfers": {y: by_line[DERIVED][y] for y in savings},
            "tax": tax},
        "budget.savings_bn": savings,
        "budget.savings_by_line_bn": by_line,
        "budget.bottom_up_process_savings_bn": bottom_up,
        "budget.bottom_up_by_provision_bn": parts,
        "budget.bottom_up_by_provision_se_bn": errors,
        "budget.bottom_up_breakdown": ("" if comp.breakdown is None else
                                       f"{'exact' if comp.breakdown.exact else 'sampled'} Shapley values over "
                                       f"{len(comp.breakdown.orders)} orders of the provisions"),
        "employment.fulltime_persons_delta": emp_delta,
        "public_finances.tax_revenue_delta_bn": tax,
        "public_finances.net_effect_bn": {y: savings[y] + tax[y] for y in savings},
        "reform.scenario": comp.reform.scenario.name,
        "reform.scheme": comp.reform.scenario.scheme,
        "reform.provisions": [] if comp.breakdown is None else list(comp.breakdown.provisions),
    })
    return out


#: kinds of effort for the breakdowns by kind: kind -> cost items (sim.budget.effort_by_item)
EFFORT_KINDS = {
    "conversations": ("conversation_jobcentre",),
    "offers": ("offer_guidance_month", "offer_company_month"),
    "education": ("offer_education_month", "job_education_month"),
    "administration": ("information_form", "medical_certificate", "rehabilitation_meeting", "reassessment",
                       "review", money.CASE_MONTH),
}
#: the kind of each rationable activity (sim.capacity.KINDS: delivered activity name -> kind)
RATIONED_KIND = {"conversation_jobcentre": "conversations", "offer_guidance_month": "offers",
                 "offer_company_month": "offers",
                 "offer_education_month": "education", "job_education_month": "education"}


def _line_of_item(data) -> dict[str, int]:
    """The effort line (index into EFFORT_LINES) of each cost item."""
    _, line, _ = money.unit_costs(data)
    out = {name: int(line[a]) for a, name in enumerate(ACTIVITIES) if line[a] >= 0}
    out[money.CASE_MONTH] = EFFORT_LINES.index(money.case_month_line(data))
    return out


def effort_by_group_and_kind(results, data, share_by_line: np.ndarray | None = None) -> np.ndarray:
    """Variable effort cost (DKK: the part that moves with activity) by month, group
    (GAP_GROUPS) and kind (EFFORT_KINDS): (M, G, K); each item times ``share_by_line`` (M, L) of
    its line where given."""
    items = money.effort_by_item(results, data, variable=True)
    if share_by_line is not None:
        line_of = _line_of_item(data)
        items = {k: v * share_by_line[:, line_of[k]][:, None, None] for k, v in items.items()}
    kind_of = {item: k for k, kind in enumerate(EFFORT_KINDS) for item in EFFORT_KINDS[kind]}
    unknown = sorted(set(items) - set(kind_of))
    if unknown:
        raise KeyError(f"cost items without a kind in EFFORT_KINDS: {unknown}")
    groups = group_of_cell()
    out = np.zeros((results.occupancy.shape[0], len(GAP_GROUPS), len(EFFORT_KINDS)))
    for item, cost in items.items():                                  # (M, S, C)
        for g in range(len(GAP_GROUPS)):
            out[:, g, kind_of[item]] += cost[:, groups == g].sum(axis=1)
    return out


def rationed_by_group_and_kind(comp: Comparison) -> np.ndarray:
    """Cost (DKK, the variable part of the delivered unit costs, the share of it realised as money
    by then) of the activity rationed away, by month, group and kind: (M, G, K); zeros for a
    rule-driven reform."""
    res = comp.reform
    out = np.zeros((res.activity.shape[0], len(GAP_GROUPS), len(EFFORT_KINDS)))
    if comp.budgeted is None:
        return out
    _, _, rationed = capacity.line_costs(res)                           # (M, L, kinds, S, C), variable part
    groups = group_of_cell()
    kinds = list(EFFORT_KINDS)
    realised = money.realised_share(effort_by_line(comp.baseline, monthly=True).to_numpy(),
                                    effort_by_line(res, monthly=True).to_numpy(), comp.sheddable)
    for kind, line, d_name, _ in capacity.KINDS:
        li, k = EFFORT_LINES.index(line), kinds.index(RATIONED_KIND[d_name])
        for g in range(len(GAP_GROUPS)):
            out[:, g, k] += rationed[:, li, kind][:, groups == g].sum(axis=1) * realised[:, li]
    return out


def effort_cut_by_group_and_kind(comp: Comparison) -> dict:
    """The effort cut split by group and kind, bn DKK by year: what the rule changes free
    (bottom-up: baseline against the rule-driven reform) and what rationing cuts, and their sum
    by group (``budget.effort_cut_by_group_bn``)."""
    data = comp.baseline.scenario.data
    years = comp.baseline.year_of_month
    # the realised share of each line's fall, as in the bottom-up total (sim.comparison.effort_saving)
    share = money.realised_share(effort_by_line(comp.baseline, monthly=True).to_numpy(),
                                 effort_by_line(comp.rule_driven, monthly=True).to_numpy(), comp.sheddable)
    freed = (effort_by_group_and_kind(comp.baseline, data, share)
             - effort_by_group_and_kind(comp.rule_driven, data, share))     # (M, G, K)
    rationed = rationed_by_group_and_kind(comp)

    def by_year(monthly: np.ndarray) -> dict:
        return {str(y): float(monthly[years == y].sum() / DKK_PER_BN) for y in np.unique(years)}

    unrealised = unrealised_by_line(comp)
    one_off = one_offs_by_line(comp).sum(axis=1)
    return {
        "budget.one_off_costs_bn": {str(y): float(one_off.loc[y] / DKK_PER_BN) for y in one_off.index},
        "budget.unrealised_bn": {ln: {str(y): float(unrealised.loc[y, ln] / DKK_PER_BN) for y in unrealised.index}
                                 for ln in EFFORT_LINES},
        "budget.bottom_up_by_group_bn": {g: by_year(freed[:, i].sum(axis=1)) for i, g in enumerate(GAP_GROUPS)},
        "budget.bottom_up_by_kind_bn": {k: by_year(freed[:, :, i].sum(axis=1)) for i, k in enumerate(EFFORT_KINDS)},
        "budget.rationed_bn": by_year(rationed.sum(axis=(1, 2))),
        "budget.rationed_by_kind_bn": {k: by_year(rationed[:, :, i].sum(axis=1))
                                       for i, k in enumerate(EFFORT_KINDS)},
        "budget.effort_cut_by_group_bn": {g: by_year((freed + rationed)[:, i].sum(axis=1))
                                          for i, g in enumerate(GAP_GROUPS)},
    }


def rationed_by_group(comp: Comparison) -> dict:
    """Cost of the activity rationed away, by year and group (bn DKK): where the gap between the
    top-down saving and the rule changes is found."""
    rationed = rationed_by_group_and_kind(comp).sum(axis=2)                 # (M, G)
    years = comp.reform.year_of_month
    return {"budget.rationed_by_group_bn": {g: {str(y): float(rationed[years == y, i].sum() / DKK_PER_BN)
                                                for y in np.unique(years)} for i, g in enumerate(GAP_GROUPS)}}


def result_measures(comp: Comparison) -> dict:
    """Result measures by year (reform minus baseline), and which result targets are not measured."""
    years = comp.baseline.year_of_month
    n = len(STATES)

    def per_year(series, how="sum"):
        return {str(y): float(getattr(series[years == y], how)()) for y in np.unique(years)}

    def moves(res, dest):
        return res.flow[:, :n, dest].sum(axis=1)

    def ordinary_share(res):
        job = moves(res, DEST["exit_job"])
        flex = moves(res, STATE["flex_job"])
        return job, job + flex
    jb, tb = ordinary_share(comp.baseline)
    jr, tr = ordinary_share(comp.reform)
    share = {str(y): float(jr[years == y].sum() / max(tr[years == y].sum(), 1e-9)
                           - jb[years == y].sum() / max(tb[years == y].sum(), 1e-9)) for y in np.unique(years)}
    on_benefit = lambda r: r.occupancy.sum(axis=(1, 2, 3))   # noqa: E731
    return {
        "results.exits_to_job_delta": per_year(moves(comp.reform, DEST["exit_job"])
                                               - moves(comp.baseline, DEST["exit_job"])),
        "results.exits_to_education_delta": per_year(moves(comp.reform, DEST["exit_education"])
                                                     - moves(comp.baseline, DEST["exit_education"])),
        "results.persons_on_benefit_delta": per_year(on_benefit(comp.reform) - on_benefit(comp.baseline), "mean"),
        "results.ordinary_job_share_of_job_exits_delta": share,
        "results.targets": RESULT_TARGETS,
    }
