"""The chart workers: processes that draw the charts while this process writes the tables.

Standard library only, and only its documented interfaces: a ``ProcessPoolExecutor`` whose
workers come from a ``forkserver`` context. The fork server imports the chart modules once
(:func:`multiprocessing.set_forkserver_preload`), and each worker forked from it draws one
throw-away chart in its initializer (:func:`_chart_worker_init`), which loads the fonts and the
PNG and SVG writers. The command line starts the workers once the scenarios are loaded, so that
the server's imports run on another core while this process simulates.
"""

from __future__ import annotations

import os
import signal
import threading

from .errors import InputError

#: environment variable: the number of chart workers (0: draw the charts in the main process)
WORKERS_ENV = "REFORMSIM_CHART_WORKERS"
#: what the fork server imports once, before the workers are forked from it
PRELOAD = ["sim.report", "sim.charts", "openpyxl"]


def chart_worker_count() -> int:
    """The number of chart workers: ``$REFORMSIM_CHART_WORKERS``, else one per core, at most 4,
    and none on a single core. Raises :class:`InputError` for a value that is not a whole number."""
    text = os.environ.get(WORKERS_ENV, "").strip()
    if text:
        try:
            return int(text)
        except ValueError:
            raise InputError(f"${WORKERS_ENV} '{text}' is not a whole number of chart workers") from None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(4, cores) if cores > 1 else 0


def start_chart_workers(n: int | None = None):
    """Start the chart workers. Returns a ``ProcessPoolExecutor`` of ``n`` workers (default:
    :func:`chart_worker_count`), or None where workers would not help (``n`` = 0, one core) or
    should not start (no fork server on this platform; in a worker process itself, such as a Dask
    worker); the caller then draws the charts itself. The caller shuts the executor down
    (``shutdown(cancel_futures=True)``).

    The first worker is asked for at once, from a background thread: the fork server imports
    matplotlib, pandas and openpyxl before it forks it (about 1.3 s), and this process goes on
    meanwhile. Ctrl-C (SIGINT) is this process's to handle: it is blocked in that thread, so that
    the server (and the resource tracker) start with it blocked, as the standard library starts its
    resource tracker, and the workers ignore it. As with any worker processes, a script that calls
    this (or ``sim.cli.main``) must do so under ``if __name__ == "__main__":``."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    if n is None:
        n = chart_worker_count()
    if (n < 1 or mp.parent_process() is not None or mp.current_process().daemon
            or "forkserver" not in mp.get_all_start_methods()):
        return None
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    try:
        workers = ProcessPoolExecutor(n, mp_context=ctx, initializer=_chart_worker_init)
    except (OSError, ValueError):                       # no processes here: draw in this process
        return None
    threading.Thread(target=_first_worker, args=(workers,), name="reformsim chart workers",
                     daemon=True).start()
    return workers


def _first_worker(workers) -> None:
    """Start the fork server and the first worker (a submitted job starts a worker): in a thread,
    since the worker's start waits for the server's imports."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        workers.submit(int)
    except Exception:   # noqa: BLE001  (shut down meanwhile, or broken: the charts are drawn here)
        pass


def _chart_worker_init() -> None:
    """A chart worker's start: ignore Ctrl-C, then draw a throw-away chart
    (:func:`sim.charts.warm_up`); a failure there is no failure of the charts, so it is ignored."""
    import warnings
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from . import charts
            charts.warm_up()
        except Exception:   # noqa: BLE001  (the worker then warms up on its first chart)
            pass
