"""The NumPy engine: the same monthly model as ``sim.kernel``, one vectorised step per month.

It is the readable reference for the kernel (tests require identical outputs) and its peer in
the benchmark. It takes and returns exactly what ``sim.kernel.simulate`` does.
"""

from __future__ import annotations

import numpy as np

from . import layout as L
from .rng import uniform_numpy as uniform


def pick(cdf_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise index of the first cdf entry above ``u`` (as ``sim.kernel.pick``)."""
    return (u[:, None] >= cdf_rows[:, :-1]).sum(axis=1)


def payer_band(months_in_spell, flag, employer_months):
    """Payer band of each person-month (as ``sim.kernel.payer_band``): int64 array."""
    band = np.where(months_in_spell < L.WEEKS_5_26_FROM, L.BAND_WEEKS_1_4,
                    np.where(months_in_spell < L.WEEKS_27_52_FROM, L.BAND_WEEKS_5_26,
                             np.where(months_in_spell < L.WEEKS_53_PLUS_FROM, L.BAND_WEEKS_27_52,
                                      L.BAND_WEEKS_53_PLUS)))
    return np.where((flag == 1) & (months_in_spell < employer_months), L.BAND_EMPLOYER, band)


def _add(acc: np.ndarray, index: tuple, weights: np.ndarray) -> None:
    """acc[index] += weights for one month's slice ``acc``, repeated indices summed (exact for
    integer weights)."""
    flat = np.ravel_multi_index(index, acc.shape)
    acc.reshape(-1)[:] += np.bincount(flat, weights=weights, minlength=acc.size).astype(np.int64)


def keep_share(due: np.ndarray, share: np.ndarray, seed, pid, month_id, purpose) -> np.ndarray:
    """Which of the ``due`` events happen when only ``share`` of them can (a draw where share < 1)."""
    keep = due.copy()
    partial = due & (share < 1.0)
    if partial.any():
        keep[partial] = uniform(seed, pid[partial], month_id, purpose) < share[partial]
    return keep


def one_extra(none_due: np.ndarray, share: np.ndarray, seed, pid, month_id, purpose) -> np.ndarray:
    """Where none is due, whether money redeployed buys one more activity (a share above 1: with
    probability share - 1), as ``sim.kernel.one_extra``."""
    out = np.zeros(none_due.size, bool)
    want = none_due & (share > 1.0)
    if want.any():
        out[want] = uniform(seed, pid[want], month_id, purpose) < share[want] - 1.0
    return out


def company_offer(share: np.ndarray, seed, pid, month_id) -> np.ndarray:
    """Which of the offers that may start this month are company-based, when ``share`` of them
    are (a draw where 0 < share < 1), as ``sim.kernel.company_offer``."""
    out = share >= 1.0
    partial = (share > 0.0) & ~out
    if partial.any():
        out[partial] = uniform(seed, pid[partial], month_id, L.P_OFFER_KIND) < share[partial]
    return out


def _offer_left_at_entry(R: np.ndarray, dc: np.ndarray) -> np.ndarray:
    """Months left of an offer begun before entering the simulation part-way through a spell."""
    first, rep, length = R[:, L.R_OFFER_FIRST], R[:, L.R_OFFER_EVERY], R[:, L.R_OFFER_LEN]
    out = np.zeros(dc.size, np.int64)
    for k in range(1, int(length.max(initial=1))):
        d = dc - k
        began = ((out == 0) & (k < length) & (d >= 0) & (first >= 0)
                 & ((d == first) | ((d > first) & (rep > 0) & ((d - first) % np.maximum(rep, 1) == 0))))
        out = np.where(began, length - k, out)
    return out


def _closure(closure_cdf, rules, r, s, c, seed, pid, month_id, purpose):
    """Destination of persons whose state is closed in regime ``r`` (-1 where it is open)."""
    moved = np.full(s.size, -1)
    closed = rules[r][s, c, L.R_CLOSED] == 1
    if closed.any():
        u = uniform(seed, pid[closed], month_id, purpose)
        moved[closed] = pick(closure_cdf[r][s[closed], c[closed]], u)
    return moved


def simulate(person, table, seed, month0, n_chunks, n_months, n_bands, n_places):
    """Same signature and results as ``sim.kernel.simulate`` (``n_chunks`` output slices; all
    sums land in the first). The month's sections carry the names of the kernel's steps, in its
    order: enter, conversations_this_month, offer_this_month, documents_and_reviews,
    caseload_this_month, transition, next_month, closure_move."""
    (person_id, entry_month, cell, weight, state_at_entry, months_in_state_at_entry,
     months_in_spell_at_entry, municipality) = person
    (regime_of_month, rules, conv_sched, p_exit, dest_cdf, limit_cdf, closure_cdf, probs,
     rehab, ration, year_of_month, cost_class) = table
    n = person_id.shape[0]
    n_states = rules.shape[1]
    n_cells = p_exit.shape[3]
    n_dur = p_exit.shape[2]
    n_dest = dest_cdf.shape[3]

    occ = np.zeros((n_months, n_states, n_cells, n_bands), np.int64)
    act = np.zeros((n_months, L.N_ACTIVITIES, n_states, n_cells), np.int64)
    flow = np.zeros((n_months, n_states + 2, n_dest), np.int64)
    spell = np.zeros((n_months, L.N_SPELL_MONTHS), np.int64)
    n_years = int(year_of_month.max()) + 1 if n_months else 1
    place_occ = np.zeros((n_years, n_places, n_states, n_cells, n_bands), np.int64)   # year first here
    place_act = np.zeros((n_years, n_places, L.N_COST_CLASSES, L.N_ACTIVITIES), np.int64)
    cclass = cost_class.astype(np.int64)
    place_all = municipality.astype(np.int64)

    state = np.full(n, -1, np.int64)
    months_in_state_of = np.zeros(n, np.int64)
    contact_month_of = np.zeros(n, np.int64)
    months_in_spell_of = np.zeros(n, np.int64)
    offer_months_left_of = np.zeros(n, np.int64)
    offer_company_of = np.zeros(n, bool)      # the offer under way is company-based
    post_left_of = np.zeros(n, np.int64)      # months left with an ended offer's post-programme effect
    post_company_of = np.zeros(n, bool)       # ... of a company-based offer
    returning = [[] for _ in range(n_months)]  # month -> (persons, state) coming back after a job
    carry_of = np.full(n, -1, np.int64)       # the abolished state whose activity the person keeps
    wf = weight.astype(np.float64)
    cell_all = cell.astype(np.int64)
    offsets = np.searchsorted(entry_month, np.arange(n_months + 1))
    active = np.empty(0, np.int64)

    def count(a, m, sel, s, c, w):
        _add(act[m], (np.full(sel.sum(), a), s[sel], c[sel]), w[sel])
        _add(place_act[year_of_month[m]], (place[sel], cclass[s[sel], c[sel]], np.full(sel.sum(), a)), w[sel])

    for m in range(n_months):
        r = regime_of_month[m]
        r_next = regime_of_month[m + 1] if m + 1 < n_months else r
        month_id = month0 + m

        # enter: new spells and the initial stock; abolished states send them on
        # (and those coming back after a job: a new spell in the state they left)
        new = np.arange(offsets[m], offsets[m + 1])
        s_in = state_at_entry[new].astype(np.int64)
        mis, msp = months_in_state_at_entry[new].astype(np.int64), months_in_spell_at_entry[new].astype(np.int64)
        if returning[m]:
            back = np.concatenate([p for p, _ in returning[m]])
            new = np.concatenate([new, back])
            s_in = np.concatenate([s_in] + [st for _, st in returning[m]])
            mis = np.concatenate([mis, np.zeros(back.size, np.int64)])
            msp = np.concatenate([msp, np.zeros(back.size, np.int64)])
        moved = _closure(closure_cdf, rules, r, s_in, cell_all[new], seed, person_id[new], month_id,
                         L.P_CLOSURE_ENTRY)
        s0 = np.where(moved >= 0, moved, s_in)
        row = np.where(mis == 0, n_states, n_states + 1)
        _add(flow[m], (row, s0), wf[new])
        stays = s0 < n_states
        new, s0, s_in, mis, msp = new[stays], s0[stays], s_in[stays], mis[stays], msp[stays]
        state[new] = s0
        was_moved = moved[stays] >= 0
        kept = was_moved & (rules[r][s_in, cell_all[new], L.R_KEEP_ACTIVITY] == 1)
        carry_of[new] = np.where(kept, s_in, -1)
        months_in_state_of[new] = np.where(was_moved, 0, mis)
        contact_month_of[new] = np.where(was_moved & ~kept, 0, mis)
        months_in_spell_of[new] = msp
        a0 = np.where(kept, s_in, s0)
        offer_months_left_of[new] = _offer_left_at_entry(rules[r][a0, cell_all[new]], contact_month_of[new])
        offer_company_of[new] = (offer_months_left_of[new] > 0) & company_offer(
            probs[r][a0, cell_all[new], L.Q_COMPANY_SHARE], seed, person_id[new], month_id)
        post_left_of[new] = 0
        active = np.concatenate([active, new])

        i = active
        s, c, w = state[i], cell_all[i], wf[i]
        months_in_state, contact_month = months_in_state_of[i], contact_month_of[i]
        months_in_spell = months_in_spell_of[i]
        pid = person_id[i]
        place = place_all[i]
        carry = carry_of[i]
        a_s = np.where(carry >= 0, carry, s)  # whose activity: the kept abolished state's, or the own
        R_own = rules[r][s, c]                # (n_active, N_RULES): limits, payer bands, profile
        R = rules[r][a_s, c]                  # (n_active, N_RULES): the activity's rules
        Q = probs[r][a_s, c]                  # (n_active, N_PROBS)

        # conversations_this_month: early contact process, follow-ups (a share), the budget
        early = R[:, L.R_EARLY_LEN]
        every = R[:, L.R_FOLLOWUP_EVERY]
        sched = conv_sched[r][a_s, c, np.minimum(contact_month, conv_sched.shape[3] - 1)]
        follow = (every > 0) & ((contact_month - early + 1) % np.maximum(every, 1) == 0)
        follow &= contact_month >= early
        follow = keep_share(follow, Q[:, L.Q_FOLLOWUP_SHARE], seed, pid, month_id, L.P_FOLLOWUP)
        conv = np.where(contact_month < early, sched,
                        np.where(follow, np.where(contact_month < R[:, L.R_AKASSE_MONTHS], 2, 1), 0))
        share_conv = ration[m, L.K_CONV][s, c]
        held = keep_share(conv == 1, share_conv, seed, pid, month_id, L.P_RATION_CONV)
        count(L.A_CONV_RATIONED, m, (conv == 1) & ~held, s, c, w)
        extra = one_extra(conv == 0, share_conv, seed, pid, month_id, L.P_EXTRA_CONV)
        conv = np.where((conv == 1) & ~held, 0, conv)
        conv = np.where(extra, 1, conv)
        count(L.A_CONV_JOBCENTRE, m, conv == 1, s, c, w)
        count(L.A_CONV_AKASSE, m, conv == 2, s, c, w)

        # offer_this_month: offers (a share of repeats, the budget), threat, job-oriented education
        offer_months_left = offer_months_left_of[i]
        first = R[:, L.R_OFFER_FIRST]
        rep = R[:, L.R_OFFER_EVERY]
        due = (offer_months_left == 0) & (first >= 0) & (contact_month >= first) & (
            (contact_month == first) | ((rep > 0) & ((contact_month - first) % np.maximum(rep, 1) == 0)))
        # the first offer is mandatory, a repeat is given a share of the time
        repeat_share = np.where(contact_month == first, 1.0, Q[:, L.Q_OFFER_SHARE])
        due = keep_share(due, repeat_share, seed, pid, month_id, L.P_OFFER)
        is_edu = R[:, L.R_OFFER_IS_EDU] == 1
        # an offer that may start is company-based or the state's course (guidance or education)
        company = company_offer(Q[:, L.Q_COMPANY_SHARE], seed, pid, month_id)
        delivered = np.where(company, ration[m, L.K_OFFER_COMPANY][s, c],
                             np.where(is_edu, ration[m, L.K_OFFER_EDUCATION][s, c],
                                      ration[m, L.K_OFFER_GUIDANCE][s, c]))
        given = keep_share(due, delivered, seed, pid, month_id, L.P_RATION_OFFER)
        extra_offer = one_extra((offer_months_left == 0) & ~due, delivered, seed, pid, month_id, L.P_EXTRA_OFFER)
        length = R[:, L.R_OFFER_LEN]
        for sel, a in ((due & ~given & company, L.A_COMPANY_RATIONED),
                       (due & ~given & ~company & is_edu, L.A_EDUCATION_RATIONED),
                       (due & ~given & ~company & ~is_edu, L.A_GUIDANCE_RATIONED)):
            count(a, m, sel, s, c, w * length)
        started = (due & given) | extra_offer
        offer_months_left = np.where(started, length, offer_months_left)
        offer_company = np.where(started, company, offer_company_of[i])
        in_offer = offer_months_left > 0
        post_left, post_company = post_left_of[i], post_company_of[i]
        after = np.where(post_company, L.STATUS_POST_COMPANY, L.STATUS_POST_COURSE)
        status = np.where(in_offer, np.where(offer_company, L.STATUS_LOCKIN_COMPANY, L.STATUS_LOCKIN),
                          np.where((first >= 1) & (contact_month == first - 1), L.STATUS_THREAT,
                                   np.where(post_left > 0, after, L.STATUS_NONE)))
        count(L.A_OFFER_EDUCATION, m, in_offer & ~offer_company & is_edu, s, c, w)
        count(L.A_OFFER_GUIDANCE, m, in_offer & ~offer_company & ~is_edu, s, c, w)
        count(L.A_OFFER_COMPANY, m, in_offer & offer_company, s, c, w)
        window = (~in_offer & (R[:, L.R_JOBEDU_FROM] <= contact_month)
                  & (contact_month < R[:, L.R_JOBEDU_UNTIL]))
        jobedu = np.zeros(i.size, bool)
        if window.any():
            u = uniform(seed, pid[window], month_id, L.P_JOBEDU)
            jobedu[window] = u < Q[window, L.Q_JOBEDU_UPTAKE]
        taken = keep_share(jobedu, ration[m, L.K_JOBEDU][s, c], seed, pid, month_id, L.P_RATION_JOBEDU)
        count(L.A_JOBEDU_RATIONED, m, jobedu & ~taken, s, c, w)
        jobedu &= taken
        status = np.where(jobedu, L.STATUS_LOCKIN, status)
        count(L.A_JOB_EDUCATION, m, jobedu, s, c, w)

        # documents_and_reviews
        count(L.A_INFO_FORM, m, (R[:, L.R_INFO_FORM] == 1) & (months_in_spell == 0), s, c, w)
        cert = contact_month == R[:, L.R_CERT_MONTH]
        cert = keep_share(cert, Q[:, L.Q_CERT_SHARE], seed, pid, month_id, L.P_CERT)
        count(L.A_CERTIFICATE, m, cert, s, c, w)
        review_first, review_every = R[:, L.R_REVIEW_FIRST], R[:, L.R_REVIEW_EVERY]
        review = (review_first >= 0) & (contact_month >= review_first) & (
            (contact_month == review_first)
            | ((review_every > 0) & ((contact_month - review_first) % np.maximum(review_every, 1) == 0)))
        count(L.A_REVIEW, m, review, s, c, w)

        # caseload_this_month: by payer band; the sick by month of spell
        band = payer_band(months_in_spell, c & L.FLAG_BIT, R_own[:, L.R_EMPLOYER_MONTHS])
        _add(occ[m], (s, c, band), w)
        _add(place_occ[year_of_month[m]], (place, s, c, band), w)
        prof = R_own[:, L.R_SPELL_PROFILE] == 1
        _add(spell[m], (np.minimum(months_in_spell[prof], L.N_SPELL_MONTHS - 1),), w[prof])

        # transition: a time limit, else the monthly exit probability
        limit = R_own[:, L.R_LIMIT]
        at_limit = (limit >= 0) & (months_in_state >= limit)
        dest = np.full(i.size, -1)
        if at_limit.any():
            u = uniform(seed, pid[at_limit], month_id, L.P_LIMIT)
            dest[at_limit] = pick(limit_cdf[r][s[at_limit], c[at_limit]], u)
            count(L.A_LIMIT, m, at_limit, s, c, w)
            count(L.A_REASSESS, m, at_limit & (R_own[:, L.R_REASSESS_AT_LIMIT] == 1), s, c, w)
        combo = np.where(conv > 0, status + L.WITH_CONVERSATION, status)
        h = p_exit[r][s, np.minimum(months_in_state, n_dur - 1), c, combo]
        exits = ~at_limit & (uniform(seed, pid, month_id, L.P_EXIT) < h)
        if exits.any():
            u = uniform(seed, pid[exits], month_id, L.P_DEST)
            dest[exits] = pick(dest_cdf[r][s[exits], c[exits]], u)
        # a move into an abolished state goes where its closure sends its persons
        new_carry = np.full(i.size, -1)
        into = (dest >= 0) & (dest < n_states)
        into[into] = rules[r][dest[into], c[into], L.R_CLOSED] == 1
        if into.any():
            closed_state = dest[into]
            u = uniform(seed, pid[into], month_id, L.P_REDIRECT)
            sent = pick(closure_cdf[r][closed_state, c[into]], u)
            keep = (rules[r][closed_state, c[into], L.R_KEEP_ACTIVITY] == 1) & (sent < n_states)
            new_carry[into] = np.where(keep, closed_state, -1)
            dest[into] = sent

        back = (dest >= 0) & (dest == s)      # back into the own state through an abolished one
        moved = (dest >= 0) & ~back
        _add(flow[m], (s[moved], dest[moved]), w[moved])
        entered = np.where(new_carry >= 0, new_carry, np.maximum(dest, 0))
        count(L.A_REHAB, m, moved & (rehab[r][entered] == 1), s, c, w)

        # next_month: a new state (contact process restarted where its rules say so) or one more month
        left = moved & (dest >= n_states)
        # reentry: one who leaves for a job may come back to the state within its months
        job = np.flatnonzero(left & (dest == L.EXIT_JOB))
        Q_job = probs[r][s[job], c[job]]
        share = np.where(post_left[job] > 0, Q_job[:, L.Q_REENTRY_AFTER_OFFER], Q_job[:, L.Q_REENTRY])
        may = np.zeros(i.size, bool)
        may[job] = share > 0.0
        if may.any():
            share = share[share > 0.0]
            u = uniform(seed, pid[may], month_id, L.P_REENTRY)
            comes = u < share
            m_back = m + 1 + (u[comes] / share[comes] * R_own[may][comes, L.R_REENTRY_MONTHS]).astype(np.int64)
            who, where = i[may][comes], s[may][comes]
            for mb in np.unique(m_back[m_back < n_months]):
                returning[mb].append((who[m_back == mb], where[m_back == mb]))
        switched = moved & ~left
        months_in_spell_next = np.minimum(months_in_spell + 1, L.MAX_MONTHS_COUNTED)
        sw, dsw = i[switched], dest[switched]
        restart = (rules[r][dsw, c[switched], L.R_RESTART_CONTACT] == 1) | (new_carry[switched] >= 0)
        state[sw] = dsw
        carry_of[sw] = new_carry[switched]
        months_in_state_of[sw] = 0
        contact_month_of[sw] = np.where(restart, 0,
                                        np.minimum(contact_month[switched] + 1, L.MAX_MONTHS_COUNTED))
        months_in_spell_of[sw] = months_in_spell_next[switched]
        offer_months_left_of[sw] = 0
        post_left_of[sw] = 0
        stay = ~moved
        restarted = stay & (new_carry >= 0)      # no move, but the abolished state's activity from now
        st = i[stay]
        months_in_state_of[st] = np.minimum(months_in_state[stay] + 1, L.MAX_MONTHS_COUNTED)
        contact_month_of[st] = np.where(restarted[stay], 0,
                                        np.minimum(contact_month[stay] + 1, L.MAX_MONTHS_COUNTED))
        months_in_spell_of[st] = months_in_spell_next[stay]
        # an offer in its last month ends: its post-programme months begin
        ends = offer_months_left[stay] == 1
        post_left_of[st] = np.where(restarted[stay], 0,
                                    np.where(ends, R_own[stay, L.R_POST_MONTHS], np.maximum(post_left[stay] - 1, 0)))
        post_company_of[st] = np.where(ends, offer_company[stay], post_company[stay])
        offer_company_of[st] = offer_company[stay]
        offer_months_left_of[st] = np.where(restarted[stay], 0, np.maximum(offer_months_left[stay] - 1, 0))
        carry_of[st] = np.where(restarted[stay], new_carry[stay], carry[stay])
        state[i[left]] = -1

        # closure_move: a state abolished from next month sends its persons on now (counted in month m)
        alive = ~left
        ia, sa, ca = i[alive], state[i[alive]], c[alive]
        moved = _closure(closure_cdf, rules, r_next, sa, ca, seed, pid[alive], month_id, L.P_CLOSURE)
        mv = moved >= 0
        if mv.any():
            _add(flow[m], (sa[mv], moved[mv]), w[alive][mv])
            im, dm = ia[mv], moved[mv]
            gone = dm >= n_states
            state[im[gone]] = -1
            im, dm, cm, sc = im[~gone], dm[~gone], ca[mv][~gone], sa[mv][~gone]
            # where the abolished state's activity is kept, it goes on as it was
            kept = rules[r_next][sc, cm, L.R_KEEP_ACTIVITY] == 1
            carry_of[im] = np.where(kept, np.where(carry_of[im] >= 0, carry_of[im], sc), -1)
            state[im] = dm
            months_in_state_of[im] = 0
            restarts = (rules[r_next][dm, cm, L.R_RESTART_CONTACT] == 1) & ~kept
            contact_month_of[im] = np.where(restarts, 0, contact_month_of[im])
            offer_months_left_of[im] = np.where(kept, offer_months_left_of[im], 0)
            post_left_of[im] = np.where(kept, post_left_of[im], 0)
        active = i[state[i] >= 0]

    out = []
    for a in (occ, act, flow, spell, place_occ.swapaxes(0, 1), place_act.swapaxes(0, 1)):
        full = np.zeros((n_chunks,) + a.shape, np.int64)
        full[0] = a
        out.append(full)
    return tuple(out)
