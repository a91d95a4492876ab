"""Results by municipality: each national budget row split over the 98, and caseload by group.

The engines count person-months and activities by municipality and year
(``Results.place_occupancy``, ``Results.place_activity``). Each national row of ``budget.csv``
(year, line, payer) is split over the municipalities by a key that is the municipality's own part
of what the row pays for:

- transfers: its benefit months x rates x payer shares (by year, the national row's own sum);
- an effort line's variable cost: its activities x unit costs, and its case-months x the
  administration cost;
- the fixed part of a line (management, IT, company service, provider contracts) and one-off
  costs: its population (assumption A-34 in ``docs/municipalities.md``);
- what a reform still pays for freed staff and contracts not yet shed: its own fall in the
  line's activity cost;
- money left under a budget and spent on activity (redeployed): its baseline activity cost on
  the line;
- derived effects: its own change in public transfers.

The shares of a row sum to one, so the municipalities of a row sum to the national row (to a
millionth of a krone). A key that is zero for every municipality falls back on population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import budget as money
from .groups import group_table
from .states import BENEFIT_OF_STATE, DERIVED_LINE, EFFORT_LINES, PAYERS, STATE, STATES

#: simulated persons below which a municipality's figures are flagged as resting on few persons
#: (assumption: a count of 1,000 has a relative Monte Carlo error of about 3 %; a municipality's
#: reform effect, a difference, is noisier still)
FEW_PERSONS = 1000

#: the columns of municipalities.csv (the contract: budget.csv's, with the municipality)
COLUMNS = ["year", "scenario", "municipality_code", "municipality", "line", "payer", "dkk"]


def population_share(data) -> np.ndarray:
    """Each municipality's share of the population, in code order: (P,)."""
    pop = data.municipalities["population"].to_numpy(float)
    return pop / pop.sum()


def transfer_keys(results, data) -> dict[tuple[str, str], np.ndarray]:
    """Transfers by (line, payer): DKK by municipality and year (P, Y)."""
    occ = results.place_occupancy                                          # (P, Y, S, C, B)
    by_band = (occ * money.rate_table(data)[None, None, :, :, None]).sum(axis=3)   # (P, Y, S, B)
    split = np.einsum("pysb,sbq->pysq", by_band, money.payer_shares(data))         # (P, Y, S, payer)
    out: dict[tuple[str, str], np.ndarray] = {}
    for s, name in enumerate(STATES):
        benefit = BENEFIT_OF_STATE[name]
        if not benefit:
            continue
        for q, payer in enumerate(PAYERS):
            label = (f"transfers:{benefit}", payer)
            out[label] = out.get(label, 0.0) + split[:, :, s, q]
    return out


def activity_keys(results, data) -> dict[str, np.ndarray]:
    """The cost of each effort line's activity at full unit cost, by municipality and year
    (P, Y): activities x unit costs, case-months x the administration cost."""
    cost, line, case_by_class = money.cost_by_class(data)                  # (T, A), (A,), (T,)
    case_cost = case_by_class[money.cost_classes()]                        # (S, C)
    act = results.place_activity                                           # (P, Y, T, A)
    out = {ln: np.zeros(act.shape[:2]) for ln in EFFORT_LINES}
    for a in range(act.shape[3]):
        if line[a] >= 0:
            out[EFFORT_LINES[line[a]]] += act[:, :, :, a] @ cost[:, a]
    case = [STATE[s] for s in money.CASE_STATES]
    months = results.place_occupancy[:, :, case, :, 1:].sum(axis=4)       # (P, Y, S', C): no employer period
    out[money.case_month_line(data)] += (months * case_cost[case]).sum(axis=(2, 3))
    return out


def shares(key: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Shares of each municipality by year (P, Y) from a key (P, Y) of non-negative amounts; a
    year whose key is all zero takes ``fallback`` (P,)."""
    key = np.maximum(np.asarray(key, float), 0.0)
    total = key.sum(axis=0)
    out = np.where(total > 0, key / np.where(total > 0, total, 1.0), 0.0)
    out[:, total <= 0] = fallback[:, None]
    return out


def _yearly_fixed(results, data) -> pd.DataFrame:
    """The fixed part of each effort line by year (DKK): year x line."""
    fixed = pd.DataFrame(money.fixed_cost_by_line(results, data), columns=list(EFFORT_LINES))
    return fixed.groupby(results.year_of_month).sum()


def split_run(results, budget: pd.DataFrame, extra: dict | None = None) -> dict[tuple[str, str], np.ndarray]:
    """One scenario's budget rows split over the municipalities: (line, payer) -> DKK (P, Y).

    ``budget`` is the scenario's rows of ``budget.csv`` without derived effects; ``extra`` maps an
    effort line to the parts beyond its activity and fixed cost, each (DKK by year, key (P, Y) or
    None for population)."""
    data = results.scenario.data
    years = results.scenario.years
    pop = population_share(data)
    rows = budget.set_index(["line", "payer", "year"])["dkk"]
    out = {}
    for label, key in transfer_keys(results, data).items():
        national = np.array([rows.get((*label, y), 0.0) for y in years])
        out[label] = shares(key, pop) * national[None, :]
    fixed = _yearly_fixed(results, data)
    for ln, key in activity_keys(results, data).items():
        total = np.array([rows.get((ln, "municipality", y), 0.0) for y in years])
        fix = fixed[ln].reindex(years).to_numpy()
        parts = [(fix, None)] + [(np.asarray(a, float), k) for a, k in (extra or {}).get(ln, [])]
        activity = total - sum(a for a, _ in parts)              # the activity's part: what is left
        parts.append((activity, key))
        out[(ln, "municipality")] = sum(
            (shares(k, pop) if k is not None else pop[:, None]) * amount[None, :] for amount, k in parts)
    return out


def _tidy(split: dict, results, scenario: str, codes: np.ndarray, names: np.ndarray) -> pd.DataFrame:
    years = np.array(results.scenario.years, dtype=np.int64)
    n_places, n_years = len(codes), len(years)
    frames = []
    for (line, payer), values in split.items():
        frames.append(pd.DataFrame({
            "year": np.tile(years, n_places), "scenario": scenario,
            "municipality_code": np.repeat(codes, n_years), "municipality": np.repeat(names, n_years),
            "line": line, "payer": payer, "dkk": np.asarray(values, float).ravel()}))
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def _order_like(table: pd.DataFrame, budget: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of ``budget.csv``'s (year, scenario, line, payer), then municipality;
    only the (line, payer) pairs that budget.csv has."""
    order = budget[["year", "scenario", "line", "payer"]].reset_index(drop=True).reset_index()
    merged = table.merge(order, on=["year", "scenario", "line", "payer"], how="inner")
    return merged.sort_values(["index", "municipality_code"], kind="stable")[COLUMNS].reset_index(drop=True)


def run_table(results, budget: pd.DataFrame) -> pd.DataFrame:
    """municipalities.csv of ``reformsim run``: the budget's rows by municipality."""
    m = results.scenario.data.municipalities
    split = split_run(results, budget)
    table = _tidy(split, results, results.scenario.name, m["code"].to_numpy(), m["name"].to_numpy())
    return _order_like(table, budget)


def comparison_table(comp) -> pd.DataFrame:
    """municipalities.csv of ``reformsim compare``: both scenarios' rows by municipality, derived
    effects included; summed over municipalities, ``comp.budget``."""
    from .comparison import one_offs_by_line, redeployed_by_line, unrealised_by_line
    base, ref = comp.baseline, comp.reform
    data = base.scenario.data
    m = data.municipalities
    codes, names = m["code"].to_numpy(), m["name"].to_numpy()
    budget = comp.budget
    years = base.scenario.years
    pieces = {}
    base_keys = activity_keys(base, data)
    ref_keys = activity_keys(ref, data)
    extra = {ln: [] for ln in EFFORT_LINES}
    if ref.scenario.name != base.scenario.name:
        unrealised, one_off = unrealised_by_line(comp), one_offs_by_line(comp)
        redeployed = redeployed_by_line(comp) if comp.budgeted is not None else None
        for ln in EFFORT_LINES:
            extra[ln].append((unrealised[ln].reindex(years).to_numpy(), base_keys[ln] - ref_keys[ln]))
            extra[ln].append((one_off[ln].reindex(years).to_numpy(), None))
            if redeployed is not None:
                extra[ln].append((redeployed[ln].reindex(years).to_numpy(), base_keys[ln]))
    runs = [(base, {})] if ref.scenario.name == base.scenario.name else [(base, {}), (ref, extra)]
    public = {}
    for res, ext in runs:
        rows = budget[(budget["scenario"] == res.scenario.name) & (budget["line"] != DERIVED_LINE)]
        split = split_run(res, rows, ext)
        public[res.scenario.name] = {p: sum(v for (line, payer), v in split.items()
                                            if line.startswith("transfers:") and payer == p)
                                     for p in ("state", "municipality")}
        pieces[res.scenario.name] = split
    frames = []
    base_public = public[base.scenario.name]
    for res, _ in runs:
        name = res.scenario.name
        split = dict(pieces[name])
        for p in ("state", "municipality"):
            split[(DERIVED_LINE, p)] = public[name][p] - base_public[p]
        frames.append(_tidy(split, res, name, codes, names))
    return _order_like(pd.concat(frames, ignore_index=True), budget)


def caseload_table(results, schemes=("current",)) -> pd.DataFrame:
    """Caseload by municipality: year, scenario, scheme, group, municipality_code, persons (the
    average over the year's months); summed over municipalities, the yearly mean of
    caseload.parquet."""
    occ = results.place_occupancy.sum(axis=4)                              # (P, Y, S, C)
    years = np.array(results.scenario.years, dtype=np.int64)
    months_in_year = np.bincount(results.year_of_month - years[0])[: len(years)]
    codes = results.scenario.data.municipalities["code"].to_numpy()
    frames = []
    for scheme in schemes:
        table, names = group_table(scheme)
        for g, group in enumerate(names):
            persons = (occ * (table == g)[None, None]).sum(axis=(2, 3)) / months_in_year[None, :]
            frames.append(pd.DataFrame({"year": np.tile(years, len(codes)), "scenario": results.scenario.name,
                                        "scheme": scheme, "group": group,
                                        "municipality_code": np.repeat(codes, len(years)),
                                        "persons": persons.ravel()}))
    return pd.concat(frames, ignore_index=True)


def simulated_persons(results) -> np.ndarray:
    """Simulated persons (not weighted) of each municipality that enter within the horizon: (P,)."""
    pop = results.population
    inside = (pop.entry_month >= 0) & (pop.entry_month < len(results.months))
    return np.bincount(pop.municipality[inside].astype(np.int64),
                       minlength=len(results.scenario.data.municipalities))


def per_inhabitant(comp, table: pd.DataFrame) -> pd.DataFrame:
    """The reform's effect on each municipality by year: the change in its effort spending and in
    all it pays (effort lines and its share of transfers; derived effects, a change of transfers
    already counted, left out), in DKK and per inhabitant, with its simulated persons and whether
    they are few (``FEW_PERSONS``)."""
    data = comp.baseline.scenario.data
    m = data.municipalities
    paid = table[(table["payer"] == "municipality") & (table["line"] != DERIVED_LINE)]
    effort = paid["line"].isin(EFFORT_LINES)

    def by(frame):
        return frame.pivot_table(index=["year", "municipality_code"], columns="scenario", values="dkk",
                                 aggfunc="sum", sort=False)

    names = comp.baseline.scenario.name, comp.reform.scenario.name
    all_paid, eff = by(paid), by(paid[effort])
    out = pd.DataFrame({"effort_change_dkk": eff[names[1]] - eff[names[0]],
                        "municipal_spending_change_dkk": all_paid[names[1]] - all_paid[names[0]]}).reset_index()
    info = m.rename(columns={"code": "municipality_code", "name": "municipality"})[
        ["municipality_code", "municipality", "region", "population"]]
    out = out.merge(info, on="municipality_code", how="left")
    out["effort_change_per_inhabitant_dkk"] = out["effort_change_dkk"] / out["population"]
    out["spending_change_per_inhabitant_dkk"] = out["municipal_spending_change_dkk"] / out["population"]
    persons = pd.Series(simulated_persons(comp.baseline), index=m["code"].to_numpy())
    out["simulated_persons"] = out["municipality_code"].map(persons).astype(np.int64)
    out["few_persons"] = out["simulated_persons"] < FEW_PERSONS
    return out[["year", "municipality_code", "municipality", "region", "population", "effort_change_dkk",
                "municipal_spending_change_dkk", "effort_change_per_inhabitant_dkk",
                "spending_change_per_inhabitant_dkk", "simulated_persons", "few_persons"]]
