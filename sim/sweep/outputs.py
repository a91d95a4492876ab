"""A sweep's output files besides the runs: ``sweep.json`` (the design and its history),
``bands.csv``, ``bands.json`` and ``bands.png``; ``results.parquet`` is written by
:func:`sim.sweep.run_sweep`."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .design import Sweep
from .stats import MEASURES


def write_meta(out: Path, sweep: Sweep, earlier: dict, history_entry: dict | None) -> None:
    from ..report import git_commit, versions
    history = list(earlier.get("history", []))
    if history_entry is not None:
        history.append(history_entry)
    meta = {
        "sweep_file": str(sweep.path), "sweep_sha256": sweep.sha256, "inputs_sha256": sweep.inputs_sha256,
        "description": sweep.description, "baseline": sweep.baseline, "reform": sweep.reform,
        "scale": sweep.scale, "engine": sweep.engine, "breakdown": sweep.breakdown, "seeds": sweep.seeds,
        "parameters": sweep.roles, "variants": sweep.variants, "n_draws": sweep.n_draws,
        "n_runs": len(sweep.runs),
        "runs": [{"run_id": r.run_id, "variant": r.variant, "draw": r.draw, "seed": r.seed,
                  "values": r.values} for r in sweep.runs],
        "history": history, "git_commit": git_commit(), "versions": versions(),
    }
    tmp = out / ".sweep.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, default=str))
    os.replace(tmp, out / "sweep.json")


def _clean(x):
    return None if isinstance(x, float) and not math.isfinite(x) else x


def write_bands(b: pd.DataFrame, out: Path, sweep: Sweep) -> None:
    """``bands.csv`` (tidy), ``bands.json`` (variant -> measure -> year -> figures) and ``bands.png``."""
    b.to_csv(out / "bands.csv", index=False)
    nested: dict = {}
    for row in b.to_dict("records"):
        fig = {k: _clean(row[k]) for k in ("n_draws", "n_seeds", "p5", "p50", "p95", "mean",
                                          "param_sd", "mc_sd", "mc_se")}
        nested.setdefault(row["variant"], {}).setdefault(row["measure"], {})[str(row["year"])] = fig
    doc = {"description": sweep.description, "baseline": sweep.baseline, "reform": sweep.reform,
           "scale": sweep.scale, "units": MEASURES,
           "method": "per draw, the mean over replicate seeds; p5/p50/p95 across draws (parameter "
                     "uncertainty); mc_sd: pooled sd across seeds within a draw, mc_se = mc_sd / "
                     "sqrt(n_seeds) (Monte Carlo error); param_sd: sd across draws less the Monte "
                     "Carlo part",
           "bands": nested}
    (out / "bands.json").write_text(json.dumps(doc, indent=2, allow_nan=False))
    chart_bands(b, out / "bands.png", sweep)


def chart_bands(b: pd.DataFrame, path: Path, sweep: Sweep) -> None:
    """Median and 5-95 % band across draws by year, with the Monte Carlo error as bars."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..charts import tight
    labels = {"savings_bn": ("Savings", "saving"),
              "employment_delta": ("Employment", "change in employment"),
              "net_effect_bn": ("Net effect on the public finances", "net effect")}
    fig, axes = plt.subplots(1, len(MEASURES), figsize=(15, 4.8))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (measure, unit) in zip(axes, MEASURES.items()):
        sub = b[b["measure"] == measure]
        for k, (variant, v) in enumerate(sub.groupby("variant", sort=False)):
            c = colours[k % len(colours)]
            ax.fill_between(v["year"], v["p5"], v["p95"], color=c, alpha=0.2,
                            label=f"{variant}: 5-95 % across draws")
            ax.plot(v["year"], v["p50"], color=c, marker="o", ms=3, label=f"{variant}: median")
            se = v["mc_se"].to_numpy(dtype=float)
            if np.isfinite(se).any():      # offset a little per variant so the bars stay apart
                ax.errorbar(v["year"] + 0.08 * k, v["p50"], yerr=2 * np.nan_to_num(se), fmt="none", ecolor=c,
                            capsize=3, label=f"{variant}: Monte Carlo ±2 s.e.")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title(labels[measure][0])
        ax.set_xlabel("year")
        ax.set_ylabel(f"{labels[measure][1]} ({unit})")
        ax.grid(alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, names, loc="lower center", ncol=min(3, len(handles)), fontsize=8, frameon=False)
    seeds = len(sweep.seeds)
    fig.suptitle(f"Sweep: {Path(sweep.reform).stem} against {Path(sweep.baseline).stem}, "
                 f"{sweep.n_draws} draw(s) x {seeds} seed(s), scale {sweep.scale:g} "
                 "(reform minus baseline; savings and net effect positive when public finances gain)",
                 fontsize=10)
    tight(fig, rect=(0, 0.12 if handles else 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
