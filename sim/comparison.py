"""Baseline against reform with common random numbers, and the reform split by provision.

The keys of ``summary.json`` computed from a comparison are in :mod:`sim.summary`.

Both runs use the same population and the same counter-based draws, so every difference is an
effect of the reform, not Monte Carlo noise: ``compare baseline baseline`` differs by exactly
zero. Each provision's part of the bottom-up saving is its Shapley value (``Breakdown``).

Savings take time: a fall in the cost of an effort line is money only as staff leave and
contracts run out, at most ``money.shed_share_per_year.<line>`` of the line's variable cost a
year from the reform's first month (``shedding_path``). Beyond that the line still pays for what
was freed (``sim.budget.unrealised_cost``): the reform's budget carries it, the budget-constrained
mode cannot cut it away, and the bottom-up saving counts only the realised part.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from dataclasses import dataclass

import numpy as np

import pandas as pd

from . import budget as money
from .errors import InputError
from .parameters import FIXED_SHARE, SHED
from .scenario import Change, Scenario, load_scenario
from .simulation import Results, build_population, simulate
from .states import DERIVED_LINE, EFFORT_LINES

DERIVED = DERIVED_LINE

#: orders of the provisions a breakdown samples, where all orders cost more runs than this many
#: orders would (assumption: three, about three times the runs of adding provisions in one order)
BREAKDOWN_ORDERS = 3


@dataclass
class Breakdown:
    """Each provision's part of the bottom-up saving: its marginal saving averaged over orders of
    the provisions (the Shapley value), so that no part depends on the order of the file.

    ``orders`` are every order of the provisions (``exact``) where their distinct subsets cost no
    more runs than ``BREAKDOWN_ORDERS`` orders would, else that many orders drawn from a generator
    seeded by the sorted provision names. ``saving_of`` holds the yearly effort saving (bn DKK,
    rule-driven, against the baseline) of every subset the orders pass through; the empty set
    saves nothing and the full set is the reform's bottom-up saving, so along every order, and so
    on average, the parts add up exactly to the total.
    """

    provisions: list[str]                       # in file order
    orders: list[tuple[str, ...]]
    exact: bool
    saving_of: dict                              # frozenset of provisions -> pd.Series by year (bn)

    def marginals(self, provision: str) -> list[pd.Series]:
        """The provision's marginal saving in each order (bn DKK by year)."""
        out = []
        for order in self.orders:
            k = order.index(provision)
            out.append(self.saving_of[frozenset(order[:k + 1])] - self.saving_of[frozenset(order[:k])])
        return out

    def part(self, provision: str) -> pd.Series:
        """The provision's part: its mean marginal saving over the orders (bn DKK by year)."""
        m = self.marginals(provision)
        return sum(m[1:], m[0]) / len(m)

    def standard_error(self, provision: str) -> pd.Series:
        """Sampling error of :meth:`part` (0 where every order is taken; NaN with one order)."""
        m = self.marginals(provision)
        if self.exact:
            return 0.0 * m[0]
        if len(m) < 2:
            return m[0] * float("nan")
        frame = pd.concat(m, axis=1)
        return frame.std(axis=1, ddof=1) / np.sqrt(len(m))


def breakdown_orders(provisions: list[str], n_orders: int = BREAKDOWN_ORDERS) -> tuple[list[tuple], bool]:
    """The orders a :class:`Breakdown` averages over, and whether they are all of them. They depend
    on the set of provisions, not on their order in the file."""
    names = sorted(provisions)
    n = len(names)
    if n == 0:
        return [], True
    if 2 ** n - 2 <= n_orders * max(n - 1, 1):
        return list(itertools.permutations(names)), True
    seed = int.from_bytes(hashlib.sha256("\0".join(names).encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    return [tuple(names[i] for i in rng.permutation(n)) for _ in range(n_orders)], False


def reform_start(baseline: Scenario, reform: Scenario) -> int | None:
    """Month index of the reform's first change beyond the baseline's or first saving (None for
    a reform that changes nothing)."""
    months = [ch.month - reform.start for ch in extra_changes(baseline, reform)]
    levels = reform.saving_levels().sum(axis=1)
    if (levels > 0).any():
        months.append(int(np.argmax(levels > 0)))
    return max(min(months), 0) if months else None


def shedding_path(reform: Scenario, start: int | None) -> np.ndarray:
    """The most each effort line's monthly cost can have fallen, by month: (M, L) DKK. In the k-th
    month from the reform's first month ``start``, the line's ``money.shed_share_per_year`` times
    (k + 1) / 12 of its variable cost (its documented total, ``data/effort_lines.csv``, less the
    fixed share), up to all of it; unbounded before ``start`` (nothing has changed) and for no
    reform."""
    out = np.full((reform.n_months, len(EFFORT_LINES)), np.inf)
    if start is None:
        return out
    params = reform.params_at(start)
    total = dict(zip(reform.data.effort_lines["line"], reform.data.effort_lines["baseline_bn"]))
    k = np.arange(reform.n_months) - start
    for li, ln in enumerate(EFFORT_LINES):
        variable = (1.0 - float(params[FIXED_SHARE])) * total[ln] * money.DKK_PER_BN / 12.0
        out[k >= 0, li] = np.minimum(float(params[SHED + ln]) * (k[k >= 0] + 1) / 12.0, 1.0) * variable
    return out


def effort_saving(base: Results, res: Results, sheddable: np.ndarray | None = None) -> pd.Series:
    """Yearly effort saving of ``res`` against ``base`` on the three effort lines (bn DKK): the
    fall in their cost, less what cannot be shed by then (``sheddable``, see ``shedding_path``)."""
    b, r = effort_by_line(base, monthly=True), effort_by_line(res, monthly=True)
    paid = r.to_numpy() + money.unrealised_cost(b.to_numpy(), r.to_numpy(), sheddable)
    diff = pd.Series((b.to_numpy() - paid).sum(axis=1), index=b.index)
    return diff.groupby(diff.index.str[:4].astype(int)).sum().rename_axis("year") / money.DKK_PER_BN


@dataclass
class Comparison:
    """A baseline and a reform on the same population and draws."""

    baseline: Results
    reform: Results
    breakdown: Breakdown | None = None      # each provision's part of the bottom-up saving
    budget: pd.DataFrame | None = None
    rule_driven: Results | None = None      # the reform with the law setting activity
    budgeted: object | None = None          # sim.capacity.Budgeted in the budget-constrained mode
    sheddable: np.ndarray | None = None     # (M, L) DKK: the most each line's cost can have fallen
    reference: Results | None = None        # the baseline without its [[inflow]] multipliers (a cycle)

    @property
    def years(self) -> list[int]:
        return self.baseline.scenario.years


def extra_changes(baseline: Scenario, reform: Scenario) -> list[Change]:
    """The reform's changes beyond the baseline's, in file order."""
    base = set(baseline.changes)
    return [ch for ch in reform.changes if ch not in base]


def compare(baseline, reform, seed: int = 1, engine: str = "numba", scale: float = 1.0,
            population_file=None, data=None, breakdown: bool = True, progress=None,
            n_orders: int = BREAKDOWN_ORDERS) -> Comparison:
    """Simulate ``baseline`` and ``reform`` with common random numbers.

    Parameters
    ----------
    baseline, reform : Scenario or name/path
    breakdown : also simulate subsets of the provisions, for each provision's part of the
        bottom-up saving (:class:`Breakdown`)
    progress : optional callable(str) told about each run
    n_orders : orders of the provisions the breakdown averages over where it cannot take them all
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
    sheddable = shedding_path(reform, reform_start(baseline, reform))
    reference = None
    if baseline.inflows or reform.inflows:
        say(f"baseline '{baseline.name}' without its business cycle")
        calm = dataclasses.replace(baseline, name=f"{baseline.name}-without-cycle", inflows=[])
        reference = simulate(calm, seed, engine, scale, population=population) if baseline.inflows else base
    if reform.effort_mode == "budget_constrained":
        from . import capacity
        base_effort = budget_basis(reform, base, reference)

        def run(ration):
            say(f"reform '{reform.name}' within its budget")
            return simulate(reform, seed, engine, scale, population=population, ration=ration)
        budgeted = capacity.solve(reform, base_effort, run, first=ref, sheddable=sheddable)
        ref = budgeted.results
    parts = None
    if breakdown:
        extra = extra_changes(baseline, reform)
        provisions = list(dict.fromkeys(ch.provision for ch in extra))
        orders, exact = breakdown_orders(provisions, n_orders)
        saving_of = {frozenset(): 0.0 * effort_saving(base, base),
                     frozenset(provisions): effort_saving(base, rule_driven, sheddable)}
        needed = list(dict.fromkeys(frozenset(order[:k]) for order in orders for k in range(1, len(order))))
        needed = [s for s in needed if s not in saving_of]
        for k, subset in enumerate(needed):
            chosen = [ch for ch in extra if ch.provision in subset]
            partial = dataclasses.replace(reform, name=f"{reform.name}+{len(subset)}of{len(provisions)}",
                                          changes=list(baseline.changes) + chosen)
            say(f"provisions, run {k + 1}/{len(needed)}")
            saving_of[subset] = effort_saving(base, simulate(partial, seed, engine, scale, population=population),
                                              sheddable)
        parts = Breakdown(provisions, orders, exact, saving_of)
    comp = Comparison(base, ref, parts, rule_driven=rule_driven, budgeted=budgeted, sheddable=sheddable,
                      reference=reference)
    comp.budget = comparison_budget(comp)
    return comp


def budget_basis(reform: Scenario, base: Results, reference: Results | None) -> np.ndarray:
    """Each line's budget before the saving, DKK by month (M, L), by ``[effort] budget``:
    ``"baseline"``, the baseline's spending month by month (it rises with the baseline's caseload,
    which compensates the municipalities); ``"without_cycle"``, the baseline's spending without its
    ``[[inflow]]`` multipliers (``reference``): set in advance, the service ceiling's budget takes
    no account of a downturn; ``"fixed_base_year"``, the baseline's average month in the first
    year, fixed in DKK (it also holds the baseline's own drift over the years)."""
    if reform.budget_basis == "without_cycle":
        return effort_by_line(reference if reference is not None else base, monthly=True).to_numpy()
    spending = effort_by_line(base, monthly=True).to_numpy()
    if reform.budget_basis == "fixed_base_year":
        first = base.year_of_month == base.year_of_month[0]
        return np.broadcast_to(spending[first].mean(axis=0), spending.shape).copy()
    return spending


def _public_transfers(budget: pd.DataFrame) -> pd.DataFrame:
    t = budget[budget["line"].str.startswith("transfers:") & (budget["payer"] != "employer")]
    return t.groupby(["year", "payer"])["dkk"].sum()


def comparison_budget(comp: Comparison) -> pd.DataFrame:
    """Tidy budget of both scenarios. The line ``derived_effects`` carries each scenario's change
    in public transfers (state and municipality) against the baseline: zero for the baseline."""
    data = comp.baseline.scenario.data
    tables = {"baseline": money.budget_table(comp.baseline, data),
              "reform": money.budget_table(comp.reform, data)}
    # what is paid beyond the activity: money left under the budget stays in the effort
    # (redeployed), and freed staff and contracts are paid until they are shed (unrealised)
    extra = unrealised_by_line(comp) + one_offs_by_line(comp)
    if comp.budgeted is not None:
        extra = extra + redeployed_by_line(comp)
    if (extra.to_numpy() != 0).any():
        extra = extra.stack().rename("dkk").reset_index().rename(columns={"level_1": "line"})
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


def unrealised_by_line(comp: Comparison) -> pd.DataFrame:
    """What the reform's lines still pay for freed staff and contracts, by year and line (DKK)."""
    b, r = effort_by_line(comp.baseline, monthly=True), effort_by_line(comp.reform, monthly=True)
    u = pd.DataFrame(money.unrealised_cost(b.to_numpy(), r.to_numpy(), comp.sheddable), columns=list(EFFORT_LINES))
    u["year"] = comp.baseline.year_of_month
    return u.groupby("year").sum()


def one_offs_by_line(comp: Comparison) -> pd.DataFrame:
    """The reform's one-off costs (``[[one_off]]``: implementation) by year and line (DKK)."""
    out = 0.0 * effort_by_line(comp.reform)
    for year, line, bn, _, _ in comp.reform.scenario.one_offs:
        out.loc[year, line] += bn * money.DKK_PER_BN
    return out


def reform_effort(comp: Comparison) -> pd.DataFrame:
    """The reform's effort by year and line, including redeployed money, what is paid for freed
    staff and contracts not yet shed, and one-off costs (DKK)."""
    e = effort_by_line(comp.reform) + unrealised_by_line(comp) + one_offs_by_line(comp)
    return e + redeployed_by_line(comp) if comp.budgeted is not None else e


