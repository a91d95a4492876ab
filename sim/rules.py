"""Rules and behaviour as arrays: from the parameters in force to the kernel's tables.

``build_tables`` turns each regime (a set of parameters in force, see ``Scenario.regimes``)
into the integer rule table, the conversation schedule, the monthly exit-probability table and
the destination distributions that ``sim.kernel`` and ``sim.engine`` read. Reading a rule here
is reading the law: ``rules.dagpenge.offer_first_month`` is the month of the right and duty to
an offer, and so on (sources in ``data/parameters.csv``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import kernel as K
from .parameters import Data
from .states import (DEST, DESTINATIONS, N_CELLS, N_DEST, N_STATES, SOCIAL_ASSISTANCE, STATE, STATES,
                     cell_parts)

#: months of duration the hazard table distinguishes (the last one means "this or longer")
N_DURATIONS = 61
#: longest early contact schedule, in months
MAX_EARLY = 36

_YOUTH_STATES = (STATE["youth_education_ready"], STATE["youth_activity_ready"])


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

    def rule(self, state: str, rule: str, default):
        return self.get(f"rules.{state}.{rule}", default)


def social_assistance_state(youth: int, distance: int) -> int:
    """Which social-assistance state a person enters: by age and distance to the labour market."""
    if youth:
        return STATE["youth_education_ready"] if distance < 2 else STATE["youth_activity_ready"]
    return STATE["sa_job_ready"] if distance == 0 else STATE["sa_activity_ready"]


def weeks_to_months(weeks: float, weeks_per_month: float) -> int:
    """Month index in which week ``weeks`` falls (week 22 -> month 5)."""
    return int(math.floor(weeks / weeks_per_month))


@dataclass
class Tables:
    """The kernel's inputs, stacked over regimes (first axis)."""

    rules: np.ndarray          # int32 (R, S, N_RULES)
    conv_sched: np.ndarray     # int8 (R, S, MAX_EARLY)
    p_exit: np.ndarray         # float64 (R, S, N_DURATIONS, C, N_COMBOS)
    dest_cdf: np.ndarray       # float64 (R, S, C, K)
    limit_cdf: np.ndarray      # float64 (R, S, C, K)
    job_education_uptake: np.ndarray  # float64 (R, S)
    rehab_on_entry: np.ndarray        # int8 (R, K)
    used: set

    def as_tuple(self, regime_of_month: np.ndarray) -> tuple:
        return (np.ascontiguousarray(regime_of_month, dtype=np.int32), self.rules, self.conv_sched,
                self.p_exit, self.dest_cdf, self.limit_cdf, self.job_education_uptake,
                self.rehab_on_entry)


def _rule_row(p: ParamReader, state: str) -> tuple[np.ndarray, np.ndarray, float]:
    row = np.zeros(K.N_RULES, np.int32)
    sched = np.zeros(MAX_EARLY, np.int8)
    contact = p.rule(state, "contact_months", ())
    contact = (int(contact),) if not isinstance(contact, tuple) else contact
    if contact and max(contact) >= MAX_EARLY:
        raise ValueError(f"rules.{state}.contact_months: months beyond {MAX_EARLY - 1} are not supported")
    akasse = int(p.rule(state, "akasse_months", 0))
    for month in contact:
        sched[month] = 2 if month < akasse else 1
    row[K.R_EARLY_LEN] = max(contact) + 1 if contact else 0
    row[K.R_FOLLOWUP_EVERY] = int(p.rule(state, "followup_every_months", 0))
    row[K.R_OFFER_FIRST] = int(p.rule(state, "offer_first_month", -1))
    row[K.R_OFFER_EVERY] = int(p.rule(state, "offer_every_months", 0))
    row[K.R_OFFER_LEN] = int(p.rule(state, "offer_length_months", 1))
    row[K.R_OFFER_IS_EDU] = int(p.rule(state, "offer_is_education", 0))
    row[K.R_JOBEDU_FROM] = int(p.rule(state, "job_education_from_month", 0))
    row[K.R_JOBEDU_UNTIL] = int(p.rule(state, "job_education_until_month", 0))
    row[K.R_INFO_FORM] = int(p.rule(state, "information_form", 0))
    row[K.R_CERT_MONTH] = int(p.rule(state, "medical_certificate_month", -1))
    row[K.R_REVIEW_FIRST] = int(p.rule(state, "review_first_month", -1))
    row[K.R_REVIEW_EVERY] = int(p.rule(state, "review_every_months", 0))
    row[K.R_LIMIT_FLAG0] = row[K.R_LIMIT_FLAG1] = -1
    row[K.R_RESTART_CONTACT] = int(p.get("rules.general.restart_contact_on_switch"))
    uptake = float(p.rule(state, "job_education_uptake_per_month", 0.0))
    return row, sched, uptake


def _time_limits(p: ParamReader, rules: np.ndarray) -> None:
    wpm = p.get("rules.general.weeks_per_month")
    employer = int(round(p.get("rules.sick.employer_period_days") / (365.25 / 12)))
    reassess = weeks_to_months(p.get("rules.sick.reassessment_week"), wpm)
    sick = STATE["sick"]
    # the reassessment counts weeks of municipal benefit: after the employer period for the
    # sick from a job (flag 1), from the first day for the sick from unemployment (flag 0)
    rules[sick, K.R_LIMIT_FLAG0] = reassess
    rules[sick, K.R_LIMIT_FLAG1] = reassess + employer
    rules[sick, K.R_REASSESS_AT_LIMIT] = int(p.get("rules.sick.reassessment_activity"))
    rules[sick, K.R_EMPLOYER_MONTHS] = employer
    rules[STATE["sick_extended"], K.R_EMPLOYER_MONTHS] = employer
    ext = STATE["sick_extended"]
    extension = weeks_to_months(p.get("rules.sick_extended.max_extension_week")
                                - p.get("rules.sick.reassessment_week"), wpm)
    rules[ext, K.R_LIMIT_FLAG0] = rules[ext, K.R_LIMIT_FLAG1] = extension
    dp = STATE["dagpenge"]
    rules[dp, K.R_LIMIT_FLAG0] = rules[dp, K.R_LIMIT_FLAG1] = int(p.get("rules.dagpenge.entitlement_months"))


def _destination_shares(data: Data, p: ParamReader, event: str) -> np.ndarray:
    """Shares (S, C, K) of destinations for an event, resolved by cell."""
    far_factor = p.get("behaviour.far_job_share_factor")
    shares = np.zeros((N_STATES, N_CELLS, N_DEST))
    for row in data.destinations.itertuples():
        if row.event != event:
            continue
        s = STATE[row.state]
        for c in range(N_CELLS):
            youth, distance, _, _ = cell_parts(c)
            if row.destination == SOCIAL_ASSISTANCE:
                k = social_assistance_state(youth, distance)
            else:
                k = DEST[row.destination]
            share = row.share
            if event == "exit" and k == DEST["exit_job"] and distance == 2:
                share *= far_factor
            shares[s, c, k] += share
    return shares


def _cdf(shares: np.ndarray) -> np.ndarray:
    total = shares.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = np.where(total > 0, shares / np.where(total > 0, total, 1), 0.0)
    cdf = np.cumsum(norm, axis=-1)
    cdf[..., -1] = 1.0
    return cdf


def _exit_probabilities(data: Data, p: ParamReader, rules: np.ndarray) -> np.ndarray:
    base = np.zeros((N_STATES, N_DURATIONS))
    for row in data.hazards.itertuples():
        lo, hi = row.from_month, min(row.to_month, N_DURATIONS - 1)
        base[STATE[row.state], lo:hi + 1] = row.exit_hazard
    dist_mult = np.array([p.get(f"behaviour.distance_multiplier.{k}") for k in ("close", "middle", "far")])
    meeting = 1.0 + p.get("behaviour.meeting_effect")
    threat = 1.0 + p.get("behaviour.threat_effect")
    lockin = 1.0 - p.get("behaviour.lockin_effect")
    order_effect = 1.0 + p.get("behaviour.education_order_effect")
    cap = p.get("behaviour.max_monthly_hazard")

    cell_mult = np.array([dist_mult[cell_parts(c)[1]] for c in range(N_CELLS)])
    state_mult = np.ones(N_STATES)
    for s in _YOUTH_STATES:
        if p.rule(STATES[s], "education_order", 0):
            state_mult[s] = order_effect
    status_mult = np.array([1.0, threat, lockin])
    combo_mult = np.concatenate([status_mult, status_mult * meeting])
    h = (base[:, :, None, None] * state_mult[:, None, None, None] * cell_mult[None, None, :, None]
         * combo_mult[None, None, None, :])
    return np.minimum(h, cap)


def build_regime(data: Data, params: dict):
    """Tables for one set of parameters in force."""
    p = ParamReader(params)
    rules = np.zeros((N_STATES, K.N_RULES), np.int32)
    sched = np.zeros((N_STATES, MAX_EARLY), np.int8)
    uptake = np.zeros(N_STATES)
    for s, name in enumerate(STATES):
        rules[s], sched[s], uptake[s] = _rule_row(p, name)
    _time_limits(p, rules)
    rehab = np.array([int(p.rule(name, "rehabilitation_on_entry", 0)) for name in DESTINATIONS], np.int8)
    p_exit = _exit_probabilities(data, p, rules)
    dest_cdf = _cdf(_destination_shares(data, p, "exit"))
    limit_cdf = _cdf(_destination_shares(data, p, "limit"))
    return rules, sched, p_exit, dest_cdf, limit_cdf, uptake, rehab, p.used


def build_tables(data: Data, regimes: list[dict]) -> Tables:
    """Stack the tables of every regime (see ``Scenario.regimes``)."""
    parts = [build_regime(data, params) for params in regimes]
    used = set().union(*(x[7] for x in parts))
    stack = [np.ascontiguousarray(np.stack([x[i] for x in parts])) for i in range(7)]
    return Tables(stack[0], stack[1], stack[2], stack[3], stack[4], stack[5], stack[6], used)
