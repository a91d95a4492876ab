"""Baseline against reform with common random numbers, and the reform split by provision.

Both runs use the same population and the same counter-based draws, so every difference is an
effect of the reform, not Monte Carlo noise: ``compare baseline baseline`` differs by exactly
zero. Provisions are added one at a time in the order of the reform file; the savings of the
steps telescope, so the parts add up to the whole.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import budget as money
from .errors import InputError
from .scenario import Change, Scenario, load_scenario
from .simulate import Results, build_population, simulate
from .states import ACTIVITIES, EFFORT_LINES, EXIT_JOB, STATES

DERIVED = "derived_effects"
#: parameters of data/parameters.csv read here (the rest reach the kernel's tables)
JOB_RETENTION = "money.job_retention_per_month"
EARNINGS = "money.earnings_per_fulltime_year_dkk"
TAX_RATE = "money.effective_tax_rate"
TAX_MUNICIPAL = "money.tax_municipal_share"
FULLTIME = "money.fulltime_factor_of_jobs"
GOAL = "money.labour_supply_goal_persons"
EXPERT_DERIVED = "money.derived_effects_expert_group_bn"
MONEY_PARAMETERS = (JOB_RETENTION, EARNINGS, TAX_RATE, TAX_MUNICIPAL, GOAL, EXPERT_DERIVED, FULLTIME)

#: the five result targets (FACTS.md §5) and what the model has for each
RESULT_TARGETS = {
    "exits to education and employment": "measured: results.exits_to_job_delta, results.exits_to_education_delta",
    "share in ordinary hours": "proxy: results.ordinary_job_share_of_job_exits (exits to ordinary jobs "
                               "against ordinary jobs plus flex jobs); hours are not modelled",
    "share on public support": "measured: results.persons_on_benefit_delta (persons in the modelled benefits)",
    "citizen satisfaction": "not measured: the model has no satisfaction",
    "company satisfaction": "not measured: the model has no companies",
}


@dataclass
class Comparison:
    """A baseline and a reform on the same population and draws."""

    baseline: Results
    reform: Results
    steps: list[tuple[str, Results]] = field(default_factory=list)   # cumulative, by provision
    budget: pd.DataFrame | None = None
    rule_driven: Results | None = None      # the reform with the law setting activity
    budgeted: object | None = None          # sim.capacity.Budgeted in the budget-constrained mode

    @property
    def years(self) -> list[int]:
        return self.baseline.scenario.years


def extra_changes(baseline: Scenario, reform: Scenario) -> list[Change]:
    """The reform's changes beyond the baseline's, in file order."""
    base = set(baseline.changes)
    return [ch for ch in reform.changes if ch not in base]


def compare(baseline, reform, seed: int = 1, engine: str = "numba", scale: float = 1.0,
            population_file=None, data=None, breakdown: bool = True, progress=None) -> Comparison:
    """Simulate ``baseline`` and ``reform`` with common random numbers.

    Parameters
    ----------
    baseline, reform : Scenario or name/path
    breakdown : also simulate the provisions added one at a time (for the per-provision split)
    progress : optional callable(str) told about each run
    """
    if not isinstance(baseline, Scenario):
        baseline = load_scenario(baseline, data)
    if not isinstance(reform, Scenario):
        reform = load_scenario(reform, baseline.data)
    if baseline.name == reform.name and baseline.files[-1].resolve() != reform.files[-1].resolve():
        raise InputError(f"{reform.files[-1]}: the reform has the same name as the baseline "
                         f"({baseline.files[-1]}); give one of the files another name")
    if (baseline.start, baseline.n_months) != (reform.start, reform.n_months):
        raise InputError(f"{reform.files[-1]}: horizon {reform.months[0]} to {reform.months[-1]} differs "
                         f"from the baseline's {baseline.months[0]} to {baseline.months[-1]}")
    say = progress or (lambda _msg: None)
    population = build_population(baseline, seed, scale, population_file)
    say(f"baseline '{baseline.name}'")
    base = simulate(baseline, seed, engine, scale, population=population)
    say(f"reform '{reform.name}'")
    ref = simulate(reform, seed, engine, scale, population=population)
    rule_driven, budgeted = ref, None
    if reform.effort_mode == "budget_constrained":
        from . import capacity
        base_effort = effort_by_line(base, monthly=True).to_numpy()

        def run(ration):
            say(f"reform '{reform.name}' within its budget")
            return simulate(reform, seed, engine, scale, population=population, ration=ration)
        budgeted = capacity.solve(reform, base_effort, run, first=ref)
        ref = budgeted.results
    steps = []
    if breakdown:
        extra = extra_changes(baseline, reform)
        provisions = list(dict.fromkeys(ch.provision for ch in extra))
        for k, prov in enumerate(provisions[:-1]):
            keep = set(provisions[:k + 1])
            chosen = [ch for ch in extra if ch.provision in keep]
            partial = dataclasses.replace(reform, name=f"{reform.name}+{prov}",
                                          changes=list(baseline.changes) + chosen)
            say(f"provision {k + 1}/{len(provisions)}: {prov}")
            steps.append((prov, simulate(partial, seed, engine, scale, population=population)))
        if provisions:
            steps.append((provisions[-1], rule_driven))
    comp = Comparison(base, ref, steps, rule_driven=rule_driven, budgeted=budgeted)
    comp.budget = comparison_budget(comp)
    return comp


def _public_transfers(budget: pd.DataFrame) -> pd.DataFrame:
    t = budget[budget["line"].str.startswith("transfers:") & (budget["payer"] != "employer")]
    return t.groupby(["year", "payer"])["dkk"].sum()


def comparison_budget(comp: Comparison) -> pd.DataFrame:
    """Tidy budget of both scenarios. The line ``derived_effects`` carries each scenario's change
    in public transfers (state and municipality) against the baseline: zero for the baseline."""
    data = comp.baseline.scenario.data
    tables = {"baseline": money.budget_table(comp.baseline, data),
              "reform": money.budget_table(comp.reform, data)}
    if comp.budgeted is not None:
        # money left under the budget stays in the effort (redeployed)
        red = redeployed_by_line(comp)
        extra = red.stack().rename("dkk").reset_index().rename(columns={"level_1": "line"})
        extra = extra.assign(scenario=comp.reform.scenario.name, payer="municipality")
        tables["reform"] = (pd.concat([tables["reform"], extra[["year", "scenario", "line", "payer", "dkk"]]])
                            .groupby(["year", "scenario", "line", "payer"], as_index=False, sort=False)["dkk"].sum())
    public = {k: _public_transfers(v) for k, v in tables.items()}
    frames = []
    for key, res in (("baseline", comp.baseline), ("reform", comp.reform)):
        diff = (public[key] - public["baseline"]).reset_index()
        derived = pd.DataFrame({"year": diff["year"], "scenario": res.scenario.name, "line": DERIVED,
                                "payer": diff["payer"], "dkk": diff["dkk"]})
        frames += [tables[key], derived]
    if comp.reform.scenario.name == comp.baseline.scenario.name:
        frames = frames[:2]          # the same scenario twice: one block
    return pd.concat(frames, ignore_index=True)


def effort_by_line(results: Results, monthly: bool = False) -> pd.DataFrame:
    """Effort cost by year (or month) and line (DKK) of the activity the model represents.

    The monthly table is computed once per result and kept on it (a comparison asks for the
    baseline's several times)."""
    by_month = getattr(results, "_effort_by_month", None)
    if by_month is None:
        e = money.effort(results, results.scenario.data)
        by_month = e.pivot_table(index="month", columns="line", values="dkk", aggfunc="sum",
                                 sort=False)[list(EFFORT_LINES)]
        results._effort_by_month = by_month
    if monthly:
        return by_month.copy()
    return by_month.groupby(by_month.index.str[:4].astype(int)).sum().rename_axis("year")


def redeployed_by_line(comp: Comparison) -> pd.DataFrame:
    """Budget left over in the budget-constrained mode, by year and line (DKK)."""
    red = pd.DataFrame(comp.budgeted.redeployed, columns=list(EFFORT_LINES))
    red["year"] = comp.baseline.year_of_month
    return red.groupby("year").sum()


def reform_effort(comp: Comparison) -> pd.DataFrame:
    """The reform's effort by year and line, including redeployed money (DKK)."""
    e = effort_by_line(comp.reform)
    return e + redeployed_by_line(comp) if comp.budgeted is not None else e


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


def summary(comp: Comparison) -> dict:
    """The contract's comparison keys (per-year objects keyed by year) and companions."""
    from .report import baseline_summary
    data = comp.baseline.scenario.data
    b_budget = comp.budget[comp.budget["scenario"] == comp.baseline.scenario.name]
    out = baseline_summary(comp.baseline, b_budget[b_budget["line"] != DERIVED])
    years = comp.years
    yr = lambda series: {str(y): float(series.get(y, 0.0)) for y in years}  # noqa: E731

    eb, er = effort_by_line(comp.baseline), reform_effort(comp)
    by_line = {ln: yr((eb[ln] - er[ln]) / 1e9) for ln in EFFORT_LINES}
    b = comp.budget
    derived = b[(b["line"] == DERIVED) & (b["scenario"] == comp.reform.scenario.name)].groupby("year")["dkk"].sum()
    by_line[DERIVED] = yr((0.0 - derived) / 1e9)        # a fall in public transfers is a saving
    savings = {y: sum(by_line[ln][y] for ln in by_line) for y in by_line[DERIVED]}

    # bottom-up: what the rule changes free in the rule-driven runs, and its split by provision
    effort_saving = lambda res: (eb.sum(axis=1) - effort_by_line(res).sum(axis=1)) / 1e9  # noqa: E731
    bottom_up = yr(effort_saving(comp.rule_driven))
    parts, previous = {}, pd.Series(0.0, index=eb.index)
    for prov, res in comp.steps:
        now = effort_saving(res)
        parts[prov] = yr(now - previous)
        previous = now

    params = comp.reform.scenario.params_at(comp.reform.scenario.n_months - 1)
    fulltime = params[FULLTIME]
    emp_b, emp_r = employment(comp.baseline), employment(comp.reform)
    years_of_month = comp.baseline.year_of_month
    emp_delta = {str(y): float((emp_r - emp_b)[years_of_month == y].mean() * fulltime) for y in years}
    earnings, tax_rate = params[EARNINGS], params[TAX_RATE]
    tax = {y: emp_delta[y] * earnings * tax_rate / 1e9 for y in emp_delta}
    if comp.budgeted is not None:
        red = redeployed_by_line(comp)
        out["budget.redeployed_bn"] = {ln: yr(red[ln] / 1e9) for ln in EFFORT_LINES}
        out["budget.rationing_rounds"] = comp.budgeted.rounds
        over = comp.budgeted.over_budget
        years_ = [str(y) for y in np.unique(comp.baseline.year_of_month)]
        out["budget.over_budget_bn"] = {ln: {y: float(over[i, li] / 1e9) for i, y in enumerate(years_)}
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
            by_payer[payer][y] = effort - float(d.get(int(y), 0.0)) / 1e9 + tax[y] * share
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
        "employment.fulltime_persons_delta": emp_delta,
        "public_finances.tax_revenue_delta_bn": tax,
        "public_finances.net_effect_bn": {y: savings[y] + tax[y] for y in savings},
        "reform.scenario": comp.reform.scenario.name,
        "reform.scheme": comp.reform.scenario.scheme,
        "reform.provisions": [p for p, _ in comp.steps],
    })
    return out


#: groups for the gap: who loses activity (KL's reading: youth, vulnerable adults, insured unemployed)
GAP_GROUPS = ("youth", "vulnerable_adults", "insured_unemployed", "sick", "other")


def gap_group(state: str, youth: int, distance: int) -> str:
    if youth:
        return "youth"
    if state == "dagpenge":
        return "insured_unemployed"
    if state.startswith("sick") or state == "job_clarification":
        return "sick"
    if distance == 2:
        return "vulnerable_adults"
    return "other"


def rationed_by_group(comp: Comparison) -> dict:
    """Cost of the activity rationed away, by year and group (bn DKK): where the gap between the
    top-down saving and the rule changes is found."""
    from . import capacity
    from .states import N_CELLS, cell_parts
    res = comp.reform
    cost, _, _ = money.unit_costs(res.scenario.data)
    out = {g: np.zeros(res.activity.shape[0]) for g in GAP_GROUPS}
    for _, _, d_name, r_name in capacity.KINDS:
        a_d, a_r = ACTIVITIES.index(d_name), ACTIVITIES.index(r_name)
        for s, state in enumerate(STATES):
            for c in range(N_CELLS):
                youth, distance, _, _ = cell_parts(c)
                out[gap_group(state, youth, distance)] += res.activity[:, a_r, s, c] * cost[a_d]
    years = res.year_of_month
    return {"budget.rationed_by_group_bn": {g: {str(y): float(v[years == y].sum() / 1e9)
                                                for y in np.unique(years)} for g, v in out.items()}}


def result_measures(comp: Comparison) -> dict:
    """Result measures by year (reform minus baseline), and which result targets are not measured."""
    from .states import DEST, STATE
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
