"""Reading and validating a sweep file (or a dict with the same keys) into a :class:`Sweep`.

Everything is checked before any run starts. The values of the varied parameters are checked by
one function, :func:`check_value`.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
import zlib
from pathlib import Path

import numpy as np

from ..errors import InputError, did_you_mean
from ..parameters import checked_support, checked_value, load_data
from ..scenario import PRIORITIES, load_scenario
from .design import PRIORITY, Sweep, build_runs, files_sha256, parameter_roles


ENGINES = ("numba", "numpy")
TOP_KEYS = ("description", "baseline", "reform", "scale", "engine", "seeds", "replicates", "base_seed",
            "breakdown", "grid", "draw", "n_draws", "draw_seed", "max_runs")
#: distribution -> (required arguments, optional arguments)
DISTRIBUTIONS = {"uniform": (("low", "high"), ()),
                 "normal": (("mean", "sd"), ("low", "high")),
                 "triangular": (("low", "mode", "high"), ()),
                 "choice": (("values",), ("weights",))}
DRAW_KEYS = ("parameter", "distribution", "source")
#: keys of a [[draw]] that draws every parameter matching a pattern from its range in
#: data/behaviour_ranges.csv (triangular, its mode the default)
PATTERN_KEYS = ("parameters", "source")
DEFAULT_MAX_RUNS = 1000


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


def is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _scenario_ref(path: Path, text: str) -> str:
    """A scenario name, or a path relative to the sweep file's folder."""
    if Path(text).suffix:
        p = Path(text)
        return str(p if p.is_absolute() else (path.parent / p).resolve())
    return text


# --- a varied parameter's value: the project's one validator -----------------------------------
def check_value(path, key: str, name: str, raw, data):
    """A valid value of ``name`` for a sweep, or InputError naming ``path`` and ``key``: a priority
    rule for ``effort.priority``, else what :func:`sim.parameters.checked_value` allows (the
    declarations of data/parameter_ranges.csv), numbers as float and schedules as a list of int."""
    if name == PRIORITY:
        if raw not in PRIORITIES:
            raise InputError(f"{path}: {key} = {raw!r}: '{PRIORITY}' takes a priority rule"
                             f"{did_you_mean(str(raw), PRIORITIES)}; allowed: {', '.join(PRIORITIES)}")
        return raw
    value = checked_value(path, key, name, raw, data)
    return list(value) if isinstance(value, tuple) else value


# --- the sweep file: keys, scenarios, seeds, grid and draws ---------------------------------------


def _check_name(where: str, name: str, data) -> None:
    """Refuse a varied parameter that is not one (the nearest valid name suggested)."""
    if name == PRIORITY:
        return
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}: a parameter name must be a non-empty string")
    try:
        data.spec(name)
    except KeyError:
        choices = list(data.params) + [PRIORITY]
        raise InputError(f"{where} '{name}' is not a parameter{did_you_mean(name, choices)}; "
                         f"allowed: the names in data/parameters.csv (behaviour.*, hazard.*, "
                         f"destination.*, rules.*, money.*) and '{PRIORITY}'") from None


def _draw_values(path: Path, index: int, entry: dict, n: int, draw_seed: int, data) -> list:
    """``n`` values of one ``[[draw]]`` entry, validated (its own stream: ``draw_seed`` and the
    parameter name, so adding an entry does not change the others' values). The whole support of
    a continuous distribution must be allowed (:func:`sim.parameters.checked_support`)."""
    where, at = f"{path}: draw[{index}]", f"draw[{index}]"
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
            if key in entry and not is_number(entry[key]):
                raise InputError(f"{where}.{key} = {entry[key]!r} must be a number")
    if name == PRIORITY and dist != "choice":
        raise InputError(f"{where}.distribution = '{dist}': '{name}' takes a priority rule; only "
                         "distribution = 'choice' can draw it")
    rng = np.random.default_rng([draw_seed, zlib.crc32(name.encode())])
    if dist == "uniform":
        low, high = float(entry["low"]), float(entry["high"])
        if not low < high:
            raise InputError(f"{where}: low = {low} must be below high = {high}")
        checked_support(path, at, name, low, high, data)
        raw = rng.uniform(low, high, n)
    elif dist == "triangular":
        low, mode, high = (float(entry[k]) for k in ("low", "mode", "high"))
        if not (low <= mode <= high and low < high):
            raise InputError(f"{where}: needs low <= mode <= high and low < high "
                             f"(now {low}, {mode}, {high})")
        checked_support(path, at, name, low, high, data)
        raw = rng.triangular(low, mode, high, n)
    elif dist == "normal":
        mean, sd = float(entry["mean"]), float(entry["sd"])
        if not sd > 0:
            raise InputError(f"{where}.sd = {sd} must be positive")
        low, high = float(entry.get("low", -math.inf)), float(entry.get("high", math.inf))
        if not low < high:
            raise InputError(f"{where}: low = {low} must be below high = {high}")
        checked_support(path, at, name, low, high, data)
        from scipy.stats import truncnorm
        a, b = (low - mean) / sd, (high - mean) / sd
        raw = truncnorm.ppf(rng.uniform(size=n), a, b, loc=mean, scale=sd)
    else:
        values = entry["values"]
        if not isinstance(values, list) or not values:
            raise InputError(f"{where}.values must be a non-empty list")
        weights = entry.get("weights")
        p = None
        if weights is not None:
            if not (isinstance(weights, list) and len(weights) == len(values)
                    and all(is_number(w) and w >= 0 for w in weights) and sum(weights) > 0):
                raise InputError(f"{where}.weights must be {len(values)} non-negative numbers, "
                                 "not all zero (one per value)")
            p = np.asarray(weights, dtype=float) / sum(weights)
        checked = [check_value(path, f"{at}.values[{i}]", name, v, data) for i, v in enumerate(values)]
        pick = rng.choice(len(checked), size=n, p=p)
        return [checked[i] for i in pick]
    return [check_value(path, f"{at} (draw {i})", name, float(v), data) for i, v in enumerate(raw)]


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
    if not is_number(scale) or not 0 < scale <= 1:
        raise InputError(f"{path}: key 'scale' = {scale!r} must be a number within (0, 1]")
    engine = raw.get("engine", "numba")
    if engine not in ENGINES:
        raise InputError(f"{path}: key 'engine' = {engine!r}; allowed: {', '.join(ENGINES)}")
    breakdown = raw.get("breakdown", False)
    if not isinstance(breakdown, bool):
        raise InputError(f"{path}: key 'breakdown' = {breakdown!r} must be true or false")
    max_runs = raw.get("max_runs", DEFAULT_MAX_RUNS)
    if not is_int(max_runs) or max_runs < 1:
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
    sweep.runs = build_runs(sweep, reform.name, grid, draws)
    return sweep


def _seeds(path: Path, raw: dict) -> list[int]:
    if "seeds" in raw and "replicates" in raw:
        raise InputError(f"{path}: keys 'seeds' and 'replicates' exclude each other: give a list of "
                         "seeds, or a count of replicates (with 'base_seed')")
    if "base_seed" in raw and "replicates" not in raw:
        raise InputError(f"{path}: key 'base_seed' goes with 'replicates'")
    if "replicates" in raw:
        n, base = raw["replicates"], raw.get("base_seed", 1)
        if not is_int(n) or n < 1:
            raise InputError(f"{path}: key 'replicates' = {n!r} must be a positive integer")
        if not is_int(base) or not 0 <= base < 2**63 - n:
            raise InputError(f"{path}: key 'base_seed' = {base!r} must be a non-negative integer")
        return list(range(base, base + n))
    seeds = raw.get("seeds", [1])
    if not isinstance(seeds, list) or not seeds:
        raise InputError(f"{path}: key 'seeds' = {seeds!r} must be a non-empty list of integers")
    for s in seeds:
        if not is_int(s) or not 0 <= s < 2**63:
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
        _check_name(f"{path}: grid key", name, data)
        if not isinstance(values, list) or not values:
            raise InputError(f"{where} = {values!r} must be a non-empty list of values")
        checked = [check_value(path, f"grid.'{name}'[{i}]", name, v, data) for i, v in enumerate(values)]
        if len({json.dumps(v) for v in checked}) != len(checked):
            raise InputError(f"{where} = {values!r} repeats a value")
        out[name] = checked
    return out


def _expand(path: Path, index: int, entry: dict, data) -> list[dict]:
    """A ``[[draw]]`` as the draws it makes: itself, or with ``parameters = "PATTERN"`` one
    triangular draw per parameter matching the pattern (``fnmatch``) that has a range in
    ``data/behaviour_ranges.csv``, from its low to its high with the default as its mode."""
    if "parameters" not in entry:
        return [entry]
    import fnmatch
    where = f"{path}: draw[{index}]"
    for key in entry:
        if key not in PATTERN_KEYS:
            raise InputError(f"{where}: unknown key '{key}'{did_you_mean(key, PATTERN_KEYS)} for a draw of "
                             f"'parameters' by their ranges; allowed: {', '.join(PATTERN_KEYS)}")
    pattern = entry["parameters"]
    ranges = data.behaviour_ranges
    if not isinstance(pattern, str) or ranges is None:
        raise InputError(f"{where}.parameters = {pattern!r} must be a pattern such as 'behaviour.*' "
                         f"(with ranges in {data.directory / 'behaviour_ranges.csv'})")
    rows = [r for r in ranges.itertuples() if fnmatch.fnmatchcase(r.parameter, pattern)]
    if not rows:
        raise InputError(f"{where}.parameters = '{pattern}' matches no parameter with a range in "
                         f"{data.directory / 'behaviour_ranges.csv'}; those with one: "
                         f"{', '.join(ranges['parameter'])}")
    return [{"parameter": r.parameter, "distribution": "triangular", "low": float(r.low),
             "mode": float(data.params[r.parameter]), "high": float(r.high), "source": r.source} for r in rows]


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
    if not is_int(n) or n < 1:
        raise InputError(f"{path}: key 'n_draws' = {n!r}: [[draw]] needs the number of Monte Carlo "
                         "draws, a positive integer")
    draw_seed = raw.get("draw_seed", 1)
    if not is_int(draw_seed) or draw_seed < 0:
        raise InputError(f"{path}: key 'draw_seed' = {draw_seed!r} must be a non-negative integer")
    grid_names = set(_flatten(raw.get("grid", {}))) if isinstance(raw.get("grid"), dict) else set()
    out = {}
    entries = [(i, e) for i, entry in enumerate(entries) for e in _expand(path, i, entry, data)]
    for i, entry in entries:
        where = f"{path}: draw[{i}]"
        name = entry.get("parameter")
        if name is None:
            raise InputError(f"{where}: required key 'parameter' is missing")
        _check_name(f"{where}.parameter =", name, data)
        if name in out or name in grid_names:
            raise InputError(f"{where}.parameter = '{name}' is varied twice (in [grid] or another [[draw]])")
        out[name] = _draw_values(path, i, entry, n, draw_seed, data)
    return out
