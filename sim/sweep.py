"""Parameter sweeps and uncertainty bands: many comparisons of one baseline and one reform.

A sweep file (TOML, e.g. ``configs/sweeps/example.toml``) names a baseline, a reform, a scale,
replicate seeds, and the parameters to vary: a ``[grid]`` (every combination of the listed values)
and/or ``[[draw]]`` entries (Monte Carlo draws from a distribution). Each run is one
:func:`sim.comparison.compare` of the baseline and the reform at one parameter point and one seed,
with common random numbers inside the run. Runs go to a Dask cluster (a local one on this
machine's cores, or an existing one by address); each finished run is written at once to its own
Parquet file, so an interrupted sweep resumes where it stopped.

Which scenario a varied parameter changes
-----------------------------------------
- A parameter the reform sets itself (beyond its baseline) is a lever of the reform: the sweep
  replaces the value of each of the reform's own changes of it (keeping their start months).
- ``rules.*`` parameters the reform does not set, and ``effort.priority`` (the rationing rule of a
  budget-constrained reform), change the reform only; a ``rules.*`` value applies from the first
  month of the reform's own changes (the horizon start if it has none).
- Every other parameter (``behaviour.*``, ``hazard.*``, ``destination.*``, ``money.*``) describes
  the world: it changes the baseline and the reform alike from the horizon start, so that each
  draw is one consistent world.

Run ids and resuming
--------------------
A run's id is a hash of everything that determines its result: the contents of the scenario files
and of ``data/``, the scale, engine, breakdown flag, seed and parameter values. ``DIR/runs/`` holds
one ``run-<id>.parquet`` per finished run (failed runs included, with ``status = "failed"`` and the
error). A later call with the same ``--out`` computes only the runs of the current design whose
files are missing. If the sweep file changed, unchanged runs are reused and changed ones are new
runs; files of runs no longer in the design stay in ``runs/`` but are left out of the results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import resource
import socket
import time
import tomllib
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, did_you_mean
from .parameters import SCHEDULE_UNIT, is_probability_unit, load_data
from .scenario import PRIORITIES, Scenario, load_scenario, month_label, parameter_unit

#: the special parameter that varies the rationing rule of a budget-constrained reform
PRIORITY = "effort.priority"
#: measures with uncertainty bands, and their units
MEASURES = {"savings_bn": "bn DKK per year", "employment_delta": "full-time persons",
            "net_effect_bn": "bn DKK per year"}
#: result columns of a run, by year
RESULT_COLUMNS = ("savings_bn", "bottom_up_bn", "employment_delta", "net_effect_bn", "derived_effects_bn")
ENGINES = ("numba", "numpy")
TOP_KEYS = ("description", "baseline", "reform", "scale", "engine", "seeds", "replicates", "base_seed",
            "breakdown", "grid", "draw", "n_draws", "draw_seed", "max_runs")
#: distribution -> (required arguments, optional arguments)
DISTRIBUTIONS = {"uniform": (("low", "high"), ()),
                 "normal": (("mean", "sd"), ("low", "high")),
                 "triangular": (("low", "mode", "high"), ()),
                 "choice": (("values",), ("weights",))}
DRAW_KEYS = ("parameter", "distribution", "source")
DEFAULT_MAX_RUNS = 1000


@dataclass(frozen=True)
class Run:
    """One comparison of a sweep: a parameter point and a seed."""

    run_id: str
    variant: str     # the combination of reform levers varied (the reform's name if none)
    draw: int        # index of the world (the values of the world parameters), shared by variants
    seed: int
    values: dict     # parameter -> value (float, str, or list of int months)


@dataclass
class Sweep:
    """A validated sweep: its inputs and every run of its design."""

    path: Path
    sha256: str
    description: str
    baseline: str            # name or path to pass to load_scenario
    reform: str
    scale: float
    engine: str
    breakdown: bool
    seeds: list[int]
    roles: dict[str, str]    # parameter -> 'reform' or 'world'
    inputs_sha256: str
    runs: list[Run] = field(default_factory=list)

    @property
    def n_draws(self) -> int:
        return len({r.draw for r in self.runs})

    @property
    def variants(self) -> list[str]:
        return list(dict.fromkeys(r.variant for r in self.runs))

    def task(self, run: Run) -> dict:
        """The plain parameters a worker needs for ``run`` (no Scenario objects)."""
        return {"run_id": run.run_id, "variant": run.variant, "draw": run.draw, "seed": run.seed,
                "values": dict(run.values), "baseline": self.baseline, "reform": self.reform,
                "scale": self.scale, "engine": self.engine, "breakdown": self.breakdown,
                "inputs_sha256": self.inputs_sha256}


# --- reading and validating a sweep file ---------------------------------------------------------

def _flatten(table: dict, prefix: str = "") -> dict:
    """``{"behaviour": {"meeting_effect": [..]}}`` -> ``{"behaviour.meeting_effect": [..]}``, so that
    dotted names work quoted or bare in TOML."""
    out = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _scenario_ref(path: Path, text: str) -> str:
    """A scenario name, or a path relative to the sweep file's folder."""
    if Path(text).suffix:
        p = Path(text)
        return str(p if p.is_absolute() else (path.parent / p).resolve())
    return text


def files_sha256(baseline: Scenario, reform: Scenario) -> str:
    """Hash of the scenario files of both scenarios and of every file in ``data/``."""
    h = hashlib.sha256()
    files = list(dict.fromkeys([p.resolve() for p in baseline.files + reform.files]))
    data_dir = Path(baseline.data.directory)
    files += sorted(p for p in data_dir.iterdir() if p.is_file() and p.suffix == ".csv")
    for p in files:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def parameter_roles(baseline: Scenario, reform: Scenario, names) -> dict[str, str]:
    """``'reform'`` for a parameter that changes the reform only, ``'world'`` for one that changes
    both scenarios (see the module docstring)."""
    own = {ch.parameter for ch in reform.changes if ch not in set(baseline.changes)}
    return {n: "reform" if (n == PRIORITY or n in own or n.startswith("rules.")) else "world"
            for n in names}


def apply_values(baseline: Scenario, reform: Scenario, values: dict) -> tuple[Scenario, Scenario]:
    """The baseline and the reform with a sweep's parameter values applied.

    Parameters
    ----------
    baseline, reform : loaded scenarios
    values : parameter -> value (a number in the parameter's unit, a list of int months for a
        schedule, or a priority rule name for ``effort.priority``)
    """
    base_set = set(baseline.changes)
    own_idx = [k for k, ch in enumerate(reform.changes) if ch not in base_set]
    own_names = {reform.changes[k].parameter for k in own_idx}
    reform_start = min((reform.changes[k].month for k in own_idx), default=reform.start)
    roles = parameter_roles(baseline, reform, values)
    changes = list(reform.changes)
    for k in own_idx:
        name, source = changes[k].parameter, changes[k].source
        if name in values and name in own_names:
            changes[k] = dataclasses.replace(changes[k], value=_as_value(values[name]),
                                             source=f"{source} (value varied by a sweep)")
    reform = dataclasses.replace(reform, changes=changes)
    if PRIORITY in values:
        reform = dataclasses.replace(reform, priority=values[PRIORITY])
    world = {n: _as_value(v) for n, v in values.items() if roles[n] == "world"}
    if world:
        baseline, reform = (_without(baseline, world), _without(reform, world))
        baseline = baseline.with_changes(world, source="sweep: world", provision="sweep: world",
                                         name=baseline.name)
        reform = reform.with_changes(world, source="sweep: world", provision="sweep: world",
                                     name=reform.name)
    for n, v in values.items():
        if roles[n] == "reform" and n != PRIORITY and n not in own_names:
            reform = reform.with_changes({n: _as_value(v)}, start=month_label(reform_start),
                                         source="sweep", provision=f"sweep: {n}", name=reform.name)
    return baseline, reform


def _as_value(v):
    return tuple(v) if isinstance(v, list) else v


def _without(scenario: Scenario, names) -> Scenario:
    """``scenario`` without its changes of ``names`` (a sweep's world value replaces them)."""
    return dataclasses.replace(scenario, changes=[ch for ch in scenario.changes if ch.parameter not in names])


def _check_value(where: str, name: str, raw, data, unit: str | None):
    """A valid value of ``name`` or InputError; numbers as float, schedules as a list of int."""
    if name == PRIORITY:
        if raw not in PRIORITIES:
            raise InputError(f"{where} = {raw!r}: '{PRIORITY}' takes a priority rule"
                             f"{did_you_mean(str(raw), PRIORITIES)}; allowed: {', '.join(PRIORITIES)}")
        return raw
    if unit == SCHEDULE_UNIT:
        if not (isinstance(raw, list) and all(_is_int(v) for v in raw)) or raw != sorted(set(raw)) \
                or any(v < 0 for v in raw):
            raise InputError(f"{where} = {raw!r}: '{name}' takes a schedule: a list of increasing "
                             "spell months (integers >= 0) without repeats")
        return list(raw)
    if not _is_number(raw):
        raise InputError(f"{where} = {raw!r}: '{name}' takes a number ({unit})")
    value = float(raw)
    if is_probability_unit(unit) and not 0 <= value <= 1:
        raise InputError(f"{where} = {value}: '{name}' is a probability or share and must be within "
                         f"[0, 1] (unit: {unit})")
    return value


def _unit(where: str, name: str, data) -> str | None:
    if name == PRIORITY:
        return None
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}: a parameter name must be a non-empty string")
    try:
        return parameter_unit(name, data)
    except KeyError:
        choices = list(data.params) + [PRIORITY]
        raise InputError(f"{where} '{name}' is not a parameter{did_you_mean(name, choices)}; "
                         f"allowed: the names in data/parameters.csv (behaviour.*, hazard.*, "
                         f"destination.*, rules.*, money.*) and '{PRIORITY}'") from None


def _draw_values(where: str, entry: dict, n: int, draw_seed: int, unit, data) -> list:
    """``n`` values of one ``[[draw]]`` entry, validated (its own stream: ``draw_seed`` and the
    parameter name, so adding an entry does not change the others' values)."""
    name = entry["parameter"]
    dist = entry.get("distribution")
    if dist not in DISTRIBUTIONS:
        raise InputError(f"{where}.distribution = {dist!r} is not a distribution"
                         f"{did_you_mean(str(dist), DISTRIBUTIONS)}; allowed: {', '.join(DISTRIBUTIONS)}")
    required, optional = DISTRIBUTIONS[dist]
    allowed = DRAW_KEYS + required + optional
    for key in entry:
        if key not in allowed:
            raise InputError(f"{where}: unknown key '{key}'{did_you_mean(key, allowed)} for a "
                             f"'{dist}' draw; allowed: {', '.join(allowed)}")
    for key in required:
        if key not in entry:
            raise InputError(f"{where}: a '{dist}' draw needs '{key}' (keys: {', '.join(required)})")
    if dist != "choice":
        for key in required + optional:
            if key in entry and not _is_number(entry[key]):
                raise InputError(f"{where}.{key} = {entry[key]!r} must be a number")
    if (name == PRIORITY or unit == SCHEDULE_UNIT) and dist != "choice":
        raise InputError(f"{where}.distribution = '{dist}': '{name}' takes "
                         f"{'a priority rule' if name == PRIORITY else 'a schedule'}; only "
                         "distribution = 'choice' can draw it")
    rng = np.random.default_rng([draw_seed, zlib.crc32(name.encode())])
    probability = unit is not None and unit != SCHEDULE_UNIT and is_probability_unit(unit)
    if dist == "uniform":
        low, high = float(entry["low"]), float(entry["high"])
        if not low < high:
            raise InputError(f"{where}: low = {low} must be below high = {high}")
        bounds = (low, high)
        raw = rng.uniform(low, high, n)
    elif dist == "triangular":
        low, mode, high = (float(entry[k]) for k in ("low", "mode", "high"))
        if not (low <= mode <= high and low < high):
            raise InputError(f"{where}: needs low <= mode <= high and low < high "
                             f"(now {low}, {mode}, {high})")
        bounds = (low, high)
        raw = rng.triangular(low, mode, high, n)
    elif dist == "normal":
        mean, sd = float(entry["mean"]), float(entry["sd"])
        if not sd > 0:
            raise InputError(f"{where}.sd = {sd} must be positive")
        low, high = float(entry.get("low", -math.inf)), float(entry.get("high", math.inf))
        if not low < high:
            raise InputError(f"{where}: low = {low} must be below high = {high}")
        if probability and not (0 <= low and high <= 1):
            raise InputError(f"{where}: '{name}' is a probability or share (unit: {unit}); a normal "
                             "draw of it needs truncation bounds low and high within [0, 1]")
        from scipy.stats import truncnorm
        a, b = (low - mean) / sd, (high - mean) / sd
        raw = truncnorm.ppf(rng.uniform(size=n), a, b, loc=mean, scale=sd)
        bounds = (low, high)
    else:
        values = entry["values"]
        if not isinstance(values, list) or not values:
            raise InputError(f"{where}.values must be a non-empty list")
        weights = entry.get("weights")
        p = None
        if weights is not None:
            if not (isinstance(weights, list) and len(weights) == len(values)
                    and all(_is_number(w) and w >= 0 for w in weights) and sum(weights) > 0):
                raise InputError(f"{where}.weights must be {len(values)} non-negative numbers, "
                                 "not all zero (one per value)")
            p = np.asarray(weights, dtype=float) / sum(weights)
        checked = [_check_value(f"{where}.values[{i}]", name, v, data, unit) for i, v in enumerate(values)]
        pick = rng.choice(len(checked), size=n, p=p)
        return [checked[i] for i in pick]
    if probability and not (0 <= bounds[0] and bounds[1] <= 1):
        raise InputError(f"{where}: '{name}' is a probability or share (unit: {unit}); the range "
                         f"[{bounds[0]}, {bounds[1]}] must lie within [0, 1]")
    return [_check_value(f"{where} draw {i}", name, float(v), data, unit) for i, v in enumerate(raw)]


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{path}: sweep file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


def load_sweep(path_or_spec, data=None) -> Sweep:
    """Read and validate a sweep file (or a dict with the same keys) and build its design.

    Everything is checked before any run starts: keys, scenarios, seeds, parameter names (with
    the nearest valid name), every value of the grid and every draw, distributions and their
    arguments, probabilities in [0, 1], and the number of runs against ``max_runs``.

    Raises
    ------
    InputError
        With the sweep file, the key and what is allowed.
    """
    if isinstance(path_or_spec, dict):
        raw = path_or_spec
        text = json.dumps(raw, sort_keys=True, default=str).encode()
        path = Path("<sweep>")
    else:
        path = Path(path_or_spec)
        raw = _read(path)
        text = path.read_bytes()
    sha = hashlib.sha256(text).hexdigest()
    for key in raw:
        if key not in TOP_KEYS:
            raise InputError(f"{path}: unknown key '{key}'{did_you_mean(key, TOP_KEYS)}; "
                             f"allowed: {', '.join(TOP_KEYS)}")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise InputError(f"{path}: key 'description' is missing or empty: say what the sweep studies")
    for key in ("baseline", "reform"):
        if key in raw and not (isinstance(raw[key], str) and raw[key]):
            raise InputError(f"{path}: key '{key}' = {raw[key]!r} must be a scenario name or a path")
    if "reform" not in raw:
        raise InputError(f"{path}: required key 'reform' is missing (a scenario name in configs/ or a path)")
    scale = raw.get("scale", 1.0)
    if not _is_number(scale) or not 0 < scale <= 1:
        raise InputError(f"{path}: key 'scale' = {scale!r} must be a number within (0, 1]")
    engine = raw.get("engine", "numba")
    if engine not in ENGINES:
        raise InputError(f"{path}: key 'engine' = {engine!r}; allowed: {', '.join(ENGINES)}")
    breakdown = raw.get("breakdown", False)
    if not isinstance(breakdown, bool):
        raise InputError(f"{path}: key 'breakdown' = {breakdown!r} must be true or false")
    max_runs = raw.get("max_runs", DEFAULT_MAX_RUNS)
    if not _is_int(max_runs) or max_runs < 1:
        raise InputError(f"{path}: key 'max_runs' = {max_runs!r} must be a positive integer")
    seeds = _seeds(path, raw)

    data = data or load_data()
    refs = {}
    for key, default in (("baseline", "baseline"), ("reform", None)):
        refs[key] = _scenario_ref(path, raw.get(key, default))
    try:
        baseline = load_scenario(refs["baseline"], data)
    except InputError as exc:
        raise InputError(f"{path}: key 'baseline' = '{raw.get('baseline', 'baseline')}': {exc}") from None
    try:
        reform = load_scenario(refs["reform"], data)
    except InputError as exc:
        raise InputError(f"{path}: key 'reform' = '{raw['reform']}': {exc}") from None
    if (baseline.start, baseline.n_months) != (reform.start, reform.n_months):
        raise InputError(f"{path}: key 'reform' = '{raw['reform']}' runs {reform.months[0]} to "
                         f"{reform.months[-1]}, the baseline {baseline.months[0]} to "
                         f"{baseline.months[-1]}; they must have the same horizon")

    grid = _grid(path, raw, data)
    draws = _draws(path, raw, data)
    names = list(grid) + list(draws)
    if PRIORITY in names and reform.effort_mode != "budget_constrained":
        raise InputError(f"{path}: '{PRIORITY}' varies the rationing rule, but reform '{reform.name}' is "
                         f"'{reform.effort_mode}'; allowed only for a reform with [effort] mode = "
                         "'budget_constrained'")
    roles = parameter_roles(baseline, reform, names)

    n_points = math.prod(len(v) for v in grid.values()) * (len(next(iter(draws.values()))) if draws else 1)
    n_runs = n_points * len(seeds)
    if n_runs > max_runs:
        sizes = " x ".join([f"{len(v)} ({n})" for n, v in grid.items()]
                           + ([f"{raw['n_draws']} draws"] if draws else []) + [f"{len(seeds)} seeds"])
        raise InputError(f"{path}: the design has {n_runs} runs ({sizes}), more than max_runs = "
                         f"{max_runs}; reduce it or raise key 'max_runs'")

    inputs = files_sha256(baseline, reform)
    sweep = Sweep(path=path, sha256=sha, description=" ".join(description.split()),
                  baseline=refs["baseline"], reform=refs["reform"], scale=float(scale), engine=engine,
                  breakdown=breakdown, seeds=seeds, roles=roles, inputs_sha256=inputs)
    sweep.runs = _design(sweep, reform.name, grid, draws)
    return sweep


def _seeds(path: Path, raw: dict) -> list[int]:
    if "seeds" in raw and "replicates" in raw:
        raise InputError(f"{path}: keys 'seeds' and 'replicates' exclude each other: give a list of "
                         "seeds, or a count of replicates (with 'base_seed')")
    if "base_seed" in raw and "replicates" not in raw:
        raise InputError(f"{path}: key 'base_seed' goes with 'replicates'")
    if "replicates" in raw:
        n, base = raw["replicates"], raw.get("base_seed", 1)
        if not _is_int(n) or n < 1:
            raise InputError(f"{path}: key 'replicates' = {n!r} must be a positive integer")
        if not _is_int(base) or not 0 <= base < 2**63 - n:
            raise InputError(f"{path}: key 'base_seed' = {base!r} must be a non-negative integer")
        return list(range(base, base + n))
    seeds = raw.get("seeds", [1])
    if not isinstance(seeds, list) or not seeds:
        raise InputError(f"{path}: key 'seeds' = {seeds!r} must be a non-empty list of integers")
    for s in seeds:
        if not _is_int(s) or not 0 <= s < 2**63:
            raise InputError(f"{path}: key 'seeds' has {s!r}; seeds are integers from 0 to 2^63 - 1")
    if len(set(seeds)) != len(seeds):
        raise InputError(f"{path}: key 'seeds' repeats a seed: {seeds}")
    return list(seeds)


def _grid(path: Path, raw: dict, data) -> dict[str, list]:
    if "grid" not in raw:
        return {}
    if not isinstance(raw["grid"], dict):
        raise InputError(f"{path}: key 'grid' must be a table of parameter = [values]")
    grid = _flatten(raw["grid"])
    if not grid:
        raise InputError(f"{path}: key 'grid' is empty; give at least one parameter with a list of "
                         "values, e.g. \"behaviour.meeting_effect\" = [0.05, 0.10, 0.15], or leave [grid] out")
    out = {}
    for name, values in grid.items():
        where = f"{path}: grid.'{name}'"
        unit = _unit(f"{path}: grid key", name, data)
        if not isinstance(values, list) or not values:
            raise InputError(f"{where} = {values!r} must be a non-empty list of values")
        checked = [_check_value(f"{where}[{i}]", name, v, data, unit) for i, v in enumerate(values)]
        if len({json.dumps(v) for v in checked}) != len(checked):
            raise InputError(f"{where} = {values!r} repeats a value")
        out[name] = checked
    return out


def _draws(path: Path, raw: dict, data) -> dict[str, list]:
    entries = raw.get("draw")
    if entries is None:
        for key in ("n_draws", "draw_seed"):
            if key in raw:
                raise InputError(f"{path}: key '{key}' needs at least one [[draw]] entry")
        return {}
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise InputError(f"{path}: key 'draw' must be one or more [[draw]] tables")
    n = raw.get("n_draws")
    if not _is_int(n) or n < 1:
        raise InputError(f"{path}: key 'n_draws' = {n!r}: [[draw]] needs the number of Monte Carlo "
                         "draws, a positive integer")
    draw_seed = raw.get("draw_seed", 1)
    if not _is_int(draw_seed) or draw_seed < 0:
        raise InputError(f"{path}: key 'draw_seed' = {draw_seed!r} must be a non-negative integer")
    grid_names = set(_flatten(raw.get("grid", {}))) if isinstance(raw.get("grid"), dict) else set()
    out = {}
    for i, entry in enumerate(entries):
        where = f"{path}: draw[{i}]"
        name = entry.get("parameter")
        if name is None:
            raise InputError(f"{where}: required key 'parameter' is missing")
        unit = _unit(f"{where}.parameter =", name, data)
        if name in out or name in grid_names:
            raise InputError(f"{where}.parameter = '{name}' is varied twice (in [grid] or another [[draw]])")
        out[name] = _draw_values(where, entry, n, draw_seed, unit, data)
    return out


def _variant_label(reform_name: str, values: dict) -> str:
    if not values:
        return reform_name
    return "; ".join(f"{n}={_text(v)}" for n, v in values.items())


def _text(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return json.dumps(v) if isinstance(v, list) else str(v)


def run_id(sweep: Sweep, values: dict, seed: int) -> str:
    """A stable id: a hash of the inputs, the run settings, the parameter values and the seed."""
    key = json.dumps({"inputs": sweep.inputs_sha256, "baseline": sweep.baseline, "reform": sweep.reform,
                      "scale": sweep.scale, "engine": sweep.engine, "breakdown": sweep.breakdown,
                      "seed": seed, "values": values}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _design(sweep: Sweep, reform_name: str, grid: dict, draws: dict) -> list[Run]:
    """Every run: grid points x draws x seeds. The grid's reform levers make the variants; the
    world parameters (grid or draws) make the draws, numbered alike in every variant."""
    import itertools
    lever_names = [n for n in grid if sweep.roles[n] == "reform"]
    world_grid = [n for n in grid if sweep.roles[n] == "world"]
    n_draw = len(next(iter(draws.values()))) if draws else 1
    worlds = []
    for combo in itertools.product(*(grid[n] for n in world_grid)):
        for d in range(n_draw):
            w = dict(zip(world_grid, combo))
            w.update({n: v[d] for n, v in draws.items()})
            worlds.append(w)
    runs = []
    for lever in itertools.product(*(grid[n] for n in lever_names)):
        levers = dict(zip(lever_names, lever))
        variant = _variant_label(reform_name, levers)
        for k, world in enumerate(worlds):
            values = {**levers, **world}
            for seed in sweep.seeds:
                runs.append(Run(run_id(sweep, values, seed), variant, k, seed, values))
    return runs


# --- one run ---------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _scenarios(baseline_ref: str, reform_ref: str, inputs_sha256: str) -> tuple[Scenario, Scenario]:
    data = load_data()
    baseline = load_scenario(baseline_ref, data)
    reform = load_scenario(reform_ref, baseline.data)
    if files_sha256(baseline, reform) != inputs_sha256:
        raise InputError("the scenario files or data/ where this run ran differ from those the sweep "
                         "was set up with (a worker with another checkout?)")
    return baseline, reform


def _param_columns(values: dict) -> dict:
    return {n: (json.dumps(v) if isinstance(v, list) else v) for n, v in values.items()}


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB; ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _failed_rows(task: dict, error: str) -> list[dict]:
    head = {"run_id": task["run_id"], "variant": task["variant"], "draw": task["draw"],
            "seed": task["seed"], **_param_columns(task["values"])}
    return [{**head, "year": None, **{c: math.nan for c in RESULT_COLUMNS},
             "status": "failed", "error": error}]


def run_task(task: dict) -> pd.DataFrame:
    """Run one comparison from plain parameters (see :meth:`Sweep.task`) and return its tidy table.

    Returns
    -------
    DataFrame
        One row per year: run_id, variant, draw, seed, the varied parameters, year, savings_bn,
        bottom_up_bn, derived_effects_bn and net_effect_bn (bn DKK; savings and net effect positive
        when the public finances gain), employment_delta (full-time persons, reform minus
        baseline), status ('ok' or 'failed'), error, wall_s (s), peak_rss_mb (MB, this worker's
        peak so far) and worker (host:pid). A run that raises gives one row with status 'failed'.
    """
    from .comparison import compare
    from .summary import comparison_summary as summary
    t0 = time.perf_counter()
    try:
        baseline, reform = _scenarios(task["baseline"], task["reform"], task["inputs_sha256"])
        baseline, reform = apply_values(baseline, reform, task["values"])
        comp = compare(baseline, reform, seed=task["seed"], engine=task["engine"], scale=task["scale"],
                       breakdown=task["breakdown"])
        s = summary(comp)
        head = {"run_id": task["run_id"], "variant": task["variant"], "draw": task["draw"],
                "seed": task["seed"], **_param_columns(task["values"])}
        rows = []
        for y in (str(y) for y in comp.years):
            row = {**head, "year": int(y),
                   "savings_bn": s["budget.savings_bn"][y],
                   "bottom_up_bn": s["budget.bottom_up_process_savings_bn"][y],
                   "employment_delta": s["employment.fulltime_persons_delta"][y],
                   "net_effect_bn": s["public_finances.net_effect_bn"][y],
                   "derived_effects_bn": s["budget.savings_by_line_bn"]["derived_effects"][y],
                   "status": "ok", "error": ""}
            for prov, by_year in s["budget.bottom_up_by_provision_bn"].items() if task["breakdown"] else ():
                row[f"bottom_up_bn:{prov}"] = by_year[y]
            rows.append(row)
    except Exception as exc:  # a failed run is recorded; the others go on
        rows = _failed_rows(task, " ".join(f"{type(exc).__name__}: {exc}".split()))
    df = pd.DataFrame(rows)
    df["year"] = df["year"].astype("Int64")
    df["wall_s"] = time.perf_counter() - t0
    df["peak_rss_mb"] = _peak_rss_mb()
    df["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return df


# --- running a sweep -------------------------------------------------------------------------------

def run_path(out: Path, rid: str) -> Path:
    return out / "runs" / f"run-{rid}.parquet"


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _recorded(out: Path, sweep: Sweep) -> dict[str, str]:
    """Status of each run of the design that has a readable file in ``out/runs``."""
    status = {}
    for run in sweep.runs:
        p = run_path(out, run.run_id)
        if p.exists():
            try:
                status[run.run_id] = str(pd.read_parquet(p, columns=["status"])["status"].iloc[0])
            except Exception:  # unreadable (not written by us): computed again
                continue
    return status


def _prepare(out: Path, sweep: Sweep) -> dict:
    """Create ``out`` and ``out/runs``; read the earlier sweep.json if there is one."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    meta = out / "sweep.json"
    earlier = {}
    if meta.exists():
        try:
            earlier = json.loads(meta.read_text())
        except (OSError, json.JSONDecodeError):
            raise InputError(f"--out {out}: sweep.json cannot be read; give another --out") from None
    elif out.exists() and any(p.name != "runs" for p in out.iterdir()):
        raise InputError(f"--out {out}: the directory holds other files and no sweep.json; "
                         "give a new or empty directory (or one an earlier sweep wrote)")
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the output directory ({exc.strerror})") from None
    for stale in (out / "runs").glob(".run-*.tmp-*"):
        stale.unlink(missing_ok=True)     # a write cut short by an interruption
    return earlier


def _write_meta(out: Path, sweep: Sweep, earlier: dict, history_entry: dict | None) -> None:
    from .report import git_commit, versions
    history = list(earlier.get("history", []))
    if history_entry is not None:
        history.append(history_entry)
    meta = {
        "sweep_file": str(sweep.path), "sweep_sha256": sweep.sha256, "inputs_sha256": sweep.inputs_sha256,
        "description": sweep.description, "baseline": sweep.baseline, "reform": sweep.reform,
        "scale": sweep.scale, "engine": sweep.engine, "breakdown": sweep.breakdown, "seeds": sweep.seeds,
        "parameters": sweep.roles, "variants": sweep.variants, "n_draws": sweep.n_draws,
        "n_runs": len(sweep.runs),
        "runs": [{"run_id": r.run_id, "variant": r.variant, "draw": r.draw, "seed": r.seed,
                  "values": r.values} for r in sweep.runs],
        "history": history, "git_commit": git_commit(), "versions": versions(),
    }
    tmp = out / ".sweep.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, default=str))
    os.replace(tmp, out / "sweep.json")


class _Progress:
    """tqdm bar with done / failed / remaining; silent when stderr is not a terminal."""

    def __init__(self, total: int, done: int, failed: int, show: bool):
        from tqdm import tqdm
        self.total, self.done, self.failed = total, done, failed
        self.bar = tqdm(total=total, initial=done, desc="sweep", unit="run",
                        disable=None if show else True, leave=False)
        self._post()

    def _post(self):
        self.bar.set_postfix(done=self.done, failed=self.failed, remaining=self.total - self.done)

    def update(self, ok: bool):
        self.done += 1
        self.failed += 0 if ok else 1
        self.bar.update(1)
        self._post()

    def close(self):
        self.bar.close()


def _execute(tasks: list[dict], out: Path, workers: int | None, scheduler: str | None, bar: _Progress):
    """Run ``tasks`` (in this process when ``workers == 0``, else on Dask) and write each result."""
    def record(df: pd.DataFrame):
        _write_atomic(df, run_path(out, df["run_id"].iloc[0]))
        bar.update(bool((df["status"] == "ok").all()))

    if workers == 0:
        for task in tasks:
            record(run_task(task))
        return
    from distributed import Client, LocalCluster, as_completed
    cluster = None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="15s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler there "
                             f"({' '.join(str(exc).split())}); give an address like tcp://host:8786") from None
    else:
        n = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               env={"NUMBA_NUM_THREADS": "1"}, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        futures = {client.submit(run_task, t, key=f"reformsim-run-{t['run_id']}", pure=False): t
                   for t in tasks}
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                df = fut.result()
            except Exception as exc:   # the worker died or the task could not run
                df = pd.DataFrame(_failed_rows(task, " ".join(f"worker: {type(exc).__name__}: {exc}".split())))
                df["year"] = df["year"].astype("Int64")
                df["wall_s"], df["peak_rss_mb"], df["worker"] = math.nan, math.nan, ""
            record(df)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def collect(out: Path, sweep: Sweep) -> pd.DataFrame:
    """All runs of the design from ``out/runs``, in design order (tidy, one row per run and year).

    Variant and draw come from the design, not the file: two draws that happen to have the same
    values and seed share one run file (computed once), and the draws may be numbered otherwise
    than when the file was written (an edited sweep file)."""
    frames = []
    for r in sweep.runs:
        p = run_path(out, r.run_id)
        if p.exists():
            frames.append(pd.read_parquet(p).assign(variant=r.variant, draw=r.draw))
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    df["year"] = df["year"].astype("Int64")
    return df


def run_sweep(path_or_spec, out, workers: int | None = None, scheduler: str | None = None,
              progress: bool = True, retry_failed: bool = False) -> pd.DataFrame:
    """Run a sweep, resumably, and write its results, bands and chart to ``out``.

    Parameters
    ----------
    path_or_spec : path of a sweep TOML file, or a dict with the same keys
    out : output directory; a second call with the same one computes only the missing runs
    workers : worker processes of a local Dask cluster (default: this machine's cores);
        0 runs every comparison in this process, one after another
    scheduler : address of an existing Dask scheduler (e.g. 'tcp://10.0.0.5:8786') instead of a
        local cluster; its workers need reformsim installed with the same scenario and data files
    progress : show a progress bar (only on a terminal)
    retry_failed : also run again the runs recorded as failed

    Returns
    -------
    DataFrame
        Every run of the design, one row per run and year (see :func:`run_task`).
    """
    if workers is not None and scheduler is not None:
        raise InputError("--workers and --scheduler exclude each other: a local cluster of N workers, "
                         "or an existing cluster at ADDRESS")
    if workers is not None and (not _is_int(workers) or workers < 0):
        raise InputError(f"--workers {workers!r} must be a non-negative integer (0: no cluster)")
    sweep = load_sweep(path_or_spec)
    out = Path(out)
    earlier = _prepare(out, sweep)
    if earlier and earlier.get("sweep_sha256") != sweep.sha256:
        import sys
        sys.stderr.write(f"reformsim: note: {sweep.path} changed since {out}/ was written; unchanged "
                         "runs are reused and the others computed\n")
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    _write_meta(out, sweep, earlier, None)
    status = _recorded(out, sweep)
    todo = [r for r in sweep.runs
            if r.run_id not in status or (retry_failed and status[r.run_id] != "ok")]
    todo = list({r.run_id: r for r in reversed(todo)}.values())[::-1]   # one run per id
    todo_ids = {r.run_id for r in todo}
    n_unique = len({r.run_id for r in sweep.runs})
    reused = n_unique - len(todo)
    kept_failed = sum(1 for rid, st in status.items() if st != "ok" and rid not in todo_ids)
    bar = _Progress(n_unique, reused, kept_failed, progress)
    t0 = time.perf_counter()
    try:
        _execute([sweep.task(r) for r in todo], out, workers, scheduler, bar)
    finally:
        bar.close()
    df = collect(out, sweep)
    failed = int(df.loc[df["status"] != "ok", "run_id"].nunique()) if len(df) else 0
    df.to_parquet(out / "results.parquet", index=False)
    b = bands(df)
    write_bands(b, out, sweep)
    _write_meta(out, sweep, earlier, {"started": started, "sweep_sha256": sweep.sha256,
                                      "computed": len(todo), "reused": reused, "failed": failed,
                                      "wall_s": round(time.perf_counter() - t0, 2)})
    df.attrs.update({"computed": len(todo), "reused": reused, "failed": failed})
    return df


# --- uncertainty bands -----------------------------------------------------------------------------

def bands(df: pd.DataFrame, by: str = "variant") -> pd.DataFrame:
    """Percentile bands by year across draws, with Monte Carlo error kept apart.

    For each variant, draw and year the replicate seeds are averaged first; the percentiles
    5/50/95 are then taken across the draws (parameter uncertainty). The spread across seeds
    within a draw is the Monte Carlo error, reported separately.

    Returns
    -------
    DataFrame
        One row per variant, measure and year: n_draws, n_seeds (fewest seeds in a draw), p5, p50,
        p95 and mean (across draws of the per-draw means), param_sd (spread across draws with the
        Monte Carlo part taken out: sqrt(max(0, var(draw means) - mc_se^2))), mc_sd (pooled
        standard deviation across seeds within a draw: the noise of one run) and mc_se (mc_sd /
        sqrt(n_seeds): the noise left in a draw's mean). NaN where there are too few draws or
        seeds to say. Units as in :data:`MEASURES`.
    """
    cols = [by, "measure", "year", "unit", "n_draws", "n_seeds", "p5", "p50", "p95", "mean",
            "param_sd", "mc_sd", "mc_se"]
    if df.empty or "status" not in df:
        return pd.DataFrame(columns=cols)
    ok = df[(df["status"] == "ok") & df["year"].notna()]
    rows = []
    for measure, unit in MEASURES.items():
        per_draw = ok.groupby([by, "draw", "year"], sort=False)[measure].agg(["mean", "var", "count"])
        for (variant, year), sub in per_draw.groupby(level=[0, 2], sort=False):
            means = sub["mean"].to_numpy(dtype=float)
            n_seeds = int(sub["count"].min())
            within = sub["var"].to_numpy(dtype=float)
            mc_sd = float(np.sqrt(np.nanmean(within))) if n_seeds > 1 else math.nan
            mc_se = mc_sd / math.sqrt(n_seeds) if n_seeds > 1 else math.nan
            between = float(np.var(means, ddof=1)) if len(means) > 1 else math.nan
            param_sd = math.sqrt(max(0.0, between - (mc_se ** 2 if n_seeds > 1 else 0.0))) \
                if len(means) > 1 else math.nan
            p5, p50, p95 = (float(x) for x in np.percentile(means, [5, 50, 95]))
            rows.append({by: variant, "measure": measure, "year": int(year), "unit": unit,
                         "n_draws": len(means), "n_seeds": n_seeds, "p5": p5, "p50": p50, "p95": p95,
                         "mean": float(means.mean()), "param_sd": param_sd, "mc_sd": mc_sd, "mc_se": mc_se})
    return pd.DataFrame(rows, columns=cols).sort_values([by, "measure", "year"], kind="stable",
                                                         ignore_index=True)


def _clean(x):
    return None if isinstance(x, float) and not math.isfinite(x) else x


def write_bands(b: pd.DataFrame, out: Path, sweep: Sweep) -> None:
    """``bands.csv`` (tidy), ``bands.json`` (variant -> measure -> year -> figures) and ``bands.png``."""
    b.to_csv(out / "bands.csv", index=False)
    nested: dict = {}
    for row in b.to_dict("records"):
        fig = {k: _clean(row[k]) for k in ("n_draws", "n_seeds", "p5", "p50", "p95", "mean",
                                          "param_sd", "mc_sd", "mc_se")}
        nested.setdefault(row["variant"], {}).setdefault(row["measure"], {})[str(row["year"])] = fig
    doc = {"description": sweep.description, "baseline": sweep.baseline, "reform": sweep.reform,
           "scale": sweep.scale, "units": MEASURES,
           "method": "per draw, the mean over replicate seeds; p5/p50/p95 across draws (parameter "
                     "uncertainty); mc_sd: pooled sd across seeds within a draw, mc_se = mc_sd / "
                     "sqrt(n_seeds) (Monte Carlo error); param_sd: sd across draws less the Monte "
                     "Carlo part",
           "bands": nested}
    (out / "bands.json").write_text(json.dumps(doc, indent=2, allow_nan=False))
    chart_bands(b, out / "bands.png", sweep)


def chart_bands(b: pd.DataFrame, path: Path, sweep: Sweep) -> None:
    """Median and 5-95 % band across draws by year, with the Monte Carlo error as bars."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .charts import tight
    labels = {"savings_bn": ("Savings", "saving"),
              "employment_delta": ("Employment", "change in employment"),
              "net_effect_bn": ("Net effect on the public finances", "net effect")}
    fig, axes = plt.subplots(1, len(MEASURES), figsize=(15, 4.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (measure, unit) in zip(axes, MEASURES.items()):
        sub = b[b["measure"] == measure]
        for k, (variant, v) in enumerate(sub.groupby("variant", sort=False)):
            c = colours[k % len(colours)]
            ax.fill_between(v["year"], v["p5"], v["p95"], color=c, alpha=0.2,
                            label=f"{variant}: 5-95 % across draws")
            ax.plot(v["year"], v["p50"], color=c, marker="o", ms=3, label=f"{variant}: median")
            se = v["mc_se"].to_numpy(dtype=float)
            if np.isfinite(se).any():      # offset a little per variant so the bars stay apart
                ax.errorbar(v["year"] + 0.08 * k, v["p50"], yerr=2 * np.nan_to_num(se), fmt="none", ecolor=c,
                            capsize=3, label=f"{variant}: Monte Carlo ±2 s.e.")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(labels[measure][0])
        ax.set_xlabel("year")
        ax.set_ylabel(f"{labels[measure][1]} ({unit})")
        ax.grid(alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, names, loc="lower center", ncol=min(3, len(handles)), fontsize=8, frameon=False)
    seeds = len(sweep.seeds)
    fig.suptitle(f"Sweep: {Path(sweep.reform).stem} against {Path(sweep.baseline).stem}, "
                 f"{sweep.n_draws} draw(s) x {seeds} seed(s), scale {sweep.scale:g} "
                 "(reform minus baseline; savings and net effect positive when public finances gain)",
                 fontsize=10)
    tight(fig, rect=(0, 0.12 if handles else 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["run_sweep", "bands", "load_sweep", "run_task", "apply_values", "collect", "Sweep", "Run"]
