"""The model's vocabulary: benefit states, exits, activities, person cells and payer bands.

Everything here is structure, not parameters: the numbers that describe Danish law and behaviour
live in ``data/`` and ``configs/``. Integer codes are what the kernel sees; names are what users see.
"""

from __future__ import annotations

# Benefit states a person can be in during a spell (index = code used by the kernel).
STATES = (
    "sick",                      # sygedagpenge, before the 22-week reassessment
    "sick_extended",             # sygedagpenge, extended after the reassessment (forlængelse)
    "job_clarification",         # jobafklaringsforløb (ressourceforløbsydelse)
    "dagpenge",                  # insured unemployed (a-dagpenge)
    "sa_job_ready",              # jobparat kontanthjælp, 30+ or with education
    "sa_activity_ready",         # aktivitetsparat kontanthjælp
    "youth_education_ready",     # uddannelsesparat uddannelseshjælp, under 30
    "youth_activity_ready",      # aktivitetsparat uddannelseshjælp, under 30
    "resource_course",           # ressourceforløb
    "ledighedsydelse",           # flex-job visited, unemployed
    "flex_job",                  # employed in a flex job
    "revalidation",              # revalidering
    "disability_pension_job",    # førtidspension in a subsidised job (skånejob)
    "self_supporting",           # selvforsørgende ledige
    "under_18",                  # young people under 18
    "sick_reduced",              # reduced sickness benefit after a fixed week (reform; empty today)
)
STATE = {name: i for i, name in enumerate(STATES)}
N_STATES = len(STATES)

# Absorbing exits; their codes follow the states (destination code = N_STATES + index).
EXITS = ("exit_job", "exit_education", "exit_pension", "exit_other")
DESTINATIONS = STATES + EXITS
#: states of those furthest from the labour market in VIVE's sense (000_66bb68d8b6be87ab.txt: 80 %
#: of the jobcentre staff's time goes to them): the activity-ready on social assistance, the
#: courses for those with complex problems and ledighedsydelse; in the other states, persons in the
#: far distance class count too (see docs/effort.md)
FURTHEST_STATES = ("sa_activity_ready", "youth_activity_ready", "resource_course", "job_clarification",
                   "ledighedsydelse")
#: states of jobseekers whom a job may not last: a person leaving one for a job can come back to
#: it (``behaviour.reentry_share``; docs/behaviour.md)
REENTRY_STATES = ("dagpenge", "sa_job_ready", "sa_activity_ready", "youth_education_ready",
                  "youth_activity_ready")
#: events with a destination distribution (data/destinations.csv): an exit, a time limit, the
#: closure of a state
EVENTS = ("exit", "limit", "closure")
DEST = {name: i for i, name in enumerate(DESTINATIONS)}
N_DEST = len(DESTINATIONS)
EXIT_JOB = DEST["exit_job"]
#: Pseudo-destination in data files: social assistance, resolved by age and distance class.
SOCIAL_ASSISTANCE = "social_assistance"

SICK_STATES = (STATE["sick"], STATE["sick_extended"], STATE["sick_reduced"])

# Activities the rules make due; each has a unit cost and an effort line (data/unit_costs.csv).
ACTIVITIES = (
    "conversation_jobcentre",    # individual job conversation held by the jobcentre
    "conversation_akasse",       # conversation held by the unemployment-insurance fund
    "offer_guidance_month",      # a month in an offer of guidance or upskilling
    "offer_education_month",     # a month in an offer of ordinary education
    "job_education_month",       # a month of the 6-week job-oriented education right
    "information_form",          # sick-benefit information form (oplysningsskema)
    "medical_certificate",       # medical certificate (lægeattest)
    "rehabilitation_meeting",    # rehabilitation-team meeting (rehabiliteringsteam)
    "reassessment",              # sick-benefit reassessment at week 22 (revurdering)
    "review",                    # periodic follow-up / reassessment of flex job, ledighedsydelse etc.
    "time_limit",                # a time limit reached (week 22, dagpenge exhaustion); no cost
    "conversation_rationed",     # due conversations not held for lack of budget (demand; no cost)
    "guidance_months_rationed",  # offer months of guidance not given for lack of budget
    "education_months_rationed", # offer months of education not given for lack of budget
    "job_education_rationed",    # job-oriented education months not given for lack of budget
    "offer_company_month",       # a month in a company-based offer (virksomhedspraktik, løntilskud)
    "company_months_rationed",   # company-based offer months not given for lack of budget
)
N_ACTIVITIES = len(ACTIVITIES)

# Person cells: the attributes that hazards, groups and rates depend on, packed in one int8.
# cell = ((youth * 3 + distance) * 2 + provider) * 2 + flag
# youth: under 30 at spell start; distance: 0 close, 1 middle, 2 far from the labour market;
# provider: has children to provide for (forsørger); flag: sick from a job (sick states) or
# insured in an a-kasse (other states).
DISTANCE_CLASSES = ("close", "middle", "far")
N_CELLS = 2 * 3 * 2 * 2


def cell_code(youth, distance, provider, flag):
    """Pack attributes into a cell code (works on scalars and NumPy arrays)."""
    return ((youth * 3 + distance) * 2 + provider) * 2 + flag


def cell_parts(cell):
    """Unpack a cell code into (youth, distance, provider, flag)."""
    flag = cell % 2
    provider = (cell // 2) % 2
    distance = (cell // 4) % 3
    youth = cell // 12
    return youth, distance, provider, flag


# Payer bands of a benefit month: 0 the employer period; 1-4 the steps of the state refund
# staircase (refusionstrappe) by weeks on benefit: 1-4, 5-26, 27-52, 53+.
BANDS = ("employer_period", "weeks_1_4", "weeks_5_26", "weeks_27_52", "weeks_53_plus")
N_BANDS = len(BANDS)

# Effort lines of the expert group's budget model (the contract's names).
EFFORT_LINES = ("jobcentre_operations", "guidance_upskilling", "other_effort")
DERIVED_LINE = "derived_effects"
PAYERS = ("state", "municipality", "employer")

# Benefit paid in each state ('' where the state carries no transfer in this model).
BENEFIT_OF_STATE = {
    "sick": "sickness_benefit",
    "sick_extended": "sickness_benefit",
    "job_clarification": "resource_benefit",
    "dagpenge": "dagpenge",
    "sa_job_ready": "social_assistance",
    "sa_activity_ready": "social_assistance",
    "youth_education_ready": "education_benefit",
    "youth_activity_ready": "education_benefit",
    "resource_course": "resource_benefit",
    "ledighedsydelse": "ledighedsydelse",
    "flex_job": "flexjob_subsidy",
    "revalidation": "revalidation_benefit",
    "disability_pension_job": "",
    "self_supporting": "",
    "under_18": "",
    "sick_reduced": "reduced_sickness_benefit",
}

#: selectors that make a rule apply to part of a state's persons: rules.STATE@SELECTOR.RULE
SELECTORS = ("close", "middle", "far", "youth", "adult", "from_job", "from_unemployment", "insured",
             "uninsured")


def selectors_of_cell(cell: int, state: str) -> tuple[str, str, str]:
    """The selectors a person of ``cell`` in ``state`` matches, in order of precedence."""
    youth, distance, _, flag = cell_parts(cell)
    if state.startswith("sick"):
        origin = "from_job" if flag else "from_unemployment"
    else:
        origin = "insured" if flag else "uninsured"
    return DISTANCE_CLASSES[distance], "youth" if youth else "adult", origin


#: states whose person-months are jobcentre cases (a flex job or a subsidised job is work: the
#: jobcentre only reviews it)
CASE_STATES = tuple(s for s in STATES if s not in ("flex_job", "disability_pension_job"))


def is_furthest(state: str, cell: int) -> bool:
    """Whether a person of ``cell`` in ``state`` is furthest from the labour market in VIVE's
    sense (``FURTHEST_STATES``, or the far distance class in any other jobcentre case; not those
    at work in a flex job or a subsidised job): docs/effort.md."""
    return state in FURTHEST_STATES or (state in CASE_STATES and DISTANCE_CLASSES[cell_parts(cell)[1]] == "far")
