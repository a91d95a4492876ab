"""Counter-based random numbers: a draw is a hash of (seed, person, month, purpose).

Baseline and reform share every draw they both make, the number of threads and the order of
persons do not matter, and a change that has no effect gives exactly zero difference. The hash
is SplitMix64's finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014), applied twice: once to (seed, person), once more with the counter
(month, purpose). The compiled functions (``mix64`` ... ``uniform_array``) are what the kernel
and the population fillers call; ``uniform_numpy`` is the same draw on NumPy arrays, for the
NumPy engine. Both read the one set of constants below.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

GOLDEN = np.uint64(0x9E3779B97F4A7C15)   # 2**64 / golden ratio: spreads (seed, person) keys
M1 = np.uint64(0xBF58476D1CE4E5B9)       # SplitMix64's first multiplier
M2 = np.uint64(0x94D049BB133111EB)       # SplitMix64's second multiplier
S30 = np.uint64(30)                      # SplitMix64's shifts
S27 = np.uint64(27)
S31 = np.uint64(31)
S11 = np.uint64(11)                      # keeps the top 53 bits: a double's mantissa
N_PURPOSES = np.uint64(64)               # counter = month * N_PURPOSES + purpose (sim.layout.P_*)
TO_UNIT = 1.0 / 9007199254740992.0       # 2**-53: 53 bits to [0, 1)


@njit(cache=True)
def mix64(z):
    """SplitMix64 finaliser: a bijective avalanche of a uint64."""
    z = (z ^ (z >> S30)) * M1
    z = (z ^ (z >> S27)) * M2
    return z ^ (z >> S31)


@njit(cache=True)
def person_key(seed, person_id):
    """The part of a draw's key that is fixed for a person (computed once per person)."""
    return mix64(np.uint64(seed) * GOLDEN + np.uint64(person_id))


@njit(cache=True)
def draw(key, month_id, purpose):
    """Uniform in [0, 1) from a person's key, the month id and the purpose of the draw."""
    z = mix64(key ^ (np.uint64(month_id) * N_PURPOSES + np.uint64(purpose)))
    return np.float64(np.int64(z >> S11)) * TO_UNIT


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


def mix64_numpy(z: np.ndarray) -> np.ndarray:
    """``mix64`` on a uint64 array (wrapping arithmetic, as in the compiled one)."""
    z = (z ^ (z >> S30)) * M1
    z = (z ^ (z >> S27)) * M2
    return z ^ (z >> S31)


def uniform_numpy(seed: int, person_id: np.ndarray, month_id: int, purpose: int) -> np.ndarray:
    """``uniform`` for every id in ``person_id`` with NumPy: identical draws, float64 array."""
    with np.errstate(over="ignore"):     # wrapping uint64 arithmetic is intended
        key = np.uint64(seed) * GOLDEN
        counter = np.uint64(month_id) * N_PURPOSES + np.uint64(purpose)
    z = mix64_numpy(key + person_id.astype(np.uint64))
    z = mix64_numpy(z ^ counter)
    return (z >> S11).astype(np.float64) * TO_UNIT
