"""The numba-compiled monthly transition kernel.

Plain arrays in, plain arrays out: no pandas, no configuration objects, no I/O. The layout
constants below (rule-table columns, random-number purposes, activity codes) are shared with
``sim.rules`` (which fills the tables) and ``sim.engine`` (the NumPy engine of the same model).

The model per person and month (see ``sim.engine`` for the same steps written with NumPy):
activities due by the rules (conversations, offers, forms, certificates, reviews) are counted;
the monthly exit probability is looked up from the precomputed table by state, duration, cell
and what the person received this month; a counter-based uniform draw decides exit, a second
one the destination; a time limit (the week-22 reassessment, dagpenge exhaustion, the end of a
sick-benefit extension) moves the person by its own destination table. All sums are integer
weights, so results do not depend on the number of threads or the order of summation.

The NumPy engine steps all persons month by month; this kernel follows one person from entry
to exit before the next (persons do not interact within a run), which keeps a person's state
in registers. Both give the same counts because every draw is keyed on (seed, person, month,
purpose) and every sum is an integer sum.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# ---- layout shared with sim.rules and sim.engine --------------------------------------------
# columns of the integer rule table rules[regime, state, cell, column]
R_EARLY_LEN = 0          # months of the early contact process (schedule in conv_sched)
R_FOLLOWUP_EVERY = 1     # months between follow-up conversations after it (0 = none)
R_OFFER_FIRST = 2        # contact month of the first mandatory offer (-1 = none)
R_OFFER_EVERY = 3        # months between repeated offers (0 = once)
R_OFFER_LEN = 4          # months an offer lasts
R_OFFER_IS_EDU = 5       # 1: offers are ordinary education (other effort), 0: guidance/upskilling
R_JOBEDU_FROM = 6        # first contact month of the job-oriented education right
R_JOBEDU_UNTIL = 7       # first contact month after it
R_INFO_FORM = 8          # 1: information form at the start of a spell
R_CERT_MONTH = 9         # contact month of the medical certificate (-1 = none)
R_REVIEW_FIRST = 10      # contact month of the first review (-1 = none)
R_REVIEW_EVERY = 11      # months between reviews (0 = once)
R_LIMIT = 12             # month in state of the time limit (-1 = none)
R_REASSESS_AT_LIMIT = 13 # 1: the time limit is a reassessment (caseworker activity)
R_EMPLOYER_MONTHS = 14   # months of the employer period for the sick from a job (flag 1)
R_RESTART_CONTACT = 15   # 1: entering this state restarts the contact process
R_CLOSED = 16            # 1: the state is abolished: persons are moved by the closure table
R_AKASSE_MONTHS = 17     # contact months in which the a-kasse holds the conversations
R_SPELL_PROFILE = 18     # 1: count this state's persons by month of spell (the sick states)
N_RULES = 19
#: months of spell distinguished in the spell profile (the last means "this or longer")
N_SPELL_MONTHS = 25

# columns of the probability table probs[regime, state, cell, column]
Q_JOBEDU_UPTAKE = 0      # monthly take-up of the job-oriented education right
Q_CERT_SHARE = 1         # share of due medical certificates that are requested
Q_FOLLOWUP_SHARE = 2     # share of due follow-up conversations that are held (discretion)
Q_OFFER_SHARE = 3        # share of due repeat offers that are given (the first is mandatory)
N_PROBS = 4

# purposes of random draws (part of the counter-based key)
P_EXIT = 0
P_DEST = 1
P_LIMIT = 2
P_JOBEDU = 3
P_CLOSURE = 4
P_CLOSURE_ENTRY = 5
P_CERT = 6
P_FOLLOWUP = 7
P_OFFER = 8
P_RATION_CONV = 9
P_RATION_OFFER = 10
P_RATION_JOBEDU = 11

# kinds of rationable activity: ration[month, kind, cell] is the share delivered (1 = as due)
K_CONV = 0               # conversations held by the jobcentre (jobcentre operations)
K_OFFER_GUIDANCE = 1     # offers of guidance and upskilling
K_OFFER_EDUCATION = 2    # offers of ordinary education (other effort)
K_JOBEDU = 3             # job-oriented education (other effort)
N_KINDS = 4

# activity codes (order of sim.states.ACTIVITIES)
A_CONV_JOBCENTRE = 0
A_CONV_AKASSE = 1
A_OFFER_GUIDANCE = 2
A_OFFER_EDUCATION = 3
A_JOB_EDUCATION = 4
A_INFO_FORM = 5
A_CERTIFICATE = 6
A_REHAB = 7
A_REASSESS = 8
A_REVIEW = 9
A_LIMIT = 10             # a time limit reached (counted, no cost): e.g. persons reaching week 22
A_CONV_RATIONED = 11     # due but not held for lack of budget (demand, no cost)
A_GUIDANCE_RATIONED = 12 # offer months not given for lack of budget
A_EDUCATION_RATIONED = 13
A_JOBEDU_RATIONED = 14
N_ACTIVITIES = 15

#: offer status index in the hazard table: none, threat (month before an offer), lock-in
N_COMBOS = 6

# bits of the activity schedule sched[regime, state, cell, contact month]: what is due when
B_CONV = 1               # a conversation in the early contact process
B_AKASSE = 2             # ... held by the a-kasse
B_FOLLOWUP = 4           # a follow-up conversation (subject to its delivery share)
B_OFFER_FIRST = 8        # the first mandatory offer starts
B_OFFER_REPEAT = 16      # a repeat offer starts (subject to its delivery share)
B_REVIEW = 32            # a review
B_CERT = 64              # a medical certificate (subject to its share)
B_JOBEDU = 128           # inside the window of the job-oriented education right
B_THREAT = 256           # the month before the first offer
#: contact months covered by the schedule table; later months are computed on the fly
N_SCHEDULE = 240

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_PURPOSES = np.uint64(64)
_TO_UNIT = 1.0 / 9007199254740992.0   # 2**-53


@njit(cache=True)
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def person_key(seed, person_id):
    """The part of a draw's key that is fixed for a person (computed once per person-month)."""
    return mix64(np.uint64(seed) * _GOLDEN + np.uint64(person_id))


@njit(cache=True)
def draw(key, month_id, purpose):
    """Uniform in [0, 1) from a person's key, the month and the purpose of the draw."""
    z = mix64(key ^ (np.uint64(month_id) * _PURPOSES + np.uint64(purpose)))
    return np.float64(np.int64(z >> _S11)) * _TO_UNIT


@njit(cache=True)
def uniform(seed, person_id, month_id, purpose):
    """Counter-based uniform draw in [0, 1): a pure function of its four integer arguments."""
    return draw(person_key(seed, person_id), month_id, purpose)


@njit(parallel=True, cache=True)
def uniform_array(seed, person_id, month_id, purpose):
    """``uniform`` for every id in ``person_id`` (int64 array) -> float64 array."""
    out = np.empty(person_id.shape[0], np.float64)
    for i in prange(person_id.shape[0]):
        out[i] = uniform(seed, person_id[i], month_id, purpose)
    return out


@njit(parallel=True, cache=True)
def draw_attributes(seed, person_id, state, cell, shares, distance_cdf, under_18, n_municipalities,
                    month_id, purposes):
    """Cell, age and municipality of new persons (population module's draws, compiled).

    ``cell`` < 0 marks a cell to draw from the entrant mix of the person's state:
    ``shares[state] = (youth, provider, flag)``, ``distance_cdf[state] = (close, close+middle)``;
    ``purposes`` = (youth, provider, flag, distance, age, municipality) purpose codes.
    Returns (cell int8, age int16, municipality int16).
    """
    n = person_id.shape[0]
    out_cell = np.empty(n, np.int8)
    age = np.empty(n, np.int16)
    muni = np.empty(n, np.int16)
    for i in prange(n):
        key = person_key(seed, person_id[i])
        s = state[i]
        c = cell[i]
        if c < 0:
            youth = 1 if draw(key, month_id, purposes[0]) < shares[s, 0] else 0
            provider = 1 if draw(key, month_id, purposes[1]) < shares[s, 1] else 0
            flag = 1 if draw(key, month_id, purposes[2]) < shares[s, 2] else 0
            u = draw(key, month_id, purposes[3])
            distance = 0
            if u >= distance_cdf[s, 0]:
                distance = 1
            if u >= distance_cdf[s, 1]:
                distance = 2
            c = ((youth * 3 + distance) * 2 + provider) * 2 + flag
        out_cell[i] = c
        u_age = draw(key, month_id, purposes[4])
        if s == under_18:
            age[i] = 16 + int(u_age * 2)
        elif c >= 12:
            age[i] = 18 + int(u_age * 12)
        else:
            age[i] = 30 + int(u_age * 37)
        muni[i] = int(draw(key, month_id, purposes[5]) * n_municipalities)
    return out_cell, age, muni


@njit(parallel=True, cache=True)
def fill_population(counts, stock_state, stock_dur, stock_spell, stock_cell):
    """The population's arrays: the stock (entry month 0, given) followed by the new spells,
    ``counts[month, state]`` of them, numbered month by month and state by state; new spells
    start with no months behind them and cell -1 (drawn by ``draw_attributes``).

    Returns (person_id int64, entry_month int32, state int8, months_in_state int16,
    months_in_spell int16, cell int8).
    """
    n_stock = stock_state.shape[0]
    n_months, n_states = counts.shape
    first = np.empty(n_months + 1, np.int64)
    first[0] = n_stock
    for m in range(n_months):
        first[m + 1] = first[m] + counts[m].sum()
    n = first[n_months]
    pid = np.empty(n, np.int64)
    entry = np.empty(n, np.int32)
    state = np.empty(n, np.int8)
    dur = np.empty(n, np.int16)
    spell = np.empty(n, np.int16)
    cell = np.empty(n, np.int8)
    for i in prange(n_stock):
        pid[i] = i
        entry[i] = 0
        state[i] = stock_state[i]
        dur[i] = stock_dur[i]
        spell[i] = stock_spell[i]
        cell[i] = stock_cell[i]
    for m in prange(n_months):
        i = first[m]
        for s in range(n_states):
            for _ in range(counts[m, s]):
                pid[i] = i
                entry[i] = m
                state[i] = s
                dur[i] = 0
                spell[i] = 0
                cell[i] = -1
                i += 1
    return pid, entry, state, dur, spell, cell


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
def delivered(ration, rationed, m, kind, c):
    """The share of due ``kind`` activities delivered in month ``m`` to cell ``c`` (1 in months
    where nothing is rationed, without reading the table)."""
    if not rationed[np.uint64(m)]:
        return 1.0
    return ration[np.uint64(m), np.uint64(kind), np.uint64(c)]


@njit(cache=True)
def payer_band(months_in_spell, flag, employer_months):
    """0 employer period, else 1-4: refund steps for weeks 1-4, 5-26, 27-52, 53+."""
    if flag == 1 and months_in_spell < employer_months:
        return 0
    if months_in_spell == 0:
        return 1
    if months_in_spell < 6:
        return 2
    if months_in_spell < 12:
        return 3
    return 4


@njit(cache=True)
def due_bits(rules, conv_sched, r, s, c, dc):
    """What the rules make due in contact month ``dc`` (bits B_*), for one regime, state, cell."""
    bits = 0
    early = rules[r, s, c, R_EARLY_LEN]
    if dc < early:
        code = conv_sched[r, s, c, dc]
        if code == 1:
            bits |= B_CONV
        elif code == 2:
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
    rf = rules[r, s, c, R_REVIEW_FIRST]
    if rf >= 0 and dc >= rf:
        re = rules[r, s, c, R_REVIEW_EVERY]
        if dc == rf or (re > 0 and (dc - rf) % re == 0):
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


#: persons per range of the person-major loop; slice t takes ranges t, t + n_chunks, ...
RANGE = 2048


@njit(parallel=True, cache=True)
def simulate(person, table, seed, month0, n_chunks, n_months, n_bands):
    """Simulate all persons, each from their entry month to their exit or the horizon's end.

    Parameters
    ----------
    person : tuple of arrays, each shape (n_persons,), in any order (the population keeps them
        sorted by entry month, which the NumPy engine needs)
        ``(person_id int64, entry_month int32, cell int8, weight int64, state int8,
        months_in_state int16, months_in_spell int16)``: initial values at entry; weights are
        integer units (see ``sim.population.WEIGHT_UNIT``). Persons entering outside the
        horizon are not simulated.
    table : tuple of C-contiguous arrays (``Tables.as_tuple`` makes them so)
        ``(regime_of_month int32 (n_months,), rules int32 (R, S, C, N_RULES),
        conv_sched int8 (R, S, C, E), p_exit float64 (R, S, D, C, N_COMBOS),
        dest_cdf, limit_cdf, closure_cdf float64 (R, S, C, K), probs float64 (R, S, C, N_PROBS),
        rehab_on_entry int8 (R, K), ration float64 (n_months, N_KINDS, C))``: ``ration`` is the
        share of due rationable activity delivered (all ones in the rule-driven mode).
    seed : int
        Seed of the counter-based random numbers.
    month0 : int
        Month id (months since 2000-01) of the first simulated month.
    n_chunks : int
        Number of slices of the persons (one per thread, at least 1); each writes its own
        accumulator.
    n_months, n_bands : int
        Horizon length in months and number of payer bands.

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

    Loop order: persons do not interact (the months' regimes and delivery shares are inputs), so
    the kernel follows one person through all their months before the next, keeping the
    person's state in registers. Slice t takes the ranges of ``RANGE`` persons numbered t,
    t + n_chunks, ..., so every slice gets a like mix of entry months and spell lengths. The
    accumulators are laid out with the month next to last (last for activity), so a person's
    months write neighbouring addresses; they are reordered to the documented shapes at the end.
    """
    person_id, entry_month, cell, weight, state0, dur0, spell0 = person
    (regime_of_month, rules, conv_sched, p_exit, dest_cdf, limit_cdf, closure_cdf, probs,
     rehab, ration) = table
    n = person_id.shape[0]
    n_reg = rules.shape[0]
    n_states = rules.shape[1]
    n_cells = p_exit.shape[3]
    n_dur = p_exit.shape[2]
    n_dest = dest_cdf.shape[3]

    occ = np.zeros((n_chunks, n_states, n_cells, n_months, n_bands), np.int64)
    act = np.zeros((n_chunks, N_ACTIVITIES, n_states, n_cells, n_months), np.int64)
    flo = np.zeros((n_chunks, n_states + 2, n_dest, n_months), np.int64)
    spell = np.zeros((n_chunks, n_months, N_SPELL_MONTHS), np.int64)

    schedule, repeat = build_schedule(rules, conv_sched)
    # the exit hazard with duration next to the combination: a person's months read neighbours
    hazard = np.empty((n_reg, n_states, n_cells, n_dur, N_COMBOS))
    for a in range(n_reg):
        for b in range(n_states):
            for cc in range(n_cells):
                for dd in range(n_dur):
                    for q in range(N_COMBOS):
                        hazard[a, b, cc, dd, q] = p_exit[a, b, dd, cc, q]
    any_closed = np.zeros(n_reg, np.bool_)
    for a in range(n_reg):
        any_closed[a] = rules[a, :, :, R_CLOSED].max() == 1
    n_ranges = (n + RANGE - 1) // RANGE
    rationed = np.zeros(n_months, np.bool_)     # months with any delivery share below 1
    for m in range(n_months):
        rationed[m] = ration[m].min() < 1.0
    # the regime of the month after each month (its own in the last month) and whether it
    # abolishes any state: the end-of-month closure is looked at only in those months
    r_after = np.empty(n_months, np.int64)
    closing = np.zeros(n_months, np.bool_)
    for m in range(n_months):
        r_after[m] = regime_of_month[m + 1] if m + 1 < n_months else regime_of_month[m]
        closing[m] = any_closed[r_after[m]]
    # Flat views, indexed with unsigned integers in the loop below: index arithmetic is done
    # once per state entered, not per access, and numba leaves out its negative-index fix-up
    # (a compare and a select on every index), which is a fifth of the kernel's time.
    sched1 = schedule.reshape(-1)
    rules1 = rules.reshape(-1)
    dest1 = dest_cdf.reshape(-1)
    limit1 = limit_cdf.reshape(-1)
    closure1 = closure_cdf.reshape(-1)
    probs1 = probs.reshape(-1)
    repeat1 = repeat.reshape(-1)
    rehab1 = rehab.reshape(-1)
    spell1 = spell.reshape(-1)
    flo1 = flo.reshape(-1)
    hazard1 = hazard.reshape(-1)
    act1 = act.reshape(-1)
    occ1 = occ.reshape(-1)
    n_sc = n_states * n_cells
    act_stride = n_sc * n_months          # from one activity to the next
    flo_row = n_dest * n_months           # from one origin state to the next

    for t in prange(n_chunks):
        for q in range(t, n_ranges, n_chunks):
            for i in range(q * RANGE, min(n, (q + 1) * RANGE)):
                iu = np.uint64(i)
                m = np.int64(entry_month[iu])
                if m < 0 or m >= n_months:
                    continue
                r = np.int64(regime_of_month[np.uint64(m)])
                month_id = month0 + m
                # a person entering an abolished state goes where the closure sends them
                s = np.int64(state0[iu])
                c = np.int64(cell[iu])
                flag = c & 1
                w = weight[iu]
                key = person_key(seed, person_id[iu])
                moved = -1
                if rules[r, s, c, R_CLOSED] == 1:
                    moved = pick(closure_cdf[r, s, c], draw(key, month_id, P_CLOSURE_ENTRY))
                    s = moved
                flo[t, n_states if dur0[iu] == 0 else n_states + 1, s, m] += w
                if s >= n_states:
                    continue
                d = np.int64(dur0[iu]) if moved < 0 else 0
                dc = d
                ds = np.int64(spell0[iu])
                ol = np.int64(offer_left_at_entry(rules, conv_sched, r, s, c, d)) if d > 0 else 0
                # the (regime, state) whose rules are loaded in the loop, and those rules
                r_rules = s_rules = -1
                g = sched_at = hazard_at = act_at = occ_at = rep_start = rep_period = 0
                offer_len = offer_edu = info_form = employer_months = in_profile = reassess = 0
                limit = a_offer = a_offer_rationed = k_offer = 0
                followup_share = offer_share = cert_share = jobedu_uptake = 0.0

                while True:
                    r = np.int64(regime_of_month[np.uint64(m)])
                    month_id = month0 + m
                    if r != r_rules or s != s_rules:
                        # this state's rules and offsets, kept until the state or regime changes
                        r_rules = r
                        s_rules = s
                        g = (r * n_states + s) * n_cells + c
                        sched_at = g * N_SCHEDULE
                        rep_start = repeat1[np.uint64(g * 2)]
                        rep_period = repeat1[np.uint64(g * 2 + 1)]
                        hazard_at = g * n_dur * N_COMBOS
                        act_at = t * N_ACTIVITIES * act_stride + (s * n_cells + c) * n_months
                        occ_at = ((t * n_states + s) * n_cells + c) * n_months * n_bands
                        offer_len = rules1[np.uint64(g * N_RULES + R_OFFER_LEN)]
                        offer_edu = rules1[np.uint64(g * N_RULES + R_OFFER_IS_EDU)]
                        info_form = rules1[np.uint64(g * N_RULES + R_INFO_FORM)]
                        employer_months = rules1[np.uint64(g * N_RULES + R_EMPLOYER_MONTHS)]
                        in_profile = rules1[np.uint64(g * N_RULES + R_SPELL_PROFILE)]
                        limit = rules1[np.uint64(g * N_RULES + R_LIMIT)]
                        reassess = rules1[np.uint64(g * N_RULES + R_REASSESS_AT_LIMIT)]
                        followup_share = probs1[np.uint64(g * N_PROBS + Q_FOLLOWUP_SHARE)]
                        offer_share = probs1[np.uint64(g * N_PROBS + Q_OFFER_SHARE)]
                        cert_share = probs1[np.uint64(g * N_PROBS + Q_CERT_SHARE)]
                        jobedu_uptake = probs1[np.uint64(g * N_PROBS + Q_JOBEDU_UPTAKE)]
                        a_offer = A_OFFER_EDUCATION if offer_edu == 1 else A_OFFER_GUIDANCE
                        a_offer_rationed = A_EDUCATION_RATIONED if offer_edu == 1 else A_GUIDANCE_RATIONED
                        k_offer = K_OFFER_EDUCATION if offer_edu == 1 else K_OFFER_GUIDANCE
                    if dc < N_SCHEDULE:
                        due = sched1[np.uint64(sched_at + dc)]
                    elif rep_start >= 0:
                        due = sched1[np.uint64(sched_at + rep_start + (dc - rep_start) % rep_period)]
                    else:
                        due = due_bits(rules, conv_sched, r, s, c, dc)
                    am = act_at + m

                    # conversations: the early contact process, then follow-ups (a share of them)
                    conv = 0
                    if due & B_CONV:
                        conv = 2 if due & B_AKASSE else 1
                    elif due & B_FOLLOWUP:
                        if followup_share >= 1.0 or draw(key, month_id, P_FOLLOWUP) < followup_share:
                            conv = 2 if due & B_AKASSE else 1
                    if conv == 1:
                        rf = delivered(ration, rationed, m, K_CONV, c)
                        if rf < 1.0 and draw(key, month_id, P_RATION_CONV) >= rf:
                            conv = 0
                            act1[np.uint64(am + A_CONV_RATIONED * act_stride)] += w
                        else:
                            act1[np.uint64(am + A_CONV_JOBCENTRE * act_stride)] += w
                    elif conv == 2:
                        act1[np.uint64(am + A_CONV_AKASSE * act_stride)] += w

                    # offers: start when due, then lock-in while they last; threat the month before
                    if ol == 0:
                        if due & B_OFFER_FIRST:
                            ol = offer_len
                        elif due & B_OFFER_REPEAT:
                            if offer_share >= 1.0 or draw(key, month_id, P_OFFER) < offer_share:
                                ol = offer_len
                        if ol > 0:
                            rf = delivered(ration, rationed, m, k_offer, c)
                            if rf < 1.0 and draw(key, month_id, P_RATION_OFFER) >= rf:
                                act1[np.uint64(am + a_offer_rationed * act_stride)] += w * ol
                                ol = 0
                    status = 0
                    if ol > 0:
                        status = 2
                        act1[np.uint64(am + a_offer * act_stride)] += w
                    else:
                        if due & B_THREAT:
                            status = 1
                        if due & B_JOBEDU:
                            if draw(key, month_id, P_JOBEDU) < jobedu_uptake:
                                rf = delivered(ration, rationed, m, K_JOBEDU, c)
                                if rf < 1.0 and draw(key, month_id, P_RATION_JOBEDU) >= rf:
                                    act1[np.uint64(am + A_JOBEDU_RATIONED * act_stride)] += w
                                else:
                                    status = 2
                                    act1[np.uint64(am + A_JOB_EDUCATION * act_stride)] += w

                    # documents and reviews
                    if ds == 0 and info_form == 1:
                        act1[np.uint64(am + A_INFO_FORM * act_stride)] += w
                    if due & B_CERT:
                        if cert_share >= 1.0 or draw(key, month_id, P_CERT) < cert_share:
                            act1[np.uint64(am + A_CERTIFICATE * act_stride)] += w
                    if due & B_REVIEW:
                        act1[np.uint64(am + A_REVIEW * act_stride)] += w

                    band = payer_band(ds, flag, employer_months)
                    occ1[np.uint64(occ_at + m * n_bands + band)] += w
                    if in_profile == 1:
                        k = ds if ds < N_SPELL_MONTHS else N_SPELL_MONTHS - 1
                        spell1[np.uint64((t * n_months + m) * N_SPELL_MONTHS + k)] += w

                    # transition: a time limit, else the monthly exit hazard
                    dest = -1
                    if limit >= 0 and d >= limit:
                        dest = pick1(limit1, g * n_dest, n_dest, draw(key, month_id, P_LIMIT))
                        act1[np.uint64(am + A_LIMIT * act_stride)] += w
                        if reassess == 1:
                            act1[np.uint64(am + A_REASSESS * act_stride)] += w
                    else:
                        dd = d if d < n_dur else n_dur - 1
                        combo = status + 3 if conv > 0 else status
                        p = hazard1[np.uint64(hazard_at + dd * N_COMBOS + combo)]
                        if draw(key, month_id, P_EXIT) < p:
                            dest = pick1(dest1, g * n_dest, n_dest, draw(key, month_id, P_DEST))

                    if dest >= 0:
                        flo1[np.uint64((t * (n_states + 2) + s) * flo_row + dest * n_months + m)] += w
                        if rehab1[np.uint64(r * n_dest + dest)] == 1:
                            act1[np.uint64(am + A_REHAB * act_stride)] += w
                        if dest >= n_states:
                            break               # left
                        s = dest
                        d = 0
                        gd = r * n_sc + dest * n_cells + c
                        if rules1[np.uint64(gd * N_RULES + R_RESTART_CONTACT)] == 1:
                            dc = 0
                        else:
                            dc = dc + 1 if dc < 32000 else dc
                        ds = ds + 1 if ds < 32000 else ds
                        ol = 0
                    else:
                        d = d + 1 if d < 32000 else d
                        dc = dc + 1 if dc < 32000 else dc
                        ds = ds + 1 if ds < 32000 else ds
                        ol = ol - 1 if ol > 0 else 0

                    # a state abolished from next month: move the person now (counted in month m;
                    # in the last month, a state closed in its own regime)
                    if closing[np.uint64(m)]:
                        r_next = r_after[np.uint64(m)]
                        gn = r_next * n_sc + s * n_cells + c
                        if rules1[np.uint64(gn * N_RULES + R_CLOSED)] == 1:
                            moved = pick1(closure1, gn * n_dest, n_dest, draw(key, month_id, P_CLOSURE))
                            flo1[np.uint64((t * (n_states + 2) + s) * flo_row + moved * n_months + m)] += w
                            if moved >= n_states:
                                break
                            s = moved
                            d = 0
                            if rules1[np.uint64((r_next * n_sc + moved * n_cells + c) * N_RULES
                                                + R_RESTART_CONTACT)] == 1:
                                dc = 0
                            ol = 0
                    m += 1
                    if m >= n_months:
                        break

    occupancy = np.empty((n_chunks, n_months, n_states, n_cells, n_bands), np.int64)
    activity = np.empty((n_chunks, n_months, N_ACTIVITIES, n_states, n_cells), np.int64)
    flow = np.empty((n_chunks, n_months, n_states + 2, n_dest), np.int64)
    for t in range(n_chunks):
        for m in range(n_months):
            occupancy[t, m] = occ[t, :, :, m, :]
            activity[t, m] = act[t, :, :, :, m]
            flow[t, m] = flo[t, :, :, m]
    return occupancy, activity, flow, spell
