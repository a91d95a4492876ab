"""Rules and behaviour as arrays: from the parameters in force to the kernel's tables.

``build_tables`` turns each regime (a set of parameters in force, see ``Scenario.regimes``) into
the integer rule table, the conversation schedule, the monthly exit-probability table and the
destination distributions that ``sim.kernel`` and ``sim.engine`` read (columns: ``sim.layout``). Reading a rule here is
reading the law: ``rules.dagpenge.offer_first_month`` is the month of the right and duty to an
offer, and so on (sources in ``data/parameters.csv``).

A rule may apply to part of a state's persons: ``rules.dagpenge@far.contact_months`` overrides
``rules.dagpenge.contact_months`` for persons far from the labour market. Selectors
(``sim.states.SELECTORS``) are tried in order of precedence: distance class, age group, origin.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from . import layout as L
from .arrays import RuleArrays
from .states import (DEST, DESTINATIONS, N_CELLS, N_DEST, N_STATES, SOCIAL_ASSISTANCE, STATE, STATES,
                     REENTRY_STATES, cell_parts, is_furthest, selectors_of_cell)

#: months of duration the hazard table distinguishes (the last one means "this or longer")
N_DURATIONS = 61
#: longest early contact schedule, in months
MAX_EARLY = 36

_YOUTH_STATES = ("youth_education_ready", "youth_activity_ready")


_selectors = functools.lru_cache(maxsize=1024)(selectors_of_cell)


def _parse_rule_name(name: str):
    """``rules.STATE@SELECTOR.RULE`` as (STATE, SELECTOR, RULE); SELECTOR is None where there is
    none. None for a name that is not a rule."""
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "rules":
        return None
    scope, at, selector = parts[1].partition("@")
    return scope, (selector if at else None), parts[2]


class ParamReader:
    """Reads parameters and remembers which were read (a test checks that all are used).

    Rules are looked up in an index by (state, rule) built once from the parameter names, so
    resolving a rule for a cell is a few dictionary look-ups, not a list of names to build."""

    def __init__(self, params: dict):
        self.params = params
        self.used: set[str] = set()
        self._rules: dict[tuple[str, str], dict[str | None, str]] | None = None

    def get(self, name: str, default=None):
        if name in self.params:
            self.used.add(name)
            return self.params[name]
        if default is None:
            raise KeyError(name)
        return default

    def _rule_index(self) -> dict[tuple[str, str], dict[str | None, str]]:
        """{(STATE or 'general', RULE): {SELECTOR or None: parameter name}} of every rule."""
        if self._rules is None:
            index: dict[tuple[str, str], dict[str | None, str]] = {}
            for name in self.params:
                parsed = _parse_rule_name(name)
                if parsed is not None:
                    scope, selector, rule = parsed
                    index.setdefault((scope, rule), {})[selector] = name
            self._rules = index
        return self._rules

    def _resolve(self, state: str, rule: str, sels) -> str | None:
        """The name of the parameter that sets ``rule`` for ``state`` and selectors ``sels``."""
        index = self._rule_index()
        for scope in (state, "general"):
            candidates = index.get((scope, rule))
            if candidates:
                for sel in sels:
                    if sel in candidates:
                        return candidates[sel]
                if None in candidates:
                    return candidates[None]
        return None

    def rule(self, state: str, rule: str, default, cell: int | None = None):
        """The first of ``rules.STATE@SELECTOR.RULE`` (selectors ``cell`` matches, in order of
        precedence), ``rules.STATE.RULE``, ``rules.general@SELECTOR.RULE``, ``rules.general.RULE``;
        else ``default``."""
        name = self._resolve(state, rule, _selectors(cell, state) if cell is not None else ())
        if name is None:
            return default
        self.used.add(name)
        return self.params[name]

    def rule_by_cell(self, state: str, rule: str, default) -> list:
        """``rule(state, rule, default, cell)`` for every cell, in cell order (resolved once
        where no parameter for the state or ``general`` has a selector)."""
        index = self._rule_index()
        selective = any(sel is not None for scope in (state, "general")
                        for sel in index.get((scope, rule), ()))
        if not selective:
            return [self.rule(state, rule, default)] * N_CELLS
        return [self.rule(state, rule, default, c) for c in range(N_CELLS)]


def social_assistance_state(youth: int, distance: int) -> int:
    """Which social-assistance state a person enters: by age and distance to the labour market."""
    if youth:
        return STATE["youth_education_ready"] if distance < 2 else STATE["youth_activity_ready"]
    return STATE["sa_job_ready"] if distance == 0 else STATE["sa_activity_ready"]


def weeks_to_months(weeks: float, weeks_per_month: float) -> int:
    """Whole months nearest to ``weeks`` (22 weeks -> 5 months), at least one."""
    return max(1, int(math.floor(weeks / weeks_per_month + 0.5)))


@dataclass
class Tables:
    """The kernel's inputs, stacked over regimes (first axis)."""

    rules: np.ndarray          # int32 (R, S, C, N_RULES)
    conv_sched: np.ndarray     # int8 (R, S, C, MAX_EARLY)
    p_exit: np.ndarray         # float64 (R, S, N_DURATIONS, C, N_COMBOS)
    dest_cdf: np.ndarray       # float64 (R, S, C, K)
    limit_cdf: np.ndarray      # float64 (R, S, C, K)
    closure_cdf: np.ndarray    # float64 (R, S, C, K)
    probs: np.ndarray          # float64 (R, S, C, N_PROBS)
    rehab_on_entry: np.ndarray  # int8 (R, K)
    used: set

    def arrays(self, regime_of_month: np.ndarray, ration: np.ndarray | None = None,
               month0: int = 0) -> RuleArrays:
        """The engines' ``table`` argument; ``ration`` (months, kinds, states, cells) defaults to
        ones; one without the states axis (months, kinds, cells) applies to every state.
        ``month0``: month id of the first month (months since January 2000), which sets the
        calendar years of the municipality sums."""
        n_months = len(regime_of_month)
        year_of_month = (month0 + np.arange(n_months)) // 12 - month0 // 12
        if ration is None:
            ration = np.ones((n_months, L.N_KINDS, N_STATES, N_CELLS))
        elif ration.ndim == 3:
            ration = np.broadcast_to(ration[:, :, None, :], (ration.shape[0], ration.shape[1], N_STATES,
                                                             ration.shape[2]))
        # the kernel reads the tables through flat views, which need contiguous arrays
        c = np.ascontiguousarray
        return RuleArrays(
            regime_of_month=c(regime_of_month, dtype=np.int32), rules=c(self.rules),
            conv_sched=c(self.conv_sched), p_exit=c(self.p_exit), dest_cdf=c(self.dest_cdf),
            limit_cdf=c(self.limit_cdf), closure_cdf=c(self.closure_cdf), probs=c(self.probs),
            rehab_on_entry=c(self.rehab_on_entry), ration=c(ration, dtype=np.float64),
            year_of_month=c(year_of_month, dtype=np.int32), cost_class=cost_classes())


def cost_classes() -> np.ndarray:
    """The cost class by state and cell (S, C) int8 (``sim.layout.N_COST_CLASSES``): 1 for a
    person furthest from the labour market (``sim.states.is_furthest``), plus 2 for a person under
    30 (the youth cells)."""
    return np.array([[int(is_furthest(name, c)) + 2 * cell_parts(c)[0] for c in range(N_CELLS)]
                     for name in STATES], np.int8)


def _schedule(value) -> tuple[int, ...]:
    return value if isinstance(value, tuple) else (int(value),)


#: integer rules a state reads by cell: (rule, column of the rule table, default)
_INT_RULES = (
    ("akasse_months", L.R_AKASSE_MONTHS, 0),
    ("followup_every_months", L.R_FOLLOWUP_EVERY, 0),
    ("offer_first_month", L.R_OFFER_FIRST, -1),
    ("offer_every_months", L.R_OFFER_EVERY, 0),
    ("offer_length_months", L.R_OFFER_LEN, 1),
    ("offer_is_education", L.R_OFFER_IS_EDU, 0),
    ("job_education_from_month", L.R_JOBEDU_FROM, 0),
    ("job_education_until_month", L.R_JOBEDU_UNTIL, 0),
    ("information_form", L.R_INFO_FORM, 0),
    ("medical_certificate_month", L.R_CERT_MONTH, -1),
    ("review_first_month", L.R_REVIEW_FIRST, -1),
    ("review_every_months", L.R_REVIEW_EVERY, 0),
    ("closed", L.R_CLOSED, 0),
    ("activity_kept_when_closed", L.R_KEEP_ACTIVITY, 1),
)
#: probabilities a state reads by cell: (rule, column of the probability table, default)
_PROB_RULES = (
    ("job_education_uptake_per_month", L.Q_JOBEDU_UPTAKE, 0.0),
    ("medical_certificate_share", L.Q_CERT_SHARE, 1.0),
    ("followup_delivery_share", L.Q_FOLLOWUP_SHARE, 1.0),
    ("repeat_offer_delivery_share", L.Q_OFFER_SHARE, 1.0),
    ("company_offer_share", L.Q_COMPANY_SHARE, 0.0),
)


def _rule_rows(p: ParamReader, state: str):
    """The integer rules (C, N_RULES), conversation schedules (C, MAX_EARLY) and probabilities
    (C, N_PROBS) of one state, by cell."""
    rows = np.zeros((N_CELLS, L.N_RULES), np.int32)
    sched = np.zeros((N_CELLS, MAX_EARLY), np.int8)
    probs = np.zeros((N_CELLS, L.N_PROBS))
    contact = [_schedule(value) for value in p.rule_by_cell(state, "contact_months", ())]
    if any(months and max(months) >= MAX_EARLY for months in contact):
        raise ValueError(f"rules.{state}.contact_months: months beyond {MAX_EARLY - 1} are not supported")
    for rule, column, default in _INT_RULES:
        rows[:, column] = [int(value) for value in p.rule_by_cell(state, rule, default)]
    for c, months in enumerate(contact):
        akasse = rows[c, L.R_AKASSE_MONTHS]
        for month in months:
            sched[c, month] = 2 if month < akasse else 1
        rows[c, L.R_EARLY_LEN] = max(months) + 1 if months else 0
    rows[:, L.R_LIMIT] = -1
    rows[:, L.R_RESTART_CONTACT] = int(p.get("rules.general.restart_contact_on_switch"))
    rows[:, L.R_POST_MONTHS] = int(round(p.get("behaviour.post_months")))
    if state in REENTRY_STATES:
        rows[:, L.R_REENTRY_MONTHS] = int(round(p.get("behaviour.reentry_months")))
        share = p.get("behaviour.reentry_share")
        probs[:, L.Q_REENTRY] = share
        probs[:, L.Q_REENTRY_AFTER_OFFER] = share * (1.0 - p.get("behaviour.reentry_reduction_after_offer"))
    for rule, column, default in _PROB_RULES:
        probs[:, column] = [float(value) for value in p.rule_by_cell(state, rule, default)]
    return rows, sched, probs


def _time_limits(p: ParamReader, rules: np.ndarray) -> None:
    """The week-22 reassessment, the end of an extension and dagpenge exhaustion (rules[S, C, :]).

    A limit is stored as the last month in the state: a person reaching it moves at its end,
    so 24 months of dagpenge means months 0 to 23."""
    wpm = p.get("rules.general.weeks_per_month")
    employer = int(round(p.get("rules.sick.employer_period_days") / (365.25 / 12)))
    reassess = weeks_to_months(p.get("rules.sick.reassessment_week"), wpm)
    extension = weeks_to_months(p.get("rules.sick_extended.max_extension_week")
                                - p.get("rules.sick.reassessment_week"), wpm)
    sick, ext, dp = STATE["sick"], STATE["sick_extended"], STATE["dagpenge"]
    for c in range(N_CELLS):
        from_job = cell_parts(c)[3] == 1
        # the reassessment counts weeks of municipal benefit: after the employer period for the
        # sick from a job, from the first day for the sick from unemployment
        rules[sick, c, L.R_LIMIT] = reassess + (employer if from_job else 0) - 1
    rules[sick, :, L.R_REASSESS_AT_LIMIT] = int(p.get("rules.sick.reassessment_activity"))
    for s in (sick, ext, STATE["sick_reduced"]):
        rules[s, :, L.R_EMPLOYER_MONTHS] = employer
        rules[s, :, L.R_SPELL_PROFILE] = 1
    rules[ext, :, L.R_LIMIT] = extension - 1
    rules[dp, :, L.R_LIMIT] = int(p.get("rules.dagpenge.entitlement_months")) - 1


@functools.lru_cache(maxsize=256)
def _destination_by_cell(dest: str) -> tuple[np.ndarray, np.ndarray]:
    """Where a destination named in the data leads, by cell: the destination code (C,), and
    whether it is ``exit_job`` from far from the labour market (C,). ``social_assistance``
    resolves by age and distance."""
    codes, far_job = [], []
    for c in range(N_CELLS):
        youth, distance, _, _ = cell_parts(c)
        k = social_assistance_state(youth, distance) if dest == SOCIAL_ASSISTANCE else DEST[dest]
        codes.append(k)
        far_job.append(k == DEST["exit_job"] and distance == 2)
    codes_arr, far_arr = np.array(codes), np.array(far_job)
    codes_arr.flags.writeable = far_arr.flags.writeable = False
    return codes_arr, far_arr


def _destination_shares(p: ParamReader, event: str) -> np.ndarray:
    """Shares (S, C, K) of destinations for an event, resolved by cell; each row sums to 1."""
    far_factor = p.get("behaviour.far_job_share_factor")
    shares = np.zeros((N_STATES, N_CELLS, N_DEST))
    cells = np.arange(N_CELLS)
    totals: dict[str, float] = {}
    for name, value in p.params.items():
        if not name.startswith("destination."):
            continue
        _, state, ev, dest = name.split(".")
        if ev != event:
            continue
        share = p.get(name)
        totals[state] = totals.get(state, 0.0) + share
        s = STATE[state]
        codes, far_job = _destination_by_cell(dest)
        w = np.where(far_job, share * far_factor, share) if event == "exit" else share
        shares[s, cells, codes] += w
    for state, total in totals.items():
        if abs(total - 1.0) > 1e-9 and not (event == "closure" and total == 0.0):
            raise ValueError(f"destination shares of '{state}' for event '{event}' add up to "
                             f"{total:.4f}, not 1 (parameters destination.{state}.{event}.*)")
    return shares


def _resolve_closures(closure: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """Closure destinations (S, C, K) with closed targets replaced by their own destinations,
    so that nobody is moved into an abolished state (chains allowed, cycles refused)."""
    for s, c in zip(*np.nonzero(closed)):
        if closure[s, c].sum() == 0:
            raise ValueError(f"state '{STATES[s]}' is closed but has no closure destinations "
                             f"(parameters destination.{STATES[s]}.closure.*)")
    out = closure.copy()
    for _ in range(N_STATES + 1):
        changed = False
        for s, c in zip(*np.nonzero(closed)):
            for t in np.nonzero(out[s, c, :N_STATES] * closed[:N_STATES, c])[0]:
                if t == s:
                    raise ValueError(f"state '{STATES[s]}' is closed into itself")
                mass = out[s, c, t]
                out[s, c, t] = 0.0
                out[s, c] += mass * out[t, c] / out[t, c].sum()
                changed = True
        if not changed:
            return out
    raise ValueError("closed states send persons to each other in a cycle")


def _redirect(shares: np.ndarray, closure: np.ndarray, closed: np.ndarray):
    """Where moves into abolished states end up once the closure sends their persons on.

    Returns the resulting shares (S, C, K) and, by (S, C), the share that leads back into the
    origin state (a time limit must not: the person would stay past it)."""
    out = shares.copy()
    # the (origin, cell) pairs with moves into a closed state of that cell
    into_closed = ((shares[:, :, :N_STATES] * closed.T[None, :, :]) != 0).any(axis=2)
    into_closed &= shares[:, :, :N_STATES].sum(axis=2) >= 0
    for s, c in zip(*np.nonzero(into_closed)):
        for t in np.nonzero(out[s, c, :N_STATES] * closed[:, c])[0]:
            mass = out[s, c, t]
            out[s, c, t] = 0.0
            out[s, c] += mass * closure[t, c] / closure[t, c].sum()
    diagonal = np.arange(N_STATES)
    back = out[diagonal, :, diagonal] / np.maximum(out.sum(axis=2), 1e-300)
    out[diagonal, :, diagonal] = 0.0
    return out, back


def _cdf(shares: np.ndarray) -> np.ndarray:
    total = shares.sum(axis=-1, keepdims=True)
    norm = np.divide(shares, total, out=np.zeros_like(shares), where=total > 0)
    cdf = np.cumsum(norm, axis=-1)
    cdf[..., -1] = 1.0
    return cdf


def _exit_probabilities(p: ParamReader) -> np.ndarray:
    """Monthly exit probability (S, D, C, N_COMBOS) by what the person received this month."""
    base = np.zeros((N_STATES, N_DURATIONS))
    for name in p.params:
        if name.startswith("hazard."):
            _, state, span = name.split(".")
            lo, hi = (int(x) for x in span.split("_"))
            base[STATE[state], lo:min(hi, N_DURATIONS - 1) + 1] = p.get(name)
    dist_mult = np.array([p.get(f"behaviour.distance_multiplier.{k}") for k in ("close", "middle", "far")])
    # a meeting's effect (S,): the jobseekers' from the replicated experiments, the sick's own
    meeting = np.array([1.0 + p.get("behaviour.meeting_effect_sick" if STATES[s].startswith("sick")
                                    else "behaviour.meeting_effect") for s in range(N_STATES)])
    threat = 1.0 + p.get("behaviour.threat_effect")
    lockin = 1.0 - p.get("behaviour.lockin_effect")
    lockin_company = 1.0 - p.get("behaviour.lockin_effect_company")
    post_course = 1.0 + p.get("behaviour.post_effect_course")
    post_company = {0: 1.0 + p.get("behaviour.post_effect_company"),
                    1: 1.0 + p.get("behaviour.post_effect_company_youth")}
    order_effect = 1.0 + p.get("behaviour.education_order_effect")
    cap = p.get("behaviour.max_monthly_hazard")

    cell_mult = np.array([dist_mult[cell_parts(c)[1]] for c in range(N_CELLS)])
    state_mult = np.ones(N_STATES)
    for name in _YOUTH_STATES:
        if p.rule(name, "education_order", 0):
            state_mult[STATE[name]] = order_effect
    # by cell (C, N_COMBOS): the statuses in the order of sim.layout STATUS_*, then with a meeting
    status_mult = np.array([[1.0, threat, lockin, lockin_company, post_course, post_company[cell_parts(c)[0]]]
                            for c in range(N_CELLS)])
    combo_mult = np.concatenate([np.broadcast_to(status_mult, (N_STATES,) + status_mult.shape),
                                 status_mult[None, :, :] * meeting[:, None, None]], axis=2)   # (S, C, N_COMBOS)
    h = (base[:, :, None, None] * state_mult[:, None, None, None] * cell_mult[None, None, :, None]
         * combo_mult[:, None, :, :])
    return np.minimum(h, cap)


def build_regime(params: dict):
    """Tables for one set of parameters in force."""
    p = ParamReader(params)
    rules = np.zeros((N_STATES, N_CELLS, L.N_RULES), np.int32)
    sched = np.zeros((N_STATES, N_CELLS, MAX_EARLY), np.int8)
    probs = np.zeros((N_STATES, N_CELLS, L.N_PROBS))
    for s, name in enumerate(STATES):
        rules[s], sched[s], probs[s] = _rule_rows(p, name)
    _time_limits(p, rules)
    rehab = np.array([int(p.rule(name, "rehabilitation_on_entry", 0)) for name in DESTINATIONS], np.int8)
    closed = rules[:, :, L.R_CLOSED] == 1
    closure = _resolve_closures(_destination_shares(p, "closure"), closed)
    exits = _destination_shares(p, "exit")
    limits = _destination_shares(p, "limit")
    # a move into an abolished state is sent on by the engines, at the move (sim.kernel
    # ``transition``), so that the person can keep the abolished state's activity
    _, back = _redirect(limits, closure, closed)
    if (back > 0).any():
        s, c = np.argwhere(back > 0)[0]
        raise ValueError(f"the time limit of '{STATES[s]}' sends persons back into it through an "
                         "abolished state")
    p_exit = _exit_probabilities(p)
    return (rules, sched, p_exit, _cdf(exits), _cdf(limits), _cdf(closure), probs, rehab, p.used)


#: parameter values whose repr is exact, so that equal reprs mean equal values
_EXACT_REPR = (bool, int, float, str, np.integer, np.floating)


def _exact_repr(value) -> bool:
    if isinstance(value, tuple):
        return all(isinstance(x, _EXACT_REPR) for x in value)
    return isinstance(value, _EXACT_REPR)


class _RegimeKey:
    """A regime's parameters, equal to another's when the names, their order, and the values'
    types and reprs are the same (so equal keys give identical tables, to the bit)."""

    __slots__ = ("params", "_key", "_hash")

    def __init__(self, params: dict):
        self.params = params
        self._key = tuple((name, type(value), repr(value)) for name, value in params.items())
        self._hash = hash(self._key)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return isinstance(other, _RegimeKey) and self._key == other._key


@functools.lru_cache(maxsize=8)
def _cached_regime(key: _RegimeKey) -> tuple:
    """``build_regime`` of a recent regime, read-only (``build_tables`` copies what it stacks)."""
    *arrays, used = build_regime(key.params)
    for a in arrays:
        a.flags.writeable = False
    return (*arrays, frozenset(used))


def _regime_parts(params: dict) -> tuple:
    """``build_regime``, from the cache where the same parameters were built recently: a
    comparison builds today's law three times (the synthetic population, the baseline, the
    reform's months before it starts)."""
    if all(_exact_repr(value) for value in params.values()):
        return _cached_regime(_RegimeKey(params))
    return build_regime(params)


def build_tables(regimes: list[dict]) -> Tables:
    """Stack the tables of every regime (see ``Scenario.regimes``)."""
    parts = [_regime_parts(params) for params in regimes]
    used = set().union(*(x[-1] for x in parts))
    stack = [np.ascontiguousarray(np.stack([x[i] for x in parts])) for i in range(8)]
    return Tables(*stack, used=used)
