"""Speed and memory of reformsim, as ratios from one run (machines are shared and noisy).

Prints one JSON object. Run with ``make bench``; ``--quick`` uses a 10 % sample for the engine
figures (the NumPy engine takes about a minute at full scale).

- ``numba_person_months_per_s`` (all threads, default 2), ``numba_1thread_person_months_per_s``,
  ``numpy_person_months_per_s``: the baseline 2025-2035 on the same population, kernel only.
- ``speedup_numba_vs_numpy``, ``speedup_2_threads_vs_1``: ratios of the above.
- ``full_compare_wall_s``: baseline + expert_group at full scale, population included, after
  compilation, in this process (no per-provision breakdown); the fastest of three, all three in
  ``full_compare_runs_s``.
- ``full_compare_with_breakdown_s``: the same once with the per-provision breakdown (Shapley
  values over orders of the provisions), and ``breakdown_subset_runs``, the subsets it simulated.
- ``cold_start_s`` / ``warm_start_s``: a fresh ``reformsim compare baseline expert_group
  --no-breakdown`` process with an empty / a filled compile cache (writing outputs included);
  the warm start is the fastest of three, all three in ``warm_start_runs_s``.
- ``peak_rss_mb``: the largest resident memory of those processes.
- ``profile_s``: where a full compare's time goes (population, tables, kernel, aggregation, output).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import budget as money  # noqa: E402
from sim.comparison import compare  # noqa: E402
from sim.parameters import load_data  # noqa: E402
from sim.report import prepare_out, write_compare  # noqa: E402
from sim.rules import build_tables  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.simulation import build_population, run_engine  # noqa: E402


#: repeats of the full compare and of the warm start; the fastest is reported, all are listed
#: (the machines are shared: a slow run is the host's noise, not the program's)
REPEAT = 3


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def engine_rates(scale: float) -> dict:
    data = load_data()
    sc = load_scenario("baseline", data)
    pop = build_population(sc, 1, scale)
    regimes, rom = sc.regimes()
    tables = build_tables(regimes)
    args = (pop, tables, rom, 1, sc.start, sc.n_months)
    run_engine(*args, "numba", None)                      # compile (or load the cache)
    threads = numba.get_num_threads()
    best = {}
    for name, engine, n in (("numba", "numba", threads), ("numba_1thread", "numba", 1),
                            ("numba", "numba", threads), ("numba_1thread", "numba", 1)):
        out, dt = timed(run_engine, *args, engine, n)
        best[name] = min(best.get(name, np.inf), dt)
    out, best["numpy"] = timed(run_engine, *args, "numpy", None)
    # person-months simulated (rows x months) and represented (weighted up to the population)
    simulated = out[0].sum() / pop.weight[0]
    person_months = simulated / scale
    rates = {f"{k}_person_months_per_s": simulated / v for k, v in best.items()}
    rates.update({
        "threads": threads,
        "scale": scale,
        "persons": len(pop),
        "person_months": float(simulated),
        "represented_person_months": float(person_months),
        "speedup_numba_vs_numpy": best["numpy"] / best["numba"],
        "speedup_2_threads_vs_1": best["numba_1thread"] / best["numba"],
    })
    return rates


def profile_compare() -> dict:
    data = load_data()
    base, reform = load_scenario("baseline", data), load_scenario("expert_group", data)
    prof = {}
    pop, prof["population"] = timed(build_population, base, 1, 1.0)
    for sc in (base, reform):
        regimes, rom = sc.regimes()
        tables, dt = timed(build_tables, regimes)
        prof["tables"] = prof.get("tables", 0.0) + dt
        out, dt = timed(run_engine, pop, tables, rom, 1, sc.start, sc.n_months)
        prof["kernel"] = prof.get("kernel", 0.0) + dt
    walls = []
    for _ in range(REPEAT):
        comp, wall = timed(compare, base, reform, seed=1, scale=1.0, breakdown=False)
        walls.append(wall)
    _, prof["aggregation"] = timed(money.budget_table, comp.reform, data)
    with tempfile.TemporaryDirectory() as tmp:
        _, prof["output_writing"] = timed(write_compare, comp, prepare_out(tmp), 0.0)
    # the same with the per-provision breakdown (make run's comparison, outputs not written)
    broken, with_breakdown = timed(compare, base, reform, seed=1, scale=1.0, breakdown=True)
    return {"full_compare_wall_s": min(walls), "full_compare_runs_s": walls,
            "full_compare_with_breakdown_s": with_breakdown,
            "breakdown_subset_runs": len(broken.breakdown.saving_of) - 2, "profile_s": prof}


def start_times() -> dict:
    cmd = [sys.executable, "-m", "sim.cli", "compare", "baseline", "expert_group", "--no-breakdown"]
    out = {}
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as res:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        runs = []
        for _ in range(1 + REPEAT):
            t = time.perf_counter()
            subprocess.run(cmd + ["--out", res], cwd=ROOT, env=env, check=True, capture_output=True)
            runs.append(time.perf_counter() - t)
    out["cold_start_s"] = runs[0]
    out["warm_start_s"] = min(runs[1:])
    out["warm_start_runs_s"] = runs[1:]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="engine figures on a 10 %% sample")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench.json"))
    args = ap.parse_args()
    result = {"machine": {"cpus": os.cpu_count(), "numba": numba.__version__, "numpy": np.__version__}}
    result.update(engine_rates(0.1 if args.quick else 1.0))
    result.update(profile_compare())
    result.update(start_times())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
