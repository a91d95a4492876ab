"""The NumPy engine: the same monthly model as ``sim.kernel``, one vectorised step per month.

It is the readable reference for the kernel (tests require identical outputs) and its peer in
the benchmark. It takes and returns exactly what ``sim.kernel.simulate`` does.
"""

from __future__ import annotations

import numpy as np

from . import kernel as K

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic, as in the kernel)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def uniform(seed: int, person_id: np.ndarray, month_id: int, purpose: int) -> np.ndarray:
    """Counter-based uniform draws in [0, 1), identical to ``sim.kernel.uniform``."""
    with np.errstate(over="ignore"):     # wrapping uint64 arithmetic is intended
        key = np.uint64(seed) * _GOLDEN
        counter = np.uint64(month_id) * np.uint64(64) + np.uint64(purpose)
    z = mix64(key + person_id.astype(np.uint64))
    z = mix64(z ^ counter)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def pick(cdf_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise index of the first cdf entry above ``u`` (as ``sim.kernel.pick``)."""
    return (u[:, None] >= cdf_rows[:, :-1]).sum(axis=1)


def payer_band(months_in_spell, flag, employer_months):
    band = np.where(months_in_spell == 0, 1,
                    np.where(months_in_spell < 6, 2, np.where(months_in_spell < 12, 3, 4)))
    return np.where((flag == 1) & (months_in_spell < employer_months), 0, band)


def _add(acc: np.ndarray, index: tuple, weights: np.ndarray) -> None:
    """acc[index] += weights, with repeated indices summed (exact for integer weights)."""
    flat = np.ravel_multi_index(index, acc.shape)
    acc.ravel()[:] += np.bincount(flat, weights=weights, minlength=acc.size).astype(np.int64)


def simulate(person, table, seed, month0, n_chunks, n_months, n_bands):
    """Same signature and results as ``sim.kernel.simulate`` (``n_chunks`` output slices; all
    sums land in the first)."""
    person_id, entry_month, cell, weight, state0, dur0, spell0 = person
    regime_of_month, rules, conv_sched, p_exit, dest_cdf, limit_cdf, jobedu_uptake, rehab = table
    n = person_id.shape[0]
    n_states = rules.shape[1]
    n_cells = p_exit.shape[3]
    n_dur = p_exit.shape[2]
    n_dest = dest_cdf.shape[3]
    n_act = K.N_ACTIVITIES

    occ = np.zeros((n_months, n_states, n_cells, n_bands), np.int64)
    act = np.zeros((n_months, n_act, n_states, n_cells), np.int64)
    flow = np.zeros((n_months, n_states + 1, n_dest), np.int64)

    state = np.empty(n, np.int64)
    dur = np.empty(n, np.int64)
    dcon = np.empty(n, np.int64)
    dspell = np.empty(n, np.int64)
    offer_left = np.zeros(n, np.int64)
    wf = weight.astype(np.float64)
    flag_all = (cell & 1).astype(np.int64)
    cell_all = cell.astype(np.int64)
    offsets = np.searchsorted(entry_month, np.arange(n_months + 1))
    active = np.empty(0, np.int64)

    for m in range(n_months):
        r = regime_of_month[m]
        month_id = month0 + m
        new = np.arange(offsets[m], offsets[m + 1])
        state[new] = state0[new]
        dur[new] = dur0[new]
        dcon[new] = dur0[new]
        dspell[new] = spell0[new]
        offer_left[new] = 0
        fresh = new[dur0[new] == 0]
        _add(flow, (np.full(fresh.size, m), np.full(fresh.size, n_states), state0[fresh].astype(np.int64)),
             wf[fresh])
        active = np.concatenate([active, new])

        i = active
        s, c, w = state[i], cell_all[i], wf[i]
        d, dc, ds, flag = dur[i], dcon[i], dspell[i], flag_all[i]
        pid = person_id[i]
        R = rules[r][s]                       # (n_active, N_RULES)
        mm = np.full(i.size, m)

        # conversations
        early = R[:, K.R_EARLY_LEN]
        every = R[:, K.R_FOLLOWUP_EVERY]
        in_early = dc < early
        sched = conv_sched[r][s, np.minimum(dc, conv_sched.shape[2] - 1)]
        follow = (every > 0) & ((dc - early + 1) % np.maximum(every, 1) == 0)
        conv = np.where(in_early, sched, np.where(follow, 1, 0))
        for code, a in ((1, K.A_CONV_JOBCENTRE), (2, K.A_CONV_AKASSE)):
            sel = conv == code
            _add(act, (mm[sel], np.full(sel.sum(), a), s[sel], c[sel]), w[sel])

        # offers
        ol = offer_left[i]
        first = R[:, K.R_OFFER_FIRST]
        rep = R[:, K.R_OFFER_EVERY]
        due = (ol == 0) & (first >= 0) & (dc >= first) & (
            (dc == first) | ((rep > 0) & ((dc - first) % np.maximum(rep, 1) == 0)))
        ol = np.where(due, R[:, K.R_OFFER_LEN], ol)
        in_offer = ol > 0
        status = np.where(in_offer, 2, np.where((first >= 1) & (dc == first - 1), 1, 0))
        is_edu = R[:, K.R_OFFER_IS_EDU] == 1
        for sel, a in ((in_offer & is_edu, K.A_OFFER_EDUCATION), (in_offer & ~is_edu, K.A_OFFER_GUIDANCE)):
            _add(act, (mm[sel], np.full(sel.sum(), a), s[sel], c[sel]), w[sel])
        window = ~in_offer & (R[:, K.R_JOBEDU_FROM] <= dc) & (dc < R[:, K.R_JOBEDU_UNTIL])
        jobedu = np.zeros(i.size, bool)
        if window.any():
            u = uniform(seed, pid[window], month_id, K.P_JOBEDU)
            jobedu[window] = u < jobedu_uptake[r][s[window]]
        status = np.where(jobedu, 2, status)
        _add(act, (mm[jobedu], np.full(jobedu.sum(), K.A_JOB_EDUCATION), s[jobedu], c[jobedu]), w[jobedu])

        # documents and reviews
        form = (R[:, K.R_INFO_FORM] == 1) & (ds == 0)
        cert = dc == R[:, K.R_CERT_MONTH]
        rf, re = R[:, K.R_REVIEW_FIRST], R[:, K.R_REVIEW_EVERY]
        review = (rf >= 0) & (dc >= rf) & ((dc == rf) | ((re > 0) & ((dc - rf) % np.maximum(re, 1) == 0)))
        for sel, a in ((form, K.A_INFO_FORM), (cert, K.A_CERTIFICATE), (review, K.A_REVIEW)):
            _add(act, (mm[sel], np.full(sel.sum(), a), s[sel], c[sel]), w[sel])

        band = payer_band(ds, flag, R[:, K.R_EMPLOYER_MONTHS])
        _add(occ, (mm, s, c, band), w)

        # transitions
        limit = np.where(flag == 1, R[:, K.R_LIMIT_FLAG1], R[:, K.R_LIMIT_FLAG0])
        at_limit = (limit >= 0) & (d >= limit)
        dest = np.full(i.size, -1)
        if at_limit.any():
            u = uniform(seed, pid[at_limit], month_id, K.P_LIMIT)
            dest[at_limit] = pick(limit_cdf[r][s[at_limit], c[at_limit]], u)
            _add(act, (mm[at_limit], np.full(at_limit.sum(), K.A_LIMIT), s[at_limit], c[at_limit]),
                 w[at_limit])
            reas = at_limit & (R[:, K.R_REASSESS_AT_LIMIT] == 1)
            _add(act, (mm[reas], np.full(reas.sum(), K.A_REASSESS), s[reas], c[reas]), w[reas])
        hz = ~at_limit
        combo = np.where(conv > 0, status + 3, status)
        h = p_exit[r][s, np.minimum(d, n_dur - 1), c, combo]
        exits = hz & (uniform(seed, pid, month_id, K.P_EXIT) < h)
        if exits.any():
            u = uniform(seed, pid[exits], month_id, K.P_DEST)
            dest[exits] = pick(dest_cdf[r][s[exits], c[exits]], u)

        moved = dest >= 0
        _add(flow, (mm[moved], s[moved], dest[moved]), w[moved])
        rh = moved & (rehab[r][np.maximum(dest, 0)] == 1)
        _add(act, (mm[rh], np.full(rh.sum(), K.A_REHAB), s[rh], c[rh]), w[rh])

        left = moved & (dest >= n_states)
        switched = moved & ~left
        stay = ~moved
        ds_next = np.minimum(ds + 1, 32000)
        # switch to another benefit
        sw, dsw = i[switched], dest[switched]
        restart = rules[r][dsw, K.R_RESTART_CONTACT] == 1
        state[sw] = dsw
        dur[sw] = 0
        dcon[sw] = np.where(restart, 0, dc[switched] + 1)
        dspell[sw] = ds_next[switched]
        offer_left[sw] = 0
        # stay
        st = i[stay]
        dur[st] = np.minimum(d[stay] + 1, 32000)
        dcon[st] = np.minimum(dc[stay] + 1, 32000)
        dspell[st] = ds_next[stay]
        offer_left[st] = np.maximum(ol[stay] - 1, 0)
        # leave
        state[i[left]] = -1
        active = i[~left]

    shape = (n_chunks,)
    out = []
    for a in (occ, act, flow):
        full = np.zeros(shape + a.shape, np.int64)
        full[0] = a
        out.append(full)
    return tuple(out)
