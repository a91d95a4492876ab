"""The engines' layout constants (sim.layout) agree with the vocabulary (sim.states)."""

from __future__ import annotations

import numpy as np

from sim import layout as L
from sim import states


def _codes(prefix: str) -> dict:
    return {name: getattr(L, name) for name in dir(L) if name.startswith(prefix) and name[len(prefix)].isupper()}


def test_activity_codes_follow_the_order_of_activities():
    codes = _codes("A_")
    assert sorted(codes.values()) == list(range(states.N_ACTIVITIES)) == list(range(len(states.ACTIVITIES)))
    assert L.N_ACTIVITIES == states.N_ACTIVITIES
    named = {"A_CONV_JOBCENTRE": "conversation_jobcentre", "A_CONV_AKASSE": "conversation_akasse",
             "A_OFFER_GUIDANCE": "offer_guidance_month", "A_OFFER_EDUCATION": "offer_education_month",
             "A_JOB_EDUCATION": "job_education_month", "A_INFO_FORM": "information_form",
             "A_CERTIFICATE": "medical_certificate", "A_REHAB": "rehabilitation_meeting",
             "A_REASSESS": "reassessment", "A_REVIEW": "review", "A_LIMIT": "time_limit",
             "A_CONV_RATIONED": "conversation_rationed", "A_GUIDANCE_RATIONED": "guidance_months_rationed",
             "A_EDUCATION_RATIONED": "education_months_rationed", "A_JOBEDU_RATIONED": "job_education_rationed",
             "A_OFFER_COMPANY": "offer_company_month", "A_COMPANY_RATIONED": "company_months_rationed"}
    assert set(named) == set(codes)
    for const, activity in named.items():
        assert states.ACTIVITIES[codes[const]] == activity, const


def test_cell_packing_is_the_one_of_states():
    assert L.N_CELLS == states.N_CELLS == 2 * L.N_DISTANCES * 2 * 2
    assert L.N_DISTANCES == len(states.DISTANCE_CLASSES)
    for c in range(states.N_CELLS):
        youth, distance, provider, flag = states.cell_parts(c)
        assert states.cell_code(youth, distance, provider, flag) == c
        assert L.cell_code(youth, distance, provider, flag) == c
        assert (c & L.FLAG_BIT) == flag
        assert (c >= L.FIRST_YOUTH_CELL) == bool(youth)
    cells = np.arange(states.N_CELLS)
    assert np.array_equal(L.cell_code(*states.cell_parts(cells)), cells)


def test_bands_columns_and_codes_are_complete():
    assert L.N_BANDS == states.N_BANDS == L.BAND_WEEKS_53_PLUS + 1
    assert [L.BAND_EMPLOYER, L.BAND_WEEKS_1_4, L.BAND_WEEKS_5_26, L.BAND_WEEKS_27_52,
            L.BAND_WEEKS_53_PLUS] == list(range(len(states.BANDS)))
    assert 0 < L.WEEKS_5_26_FROM < L.WEEKS_27_52_FROM < L.WEEKS_53_PLUS_FROM
    assert sorted(_codes("R_").values()) == list(range(L.N_RULES))
    assert sorted(_codes("Q_").values()) == list(range(L.N_PROBS))
    assert sorted(_codes("K_").values()) == list(range(L.N_KINDS))
    assert len(set(_codes("P_").values())) == len(_codes("P_")) and max(_codes("P_").values()) < 64
    bits = list(_codes("B_").values())
    assert all(b & (b - 1) == 0 for b in bits) and len(set(bits)) == len(bits)
    assert L.MAX_MONTHS_COUNTED < np.iinfo(np.int16).max
