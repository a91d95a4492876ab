"""Running a scenario: population, tables, engine; the results as arrays and tidy tables."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import engine as numpy_engine
from .errors import InputError
from .parameters import CASELOAD_DISPERSION, MONEY_PARAMETERS, Data, load_data
from .population import N_MUNICIPALITIES, WEIGHT_UNIT, Population, from_parquet, synthetic, with_inflows
from .rules import Tables, build_tables
from .scenario import Scenario, load_scenario, month_number
from .states import ACTIVITIES, DESTINATIONS, N_BANDS, SICK_STATES, STATE, STATES

ENGINES = ("numba", "numpy")


@dataclass
class Results:
    """What one simulation produced. Arrays are in persons (weights divided out), by month."""

    scenario: Scenario
    occupancy: np.ndarray     # (M, S, C, B) person-months
    activity: np.ndarray      # (M, A, S, C) activities
    flow: np.ndarray          # (M, S + 2, K) moves; row S: new spells, row S + 1: initial stock
    tables: Tables
    regime_of_month: np.ndarray
    seed: int
    engine: str
    scale: float
    wall_s: float
    population: Population | None = None
    spell: np.ndarray | None = None  # (M, N_SPELL_MONTHS) persons in the sick states by month of spell
    place_occupancy: np.ndarray | None = None  # (P, Y, S, C, B) person-months by municipality and year
    place_activity: np.ndarray | None = None   # (P, Y, T, A) activities by municipality, year, cost class

    @property
    def months(self) -> list[str]:
        return self.scenario.months

    @property
    def year_of_month(self) -> np.ndarray:
        return np.array([int(m[:4]) for m in self.months])

    @property
    def base_year(self) -> int:
        return int(self.year_of_month[0])

    def by_year(self, monthly: np.ndarray) -> dict[int, float]:
        """Sum a monthly series (first axis) by calendar year."""
        years = self.year_of_month
        return {int(y): float(monthly[years == y].sum()) for y in np.unique(years)}

    # --- sick-benefit figures --------------------------------------------------------------
    def sick_persons_per_year(self) -> dict[int, float]:
        """Persons with sick benefit in the year: the stock at its start plus new spells."""
        sick = list(SICK_STATES)
        entries = self.flow[:, len(STATES), STATE["sick"]]
        stock = self.occupancy[:, sick].sum(axis=(1, 2, 3))
        years = self.year_of_month
        out = {}
        for y in np.unique(years):
            idx = np.flatnonzero(years == y)
            first = idx[0]
            out[int(y)] = float(stock[first] - entries[first] + entries[idx].sum())
        return out

    def sick_duration_profile(self, year: int) -> np.ndarray:
        """Average persons per month on sick benefit in ``year`` by month of spell (last = longer)."""
        return self.spell[self.year_of_month == year].mean(axis=0)

    def sick_reaching_week22_per_year(self) -> dict[int, float]:
        return self.by_year(self.activity[:, ACTIVITIES.index("time_limit"), STATE["sick"]].sum(axis=1))

    def sick_to_job_clarification_per_year(self) -> dict[int, float]:
        jc = STATE["job_clarification"]
        return self.by_year(self.flow[:, list(SICK_STATES), jc].sum(axis=1))

    # --- tidy tables ------------------------------------------------------------------------
    def flows_table(self) -> pd.DataFrame:
        """Moves by month, origin and destination (origins 'new_spell' and 'initial_stock' are
        entries into the simulation)."""
        m, o, d = np.nonzero(self.flow)
        origins = np.array(list(STATES) + ["new_spell", "initial_stock"])
        return pd.DataFrame({"month": np.array(self.months)[m], "from": origins[o],
                             "to": np.array(DESTINATIONS)[d], "persons": self.flow[m, o, d]})


def _to_persons(a: np.ndarray) -> np.ndarray:
    return a.sum(axis=0) / WEIGHT_UNIT


def population_tables(data: Data) -> Tables:
    """Tables of the default parameters: they shape the synthetic stock, whatever the scenario."""
    return build_tables([data.params])


def build_population(scenario: Scenario, seed: int, scale: float, population_file=None) -> Population:
    """The synthetic population (default) or a user's Parquet population for ``scenario``, before
    its ``[[inflow]]`` multipliers (:func:`simulate` applies each scenario's own)."""
    if population_file is not None:
        return from_parquet(population_file, scenario.start, scenario.n_months, month_number, scale, seed,
                            scenario.data.municipalities)
    dispersion = float(scenario.params_at(0)[CASELOAD_DISPERSION])
    return synthetic(scenario.data, population_tables(scenario.data), scenario.n_months, seed, scale,
                     dispersion)


def run_engine(population: Population, tables: Tables, regime_of_month, seed: int, month0: int,
               n_months: int, engine: str = "numba", n_threads: int | None = None, ration=None):
    """Call an engine on prepared arrays; returns (occupancy, activity, flow, spell,
    place_occupancy, place_activity) in weight units (``sim.kernel.simulate``).

    ``ration`` (months, kinds, states, cells): share of due rationable activity delivered (default
    all; without the states axis, the same for every state).
    """
    if engine not in ENGINES:
        raise InputError(f"--engine {engine}: unknown engine; allowed: {', '.join(ENGINES)}")
    table = tables.arrays(np.asarray(regime_of_month), ration, month0)
    if engine == "numba":
        import numba

        from . import kernel
        if not population.kernel_arrays:
            population.kernel_arrays.append(kernel.by_place(population.arrays()))
        person = population.kernel_arrays[0]
        old = numba.get_num_threads()
        if n_threads is not None:
            numba.set_num_threads(n_threads)
        try:
            out = kernel.simulate(person, table, seed, month0, numba.get_num_threads(), n_months, N_BANDS,
                                  N_MUNICIPALITIES)
        finally:
            numba.set_num_threads(old)
        return out
    return numpy_engine.simulate(population.arrays(), table, seed, month0, 1, n_months, N_BANDS, N_MUNICIPALITIES)


def check_changes_used(scenario: Scenario, tables: Tables) -> None:
    """Refuse a change the model never reads (a rule for a state or cell it does not apply to)."""
    unused = sorted({ch.parameter for ch in scenario.changes} - tables.used - set(MONEY_PARAMETERS))
    if unused:
        raise InputError(f"{scenario.origin or scenario.files[-1]}: parameter '{unused[0]}' has no effect: "
                         "the model does not "
                         "read it for that state or selector (see data/parameters.csv for the rules each "
                         "state has)")


def simulate(scenario: Scenario | str | Path, seed: int = 1, engine: str = "numba", scale: float = 1.0,
             population: Population | None = None, population_file=None, data: Data | None = None,
             n_threads: int | None = None, ration: np.ndarray | None = None) -> Results:
    """Simulate one scenario.

    Parameters
    ----------
    scenario : a loaded Scenario, or a scenario name in ``configs/`` or a path
    seed : seed of every random draw (population and simulation)
    engine : 'numba' (the compiled kernel) or 'numpy' (the reference engine)
    scale : share of the population simulated (weights make up the rest)
    population : a population to reuse (a comparison passes the same one to both runs), before the
        scenario's ``[[inflow]]`` multipliers, which are applied here
    population_file : a Parquet population (see ``sim.population.POPULATION_SCHEMA``)
    ration : share of due rationable activity delivered, (months, kinds, states, cells); default all
    """
    t0 = time.perf_counter()
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, data)
    if population is None:
        population = build_population(scenario, seed, scale, population_file)
    population = with_inflows(population, scenario, seed)
    regimes, regime_of_month = scenario.regimes()
    try:
        tables = build_tables(regimes)
    except ValueError as exc:
        raise InputError(f"{scenario.files[-1]}: {exc}") from None
    check_changes_used(scenario, tables)
    occ, act, flow, spell, place_occ, place_act = run_engine(population, tables, regime_of_month, seed,
                                                             scenario.start, scenario.n_months, engine,
                                                             n_threads, ration)
    return Results(scenario, _to_persons(occ), _to_persons(act), _to_persons(flow), tables,
                   np.asarray(regime_of_month), seed, engine, population.scale,
                   time.perf_counter() - t0, population=population, spell=_to_persons(spell),
                   place_occupancy=_to_persons(place_occ), place_activity=_to_persons(place_act))


__all__ = ["Results", "simulate", "build_population", "run_engine"]
