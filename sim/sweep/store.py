"""The store of a sweep's runs: ``DIR/runs/`` holds one ``run-<id>.parquet`` per finished run
(failed runs included, with ``status = "failed"`` and the error), each written at once and whole,
so that an interrupted sweep resumes where it stopped. A later call with the same ``DIR`` computes
only the runs of the current design whose files are missing; files of runs no longer in the design
stay in ``runs/`` but are left out of the results."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .design import Sweep


def run_path(out: Path, rid: str) -> Path:
    return out / "runs" / f"run-{rid}.parquet"


def write_atomic(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def recorded(out: Path, sweep: Sweep) -> dict[str, str]:
    """Status of each run of the design that has a readable file in ``out/runs``."""
    status = {}
    for run in sweep.runs:
        p = run_path(out, run.run_id)
        if p.exists():
            try:
                status[run.run_id] = str(pd.read_parquet(p, columns=["status"])["status"].iloc[0])
            except Exception:  # unreadable (not written by us): computed again
                continue
    return status


def prepare(out: Path, sweep: Sweep) -> dict:
    """Create ``out`` and ``out/runs``; read the earlier sweep.json if there is one."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    meta = out / "sweep.json"
    earlier = {}
    if meta.exists():
        try:
            earlier = json.loads(meta.read_text())
        except (OSError, json.JSONDecodeError):
            raise InputError(f"--out {out}: sweep.json cannot be read; give another --out") from None
    elif out.exists() and any(p.name != "runs" for p in out.iterdir()):
        raise InputError(f"--out {out}: the directory holds other files and no sweep.json; "
                         "give a new or empty directory (or one an earlier sweep wrote)")
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the output directory ({exc.strerror})") from None
    for stale in (out / "runs").glob(".run-*.tmp-*"):
        stale.unlink(missing_ok=True)     # a write cut short by an interruption
    return earlier


def collect(out: Path, sweep: Sweep) -> pd.DataFrame:
    """All runs of the design from ``out/runs``, in design order (tidy, one row per run and year).

    Variant and draw come from the design, not the file: two draws that happen to have the same
    values and seed share one run file (computed once), and the draws may be numbered otherwise
    than when the file was written (an edited sweep file)."""
    frames = []
    for r in sweep.runs:
        p = run_path(out, r.run_id)
        if p.exists():
            frames.append(pd.read_parquet(p).assign(variant=r.variant, draw=r.draw))
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    df["year"] = df["year"].astype("Int64")
    return df
