"""Evaluation designs replicated inside the model: the model's effect beside the study's.

Each row of ``data/replications.csv`` is a randomised study of the employment effort: a cohort of
new spells in one state, a control version of the rules and a treatment version (``parameter=value``
pairs separated by ``;``, a schedule as months separated by spaces), a horizon in months, and
the study's effect with a range. The model simulates the cohort twice on the same draws (common
random numbers), so the difference is the treatment's effect and not Monte Carlo noise. The
effect is the change in weeks on benefit per person over the horizon (negative: off benefit
sooner), the opposite of the weeks in employment the studies report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .parameters import Data, checked_value
from .population import WEIGHT_UNIT, new_spells
from .rules import build_tables
from .simulation import run_engine

#: persons in each replicated cohort (assumption: the Monte Carlo error of a cohort's mean weeks
#: on benefit is then a few hundredths of a week, and common random numbers shrink the difference's)
COHORT = 100_000
#: weeks in a month (the model's months are calendar months)
WEEKS_PER_MONTH = 52.143 / 12
COLUMNS = ["replication", "study", "value", "low", "high", "model", "within", "unit", "source"]


def parse_rules(text: str, data: Data, where: str) -> dict:
    """``"name=value; name=value"`` as checked parameter values (a schedule: months with spaces)."""
    out = {}
    for part in filter(None, (p.strip() for p in str(text).split(";"))):
        name, sep, raw = part.partition("=")
        if not sep:
            raise InputError(f"{where}: '{part}' is not parameter=value")
        name, raw = name.strip(), raw.strip()
        try:
            schedule = data.spec(name).kind == "schedule"
        except KeyError:              # an unknown name: the validator names it, and the nearest
            schedule = False
        try:
            value = [int(x) for x in raw.split()] if schedule else float(raw)
        except ValueError:
            value = raw               # the validator says what is wrong with it
        out[name] = checked_value(Path(where), "rules", name, value, data)
    return out


def cohort_weeks(data: Data, state: str, params: dict, months: int, n: int = COHORT,
                 seed: int = 2024) -> float:
    """Mean weeks on benefit per person of a cohort of ``n`` new spells in ``state`` over
    ``months`` months, under the default parameters with ``params`` changed."""
    tables = build_tables([{**data.params, **params}])
    occ, *_ = run_engine(new_spells(data, state, n, seed), tables, np.zeros(months, np.int32), seed, 0, months)
    return float(occ.sum() / WEIGHT_UNIT / n * WEEKS_PER_MONTH)


def replicate(data: Data, n: int = COHORT) -> pd.DataFrame:
    """Every replication of ``data/replications.csv``: the study's effect and range beside the
    model's (``COLUMNS``)."""
    rows = []
    where = str(data.directory / "replications.csv")
    for r in data.replications.itertuples():
        control = parse_rules(r.control, data, where)
        treatment = parse_rules(r.treatment, data, where)
        effect = (cohort_weeks(data, r.state, treatment, int(r.months), n)
                  - cohort_weeks(data, r.state, control, int(r.months), n))
        rows.append((r.name, r.study, r.value, r.low, r.high, effect, bool(r.low <= effect <= r.high), r.unit,
                     r.source))
    return pd.DataFrame(rows, columns=COLUMNS)
