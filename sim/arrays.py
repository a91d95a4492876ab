"""The engines' two inputs, as named tuples of arrays (numba takes them as they are).

``Population.arrays()`` builds the ``PersonArrays``, ``Tables.arrays(...)`` the ``RuleArrays``;
``sim.kernel.simulate`` and ``sim.engine.simulate`` read them by name. Shapes: n persons, M months,
R regimes, S states, C cells, D durations, E early contact months, K destinations (states then
exits), columns of ``sim.layout``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class PersonArrays(NamedTuple):
    """Each person's values at entry, each shape (n,), sorted by entry month (the NumPy engine
    needs the order; the kernel does not)."""

    person_id: np.ndarray        # int64: the key of every random draw
    entry_month: np.ndarray      # int32: months after the horizon's start (outside: not simulated)
    cell: np.ndarray             # int8: sim.states.cell_code
    weight: np.ndarray           # int64: persons in sim.population.WEIGHT_UNIT
    state: np.ndarray            # int8: state at entry
    months_in_state: np.ndarray  # int16: months already in the state at entry (0: a new spell)
    months_in_spell: np.ndarray  # int16: months already on benefit in the spell at entry
    municipality: np.ndarray     # int16: the person's municipality (its row in data/municipalities.csv)


class RuleArrays(NamedTuple):
    """The rules in force, C-contiguous (the kernel reads them through flat views)."""

    regime_of_month: np.ndarray  # int32 (M,): the regime in force in each month
    rules: np.ndarray            # int32 (R, S, C, N_RULES): integer rules (sim.layout R_*)
    conv_sched: np.ndarray       # int8 (R, S, C, E): early conversations (sim.layout CONV_*)
    p_exit: np.ndarray           # float64 (R, S, D, C, N_COMBOS): monthly exit probability
    dest_cdf: np.ndarray         # float64 (R, S, C, K): where an exit leads, cumulative
    limit_cdf: np.ndarray        # float64 (R, S, C, K): where a time limit leads, cumulative
    closure_cdf: np.ndarray      # float64 (R, S, C, K): where an abolished state's persons go
    probs: np.ndarray            # float64 (R, S, C, N_PROBS): shares and take-ups (sim.layout Q_*)
    rehab_on_entry: np.ndarray   # int8 (R, K): 1 where entering a destination holds a meeting
    ration: np.ndarray           # float64 (M, N_KINDS, S, C): share of due activity delivered
    year_of_month: np.ndarray    # int32 (M,): calendar year of each month, 0 for the first
    cost_class: np.ndarray       # int8 (S, C): cost class (sim.layout N_COST_CLASSES)
