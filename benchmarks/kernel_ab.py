"""The compiled kernel of two commits, timed in turn in one process.

``make bench`` runs at different times give rates that differ by 20 % and more on a shared
machine; a change to the kernel is better judged by timing the old and the new kernel in turn, in
the same process, on the same population. This script exports ``sim/``, ``data/`` and
``configs/`` of each revision into a temporary folder as its own package, builds the baseline's
full-scale population with each (by its own code), and times ``run_engine`` on 2 threads and on
1, alternating the revisions, for ``--rounds`` rounds. It prints the best rate of each and the
median of the paired ratios (new / old), a JSON object.

    .venv/bin/python benchmarks/kernel_ab.py 7694d18 HEAD --rounds 8
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def export(rev: str, into: Path, name: str) -> Path:
    """``sim/``, ``data/``, ``configs/`` of ``rev`` under ``into/name/``, the package renamed ``name``."""
    home = into / name
    home.mkdir()
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "sim", "data", "configs"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(home, filter="data")
    (home / "sim").rename(home / name)
    return home


def prepared(home: Path, name: str, scale: float):
    """The run_engine of the package ``name`` and its arguments for the baseline."""
    sys.path.insert(0, str(home))
    mod = {m: importlib.import_module(f"{name}.{m}") for m in ("parameters", "scenario", "rules", "simulation")}
    data = mod["parameters"].load_data()
    scenario = mod["scenario"].load_scenario("baseline", data)
    population = mod["simulation"].build_population(scenario, 1, scale)
    regimes, regime_of_month = scenario.regimes()
    tables = mod["rules"].build_tables(regimes)
    args = (population, tables, regime_of_month, 1, scenario.start, scenario.n_months)
    run = mod["simulation"].run_engine
    occupancy = run(*args, "numba", None)[0]                 # compile (or load the cache)
    return run, args, float(occupancy.sum() / population.weight[0])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("old", help="git revision of the reference kernel")
    p.add_argument("new", nargs="?", default="HEAD", help="git revision to compare (default HEAD)")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--scale", type=float, default=1.0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for label, rev in (("old", args.old), ("new", args.new)):
            name = f"sim_{label}"
            runs[label] = prepared(export(rev, Path(tmp), name), name, args.scale)
        times = {(label, n): [] for label in runs for n in (2, 1)}
        for _ in range(args.rounds):
            for n in (2, 1):
                for label, (run, call, _) in runs.items():
                    t = time.perf_counter()
                    run(*call, "numba", n)
                    times[(label, n)].append(time.perf_counter() - t)
    out = {"old": args.old, "new": args.new, "rounds": args.rounds, "scale": args.scale}
    for n in (2, 1):
        for label, (_, _, person_months) in runs.items():
            out[f"{label}_{n}thread_person_months_per_s"] = person_months / min(times[(label, n)])
        ratio = np.array(times[("old", n)]) / np.array(times[("new", n)])
        out[f"new_vs_old_{n}thread_median_ratio"] = float(np.median(ratio))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
