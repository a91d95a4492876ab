"""The layout of the engines' arrays: the columns, codes and sizes both engines read.

``sim.rules`` fills the tables by these columns, ``sim.kernel`` (compiled) and ``sim.engine``
(NumPy) read them, ``sim.capacity`` builds the delivery shares by the rationable kinds. Plain
Python and NumPy: importing this module does not start numba. The names users see (states,
activities, cells, bands) are in ``sim.states``; the codes here follow its orders
(``tests/test_layout.py`` checks that they agree).
"""

from __future__ import annotations

from .states import EXIT_JOB, N_ACTIVITIES, N_BANDS, N_CELLS, N_STATES, cell_code, cell_parts  # noqa: F401

# ---- columns of the integer rule table rules[regime, state, cell, column] --------------------
R_EARLY_LEN = 0          # months of the early contact process (schedule in conv_sched)
R_FOLLOWUP_EVERY = 1     # months between follow-up conversations after it (0 = none)
R_OFFER_FIRST = 2        # contact month of the first mandatory offer (-1 = none)
R_OFFER_EVERY = 3        # months between repeated offers (0 = once)
R_OFFER_LEN = 4          # months an offer lasts
R_OFFER_IS_EDU = 5       # 1: offers are ordinary education (other effort), 0: guidance/upskilling
R_JOBEDU_FROM = 6        # first contact month of the job-oriented education right
R_JOBEDU_UNTIL = 7       # first contact month after it
R_INFO_FORM = 8          # 1: information form at the start of a spell
R_CERT_MONTH = 9         # contact month of the medical certificate (-1 = none)
R_REVIEW_FIRST = 10      # contact month of the first review (-1 = none)
R_REVIEW_EVERY = 11      # months between reviews (0 = once)
R_LIMIT = 12             # month in state of the time limit (-1 = none)
R_REASSESS_AT_LIMIT = 13 # 1: the time limit is a reassessment (caseworker activity)
R_EMPLOYER_MONTHS = 14   # months of the employer period for the sick from a job (flag 1)
R_RESTART_CONTACT = 15   # 1: entering this state restarts the contact process
R_CLOSED = 16            # 1: the state is abolished: persons are moved by the closure table
R_AKASSE_MONTHS = 17     # contact months in which the a-kasse holds the conversations
R_SPELL_PROFILE = 18     # 1: count this state's persons by month of spell (the sick states)
R_KEEP_ACTIVITY = 19     # 1: persons moved out of this state when it is abolished keep its activity
R_POST_MONTHS = 20       # months after an offer ends with its post-programme effect on exits
R_REENTRY_MONTHS = 21    # months after leaving for a job within which a person may come back
N_RULES = 22             # columns of the rule table

# ---- columns of the probability table probs[regime, state, cell, column] ---------------------
Q_JOBEDU_UPTAKE = 0      # monthly take-up of the job-oriented education right
Q_CERT_SHARE = 1         # share of due medical certificates that are requested
Q_FOLLOWUP_SHARE = 2     # share of due follow-up conversations that are held (discretion)
Q_OFFER_SHARE = 3        # share of due repeat offers that are given (the first is mandatory)
Q_COMPANY_SHARE = 4      # share of offers that are company-based (virksomhedspraktik, løntilskud)
Q_REENTRY = 5            # share of those leaving this state for a job who come back to it
Q_REENTRY_AFTER_OFFER = 6  # ... of those leaving it in an offer's post-programme months
N_PROBS = 7              # columns of the probability table

# ---- purposes of random draws (the last part of the counter-based key, see sim.rng) ----------
P_EXIT = 0               # does the person leave the state this month
P_DEST = 1               # where to, when leaving
P_LIMIT = 2              # where to, at a time limit
P_JOBEDU = 3             # take-up of the job-oriented education right
P_CLOSURE = 4            # where to, when the state is abolished from next month
P_CLOSURE_ENTRY = 5      # where to, when entering an abolished state
P_CERT = 6               # is a due medical certificate requested
P_FOLLOWUP = 7           # is a due follow-up conversation held (discretion)
P_OFFER = 8              # is a due repeat offer given (discretion)
P_RATION_CONV = 9        # is a due conversation held within the budget
P_RATION_OFFER = 10      # is a due offer given within the budget
P_RATION_JOBEDU = 11     # is job-oriented education given within the budget
P_REDIRECT = 12          # where to, when a move leads into an abolished state
P_EXTRA_CONV = 13        # is an extra conversation held (money redeployed, a share above 1)
P_EXTRA_OFFER = 14       # does an extra offer start (money redeployed, a share above 1)
P_OFFER_KIND = 15        # is an offer that may start this month company-based
P_REENTRY = 16           # does a person leaving for a job come back, and when
P_COHORT_CELL = 63       # the cell of a calibration cohort's entrant (the last purpose of N_PURPOSES)

# ---- kinds of rationable activity: ration[month, kind, state, cell] is the share delivered;
# a share above 1 adds activity: in a month with none due, one more with probability share - 1 --
K_CONV = 0               # conversations held by the jobcentre (jobcentre operations)
K_OFFER_GUIDANCE = 1     # offers of guidance and upskilling
K_OFFER_EDUCATION = 2    # offers of ordinary education (other effort)
K_JOBEDU = 3             # job-oriented education (other effort)
K_OFFER_COMPANY = 4      # company-based offers (other effort)
N_KINDS = 5              # rationable kinds

# ---- activity codes: the order of sim.states.ACTIVITIES ---------------------------------------
A_CONV_JOBCENTRE = 0     # a conversation held by the jobcentre
A_CONV_AKASSE = 1        # a conversation held by the a-kasse
A_OFFER_GUIDANCE = 2     # a month in an offer of guidance or upskilling
A_OFFER_EDUCATION = 3    # a month in an offer of ordinary education
A_JOB_EDUCATION = 4      # a month of job-oriented education
A_INFO_FORM = 5          # an information form
A_CERTIFICATE = 6        # a medical certificate
A_REHAB = 7              # a rehabilitation-team meeting (on entering some states)
A_REASSESS = 8           # a reassessment at a time limit
A_REVIEW = 9             # a periodic review
A_LIMIT = 10             # a time limit reached (counted, no cost): e.g. persons reaching week 22
A_CONV_RATIONED = 11     # due but not held for lack of budget (demand, no cost)
A_GUIDANCE_RATIONED = 12 # offer months not given for lack of budget
A_EDUCATION_RATIONED = 13  # education offer months not given for lack of budget
A_JOBEDU_RATIONED = 14   # job-oriented education months not given for lack of budget
A_OFFER_COMPANY = 15     # a month in a company-based offer (virksomhedspraktik, løntilskud)
A_COMPANY_RATIONED = 16  # company-based offer months not given for lack of budget

# ---- offer status: the last axis of the exit-probability table p_exit[..., combo] ------------
STATUS_NONE = 0          # no offer near
STATUS_THREAT = 1        # the month before the first offer (the threat effect)
STATUS_LOCKIN = 2        # in a course offer (guidance, education) or job-oriented education (lock-in)
STATUS_LOCKIN_COMPANY = 3  # in a company-based offer (its own lock-in)
STATUS_POST_COURSE = 4   # the months after a course offer ended (its post-programme effect)
STATUS_POST_COMPANY = 5  # the months after a company-based offer ended
WITH_CONVERSATION = 6    # added to the status in a month with a conversation
N_COMBOS = 12            # offer status x conversation or not

# ---- cost classes: the by-place activity counts' class axis ---------------------------------
# A unit cost depends on who gets the activity: caseworker time on whether the person is furthest
# from the labour market (sim.states.is_furthest), the line-average offers on whether the person
# is under 30 (sim.budget). Class = furthest + 2 x youth.
N_COST_CLASSES = 4       # 0: adult, 1: adult furthest away, 2: under 30, 3: under 30 furthest away

# ---- bits of the activity schedule sched[regime, state, cell, contact month]: what is due ----
B_CONV = 1               # a conversation in the early contact process
B_AKASSE = 2             # ... held by the a-kasse
B_FOLLOWUP = 4           # a follow-up conversation (subject to its delivery share)
B_OFFER_FIRST = 8        # the first mandatory offer starts
B_OFFER_REPEAT = 16      # a repeat offer starts (subject to its delivery share)
B_REVIEW = 32            # a review
B_CERT = 64              # a medical certificate (subject to its share)
B_JOBEDU = 128           # inside the window of the job-oriented education right
B_THREAT = 256           # the month before the first offer
N_SCHEDULE = 240         # contact months covered by the schedule table; later ones computed

# ---- conversation codes of the early schedule conv_sched[regime, state, cell, month] ---------
CONV_NONE = 0            # no conversation due
CONV_JOBCENTRE = 1       # a conversation held by the jobcentre
CONV_AKASSE = 2          # a conversation held by the a-kasse

# ---- counters and profiles -------------------------------------------------------------------
#: months in state, contact month and months in spell stop counting here (they are int16 in the
#: population's arrays; a longer count would change nothing the rules read)
MAX_MONTHS_COUNTED = 32000
#: months of spell distinguished in the spell profile (the last means "this or longer")
N_SPELL_MONTHS = 25

# ---- payer bands (sim.states.BANDS): the refund staircase by month of spell ------------------
BAND_EMPLOYER = 0        # the employer period (the sick from a job, first R_EMPLOYER_MONTHS)
BAND_WEEKS_1_4 = 1       # the first month of the spell (weeks 1-4)
BAND_WEEKS_5_26 = 2      # months 1-5 of the spell (weeks 5-26)
BAND_WEEKS_27_52 = 3     # months 6-11 (weeks 27-52)
BAND_WEEKS_53_PLUS = 4   # month 12 on (week 53 on)
WEEKS_5_26_FROM = 1      # month of spell where band 2 begins
WEEKS_27_52_FROM = 6     # month of spell where band 3 begins
WEEKS_53_PLUS_FROM = 12  # month of spell where band 4 begins

# ---- cells (sim.states.cell_code): the packing both engines and the population use -----------
N_DISTANCES = 3          # distance classes: close, middle, far
FLAG_BIT = 1             # cell & FLAG_BIT: sick from a job (sick states) or insured (others)
FIRST_YOUTH_CELL = cell_code(1, 0, 0, 0)  # cells from this on are under 30 at spell start

# ---- ages drawn for new persons (sim.population_fill.draw_attributes): first age, span -------
AGE_UNDER_18_FROM, AGE_UNDER_18_SPAN = 16, 2    # the under-18 state: 16-17
AGE_YOUTH_FROM, AGE_YOUTH_SPAN = 18, 12         # a youth cell: 18-29
AGE_ADULT_FROM, AGE_ADULT_SPAN = 30, 37         # an adult cell: 30-66

# ---- loop layout of the compiled kernel --------------------------------------------------------
RANGE = 2048             # persons per range of the person-major loop; slice t takes t, t + n, ...
