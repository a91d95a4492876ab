"""Capacity: the budget-constrained mode, where a budget per effort line is fixed and the
activity it cannot pay for is rationed by a stated priority rule.

The budget of each line and month is the baseline's spending less the saving in force
(``[[saving]]`` in the scenario). Fixed costs (the part of each line that does not move with
activity, ``money.effort_fixed_share``, and the variable cost of case administration, forms,
certificates, rehabilitation meetings, reviews) are paid first; the rest of the line pays for rationable
activity (jobcentre conversations; guidance, education and job-oriented education offers).
When demand exceeds what is left, due activity is delivered with a share per month, kind, state
and cell (``ration``), cut tier by tier in the order of the priority rule (a group with a cut of
its own, ``[effort.youth_cut]``, gives that part first); the behaviour model turns
the lost activity into changed exits. A line's cost falls no faster than it can shed staff and
contracts (``sheddable``, from ``sim.comparison.shedding_path``): beyond that it still pays for
what was freed, which no rationing can cut, so a line-year that can shed no more is left alone
and reported over budget. The shares are found by iterating the simulation: each round corrects
the cut by the gap between spending and budget (common random numbers keep the rounds
comparable). Money left when demand is below budget is reported as redeployed: it stays in the
effort, on activity the model does not represent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import budget as money
from . import layout as L
from .parameters import REDEPLOY
from .scenario import SAVING_LINES, Scenario
from .groups import GAP_GROUPS, group_of_cell
from .states import ACTIVITIES, EFFORT_LINES, N_CELLS, N_STATES, STATES, cell_parts

#: rationable kinds: (kind, line, delivered activity, rationed activity)
KINDS = (
    (L.K_CONV, "jobcentre_operations", "conversation_jobcentre", "conversation_rationed"),
    (L.K_OFFER_GUIDANCE, "guidance_upskilling", "offer_guidance_month", "guidance_months_rationed"),
    (L.K_OFFER_EDUCATION, "other_effort", "offer_education_month", "education_months_rationed"),
    (L.K_JOBEDU, "other_effort", "job_education_month", "job_education_rationed"),
    (L.K_OFFER_COMPANY, "other_effort", "offer_company_month", "company_months_rationed"),
)
#: the rationable kinds on each effort line (index into EFFORT_LINES)
KINDS_OF_LINE = [[k for k, ln, _, _ in KINDS if ln == line] for line in EFFORT_LINES]
MAX_ROUNDS = 12
RELAX_AFTER = 4           # rounds after which every line's new delivery shares are half steps
REDEPLOY_ROUNDS = 3       # simulations that size the activity bought with money left
TOLERANCE = 0.002         # share of a line's yearly budget
ROUNDING = 1e-9           # share of a budget below which spending and budget are equal (float sums)


def tiers(priority: str) -> np.ndarray:
    """Cut order of each (kind, state, cell): tier 0 is cut first. Shape (N_KINDS, S, C)."""
    out = np.zeros((L.N_KINDS, N_STATES, N_CELLS), np.int64)
    group = group_of_cell()
    cut_first = [GAP_GROUPS.index(g) for g in ("youth", "vulnerable_adults", "insured_unemployed")]
    for c in range(N_CELLS):
        youth, distance, _, _ = cell_parts(c)
        if priority == "protect_far":
            # today 80 % of caseworker time goes to those furthest away (VIVE, in 000): keep it
            out[:, :, c] = 1 if distance == 2 else 0
        elif priority == "youth_offers_first":
            out[:, :, c] = 1
            if youth:
                out[[L.K_OFFER_GUIDANCE, L.K_OFFER_EDUCATION, L.K_JOBEDU, L.K_OFFER_COMPANY], :, c] = 0
        elif priority == "youth_vulnerable_insured":
            # KL's reading of the expert group's model (001): the cut beyond the rule changes is
            # less effort for the young, vulnerable adults and dagpenge recipients
            out[:, :, c] = np.where(np.isin(group[:, c], cut_first), 0, 1)
    return out


@dataclass
class Budgeted:
    """The outcome of the budget-constrained mode."""

    results: object                # Results of the final round
    ration: np.ndarray             # (months, kinds, states, cells)
    budget: np.ndarray             # (months, lines) DKK
    spending: np.ndarray           # (months, lines) DKK: activity, and freed staff and contracts not yet shed
    redeployed: np.ndarray         # (months, lines) DKK left over, kept in the effort unspent
    rounds: int
    over_budget: np.ndarray | None = None   # (years, lines) DKK spent above the budget after rationing
    spent_as_activity: np.ndarray | None = None   # (months, lines) DKK of money left spent on more activity


def redeploy_targets(results) -> np.ndarray:
    """Where money left buys more activity (A-8): (kinds, S, C) True for those furthest from the
    labour market (``sim.budget.furthest_mask``), conversations in every jobcentre case, offers
    of each kind in the states whose rules give that kind of offer (in the last regime)."""
    far = money.furthest_mask()
    rules = results.tables.rules[-1]                             # (S, C, N_RULES)
    has_offer = rules[:, :, L.R_OFFER_FIRST] >= 0
    edu = rules[:, :, L.R_OFFER_IS_EDU] == 1
    case = np.array([name in money.CASE_STATES for name in STATES])[:, None]
    out = np.zeros((L.N_KINDS, N_STATES, N_CELLS), bool)
    out[L.K_CONV] = far & case
    out[L.K_OFFER_GUIDANCE] = far & has_offer & ~edu
    out[L.K_OFFER_EDUCATION] = far & has_offer & edu
    out[L.K_OFFER_COMPANY] = far & has_offer & (results.tables.probs[-1][:, :, L.Q_COMPANY_SHARE] > 0)
    return out


def line_costs(results) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly fixed cost by line (M, L), rationable delivered cost (M, L, kinds, S, C) and the
    cost of the rationed demand (M, L, kinds, S, C), in DKK. Fixed is what rationing cannot cut:
    the line's part that does not move with activity (``money.effort_fixed_share``) and the
    variable cost of activity that is not rationable; the rationable costs are variable costs."""
    data = results.scenario.data
    cost, line, case_cost = money.cost_by_cell(data)                 # (A, S, C), (A,), (S, C)
    n_m = results.activity.shape[0]
    fixed = np.zeros((n_m, len(EFFORT_LINES)))
    delivered = np.zeros((n_m, len(EFFORT_LINES), L.N_KINDS, N_STATES, N_CELLS))
    rationed = np.zeros_like(delivered)
    act = results.activity                                       # (M, A, S, C)
    rationable = {d for _, _, d, _ in KINDS}
    for a, name in enumerate(ACTIVITIES):
        if line[a] >= 0 and name not in rationable:
            fixed[:, line[a]] += (act[:, a] * cost[a]).sum(axis=(1, 2))
    case_line = EFFORT_LINES.index(money.case_month_line(data))
    fixed[:, case_line] += (money.case_months(results) * case_cost).sum(axis=(1, 2))
    for kind, ln, d_name, r_name in KINDS:
        li, a_d, a_r = EFFORT_LINES.index(ln), ACTIVITIES.index(d_name), ACTIVITIES.index(r_name)
        delivered[:, li, kind] = act[:, a_d] * cost[a_d]
        rationed[:, li, kind] = act[:, a_r] * cost[a_d]
    variable = 1.0 - money.fixed_share_by_month(results)
    fixed = fixed * variable[:, None] + money.fixed_cost_by_line(results, data)
    delivered *= variable[:, None, None, None, None]
    rationed *= variable[:, None, None, None, None]
    return fixed, delivered, rationed


def _take(share: np.ndarray, demand: np.ndarray, sel: np.ndarray, amount: float) -> float:
    """Cut up to ``amount`` DKK from the still-delivered demand in ``sel``, alike in every
    (kind, state, cell) there; returns what was cut."""
    sel = sel & (demand > 0)
    left = (share * demand)[sel].sum()
    if amount <= 0 or left <= 0:
        return 0.0
    take = min(amount, left)
    share[sel] *= 1.0 - take / left
    return take


def shares_for_cut(demand: np.ndarray, cut: float, tier: np.ndarray, allotted: np.ndarray | None = None,
                   allotted_cut: float = 0.0) -> np.ndarray:
    """Delivery shares (kinds, S, C) that remove ``cut`` DKK from ``demand`` (kinds, S, C).

    Where ``allotted`` marks a group with a cut of its own (``allotted_cut`` DKK, part of
    ``cut``), that is taken from it first; the rest of the cut goes tier by tier over everyone
    else, and falls back on the allotted group only when the others have nothing left."""
    share = np.ones_like(demand)
    left = cut
    others = np.ones(demand.shape, bool)
    if allotted is not None:
        left -= _take(share, demand, allotted, min(allotted_cut, cut))
        others = ~allotted
    for t in np.unique(tier):
        left -= _take(share, demand, (tier == t) & others, left)
    if allotted is not None:
        left -= _take(share, demand, allotted, left)
    return np.clip(share, 0.0, 1.0)


def solve(scenario: Scenario, baseline_effort: np.ndarray, run, first=None,
          sheddable: np.ndarray | None = None) -> Budgeted:
    """Find the rationing that keeps each line within its budget, year by year.

    Shares are set per calendar year (offers last several months, so a month's spending follows
    earlier months' decisions; a yearly share lets the cut settle).

    Parameters
    ----------
    scenario : a budget-constrained scenario
    baseline_effort : (months, lines) the baseline's monthly spending on each effort line, DKK
    run : callable(ration) -> Results, simulating ``scenario`` with the given delivery shares
    first : the rule-driven run of ``scenario`` (saves one round), or None
    sheddable : (months, lines) the most each line's cost can have fallen by then, DKK (beyond it
        the line still pays for staff and contracts not yet shed, which counts against the
        budget and which no rationing can cut); default unbounded
    """
    if sheddable is None:
        sheddable = np.full_like(baseline_effort, np.inf)
    lines = [EFFORT_LINES.index(ln) for ln in SAVING_LINES]
    budget = baseline_effort.copy()
    budget[:, lines] -= scenario.saving_levels() * money.DKK_PER_BN / 12.0
    youth_cut = np.zeros_like(budget)
    youth_cut[:, lines] = scenario.youth_cut_levels() * money.DKK_PER_BN / 12.0
    youth = np.broadcast_to((np.array([cell_parts(c)[0] for c in range(N_CELLS)]) == 1)[None, None, :],
                            (L.N_KINDS, N_STATES, N_CELLS))
    tier = tiers(scenario.priority)
    n_m = budget.shape[0]
    ration = np.ones((n_m, L.N_KINDS, N_STATES, N_CELLS))
    res = first if first is not None else run(ration)
    years = res.year_of_month
    year_ids = np.unique(years)
    yearly = lambda x: np.stack([x[years == y].sum(axis=0) for y in year_ids])  # noqa: E731
    budget_y = yearly(budget)
    youth_cut_y = yearly(youth_cut)
    def costs(results):
        """A run's line costs (``line_costs``), its activity's cost and its spending by month and
        line: the activity, and the freed cost not yet shed."""
        fixed, delivered, rationed = line_costs(results)
        activity = fixed + delivered.sum(axis=(2, 3, 4))           # (M, L)
        return fixed, delivered, rationed, activity, activity + money.unrealised_cost(baseline_effort, activity,
                                                                                       sheddable)

    cut = None
    damping = over_before = None
    rounds = 1
    while True:
        fixed, delivered, rationed, activity, spent = costs(res)
        spent_y = yearly(spent)
        demand_y = yearly(delivered + rationed)                  # (Y, L, kinds, S, C) at full delivery
        over = spent_y - budget_y
        # a krone of activity cut saves a krone in the months where the line can still shed cost
        saves = yearly((baseline_effort - activity < sheddable).astype(float)) / yearly(np.ones_like(activity))
        # a line whose overrun changes sign overshot: its next steps are halved (the activity cut
        # moves spending back through behaviour, e.g. fewer company-based offers mean longer spells
        # and more offers later, so a krone cut can save less than a krone)
        if damping is None:
            damping = np.ones_like(over)
        else:
            damping = np.where(over * over_before < 0, damping * 0.5, damping)
        over_before = over
        step = damping * over / np.maximum(saves, 0.05)
        cut = np.maximum(step if cut is None else cut + step, 0.0)
        cut = np.minimum(cut, demand_y.sum(axis=(2, 3, 4)))      # no more than there is to cut
        cut[saves <= 0.05] = 0.0        # cutting saves nothing where the line cannot shed more cost
        # a budget met to rounding (the same activity summed in another order) needs no cut
        cut[cut <= ROUNDING * np.abs(budget_y)] = 0.0
        # lines off their budget that more cutting can still bring nearer
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
                kinds = KINDS_OF_LINE[li]
                # a youth cut is the young's part of every line (zero where it names none)
                allotted = youth[kinds] if scenario.youth_cut is not None else None
                share = shares_for_cut(demand_y[yi, li][kinds], cut[yi, li], tier[kinds], allotted,
                                       youth_cut_y[yi, li])
                for k_i, k in enumerate(kinds):
                    new[years == y, k] = share[k_i]
        if rounds > 1 and np.array_equal(new, ration):
            break
        # the shares split a cut by this round's demand, which the shares themselves move (less
        # activity, longer spells, more demand): where a line has overshot, and everywhere after
        # a few rounds, half the step keeps that from swinging
        for yi, y in enumerate(year_ids):
            for li in np.flatnonzero((damping[yi] < 1.0) | (rounds > RELAX_AFTER)):
                kinds = KINDS_OF_LINE[li]
                sel = years == y
                new[np.ix_(sel, kinds)] = 0.5 * (new[np.ix_(sel, kinds)] + ration[np.ix_(sel, kinds)])
        ration = new
        res = run(ration)
        rounds += 1
    _, delivered, _, _, spending = costs(res)
    # the money a line has left is spent on more conversations and offers for those furthest
    # from the labour market, a share above 1 where none is due (``money.redeploy_share`` of it;
    # the rest is returned)
    share = float(scenario.params_at(scenario.n_months - 1)[REDEPLOY])
    left_y = np.maximum(budget_y - yearly(spending), 0.0)
    left_y[left_y <= TOLERANCE * np.abs(budget_y)] = 0.0
    if cut is not None:
        left_y[cut > 0] = 0.0           # a rationed line has nothing left beyond the solver's error
    target = share * left_y
    spent_as_activity = np.zeros_like(spending)
    if (target > 0).any():
        eligible = redeploy_targets(res)                      # (kinds, S, C)
        before = spending
        base_y = yearly(delivered)                              # (Y, L, kinds, S, C)
        x = np.zeros_like(target)
        for step in range(REDEPLOY_ROUNDS):
            # first a guess from what the eligible get today, then scaled by what it bought
            got_y = yearly(costs(res)[-1] - before) if step > 0 else None
            for yi, li in zip(*np.nonzero(target > 0)):
                kinds = KINDS_OF_LINE[li]
                if step == 0:
                    room = sum(base_y[yi, li, k][eligible[k]].sum() for k in kinds)
                    x[yi, li] = target[yi, li] / max(room, 1.0)
                else:
                    got = got_y[yi, li]
                    x[yi, li] *= target[yi, li] / got if got > 0 else 2.0
                x[yi, li] = min(x[yi, li], 1.0)
                for k in kinds:
                    sel = years == year_ids[yi]
                    block = ration[sel, k]
                    block[:, eligible[k]] = 1.0 + x[yi, li]
                    ration[sel, k] = block
            res = run(ration)
            rounds += 1
        spending = costs(res)[-1]
        bought = np.zeros_like(spending, bool)
        for yi, li in zip(*np.nonzero(target > 0)):
            bought[years == year_ids[yi], li] = True
        spent_as_activity = np.where(bought, spending - before, 0.0)
    # what is left after that and not returned stays in the effort unspent
    kept_y = np.maximum(np.maximum(budget_y - yearly(spending), 0.0) - (1.0 - share) * left_y, 0.0)
    redeployed = np.maximum(budget - spending, 0.0)
    redeployed[redeployed <= ROUNDING * np.abs(budget)] = 0.0
    # what stays in the effort unspent is settled by year: money short in one month is made up by
    # money left in another
    for yi, y in enumerate(year_ids):
        sel = years == y
        total = redeployed[sel].sum(axis=0)
        redeployed[sel] *= np.divide(kept_y[yi], total, out=np.zeros_like(total), where=total > 0)
    over_y = np.maximum(yearly(spending) - budget_y, 0.0)
    over_y[over_y < TOLERANCE * np.abs(budget_y)] = 0.0     # within the solver's tolerance
    return Budgeted(res, ration, budget, spending, redeployed, rounds, over_y, spent_as_activity)
