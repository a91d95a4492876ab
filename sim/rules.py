"""Rules and behaviour as arrays: from the parameters in force to the kernel's tables.

``build_tables`` turns each regime (a set of parameters in force, see ``Scenario.regimes``) into
the integer rule table, the conversation schedule, the monthly exit-probability table and the
destination distributions that ``sim.kernel`` and ``sim.engine`` read. Reading a rule here is
reading the law: ``rules.dagpenge.offer_first_month`` is the month of the right and duty to an
offer, and so on (sources in ``data/parameters.csv``).

A rule may apply to part of a state's persons: ``rules.dagpenge@far.contact_months`` overrides
``rules.dagpenge.contact_months`` for persons far from the labour market. Selectors
(``sim.states.SELECTORS``) are tried in order of precedence: distance class, age group, origin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import kernel as K
from .states import (DEST, DESTINATIONS, N_CELLS, N_DEST, N_STATES, SOCIAL_ASSISTANCE, STATE, STATES,
                     cell_parts, selectors_of_cell)

#: months of duration the hazard table distinguishes (the last one means "this or longer")
N_DURATIONS = 61
#: longest early contact schedule, in months
MAX_EARLY = 36
#: events with a destination distribution: an exit, a time limit, the closure of a state
EVENTS = ("exit", "limit", "closure")

_YOUTH_STATES = ("youth_education_ready", "youth_activity_ready")


class ParamReader:
    """Reads parameters and remembers which were read (a test checks that all are used)."""

    def __init__(self, params: dict):
        self.params = params
        self.used: set[str] = set()

    def get(self, name: str, default=None):
        if name in self.params:
            self.used.add(name)
            return self.params[name]
        if default is None:
            raise KeyError(name)
        return default

    def rule(self, state: str, rule: str, default, cell: int | None = None):
        """The first of ``rules.STATE@SELECTOR.RULE`` (selectors ``cell`` matches, in order of
        precedence), ``rules.STATE.RULE``, ``rules.general@SELECTOR.RULE``, ``rules.general.RULE``;
        else ``default``."""
        sels = selectors_of_cell(cell, state) if cell is not None else ()
        keys = ([f"rules.{state}@{sel}.{rule}" for sel in sels] + [f"rules.{state}.{rule}"]
                + [f"rules.general@{sel}.{rule}" for sel in sels] + [f"rules.general.{rule}"])
        for key in keys:
            if key in self.params:
                self.used.add(key)
                return self.params[key]
        return default


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

    def as_tuple(self, regime_of_month: np.ndarray, ration: np.ndarray | None = None) -> tuple:
        """The kernel's ``table`` argument; ``ration`` (months, kinds, cells) defaults to ones."""
        n_months = len(regime_of_month)
        if ration is None:
            ration = np.ones((n_months, K.N_KINDS, N_CELLS))
        return (np.ascontiguousarray(regime_of_month, dtype=np.int32), self.rules, self.conv_sched,
                self.p_exit, self.dest_cdf, self.limit_cdf, self.closure_cdf, self.probs,
                self.rehab_on_entry, np.ascontiguousarray(ration, dtype=np.float64))


def _schedule(value) -> tuple[int, ...]:
    return value if isinstance(value, tuple) else (int(value),)


def _rule_row(p: ParamReader, state: str, cell: int):
    """The integer rules, conversation schedule and probabilities of one (state, cell)."""
    row = np.zeros(K.N_RULES, np.int32)
    sched = np.zeros(MAX_EARLY, np.int8)
    contact = _schedule(p.rule(state, "contact_months", (), cell))
    if contact and max(contact) >= MAX_EARLY:
        raise ValueError(f"rules.{state}.contact_months: months beyond {MAX_EARLY - 1} are not supported")
    akasse = int(p.rule(state, "akasse_months", 0, cell))
    for month in contact:
        sched[month] = 2 if month < akasse else 1
    row[K.R_EARLY_LEN] = max(contact) + 1 if contact else 0
    row[K.R_AKASSE_MONTHS] = akasse
    row[K.R_FOLLOWUP_EVERY] = int(p.rule(state, "followup_every_months", 0, cell))
    row[K.R_OFFER_FIRST] = int(p.rule(state, "offer_first_month", -1, cell))
    row[K.R_OFFER_EVERY] = int(p.rule(state, "offer_every_months", 0, cell))
    row[K.R_OFFER_LEN] = int(p.rule(state, "offer_length_months", 1, cell))
    row[K.R_OFFER_IS_EDU] = int(p.rule(state, "offer_is_education", 0, cell))
    row[K.R_JOBEDU_FROM] = int(p.rule(state, "job_education_from_month", 0, cell))
    row[K.R_JOBEDU_UNTIL] = int(p.rule(state, "job_education_until_month", 0, cell))
    row[K.R_INFO_FORM] = int(p.rule(state, "information_form", 0, cell))
    row[K.R_CERT_MONTH] = int(p.rule(state, "medical_certificate_month", -1, cell))
    row[K.R_REVIEW_FIRST] = int(p.rule(state, "review_first_month", -1, cell))
    row[K.R_REVIEW_EVERY] = int(p.rule(state, "review_every_months", 0, cell))
    row[K.R_LIMIT] = -1
    row[K.R_RESTART_CONTACT] = int(p.get("rules.general.restart_contact_on_switch"))
    row[K.R_CLOSED] = int(p.rule(state, "closed", 0, cell))
    probs = np.zeros(K.N_PROBS)
    probs[K.Q_JOBEDU_UPTAKE] = float(p.rule(state, "job_education_uptake_per_month", 0.0, cell))
    probs[K.Q_CERT_SHARE] = float(p.rule(state, "medical_certificate_share", 1.0, cell))
    probs[K.Q_FOLLOWUP_SHARE] = float(p.rule(state, "followup_delivery_share", 1.0, cell))
    probs[K.Q_OFFER_SHARE] = float(p.rule(state, "repeat_offer_delivery_share", 1.0, cell))
    return row, sched, probs


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
        rules[sick, c, K.R_LIMIT] = reassess + (employer if from_job else 0) - 1
    rules[sick, :, K.R_REASSESS_AT_LIMIT] = int(p.get("rules.sick.reassessment_activity"))
    for s in (sick, ext, STATE["sick_reduced"]):
        rules[s, :, K.R_EMPLOYER_MONTHS] = employer
        rules[s, :, K.R_SPELL_PROFILE] = 1
    rules[ext, :, K.R_LIMIT] = extension - 1
    rules[dp, :, K.R_LIMIT] = int(p.get("rules.dagpenge.entitlement_months")) - 1


def _destination_shares(p: ParamReader, event: str) -> np.ndarray:
    """Shares (S, C, K) of destinations for an event, resolved by cell; each row sums to 1."""
    far_factor = p.get("behaviour.far_job_share_factor")
    shares = np.zeros((N_STATES, N_CELLS, N_DEST))
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
        for c in range(N_CELLS):
            youth, distance, _, _ = cell_parts(c)
            k = social_assistance_state(youth, distance) if dest == SOCIAL_ASSISTANCE else DEST[dest]
            w = share * far_factor if (event == "exit" and k == DEST["exit_job"] and distance == 2) else share
            shares[s, c, k] += w
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
    """Send moves into abolished states where the closure sends their persons.

    Returns the new shares (S, C, K) and, by (S, C), the share that now leads back into the
    origin state (those moves do not happen: the person stays, so the exit hazard shrinks)."""
    out = shares.copy()
    for s, c in zip(*np.nonzero(shares[:, :, :N_STATES].sum(axis=2) >= 0)):
        for t in np.nonzero(out[s, c, :N_STATES] * closed[:, c])[0]:
            mass = out[s, c, t]
            out[s, c, t] = 0.0
            out[s, c] += mass * closure[t, c] / closure[t, c].sum()
    back = np.array([[out[s, c, s] / max(out[s, c].sum(), 1e-300) for c in range(N_CELLS)]
                     for s in range(N_STATES)])
    for s in range(N_STATES):
        out[s, :, s] = 0.0
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
    meeting = 1.0 + p.get("behaviour.meeting_effect")
    threat = 1.0 + p.get("behaviour.threat_effect")
    lockin = 1.0 - p.get("behaviour.lockin_effect")
    order_effect = 1.0 + p.get("behaviour.education_order_effect")
    cap = p.get("behaviour.max_monthly_hazard")

    cell_mult = np.array([dist_mult[cell_parts(c)[1]] for c in range(N_CELLS)])
    state_mult = np.ones(N_STATES)
    for name in _YOUTH_STATES:
        if p.rule(name, "education_order", 0):
            state_mult[STATE[name]] = order_effect
    status_mult = np.array([1.0, threat, lockin])
    combo_mult = np.concatenate([status_mult, status_mult * meeting])
    h = (base[:, :, None, None] * state_mult[:, None, None, None] * cell_mult[None, None, :, None]
         * combo_mult[None, None, None, :])
    return np.minimum(h, cap)


def build_regime(params: dict):
    """Tables for one set of parameters in force."""
    p = ParamReader(params)
    rules = np.zeros((N_STATES, N_CELLS, K.N_RULES), np.int32)
    sched = np.zeros((N_STATES, N_CELLS, MAX_EARLY), np.int8)
    probs = np.zeros((N_STATES, N_CELLS, K.N_PROBS))
    for s, name in enumerate(STATES):
        for c in range(N_CELLS):
            rules[s, c], sched[s, c], probs[s, c] = _rule_row(p, name, c)
    _time_limits(p, rules)
    rehab = np.array([int(p.rule(name, "rehabilitation_on_entry", 0)) for name in DESTINATIONS], np.int8)
    closed = rules[:, :, K.R_CLOSED] == 1
    closure = _resolve_closures(_destination_shares(p, "closure"), closed)
    exits, stay = _redirect(_destination_shares(p, "exit"), closure, closed)
    limits, back = _redirect(_destination_shares(p, "limit"), closure, closed)
    if (back > 0).any():
        s, c = np.argwhere(back > 0)[0]
        raise ValueError(f"the time limit of '{STATES[s]}' sends persons back into it through an "
                         "abolished state")
    p_exit = _exit_probabilities(p) * (1.0 - stay)[:, None, :, None]
    return (rules, sched, p_exit, _cdf(exits), _cdf(limits), _cdf(closure), probs, rehab, p.used)


def build_tables(regimes: list[dict]) -> Tables:
    """Stack the tables of every regime (see ``Scenario.regimes``)."""
    parts = [build_regime(params) for params in regimes]
    used = set().union(*(x[-1] for x in parts))
    stack = [np.ascontiguousarray(np.stack([x[i] for x in parts])) for i in range(8)]
    return Tables(*stack, used=used)
