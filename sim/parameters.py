"""Loading the parameter tables in ``data/``: every figure with its unit and source.

Each CSV file is validated on load: required columns present, every row with a non-empty
``source``, numbers where numbers are expected, shares and probabilities within [0, 1].
Errors name the file, the row and the column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError
from .paths import DATA_DIR
from .states import ACTIVITIES, DESTINATIONS, EFFORT_LINES, SOCIAL_ASSISTANCE, STATES


#: columns each data file must have
REQUIRED_COLUMNS = {
    "parameters.csv": ["name", "value", "unit", "source"],
    "hazards.csv": ["state", "from_month", "to_month", "exit_hazard", "unit", "source"],
    "destinations.csv": ["state", "event", "destination", "share", "unit", "source"],
    "entrant_mix.csv": ["state", "youth_share", "provider_share", "flag_share", "distance_close",
                        "distance_middle", "distance_far", "unit", "source"],
    "targets.csv": ["name", "value", "unit", "tolerance", "role", "source"],
    "rates.csv": ["benefit", "recipient", "dkk_per_month", "unit", "source"],
    "refund.csv": ["band", "from_week", "to_week", "state_refund_share", "dagpenge_municipal_share",
                   "unit", "source"],
    "fulltime_factors.csv": ["benefit", "fulltime_factor", "unit", "source"],
    "unit_costs.csv": ["activity", "line", "dkk_per_unit", "unit", "source"],
    "effort_lines.csv": ["line", "baseline_bn", "unit", "source"],
    "calibrated.csv": ["name", "value", "unit", "source"],
    "sick_duration_profile.csv": ["from_week", "to_week", "persons", "unit", "source"],
}


#: the unit that marks a schedule: a list of months in a spell
SCHEDULE_UNIT = "spell months"


def parse_value(text, unit: str = ""):
    """A parameter value: a number, or (unit 'spell months') a tuple of integer months."""
    text = str(text).strip()
    if unit == SCHEDULE_UNIT:
        return tuple(int(x) for x in text.split())
    return float(text)


def _read(path: Path) -> pd.DataFrame:
    name = path.name
    if not path.exists():
        raise InputError(f"{path}: data file is missing")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas raises several types for malformed CSV
        raise InputError(f"{path}: cannot be read as CSV ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS.get(name, []) if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}; required: {REQUIRED_COLUMNS[name]}")
    empty = df.index[df["source"].str.strip() == ""]
    if len(empty):
        raise InputError(f"{path}: row {int(empty[0]) + 2} has no source; every figure needs one")
    return df


def _numeric(df: pd.DataFrame, column: str, path: Path, lo=None, hi=None, allow=()) -> pd.Series:
    out = []
    for i, text in enumerate(df[column]):
        if text in allow:
            out.append(math.nan)
            continue
        try:
            x = float(text)
        except ValueError:
            raise InputError(f"{path}: row {i + 2}, column '{column}': '{text}' is not a number") from None
        if (lo is not None and x < lo) or (hi is not None and x > hi) or math.isnan(x):
            raise InputError(f"{path}: row {i + 2}, column '{column}': {x} is outside [{lo}, {hi}]")
        out.append(x)
    return pd.Series(out, index=df.index, dtype=float)


def _names(df: pd.DataFrame, column: str, allowed, path: Path) -> None:
    for i, text in enumerate(df[column]):
        if text not in allowed:
            from .errors import did_you_mean
            raise InputError(f"{path}: row {i + 2}, column '{column}': unknown '{text}'"
                             f"{did_you_mean(text, allowed)}; allowed: {', '.join(allowed)}")


@dataclass
class Data:
    """All of ``data/``: scalar parameters and the tables, validated."""

    params: dict
    units: dict
    sources: dict
    hazards: pd.DataFrame
    destinations: pd.DataFrame
    entrant_mix: pd.DataFrame
    targets: pd.DataFrame
    rates: pd.DataFrame
    refund: pd.DataFrame
    fulltime: pd.DataFrame
    unit_costs: pd.DataFrame
    effort_lines: pd.DataFrame
    calibrated: dict
    sick_profile: pd.DataFrame
    directory: Path = field(default=DATA_DIR)

    def target(self, name: str) -> float:
        row = self.targets.loc[self.targets["name"] == name]
        return float(row["value"].iloc[0])


def is_probability_unit(unit: str) -> bool:
    unit = unit.lower()
    return unit.startswith("probability") or unit.startswith("share") or unit == "flag"


def load_data(directory: Path | str = DATA_DIR) -> Data:
    """Read and validate every table in ``directory`` (default: the shipped ``data/``)."""
    d = Path(directory)
    p = _read(d / "parameters.csv")
    params, units, sources = {}, {}, {}
    for i, row in p.iterrows():
        try:
            value = parse_value(row["value"], row["unit"])
        except ValueError:
            raise InputError(f"{d / 'parameters.csv'}: row {i + 2} ({row['name']}): value "
                             f"'{row['value']}' is not a number or a list of integers") from None
        if row["name"] in params:
            raise InputError(f"{d / 'parameters.csv'}: parameter '{row['name']}' is defined twice")
        if is_probability_unit(row["unit"]) and not isinstance(value, tuple) and not 0 <= value <= 1:
            raise InputError(f"{d / 'parameters.csv'}: {row['name']} = {value} must be within [0, 1] "
                             f"(unit '{row['unit']}')")
        params[row["name"]] = value
        units[row["name"]] = row["unit"]
        sources[row["name"]] = row["source"]

    hz = _read(d / "hazards.csv")
    _names(hz, "state", STATES, d / "hazards.csv")
    hz["from_month"] = _numeric(hz, "from_month", d / "hazards.csv", 0).astype(int)
    hz["to_month"] = _numeric(hz, "to_month", d / "hazards.csv", 0).astype(int)
    hz["exit_hazard"] = _numeric(hz, "exit_hazard", d / "hazards.csv", 0, 1)

    de = _read(d / "destinations.csv")
    _names(de, "state", STATES, d / "destinations.csv")
    _names(de, "event", ("exit", "limit", "closure"), d / "destinations.csv")
    _names(de, "destination", DESTINATIONS + (SOCIAL_ASSISTANCE,), d / "destinations.csv")
    de["share"] = _numeric(de, "share", d / "destinations.csv", 0, 1)
    sums = de.groupby(["state", "event"])["share"].sum()
    unused_closure = (sums.index.get_level_values("event") == "closure") & (sums == 0)
    bad = sums[((sums - 1).abs() > 1e-9) & ~unused_closure]
    if len(bad):
        (state, event), total = bad.index[0], bad.iloc[0]
        raise InputError(f"{d / 'destinations.csv'}: shares for state '{state}', event '{event}' "
                         f"add up to {total:.4f}, not 1")

    # table cells are parameters too, so a reform or a sweep can change any of them by name
    for row in hz.itertuples():
        name = f"hazard.{row.state}.{row.from_month}_{row.to_month}"
        params[name], units[name], sources[name] = float(row.exit_hazard), row.unit, row.source
    for row in de.itertuples():
        name = f"destination.{row.state}.{row.event}.{row.destination}"
        if name in params:
            raise InputError(f"{d / 'destinations.csv'}: '{row.state}, {row.event}, {row.destination}' "
                             "appears twice")
        params[name], units[name], sources[name] = float(row.share), row.unit, row.source

    mix = _read(d / "entrant_mix.csv")
    _names(mix, "state", STATES, d / "entrant_mix.csv")
    for col in REQUIRED_COLUMNS["entrant_mix.csv"][1:7]:
        mix[col] = _numeric(mix, col, d / "entrant_mix.csv", 0, 1)
    dist = mix[["distance_close", "distance_middle", "distance_far"]].sum(axis=1)
    if ((dist - 1).abs() > 1e-9).any():
        i = int(((dist - 1).abs() > 1e-9).values.argmax())
        raise InputError(f"{d / 'entrant_mix.csv'}: row {i + 2}: distance shares add up to "
                         f"{dist.iloc[i]:.4f}, not 1")
    missing = set(STATES) - set(mix["state"])
    if missing:
        raise InputError(f"{d / 'entrant_mix.csv'}: no row for state(s) {sorted(missing)}")
    mix = mix.set_index("state")

    tg = _read(d / "targets.csv")
    tg["value"] = _numeric(tg, "value", d / "targets.csv", 0)
    tg["tolerance"] = _numeric(tg, "tolerance", d / "targets.csv", 0, 1)
    _names(tg, "role", ("calibrated", "reported"), d / "targets.csv")

    rates = _read(d / "rates.csv")
    rates["dkk_per_month"] = _numeric(rates, "dkk_per_month", d / "rates.csv", 0)
    refund = _read(d / "refund.csv")
    for col in ("state_refund_share", "dagpenge_municipal_share"):
        refund[col] = _numeric(refund, col, d / "refund.csv", 0, 1)
    ft = _read(d / "fulltime_factors.csv")
    ft["fulltime_factor"] = _numeric(ft, "fulltime_factor", d / "fulltime_factors.csv", 0, 1)
    uc = _read(d / "unit_costs.csv")
    _names(uc, "activity", tuple(a for a in ACTIVITIES if a != "time_limit" and "rationed" not in a)
           + ("case_month",),
           d / "unit_costs.csv")
    _names(uc, "line", EFFORT_LINES + ("none",), d / "unit_costs.csv")
    uc["dkk_per_unit"] = _numeric(uc, "dkk_per_unit", d / "unit_costs.csv", 0, allow=("calibrated",))
    lines = _read(d / "effort_lines.csv")
    _names(lines, "line", EFFORT_LINES, d / "effort_lines.csv")
    lines["baseline_bn"] = _numeric(lines, "baseline_bn", d / "effort_lines.csv", 0)

    calibrated = {}
    if (d / "calibrated.csv").exists():
        cal = _read(d / "calibrated.csv")
        cal["value"] = _numeric(cal, "value", d / "calibrated.csv", 0)
        calibrated = dict(zip(cal["name"], cal["value"]))

    prof = _read(d / "sick_duration_profile.csv")
    for col in ("from_week", "to_week", "persons"):
        prof[col] = _numeric(prof, col, d / "sick_duration_profile.csv", 0)

    return Data(params, units, sources, hz, de, mix, tg, rates, refund, ft, uc, lines,
                calibrated, prof, d)
