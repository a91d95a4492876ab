"""Money: transfers by benefit and payer, effort costs by budget line.

Transfers are benefit months x monthly rate x full-time factor, split by payer band: the
employer pays the employer period of the sick from a job; otherwise the municipality pays and
the state refunds the share of the refund staircase (refusionstrappe) for the week band, except
dagpenge, which the state pays and the municipality co-finances by the same week bands
(``data/refund.csv``). Effort costs are activities x unit costs on the expert group's lines,
plus an administration cost per month in a jobcentre case (``data/unit_costs.csv``). A share of
each line (``money.effort_fixed_share``: management, IT, company service, provider contracts)
does not move with activity in the short run: a line costs that share of its documented total
(``data/effort_lines.csv``) plus the rest of the share times its activity's cost, so that rule
changes and rationing act on the variable part only.

Figures are computed as arrays by (line, payer) label and month; the tidy tables are built once
from them at the end. Sums over states and months use pandas' grouped sum (compensated, in row
order), so they equal a group-by of the tidy monthly tables to the last bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .layout import FLAG_BIT, N_COST_CLASSES, R_RESTART_CONTACT
from .parameters import FIXED_SHARE, Data
from .rules import cost_classes
from .population import WEIGHT_UNIT
from .states import (ACTIVITIES, BANDS, BENEFIT_OF_STATE, CASE_STATES, EFFORT_LINES, N_CELLS,
                     N_STATES, PAYERS, STATE, STATES, cell_parts)

#: DKK in a billion (figures in bn DKK are DKK / DKK_PER_BN)
DKK_PER_BN = 1e9

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


#: calibrated multipliers of the caseworker items' unit costs (data/calibrated.csv): the scale of
#: the hours assumed in data/unit_costs.csv, and how many times as much time a person furthest
#: from the labour market takes (calibrated to VIVE's 80 %, ``effort.far_share_of_caseworker_time``)
TIME_SCALE = "caseworker.time_scale"
FURTHEST_FACTOR = "caseworker.furthest_factor"
#: calibrated multiplier of the line-average offers' unit cost for a person under 30
#: (``YOUTH_PRICED_ITEMS``; calibrated to KL's 750 m on offers to the young, ``effort.youth_offers_bn``)
YOUTH_OFFER_FACTOR = "offers.youth_cost_factor"
#: the offers whose unit cost is their line's average (calibrated in data/unit_costs.csv), which
#: cost a person under 30 the youth factor times an adult's; company-based offers have their own
#: assumed cost, the same for all
YOUTH_PRICED_ITEMS = ("offer_guidance_month", "offer_education_month")


def class_parts() -> tuple[np.ndarray, np.ndarray]:
    """For each cost class (``sim.layout.N_COST_CLASSES``): whether it is furthest from the
    labour market, and whether it is under 30 (bool arrays)."""
    classes = np.arange(N_COST_CLASSES)
    return classes % 2 == 1, classes // 2 == 1


def time_weights(data: Data) -> np.ndarray:
    """Multiplier of a caseworker item's unit cost by cost class (N_COST_CLASSES,): the time scale,
    times the furthest factor for a class furthest from the labour market (1 where not
    calibrated)."""
    furthest, _ = class_parts()
    scale = data.calibrated.get(TIME_SCALE, 1.0)
    return scale * np.where(furthest, data.calibrated.get(FURTHEST_FACTOR, 1.0), 1.0)


def cost_by_class(data: Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit costs by cost class: the cost of each activity (N_COST_CLASSES, A), DKK, its line
    index (A,) (-1 outside the effort) and the cost of a case-month by class (N_COST_CLASSES,).
    The caseworker items (``CASEWORKER_ITEMS``) take :func:`time_weights`, the line-average
    offers (``YOUTH_PRICED_ITEMS``) the youth factor for the classes under 30; the others cost the
    same for everybody."""
    cost, line, case_cost = unit_costs(data)
    weights = time_weights(data)
    _, young = class_parts()
    by_class = np.repeat(cost[None, :], N_COST_CLASSES, axis=0)
    for name in CASEWORKER_ITEMS:
        if name != CASE_MONTH:
            by_class[:, ACTIVITIES.index(name)] *= weights
    for name in YOUTH_PRICED_ITEMS:
        by_class[young, ACTIVITIES.index(name)] *= data.calibrated.get(YOUTH_OFFER_FACTOR, 1.0)
    return by_class, line, case_cost * weights


def cost_by_cell(data: Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`cost_by_class` by state and cell: activity costs (A, S, C), their lines (A,) and the
    case-month cost (S, C)."""
    by_class, line, case_cost = cost_by_class(data)
    tc = cost_classes().astype(np.int64)                          # (S, C)
    return np.moveaxis(by_class[tc], 2, 0), line, case_cost[tc]


def rate_table(data: Data) -> np.ndarray:
    """Monthly transfer per person (DKK, full-time factor applied) by state and cell: (S, C)."""
    ft = dict(zip(data.fulltime["benefit"], data.fulltime["fulltime_factor"]))
    rates: dict[str, dict[str, float]] = {}
    for benefit, recipient, dkk in zip(data.rates["benefit"], data.rates["recipient"],
                                       data.rates["dkk_per_month"]):
        rates.setdefault(benefit, {})[recipient] = dkk
    provider = [cell_parts(c)[2] for c in range(N_CELLS)]
    out = np.zeros((N_STATES, N_CELLS))
    for s, name in enumerate(STATES):
        benefit = BENEFIT_OF_STATE[name]
        if not benefit:
            continue
        rows = rates.get(benefit, {})
        for c in range(N_CELLS):
            r = rows["all"] if "all" in rows else rows["provider" if provider[c] else "other"]
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


def _group_sum(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sums of ``values`` by group code 0..n_groups-1 (every code present), by pandas' grouped
    sum (compensated summation, in row order): the same figures as a group-by of a tidy table."""
    sums = pd.Series(values).groupby(codes).sum().to_numpy()
    assert len(sums) == n_groups
    return sums


def _sum_rows_by_label(labels: list[tuple[str, str]], values: np.ndarray):
    """Rows (R, M) with the same (line, payer) label summed month by month: the distinct labels
    in order of first appearance and their monthly sums (L, M)."""
    distinct = list(dict.fromkeys(labels))
    index = {label: i for i, label in enumerate(distinct)}
    n_months = values.shape[1]
    codes = (np.array([index[label] for label in labels])[:, None] * n_months
             + np.arange(n_months)[None, :])
    sums = _group_sum(values.ravel(), codes.ravel(), len(distinct) * n_months)
    return distinct, sums.reshape(len(distinct), n_months)


def _transfer_lines(results, data: Data):
    """Transfers by (line, payer) and month (DKK): the labels and their values (L, M)."""
    money = results.occupancy * rate_table(data)[None, :, :, None]        # (M, S, C, B)
    by_state_band = money.sum(axis=2)                                       # (M, S, B)
    split = np.einsum("msb,sbp->msp", by_state_band, payer_shares(data))   # (M, S, P)
    labels, rows = [], []
    for s, name in enumerate(STATES):
        benefit = BENEFIT_OF_STATE[name]
        if not benefit:
            continue
        for p, payer in enumerate(PAYERS):
            labels.append((f"transfers:{benefit}", payer))
            rows.append(split[:, s, p])
    return _sum_rows_by_label(labels, np.array(rows))


def _tidy(labels: list[tuple[str, str]], values: np.ndarray, periods: np.ndarray,
          period: str) -> pd.DataFrame:
    """A tidy table (PERIOD, line, payer, dkk) of values (L, T): label by label, period by period."""
    lines = np.array([line for line, _ in labels], dtype=object)
    payers = np.array([payer for _, payer in labels], dtype=object)
    n = len(periods)
    return pd.DataFrame({period: np.tile(periods, len(labels)), "line": np.repeat(lines, n),
                         "payer": np.repeat(payers, n), "dkk": values.ravel()})


def transfers(results, data: Data) -> pd.DataFrame:
    """Transfers by month, benefit and payer (DKK)."""
    labels, values = _transfer_lines(results, data)
    return _tidy(labels, values, np.array(results.months, dtype=object), "month")


def case_months(results) -> np.ndarray:
    """Person-months in a jobcentre case by month, state and cell (M, S, C): the case states
    (``CASE_STATES``), the employer period left out."""
    out = np.zeros(results.occupancy.shape[:3])
    idx = [STATE[s] for s in CASE_STATES]
    out[:, idx] = results.occupancy[:, idx, :, 1:].sum(axis=3)
    return out


#: cost items of the effort: the activities with a unit cost and the case-month of administration
CASE_MONTH = "case_month"
#: the items that are caseworker time in the jobcentre (VIVE's "medarbejdernes tid", 000)
CASEWORKER_ITEMS = ("conversation_jobcentre", "review", "reassessment", CASE_MONTH)
#: the items that are offers (guidance and upskilling, ordinary education, company-based)
OFFER_ITEMS = ("offer_guidance_month", "offer_education_month", "offer_company_month")


def fixed_share_by_month(results) -> np.ndarray:
    """``money.effort_fixed_share`` in force in each month: (M,)."""
    regimes, _ = results.scenario.regimes()
    values = np.array([float(p[FIXED_SHARE]) for p in regimes])
    return values[np.asarray(results.regime_of_month)]


def unrealised_cost(base: np.ndarray, res: np.ndarray, sheddable: np.ndarray | None) -> np.ndarray:
    """What each effort line still pays for staff and contracts freed but not yet shed, DKK by
    month and line (M, L): the fall in its cost (``base`` - ``res``) beyond what can have been
    shed by then (``sheddable``, DKK a month; ``sim.comparison.shedding_path``). Zeros where
    ``sheddable`` is None."""
    if sheddable is None:
        return np.zeros_like(res)
    return np.maximum(base - res - sheddable, 0.0)


def realised_share(base: np.ndarray, res: np.ndarray, sheddable: np.ndarray | None) -> np.ndarray:
    """The share of each line's fall in cost (``base`` - ``res``, M x L) that is money by then:
    1 where it has not fallen or everything could be shed."""
    if sheddable is None:
        return np.ones_like(res)
    fall = base - res
    return np.where(fall > 0, np.minimum(sheddable / np.where(fall > 0, fall, 1.0), 1.0), 1.0)


def fixed_cost_by_line(results, data: Data) -> np.ndarray:
    """The part of each effort line that does not move with activity, DKK by month: (M, L), the
    fixed share of the line's documented total (``data/effort_lines.csv``), a twelfth a month."""
    total = dict(zip(data.effort_lines["line"], data.effort_lines["baseline_bn"] * DKK_PER_BN / 12.0))
    share = fixed_share_by_month(results)
    return share[:, None] * np.array([total[ln] for ln in EFFORT_LINES])[None, :]


def effort_by_item(results, data: Data, variable: bool = False) -> dict[str, np.ndarray]:
    """Effort cost (DKK) of each cost item by month, state and cell: item -> (M, S, C). Items are
    the activities of ``data/unit_costs.csv`` on an effort line and the case-month of
    administration, at their full unit cost; with ``variable``, only the part that moves with
    activity (``1 - money.effort_fixed_share``), which summed over items, states and cells and
    added to :func:`fixed_cost_by_line` gives :func:`effort`'s lines."""
    cost, line, case_cost = cost_by_cell(data)
    scale = (1.0 - fixed_share_by_month(results))[:, None, None] if variable else 1.0
    out = {}
    for a, name in enumerate(ACTIVITIES):
        if line[a] >= 0:
            out[name] = results.activity[:, a] * cost[a] * scale
    out[CASE_MONTH] = case_months(results) * case_cost * scale
    return out


def youth_cells() -> np.ndarray:
    """(C,) True for the cells of persons under 30 at spell start."""
    return np.array([cell_parts(c)[0] == 1 for c in range(N_CELLS)])


def furthest_mask() -> np.ndarray:
    """(S, C) True where a person counts as furthest from the labour market
    (``sim.states.is_furthest``)."""
    return class_parts()[0][cost_classes()]


#: the calibrated value (data/calibrated.csv) of the items whose external_share is 'calibrated'
EXTERNAL_SHARE_CALIBRATED = "external_share.offers"


def external_shares(data: Data) -> dict[str, float]:
    """Share of each cost item's cost paid to external providers (``data/unit_costs.csv``; the
    items marked 'calibrated' take ``external_share.offers`` of ``data/calibrated.csv``)."""
    calibrated = data.calibrated.get(EXTERNAL_SHARE_CALIBRATED, 0.0)
    return {a: (calibrated if np.isnan(x) else float(x))
            for a, x in zip(data.unit_costs["activity"], data.unit_costs["external_share"])}


def effort_measures(results, data: Data, year: int) -> dict[str, float]:
    """How the effort of ``year`` is spent, for the calibration targets ``effort.*``: the cost of
    offers to persons under 30 (bn DKK), the share of caseworker time spent on those furthest
    from the labour market, the cost paid to external providers (bn DKK, by each item's
    ``external_share`` in ``data/unit_costs.csv``)."""
    items = effort_by_item(results, data)
    months = results.year_of_month == year
    youth = youth_cells()
    yearly = {k: v[months].sum(axis=0) for k, v in items.items()}                # (S, C)
    youth_offers = sum(yearly[k][:, youth].sum() for k in OFFER_ITEMS if k in yearly)
    mask = furthest_mask()
    caseworker = sum(yearly[k] for k in CASEWORKER_ITEMS if k in yearly)
    shares = external_shares(data)
    external = sum(v.sum() * shares.get(k, 0.0) for k, v in yearly.items())
    return {
        "effort.youth_offers_bn": float(youth_offers / DKK_PER_BN),
        "effort.far_share_of_caseworker_time": float(caseworker[mask].sum() / max(caseworker.sum(), 1e-12)),
        "effort.external_providers_bn": float(external / DKK_PER_BN),
    }


def switch_mask() -> np.ndarray:
    """(S, S) True for a move from one state to another that changes the benefit: both states are
    jobcentre cases (not a flex job or a subsidised job, which are work) paying a benefit, and
    the benefits differ (``BENEFIT_OF_STATE``: sick benefit to its extension, or one kind of
    social assistance to the other, is no change of benefit)."""
    mask = np.zeros((N_STATES, N_STATES), bool)
    for a, origin in enumerate(STATES):
        for b, dest in enumerate(STATES):
            benefits = BENEFIT_OF_STATE[origin], BENEFIT_OF_STATE[dest]
            mask[a, b] = (origin in CASE_STATES and dest in CASE_STATES and all(benefits)
                          and benefits[0] != benefits[1])
    return mask


def sick_from_unemployment_spells(results, year: int) -> float:
    """New sick-benefit spells in ``year`` of persons sick from unemployment (the sick states' cells
    without the from-a-job flag): persons. Each is a move from dagpenge or social assistance to
    sickness benefit that the model represents as a new spell, not as a move between states."""
    pop = results.population
    months = np.flatnonzero(results.year_of_month == year)
    from_job = (pop.cell.astype(np.int64) & FLAG_BIT) != 0
    new = ((pop.state == STATE["sick"]) & (pop.months_in_state == 0) & ~from_job
           & (pop.entry_month >= months[0]) & (pop.entry_month <= months[-1]))
    return float(pop.weight[new].sum() / WEIGHT_UNIT)


def benefit_switches(results, year: int) -> float:
    """Changes of benefit in ``year`` that restart the contact process (KL's "ydelsesskift", 000):
    persons a year. A move counts where it changes the benefit (:func:`switch_mask`) and the
    destination restarts the contact process for every cell in the year's first regime (the
    general rule today); so does a new sick spell of a person sick from unemployment
    (:func:`sick_from_unemployment_spells`: from dagpenge or social assistance to sickness benefit),
    where the sick-benefit state restarts it."""
    months = np.flatnonzero(results.year_of_month == year)
    regime = results.regime_of_month[months[0]]
    restarts = results.tables.rules[regime, :, :, R_RESTART_CONTACT].min(axis=1) == 1      # (S,)
    moves = results.flow[months][:, :N_STATES, :N_STATES].sum(axis=0)                       # (S, S)
    sick = sick_from_unemployment_spells(results, year) if restarts[STATE["sick"]] else 0.0
    return float(moves[switch_mask() & restarts[None, :]].sum()) + sick


def case_month_line(data: Data) -> str:
    """The effort line that carries the case administration cost."""
    for activity, line in zip(data.unit_costs["activity"], data.unit_costs["line"]):
        if activity == "case_month":
            return line
    raise KeyError("case_month")


def _effort_lines(results, data: Data):
    """Effort cost by (line, payer) and month (DKK): the labels and their values (L, M): the
    fixed part of each line plus the variable share of its activity's cost."""
    cost, line, case_cost = cost_by_cell(data)
    out = {ln: np.zeros(len(results.months)) for ln in EFFORT_LINES}
    for a, name in enumerate(ACTIVITIES):
        if line[a] >= 0:
            out[EFFORT_LINES[line[a]]] += (results.activity[:, a] * cost[a]).sum(axis=(1, 2))
    out[case_month_line(data)] += (case_months(results) * case_cost).sum(axis=(1, 2))
    variable = 1.0 - fixed_share_by_month(results)
    fixed = fixed_cost_by_line(results, data)
    for li, ln in enumerate(EFFORT_LINES):
        out[ln] = fixed[:, li] + variable * out[ln]
    return [(ln, "municipality") for ln in out], np.stack(list(out.values()))


def effort(results, data: Data) -> pd.DataFrame:
    """Effort cost by month and line (DKK); paid by the municipalities (assumption)."""
    labels, values = _effort_lines(results, data)
    return _tidy(labels, values, np.array(results.months, dtype=object), "month")


def budget_table(results, data: Data) -> pd.DataFrame:
    """Tidy yearly budget: year, scenario, line, payer, dkk (effort lines and transfers)."""
    effort_labels, effort_values = _effort_lines(results, data)
    transfer_labels, transfer_values = _transfer_lines(results, data)
    labels = effort_labels + transfer_labels          # distinct: transfer lines are 'transfers:*'
    monthly = np.concatenate([effort_values, transfer_values])
    year_of_month = [int(m[:4]) for m in results.months]
    years = list(dict.fromkeys(year_of_month))
    year_index = np.array([years.index(y) for y in year_of_month])
    codes = np.arange(len(labels))[:, None] * len(years) + year_index[None, :]
    yearly = _group_sum(monthly.ravel(), codes.ravel(), len(labels) * len(years))
    out = _tidy(labels, yearly, np.array(years, dtype=np.int64), "year")
    out.insert(1, "scenario", results.scenario.name)
    return out


def effort_total_bn(budget: pd.DataFrame, year: int) -> float:
    sel = (budget["year"] == year) & budget["line"].isin(EFFORT_LINES)
    return float(budget.loc[sel, "dkk"].sum() / DKK_PER_BN)


def fulltime_sick_stock(results, data: Data) -> float:
    """Average full-time persons on sickness benefit in the base year (after the employer period)."""
    ft = dict(zip(data.fulltime["benefit"], data.fulltime["fulltime_factor"]))["sickness_benefit"]
    sel = results.year_of_month == results.base_year
    sick = [STATE["sick"], STATE["sick_extended"]]
    occ = results.occupancy[sel][:, sick][..., 1:].sum(axis=(1, 2, 3)).mean()
    return float(occ * ft)
