"""The design of a sweep: its runs (grid points x draws x seeds), their ids, and which scenario a
varied parameter changes.

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

Run ids
-------
A run's id is a hash of everything that determines its result: the contents of the scenario files
and of ``data/``, the scale, engine, breakdown flag, seed and parameter values.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..scenario import Scenario


#: the special parameter that varies the rationing rule of a budget-constrained reform
PRIORITY = "effort.priority"


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
    both scenarios (see this module's docstring)."""
    own = {ch.parameter for ch in reform.changes if ch not in set(baseline.changes)}
    return {n: "reform" if (n == PRIORITY or n in own or n.startswith("rules.")) else "world"
            for n in names}


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


def build_runs(sweep: Sweep, reform_name: str, grid: dict, draws: dict) -> list[Run]:
    """Every run: grid points x draws x seeds. The grid's reform levers make the variants; the
    world parameters (grid or draws) make the draws, numbered alike in every variant."""
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
