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


def expert_group(state: str, youth: int, distance: int) -> str:
    """The expert group's five groups (FACTS.md §2, §7: landbrugsinfo.dk summary of the report).

    Social assistance and ledighedsydelse recipients able to search are in the job-search effort,
    those needing help in the job-help effort (resource course and revalidation folded in there);
    job clarification and the reduced sickness benefit are in the sickness-benefit effort.
    """
    able_to_search = distance < 2
    if state == "dagpenge":
        return "dagpengeindsats"
    if state in ("sick", "sick_extended", "sick_reduced", "job_clarification"):
        return "sygedagpengeindsats"
    if state in ("sa_job_ready", "sa_activity_ready", "youth_education_ready", "youth_activity_ready",
                 "ledighedsydelse"):
        return "jobsøgningsindsats" if able_to_search else "jobhjælpsindsats"
    if state in ("resource_course", "revalidation"):
        return "jobhjælpsindsats"
    return "øvrige"          # flex-job holders, disability pensioners, self-supporting, under-18s


def six_cities(state: str, youth: int, distance: int) -> str:
    """The six largest municipalities' five groups (002_f1b5267a1fbe8a9d.txt); the mapping of
    states is an assumption (docs/provisions.md A-21)."""
    if state in ("dagpenge", "self_supporting"):
        return "forsikrede ledige"
    if state in ("sick", "sick_extended", "sick_reduced", "job_clarification"):
        return "syge borgere"
    if state in ("youth_education_ready", "youth_activity_ready", "under_18"):
        return "unge"
    if state in ("ledighedsydelse", "flex_job"):
        return "fleksjobbere"
    return "øvrige ledige"


SCHEMES = {"current": current_group, "expert_group": expert_group, "six_cities": six_cities}
SCHEME_GROUPS = {
    "current": ("dagpenge", "jobparate kontanthjælp", "aktivitetsparate kontanthjælp",
                "uddannelsesparate uddannelseshjælp", "aktivitetsparate uddannelseshjælp",
                "sygedagpenge", "jobafklaringsforløb", "ressourceforløb", "fleksjob-visiterede",
                "revalidering", "førtidspension", "selvforsørgende ledige", "unge under 18"),
    "expert_group": ("dagpengeindsats", "jobsøgningsindsats", "jobhjælpsindsats", "sygedagpengeindsats",
                     "øvrige"),
    "six_cities": ("forsikrede ledige", "syge borgere", "unge", "fleksjobbere", "øvrige ledige"),
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


#: groups for the gap: who loses activity (KL's reading: youth, vulnerable adults, insured unemployed)
GAP_GROUPS = ("youth", "vulnerable_adults", "insured_unemployed", "sick", "other")


def gap_group(state: str, youth: int, distance: int) -> str:
    """The group of a state and cell for the breakdowns of the effort cut and for rationing by
    group: the young first, then the insured unemployed, the sick, those far from the labour
    market (vulnerable adults), and the rest."""
    if youth:
        return "youth"
    if state == "dagpenge":
        return "insured_unemployed"
    if state.startswith("sick") or state == "job_clarification":
        return "sick"
    if distance == 2:
        return "vulnerable_adults"
    return "other"


def group_of_cell() -> np.ndarray:
    """(S, C) index into GAP_GROUPS of each state and cell."""
    out = np.zeros((len(STATES), N_CELLS), np.int64)
    for s, state in enumerate(STATES):
        for c in range(N_CELLS):
            youth, distance, _, _ = cell_parts(c)
            out[s, c] = GAP_GROUPS.index(gap_group(state, youth, distance))
    return out
