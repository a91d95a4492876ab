"""Loading the parameter tables in ``data/``: every figure with its unit and source, and the
one validator of parameter values.

Each CSV file is validated on load: required columns present, every row with a non-empty
``source``, numbers where numbers are expected, shares and probabilities within [0, 1].
Errors name the file, the row and the column.

What a parameter may take is declared once, as data: ``data/parameter_ranges.csv`` gives each
parameter (by a name pattern such as ``rules.*.contact_months``) a kind (``number``, ``share``,
``whole``, ``flag`` or ``schedule``), a range and a unit. :func:`checked_value` applies it to a
value from any source (a scenario file, ``Scenario.with_changes``, a sweep grid or distribution),
so every way a value enters is held to the same rules.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError
from .paths import DATA_DIR
from .errors import did_you_mean
from .states import ACTIVITIES, DESTINATIONS, EFFORT_LINES, EVENTS, SELECTORS, SOCIAL_ASSISTANCE, STATES


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
    "unit_costs.csv": ["activity", "line", "dkk_per_unit", "unit", "source", "external_share",
                       "external_unit", "external_source"],
    "effort_lines.csv": ["line", "baseline_bn", "unit", "source"],
    "calibrated.csv": ["name", "value", "unit", "source"],
    "sick_duration_profile.csv": ["from_week", "to_week", "persons", "unit", "source"],
    "parameter_ranges.csv": ["pattern", "kind", "min", "max", "unit", "source"],
    "municipalities.csv": ["code", "name", "region", "population", "population_date", "unit", "source"],
    "behaviour_ranges.csv": ["parameter", "low", "high", "unit", "source"],
    "replications.csv": ["name", "study", "state", "months", "control", "treatment", "value", "low", "high",
                         "unit", "source"],
}

#: kinds of parameter value (``data/parameter_ranges.csv``)
KINDS = ("number", "share", "whole", "flag", "schedule")


#: parameters of data/parameters.csv read by the money and summary steps (the rest reach the
#: rule tables)
JOB_RETENTION = "money.job_retention_per_month"
EARNINGS = "money.earnings_per_fulltime_year_dkk"
TAX_RATE = "money.effective_tax_rate"
TAX_MUNICIPAL = "money.tax_municipal_share"
FULLTIME = "money.fulltime_factor_of_jobs"
GOAL = "money.labour_supply_goal_persons"
EXPERT_DERIVED = "money.derived_effects_expert_group_bn"
FIXED_SHARE = "money.effort_fixed_share"
#: share of the money left under a budget spent on more activity for those furthest away (A-8)
REDEPLOY = "money.redeploy_share"
#: share of each effort line's variable cost that can be shed a year: ``SHED + line``
SHED = "money.shed_share_per_year."
#: how unevenly a business cycle hits the municipalities: the standard deviation of the log of
#: each municipality's exposure (``sim.population.municipality_exposure``)
EXPOSURE = "cycle.exposure_dispersion"
#: how unevenly jobseekers are spread over the municipalities beyond population (log sd)
CASELOAD_DISPERSION = "population.caseload_dispersion"
#: share of each financing regime's effort spending under the municipal service ceiling
CEILING_SHARE = "financing.ceiling_share."
FINANCING_REGIMES = ("today", "service_ceiling")
MONEY_PARAMETERS = (JOB_RETENTION, EARNINGS, TAX_RATE, TAX_MUNICIPAL, GOAL, EXPERT_DERIVED, FULLTIME,
                    FIXED_SHARE, SHED + "jobcentre_operations", SHED + "guidance_upskilling", SHED + "other_effort",
                    REDEPLOY, EXPOSURE, CASELOAD_DISPERSION, *(CEILING_SHARE + r for r in FINANCING_REGIMES))


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
    specs: tuple = ()               # ValueSpec of data/parameter_ranges.csv
    municipalities: pd.DataFrame | None = None   # the 98, in code order (data/municipalities.csv)
    replications: pd.DataFrame | None = None     # evaluation designs (data/replications.csv)
    behaviour_ranges: pd.DataFrame | None = None  # what is known of each behaviour effect's size

    def target(self, name: str) -> float:
        row = self.targets.loc[self.targets["name"] == name]
        return float(row["value"].iloc[0])

    @functools.cached_property
    def rule_names(self) -> frozenset:
        """The rules of ``data/parameters.csv`` (``contact_months``, ...), whatever their state."""
        return frozenset(parts[2] for parts in map(rule_parts, self.params) if parts is not None)

    def spec(self, name: str) -> ValueSpec:
        """What parameter ``name`` may take; KeyError if it is not a parameter.

        Valid names are those of ``data/`` and rules with a selector or for another state, as
        long as the state, the selector and the rule exist (``rules.dagpenge@far.contact_months``).
        """
        if name not in self.params:
            parts = rule_parts(name)
            if parts is None:
                raise KeyError(name)
            state, selector, rule = parts
            if ((state not in DESTINATIONS and state != "general")
                    or (selector is not None and selector not in SELECTORS)
                    or rule not in self.rule_names):
                raise KeyError(name)
        for sp in self.specs:
            if fnmatch.fnmatchcase(name, sp.pattern):
                return sp
        raise KeyError(name)

    def unit(self, name: str) -> str:
        """The unit of parameter ``name`` (KeyError if it is not one)."""
        sp = self.spec(name)
        return self.units.get(name, sp.unit)


def rule_parts(name: str):
    """(state, selector or None, rule) for a rule name ``rules.STATE[@SELECTOR].RULE``, else None."""
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "rules":
        return None
    state, _, selector = parts[1].partition("@")
    return state, selector or None, parts[2]


def checked_value(where, key: str, name: str, raw, data: Data, unit: str | None = None):
    """The one validator of a parameter value, from a file, from Python or from a sweep.

    Returns the model's value (float, or a tuple of whole months for a schedule). Raises
    InputError naming ``where`` (the file), ``key`` (the key in it), the parameter and what is
    allowed: for an unknown name (with the nearest valid one), a value of the wrong type (a
    string, a boolean, a list for a number or a number for a schedule), NaN or infinity, a value
    outside the declared range or not whole, or a ``unit`` other than the parameter's.
    """
    try:
        spec = data.spec(name)
    except KeyError:
        parts = rule_parts(name)
        hint = did_you_mean(name, data.params)
        if parts is not None and parts[1] is not None and parts[1] not in SELECTORS:
            hint = (f"; selector '{parts[1]}'{did_you_mean(parts[1], SELECTORS)} must be one of "
                    f"{', '.join(SELECTORS)}")
        raise InputError(f"{where}: {key}.parameter = '{name}' is not a parameter{hint}; "
                         "see data/parameters.csv") from None
    own = data.unit(name)
    if unit is not None and unit.strip() != own:
        raise InputError(f"{where}: {key}.unit = {unit!r} for '{name}' differs from the parameter's unit "
                         f"'{own}'; give the value in '{own}' (or leave out 'unit')")
    try:
        return spec.check(raw)
    except ValueError as exc:
        raise InputError(f"{where}: {key}.value for '{name}' ({own}): {exc}") from None


@dataclass(frozen=True)
class ValueSpec:
    """What one parameter may take: a row of ``data/parameter_ranges.csv``.

    ``kind`` is one of :data:`KINDS`: ``number`` (a finite number within [low, high]), ``share``
    (the same within [0, 1]), ``whole`` (a whole number within [low, high]), ``flag`` (0 or 1)
    or ``schedule`` (a list of increasing whole months within [low, high], possibly empty).
    ``unit`` is the parameter's unit ('' where each parameter keeps its own table's unit).
    """

    pattern: str
    kind: str
    low: float
    high: float
    unit: str
    source: str

    @property
    def discrete(self) -> bool:
        """Whether only whole numbers are allowed (a drawn value would rarely be one)."""
        return self.kind in ("whole", "flag", "schedule")

    def allowed(self) -> str:
        """What is allowed, in words, for messages."""
        if self.kind == "flag":
            return "0 or 1 (a flag)"
        if self.kind == "schedule":
            return (f"a list of increasing whole months within [{self.low:g}, {self.high:g}] without "
                    "repeats (e.g. [0, 1, 3]; [] for none)")
        what = "a whole number" if self.kind == "whole" else "a finite number"
        return f"{what} within [{self.low:g}, {self.high:g}]"

    def check(self, raw):
        """``raw`` as the model's value (float, or a tuple of ints for a schedule).

        Raises ValueError (message: what is wrong and what is allowed) for any other type: no
        strings, booleans, NaN or infinities, nothing rounded or wrapped into a list.
        """
        if self.kind == "schedule":
            if not isinstance(raw, (list, tuple)):
                raise ValueError(f"{_shown(raw)} is not a list; allowed: {self.allowed()}")
            months = [_whole(x, self) for x in raw]
            if months != sorted(set(months)):
                raise ValueError(f"{list(raw)} is not increasing without repeats; allowed: {self.allowed()}")
            return tuple(months)
        if isinstance(raw, (list, tuple)):
            raise ValueError(f"{_shown(raw)} is a list; allowed: {self.allowed()}")
        if self.kind in ("whole", "flag"):
            return float(_whole(raw, self))
        x = _number(raw, self)
        if not self.low <= x <= self.high:
            raise ValueError(f"{_shown(raw)} is outside the range; allowed: {self.allowed()}")
        return x


def _shown(raw) -> str:
    return repr(raw) if isinstance(raw, str) else str(raw)


def _number(raw, spec: ValueSpec) -> float:
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real) or type(raw).__name__ == "bool_":
        raise ValueError(f"{_shown(raw)} is not a number ({type(raw).__name__}); allowed: {spec.allowed()}")
    x = float(raw)
    if not math.isfinite(x):
        raise ValueError(f"{_shown(raw)} is not a finite number; allowed: {spec.allowed()}")
    return x


def _whole(raw, spec: ValueSpec) -> int:
    x = _number(raw, spec)
    if x != int(x) or not spec.low <= x <= spec.high:
        raise ValueError(f"{_shown(raw)} is not allowed; allowed: {spec.allowed()}")
    return int(x)


def checked_support(where, key: str, name: str, low: float, high: float, data: Data) -> None:
    """Refuse a continuous distribution for parameter ``name`` unless every value it can draw,
    [low, high], is allowed: the parameter is a number or a share and the whole support lies
    within its declared range (a normal draw needs finite truncation bounds). Raises InputError
    naming ``where``, ``key`` and what is allowed."""
    try:
        spec = data.spec(name)
    except KeyError:
        raise InputError(f"{where}: {key}.parameter = '{name}' is not a parameter"
                         f"{did_you_mean(name, data.params)}; see data/parameters.csv") from None
    if spec.discrete:
        raise InputError(f"{where}: {key}: '{name}' takes {spec.allowed()}; a continuous distribution "
                         "cannot draw it (use distribution = 'choice' with the values)")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError(f"{where}: {key}: '{name}' takes {spec.allowed()}; the distribution needs finite "
                         "bounds 'low' and 'high' within that range")
    if not (spec.low <= low and high <= spec.high):
        raise InputError(f"{where}: {key}: the distribution can draw values in [{low:g}, {high:g}], but "
                         f"'{name}' takes {spec.allowed()}")


def _load_ranges(path: Path, params: dict, units: dict) -> tuple[ValueSpec, ...]:
    """The declarations of ``parameter_ranges.csv``, checked against the parameters they cover:
    every parameter matched by exactly one pattern, with that pattern's unit, and its default
    value allowed by it."""
    df = _read(path)
    _names(df, "kind", KINDS, path)
    low = _numeric(df, "min", path)
    high = _numeric(df, "max", path)
    specs = []
    for i, row in df.iterrows():
        if low[i] > high[i]:
            raise InputError(f"{path}: row {i + 2} ({row['pattern']}): min {low[i]:g} is above max {high[i]:g}")
        lo, hi = (0.0, 1.0) if row["kind"] in ("share", "flag") else (low[i], high[i])
        if (lo, hi) != (low[i], high[i]):
            raise InputError(f"{path}: row {i + 2} ({row['pattern']}): a {row['kind']} has min 0 and max 1")
        specs.append(ValueSpec(row["pattern"], row["kind"], lo, hi, row["unit"].strip(), row["source"]))
    for name, value in params.items():
        found = [sp for sp in specs if fnmatch.fnmatchcase(name, sp.pattern)]
        if len(found) != 1:
            what = "no pattern" if not found else f"{len(found)} patterns ({', '.join(sp.pattern for sp in found)})"
            raise InputError(f"{path}: parameter '{name}' is matched by {what}; each parameter needs exactly one")
        sp = found[0]
        if sp.unit and units[name] != sp.unit:
            raise InputError(f"{path}: pattern '{sp.pattern}' has unit '{sp.unit}' but parameter '{name}' "
                             f"has unit '{units[name]}'")
        try:
            sp.check(list(value) if isinstance(value, tuple) else value)
        except ValueError as exc:
            raise InputError(f"{path}: the default of '{name}' breaks its pattern '{sp.pattern}': {exc}") from None
    return tuple(specs)


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
    _names(de, "event", EVENTS, d / "destinations.csv")
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
    _names(tg, "role", ("calibrated", "reported", "reform"), d / "targets.csv")

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
    uc["external_share"] = _numeric(uc, "external_share", d / "unit_costs.csv", 0, 1, allow=("calibrated",))
    empty = uc.index[uc["external_source"].str.strip() == ""]
    if len(empty):
        raise InputError(f"{d / 'unit_costs.csv'}: row {int(empty[0]) + 2} has no external_source; every "
                         "figure needs one")
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

    specs = _load_ranges(d / "parameter_ranges.csv", params, units)
    replications = None
    if (d / "replications.csv").exists():
        replications = _read(d / "replications.csv")
        _names(replications, "state", STATES, d / "replications.csv")
        for col in ("months", "value", "low", "high"):
            replications[col] = _numeric(replications, col, d / "replications.csv",
                                         1 if col == "months" else None)
    ranges = None
    if (d / "behaviour_ranges.csv").exists():
        path = d / "behaviour_ranges.csv"
        ranges = _read(path)
        for col in ("low", "high"):
            ranges[col] = _numeric(ranges, col, path)
        for i, row in enumerate(ranges.itertuples()):
            if row.parameter not in params:
                raise InputError(f"{path}: row {i + 2}: '{row.parameter}' is not a parameter of "
                                 f"data/parameters.csv{did_you_mean(row.parameter, list(params))}")
            if not row.low <= float(params[row.parameter]) <= row.high:
                raise InputError(f"{path}: row {i + 2}: the default of '{row.parameter}' "
                                 f"({params[row.parameter]}) is outside its range [{row.low}, {row.high}]")
    return Data(params, units, sources, hz, de, mix, tg, rates, refund, ft, uc, lines,
                calibrated, prof, d, specs, _load_municipalities(d / "municipalities.csv"), replications,
                ranges)


def _load_municipalities(path: Path) -> pd.DataFrame:
    """The municipalities by code (``code`` int, ``name``, ``region``, ``population``)."""
    m = _read(path)
    m["code"] = _numeric(m, "code", path, 1)
    m["population"] = _numeric(m, "population", path, 1)
    if (m["code"] % 1 != 0).any() or m["code"].duplicated().any():
        raise InputError(f"{path}: column 'code' must be distinct whole numbers (kommunekoder)")
    empty = m.index[m["source"].astype(str).str.strip() == ""]
    if len(empty):
        raise InputError(f"{path}: row {int(empty[0]) + 2} has no source; every figure needs one")
    m["code"] = m["code"].astype("int64")
    return m.sort_values("code", ignore_index=True)
