"""The page's levers: form fields turned into the scenario files that reproduce a run.

A run from the page is a comparison of two scenario files the page writes (:func:`file_names`):
the chosen baseline with the world levers (the behaviour effects hold in both scenarios), and
the chosen reform with the world levers and the reform levers (saving and phase-in, rationing
priority, delivery shares, the week of the reduced sickness benefit). They are ordinary scenario
diffs, loaded and validated by :func:`sim.scenario.load_scenario` as any file: ``reformsim
compare <baseline>_page.toml <reform>_page.toml`` gives the same run from the command line.
Each lever's value is checked by :func:`sim.parameters.checked_value`, so a bad value gets the
same one-line message as in a file, shown next to its field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..comparison import reform_start
from ..errors import InputError
from ..parameters import checked_value
from ..scenario import PRIORITIES, SAVING_LINES, Scenario, load_scenario, month_label

#: the source written on every change the page makes
SOURCE = "reformsim page: a lever set by the user"
#: the provision of the page's changes in the per-provision breakdown
PROVISION = "page_levers"


@dataclass(frozen=True)
class Lever:
    """A form field that sets one parameter."""

    field: str          # the form field's name
    parameter: str      # the parameter it sets (data/parameters.csv)
    label: str          # what the page calls it
    world: bool         # True: both scenarios (behaviour); False: the reform only


#: the parameter levers, in the order the page shows them
LEVERS = (
    Lever("followup_share", "rules.general.followup_delivery_share",
          "share of discretionary follow-up conversations held", False),
    Lever("repeat_offer_share", "rules.general.repeat_offer_delivery_share",
          "share of discretionary repeat offers given", False),
    Lever("reduced_benefit_week", "rules.sick.reassessment_week",
          "week of the reassessment (the reduced sickness benefit in the expert group's reform)", False),
    Lever("meeting_effect", "behaviour.meeting_effect", "meeting effect on the monthly exit hazard", True),
    Lever("threat_effect", "behaviour.threat_effect", "threat effect before a mandatory offer", True),
    Lever("lockin_effect", "behaviour.lockin_effect", "lock-in effect during an offer", True),
)
#: sample sizes the page offers (share of the population simulated)
SCALES = (0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
LANGS = ("en", "da")


@dataclass
class Choice:
    """What the user chose on the page, as text from the form."""

    baseline: str
    reform: str                       # a shipped name, or "upload"
    values: dict                      # field -> text (blank: as the scenario)
    scale: float = 0.1
    lang: str = "en"
    breakdown: bool = True
    seed: int = 1


def _number(text: str):
    try:
        value = float(text)
    except ValueError:
        return text                   # checked_value says what is wrong with it
    return int(value) if value.is_integer() and "." not in text else value


def _toml(value) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def _change(parameter: str, value, start: str | None) -> str:
    lines = ["[[change]]", f"provision = {_toml(PROVISION)}", f"parameter = {_toml(parameter)}",
             f"value = {_toml(value)}"]
    if start:
        lines.append(f"start = {_toml(start)}")
    lines.append(f"source = {_toml(SOURCE)}")
    return "\n".join(lines)


def saving_steps(reform: Scenario, full_bn: float, first: int, last: int) -> list[dict]:
    """[[saving]] steps rising linearly from ``full_bn / years`` in ``first`` to ``full_bn`` in
    ``last`` (bn a year on the effort lines), split over the lines as the reform's final step
    (the expert group's 1.2 / 1.0 / 0.6 where the reform has none)."""
    split = reform.savings[-1][1] if reform.savings else {"jobcentre_operations": 1.2,
                                                          "guidance_upskilling": 1.0, "other_effort": 0.6}
    total = sum(split.values()) or 1.0
    years = list(range(first, last + 1))
    steps = []
    for k, year in enumerate(years):
        level = full_bn * (k + 1) / len(years)
        steps.append({"start": f"{year}-01", **{ln: round(level * split[ln] / total, 6) for ln in SAVING_LINES}})
    return steps


#: the file an uploaded reform is kept under, beside the page's two files
UPLOAD = "upload.toml"


def file_names(choice: Choice) -> tuple[str, str]:
    """The names of the run's two scenario files: ``<baseline>_page.toml`` and
    ``<reform>_page.toml`` (a scenario's name is its file's), apart where both are one scenario."""
    reform = "upload" if choice.reform == "upload" else choice.reform
    base_file, reform_file = f"{choice.baseline}_page.toml", f"{reform}_page.toml"
    if reform_file == base_file:
        reform_file = f"{reform}_page_reform.toml"
    return base_file, reform_file


def write_files(choice: Choice, folder: Path, data, upload: bytes | None = None) -> dict[str, str]:
    """Write the run's two scenario files (:func:`file_names`; and the uploaded reform as
    ``upload.toml``) into ``folder`` and check them by loading them. Returns the messages of
    what is wrong, by form field ("" for the form as a whole); empty when both files load."""
    where = Path("<page>")
    try:
        load_scenario(choice.baseline, data)
    except InputError as exc:
        return {"baseline": str(exc)}
    errors: dict[str, str] = {}
    world, own = [], []
    for lever in LEVERS:
        text = str(choice.values.get(lever.field, "")).strip()
        if not text:
            continue
        try:
            value = checked_value(where, lever.field, lever.parameter, _number(text), data)
        except InputError as exc:
            errors[lever.field] = str(exc)
            continue
        (world if lever.world else own).append((lever.parameter, value))
    if errors:
        return errors
    if choice.reform == "upload":
        if not upload:
            return {"upload": "no reform file uploaded: choose a TOML scenario file"}
        (folder / UPLOAD).write_bytes(upload)
        parent_name, parent_field = UPLOAD, "upload"
    else:
        parent_name, parent_field = choice.reform, "reform"
    head = [f"description = {_toml(f'{choice.baseline} with the page levers that hold in both scenarios')}",
            f"baseline = {_toml(choice.baseline)}"]
    base_text = "\n\n".join(head + [_change(p, v, None) for p, v in world]) + "\n"
    base_file, reform_file = file_names(choice)
    (folder / base_file).write_text(base_text)
    head = [f"description = {_toml(f'{choice.reform} with the levers set on the reformsim page')}",
            f"baseline = {_toml(parent_name)}"]
    reform_text = "\n\n".join(head + [_change(p, v, None) for p, v in world]) + "\n"
    (folder / reform_file).write_text(reform_text)
    try:
        base = load_scenario(folder / base_file, data)
    except InputError as exc:
        return {"": str(exc)}
    try:
        parent = load_scenario(folder / reform_file, data)
    except InputError as exc:
        return {parent_field: str(exc)}
    # the reform levers from the reform's own first month, its effort settings kept
    first = reform_start(base, parent)
    start = month_label(parent.start + first) if first is not None else None
    blocks = [_change(p, v, start) for p, v in own] + _effort(choice, parent, errors)
    if errors:
        return errors
    (folder / reform_file).write_text(reform_text + "".join("\n" + b + "\n" for b in blocks))
    try:
        load_scenario(folder / reform_file, data)
    except InputError as exc:
        msg = str(exc)
        return {"saving_bn" if "saving" in msg else ("priority" if "priority" in msg else ""): msg}
    return {}


def _effort(choice: Choice, parent: Scenario, errors: dict) -> list[str]:
    """The [effort] and [[saving]] blocks of the saving and priority levers (none if unset)."""
    v = {k: str(choice.values.get(k, "")).strip() for k in ("saving_bn", "phase_from", "phase_to", "priority")}
    blocks = []
    steps = None
    if v["saving_bn"]:
        try:
            full = float(v["saving_bn"])
            first = int(v["phase_from"] or (month_label(parent.savings[0][0])[:4] if parent.savings else "2026"))
            last = int(v["phase_to"] or first)
        except ValueError:
            errors["saving_bn"] = "saving and phase-in: a number of bn DKK a year and two years, e.g. 2.8, 2026, 2030"
            return []
        if not 0 <= full <= 11.4:
            errors["saving_bn"] = f"saving_bn = {full:g}: allowed 0 to 11.4 bn DKK a year (the whole effort)"
            return []
        if last < first:
            errors["phase_to"] = f"phase_to = {last}: before phase_from = {first}"
            return []
        steps = saving_steps(parent, full, first, last)
    if v["priority"] and v["priority"] not in PRIORITIES:
        errors["priority"] = f"priority '{v['priority']}': allowed {', '.join(PRIORITIES)}"
        return []
    if steps is None and not v["priority"]:
        return []
    mode = "budget_constrained" if steps or parent.effort_mode == "budget_constrained" else parent.effort_mode
    effort = ["[effort]", f"mode = {_toml(mode)}", f"priority = {_toml(v['priority'] or parent.priority)}",
              f"budget = {_toml(parent.budget_basis)}"]
    blocks.append("\n".join(effort))
    if parent.youth_cut is not None:
        provision, lines, source = parent.youth_cut
        yc = ["[effort.youth_cut]", f"provision = {_toml(provision)}"]
        yc += [f"{ln} = {lines[ln]!r}" for ln in SAVING_LINES] + [f"source = {_toml(source)}"]
        blocks.append("\n".join(yc))
    for step in steps or []:
        lines = ["[[saving]]", f"start = {_toml(step['start'])}"]
        lines += [f"{ln} = {step[ln]!r}" for ln in SAVING_LINES] + [f"source = {_toml(SOURCE)}"]
        blocks.append("\n".join(lines))
    return blocks
