"""The population: the stock in the first month and the monthly inflows of new spells.

The synthetic population is a deterministic function of the seed: each person's attributes are
counter-based draws keyed on (seed, person id, purpose), so a ``--scale 0.1`` sample is a subset
of the full population (persons kept by their own draw) carrying weight 10. A user with register
data brings their own population as a Parquet file with the schema in ``POPULATION_SCHEMA``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .arrays import PersonArrays
from .layout import MAX_MONTHS_COUNTED, P_COHORT_CELL, R_LIMIT
from .population_fill import draw_attributes, fill_population
from .rng import uniform_array as uniform
from .errors import InputError, did_you_mean
from .parameters import CASELOAD_DISPERSION, EXPOSURE, Data
from .rules import Tables
from .states import DISTANCE_CLASSES, N_CELLS, SICK_STATES, STATE, STATES, cell_code, cell_parts

#: integer weight units per person (weights are summed as integers: exact and order-free)
WEIGHT_UNIT = 1000
#: number of municipalities (FACTS.md §6: 98 municipalities)
N_MUNICIPALITIES = 98
#: longest initial duration drawn for the stock, in months
MAX_STOCK_MONTHS = 480

# purposes of the population's random draws (a month id no simulation reaches keeps them apart)
_POP_MONTH = 2**31 - 1
_U_SAMPLE, _U_YOUTH, _U_PROVIDER, _U_FLAG, _U_DISTANCE, _U_AGE, _U_MUNI, _U_CELL, _U_DUR = range(9)
_U_INFLOW_KEEP, _U_INFLOW_EXTRA = 9, 10          # an inflow multiplier: keep a new spell, add a copy
_U_EXPOSURE, _U_CASELOAD = 0, 1                  # the municipality indices (keyed on the code)
_INDEX_MONTH = 2**31 - 2                         # the month id of the municipality indices' draws

POPULATION_SCHEMA = {
    "person_id": "int64, unique, >= 0: the key of every random draw",
    "entry_month": "string YYYY-MM: the month the person enters the simulation (the first month for the stock)",
    "state": "string, one of: " + ", ".join(STATES),
    "months_in_state": "int >= 0: months already spent in the state when entering (0 = a new spell)",
    "months_in_spell": "int >= months_in_state (optional): months on public benefit in this spell",
    "age": "int 0-120: age in years at entry",
    "provider": "bool: has children to provide for (forsørger)",
    "insured": "bool: member of an unemployment-insurance fund (a-kasse)",
    "sick_from_job": "bool: for the sick, sick from a job (employer period) rather than from unemployment",
    "distance": "string close|middle|far: distance to the labour market",
    "municipality": "int (optional): the municipality's code (kommunekode in data/municipalities.csv, e.g. 101)",
    "weight": "float > 0 (optional, default 1): persons each row represents",
}


@dataclass
class Population:
    """Persons sorted by entry month: the engines' ``PersonArrays`` plus descriptive attributes."""

    person_id: np.ndarray      # int64
    entry_month: np.ndarray    # int32, months after the horizon start
    cell: np.ndarray           # int8, see sim.states.cell_code
    weight: np.ndarray         # int64, in WEIGHT_UNIT per person
    state: np.ndarray          # int8 initial state
    months_in_state: np.ndarray  # int16
    months_in_spell: np.ndarray  # int16
    age: np.ndarray            # int16
    municipality: np.ndarray   # int16: index into data/municipalities.csv in code order
    scale: float
    #: this population with [[inflow]] multipliers applied, by the shocks, exposure and seed
    #: (:func:`with_inflows`: a comparison's runs of one scenario share one)
    with_shocks: dict = field(default_factory=dict, repr=False, compare=False)
    #: the arrays in the compiled kernel's order (``sim.kernel.by_place``), once computed by
    #: ``sim.simulation.run_engine``
    kernel_arrays: list = field(default_factory=list, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return self.person_id.size

    def arrays(self) -> PersonArrays:
        """The engines' ``person`` argument (the arrays themselves, not copies)."""
        return PersonArrays(person_id=self.person_id, entry_month=self.entry_month, cell=self.cell,
                            weight=self.weight, state=self.state, months_in_state=self.months_in_state,
                            months_in_spell=self.months_in_spell, municipality=self.municipality)


def _shares(row) -> tuple[float, float, float, np.ndarray]:
    dist = np.array([row.distance_close, row.distance_middle, row.distance_far])
    return row.youth_share, row.provider_share, row.flag_share, dist


def cell_weights(data: Data, state: str) -> np.ndarray:
    """Share of each cell among new spells in ``state`` (from data/entrant_mix.csv)."""
    youth, provider, flag, dist = _shares(data.entrant_mix.loc[state])
    w = np.zeros(N_CELLS)
    for c in range(N_CELLS):
        y, d, p, f = cell_parts(c)
        w[c] = ((youth if y else 1 - youth) * dist[d] * (provider if p else 1 - provider)
                * (flag if f else 1 - flag))
    return w


def survival(tables: Tables, state: int, regime: int = 0, months: int = MAX_STOCK_MONTHS) -> np.ndarray:
    """Probability of still being in ``state`` after d months, by cell: shape (C, months).

    Uses the exit table without activity effects and the state's time limits; it shapes the
    durations of the initial stock.
    """
    p = tables.p_exit[regime, state, :, :, 0]               # (D, C)
    d_idx = np.minimum(np.arange(months), p.shape[0] - 1)
    stay = 1.0 - p[d_idx].T                                  # (C, months)
    surv = np.ones((N_CELLS, months))
    surv[:, 1:] = np.cumprod(stay[:, :-1], axis=1)
    for c in range(N_CELLS):
        limit = tables.rules[regime, state, c, R_LIMIT]
        if limit >= 0:
            surv[c, limit + 1:] = 0.0
    return surv


def _categorical(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(probs) / probs.sum()
    cdf[-1] = 1.0
    return np.searchsorted(cdf, u, side="right")


def _attributes(seed: int, pid: np.ndarray, state: np.ndarray, data: Data, cells: np.ndarray,
                caseload_dispersion: float):
    """Cells (drawn from the entrant mix where ``cells`` < 0), age and municipality."""
    mix = data.entrant_mix.loc[list(STATES)]
    shares = np.ascontiguousarray(mix[["youth_share", "provider_share", "flag_share"]].to_numpy(float))
    dist_cdf = np.ascontiguousarray(np.cumsum(
        mix[["distance_close", "distance_middle", "distance_far"]].to_numpy(float), axis=1)[:, :2])
    purposes = np.array([_U_YOUTH, _U_PROVIDER, _U_FLAG, _U_DISTANCE, _U_AGE, _U_MUNI], np.int64)
    return draw_attributes(seed, np.ascontiguousarray(pid, np.int64), np.ascontiguousarray(state, np.int8),
                             np.ascontiguousarray(cells, np.int8), shares, dist_cdf, STATE["under_18"],
                             municipality_cdf(data, caseload_dispersion), _POP_MONTH, purposes)


def municipality_index(data: Data, purpose: int) -> np.ndarray:
    """A fixed standard-normal index of each municipality, in code order: a function of the
    municipality's code and ``purpose`` alone (not of the run's seed), so the same municipalities
    stand out in every run. It stands in for differences no stored source gives by municipality
    (FACTS.md §8)."""
    from scipy.special import ndtri
    codes = data.municipalities["code"].to_numpy(np.int64)
    return ndtri(uniform(0, codes, _INDEX_MONTH, purpose))


def _lognormal_weights(z: np.ndarray, sigma: float, base: np.ndarray) -> np.ndarray:
    """``base`` x exp(sigma z), scaled to the same base-weighted mean of 1."""
    w = np.exp(sigma * z)
    return w / np.dot(base / base.sum(), w)


def municipality_exposure(data: Data, dispersion: float) -> np.ndarray:
    """Each municipality's exposure to an inflow shock (A-35): exp(dispersion x z), z a fixed
    index (:func:`municipality_index`), with a population-weighted mean of 1, so that a shock of
    multiplier k everywhere raises national inflows by about k. (P,)"""
    pop = data.municipalities["population"].to_numpy(float)
    return _lognormal_weights(municipality_index(data, _U_EXPOSURE), dispersion, pop)


def municipality_cdf(data: Data, caseload_dispersion: float = 0.0) -> np.ndarray:
    """Cumulative shares of the municipalities by state, in code order (each row's last exactly
    1): (S, P). The sick are drawn by population (A-36: sickness spells follow employment, which
    follows population); everyone else by population x exp(caseload_dispersion x z'), z' a fixed
    index (:func:`municipality_index`), so that caseloads per inhabitant differ between
    municipalities by a stated, sweepable amount."""
    if len(data.municipalities) != N_MUNICIPALITIES:
        raise InputError(f"{data.directory / 'municipalities.csv'}: {len(data.municipalities)} municipalities, "
                         f"not {N_MUNICIPALITIES}")
    pop = data.municipalities["population"].to_numpy(float)
    spread = pop * _lognormal_weights(municipality_index(data, _U_CASELOAD), caseload_dispersion, pop)
    rows = [pop if s in SICK_STATES else spread for s in range(len(STATES))]
    return np.ascontiguousarray(np.stack([_cdf(w) for w in rows]))


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights) / weights.sum()
    cdf[-1] = 1.0
    return np.ascontiguousarray(cdf)


def _population_cdf(municipalities: pd.DataFrame) -> np.ndarray:
    return _cdf(municipalities["population"].to_numpy(float))


def inflow_per_month(data: Data, state: str) -> float:
    """New spells from outside per month (persons), from the calibration (data/calibrated.csv)."""
    return float(data.calibrated.get(f"inflow.{state}", 0.0))


def initial_stock(data: Data, state: str) -> float:
    """Persons in ``state`` in the first month who started before it (data/calibrated.csv)."""
    return float(data.calibrated.get(f"stock0.{state}", 0.0))


def _counts(total: float, n: int) -> np.ndarray:
    """Integer counts per month whose running sum tracks ``total`` per month exactly."""
    cum = np.floor(total * np.arange(n + 1) + 0.5).astype(np.int64)
    return np.diff(cum)


def synthetic(data: Data, tables: Tables, n_months: int, seed: int = 1, scale: float = 1.0,
              caseload_dispersion: float | None = None) -> Population:
    """Build the synthetic population: stock in month 0 and inflows for ``n_months`` months.

    Parameters
    ----------
    data, tables : the loaded data and the baseline's tables (they shape the stock's durations)
    n_months : horizon length in months
    seed : seed of every draw
    scale : share of persons kept (0 < scale <= 1); each kept person weighs 1/scale
    caseload_dispersion : ``population.caseload_dispersion`` (default: data/parameters.csv's)

    Returns
    -------
    Population sorted by entry month; person ids do not depend on ``scale``.
    """
    if not 0 < scale <= 1:
        raise InputError(f"--scale {scale}: must be within (0, 1]")
    if not data.calibrated:
        raise InputError(f"{data.directory / 'calibrated.csv'}: missing; run 'reformsim calibrate --write'")
    # the stock in the first month, by state, cell and months already spent
    stock = []
    next_id = 0
    for s, name in enumerate(STATES):
        n_stock = int(round(initial_stock(data, name)))
        if n_stock == 0:
            continue
        surv = survival(tables, s)                       # (C, T)
        mass = cell_weights(data, name)[:, None] * surv
        mass[:, 0] = 0.0                                 # the stock has started before month 0
        pid = np.arange(next_id, next_id + n_stock, dtype=np.int64)
        next_id += n_stock
        k = _categorical(uniform(seed, pid, _POP_MONTH, _U_DUR), mass.ravel())
        cells, dur = k // surv.shape[1], k % surv.shape[1]
        prior = int(tables.rules[0, STATE["sick"], :, R_LIMIT].max()) + 1 if name == "sick_extended" else 0
        stock.append((pid, s, dur, dur + prior, cells))
    # the stock first, then new spells month by month and state by state, built by a compiled
    # parallel loop (sim.population_fill) in the engines' dtypes (9.8 M persons at full scale)
    counts = np.stack([_counts(inflow_per_month(data, name), n_months) for name in STATES], axis=1)
    def column(k, dtype):
        parts = [np.broadcast_to(b[k], b[0].shape) for b in stock]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    pid, entry, state, dur, spell, cells = fill_population(
        np.ascontiguousarray(counts, np.int64), column(1, np.int8), column(2, np.int16),
        column(3, np.int16), column(4, np.int8))
    if scale < 1:
        keep = np.flatnonzero(uniform(seed, pid, _POP_MONTH, _U_SAMPLE) < scale)
        pid, entry, state, dur, spell, cells = (x[keep] for x in (pid, entry, state, dur, spell, cells))
    if caseload_dispersion is None:
        caseload_dispersion = float(data.params[CASELOAD_DISPERSION])
    cells, age, muni = _attributes(seed, pid, state, data, cells, caseload_dispersion)
    weight = np.full(pid.size, int(round(WEIGHT_UNIT / scale)), np.int64)
    return Population(person_id=pid, entry_month=entry, cell=cells, weight=weight, state=state,
                      months_in_state=dur, months_in_spell=spell, age=age, municipality=muni, scale=scale)


def new_spells(data: Data, state: str, n: int, seed: int) -> Population:
    """``n`` new spells in ``state`` in month 0, each of weight one person, their cells drawn from
    the state's entrant mix (``data/entrant_mix.csv``): the cohorts of the calibration and of the
    replicated evaluations."""
    pid = np.arange(n, dtype=np.int64)
    cells = _categorical(uniform(seed, pid, 0, P_COHORT_CELL), cell_weights(data, state))
    zeros = np.zeros(n, np.int16)
    return Population(pid, np.zeros(n, np.int32), cells.astype(np.int8), np.full(n, WEIGHT_UNIT, np.int64),
                      np.full(n, STATE[state], np.int8), zeros, zeros, zeros, zeros, 1.0)


def _bool_column(df, col, path):
    s = df[col]
    if s.dtype == bool:
        return s.to_numpy()
    if pd.api.types.is_integer_dtype(s) and s.isin([0, 1]).all():
        return s.to_numpy().astype(bool)
    raise InputError(f"{path}: column '{col}' must be boolean (true/false or 0/1), got {s.dtype}")


def from_parquet(path: str | Path, start: int, n_months: int, month_number, scale: float = 1.0,
                 seed: int = 1, municipalities: pd.DataFrame | None = None) -> Population:
    """Load and validate a user population (schema: ``POPULATION_SCHEMA``).

    ``month_number`` converts 'YYYY-MM' to a month number; ``start`` is the horizon's first.
    With ``scale`` < 1 persons are sampled by their own draw and weighted up.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: population file not found")
    try:
        df = pd.read_parquet(path)
    except Exception as exc:
        raise InputError(f"{path}: cannot be read as Parquet ({type(exc).__name__}: {exc})") from None
    required = [k for k, v in POPULATION_SCHEMA.items() if "optional" not in v]
    for col in df.columns:
        if col not in POPULATION_SCHEMA:
            raise InputError(f"{path}: unknown column '{col}'{did_you_mean(col, POPULATION_SCHEMA)}; "
                             f"allowed: {', '.join(POPULATION_SCHEMA)}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}; required: {', '.join(required)} "
                         "(schema in README.md, 'Bring your own population')")
    if len(df) == 0:
        raise InputError(f"{path}: the population is empty")
    if not pd.api.types.is_integer_dtype(df["person_id"]) or (df["person_id"] < 0).any():
        raise InputError(f"{path}: column 'person_id' must be non-negative integers")
    if df["person_id"].duplicated().any():
        dup = df.loc[df["person_id"].duplicated(), "person_id"].iloc[0]
        raise InputError(f"{path}: column 'person_id' has duplicates (e.g. {dup})")
    bad = ~df["state"].isin(STATES)
    if bad.any():
        v = df.loc[bad, "state"].iloc[0]
        raise InputError(f"{path}: column 'state' has unknown value '{v}'{did_you_mean(v, STATES)}; "
                         f"allowed: {', '.join(STATES)}")
    bad = ~df["distance"].isin(DISTANCE_CLASSES)
    if bad.any():
        raise InputError(f"{path}: column 'distance' has value '{df.loc[bad, 'distance'].iloc[0]}'; "
                         f"allowed: {', '.join(DISTANCE_CLASSES)}")
    try:
        entry = np.array([month_number(str(x)) for x in df["entry_month"]]) - start
    except (ValueError, AttributeError):
        raise InputError(f"{path}: column 'entry_month' must be 'YYYY-MM' strings") from None
    if (entry < 0).any() or (entry >= n_months).any():
        raise InputError(f"{path}: column 'entry_month' has months outside the scenario's horizon")
    for col, lo, hi in (("months_in_state", 0, MAX_MONTHS_COUNTED), ("age", 0, 120)):
        if not pd.api.types.is_integer_dtype(df[col]) or (df[col] < lo).any() or (df[col] > hi).any():
            raise InputError(f"{path}: column '{col}' must be integers within [{lo}, {hi}]")
    spell = df["months_in_spell"] if "months_in_spell" in df else df["months_in_state"]
    if not pd.api.types.is_integer_dtype(spell) or (spell > MAX_MONTHS_COUNTED).any():
        raise InputError(f"{path}: column 'months_in_spell' must be integers of at most {MAX_MONTHS_COUNTED}")
    if (spell < df["months_in_state"]).any():
        raise InputError(f"{path}: column 'months_in_spell' must be >= 'months_in_state'")
    codes = municipalities["code"].tolist() if municipalities is not None else []
    index_of = {int(code): i for i, code in enumerate(codes)}
    if "municipality" in df:
        col = df["municipality"]
        unknown = [] if not pd.api.types.is_integer_dtype(col) else [int(x) for x in col if int(x) not in index_of]
        if not pd.api.types.is_integer_dtype(col) or unknown:
            shown = f" (e.g. {unknown[0]})" if unknown else ""
            raise InputError(f"{path}: column 'municipality' must be municipality codes{shown}: the "
                             f"{len(codes)} kommunekoder of data/municipalities.csv, "
                             f"{codes[0] if codes else ''} to {codes[-1] if codes else ''}")
    weight = df["weight"].to_numpy(float) if "weight" in df else np.ones(len(df))
    if not np.isfinite(weight).all() or (weight <= 0).any():
        raise InputError(f"{path}: column 'weight' must be positive numbers")
    state = df["state"].map(STATE).to_numpy()
    sick = np.isin(state, SICK_STATES)
    flag = np.where(sick, _bool_column(df, "sick_from_job", path), _bool_column(df, "insured", path))
    youth = (df["age"].to_numpy() < 30).astype(np.int64)
    distance = df["distance"].map({k: i for i, k in enumerate(DISTANCE_CLASSES)}).to_numpy()
    cells = cell_code(youth, distance, _bool_column(df, "provider", path).astype(np.int64), flag.astype(np.int64))
    pid = df["person_id"].to_numpy(np.int64)
    keep = uniform(seed, pid, _POP_MONTH, _U_SAMPLE) < scale if scale < 1 else np.ones(pid.size, bool)
    order = np.argsort(entry[keep], kind="stable")
    if "municipality" in df:
        muni = df["municipality"].map(index_of).to_numpy(np.int64)
    elif municipalities is not None:            # none given: drawn by population, as the synthetic
        muni = np.searchsorted(_population_cdf(municipalities), uniform(seed, pid, _POP_MONTH, _U_MUNI), side="right")
    else:
        muni = np.zeros(len(df), np.int64)
    return Population(
        person_id=np.ascontiguousarray(pid[keep][order]),
        entry_month=np.ascontiguousarray(entry[keep][order].astype(np.int32)),
        cell=np.ascontiguousarray(cells[keep][order].astype(np.int8)),
        weight=np.ascontiguousarray(np.round(weight[keep][order] * WEIGHT_UNIT / scale).astype(np.int64)),
        state=np.ascontiguousarray(state[keep][order].astype(np.int8)),
        months_in_state=np.ascontiguousarray(df["months_in_state"].to_numpy()[keep][order].astype(np.int16)),
        months_in_spell=np.ascontiguousarray(spell.to_numpy()[keep][order].astype(np.int16)),
        age=df["age"].to_numpy()[keep][order].astype(np.int16),
        municipality=muni[keep][order].astype(np.int16), scale=scale)


#: persons an inflow multiplier may add per new spell (a multiplier up to this plus one)
MAX_COPIES = 15
#: person ids of added copies start here: copy j of person i is COPY_ID_FROM + i * 16 + j
COPY_ID_FROM = 2**40


def with_inflows(population: Population, scenario, seed: int) -> Population:
    """The population with the scenario's ``[[inflow]]`` multipliers applied to new spells.

    A new spell (months in state 0) that starts in a multiplier's months, in one of its states and
    municipalities, is multiplied by ``1 + (multiplier - 1) x exposure`` (exposure 1 where the
    shock is not ``exposed``; :func:`municipality_exposure` otherwise; several multipliers
    multiply). Below 1, the spell is kept with that probability; above 1, it is kept and copied:
    ``floor(k - 1)`` copies and one more with probability ``k - 1 - floor(k - 1)``. A copy has the
    spell's attributes and weight and its own person id (``COPY_ID_FROM + id x 16 + j``), so its
    draws are its own, and every person of the population is simulated with the same draws as
    without the multiplier (common random numbers). The population itself where the scenario has
    no multipliers. Computed once per population, shocks, exposure and seed.
    """
    if not scenario.inflows:
        return population
    dispersion = float(scenario.params_at(0)[EXPOSURE])
    key = (tuple(scenario.inflows), dispersion, seed)
    if key not in population.with_shocks:
        population.with_shocks[key] = _multiplied(population, scenario, dispersion, seed)
    return population.with_shocks[key]


def _multiplied(population: Population, scenario, dispersion: float, seed: int) -> Population:
    """:func:`with_inflows` computed."""
    exposure = municipality_exposure(scenario.data, dispersion)
    muni = population.municipality.astype(np.int64)
    new = population.months_in_state == 0
    month = scenario.start + population.entry_month.astype(np.int64)
    factor = np.ones(len(population))
    for shock in scenario.inflows:
        sel = new & (month >= shock.first) & (month <= shock.last) & np.isin(population.state, shock.states)
        if shock.places is not None:
            sel &= np.isin(muni, shock.places)
        scale = exposure[muni[sel]] if shock.exposed else 1.0
        factor[sel] *= np.maximum(1.0 + (shock.multiplier - 1.0) * scale, 0.0)
    if factor.max() > MAX_COPIES + 1:
        raise InputError(f"{scenario.files[-1]}: [[inflow]] multipliers reach {factor.max():.3g} for some "
                         f"municipality; allowed: at most {MAX_COPIES + 1} (lower the multiplier or "
                         f"{EXPOSURE})")
    pid = population.person_id
    if pid.max(initial=0) >= (2**63 - COPY_ID_FROM) // 16:
        raise InputError(f"person ids up to {pid.max()}: an [[inflow]] multiplier needs ids below "
                         f"{(2**63 - COPY_ID_FROM) // 16} to number the added persons")
    keep = (factor >= 1.0) | (uniform(seed, pid, _POP_MONTH, _U_INFLOW_KEEP) < factor)
    extra = np.maximum(factor - 1.0, 0.0)
    copies = np.floor(extra).astype(np.int64)
    copies += uniform(seed, pid, _POP_MONTH, _U_INFLOW_EXTRA) < extra - copies
    source = np.repeat(np.arange(len(population)), copies)
    j = np.arange(source.size) - np.repeat(np.cumsum(copies) - copies, copies)
    copy_id = COPY_ID_FROM + pid[source] * 16 + j
    if np.isin(copy_id, pid).any():
        raise InputError("person ids of the population collide with the ids of persons added by an "
                         f"[[inflow]] multiplier (from {COPY_ID_FROM}); use smaller ids")
    rows = np.concatenate([np.flatnonzero(keep), source])
    order = np.argsort(population.entry_month[rows], kind="stable")
    rows = rows[order]
    ids = np.concatenate([pid[keep], copy_id])[order]
    fields = {f: getattr(population, f)[rows] for f in ("entry_month", "cell", "weight", "state",
                                                         "months_in_state", "months_in_spell", "age",
                                                         "municipality")}
    return Population(person_id=np.ascontiguousarray(ids), scale=population.scale,
                      **{k: np.ascontiguousarray(v) for k, v in fields.items()})
