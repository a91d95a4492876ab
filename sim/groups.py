"""Target-group schemes: which group a person belongs to, by state, age and distance class.

A scheme is a function of (state, youth, distance) written to read like the law; it becomes a
lookup table over the model's states and cells, so any caseload can be cut by any scheme after
the simulation (the kernel does not need to know schemes).
"""

from __future__ import annotations

import numpy as np

from .errors import InputError, did_you_mean
from .states import N_CELLS, STATES, cell_parts


def current_group(state: str, youth: int, distance: int) -> str:
    """The 13 target groups in force before the reform (LAB § 6, BEK 2636/2021 § 1; FACTS.md §7)."""
    return {
        "sick": "sygedagpenge",
        "sick_extended": "sygedagpenge",
        "job_clarification": "jobafklaringsforløb",
        "dagpenge": "dagpenge",
        "sa_job_ready": "jobparate kontanthjælp",
        "sa_activity_ready": "aktivitetsparate kontanthjælp",
        "youth_education_ready": "uddannelsesparate uddannelseshjælp",
        "youth_activity_ready": "aktivitetsparate uddannelseshjælp",
        "resource_course": "ressourceforløb",
        "ledighedsydelse": "fleksjob-visiterede",
        "flex_job": "fleksjob-visiterede",
        "revalidation": "revalidering",
        "disability_pension_job": "førtidspension",
        "self_supporting": "selvforsørgende ledige",
        "under_18": "unge under 18",
        "sick_reduced": "sygedagpenge",
    }[state]


SCHEMES = {"current": current_group}
SCHEME_GROUPS = {
    "current": ("dagpenge", "jobparate kontanthjælp", "aktivitetsparate kontanthjælp",
                "uddannelsesparate uddannelseshjælp", "aktivitetsparate uddannelseshjælp",
                "sygedagpenge", "jobafklaringsforløb", "ressourceforløb", "fleksjob-visiterede",
                "revalidering", "førtidspension", "selvforsørgende ledige", "unge under 18"),
}


def group_table(scheme: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Group index of every (state, cell), shape (S, C), and the scheme's group names."""
    if scheme not in SCHEMES:
        raise InputError(f"unknown target-group scheme '{scheme}'{did_you_mean(scheme, SCHEMES)}; "
                         f"allowed: {', '.join(SCHEMES)}")
    names = SCHEME_GROUPS[scheme]
    table = np.zeros((len(STATES), N_CELLS), np.int64)
    for s, state in enumerate(STATES):
        for c in range(N_CELLS):
            youth, distance, _, _ = cell_parts(c)
            group = SCHEMES[scheme](state, youth, distance)
            table[s, c] = names.index(group)
    return table, names


def caseload_by_group(occupancy: np.ndarray, scheme: str) -> np.ndarray:
    """Persons by month and group: (M, G) from occupancy (M, S, C, B)."""
    table, names = group_table(scheme)
    by_cell = occupancy.sum(axis=3)                          # (M, S, C)
    out = np.zeros((occupancy.shape[0], len(names)))
    for g in range(len(names)):
        out[:, g] = (by_cell * (table == g)).sum(axis=(1, 2))
    return out
