"""Who pays for a business cycle: the state and the 98 municipalities, under two financing regimes.

A scenario with ``[[inflow]]`` multipliers (a downturn) is compared with the same scenario without
them (``Comparison.reference``). For each municipality and year, in DKK:

- spending: what it pays on the employment area, its effort lines and its share of the transfers
  (after the state's refunds, ``data/refund.csv``);
- the rise of that spending over the reference: the cost of the cycle to the municipality before
  any compensation;
- compensation: the guaranteed part of the rise (its transfers, and the effort spending outside the
  service ceiling, ``1 - financing.ceiling_share.<regime>``) is refunded to the municipalities
  together, through the budget guarantee and the employment grant, and shared out by population
  (assumption A-37: the guarantee follows the national total, not the municipality's own);
- financing: the reference's spending plus the compensation;
- the gap: spending less financing, what the municipality must close by cutting activity or other
  welfare, or by breaching the ceiling. Summed over municipalities, the ceiling share of the rise
  in effort spending;
- the activity cut: what rationing removed (budget mode: a budget fixed in DKK under the ceiling
  cuts activity instead of being compensated), at its variable unit cost.

Nationally, the public cost of the cycle (state and municipalities, employers left out) is shared:
the state pays the rise in its transfers and the compensation, the municipalities their gaps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import budget as money
from . import municipalities as places
from .parameters import CEILING_SHARE, FIXED_SHARE
from .states import ACTIVITIES, EFFORT_LINES, STATE

#: the states of gross unemployment in the model (for the size of a downturn)
UNEMPLOYED_STATES = ("dagpenge", "sa_job_ready", "youth_education_ready")
#: rationed activity -> the activity whose unit cost it would have had
RATIONED_AS = {"conversation_rationed": "conversation_jobcentre", "guidance_months_rationed": "offer_guidance_month",
               "education_months_rationed": "offer_education_month", "job_education_rationed": "job_education_month",
               "company_months_rationed": "offer_company_month"}
#: municipalities listed as most and least exposed
N_LISTED = 10
#: the statistics of the spread of the gap per inhabitant across municipalities
SPREAD = {"p10": 10, "p50": 50, "p90": 90}


def _paid(table: pd.DataFrame, scenario: str) -> pd.DataFrame:
    """A scenario's municipal spending by year and municipality code: effort, transfers (DKK),
    and the state's transfers."""
    t = table[table["scenario"] == scenario]
    effort = t[(t["payer"] == "municipality") & t["line"].isin(EFFORT_LINES)]
    transfers = t[t["line"].str.startswith("transfers:")]
    own = transfers[transfers["payer"] == "municipality"]
    state = transfers[transfers["payer"] == "state"]
    key = ["year", "municipality_code"]
    return pd.DataFrame({"effort": effort.groupby(key)["dkk"].sum(),
                         "transfers": own.groupby(key)["dkk"].sum(),
                         "state_transfers": state.groupby(key)["dkk"].sum()}).fillna(0.0)


def activity_cut(results) -> pd.DataFrame:
    """Activity rationed away, at its variable unit cost, by year and municipality (DKK)."""
    data = results.scenario.data
    cost, _, _ = money.cost_by_class(data)                                 # (T, A): by time class
    variable = 1.0 - float(results.scenario.params_at(0)[FIXED_SHARE])
    act = results.place_activity                                           # (P, Y, T, A)
    cut = sum(act[:, :, :, ACTIVITIES.index(r)] @ cost[:, ACTIVITIES.index(a)] for r, a in RATIONED_AS.items())
    years = results.scenario.years
    codes = data.municipalities["code"].to_numpy()
    return pd.DataFrame({"year": np.tile(years, len(codes)), "municipality_code": np.repeat(codes, len(years)),
                         "activity_cut": (variable * cut).ravel()}).set_index(["year", "municipality_code"])


def regime_table(scenario_results, table: pd.DataFrame, reference_table: pd.DataFrame,
                 reference_name: str) -> pd.DataFrame:
    """financing.csv's rows of one scenario: by year and municipality, its spending, financing,
    compensation, gap and activity cut under its financing regime (DKK), against the reference."""
    sc = scenario_results.scenario
    data = sc.data
    regime = sc.financing
    ceiling = float(sc.params_at(0)[CEILING_SHARE + regime])
    now, ref = _paid(table, sc.name), _paid(reference_table, reference_name)
    rise = now - ref.reindex(now.index)
    guaranteed = rise["transfers"] + (1.0 - ceiling) * rise["effort"]
    national = guaranteed.groupby(level="year").sum()
    towns = data.municipalities.set_index("code")
    share = towns["population"] / towns["population"].sum()
    codes = now.index.get_level_values("municipality_code")
    years = now.index.get_level_values("year")
    compensation = national.reindex(years).to_numpy() * share.reindex(codes).to_numpy()
    spending = (now["effort"] + now["transfers"]).to_numpy()
    financing = (ref["effort"] + ref["transfers"]).reindex(now.index).to_numpy() + compensation
    cut = activity_cut(scenario_results).reindex(now.index)["activity_cut"].to_numpy()
    out = pd.DataFrame({
        "year": years, "scenario": sc.name, "regime": regime, "municipality_code": codes,
        "municipality": towns["name"].reindex(codes).to_numpy(),
        "population": towns["population"].reindex(codes).to_numpy(),
        "spending_dkk": spending, "rise_dkk": (rise["effort"] + rise["transfers"]).to_numpy(),
        "effort_rise_dkk": rise["effort"].to_numpy(),
        "compensation_dkk": compensation, "financing_dkk": financing, "gap_dkk": spending - financing,
        "activity_cut_dkk": cut,
        "state_transfers_rise_dkk": rise["state_transfers"].to_numpy()})
    out["gap_per_inhabitant_dkk"] = out["gap_dkk"] / out["population"]
    return out.reset_index(drop=True)


def financing_tables(comp, table: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """financing.csv of a comparison whose scenarios have a business cycle (None without one): a
    block for each scenario with ``[[inflow]]`` multipliers, against the baseline without them.
    ``table``: the comparison's municipalities.csv, if it is at hand."""
    if comp.reference is None:
        return None
    reference = comp.reference
    ref_budget = money.budget_table(reference, reference.scenario.data)
    ref_table = places.run_table(reference, ref_budget)
    table = table if table is not None else places.comparison_table(comp)
    runs = [comp.baseline] + ([comp.reform] if comp.reform.scenario.name != comp.baseline.scenario.name else [])
    frames = [regime_table(r, table, ref_table, reference.scenario.name) for r in runs if r.scenario.inflows]
    return pd.concat(frames, ignore_index=True) if frames else None


def unemployed_rise(comp) -> np.ndarray:
    """The rise of the stock in the states of gross unemployment over the reference, by month
    (a share; the baseline's cycle)."""
    states = [STATE[s] for s in UNEMPLOYED_STATES]
    stock = [r.occupancy[:, states].sum(axis=(1, 2, 3)) for r in (comp.baseline, comp.reference)]
    return stock[0] / np.maximum(stock[1], 1e-12) - 1.0


def summary_keys(comp, fin: pd.DataFrame) -> dict:
    """The ``financing.*`` keys of summary.json: for each regime (the scenario that has it), the
    public cost of the cycle by year and its split between state and municipalities, the activity
    cut, the spread of the gap per inhabitant across municipalities by year, and the most and least
    exposed municipalities in the peak year."""
    out: dict = {}
    bn = money.DKK_PER_BN
    first = fin[fin["scenario"] == fin["scenario"].iloc[0]]
    cost = (first.groupby("year")["rise_dkk"].sum() + first.groupby("year")["state_transfers_rise_dkk"].sum())
    peak = int(cost.idxmax())
    rise = unemployed_rise(comp) if comp.baseline.scenario.inflows else None
    out["financing.peak_year"] = peak
    if rise is not None:
        out["financing.unemployed_rise_pct"] = float(100.0 * rise.max())
        out["financing.unemployed_peak_month"] = comp.baseline.months[int(rise.argmax())]
    for name, block in fin.groupby("scenario", sort=False):
        regime = block["regime"].iloc[0]
        by_year = block.groupby("year")
        state = by_year["state_transfers_rise_dkk"].sum() + by_year["compensation_dkk"].sum()
        municipalities = by_year["gap_dkk"].sum()
        p = f"financing.{regime}."
        out[p + "scenario"] = name
        out[p + "public_cost_bn"] = {str(y): float(v / bn) for y, v in (state + municipalities).items()}
        out[p + "state_bn"] = {str(y): float(v / bn) for y, v in state.items()}
        out[p + "municipalities_bn"] = {str(y): float(v / bn) for y, v in municipalities.items()}
        out[p + "compensation_bn"] = {str(y): float(v / bn) for y, v in by_year["compensation_dkk"].sum().items()}
        out[p + "activity_cut_bn"] = {str(y): float(v / bn) for y, v in by_year["activity_cut_dkk"].sum().items()}
        out[p + "gap_per_inhabitant_dkk"] = {
            stat: {str(y): float(np.percentile(g["gap_per_inhabitant_dkk"], q)) for y, g in by_year}
            for stat, q in SPREAD.items()}
        at_peak = block[block["year"] == peak].sort_values("gap_per_inhabitant_dkk", ascending=False)
        out[p + "most_exposed_dkk_per_inhabitant"] = dict(zip(at_peak["municipality"].head(N_LISTED),
                                                              at_peak["gap_per_inhabitant_dkk"].head(N_LISTED).astype(float)))
        out[p + "least_exposed_dkk_per_inhabitant"] = dict(zip(at_peak["municipality"].tail(N_LISTED)[::-1],
                                                               at_peak["gap_per_inhabitant_dkk"].tail(N_LISTED)[::-1].astype(float)))
    return out
