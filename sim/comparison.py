"""Baseline against reform with common random numbers, and the reform split by provision.

The keys of ``summary.json`` computed from a comparison are in :mod:`sim.summary`.

Both runs use the same population and the same counter-based draws, so every difference is an
effect of the reform, not Monte Carlo noise: ``compare baseline baseline`` differs by exactly
zero. Provisions are added one at a time in the order of the reform file; the savings of the
steps telescope, so the parts add up to the whole.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from . import budget as money
from .errors import InputError
from .scenario import Change, Scenario, load_scenario
from .simulation import Results, build_population, simulate
from .states import DERIVED_LINE, EFFORT_LINES

DERIVED = DERIVED_LINE

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


