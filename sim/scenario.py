"""Scenario files: loading, validation and the parameters in force month by month.

A scenario is a TOML file in ``configs/`` (or any path). The baseline sets the horizon; a reform
names its ``baseline`` and lists ``[[change]]`` entries, each a dated new value for one parameter
of ``data/parameters.csv`` with its source. Validation names the file, the key, the value and
what is allowed, and suggests the nearest valid key for a typo.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import re
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InputError, did_you_mean
from .parameters import FINANCING_REGIMES, Data, checked_value, load_data
from .paths import CONFIG_DIR, scenario_path

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class _Strict(BaseModel):
    # strict: nothing coerced (no "6" or true for a number); no NaN or infinity anywhere
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Horizon(_Strict):
    start: str = Field(pattern=MONTH_PATTERN, description="first simulated month, YYYY-MM")
    end: str = Field(pattern=MONTH_PATTERN, description="last simulated month, YYYY-MM")


class ChangeEntry(_Strict):
    """A ``[[change]]`` table of a scenario file, as written."""

    parameter: str | list[str] = Field(description="a name from data/parameters.csv (or a list of "
                                       "names that take the same value); rules may carry a selector: "
                                       "rules.STATE@SELECTOR.RULE")
    value: Any = Field(description="new value in the parameter's unit (checked by "
                       "sim.parameters.checked_value against data/parameter_ranges.csv)")
    start: str | None = Field(default=None, pattern=MONTH_PATTERN,
                              description="first month in force, YYYY-MM (default: horizon start)")
    source: str = Field(min_length=1, description="where the change comes from")
    unit: str | None = None
    provision: str | None = Field(default=None, description="the reform provision it belongs to")


EFFORT_MODES = ("rule_driven", "budget_constrained")
#: what a budget-constrained line's budget is before the saving: the baseline's spending month by
#: month (it rises with the baseline's caseload: compensated), its spending month by month without
#: its business cycle (fixed in advance: no compensation for the cycle), or its base-year spending
#: fixed in DKK
BUDGET_BASES = ("baseline", "without_cycle", "fixed_base_year")
PRIORITIES = ("proportional", "protect_far", "youth_offers_first", "youth_vulnerable_insured")
SAVING_LINES = ("jobcentre_operations", "guidance_upskilling", "other_effort")


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    """``value`` if it is one of ``allowed``, else a ValueError that names them."""
    if value not in allowed:
        raise ValueError(f"'{value}' is not {what}{did_you_mean(value, allowed)}; allowed: {', '.join(allowed)}")
    return value


class YouthCut(_Strict):
    provision: str = Field(default="youth_effort_cut", min_length=1)
    jobcentre_operations: float = Field(default=0.0, ge=0, description="bn DKK per year at full effect")
    guidance_upskilling: float = Field(default=0.0, ge=0, description="bn DKK per year at full effect")
    other_effort: float = Field(default=0.0, ge=0, description="bn DKK per year at full effect")
    source: str = Field(min_length=1)


#: each [effort] key that names one of a set: (the set, what a member is called)
EFFORT_CHOICES = {"mode": (EFFORT_MODES, "a mode"), "priority": (PRIORITIES, "a priority rule"),
                  "budget": (BUDGET_BASES, "a budget basis")}


class Effort(_Strict):
    mode: str = Field(default="rule_driven", description="rule_driven: the law sets activity; "
                      "budget_constrained: a budget per line is fixed and activity is rationed")
    priority: str = Field(default="proportional", description="who keeps activity when it is rationed")
    youth_cut: YouthCut | None = Field(default=None, description="the part of each line's rationed "
                                       "cut taken from persons under 30, phased like the saving")
    budget: str = Field(default="baseline", description="baseline: each month's budget is the "
                        "baseline's spending that month less the saving; without_cycle: the "
                        "baseline's spending without its [[inflow]] multipliers; fixed_base_year: "
                        "the baseline's average monthly spending in the first year, fixed in DKK")

    @field_validator("mode", "priority", "budget")
    @classmethod
    def _choice(cls, v, info):
        return _one_of(v, *EFFORT_CHOICES[info.field_name])


class Saving(_Strict):
    start: str = Field(pattern=MONTH_PATTERN, description="first month of this saving level, YYYY-MM")
    jobcentre_operations: float = Field(default=0.0, ge=0, description="bn DKK per year")
    guidance_upskilling: float = Field(default=0.0, ge=0, description="bn DKK per year")
    other_effort: float = Field(default=0.0, ge=0, description="bn DKK per year")
    source: str = Field(min_length=1)


class Inflow(_Strict):
    """An ``[[inflow]]`` table: new spells multiplied for a while (a business cycle)."""

    start: str = Field(pattern=MONTH_PATTERN, description="first month of the multiplier, YYYY-MM")
    end: str = Field(pattern=MONTH_PATTERN, description="last month of the multiplier, YYYY-MM")
    states: list[str] = Field(min_length=1, description="states whose new spells are multiplied")
    multiplier: float = Field(ge=0, le=10, description="new spells x this (1 = as the baseline)")
    regions: list[str] | None = Field(default=None, description="only in these regions (default all)")
    municipalities: list[int] | None = Field(default=None, description="only in these municipality "
                                             "codes (default all)")
    exposed: bool = Field(default=True, description="scale the shock by each municipality's exposure "
                          "(cycle.exposure_dispersion)")
    source: str = Field(min_length=1)


class Financing(_Strict):
    regime: str = Field(default="today", description="today: about half of the effort under the "
                        "service ceiling, the rest compensated like transfers; service_ceiling: all "
                        "of it under the ceiling (the expert group's proposal)")

    @field_validator("regime")
    @classmethod
    def _regime(cls, v):
        return _one_of(v, FINANCING_REGIMES, "a financing regime")


class OneOff(_Strict):
    provision: str = Field(min_length=1)
    year: int = Field(ge=2000, le=2100, description="calendar year of the cost")
    line: str = Field(description="effort line that pays it")
    bn: float = Field(ge=0, le=11.4, description="bn DKK in that year")
    source: str = Field(min_length=1)

    @field_validator("line")
    @classmethod
    def _line(cls, v):
        return _one_of(v, SAVING_LINES, "an effort line")


class ScenarioFile(_Strict):
    description: str = Field(min_length=1)
    baseline: str | None = None
    scheme: str | None = Field(default=None, description="target-group scheme of the scenario")
    content_from: str | None = Field(default=None, description="take the changes of this scenario "
                                     "(beyond its baseline) ...")
    content_start: str | None = Field(default=None, pattern=MONTH_PATTERN,
                                      description="... all starting in this month, YYYY-MM")
    horizon: Horizon | None = None
    change: list[ChangeEntry] = Field(default_factory=list)
    effort: Effort | None = None
    saving: list[Saving] | None = None
    one_off: list[OneOff] | None = Field(default=None, description="one-off costs of the reform "
                                         "(implementation), outside any budget")
    inflow: list[Inflow] | None = Field(default=None, description="multipliers of new spells by month, "
                                        "state and place (a business cycle)")
    financing: Financing | None = None

    @field_validator("saving")
    @classmethod
    def _savings_in_order(cls, steps):
        for i in range(1, len(steps or [])):
            if steps[i].start <= steps[i - 1].start:
                raise ValueError(f"saving[{i}] starts {steps[i].start}, not after saving[{i - 1}] "
                                 f"({steps[i - 1].start}): schedules must be in date order")
        return steps

    @field_validator("change")
    @classmethod
    def _dated_in_order(cls, changes):
        last: dict[str, str] = {}
        for i, ch in enumerate(changes):
            names = ch.parameter if isinstance(ch.parameter, list) else [ch.parameter]
            for name in names:
                if ch.start is not None and name in last and ch.start <= last[name]:
                    raise ValueError(f"change[{i}] for '{name}' starts {ch.start}, not after "
                                     f"the earlier change starting {last[name]}: schedules must be "
                                     "in date order")
                if ch.start is not None:
                    last[name] = ch.start
        return changes


def month_number(text: str) -> int:
    """Months since January 2000 (the month id used in random-number keys) of 'YYYY-MM'.

    Raises ValueError for anything else ('2025-13', '2025-1', ' 2025-01').
    """
    if not isinstance(text, str) or not re.fullmatch(MONTH_PATTERN, text):
        raise ValueError(f"{text!r} is not a month 'YYYY-MM'")
    year, month = text.split("-")
    return (int(year) - 2000) * 12 + int(month) - 1


def month_label(number: int) -> str:
    return f"{2000 + number // 12}-{number % 12 + 1:02d}"


@dataclass(frozen=True)
class InflowShock:
    """An ``[[inflow]]`` as the population reads it: months (ids, see :func:`month_number`) from
    ``first`` to ``last``, the states' indices, the multiplier, the municipalities it applies to
    (indices into ``data/municipalities.csv``; all where None), and whether it is scaled by each
    municipality's exposure."""

    first: int
    last: int
    states: tuple[int, ...]
    multiplier: float
    places: tuple[int, ...] | None
    exposed: bool
    source: str


@dataclass(frozen=True)
class Change:
    """One dated change of one parameter, as the model reads it.

    ``month`` is the first month in force (months since 2000-01, see :func:`month_number`);
    ``value`` is checked (:func:`sim.parameters.checked_value`): a float, or a tuple of whole
    months for a schedule; ``provision`` is the reform provision it belongs to (the unit of the
    per-provision breakdown).
    """

    month: int
    parameter: str
    value: float | tuple
    source: str
    provision: str


@dataclass
class Scenario:
    """A loaded, validated scenario: its files, horizon and dated parameter changes."""

    name: str
    description: str
    files: list[Path]
    start: int                      # month number of the first simulated month
    n_months: int
    changes: list[Change] = field(default_factory=list)   # the baseline's first, then in file order
    data: Data | None = None
    scheme: str = "current"
    effort_mode: str = "rule_driven"
    priority: str = "proportional"
    origin: str | None = None      # where a scenario built in Python came from (for messages)
    savings: list[tuple[int, dict, str]] = field(default_factory=list)  # (month, {line: bn/yr}, source)
    youth_cut: tuple[str, dict, str] | None = None   # (provision, {line: bn/yr at full effect}, source)
    one_offs: list[tuple[int, str, float, str, str]] = field(default_factory=list)  # (year, line, bn, provision, source)
    inflows: list["InflowShock"] = field(default_factory=list)   # multipliers of new spells
    financing: str = "today"            # financing regime (FINANCING_REGIMES)
    budget_basis: str = "baseline"      # BUDGET_BASES

    @property
    def provisions(self) -> list[str]:
        """The provisions of the changes, each once, in file order."""
        return list(dict.fromkeys(c.provision for c in self.changes))

    def saving_levels(self) -> "np.ndarray":
        """Saving in force by month and line (bn DKK per year): (n_months, 3 lines)."""
        out = np.zeros((self.n_months, len(SAVING_LINES)))
        for month, levels, _ in self.savings:
            out[max(month - self.start, 0):] = [levels[ln] for ln in SAVING_LINES]
        return out

    def youth_cut_levels(self) -> "np.ndarray":
        """The part of the rationed cut taken from persons under 30, by month and line (bn DKK
        per year): the full-effect amounts phased like the saving (the share of the last saving
        level in force). Zeros without ``[effort.youth_cut]``."""
        out = np.zeros((self.n_months, len(SAVING_LINES)))
        if self.youth_cut is None or not self.savings:
            return out
        levels = self.saving_levels()
        full = sum(self.savings[-1][1].values())
        phase = levels.sum(axis=1) / full if full > 0 else np.zeros(self.n_months)
        return phase[:, None] * np.array([self.youth_cut[1][ln] for ln in SAVING_LINES])[None, :]

    @property
    def months(self) -> list[str]:
        return [month_label(self.start + m) for m in range(self.n_months)]

    @property
    def years(self) -> list[int]:
        return sorted({2000 + (self.start + m) // 12 for m in range(self.n_months)})

    def with_changes(self, changes: dict, start: str | None = None, source: str = "notebook",
                     provision: str | None = None, name: str | None = None,
                     scheme: str | None = None) -> "Scenario":
        """A reform built in Python: this scenario plus ``{parameter: value}`` changes.

        Values are validated as in a scenario file (unit, range, schedules); ``start`` is the
        first month in force ('YYYY-MM', default the horizon start); each change belongs to
        ``provision`` (default: its parameter name) for the per-provision breakdown.

        >>> reform = load_scenario("baseline").with_changes(
        ...     {"rules.dagpenge.akasse_months": 6}, start="2026-01", source="Djøf (000)")
        """
        when = month_number(start) if start else self.start
        where = Path(f"<{name or 'notebook'}>")
        if not self.start <= when < self.start + self.n_months:
            raise InputError(f"{where}: start '{start}' is outside the horizon")
        new = list(self.changes)
        for param, value in changes.items():
            raw = list(value) if isinstance(value, (list, tuple)) else value
            new.append(Change(when, param, checked_value(where, "change", param, raw, self.data), source,
                              provision or param))
        if scheme is not None:
            from .groups import SCHEMES
            if scheme not in SCHEMES:
                raise InputError(f"{where}: scheme '{scheme}' is not one of {', '.join(SCHEMES)}")
        return dataclasses.replace(self, name=name or f"{self.name}+changes", changes=new, origin=str(where),
                                   scheme=scheme or self.scheme)

    def file_hashes(self) -> dict[str, str]:
        return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in self.files}

    def params_at(self, month_index: int) -> dict:
        """Parameters in force in simulated month ``month_index`` (0 = horizon start)."""
        params = dict(self.data.params)
        for ch in sorted(self.changes, key=lambda c: c.month):
            if ch.month <= self.start + month_index:
                params[ch.parameter] = ch.value
        return params

    def regimes(self) -> tuple[list[dict], list[int]]:
        """Distinct parameter sets in force and, for each month, the index of its set."""
        sets: list[dict] = []
        keys: list[tuple] = []
        of_month = []
        # the parameters change only in months where a change starts: look them up there
        starts = sorted(c.month for c in self.changes)
        active = -1
        for m in range(self.n_months):
            n_active = bisect.bisect_right(starts, self.start + m)
            if n_active != active:
                active = n_active
                p = self.params_at(m)
                key = tuple(sorted((k, v) for k, v in p.items()))
                if key not in keys:
                    keys.append(key)
                    sets.append(p)
                index = keys.index(key)
            of_month.append(index)
        return sets, of_month


def _format_pydantic(path: Path, exc: ValidationError, allowed_by_loc) -> str:
    errors = exc.errors()
    # an unknown key first: a misspelt key also makes the key it should have been "missing"
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = ".".join(str(x) for x in err["loc"])
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        allowed = allowed_by_loc(err["loc"][:-1])
        return (f"{path}: unknown key '{loc}'{did_you_mean(key, allowed)}; "
                f"allowed here: {', '.join(allowed)}")
    if err["type"] == "missing":
        return f"{path}: required key '{loc}' is missing"
    value = err.get("input")
    return f"{path}: key '{loc}' = {value!r}: {err['msg']}"


def _allowed_keys(loc) -> list[str]:
    model = ScenarioFile
    for part in loc:
        if isinstance(part, int):
            continue
        model = {"horizon": Horizon, "change": ChangeEntry, "effort": Effort, "saving": Saving,
                 "youth_cut": YouthCut, "one_off": OneOff, "inflow": Inflow,
                 "financing": Financing}.get(part, model)
    return list(model.model_fields)


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not valid TOML (not UTF-8 text: is it a scenario file?)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None


def load_scenario(name_or_path: str | Path, data: Data | None = None, _seen=None) -> Scenario:
    """Load and validate a scenario by name (``configs/NAME.toml``) or path.

    Raises
    ------
    InputError
        For a missing file, malformed TOML, an unknown or ill-typed key, an unknown parameter,
        a value out of range, a change outside the horizon or out of date order, or an unknown
        or circular baseline.
    """
    data = data or load_data()
    path = scenario_path(name_or_path)
    _seen = (_seen or []) + [path.resolve()]
    raw = _read_toml(path)
    try:
        spec = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(_format_pydantic(path, exc, _allowed_keys)) from None

    if spec.baseline is not None:
        ref = path.parent / spec.baseline if Path(spec.baseline).suffix else spec.baseline
        try:
            base_path = scenario_path(ref)
        except InputError as exc:
            raise InputError(f"{path}: key 'baseline' = '{spec.baseline}': {exc}") from None
        if base_path.resolve() in _seen:
            raise InputError(f"{path}: key 'baseline' = '{spec.baseline}' makes a circular chain of baselines")
        base = load_scenario(base_path, data, _seen)
        files = base.files + [path]
        start, n_months = base.start, base.n_months
        changes = list(base.changes)
        scheme = base.scheme
        effort_mode, priority, savings = base.effort_mode, base.priority, list(base.savings)
        youth_cut = base.youth_cut
        one_offs = list(base.one_offs)
        inflows, financing, budget_basis = list(base.inflows), base.financing, base.budget_basis
        if spec.horizon is not None:
            start, n_months = _horizon(path, spec.horizon)
    else:
        if spec.horizon is None:
            raise InputError(f"{path}: a scenario without 'baseline' must set [horizon] start and end")
        start, n_months = _horizon(path, spec.horizon)
        files, changes, scheme = [path], [], "current"
        effort_mode, priority, savings = "rule_driven", "proportional", []
        youth_cut = None
        one_offs = []
        inflows, financing, budget_basis = [], "today", "baseline"
    if spec.inflow is not None:
        inflows = [_inflow(path, i, x, data, start, n_months) for i, x in enumerate(spec.inflow)]
    if spec.financing is not None:
        financing = spec.financing.regime
    if spec.one_off is not None:
        one_offs = []
        first, last = 2000 + start // 12, 2000 + (start + n_months - 1) // 12
        for i, o in enumerate(spec.one_off):
            if not first <= o.year <= last:
                raise InputError(f"{path}: one_off[{i}].year = {o.year} is outside the horizon {first} to {last}")
            one_offs.append((o.year, o.line, o.bn, o.provision, o.source))
    if spec.effort is not None:
        effort_mode, priority, budget_basis = spec.effort.mode, spec.effort.priority, spec.effort.budget
        yc = spec.effort.youth_cut
        youth_cut = None if yc is None else (yc.provision, {ln: getattr(yc, ln) for ln in SAVING_LINES},
                                             yc.source)
    if spec.saving is not None:
        savings = []
        for i, step in enumerate(spec.saving):
            when = month_number(step.start)
            if not start <= when < start + n_months:
                raise InputError(f"{path}: saving[{i}].start = '{step.start}' is outside the horizon "
                                 f"{month_label(start)} to {month_label(start + n_months - 1)}")
            for ln in SAVING_LINES:
                line_bn = float(data.effort_lines.set_index("line").loc[ln, "baseline_bn"])
                if getattr(step, ln) > line_bn:
                    raise InputError(f"{path}: saving[{i}].{ln} = {getattr(step, ln):g} bn a year is more than "
                                     f"the whole line ({line_bn:g} bn a year in "
                                     f"{data.directory / 'effort_lines.csv'}); allowed: 0 to {line_bn:g}")
            savings.append((when, {ln: getattr(step, ln) for ln in SAVING_LINES}, step.source))
    if savings and effort_mode != "budget_constrained":
        raise InputError(f"{path}: [[saving]] needs [effort] mode = 'budget_constrained' (now '{effort_mode}')")
    if youth_cut is not None and spec.effort is not None and spec.effort.youth_cut is not None:
        final = savings[-1][1] if savings else {ln: 0.0 for ln in SAVING_LINES}
        for ln in SAVING_LINES:
            if youth_cut[1][ln] > final[ln] + 1e-12:
                raise InputError(f"{path}: effort.youth_cut.{ln} = {youth_cut[1][ln]:g} bn a year is more "
                                 f"than the line's final saving ({final[ln]:g} bn a year in [[saving]]); "
                                 f"allowed: 0 to {final[ln]:g}")
    if spec.scheme is not None:
        from .groups import SCHEMES
        if spec.scheme not in SCHEMES:
            raise InputError(f"{path}: key 'scheme' = '{spec.scheme}' is not a target-group scheme"
                             f"{did_you_mean(spec.scheme, SCHEMES)}; allowed: {', '.join(SCHEMES)}")
        scheme = spec.scheme

    if (spec.content_from is None) != (spec.content_start is None):
        raise InputError(f"{path}: keys 'content_from' and 'content_start' go together")
    if spec.content_from is not None:
        try:
            content = load_scenario(spec.content_from, data, _seen)
        except InputError as exc:
            raise InputError(f"{path}: key 'content_from' = '{spec.content_from}': {exc}") from None
        when = month_number(spec.content_start)
        if not start <= when < start + n_months:
            raise InputError(f"{path}: key 'content_start' = '{spec.content_start}' is outside the horizon")
        own = set(changes)
        for ch in content.changes:
            if ch not in own:
                changes.append(dataclasses.replace(ch, month=when))
        if spec.scheme is None:
            scheme = content.scheme
        if spec.effort is None:
            effort_mode, priority = content.effort_mode, content.priority
            youth_cut = content.youth_cut
        if spec.saving is None and content.savings:
            # the whole saving at once: the content's final level from content_start
            last = content.savings[-1]
            savings = [(when, dict(last[1]), f"{last[2]} (all from {spec.content_start})")]

    for i, ch in enumerate(spec.change):
        key = f"change[{i}]"
        names = ch.parameter if isinstance(ch.parameter, list) else [ch.parameter]
        if not names:
            raise InputError(f"{path}: {key}.parameter is an empty list")
        for name in names:
            value = checked_value(path, key, name, ch.value, data, ch.unit)
            when = month_number(ch.start) if ch.start else start
            if not start <= when < start + n_months:
                raise InputError(f"{path}: {key}.start = '{ch.start}' is outside the horizon "
                                 f"{month_label(start)} to {month_label(start + n_months - 1)}")
            changes.append(Change(when, name, value, ch.source, ch.provision or name))

    return Scenario(name=path.stem, description=spec.description.strip(), files=files,
                    start=start, n_months=n_months, changes=changes, data=data, scheme=scheme,
                    effort_mode=effort_mode, priority=priority, savings=savings, youth_cut=youth_cut,
                    one_offs=one_offs, inflows=inflows, financing=financing, budget_basis=budget_basis)


def _inflow(path: Path, i: int, spec: Inflow, data: Data, start: int, n_months: int) -> InflowShock:
    """An ``[[inflow]]`` checked: months in order, known states, regions and municipality codes."""
    from .states import STATE, STATES
    key = f"inflow[{i}]"
    first, last = month_number(spec.start), month_number(spec.end)
    if last < first:
        raise InputError(f"{path}: {key}.end = '{spec.end}' is before {key}.start = '{spec.start}'")
    if first >= start + n_months or last < start:
        raise InputError(f"{path}: {key} ({spec.start} to {spec.end}) is outside the horizon "
                         f"{month_label(start)} to {month_label(start + n_months - 1)}")
    for name in spec.states:
        if name not in STATE:
            raise InputError(f"{path}: {key}.states: '{name}' is not a state{did_you_mean(name, STATES)}; "
                             f"allowed: {', '.join(STATES)}")
    towns = data.municipalities
    places = None
    if spec.regions is not None or spec.municipalities is not None:
        mask = np.ones(len(towns), bool)
        if spec.regions is not None:
            known = sorted(set(towns["region"]))
            for r in spec.regions:
                if r not in known:
                    raise InputError(f"{path}: {key}.regions: '{r}' is not a region{did_you_mean(r, known)}; "
                                     f"allowed: {', '.join(known)}")
            mask &= towns["region"].isin(spec.regions).to_numpy()
        if spec.municipalities is not None:
            codes = set(towns["code"])
            bad = [c for c in spec.municipalities if c not in codes]
            if bad:
                raise InputError(f"{path}: {key}.municipalities: {bad[0]} is not a municipality code "
                                 f"(kommunekode) in {data.directory / 'municipalities.csv'}")
            mask &= towns["code"].isin(spec.municipalities).to_numpy()
        places = tuple(int(k) for k in np.flatnonzero(mask))
    return InflowShock(first, last, tuple(STATE[s] for s in spec.states), float(spec.multiplier), places,
                       spec.exposed, spec.source)


def _horizon(path: Path, h: Horizon) -> tuple[int, int]:
    start, end = month_number(h.start), month_number(h.end)
    if end < start:
        raise InputError(f"{path}: horizon.end = '{h.end}' is before horizon.start = '{h.start}'")
    return start, end - start + 1


def list_scenarios() -> list[tuple[str, str]]:
    """Shipped scenarios in ``configs/`` with the first line of their description."""
    out = []
    files = sorted(CONFIG_DIR.glob("*.toml"), key=lambda f: (f.stem != "baseline", f.stem))
    for f in files:
        try:
            text = " ".join(ScenarioFile.model_validate(_read_toml(f)).description.split())
        except (ValidationError, InputError):
            text = "(invalid scenario file)"
        sentence = text.split(". ")[0].rstrip(".")
        out.append((f.stem, sentence if len(sentence) <= 110 else sentence[:107].rsplit(" ", 1)[0] + " ..."))
    return out
