"""The kernel's Python source, run without compilation, agrees with the NumPy engine.

Coverage tools cannot see inside compiled code; this runs the same kernel as plain Python
(NUMBA_DISABLE_JIT=1) on a small sample in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import warnings, numpy as np
warnings.simplefilter("ignore")   # uint64 wrap-around warns on NumPy scalars in plain Python
from sim.scenario import load_scenario
from sim.simulation import build_population, simulate
import pathlib, sys
p = pathlib.Path(sys.argv[1])
p.write_text('description = "x"\nbaseline = "baseline"\n[horizon]\nstart = "2025-01"\nend = "2025-08"\n')
sc = load_scenario(p)
pop = build_population(sc, seed=2, scale=0.0004)
a = simulate(sc, seed=2, engine="numba", population=pop)
b = simulate(sc, seed=2, engine="numpy", population=pop)
assert a.occupancy.sum() > 0
for x, y in ((a.occupancy, b.occupancy), (a.activity, b.activity), (a.flow, b.flow)):
    np.testing.assert_array_equal(x, y)
print("ok", len(pop))
"""


def test_kernel_without_jit_matches_numpy(tmp_path):
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.toml")], capture_output=True,
                         text=True, env=env, cwd=Path(__file__).resolve().parent.parent, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.startswith("ok")
