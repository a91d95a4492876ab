"""Compiled loops that fill the synthetic population's arrays (9.8 M persons at full scale).

``sim.population`` prepares the inputs (counts, shares, purposes) and calls these two; the
draws are ``sim.rng``'s, so every attribute is a pure function of (seed, person, purpose).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .layout import (AGE_ADULT_FROM, AGE_ADULT_SPAN, AGE_UNDER_18_FROM, AGE_UNDER_18_SPAN,
                     AGE_YOUTH_FROM, AGE_YOUTH_SPAN, FIRST_YOUTH_CELL, cell_code)
from .rng import draw, person_key

_cell_code = njit(inline="always")(cell_code)   # the one packing of sim.states, compiled


@njit(parallel=True, cache=True)
def draw_attributes(seed, person_id, state, cell, shares, distance_cdf, under_18, municipality_cdf,
                    month_id, purposes):
    """Cell, age and municipality of new persons.

    Parameters
    ----------
    seed : int
    person_id : int64 (n,)
    state : int8 (n,)
    cell : int8 (n,)
        The person's cell, or < 0 for a cell to draw from the entrant mix of their state.
    shares : float64 (S, 3)
        ``(youth, provider, flag)`` shares of each state's entrants.
    distance_cdf : float64 (S, 2)
        ``(close, close + middle)`` cumulative shares of each state's entrants.
    under_18, month_id : int
        The state code of the under-18, the month id of the draws.
    municipality_cdf : float64 (S, N)
        Cumulative shares of the municipalities by state (each row's last 1): a person's
        municipality is drawn from their state's row.
    purposes : int64 (6,)
        Purpose codes of the (youth, provider, flag, distance, age, municipality) draws.

    Returns
    -------
    cell int8 (n,), age int16 (n,) in years, municipality int16 (n,)
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
            c = _cell_code(youth, distance, provider, flag)
        out_cell[i] = c
        u_age = draw(key, month_id, purposes[4])
        if s == under_18:
            age[i] = AGE_UNDER_18_FROM + int(u_age * AGE_UNDER_18_SPAN)
        elif c >= FIRST_YOUTH_CELL:
            age[i] = AGE_YOUTH_FROM + int(u_age * AGE_YOUTH_SPAN)
        else:
            age[i] = AGE_ADULT_FROM + int(u_age * AGE_ADULT_SPAN)
        muni[i] = np.searchsorted(municipality_cdf[s], draw(key, month_id, purposes[5]), side="right")
    return out_cell, age, muni


@njit(parallel=True, cache=True)
def fill_population(counts, stock_state, stock_dur, stock_spell, stock_cell):
    """The population's arrays: the stock (entry month 0, given) followed by the new spells.

    Parameters
    ----------
    counts : int64 (n_months, S)
        New spells by month and state; they are numbered month by month and state by state,
        start with no months behind them and cell -1 (drawn by ``draw_attributes``).
    stock_state : int8 (n_stock,)
    stock_dur, stock_spell : int16 (n_stock,)
        Months in state and months in spell of the stock.
    stock_cell : int8 (n_stock,)

    Returns
    -------
    person_id int64, entry_month int32, state int8, months_in_state int16, months_in_spell int16,
    cell int8: each (n_stock + counts.sum(),)
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
