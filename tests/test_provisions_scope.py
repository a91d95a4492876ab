"""A provision changes what it says and nothing else: for every provision of every shipped reform,
the rule tables differ from today's only in the states, columns and cells its parameters name."""

from __future__ import annotations

import numpy as np
import pytest

from sim import layout as L
from sim.comparison import extra_changes
from sim.rules import build_regime
from sim.scenario import list_scenarios, load_scenario
from sim.states import DESTINATIONS, N_CELLS, STATES, selectors_of_cell

#: the columns of the rule table (R_*) and probability table (Q_*) a rule sets
RULE_COLUMNS = {
    "akasse_months": ("R", [L.R_AKASSE_MONTHS]), "followup_every_months": ("R", [L.R_FOLLOWUP_EVERY]),
    "offer_first_month": ("R", [L.R_OFFER_FIRST]), "offer_every_months": ("R", [L.R_OFFER_EVERY]),
    "offer_length_months": ("R", [L.R_OFFER_LEN]), "offer_is_education": ("R", [L.R_OFFER_IS_EDU]),
    "job_education_from_month": ("R", [L.R_JOBEDU_FROM]), "job_education_until_month": ("R", [L.R_JOBEDU_UNTIL]),
    "information_form": ("R", [L.R_INFO_FORM]), "medical_certificate_month": ("R", [L.R_CERT_MONTH]),
    "review_first_month": ("R", [L.R_REVIEW_FIRST]), "review_every_months": ("R", [L.R_REVIEW_EVERY]),
    "closed": ("R", [L.R_CLOSED]), "activity_kept_when_closed": ("R", [L.R_KEEP_ACTIVITY]),
    "contact_months": ("R", [L.R_EARLY_LEN]), "restart_contact_on_switch": ("R", [L.R_RESTART_CONTACT]),
    "reassessment_activity": ("R", [L.R_REASSESS_AT_LIMIT]),
    "job_education_uptake_per_month": ("Q", [L.Q_JOBEDU_UPTAKE]),
    "medical_certificate_share": ("Q", [L.Q_CERT_SHARE]),
    "followup_delivery_share": ("Q", [L.Q_FOLLOWUP_SHARE]),
    "repeat_offer_delivery_share": ("Q", [L.Q_OFFER_SHARE]),
}
FIELDS = ("rules", "conv_sched", "p_exit", "dest_cdf", "limit_cdf", "closure_cdf", "probs", "rehab_on_entry")


def _allowed(names: list[str]) -> dict[str, set]:
    """Per table, the (state, cell, column) entries (or (state,) rows, or destination rows) the
    parameters may change."""
    ok = {f: set() for f in FIELDS}
    for name in names:
        parts = name.split(".")
        if parts[0] == "rules":
            scope, _, selector = parts[1].partition("@")
            rule = parts[2]
            states = STATES if scope == "general" else (scope,)
            if rule == "rehabilitation_on_entry":          # read for every destination, exits too
                ok["rehab_on_entry"].update(DESTINATIONS.index(d) for d in (DESTINATIONS if scope == "general" else (scope,)))
                continue
            for st in states:
                s = STATES.index(st)
                cells = [c for c in range(N_CELLS) if not selector or selector in selectors_of_cell(c, st)]
                if rule == "education_order":
                    ok["p_exit"].add(s)                     # the education order's effect on exits
                    continue
                table, cols = RULE_COLUMNS[rule]
                for c in cells:
                    for col in cols:
                        ok["rules" if table == "R" else "probs"].add((s, c, col))
                    if rule in ("contact_months", "akasse_months"):
                        ok["conv_sched"].add((s, c))
                    if rule == "closed":
                        ok["closure_cdf"].add(s)
        elif parts[0] == "behaviour":
            ok["p_exit"].update(range(len(STATES)))       # behaviour effects apply to every state
            if parts[1] == "far_job_share_factor":
                ok["dest_cdf"].update(range(len(STATES)))
        elif parts[0] == "hazard":
            ok["p_exit"].add(STATES.index(parts[1]))
        elif parts[0] == "money":
            pass                                            # read by the money steps, not the tables
        elif parts[0] == "destination":
            _, state, event, _ = parts
            ok[{"exit": "dest_cdf", "limit": "limit_cdf", "closure": "closure_cdf"}[event]].add(STATES.index(state))
        else:
            raise AssertionError(f"a provision of a shipped reform sets '{name}': add it to this test")
    return ok


def _provisions():
    """The shipped reforms with provisions (a business cycle or a financing regime alone has none)."""
    from sim.parameters import load_data
    data = load_data()
    base = load_scenario("baseline", data)
    return [name for name, _ in list_scenarios()
            if name != "baseline" and extra_changes(base, load_scenario(name, data))]


@pytest.mark.parametrize("reform_name", _provisions())
def test_each_provision_changes_only_what_it_names(data, reform_name):
    base = load_scenario("baseline", data)
    reform = load_scenario(reform_name, data)
    by_provision: dict[str, list] = {}
    for ch in extra_changes(base, reform):
        by_provision.setdefault(ch.provision, []).append(ch)
    assert by_provision
    today = build_regime(dict(data.params))
    for provision, changes in by_provision.items():
        params = dict(data.params)
        for ch in changes:
            params[ch.parameter] = ch.value
        after = build_regime(params)
        ok = _allowed([ch.parameter for ch in changes])
        for i, field in enumerate(FIELDS):
            diff = np.argwhere(np.asarray(today[i]) != np.asarray(after[i]))
            for idx in map(tuple, diff):
                if field in ("rules", "probs"):
                    key = (int(idx[0]), int(idx[1]), int(idx[2]))
                elif field == "conv_sched":
                    key = (int(idx[0]), int(idx[1]))
                elif field == "rehab_on_entry":
                    key = int(idx[0])
                else:
                    key = int(idx[0])
                # rules read time limits and hazards the provisions here never set
                assert key in ok[field], (f"{reform_name}: provision '{provision}' changes {field}"
                                          f"{idx} ({STATES[int(idx[0])] if int(idx[0]) < len(STATES) else idx}), "
                                          "which none of its parameters names")


def test_the_scope_check_can_fail(data):
    """The check catches a change outside what the parameters name: the job-ready's offer month
    changed, and the check told the dagpenge rule was."""
    params = dict(data.params)
    params["rules.sa_job_ready.offer_first_month"] = 3
    today, after = build_regime(dict(data.params)), build_regime(params)
    ok = _allowed(["rules.dagpenge.offer_first_month"])
    diff = {tuple(map(int, i)) for i in np.argwhere(today[0] != after[0])}
    assert diff and not diff <= ok["rules"]
    assert diff <= _allowed(["rules.sa_job_ready.offer_first_month"])["rules"]
