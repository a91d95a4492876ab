"""Uncertainty bands of a sweep's results: percentiles across draws, with the Monte Carlo error
across seeds kept apart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


#: measures with uncertainty bands, and their units
MEASURES = {"savings_bn": "bn DKK per year", "employment_delta": "full-time persons",
            "net_effect_bn": "bn DKK per year"}


def bands(df: pd.DataFrame, by: str = "variant") -> pd.DataFrame:
    """Percentile bands by year across draws, with Monte Carlo error kept apart.

    For each variant, draw and year the replicate seeds are averaged first; the percentiles
    5/50/95 are then taken across the draws (parameter uncertainty). The spread across seeds
    within a draw is the Monte Carlo error, reported separately.

    Returns
    -------
    DataFrame
        One row per variant, measure and year: n_draws, n_seeds (fewest seeds in a draw), p5, p50,
        p95 and mean (across draws of the per-draw means), param_sd (spread across draws with the
        Monte Carlo part taken out: sqrt(max(0, var(draw means) - mc_se^2))), mc_sd (pooled
        standard deviation across seeds within a draw: the noise of one run) and mc_se (mc_sd /
        sqrt(n_seeds): the noise left in a draw's mean). NaN where there are too few draws or
        seeds to say. Units as in :data:`MEASURES`.
    """
    cols = [by, "measure", "year", "unit", "n_draws", "n_seeds", "p5", "p50", "p95", "mean",
            "param_sd", "mc_sd", "mc_se"]
    if df.empty or "status" not in df:
        return pd.DataFrame(columns=cols)
    ok = df[(df["status"] == "ok") & df["year"].notna()]
    rows = []
    for measure, unit in MEASURES.items():
        per_draw = ok.groupby([by, "draw", "year"], sort=False)[measure].agg(["mean", "var", "count"])
        for (variant, year), sub in per_draw.groupby(level=[0, 2], sort=False):
            means = sub["mean"].to_numpy(dtype=float)
            n_seeds = int(sub["count"].min())
            within = sub["var"].to_numpy(dtype=float)
            mc_sd = float(np.sqrt(np.nanmean(within))) if n_seeds > 1 else math.nan
            mc_se = mc_sd / math.sqrt(n_seeds) if n_seeds > 1 else math.nan
            between = float(np.var(means, ddof=1)) if len(means) > 1 else math.nan
            param_sd = math.sqrt(max(0.0, between - (mc_se ** 2 if n_seeds > 1 else 0.0))) \
                if len(means) > 1 else math.nan
            p5, p50, p95 = (float(x) for x in np.percentile(means, [5, 50, 95]))
            rows.append({by: variant, "measure": measure, "year": int(year), "unit": unit,
                         "n_draws": len(means), "n_seeds": n_seeds, "p5": p5, "p50": p50, "p95": p95,
                         "mean": float(means.mean()), "param_sd": param_sd, "mc_sd": mc_sd, "mc_se": mc_se})
    return pd.DataFrame(rows, columns=cols).sort_values([by, "measure", "year"], kind="stable",
                                                         ignore_index=True)
