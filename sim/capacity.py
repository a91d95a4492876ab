"""Capacity: the budget-constrained mode, where a budget per effort line is fixed and the
activity it cannot pay for is rationed by a stated priority rule.

The budget of each line and month is the baseline's spending less the saving in force
(``[[saving]]`` in the scenario). Fixed costs (case administration, forms, certificates,
rehabilitation meetings, reviews) are paid first; the rest of the line pays for rationable
activity (jobcentre conversations; guidance, education and job-oriented education offers).
When demand exceeds what is left, due activity is delivered with a share per month, kind and
cell (``ration``), cut tier by tier in the order of the priority rule; the behaviour model turns
the lost activity into changed exits. The shares are found by iterating the simulation: each
round corrects the cut by the gap between spending and budget (common random numbers keep the
rounds comparable). Money left when demand is below budget is reported as redeployed: it stays
in the effort, on activity the model does not represent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import budget as money
from . import layout as L
from .scenario import SAVING_LINES, Scenario
from .states import ACTIVITIES, EFFORT_LINES, N_CELLS, cell_parts

#: rationable kinds: (kind, line, delivered activity, rationed activity)
KINDS = (
    (L.K_CONV, "jobcentre_operations", "conversation_jobcentre", "conversation_rationed"),
    (L.K_OFFER_GUIDANCE, "guidance_upskilling", "offer_guidance_month", "guidance_months_rationed"),
    (L.K_OFFER_EDUCATION, "other_effort", "offer_education_month", "education_months_rationed"),
    (L.K_JOBEDU, "other_effort", "job_education_month", "job_education_rationed"),
)
MAX_ROUNDS = 8
TOLERANCE = 0.002         # share of a line's yearly budget


def tiers(priority: str) -> np.ndarray:
    """Cut order of each (kind, cell): tier 0 is cut first. Shape (N_KINDS, N_CELLS)."""
    out = np.zeros((L.N_KINDS, N_CELLS), np.int64)
    for c in range(N_CELLS):
        youth, distance, _, _ = cell_parts(c)
        if priority == "protect_far":
            # today 80 % of caseworker time goes to those furthest away (VIVE, in 000): keep it
            out[:, c] = 1 if distance == 2 else 0
        elif priority == "youth_offers_first":
            out[:, c] = 1
            if youth:
                out[[L.K_OFFER_GUIDANCE, L.K_OFFER_EDUCATION, L.K_JOBEDU], c] = 0
    return out


@dataclass
class Budgeted:
    """The outcome of the budget-constrained mode."""

    results: object                # Results of the final round
    ration: np.ndarray             # (months, kinds, cells)
    budget: np.ndarray             # (months, lines) DKK
    spending: np.ndarray           # (months, lines) DKK of activity the model represents
    redeployed: np.ndarray         # (months, lines) DKK left over, kept in the effort
    rounds: int
    over_budget: np.ndarray | None = None   # (years, lines) DKK the fixed costs alone exceed the budget


def line_costs(results) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly fixed cost by line (M, L), rationable delivered cost (M, L, kinds, C) and the
    cost of the rationed demand (M, L, kinds, C), in DKK."""
    data = results.scenario.data
    cost, line, case_cost = money.unit_costs(data)
    n_m = results.activity.shape[0]
    fixed = np.zeros((n_m, len(EFFORT_LINES)))
    delivered = np.zeros((n_m, len(EFFORT_LINES), L.N_KINDS, N_CELLS))
    rationed = np.zeros_like(delivered)
    by_cell = results.activity.sum(axis=2)                     # (M, A, C)
    rationable = {d for _, _, d, _ in KINDS}
    for a, name in enumerate(ACTIVITIES):
        if line[a] >= 0 and name not in rationable:
            fixed[:, line[a]] += by_cell[:, a].sum(axis=1) * cost[a]
    case_line = EFFORT_LINES.index(data.unit_costs.set_index("activity").loc["case_month", "line"])
    fixed[:, case_line] += money.effort_volumes(results)["case_month"] * case_cost
    for kind, ln, d_name, r_name in KINDS:
        li, a_d, a_r = EFFORT_LINES.index(ln), ACTIVITIES.index(d_name), ACTIVITIES.index(r_name)
        delivered[:, li, kind] = by_cell[:, a_d] * cost[a_d]
        rationed[:, li, kind] = by_cell[:, a_r] * cost[a_d]
    return fixed, delivered, rationed


def shares_for_cut(demand: np.ndarray, cut: float, tier: np.ndarray) -> np.ndarray:
    """Delivery shares (kinds, C) that remove ``cut`` DKK from ``demand`` (kinds, C), tier by tier."""
    share = np.ones_like(demand)
    left = cut
    for t in np.unique(tier):
        sel = (tier == t) & (demand > 0)
        d = demand[sel].sum()
        if left <= 0 or d <= 0:
            continue
        take = min(left, d)
        share[sel] = 1.0 - take / d
        left -= take
    return np.clip(share, 0.0, 1.0)


def solve(scenario: Scenario, baseline_effort: np.ndarray, run, first=None) -> Budgeted:
    """Find the rationing that keeps each line within its budget, year by year.

    Shares are set per calendar year (offers last several months, so a month's spending follows
    earlier months' decisions; a yearly share lets the cut settle).

    Parameters
    ----------
    scenario : a budget-constrained scenario
    baseline_effort : (months, lines) the baseline's monthly spending on each effort line, DKK
    run : callable(ration) -> Results, simulating ``scenario`` with the given delivery shares
    first : the rule-driven run of ``scenario`` (saves one round), or None
    """
    lines = [EFFORT_LINES.index(ln) for ln in SAVING_LINES]
    budget = baseline_effort.copy()
    budget[:, lines] -= scenario.saving_levels() * money.DKK_PER_BN / 12.0
    tier = tiers(scenario.priority)
    n_m = budget.shape[0]
    ration = np.ones((n_m, L.N_KINDS, N_CELLS))
    res = first if first is not None else run(ration)
    years = res.year_of_month
    year_ids = np.unique(years)
    yearly = lambda x: np.stack([x[years == y].sum(axis=0) for y in year_ids])  # noqa: E731
    budget_y = yearly(budget)
    cut = None
    rounds = 1
    while True:
        fixed, delivered, rationed = line_costs(res)
        spent_y = yearly(fixed + delivered.sum(axis=(2, 3)))
        demand_y = yearly(delivered + rationed)                  # (Y, L, kinds, C) at full delivery
        over = spent_y - budget_y
        if cut is None:
            cut = np.maximum(yearly(fixed) + demand_y.sum(axis=(2, 3)) - budget_y, 0.0)
        else:
            cut = np.maximum(cut + over, 0.0)
        gap = np.where(cut > 0, over, 0.0)
        if rounds == 1 and not (cut > 0).any():
            break                                   # no line needs a cut: the rule-driven run stands
        if rounds > 1 and (np.abs(gap / np.maximum(np.abs(budget_y), 1.0)).max() < TOLERANCE
                           or rounds >= MAX_ROUNDS):
            break
        new = np.ones_like(ration)
        for yi, y in enumerate(year_ids):
            for li in range(len(EFFORT_LINES)):
                if cut[yi, li] <= 0:
                    continue
                kinds = [k for k, ln, _, _ in KINDS if EFFORT_LINES.index(ln) == li]
                share = shares_for_cut(demand_y[yi, li][kinds], cut[yi, li], tier[kinds])
                for k_i, k in enumerate(kinds):
                    new[years == y, k] = share[k_i]
        if rounds > 1 and np.array_equal(new, ration):
            break
        ration = new
        res = run(ration)
        rounds += 1
    fixed, delivered, _ = line_costs(res)
    spending = fixed + delivered.sum(axis=(2, 3))
    redeployed = np.maximum(budget - spending, 0.0)
    # redeployment is settled by year: money short in one month is made up by money left in another
    for y in year_ids:
        sel = years == y
        left = np.maximum(budget[sel].sum(axis=0) - spending[sel].sum(axis=0), 0.0)
        total = redeployed[sel].sum(axis=0)
        redeployed[sel] *= np.divide(left, total, out=np.zeros_like(left), where=total > 0)
    over_y = np.maximum(yearly(spending) - budget_y, 0.0)
    over_y[over_y < TOLERANCE * np.abs(budget_y)] = 0.0     # within the solver's tolerance
    return Budgeted(res, ration, budget, spending, redeployed, rounds, over_y)
