"""The numba-compiled monthly transition kernel.

Plain arrays in, plain arrays out: no pandas, no configuration objects, no I/O. The array layout
(rule-table columns, random-number purposes, activity codes) is ``sim.layout``'s, the random
numbers are ``sim.rng``'s; ``sim.engine`` is the same model written with NumPy, and reads both.

A person's month is a few steps, in the order and with the names of ``sim.engine``'s sections:

1. ``due_this_month``: what the rules make due in this contact month (a table look-up);
2. ``conversations_this_month``: the early contact process, then follow-ups (a share of them),
   each held by the jobcentre (within its budget) or the a-kasse;
3. ``offer_this_month``: an offer starts when due, company-based (a share of them) or the
   state's course (guidance or education), then locks in while it lasts (each kind its own
   lock-in); the month before the first one is a threat; the months after an offer ended carry
   its kind's post-programme effect; otherwise the job-oriented education right may be taken;
4. ``documents_and_reviews``: the information form, medical certificates, reviews;
5. ``caseload_this_month``: the person-month counted by state, cell and ``payer_band``;
6. ``transition``: a time limit (the week-22 reassessment, dagpenge exhaustion, the end of an
   extension) moves the person by its own table, else the monthly exit probability is looked up
   by state, duration, cell and what the person received this month, a counter-based draw
   decides an exit and a second one the destination;
7. ``next_month``: the counters of the person's next month (a new state, or one more month);
   one who leaves a jobseeker state for a job may come back to it (a share, fewer after an
   offer), a new spell in a month drawn within the re-entry window, followed on from there;
8. ``closure_move``: a state abolished from next month sends its persons on at once.

A person moved out of an abolished state, or sent on because the state they were moving into is
abolished, keeps that state's activity (its schedule of conversations, offers and reviews, and
its delivery shares) in the new state until their next move, where the abolished state's rule
``R_KEEP_ACTIVITY`` says so: their benefit, caseload, time limits and exit probabilities are the
new state's. A move through an abolished state back into the person's own state is no move: the
person stays, with the abolished state's activity from contact month 0.

All sums are integer weights, so results do not depend on the number of threads or the order of
summation. The NumPy engine steps all persons month by month; this kernel follows one person from
entry to exit before the next (persons do not interact within a run), which keeps a person's
state in registers. Both give the same counts because every draw is keyed on (seed, person,
month, purpose) and every sum is an integer sum. The steps are the commented sections of
``follow_range``'s month loop; their decisions that read no arrays are small inlined functions
(``conversation_due``, ``offer_due``, ``not_delivered``, ``payer_band``). Steps that write the
counts stay in the loop: as inlined functions taking arrays they cost reference counts that
numba does not prune (measured: four times slower).
"""

from __future__ import annotations


import numpy as np
from numba import njit, prange

from .layout import (A_CERTIFICATE, A_CONV_AKASSE, A_CONV_JOBCENTRE, A_CONV_RATIONED,
                     A_EDUCATION_RATIONED, A_GUIDANCE_RATIONED, A_INFO_FORM, A_JOB_EDUCATION,
                     A_COMPANY_RATIONED, A_JOBEDU_RATIONED, A_LIMIT, A_OFFER_COMPANY, A_OFFER_EDUCATION,
                     A_OFFER_GUIDANCE, A_REASSESS,
                     A_REHAB, A_REVIEW, B_AKASSE, B_CERT, B_CONV, B_FOLLOWUP, B_JOBEDU,
                     B_OFFER_FIRST, B_OFFER_REPEAT, B_REVIEW, B_THREAT, BAND_EMPLOYER,
                     BAND_WEEKS_1_4, BAND_WEEKS_5_26, BAND_WEEKS_27_52, BAND_WEEKS_53_PLUS,
                     CONV_AKASSE, CONV_JOBCENTRE, CONV_NONE, EXIT_JOB, FLAG_BIT, K_CONV, K_JOBEDU,
                     K_OFFER_COMPANY, K_OFFER_EDUCATION, K_OFFER_GUIDANCE, MAX_MONTHS_COUNTED, N_ACTIVITIES,
                     N_COMBOS, N_PROBS, N_RULES, N_SCHEDULE, N_SPELL_MONTHS, P_CERT, P_CLOSURE,
                     P_CLOSURE_ENTRY, P_DEST, P_EXIT, P_FOLLOWUP, P_JOBEDU, P_LIMIT, P_OFFER,
                     P_EXTRA_CONV, P_EXTRA_OFFER, P_OFFER_KIND, P_RATION_CONV, P_REENTRY, P_RATION_JOBEDU, P_RATION_OFFER, P_REDIRECT,
                     Q_CERT_SHARE, Q_COMPANY_SHARE, Q_REENTRY, Q_REENTRY_AFTER_OFFER,
                     Q_FOLLOWUP_SHARE, Q_JOBEDU_UPTAKE, Q_OFFER_SHARE, R_AKASSE_MONTHS,
                     R_CERT_MONTH, R_CLOSED, R_EARLY_LEN, R_EMPLOYER_MONTHS, R_FOLLOWUP_EVERY,
                     R_INFO_FORM, R_JOBEDU_FROM, R_JOBEDU_UNTIL, R_KEEP_ACTIVITY, R_LIMIT, R_OFFER_EVERY,
                     R_OFFER_FIRST, R_OFFER_IS_EDU, R_OFFER_LEN, R_POST_MONTHS, R_REASSESS_AT_LIMIT, R_REENTRY_MONTHS,
                     R_RESTART_CONTACT, R_REVIEW_EVERY, R_REVIEW_FIRST, R_SPELL_PROFILE, RANGE,
                     N_COST_CLASSES, STATUS_LOCKIN, STATUS_LOCKIN_COMPANY, STATUS_NONE,
                     STATUS_POST_COMPANY, STATUS_POST_COURSE, STATUS_THREAT, WEEKS_5_26_FROM, WEEKS_27_52_FROM,
                     WEEKS_53_PLUS_FROM, WITH_CONVERSATION)
from .rng import draw, person_key


# ---- small look-ups -----------------------------------------------------------------------------

@njit(cache=True)
def pick(cdf, u):
    """Index of the first entry of the cumulative distribution ``cdf`` above ``u``."""
    k = 0
    last = cdf.shape[0] - 1
    while k < last and u >= cdf[k]:
        k += 1
    return k


@njit(cache=True)
def pick1(cdf, at, n, u):
    """``pick`` on ``cdf[at:at + n]`` of a flat array (unsigned indices: no negative-index fix-up)."""
    k = 0
    while k < n - 1 and u >= cdf[np.uint64(at + k)]:
        k += 1
    return k


@njit(cache=True)
def delivered(ration, rationed, m, kind, s, c):
    """The share of due ``kind`` activities delivered in month ``m`` to state ``s`` and cell ``c``
    (1 in months where nothing is rationed, without reading the table)."""
    if not rationed[np.uint64(m)]:
        return 1.0
    return ration[np.uint64(m), np.uint64(kind), np.uint64(s), np.uint64(c)]


@njit(cache=True)
def payer_band(months_in_spell, flag, employer_months):
    """0 employer period, else 1-4: refund steps for weeks 1-4, 5-26, 27-52, 53+."""
    if flag == 1 and months_in_spell < employer_months:
        return BAND_EMPLOYER
    if months_in_spell < WEEKS_5_26_FROM:
        return BAND_WEEKS_1_4
    if months_in_spell < WEEKS_27_52_FROM:
        return BAND_WEEKS_5_26
    if months_in_spell < WEEKS_53_PLUS_FROM:
        return BAND_WEEKS_27_52
    return BAND_WEEKS_53_PLUS


# ---- the activity schedule ----------------------------------------------------------------------

@njit(cache=True)
def due_bits(rules, conv_sched, r, s, c, dc):
    """What the rules make due in contact month ``dc`` (bits B_*), for one regime, state, cell."""
    bits = 0
    early = rules[r, s, c, R_EARLY_LEN]
    if dc < early:
        code = conv_sched[r, s, c, dc]
        if code == CONV_JOBCENTRE:
            bits |= B_CONV
        elif code == CONV_AKASSE:
            bits |= B_CONV | B_AKASSE
    else:
        every = rules[r, s, c, R_FOLLOWUP_EVERY]
        if every > 0 and (dc - early + 1) % every == 0:
            bits |= B_FOLLOWUP
            if dc < rules[r, s, c, R_AKASSE_MONTHS]:
                bits |= B_AKASSE
    first = rules[r, s, c, R_OFFER_FIRST]
    if first >= 0:
        if dc == first:
            bits |= B_OFFER_FIRST
        elif dc > first:
            rep = rules[r, s, c, R_OFFER_EVERY]
            if rep > 0 and (dc - first) % rep == 0:
                bits |= B_OFFER_REPEAT
        if first >= 1 and dc == first - 1:
            bits |= B_THREAT
    review_first = rules[r, s, c, R_REVIEW_FIRST]
    if review_first >= 0 and dc >= review_first:
        review_every = rules[r, s, c, R_REVIEW_EVERY]
        if dc == review_first or (review_every > 0 and (dc - review_first) % review_every == 0):
            bits |= B_REVIEW
    if dc == rules[r, s, c, R_CERT_MONTH]:
        bits |= B_CERT
    if rules[r, s, c, R_JOBEDU_FROM] <= dc and dc < rules[r, s, c, R_JOBEDU_UNTIL]:
        bits |= B_JOBEDU
    return bits


@njit(cache=True)
def offer_left_at_entry(rules, conv_sched, r, s, c, dc):
    """Months left (this one included) of an offer that began before a person already ``dc``
    months into the contact process enters the simulation (the initial stock), else 0."""
    length = rules[r, s, c, R_OFFER_LEN]
    for k in range(1, length):
        if dc - k < 0:
            break
        if due_bits(rules, conv_sched, r, s, c, dc - k) & (B_OFFER_FIRST | B_OFFER_REPEAT):
            return length - k
    return 0


@njit(cache=True)
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@njit(cache=True)
def schedule_period(rules, r, s, c):
    """``(start, period)``: from contact month ``start`` on, ``due_bits`` repeats every ``period``
    months (follow-ups, repeat offers and reviews are the periodic rules; the others end)."""
    start = max(rules[r, s, c, R_EARLY_LEN], rules[r, s, c, R_AKASSE_MONTHS],
                rules[r, s, c, R_OFFER_FIRST] + 1, rules[r, s, c, R_REVIEW_FIRST] + 1,
                rules[r, s, c, R_CERT_MONTH] + 1, 0)
    if rules[r, s, c, R_JOBEDU_FROM] < rules[r, s, c, R_JOBEDU_UNTIL]:
        start = max(start, rules[r, s, c, R_JOBEDU_UNTIL])
    period = 1
    for col in (R_FOLLOWUP_EVERY, R_OFFER_EVERY, R_REVIEW_EVERY):
        k = rules[r, s, c, col]
        if k > 0:
            period = period * k // _gcd(period, k)
    return start, period


@njit(cache=True)
def build_schedule(rules, conv_sched):
    """The table of ``due_bits`` for contact months below N_SCHEDULE: (R, S, C, N_SCHEDULE),
    and the contact month that stands in for a later one: ``repeat[R, S, C] = (start, period)``
    with ``due_bits(dc) == table[start + (dc - start) % period]`` for dc >= N_SCHEDULE, or
    (-1, 0) where the schedule does not repeat within the table (``due_bits`` is called)."""
    n_reg, n_states, n_cells = rules.shape[0], rules.shape[1], rules.shape[2]
    out = np.zeros((n_reg, n_states, n_cells, N_SCHEDULE), np.int16)
    repeat = np.zeros((n_reg, n_states, n_cells, 2), np.int64)
    for r in range(n_reg):
        for s in range(n_states):
            for c in range(n_cells):
                for dc in range(N_SCHEDULE):
                    out[r, s, c, dc] = due_bits(rules, conv_sched, r, s, c, dc)
                start, period = schedule_period(rules, r, s, c)
                if start + period <= N_SCHEDULE:
                    repeat[r, s, c, 0] = start
                    repeat[r, s, c, 1] = period
                else:
                    repeat[r, s, c, 0] = -1
    return out, repeat


# ---- tables prepared once per run ------------------------------------------------------------------

@njit(cache=True)
def month_flags(regime_of_month, rules, ration, n_months):
    """Per month: whether any delivery share differs from 1 (rationed, or money redeployed), the regime of the next month
    (its own in the last) and whether that regime abolishes a state (closing): the end-of-month
    closure is looked at only in those months."""
    n_reg = rules.shape[0]
    any_closed = np.zeros(n_reg, np.bool_)
    for a in range(n_reg):
        any_closed[a] = rules[a, :, :, R_CLOSED].max() == 1
    rationed = np.zeros(n_months, np.bool_)
    for m in range(n_months):
        rationed[m] = ration[m].min() < 1.0 or ration[m].max() > 1.0
    regime_after = np.empty(n_months, np.int64)
    closing = np.zeros(n_months, np.bool_)
    for m in range(n_months):
        regime_after[m] = regime_of_month[m + 1] if m + 1 < n_months else regime_of_month[m]
        closing[m] = any_closed[regime_after[m]]
    return rationed, regime_after, closing


@njit(cache=True)
def duration_inner(p_exit):
    """The exit probabilities (R, S, D, C, N_COMBOS) as (R, S, C, D, N_COMBOS): a person's months
    read neighbours."""
    n_reg, n_states, n_dur, n_cells = p_exit.shape[0], p_exit.shape[1], p_exit.shape[2], p_exit.shape[3]
    hazard = np.empty((n_reg, n_states, n_cells, n_dur, N_COMBOS))
    for a in range(n_reg):
        for b in range(n_states):
            for cc in range(n_cells):
                for dd in range(n_dur):
                    for q in range(N_COMBOS):
                        hazard[a, b, cc, dd, q] = p_exit[a, b, dd, cc, q]
    return hazard


# ---- decisions of a person's month (scalars in, scalars out) ---------------------------------------
# The steps that write counts stay in ``follow_range``'s loop: an inlined step that takes arrays
# costs reference counts numba does not prune, which made the kernel four times slower.

@njit(inline="always")
def held(share, key, month_id, purpose):
    """Whether a discretionary activity that is due is held, when ``share`` of such are (no draw
    where all are)."""
    return share >= 1.0 or draw(key, month_id, purpose) < share


@njit(inline="always")
def conversation_due(due, followup_share, key, month_id):
    """The conversation due this month before the budget: CONV_NONE, CONV_JOBCENTRE or
    CONV_AKASSE (the early contact process holds all, follow-ups a share)."""
    if due & B_CONV:
        return CONV_AKASSE if due & B_AKASSE else CONV_JOBCENTRE
    if due & B_FOLLOWUP:
        if held(followup_share, key, month_id, P_FOLLOWUP):
            return CONV_AKASSE if due & B_AKASSE else CONV_JOBCENTRE
    return CONV_NONE


@njit(inline="always")
def offer_due(due, offer_share, offer_len, key, month_id):
    """Months of an offer starting this month before the budget (0: none): the first is
    mandatory, a repeat is given a share of the time."""
    if due & B_OFFER_FIRST:
        return offer_len
    if due & B_OFFER_REPEAT:
        if held(offer_share, key, month_id, P_OFFER):
            return offer_len
    return 0


@njit(inline="always")
def company_offer(share, key, month_id):
    """Whether an offer starting this month is company-based, when ``share`` of them are (no
    draw where none or all are)."""
    return share >= 1.0 or (share > 0.0 and draw(key, month_id, P_OFFER_KIND) < share)


@njit(inline="always")
def not_delivered(share, key, month_id, purpose):
    """Whether a due activity is not delivered when only ``share`` of it can be."""
    return share < 1.0 and draw(key, month_id, purpose) >= share


@njit(inline="always")
def one_extra(share, key, month_id, purpose):
    """Whether money redeployed buys one more activity where none is due (a share above 1: with
    probability share - 1)."""
    return share > 1.0 and draw(key, month_id, purpose) < share - 1.0


@njit(inline="always")
def one_more(months):
    """A month counter one month on (it stops at ``MAX_MONTHS_COUNTED``)."""
    return months + 1 if months < MAX_MONTHS_COUNTED else months


# ---- the persons' order ---------------------------------------------------------------------------

@njit(cache=True)
def place_starts(municipality, n_places):
    """Where each municipality's persons begin when the persons are ordered by municipality."""
    starts = np.zeros(n_places, np.int64)
    for i in range(municipality.shape[0]):
        starts[municipality[i]] += 1
    at = 0
    for p in range(n_places):
        at, starts[p] = at + starts[p], at
    return starts


@njit(cache=True)
def by_place_of(a, municipality, starts):
    """``a`` ordered by municipality, keeping the order within one (a stable counting sort: one
    pass that writes to each municipality's part in turn, where a gather by a sorted index
    reads far apart)."""
    out = np.empty_like(a)
    at = starts.copy()
    for i in range(a.shape[0]):
        p = municipality[i]
        out[at[p]] = a[i]
        at[p] += 1
    return out


def by_place(person):
    """The person arrays (``sim.arrays.PersonArrays``) ordered by municipality, by their order
    within one. The kernel follows one person after another, so a municipality's persons in a row
    keep its block of the by-place tables in cache (measured in one process against the kernel
    without them: the by-place counts cost 20 % of the rate in the order of entry, 13-16 % in this
    order; README, Performance); a person's draws and counts do not depend on the order."""
    municipality = person.municipality
    starts = place_starts(municipality, int(municipality.max(initial=0)) + 1)
    return type(person)(*(by_place_of(a, municipality, starts) for a in person))


# ---- the person loop ----------------------------------------------------------------------------------

@njit(cache=True)
def follow_range(first, end, t, seed, month0, person_id, entry_month, cell, weight, state_at_entry,
                 months_in_state_at_entry, months_in_spell_at_entry, regime_of_month, rules,
                 conv_sched, closure_cdf, ration, rationed, regime_after, closing, schedule_flat,
                 repeat_flat, rules_flat, probs_flat, hazard_flat, dest_flat, limit_flat,
                 closure_flat, rehab_flat, occupancy_flat, activity_flat, flow_flat, spell_flat,
                 n_durations, n_bands, municipality, year_of_month, n_places, n_years,
                 place_occupancy_flat, place_activity_flat, cost_class_flat):
    """Persons ``first`` to ``end - 1``, each from their entry month to their exit or the
    horizon's end, counted in slice ``t`` of the flat accumulators (see ``simulate``).

    The tables are read through flat views, indexed with unsigned integers: the index arithmetic
    is done once per state entered, not per access, and numba leaves out its negative-index
    fix-up (a compare and a select on every index), which is a fifth of the kernel's time.
    A month's steps are in the order and with the names of ``sim.engine``'s sections.
    """
    n_states, n_cells, n_months = rules.shape[1], rules.shape[2], regime_of_month.shape[0]
    n_dest = closure_cdf.shape[3]
    activity_stride = n_states * n_cells * n_months      # from one activity to the next
    flow_row = n_dest * n_months                          # from one origin state to the next
    flow_at = t * (n_states + 2) * flow_row               # this slice's flows
    place_stride = n_states * n_cells * n_bands           # from one place-year to the next
    for i in range(first, end):
        iu = np.uint64(i)
        m = np.int64(entry_month[iu])
        if m < 0 or m >= n_months:
            continue
        c = np.int64(cell[iu])
        flag = c & FLAG_BIT
        w = weight[iu]
        key = person_key(seed, person_id[iu])
        place_at = (t * n_places + np.int64(municipality[iu])) * n_years   # this person's place and slice

        # enter: a new spell (flow row S) or the stock part-way through one (row S + 1); an
        # abolished state sends the person where its closure says, with no months in the new state
        r = np.int64(regime_of_month[np.uint64(m)])
        s = np.int64(state_at_entry[iu])
        months_in_state = np.int64(months_in_state_at_entry[iu])
        entry_row = n_states if months_in_state == 0 else n_states + 1
        contact_month = months_in_state
        carry = -1                  # the abolished state whose activity the person keeps
        if rules[r, s, c, R_CLOSED] == 1:
            closed_state = s
            s = pick(closure_cdf[r, s, c], draw(key, month0 + m, P_CLOSURE_ENTRY))
            months_in_state = 0
            if s < n_states and rules[r, closed_state, c, R_KEEP_ACTIVITY] == 1:
                carry = closed_state
            else:
                contact_month = 0
        flow_flat[np.uint64(flow_at + entry_row * flow_row + s * n_months + m)] += w
        if s >= n_states:
            continue
        months_in_spell = np.int64(months_in_spell_at_entry[iu])
        offer_months_left = 0
        offer_company = False       # the offer under way is company-based
        post_left = 0               # months left with an ended offer's post-programme effect
        post_company = False        # ... of a company-based offer
        if contact_month > 0:
            a_state = carry if carry >= 0 else s
            offer_months_left = np.int64(offer_left_at_entry(rules, conv_sched, r, a_state, c, contact_month))
            if offer_months_left > 0:
                offer_company = company_offer(
                    probs_flat[np.uint64(((r * n_states + a_state) * n_cells + c) * N_PROBS + Q_COMPANY_SHARE)],
                    key, month0 + m)
        # the (regime, state, kept activity) whose rules are loaded, and those rules
        rules_regime = -1
        reload = True               # the state or the kept activity changed: load their rules
        row = schedule_at = hazard_at = activity_at = occupancy_at = repeat_start = repeat_period = 0
        place_cell = place_class = 0
        offer_len = info_form = employer_months = in_profile = limit = reassess = post_months = 0
        reentry_months = 0
        a_offer = a_offer_rationed = k_offer = 0
        followup_share = offer_share = cert_share = jobedu_uptake = company_share = 0.0
        reentry_share = reentry_after_offer = 0.0

        while True:
            r = np.int64(regime_of_month[np.uint64(m)])
            month_id = month0 + m
            if r != rules_regime or reload:
                # state_rules: this state's rules and offsets, kept until the state, regime or
                # kept activity changes; the activity's from the kept state where there is one
                rules_regime, reload = r, False
                activity_state = carry if carry >= 0 else s
                row = (r * n_states + s) * n_cells + c
                a_row = (r * n_states + activity_state) * n_cells + c
                schedule_at = a_row * N_SCHEDULE
                repeat_start = repeat_flat[np.uint64(a_row * 2)]
                repeat_period = repeat_flat[np.uint64(a_row * 2 + 1)]
                hazard_at = row * n_durations * N_COMBOS
                activity_at = t * N_ACTIVITIES * activity_stride + (s * n_cells + c) * n_months
                occupancy_at = ((t * n_states + s) * n_cells + c) * n_months * n_bands
                place_cell = (s * n_cells + c) * n_bands
                place_class = np.int64(cost_class_flat[np.uint64(s * n_cells + c)]) * N_ACTIVITIES
                at = np.uint64(row * N_RULES)
                a_at = np.uint64(a_row * N_RULES)
                offer_len = rules_flat[a_at + R_OFFER_LEN]
                offer_edu = rules_flat[a_at + R_OFFER_IS_EDU] == 1
                info_form = rules_flat[a_at + R_INFO_FORM]
                employer_months = rules_flat[at + R_EMPLOYER_MONTHS]
                in_profile = rules_flat[at + R_SPELL_PROFILE]
                limit = rules_flat[at + R_LIMIT]
                reassess = rules_flat[at + R_REASSESS_AT_LIMIT]
                post_months = rules_flat[at + R_POST_MONTHS]
                reentry_months = rules_flat[at + R_REENTRY_MONTHS]
                reentry_share = probs_flat[np.uint64(row * N_PROBS + Q_REENTRY)]
                reentry_after_offer = probs_flat[np.uint64(row * N_PROBS + Q_REENTRY_AFTER_OFFER)]
                q = np.uint64(a_row * N_PROBS)
                followup_share = probs_flat[q + Q_FOLLOWUP_SHARE]
                offer_share = probs_flat[q + Q_OFFER_SHARE]
                cert_share = probs_flat[q + Q_CERT_SHARE]
                jobedu_uptake = probs_flat[q + Q_JOBEDU_UPTAKE]
                company_share = probs_flat[q + Q_COMPANY_SHARE]
                a_offer = A_OFFER_EDUCATION if offer_edu else A_OFFER_GUIDANCE
                a_offer_rationed = A_EDUCATION_RATIONED if offer_edu else A_GUIDANCE_RATIONED
                k_offer = K_OFFER_EDUCATION if offer_edu else K_OFFER_GUIDANCE

            # due_this_month: the schedule table, its period beyond it, or the rules themselves
            if contact_month < N_SCHEDULE:
                due = schedule_flat[np.uint64(schedule_at + contact_month)]
            elif repeat_start >= 0:
                due = schedule_flat[np.uint64(schedule_at + repeat_start
                                              + (contact_month - repeat_start) % repeat_period)]
            else:
                due = due_bits(rules, conv_sched, r, activity_state, c, contact_month)
            am = activity_at + m                # this month's activities: am + kind * stride
            place_year = place_at + np.int64(year_of_month[np.uint64(m)])
            pa = place_year * (N_COST_CLASSES * N_ACTIVITIES) + place_class   # this year's, the person's place and class

            # conversations_this_month: the jobcentre's held within its budget
            conv = conversation_due(due, followup_share, key, month_id)
            if conv == CONV_JOBCENTRE:
                if not_delivered(delivered(ration, rationed, m, K_CONV, s, c), key, month_id, P_RATION_CONV):
                    conv = CONV_NONE
                    activity_flat[np.uint64(am + A_CONV_RATIONED * activity_stride)] += w
                    place_activity_flat[np.uint64(pa + A_CONV_RATIONED)] += w
                else:
                    activity_flat[np.uint64(am + A_CONV_JOBCENTRE * activity_stride)] += w
                    place_activity_flat[np.uint64(pa + A_CONV_JOBCENTRE)] += w
            elif conv == CONV_AKASSE:
                activity_flat[np.uint64(am + A_CONV_AKASSE * activity_stride)] += w
                place_activity_flat[np.uint64(pa + A_CONV_AKASSE)] += w
            elif one_extra(delivered(ration, rationed, m, K_CONV, s, c), key, month_id, P_EXTRA_CONV):
                conv = CONV_JOBCENTRE
                activity_flat[np.uint64(am + A_CONV_JOBCENTRE * activity_stride)] += w
                place_activity_flat[np.uint64(pa + A_CONV_JOBCENTRE)] += w

            # offer_this_month: an offer starts (company-based or the state's course, within the
            # budget) and locks in while it lasts; the month before the first is a threat; the
            # months after one ended carry its post-programme effect; else job-oriented education
            if offer_months_left == 0:
                offer_months_left = offer_due(due, offer_share, offer_len, key, month_id)
                if offer_months_left > 0:
                    offer_company = company_offer(company_share, key, month_id)
                    kind = K_OFFER_COMPANY if offer_company else k_offer
                    if not_delivered(delivered(ration, rationed, m, kind, s, c), key, month_id, P_RATION_OFFER):
                        a_rationed = A_COMPANY_RATIONED if offer_company else a_offer_rationed
                        activity_flat[np.uint64(am + a_rationed * activity_stride)] += w * offer_months_left
                        place_activity_flat[np.uint64(pa + a_rationed)] += w * offer_months_left
                        offer_months_left = 0
                elif rationed[np.uint64(m)]:
                    company = company_offer(company_share, key, month_id)
                    kind = K_OFFER_COMPANY if company else k_offer
                    if one_extra(delivered(ration, rationed, m, kind, s, c), key, month_id, P_EXTRA_OFFER):
                        offer_months_left = offer_len
                        offer_company = company
            status = STATUS_NONE
            if offer_months_left > 0:
                a_now = a_offer
                status = STATUS_LOCKIN
                if offer_company:
                    a_now = A_OFFER_COMPANY
                    status = STATUS_LOCKIN_COMPANY
                activity_flat[np.uint64(am + a_now * activity_stride)] += w
                place_activity_flat[np.uint64(pa + a_now)] += w
            else:
                if due & B_THREAT:
                    status = STATUS_THREAT
                elif post_left > 0:
                    status = STATUS_POST_COMPANY if post_company else STATUS_POST_COURSE
                if due & B_JOBEDU and draw(key, month_id, P_JOBEDU) < jobedu_uptake:
                    if not_delivered(delivered(ration, rationed, m, K_JOBEDU, s, c), key, month_id,
                                     P_RATION_JOBEDU):
                        activity_flat[np.uint64(am + A_JOBEDU_RATIONED * activity_stride)] += w
                        place_activity_flat[np.uint64(pa + A_JOBEDU_RATIONED)] += w
                    else:
                        status = STATUS_LOCKIN
                        activity_flat[np.uint64(am + A_JOB_EDUCATION * activity_stride)] += w
                        place_activity_flat[np.uint64(pa + A_JOB_EDUCATION)] += w

            # documents_and_reviews
            if months_in_spell == 0 and info_form == 1:
                activity_flat[np.uint64(am + A_INFO_FORM * activity_stride)] += w
                place_activity_flat[np.uint64(pa + A_INFO_FORM)] += w
            if due & B_CERT:
                if held(cert_share, key, month_id, P_CERT):
                    activity_flat[np.uint64(am + A_CERTIFICATE * activity_stride)] += w
                    place_activity_flat[np.uint64(pa + A_CERTIFICATE)] += w
            if due & B_REVIEW:
                activity_flat[np.uint64(am + A_REVIEW * activity_stride)] += w
                place_activity_flat[np.uint64(pa + A_REVIEW)] += w

            # caseload_this_month: by payer band; the sick by month of spell
            band = payer_band(months_in_spell, flag, employer_months)
            occupancy_flat[np.uint64(occupancy_at + m * n_bands + band)] += w
            place_occupancy_flat[np.uint64(place_year * place_stride + place_cell + band)] += w
            if in_profile == 1:
                k = months_in_spell if months_in_spell < N_SPELL_MONTHS else N_SPELL_MONTHS - 1
                spell_flat[np.uint64((t * n_months + m) * N_SPELL_MONTHS + k)] += w

            # transition: a time limit, else the monthly exit probability
            dest = -1
            if limit >= 0 and months_in_state >= limit:
                dest = pick1(limit_flat, row * n_dest, n_dest, draw(key, month_id, P_LIMIT))
                activity_flat[np.uint64(am + A_LIMIT * activity_stride)] += w
                place_activity_flat[np.uint64(pa + A_LIMIT)] += w
                if reassess == 1:
                    activity_flat[np.uint64(am + A_REASSESS * activity_stride)] += w
                    place_activity_flat[np.uint64(pa + A_REASSESS)] += w
            else:
                duration = months_in_state if months_in_state < n_durations else n_durations - 1
                combo = status + WITH_CONVERSATION if conv > 0 else status
                p = hazard_flat[np.uint64(hazard_at + duration * N_COMBOS + combo)]
                if draw(key, month_id, P_EXIT) < p:
                    dest = pick1(dest_flat, row * n_dest, n_dest, draw(key, month_id, P_DEST))
            # next_month: a new state (the contact process restarted where its rules say so),
            # or one more month in the same one
            months_in_spell = one_more(months_in_spell)
            if dest >= 0:
                # a move into an abolished state goes where its closure sends its persons
                new_carry = -1
                if dest < n_states:
                    d_row = (r * n_states + dest) * n_cells + c
                    if rules_flat[np.uint64(d_row * N_RULES + R_CLOSED)] == 1:
                        keep = rules_flat[np.uint64(d_row * N_RULES + R_KEEP_ACTIVITY)] == 1
                        closed_state = dest
                        dest = pick1(closure_flat, d_row * n_dest, n_dest, draw(key, month_id, P_REDIRECT))
                        if keep and dest < n_states:
                            new_carry = closed_state
                if dest == s:
                    # back into the own state through an abolished one: no move
                    months_in_state = one_more(months_in_state)
                    if new_carry >= 0:
                        carry = new_carry
                        reload = True
                        contact_month = 0
                        offer_months_left = 0
                        post_left = 0
                    else:
                        contact_month = one_more(contact_month)
                        if offer_months_left == 1:
                            post_left, post_company = post_months, offer_company
                        elif post_left > 0:
                            post_left -= 1
                        offer_months_left = offer_months_left - 1 if offer_months_left > 0 else 0
                else:
                    flow_flat[np.uint64(flow_at + s * flow_row + dest * n_months + m)] += w
                    entered = new_carry if new_carry >= 0 else dest
                    if rehab_flat[np.uint64(r * n_dest + entered)] == 1:
                        activity_flat[np.uint64(am + A_REHAB * activity_stride)] += w
                        place_activity_flat[np.uint64(pa + A_REHAB)] += w
                    if dest >= n_states:
                        # reentry: one who leaves for a job may come back to the state, a new spell
                        # within its months (fewer after an offer's post-programme months)
                        share = reentry_after_offer if post_left > 0 else reentry_share
                        if dest != EXIT_JOB or share <= 0.0:
                            break                       # left
                        u = draw(key, month_id, P_REENTRY)
                        if u >= share:
                            break
                        m_back = m + 1 + np.int64(u / share * reentry_months)
                        if m_back >= n_months:
                            break
                        r_back = np.int64(regime_of_month[np.uint64(m_back)])
                        back = s
                        carry = -1
                        if rules[r_back, s, c, R_CLOSED] == 1:
                            back = pick(closure_cdf[r_back, s, c], draw(key, month0 + m_back, P_CLOSURE_ENTRY))
                            if back < n_states and rules[r_back, s, c, R_KEEP_ACTIVITY] == 1:
                                carry = s
                        flow_flat[np.uint64(flow_at + n_states * flow_row + back * n_months + m_back)] += w
                        if back >= n_states:
                            break
                        s = back
                        months_in_state = months_in_spell = contact_month = 0
                        offer_months_left = post_left = 0
                        reload = True
                        m = m_back
                        continue
                    s = dest
                    months_in_state = 0
                    carry = new_carry
                    reload = True
                    restart = rules_flat[np.uint64(((r * n_states + s) * n_cells + c) * N_RULES
                                                   + R_RESTART_CONTACT)] == 1
                    contact_month = 0 if (restart or carry >= 0) else one_more(contact_month)
                    offer_months_left = 0
                    post_left = 0
            else:
                months_in_state = one_more(months_in_state)
                contact_month = one_more(contact_month)
                if offer_months_left == 1:
                    post_left, post_company = post_months, offer_company     # the offer ends
                elif post_left > 0:
                    post_left -= 1
                offer_months_left = offer_months_left - 1 if offer_months_left > 0 else 0

            # closure_move: a state abolished from next month sends the person on now (counted in
            # month m; in the last month, a state closed in its own regime)
            if closing[np.uint64(m)]:
                r_next = regime_after[np.uint64(m)]
                row_next = (r_next * n_states + s) * n_cells + c
                if rules_flat[np.uint64(row_next * N_RULES + R_CLOSED)] == 1:
                    moved = pick1(closure_flat, row_next * n_dest, n_dest, draw(key, month_id, P_CLOSURE))
                    flow_flat[np.uint64(flow_at + s * flow_row + moved * n_months + m)] += w
                    if moved >= n_states:
                        break                           # left
                    reload = True
                    if rules_flat[np.uint64(row_next * N_RULES + R_KEEP_ACTIVITY)] == 1:
                        # the activity goes on as it was: same schedule, the offer under way
                        if carry < 0:
                            carry = s
                        s = moved
                        months_in_state = 0
                    else:
                        carry = -1
                        s = moved
                        months_in_state = 0
                        if rules_flat[np.uint64(((r_next * n_states + s) * n_cells + c) * N_RULES
                                                + R_RESTART_CONTACT)] == 1:
                            contact_month = 0
                        offer_months_left = 0
                        post_left = 0
            m += 1
            if m >= n_months:
                break


@njit(parallel=True, cache=True)
def simulate(person, table, seed, month0, n_chunks, n_months, n_bands, n_places):
    """Simulate all persons, each from their entry month to their exit or the horizon's end.

    Parameters
    ----------
    person : sim.arrays.PersonArrays
        Arrays of shape (n_persons,): ``person_id`` int64, ``entry_month`` int32, ``cell`` int8,
        ``weight`` int64, ``state`` int8, ``months_in_state`` int16, ``months_in_spell`` int16,
        the values at entry; weights are integer units (``sim.population.WEIGHT_UNIT``). Any
        order (the population keeps them sorted by entry month, which the NumPy engine needs, and
        passes them here by municipality, :func:`by_place`, which keeps one municipality's block of
        the by-place tables in cache);
        persons entering outside the horizon are not simulated; ``municipality`` int16, the
        person's place (0 to n_places - 1).
    table : sim.arrays.RuleArrays
        C-contiguous (``Tables.arrays`` makes them so): ``regime_of_month`` int32 (n_months,),
        ``rules`` int32 (R, S, C, N_RULES), ``conv_sched`` int8 (R, S, C, E), ``p_exit`` float64
        (R, S, D, C, N_COMBOS), ``dest_cdf``, ``limit_cdf``, ``closure_cdf`` float64 (R, S, C, K),
        ``probs`` float64 (R, S, C, N_PROBS), ``rehab_on_entry`` int8 (R, K), ``ration`` float64
        (n_months, N_KINDS, S, C): the share of due rationable activity delivered (all ones in the
        rule-driven mode), ``year_of_month`` int32 (n_months,): 0 for the first calendar year,
        ``cost_class`` int8 (S, C): the cost class of a person in a state and cell
        (``sim.layout.N_COST_CLASSES``: furthest from the labour market, under 30).
    seed : int
        Seed of the counter-based random numbers (``sim.rng``).
    month0 : int
        Month id (months since 2000-01) of the first simulated month.
    n_chunks : int
        Number of slices of the persons (one per thread, at least 1); each writes its own
        accumulator.
    n_months, n_bands, n_places : int
        Horizon length in months, number of payer bands and of municipalities.

    Returns
    -------
    occupancy : int64 (n_chunks, n_months, S, C, n_bands)
        Weighted person-months by state, cell and payer band.
    activity : int64 (n_chunks, n_months, A, S, C)
        Weighted activities by type, state and cell.
    flow : int64 (n_chunks, n_months, S + 2, K)
        Weighted moves from state to destination; row S: new spells, row S + 1: persons
        entering the simulation part-way through a spell (the initial stock). A person moved
        out of an abolished state at the end of month m is counted in month m.
    spell : int64 (n_chunks, n_months, N_SPELL_MONTHS)
        Weighted persons in the sick states by month of their spell.
    place_occupancy : int64 (n_chunks, n_places, n_years, S, C, n_bands)
        Weighted person-months by municipality and year (``year_of_month``), state, cell and
        payer band: summed over municipalities and the year's months, ``occupancy``.
    place_activity : int64 (n_chunks, n_places, n_years, N_COST_CLASSES, A)
        Weighted activities by municipality, year, the person's cost class (``cost_class[s, c]``)
        and type: summed, ``activity``.

    Notes
    -----
    Persons do not interact (the months' regimes and delivery shares are inputs), so the kernel
    follows one person through all their months before the next (``follow_range``), keeping the
    person's state in registers. Slice t takes the ranges of ``RANGE`` persons numbered t,
    t + n_chunks, ..., so every slice gets a like mix of entry months and spell lengths. The
    accumulators are laid out with the month next to last (last for activity), so a person's
    months write neighbouring addresses; they are reordered to the documented shapes at the end.
    The municipality accumulators are by year, the municipality first: a person's months in a
    state and year write the same address, all of them within the municipality's block.
    """
    (person_id, entry_month, cell, weight, state_at_entry, months_in_state_at_entry,
     months_in_spell_at_entry, municipality) = person
    (regime_of_month, rules, conv_sched, p_exit, dest_cdf, limit_cdf, closure_cdf, probs,
     rehab_on_entry, ration, year_of_month, cost_class) = table
    n = person_id.shape[0]
    n_states, n_cells = rules.shape[1], rules.shape[2]
    n_years = year_of_month.max() + 1 if n_months > 0 else 1
    n_dest = dest_cdf.shape[3]
    occ = np.zeros((n_chunks, n_states, n_cells, n_months, n_bands), np.int64)
    act = np.zeros((n_chunks, N_ACTIVITIES, n_states, n_cells, n_months), np.int64)
    flo = np.zeros((n_chunks, n_states + 2, n_dest, n_months), np.int64)
    spell = np.zeros((n_chunks, n_months, N_SPELL_MONTHS), np.int64)
    place_occ = np.zeros((n_chunks, n_places, n_years, n_states, n_cells, n_bands), np.int64)
    place_act = np.zeros((n_chunks, n_places, n_years, N_COST_CLASSES, N_ACTIVITIES), np.int64)
    schedule, repeat = build_schedule(rules, conv_sched)
    rationed, regime_after, closing = month_flags(regime_of_month, rules, ration, n_months)
    schedule_flat, repeat_flat, rules_flat = schedule.reshape(-1), repeat.reshape(-1), rules.reshape(-1)
    probs_flat, hazard_flat = probs.reshape(-1), duration_inner(p_exit).reshape(-1)
    dest_flat, limit_flat, closure_flat = dest_cdf.reshape(-1), limit_cdf.reshape(-1), closure_cdf.reshape(-1)
    rehab_flat = rehab_on_entry.reshape(-1)
    occ_flat, act_flat, flo_flat, spell_flat = occ.reshape(-1), act.reshape(-1), flo.reshape(-1), spell.reshape(-1)
    n_durations = p_exit.shape[2]
    n_ranges = (n + RANGE - 1) // RANGE
    for t in prange(n_chunks):
        for q in range(t, n_ranges, n_chunks):
            follow_range(q * RANGE, min(n, (q + 1) * RANGE), t, seed, month0, person_id, entry_month,
                         cell, weight, state_at_entry, months_in_state_at_entry,
                         months_in_spell_at_entry, regime_of_month, rules, conv_sched, closure_cdf,
                         ration, rationed, regime_after, closing, schedule_flat, repeat_flat,
                         rules_flat, probs_flat, hazard_flat, dest_flat, limit_flat, closure_flat,
                         rehab_flat, occ_flat, act_flat, flo_flat, spell_flat, n_durations, n_bands,
                         municipality, year_of_month, n_places, n_years, place_occ.reshape(-1),
                         place_act.reshape(-1), cost_class.reshape(-1))
    occupancy, activity, flow, spell = month_major(occ, act, flo, spell)
    return occupancy, activity, flow, spell, place_occ, place_act


@njit(cache=True)
def month_major(occ, act, flo, spell):
    """The accumulators reordered to the documented shapes (the month after the slice)."""
    n_chunks, n_months = spell.shape[0], spell.shape[1]
    occupancy = np.empty((n_chunks, n_months) + occ.shape[1:3] + occ.shape[4:], np.int64)
    activity = np.empty((n_chunks, n_months) + act.shape[1:4], np.int64)
    flow = np.empty((n_chunks, n_months) + flo.shape[1:3], np.int64)
    for t in range(n_chunks):
        for m in range(n_months):
            occupancy[t, m] = occ[t, :, :, m, :]
            activity[t, m] = act[t, :, :, :, m]
            flow[t, m] = flo[t, :, :, m]
    return occupancy, activity, flow, spell
