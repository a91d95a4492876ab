"""The chart workers: processes that draw the charts while the simulation runs.

Standard library only: the command line starts the workers' fork server first thing, so that it
imports matplotlib and pandas (and draws a first, throw-away figure, which loads the fonts and
the PNG and SVG writers) on the second core while this process imports its own modules and loads
the scenarios. The workers are forked from the server, warm, when the first charts are handed to
them.
"""

from __future__ import annotations

import os

from .errors import InputError

#: environment variable: the number of chart workers (0: draw the charts in the main process)
WORKERS_ENV = "REFORMSIM_CHART_WORKERS"
#: what the fork server imports once, before the workers are forked from it
_PRELOAD = ["sim.report", "sim.charts", "pandas.plotting._matplotlib", "openpyxl", "sim.charts_warm"]


def start_chart_workers(n: int | None = None):
    """Start the chart workers' fork server, which imports matplotlib at once; the workers are
    forked from it when the first charts are handed to them. Returns a ``ProcessPoolExecutor`` of
    ``n`` workers (default: ``$REFORMSIM_CHART_WORKERS``, else one per core, at most 4), or None
    where workers would not help (``n`` = 0, one core) or should not start (no fork server on this
    platform; in a worker process itself, such as a Dask worker); the caller then draws the charts
    itself. The caller shuts the executor down (``shutdown(cancel_futures=True)``). As with any
    worker processes, a script that calls this (or ``sim.cli.main``) must do so under
    ``if __name__ == "__main__":``, since each worker imports the main module."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    if n is None:
        text = os.environ.get(WORKERS_ENV, "").strip()
        if text:
            try:
                n = int(text)
            except ValueError:
                raise InputError(f"${WORKERS_ENV} '{text}' is not a whole number of chart workers") from None
        else:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            n = min(4, cores) if cores > 1 else 0
    if (n < 1 or mp.parent_process() is not None or mp.current_process().daemon
            or "forkserver" not in mp.get_all_start_methods()):
        return None
    import signal
    import threading
    from multiprocessing import forkserver
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    # The server and the workers forked from it inherit an ignored Ctrl-C (SIGINT): it is this
    # process's to handle, and a server interrupted while importing would print a traceback.
    main_thread = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
    try:
        forkserver.ensure_running()
        return ProcessPoolExecutor(n, mp_context=ctx, initializer=_chart_worker_init)
    except (OSError, ValueError, RuntimeError):         # no processes here: draw in this process
        return None
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, old)


def _chart_worker_init() -> None:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stop_chart_server() -> None:
    """Stop the fork server at once, in the middle of its imports if need be: for a command that
    fails before it hands out any chart (a scenario file with bad content). Otherwise the server
    would finish its preload (about 2 s of CPU) before it noticed, holding this process's
    standard streams open meanwhile. The standard library has no public call for this; where its
    internals differ, the server is left to end by itself."""
    import signal
    from multiprocessing import forkserver
    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        server._stop()                  # reaps the process and forgets it
    except (OSError, AttributeError):
        pass
