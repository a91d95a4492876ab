"""Money: transfers by benefit and payer, effort costs by budget line.

Transfers are benefit months x monthly rate x full-time factor, split by payer band: the
employer pays the employer period of the sick from a job; otherwise the municipality pays and
the state refunds the share of the refund staircase (refusionstrappe) for the week band, except
dagpenge, which the state pays and the municipality co-finances by the same week bands
(``data/refund.csv``). Effort costs are activities x unit costs on the expert group's lines,
plus an administration cost per month in a jobcentre case (``data/unit_costs.csv``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .parameters import Data
from .states import (ACTIVITIES, BANDS, BENEFIT_OF_STATE, EFFORT_LINES, N_CELLS, N_STATES, PAYERS,
                     STATE, STATES, cell_parts)

#: states whose person-months carry the jobcentre's case administration cost (the flex-job and
#: subsidised-job holders are in work; the jobcentre only reviews them)
CASE_STATES = tuple(s for s in STATES if s not in ("flex_job", "disability_pension_job"))


def unit_costs(data: Data) -> tuple[np.ndarray, np.ndarray, float]:
    """Cost per activity (DKK), the line index of each activity (-1 = outside the effort) and
    the cost per case-month, with calibrated items from ``data/calibrated.csv``."""
    cost = np.zeros(len(ACTIVITIES))
    line = np.full(len(ACTIVITIES), -1)
    case_month = 0.0
    for row in data.unit_costs.itertuples():
        value = row.dkk_per_unit
        if np.isnan(value):
            value = data.calibrated.get(f"unit_cost.{row.activity}", 0.0)
        if row.activity == "case_month":
            case_month = value
            continue
        a = ACTIVITIES.index(row.activity)
        cost[a] = value
        line[a] = EFFORT_LINES.index(row.line) if row.line in EFFORT_LINES else -1
    return cost, line, case_month


def rate_table(data: Data) -> np.ndarray:
    """Monthly transfer per person (DKK, full-time factor applied) by state and cell: (S, C)."""
    rates = data.rates
    ft = dict(zip(data.fulltime["benefit"], data.fulltime["fulltime_factor"]))
    out = np.zeros((N_STATES, N_CELLS))
    for s, name in enumerate(STATES):
        benefit = BENEFIT_OF_STATE[name]
        if not benefit:
            continue
        rows = rates[rates["benefit"] == benefit].set_index("recipient")["dkk_per_month"]
        for c in range(N_CELLS):
            provider = cell_parts(c)[2]
            if "all" in rows.index:
                r = rows["all"]
            else:
                r = rows["provider" if provider else "other"]
            out[s, c] = r * ft.get(benefit, 1.0)
    return out


def payer_shares(data: Data) -> np.ndarray:
    """Share of each payer (state, municipality, employer) by state and payer band: (S, B, 3)."""
    refund = dict(zip(data.refund["band"], data.refund["state_refund_share"]))
    cofin = dict(zip(data.refund["band"], data.refund["dagpenge_municipal_share"]))
    out = np.zeros((N_STATES, len(BANDS), 3))
    for s, name in enumerate(STATES):
        for b, band in enumerate(BANDS):
            if band == "employer_period":
                out[s, b] = (0.0, 0.0, 1.0)
            elif name == "dagpenge":
                out[s, b] = (1.0 - cofin[band], cofin[band], 0.0)
            else:
                out[s, b] = (refund[band], 1.0 - refund[band], 0.0)
    return out


def transfers(results, data: Data) -> pd.DataFrame:
    """Transfers by month, benefit and payer (DKK)."""
    money = results.occupancy * rate_table(data)[None, :, :, None]        # (M, S, C, B)
    by_state_band = money.sum(axis=2)                                       # (M, S, B)
    split = np.einsum("msb,sbp->msp", by_state_band, payer_shares(data))   # (M, S, P)
    frames = []
    for s, name in enumerate(STATES):
        benefit = BENEFIT_OF_STATE[name]
        if not benefit:
            continue
        for p, payer in enumerate(PAYERS):
            frames.append(pd.DataFrame({"month": results.months, "line": f"transfers:{benefit}",
                                        "payer": payer, "dkk": split[:, s, p]}))
    df = pd.concat(frames)
    return df.groupby(["month", "line", "payer"], as_index=False, sort=False)["dkk"].sum()


def effort_volumes(results) -> dict[str, np.ndarray]:
    """Monthly volumes of each cost item: activities and case-months (persons)."""
    vol = {a: results.activity[:, i].sum(axis=(1, 2)) for i, a in enumerate(ACTIVITIES)}
    case = [STATE[s] for s in CASE_STATES]
    occ = results.occupancy[:, case]                 # (M, S', C, B)
    vol["case_month"] = occ[..., 1:].sum(axis=(1, 2, 3))   # the employer period is not a case
    return vol


def effort(results, data: Data) -> pd.DataFrame:
    """Effort cost by month and line (DKK); paid by the municipalities (assumption)."""
    cost, line, case_cost = unit_costs(data)
    vol = effort_volumes(results)
    out = {ln: np.zeros(len(results.months)) for ln in EFFORT_LINES}
    for a, name in enumerate(ACTIVITIES):
        if line[a] >= 0:
            out[EFFORT_LINES[line[a]]] += vol[name] * cost[a]
    case_line = data.unit_costs.set_index("activity").loc["case_month", "line"]
    out[case_line] += vol["case_month"] * case_cost
    frames = [pd.DataFrame({"month": results.months, "line": ln, "payer": "municipality", "dkk": v})
              for ln, v in out.items()]
    return pd.concat(frames, ignore_index=True)


def budget_table(results, data: Data) -> pd.DataFrame:
    """Tidy yearly budget: year, scenario, line, payer, dkk (effort lines and transfers)."""
    monthly = pd.concat([effort(results, data), transfers(results, data)], ignore_index=True)
    monthly["year"] = monthly["month"].str[:4].astype(int)
    out = monthly.groupby(["year", "line", "payer"], as_index=False, sort=False)["dkk"].sum()
    out.insert(1, "scenario", results.scenario.name)
    return out[["year", "scenario", "line", "payer", "dkk"]]


def effort_total_bn(budget: pd.DataFrame, year: int) -> float:
    sel = (budget["year"] == year) & budget["line"].isin(EFFORT_LINES)
    return float(budget.loc[sel, "dkk"].sum() / 1e9)


def fulltime_sick_stock(results, data: Data) -> float:
    """Average full-time persons on sickness benefit in the base year (after the employer period)."""
    ft = dict(zip(data.fulltime["benefit"], data.fulltime["fulltime_factor"]))["sickness_benefit"]
    sel = results.year_of_month == results.base_year
    sick = [STATE["sick"], STATE["sick_extended"]]
    occ = results.occupancy[sel][:, sick][..., 1:].sum(axis=(1, 2, 3)).mean()
    return float(occ * ft)
