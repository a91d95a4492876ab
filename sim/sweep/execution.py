"""Running a sweep: the runs missing from the store, in this process or on a Dask cluster (a local
one on this machine's cores, or an existing one by address), then the results and bands."""

from __future__ import annotations

import logging
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .outputs import write_bands, write_meta
from .run import failed_rows, run_task
from .spec import is_int, load_sweep
from .stats import bands
from .store import collect, prepare, recorded, run_path, write_atomic


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
        write_atomic(df, run_path(out, df["run_id"].iloc[0]))
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
                df = pd.DataFrame(failed_rows(task, " ".join(f"worker: {type(exc).__name__}: {exc}".split())))
                df["year"] = df["year"].astype("Int64")
                df["wall_s"], df["peak_rss_mb"], df["worker"] = math.nan, math.nan, ""
            record(df)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


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
        Every run of the design, one row per run and year (see :func:`sim.sweep.run.run_task`).
    """
    if workers is not None and scheduler is not None:
        raise InputError("--workers and --scheduler exclude each other: a local cluster of N workers, "
                         "or an existing cluster at ADDRESS")
    if workers is not None and (not is_int(workers) or workers < 0):
        raise InputError(f"--workers {workers!r} must be a non-negative integer (0: no cluster)")
    sweep = load_sweep(path_or_spec)
    out = Path(out)
    earlier = prepare(out, sweep)
    if earlier and earlier.get("sweep_sha256") != sweep.sha256:
        import sys
        sys.stderr.write(f"reformsim: note: {sweep.path} changed since {out}/ was written; unchanged "
                         "runs are reused and the others computed\n")
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_meta(out, sweep, earlier, None)
    status = recorded(out, sweep)
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
    write_meta(out, sweep, earlier, {"started": started, "sweep_sha256": sweep.sha256,
                                      "computed": len(todo), "reused": reused, "failed": failed,
                                      "wall_s": round(time.perf_counter() - t0, 2)})
    df.attrs.update({"computed": len(todo), "reused": reused, "failed": failed})
    return df
