"""One run of a sweep: one comparison of the baseline and the reform at one parameter point and
one seed, from plain parameters (so that a Dask worker can run it), as a tidy table by year."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import resource
import socket
import time
from functools import lru_cache

import pandas as pd

from ..errors import InputError
from ..parameters import load_data
from ..scenario import Scenario, load_scenario, month_label
from .design import PRIORITY, files_sha256, parameter_roles


#: result columns of a run, by year
RESULT_COLUMNS = ("savings_bn", "bottom_up_bn", "employment_delta", "net_effect_bn", "derived_effects_bn",
                  "rationed_bn", "youth_cut_bn", "municipalities_gap_bn", "activity_cut_bn", "gap_p10_dkk",
                  "gap_p90_dkk")
#: the columns from the reform's financing regime (``financing.*``), NaN without a business cycle
FINANCING_COLUMNS = {"municipalities_gap_bn": "municipalities_bn", "activity_cut_bn": "activity_cut_bn"}


def apply_values(baseline: Scenario, reform: Scenario, values: dict) -> tuple[Scenario, Scenario]:
    """The baseline and the reform with a sweep's parameter values applied (which scenario each
    changes: :mod:`sim.sweep.design`).

    Parameters
    ----------
    baseline, reform : loaded scenarios
    values : parameter -> value (a number in the parameter's unit, a list of int months for a
        schedule, or a priority rule name for ``effort.priority``)
    """
    base_set = set(baseline.changes)
    own_idx = [k for k, ch in enumerate(reform.changes) if ch not in base_set]
    own_names = {reform.changes[k].parameter for k in own_idx}
    reform_start = min((reform.changes[k].month for k in own_idx), default=reform.start)
    roles = parameter_roles(baseline, reform, values)
    changes = list(reform.changes)
    for k in own_idx:
        name, source = changes[k].parameter, changes[k].source
        if name in values and name in own_names:
            changes[k] = dataclasses.replace(changes[k], value=_as_value(values[name]),
                                             source=f"{source} (value varied by a sweep)")
    reform = dataclasses.replace(reform, changes=changes)
    if PRIORITY in values:
        reform = dataclasses.replace(reform, priority=values[PRIORITY])
    world = {n: _as_value(v) for n, v in values.items() if roles[n] == "world"}
    if world:
        baseline, reform = (_without(baseline, world), _without(reform, world))
        baseline = baseline.with_changes(world, source="sweep: world", provision="sweep: world",
                                         name=baseline.name)
        reform = reform.with_changes(world, source="sweep: world", provision="sweep: world",
                                     name=reform.name)
    for n, v in values.items():
        if roles[n] == "reform" and n != PRIORITY and n not in own_names:
            reform = reform.with_changes({n: _as_value(v)}, start=month_label(reform_start),
                                         source="sweep", provision=f"sweep: {n}", name=reform.name)
    return baseline, reform


def _as_value(v):
    return tuple(v) if isinstance(v, list) else v


def _without(scenario: Scenario, names) -> Scenario:
    """``scenario`` without its changes of ``names`` (a sweep's world value replaces them)."""
    return dataclasses.replace(scenario, changes=[ch for ch in scenario.changes if ch.parameter not in names])


@lru_cache(maxsize=8)
def _scenarios(baseline_ref: str, reform_ref: str, inputs_sha256: str) -> tuple[Scenario, Scenario]:
    data = load_data()
    baseline = load_scenario(baseline_ref, data)
    reform = load_scenario(reform_ref, baseline.data)
    if files_sha256(baseline, reform) != inputs_sha256:
        raise InputError("the scenario files or data/ where this run ran differ from those the sweep "
                         "was set up with (a worker with another checkout?)")
    return baseline, reform


def _param_columns(values: dict) -> dict:
    return {n: (json.dumps(v) if isinstance(v, list) else v) for n, v in values.items()}


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB; ru_maxrss is in kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def failed_rows(task: dict, error: str) -> list[dict]:
    head = {"run_id": task["run_id"], "variant": task["variant"], "draw": task["draw"],
            "seed": task["seed"], **_param_columns(task["values"])}
    return [{**head, "year": None, **{c: math.nan for c in RESULT_COLUMNS},
             "status": "failed", "error": error}]


def _financing(comp) -> dict | None:
    """The reform's financing figures by column and year, with a business cycle (else None): the
    municipalities' gap and the activity cut (bn), and the 10th and 90th percentile of the gap per
    inhabitant across the 98 (DKK)."""
    from .. import financing
    fin = financing.financing_tables(comp)
    if fin is None or comp.reform.scenario.name not in set(fin["scenario"]):
        return None
    keys = financing.summary_keys(comp, fin)
    p = f"financing.{comp.reform.scenario.financing}."
    out = {col: keys[p + key] for col, key in FINANCING_COLUMNS.items()}
    gap = keys[p + "gap_per_inhabitant_dkk"]
    out.update({"gap_p10_dkk": gap["p10"], "gap_p90_dkk": gap["p90"]})
    return out


def run_task(task: dict) -> pd.DataFrame:
    """Run one comparison from plain parameters (see :meth:`Sweep.task`) and return its tidy table.

    Returns
    -------
    DataFrame
        One row per year: run_id, variant, draw, seed, the varied parameters, year, savings_bn,
        bottom_up_bn, derived_effects_bn, net_effect_bn, rationed_bn and youth_cut_bn (bn DKK;
        savings and net effect positive when the public finances gain; the effort cut by
        rationing, and the cut of the young's effort, bottom-up plus rationed); with a business
        cycle, the reform's municipalities_gap_bn, activity_cut_bn (bn DKK) and gap_p10_dkk,
        gap_p90_dkk (DKK per inhabitant across the 98; ``sim.financing``); employment_delta
        (full-time persons, reform minus baseline), status ('ok' or 'failed'), error, wall_s (s),
        peak_rss_mb (MB, this worker's peak so far) and worker (host:pid). A run that raises gives
        one row with status 'failed'.
    """
    from ..comparison import compare
    from ..summary import comparison_summary as summary
    t0 = time.perf_counter()
    try:
        baseline, reform = _scenarios(task["baseline"], task["reform"], task["inputs_sha256"])
        baseline, reform = apply_values(baseline, reform, task["values"])
        comp = compare(baseline, reform, seed=task["seed"], engine=task["engine"], scale=task["scale"],
                       breakdown=task["breakdown"])
        s = summary(comp)
        cycle = _financing(comp)
        head = {"run_id": task["run_id"], "variant": task["variant"], "draw": task["draw"],
                "seed": task["seed"], **_param_columns(task["values"])}
        rows = []
        for y in (str(y) for y in comp.years):
            row = {**head, "year": int(y),
                   "savings_bn": s["budget.savings_bn"][y],
                   "bottom_up_bn": s["budget.bottom_up_process_savings_bn"][y],
                   "employment_delta": s["employment.fulltime_persons_delta"][y],
                   "net_effect_bn": s["public_finances.net_effect_bn"][y],
                   "derived_effects_bn": s["budget.savings_by_line_bn"]["derived_effects"][y],
                   "rationed_bn": s["budget.rationed_bn"][y],
                   "youth_cut_bn": s["budget.effort_cut_by_group_bn"]["youth"][y],
                   **{c: cycle[c][y] if cycle else math.nan for c in (*FINANCING_COLUMNS, "gap_p10_dkk", "gap_p90_dkk")},
                   "status": "ok", "error": ""}
            for prov, by_year in s["budget.bottom_up_by_provision_bn"].items() if task["breakdown"] else ():
                row[f"bottom_up_bn:{prov}"] = by_year[y]
            rows.append(row)
    except Exception as exc:  # a failed run is recorded; the others go on
        rows = failed_rows(task, " ".join(f"{type(exc).__name__}: {exc}".split()))
    df = pd.DataFrame(rows)
    df["year"] = df["year"].astype("Int64")
    df["wall_s"] = time.perf_counter() - t0
    df["peak_rss_mb"] = _peak_rss_mb()
    df["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return df
