"""Parameter sweeps and uncertainty bands: many comparisons of one baseline and one reform.

A sweep file (TOML, e.g. ``configs/sweeps/example.toml``) names a baseline, a reform, a scale,
replicate seeds, and the parameters to vary: a ``[grid]`` (every combination of the listed values)
and/or ``[[draw]]`` entries (Monte Carlo draws from a distribution). Each run is one
:func:`sim.comparison.compare` of the baseline and the reform at one parameter point and one seed,
with common random numbers inside the run. Runs go to a Dask cluster (a local one on this
machine's cores, or an existing one by address); each finished run is written at once to its own
Parquet file, so an interrupted sweep resumes where it stopped.

The modules, in the order data flows through them:

- :mod:`~sim.sweep.design`: runs (grid points x draws x seeds), run ids, and which scenario a
  varied parameter changes (a lever of the reform, or the world of both scenarios);
- :mod:`~sim.sweep.spec`: reading and validating a sweep file into its design;
- :mod:`~sim.sweep.run`: one run, from plain parameters, as a table by year;
- :mod:`~sim.sweep.store`: the resumable store of run files (``DIR/runs/run-<id>.parquet``);
- :mod:`~sim.sweep.stats`: the uncertainty bands;
- :mod:`~sim.sweep.outputs`: ``sweep.json``, ``bands.csv``, ``bands.json``, ``bands.png``;
- :mod:`~sim.sweep.execution`: :func:`run_sweep`, running what the store lacks, here or on Dask.

Run ids and resuming
--------------------
A run's id is a hash of everything that determines its result: the contents of the scenario files
and of ``data/``, the scale, engine, breakdown flag, seed and parameter values. ``DIR/runs/`` holds
one ``run-<id>.parquet`` per finished run (failed runs included, with ``status = "failed"`` and the
error). A later call with the same ``--out`` computes only the runs of the current design whose
files are missing. If the sweep file changed, unchanged runs are reused and changed ones are new
runs; files of runs no longer in the design stay in ``runs/`` but are left out of the results.
"""

from .design import PRIORITY, Run, Sweep, files_sha256, parameter_roles, run_id
from .execution import run_sweep
from .outputs import chart_bands, write_bands
from .run import RESULT_COLUMNS, apply_values, run_task
from .spec import load_sweep
from .stats import MEASURES, bands
from .store import collect, run_path

__all__ = ["run_sweep", "bands", "load_sweep", "run_task", "apply_values", "collect", "Sweep", "Run",
           "MEASURES", "PRIORITY", "RESULT_COLUMNS", "chart_bands", "files_sha256", "parameter_roles",
           "run_id", "run_path", "write_bands"]
