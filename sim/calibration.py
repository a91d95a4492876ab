"""Calibration: solving the free parameters against the targets in ``data/``, and the report.

Three things are solved and written to ``data/calibrated.csv`` by ``reformsim calibrate --write``:

1. **Inflows.** The model is linear in its inflows (hazards do not depend on caseloads in the
   rule-driven mode), so the steady-state stock is ``stock = inflow @ M`` where ``M[s, j]`` is
   the expected number of months an entrant to state ``s`` spends in state ``j``. ``M`` is
   measured by simulating a large cohort of entrants to each state; the sick inflow is fixed
   by the 700,000 target, the other inflows are solved (non-negative least squares) so that
   every stock target is met.
2. **Unit costs.** The three cost items marked ``calibrated`` in ``data/unit_costs.csv`` are set
   so that each effort line in the base year equals its share of the 11.4 bn
   (``data/effort_lines.csv``), given the activities of a full-scale baseline run.
3. **The external-provider share of offers.** One share for the offers and job-oriented
   education (``external_share`` = ``calibrated`` in ``data/unit_costs.csv``) so that the cost
   paid to external providers in the base year is ``effort.external_providers_bn`` (about 3.7 bn,
   001), given the other items' shares.

Solved and written to ``data/parameters.csv``:

4. **The fixed share of the effort lines** (``money.effort_fixed_share``), which no document
   gives, so that the expert group's reform reproduces what the documents say of its model:
   its rule changes free about 1.2 bn in 2030 (target ``reform.bottom_up_process_savings_bn``,
   KL reading the report in 001). The rule-driven runs do not read the share, so the bottom-up
   saving is exactly (1 - share) x the variable cost the rule changes free: one run solves it.

``report`` compares a baseline run with every baseline target (roles ``calibrated`` and
``reported``): target, model, deviation, tolerance; ``reform_report`` compares the expert group's
reform with the targets of role ``reform``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from .budget import (CASE_MONTH, CASEWORKER_ITEMS, DKK_PER_BN, EXTERNAL_SHARE_CALIBRATED,
                     FURTHEST_FACTOR, OFFER_ITEMS, TIME_SCALE, YOUTH_OFFER_FACTOR, benefit_switches,
                     effort_by_item, effort_measures, furthest_mask, youth_cells)
from .parameters import Data
from .population import WEIGHT_UNIT, new_spells
from .rules import build_tables
from .simulation import run_engine
from .states import ACTIVITIES, N_STATES, STATE, STATES

COHORT_SIZE = 200_000
COHORT_MONTHS = 600
CALIBRATED_ITEMS = ("offer_guidance_month", "offer_education_month")
#: the target the caseworker time of those furthest from the labour market is solved for
FAR_SHARE_TARGET = "effort.far_share_of_caseworker_time"
#: the target the offers' cost to persons under 30 is solved for, and the bracket of the factor
YOUTH_TARGET = "effort.youth_offers_bn"
YOUTH_FACTOR_MAX = 10.0
#: the reform and year the targets of role 'reform' describe (001: the expert group's model, 2030)
REFORM_SCENARIO = "expert_group"
REFORM_YEAR = 2030
#: the target that the fixed share of the effort lines is solved for
FIXED_SHARE_TARGET = "reform.bottom_up_process_savings_bn"


def occupancy_matrix(data: Data, cohort: int = COHORT_SIZE, months: int = COHORT_MONTHS,
                     seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    """Per entrant to state s (simulated cohorts of ``cohort`` persons over ``months`` months):
    M[s, j] expected months in state j, and F[s, j] expected later entries into state j."""
    tables = build_tables([data.params])
    M = np.zeros((N_STATES, N_STATES))
    F = np.zeros((N_STATES, N_STATES))
    for s, name in enumerate(STATES):
        pop = new_spells(data, name, cohort, seed)
        occ, _, flow, *_ = run_engine(pop, tables, np.zeros(months, np.int32), seed, 0, months)
        M[s] = occ.sum(axis=(0, 1, 3, 4)) / WEIGHT_UNIT / cohort
        F[s] = flow.sum(axis=(0, 1))[:N_STATES, :N_STATES].sum(axis=0) / WEIGHT_UNIT / cohort
        # a new spell is its own first entry; moves into a state count as entries into it
    return M, F


def solve_inflows(data: Data, M: np.ndarray, F: np.ndarray) -> tuple[dict, dict]:
    """Monthly new spells per state, and the stock that started before the first month.

    The sick inflow is set so that persons on sick benefit in a year (those already sick at its
    start plus new spells) equal the 700,000 target; the other inflows so that the average
    caseload of each state with a stock target meets it (non-negative least squares).
    """
    from scipy.optimize import nnls    # here: scipy takes 0.3 s to import, and only calibration needs it
    sick, ext = STATE["sick"], STATE["sick_extended"]
    # persons sick at the start of a month who started earlier, per unit of monthly sick inflow
    carried = M[sick, sick] + M[sick, ext] - 1.0 - F[sick, ext]
    sick_inflow = data.target("sick.persons_per_year") / (12.0 + carried)
    targets = {name: data.target(f"stock.{name}") for name in STATES
               if f"stock.{name}" in set(data.targets["name"])}
    free = [s for s, name in enumerate(STATES) if name in targets]
    want = np.array([targets[STATES[j]] for j in free]) - sick_inflow * M[sick, free]
    x, _ = nnls(M[np.ix_(free, free)].T, want)
    inflow = np.zeros(N_STATES)
    inflow[sick] = sick_inflow
    inflow[free] = x
    caseload = inflow @ M
    entries = inflow + inflow @ F
    stock0 = caseload - entries
    return ({STATES[s]: float(inflow[s]) for s in range(N_STATES)},
            {STATES[s]: float(stock0[s]) for s in range(N_STATES)})


def solve_offer_costs(results, data: Data) -> tuple[dict, float]:
    """Calibrated unit costs of the line-average offers (``CALIBRATED_ITEMS``, an adult's month)
    and the youth factor (``sim.budget.YOUTH_OFFER_FACTOR``), solved together from a baseline run's
    base year.

    Each calibrated item is the only one on its line: its line's total in
    ``data/effort_lines.csv`` less the other items there pays for its months, a month to a
    person under 30 counting as the factor times an adult's, so an adult's month costs
    ``rest / (adult months + factor x youth months)``. The factor is then the one that makes the
    offers to persons under 30 cost ``effort.youth_offers_bn`` (KL's 750 m, 001); what they cost
    rises with it, so the root is unique (Brent's method)."""
    from scipy.optimize import brentq  # here: scipy takes 0.3 s to import, and only calibration needs it
    lines = dict(zip(data.effort_lines["line"], data.effort_lines["baseline_bn"] * DKK_PER_BN))
    line_of = dict(zip(data.unit_costs["activity"], data.unit_costs["line"]))
    months = results.year_of_month == results.base_year
    items = effort_by_item(results, data)
    yearly = {k: v[months].sum(axis=0) for k, v in items.items()}                # (S, C) DKK
    youth = youth_cells()
    parts = {}
    for item in CALIBRATED_ITEMS:
        line = line_of[item]
        if sum(line_of[k] == line for k in CALIBRATED_ITEMS) > 1:
            raise ValueError(f"effort_lines.csv: '{item}': two calibrated items on line '{line}'")
        rest = lines[line] - sum(float(v.sum()) for k, v in yearly.items() if line_of.get(k) == line and k != item)
        act = results.activity[months, ACTIVITIES.index(item)].sum(axis=0)         # (S, C) months
        adult, young = float(act[:, ~youth].sum()), float(act[:, youth].sum())
        if adult + young <= 0 or rest <= 0:
            raise ValueError(f"effort_lines.csv: cannot calibrate '{item}': volume {adult + young:.0f}, remaining budget "
                             f"{rest / DKK_PER_BN:.2f} bn on line '{line}'")
        parts[item] = rest, adult, young
    others = sum(float(yearly[k][:, youth].sum()) for k in OFFER_ITEMS if k in yearly and k not in CALIBRATED_ITEMS)
    target = data.target(YOUTH_TARGET) * DKK_PER_BN

    def youth_cost(factor: float) -> float:
        return others + sum(factor * y * rest / (a + factor * y) for rest, a, y in parts.values())

    top = youth_cost(YOUTH_FACTOR_MAX)
    if not others < target < top:
        raise ValueError(f"targets.csv: {YOUTH_TARGET}: no youth factor in (0, {YOUTH_FACTOR_MAX}] gives "
                         f"{target / DKK_PER_BN:.2f} bn on offers "
                         f"to the young: from {others / DKK_PER_BN:.2f} to {top / DKK_PER_BN:.2f} bn")
    factor = brentq(lambda f: youth_cost(f) - target, 0.0, YOUTH_FACTOR_MAX, xtol=1e-12)
    return {item: rest / (a + factor * y) for item, (rest, a, y) in parts.items()}, factor


def solve_caseworker_time(results, data: Data) -> tuple[float, float]:
    """``(time scale, furthest factor)`` of the caseworker items (``sim.budget.time_weights``):
    the factor makes the share of caseworker cost spent on those furthest from the labour market
    the target ``effort.far_share_of_caseworker_time`` (VIVE's 80 %, 000), the scale makes the
    jobcentre line in the base year its total in ``data/effort_lines.csv``, given the other
    items on the line. ``results``: a baseline run; the unit costs of ``data/unit_costs.csv``
    are read as relative times (the calibrated multipliers in ``data`` are left out)."""
    base = dataclasses.replace(data, calibrated={k: v for k, v in data.calibrated.items()
                                                 if k not in (TIME_SCALE, FURTHEST_FACTOR)})
    items = effort_by_item(results, base)
    months = results.year_of_month == results.base_year
    furthest = furthest_mask()
    yearly = {k: v[months].sum(axis=0) for k, v in items.items()}               # (S, C)
    far = sum(float(yearly[k][furthest].sum()) for k in CASEWORKER_ITEMS)
    rest = sum(float(yearly[k][~furthest].sum()) for k in CASEWORKER_ITEMS)
    line_of = dict(zip(data.unit_costs["activity"], data.unit_costs["line"]))
    line = line_of[CASE_MONTH]
    total = float(data.effort_lines.set_index("line").loc[line, "baseline_bn"]) * DKK_PER_BN
    others = sum(float(v.sum()) for k, v in yearly.items() if line_of.get(k) == line and k not in CASEWORKER_ITEMS)
    share = data.target(FAR_SHARE_TARGET)
    if far <= 0 or rest <= 0 or not 0 < share < 1 or total <= others:
        raise ValueError(f"cannot solve the caseworker time: {far / DKK_PER_BN:.2f} bn on those furthest "
                         f"away, {rest / DKK_PER_BN:.2f} bn on the others, share {share}, "
                         f"{(total - others) / DKK_PER_BN:.2f} bn left on line '{line}'")
    factor = share * rest / ((1.0 - share) * far)
    return (total - others) / (rest + factor * far), factor


def solve_external_share(results, data: Data) -> float:
    """The one external-provider share of the offers and job-oriented education (the items of
    ``data/unit_costs.csv`` whose ``external_share`` is 'calibrated') that makes the base year's
    cost paid to external providers equal the target ``effort.external_providers_bn``."""
    target = data.target("effort.external_providers_bn") * DKK_PER_BN
    items = effort_by_item(results, data)
    months = results.year_of_month == results.base_year
    shares = dict(zip(data.unit_costs["activity"], data.unit_costs["external_share"]))
    fixed = sum(float(v[months].sum()) * shares[k] for k, v in items.items() if not np.isnan(shares.get(k, 0.0)))
    free = sum(float(v[months].sum()) for k, v in items.items() if np.isnan(shares.get(k, 0.0)))
    share = (target - fixed) / free if free > 0 else math.nan
    if not 0 <= share <= 1:
        raise ValueError(f"no external share in [0, 1] gives {target / DKK_PER_BN:.2f} bn: the other items "
                         f"pay {fixed / DKK_PER_BN:.2f} bn, the calibrated ones cost {free / DKK_PER_BN:.2f} bn")
    return share


def write_calibrated(data: Data, inflows: dict, stocks: dict, unit_costs: dict,
                     external_share: float | None = None, caseworker: tuple[float, float] | None = None,
                     youth_factor: float | None = None) -> pd.DataFrame:
    rows = []
    for name, v in inflows.items():
        rows.append((f"inflow.{name}", round(v, 3), "persons per month",
                     "calibrated: reformsim calibrate --write (targets in data/targets.csv)"))
    for name, v in stocks.items():
        rows.append((f"stock0.{name}", round(max(v, 0.0), 1), "persons",
                     "calibrated: steady-state persons who started before the first month "
                     "(reformsim calibrate --write)"))
    for item, v in unit_costs.items():
        rows.append((f"unit_cost.{item}", round(v, 2), "DKK per unit (an adult's month)",
                     "calibrated: effort line totals in data/effort_lines.csv, a month to a person under 30 "
                     f"counting {YOUTH_OFFER_FACTOR} times as much (reformsim calibrate --write)"))
    if caseworker is None and TIME_SCALE in data.calibrated:
        caseworker = data.calibrated[TIME_SCALE], data.calibrated.get(FURTHEST_FACTOR, 1.0)
    if caseworker is not None:
        rows.append((TIME_SCALE, round(caseworker[0], 4), "multiplier of the caseworker items' unit costs",
                     "calibrated: the jobcentre line total in data/effort_lines.csv, given the relative times "
                     "in data/unit_costs.csv (reformsim calibrate --write)"))
        rows.append((FURTHEST_FACTOR, round(caseworker[1], 4),
                     "caseworker time of a person furthest from the labour market relative to another's",
                     f"calibrated: {FAR_SHARE_TARGET} in data/targets.csv, VIVE's 80 % "
                     "(000_66bb68d8b6be87ab.txt; reformsim calibrate --write)"))
    if youth_factor is None:
        youth_factor = data.calibrated.get(YOUTH_OFFER_FACTOR)
    if youth_factor is not None:
        rows.append((YOUTH_OFFER_FACTOR, round(youth_factor, 4),
                     "cost of a guidance or education offer month to a person under 30 relative to an adult's",
                     f"calibrated: {YOUTH_TARGET} in data/targets.csv, about 750 m DKK a year on offers to the young "
                     "(001_206b5bce95c5401e.txt), the lines' totals in data/effort_lines.csv kept "
                     "(reformsim calibrate --write)"))
    if external_share is None:
        external_share = data.calibrated.get(EXTERNAL_SHARE_CALIBRATED)
    if external_share is not None:
        rows.append((EXTERNAL_SHARE_CALIBRATED, round(external_share, 4), "share of the cost paid to external providers",
                     "calibrated: effort.external_providers_bn in data/targets.csv (reformsim calibrate --write)"))
    df = pd.DataFrame(rows, columns=["name", "value", "unit", "source"])
    df.to_csv(data.directory / "calibrated.csv", index=False)
    return df


def report(results, data: Data, budget_summary: dict) -> pd.DataFrame:
    """Targets beside the model: name, target, model, deviation (share), tolerance, within, source."""
    y = results.base_year
    model = {
        "sick.persons_per_year": results.sick_persons_per_year()[y],
        "sick.reaching_week22_per_year": results.sick_reaching_week22_per_year()[y],
        "sick.to_job_clarification_per_year": results.sick_to_job_clarification_per_year()[y],
        "budget.effort_baseline_bn": budget_summary["budget.effort_baseline_bn"],
    }
    year_months = results.year_of_month == y
    occ = results.occupancy[year_months].sum(axis=(2, 3)).mean(axis=0)     # average stock by state
    for s, name in enumerate(STATES):
        model[f"stock.{name}"] = float(occ[s])
    model["sick.stock_fulltime"] = budget_summary["sick.stock_fulltime"]
    model.update(effort_measures(results, data, y))
    model["flows.benefit_switches_per_year"] = benefit_switches(results, y)
    return _rows(data, model, ("calibrated", "reported"))


def duration_profile(results, data: Data) -> pd.DataFrame:
    """Share of the sick stock by spell duration: the 2012 table (pre-2014 rules) beside the model.

    The model's durations are counted from the first sick day; the table counts weeks on benefit.
    Shares are taken within the bands from week 5 on, where the two definitions agree best.
    """
    prof = data.sick_profile
    # model: persons in the sick states by payer band (weeks 1-4, 5-26, 27-52, 53+ of the spell)
    y = results.base_year
    sel = results.year_of_month == y
    bands = results.occupancy[sel][:, list(STATE[s] for s in ("sick", "sick_extended"))].sum(axis=(1, 2)).mean(axis=0)
    model = {"weeks 5-26": bands[2], "weeks 27-52": bands[3], "weeks 53+": bands[4]}
    table = {
        "weeks 5-26": prof.loc[(prof.from_week >= 5) & (prof.to_week <= 26), "persons"].sum(),
        "weeks 27-52": prof.loc[(prof.from_week >= 27) & (prof.to_week <= 52), "persons"].sum(),
        "weeks 53+": prof.loc[prof.from_week >= 53, "persons"].sum(),
    }
    tm, tt = sum(model.values()), sum(table.values())
    return pd.DataFrame([(k, table[k] / tt, model[k] / tm) for k in table],
                        columns=["duration", "share_2012_table", "share_model"])


def reform_measures(summary: dict, year: int = REFORM_YEAR) -> dict:
    """The comparison's figures under the names of the role-'reform' targets."""
    y = str(year)
    return {
        "reform.bottom_up_process_savings_bn": summary["budget.bottom_up_process_savings_bn"][y],
        "reform.rationed_bn": summary["budget.rationed_bn"][y],
        "reform.youth_effort_cut_bn": summary["budget.effort_cut_by_group_bn"]["youth"][y],
        # a part of the documents' 1.6 bn of less effort, so of the rationed amount (not the rule changes')
        "reform.vulnerable_and_insured_cut_bn": (summary["budget.rationed_by_group_bn"]["vulnerable_adults"][y]
                                                 + summary["budget.rationed_by_group_bn"]["insured_unemployed"][y]),
    }


def _rows(data: Data, model: dict, roles: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for t in data.targets.itertuples():
        if t.role not in roles or t.name not in model:
            continue
        m = model[t.name]
        dev = (m - t.value) / t.value
        rows.append((t.name, t.value, m, dev, t.tolerance, abs(dev) <= t.tolerance, t.role, t.unit,
                     t.source))
    return pd.DataFrame(rows, columns=["target", "value", "model", "deviation", "tolerance", "within",
                                       "role", "unit", "source"])


def reform_report(data: Data, summary: dict, year: int = REFORM_YEAR) -> pd.DataFrame:
    """The expert group's reform (``summary``: its comparison's summary) against the targets of
    role ``reform``, in ``report``'s columns."""
    return _rows(data, reform_measures(summary, year), ("reform",))


def solve_fixed_share(bottom_up_bn: float, share_now: float, target_bn: float) -> float:
    """The fixed share that makes the bottom-up saving ``target_bn``, given the saving
    ``bottom_up_bn`` at the share ``share_now`` (the saving is (1 - share) x what is freed)."""
    freed = bottom_up_bn / (1.0 - share_now)
    share = 1.0 - target_bn / freed if freed > 0 else math.nan
    if not 0.0 <= share < 1.0:
        raise ValueError(f"no fixed share in [0, 1) gives {target_bn:.2f} bn: the rule changes free "
                         f"{freed:.2f} bn of variable cost")
    return share


def write_parameter(data: Data, name: str, value: float) -> None:
    """Set the value of one row of ``data/parameters.csv``, leaving every other byte as it is."""
    path = data.directory / "parameters.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.split(",", 1)[0] == name]
    if len(hits) != 1:
        raise ValueError(f"{path}: {len(hits)} rows named '{name}'")
    first, _, rest = lines[hits[0]].split(",", 2)
    lines[hits[0]] = f"{first},{value},{rest}"
    path.write_text("".join(lines), encoding="utf-8")
