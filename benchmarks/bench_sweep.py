"""Sweep throughput: full-scale comparisons per minute on a local Dask cluster of 1 and 2 workers.

Each run is ``compare baseline expert_group`` (no per-provision breakdown) at one seed; the same
runs go once to a cluster of one worker and once to a cluster of two, each in a fresh output
folder. Peak memory per worker is ``ru_maxrss`` measured inside the worker after each run.
Prints one JSON object and writes it to ``results/bench_sweep.json``.

    .venv/bin/python benchmarks/bench_sweep.py            # full scale, 4 runs per cluster size
    .venv/bin/python benchmarks/bench_sweep.py --scale 0.25 --runs 4
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(spec: dict, workers: int) -> dict:
    from sim.sweep import run_sweep
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        df = run_sweep(spec, out, workers=workers, progress=False)
        wall = time.perf_counter() - t0
    runs = df.drop_duplicates("run_id")
    assert (runs["status"] == "ok").all(), runs.loc[runs["status"] != "ok", "error"].tolist()
    return {
        "workers": workers,
        "runs": len(runs),
        "wall_s": round(wall, 1),
        "comparisons_per_minute": round(len(runs) / wall * 60, 2),
        "run_wall_s_mean": round(float(runs["wall_s"].mean()), 1),
        "run_wall_s_max": round(float(runs["wall_s"].max()), 1),
        "peak_rss_mb_per_worker": {w: round(float(v), 0) for w, v in
                                   runs.groupby("worker")["peak_rss_mb"].max().items()},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="population share (default 1: full scale)")
    ap.add_argument("--runs", type=int, default=4, help="comparisons per cluster size (default 4)")
    ap.add_argument("--reform", default="expert_group")
    args = ap.parse_args()
    spec = {"description": "benchmark", "baseline": "baseline", "reform": args.reform,
            "scale": args.scale, "replicates": args.runs, "base_seed": 1}
    one = measure(spec, 1)
    two = measure(spec, 2)
    result = {
        "benchmark": "sweep",
        "comparison": f"baseline vs {args.reform}, no breakdown, 2025-2035",
        "scale": args.scale, "cpu_count": os.cpu_count(),
        "one_worker": one, "two_workers": two,
        "throughput_ratio_2_to_1": round(two["comparisons_per_minute"] / one["comparisons_per_minute"], 2),
        "note": "wall time includes starting the cluster and each worker's first load (numba cache, "
                "data); timings on a shared machine are noisy",
    }
    text = json.dumps(result, indent=2)
    print(text)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "bench_sweep.json").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
