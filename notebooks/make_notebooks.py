"""Writes the notebooks in this folder from the cells below (run: python notebooks/make_notebooks.py).

Keeping the source here makes the notebooks reviewable as plain Python; they are committed
without outputs. ``make test`` executes every notebook top to bottom at a small scale
(``REFORMSIM_SCALE``).
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SETUP = '''import os
import pandas as pd
import matplotlib.pyplot as plt
import sim
# a 10 % sample by default; the test suite runs the notebooks at 1 %
SCALE = float(os.environ.get("REFORMSIM_SCALE", "0.1"))
pd.set_option("display.width", 120)'''

NOTEBOOKS = {
    "01_quick_start.ipynb": [
        new_markdown_cell("# Quick start: today's law against the expert group's reform\n\n"
                          "Both runs see the same population and the same random numbers (common random "
                          "numbers), so every difference is the reform's effect. Savings are positive when "
                          "the reform spends less; deltas are reform minus baseline."),
        new_code_cell(SETUP),
        new_code_cell('for name, desc in sim.list_scenarios():\n    print(f"{name:16s} {desc}")'),
        new_code_cell('comp = sim.compare("baseline", "expert_group", scale=SCALE, breakdown=False)\n'
                      's = sim.compare_summary(comp)\n'
                      'table = pd.DataFrame({\n'
                      '    "savings, bn DKK": s["budget.savings_bn"],\n'
                      '    "bottom-up, bn DKK": s["budget.bottom_up_process_savings_bn"],\n'
                      '    "employment, persons": s["employment.fulltime_persons_delta"],\n'
                      '    "public finances, bn DKK": s["public_finances.net_effect_bn"],\n'
                      '})\ntable.round(2)'),
        new_code_cell('pd.DataFrame(s["budget.savings_by_line_bn"]).round(3)'),
        new_code_cell('ax = pd.DataFrame(s["budget.savings_by_line_bn"]).plot(kind="bar", stacked=True, figsize=(9, 4))\n'
                      'ax.set_title("Savings by budget line, expert group against today\'s law")\n'
                      'ax.set_ylabel("bn DKK per year (positive = saving)")\nax.set_xlabel("year")\nplt.show()'),
        new_code_cell('from sim.report import caseload_table\n'
                      'cl = caseload_table(comp.reform, ("current", "expert_group"))\n'
                      'cl[cl["month"] == "2030-06"].pivot_table(index="group", columns="scheme", values="persons").round(0)'),
    ],
    "02_design_your_reform.ipynb": [
        new_markdown_cell("# Designing your own reform\n\nA reform is a small diff over a baseline: "
                          "dated new values for named parameters, each with its source. Rules may apply to "
                          "part of a state's persons with a selector, e.g. `rules.dagpenge@far.contact_months`."),
        new_code_cell(SETUP),
        new_code_cell('base = sim.load_scenario("baseline")\n'
                      'rules = {k: v for k, v in base.data.params.items() if k.startswith("rules.dagpenge.")}\n'
                      'pd.DataFrame({"value": rules, "unit": {k: base.data.units[k] for k in rules}})'),
        new_code_cell('reform = base.with_changes({"rules.dagpenge.akasse_months": 6}, start="2026-01",\n'
                      '                           source="Djøf (000): a-kasse contact for 6 months", provision="akasse_6m",\n'
                      '                           name="my_reform")\n'
                      'reform = reform.with_changes({"rules.sick.followup_every_months": 2}, start="2027-01",\n'
                      '                             source="my assumption", provision="sick_followup_2m", name="my_reform")\n'
                      'reform.provisions'),
        new_code_cell('comp = sim.compare(base, reform, scale=SCALE)\ns = sim.compare_summary(comp)\n'
                      'pd.DataFrame(s["budget.bottom_up_by_provision_bn"]).round(3)'),
        new_code_cell('# bad input gets a clear message\ntry:\n'
                      '    base.with_changes({"rules.dagpenge.akase_months": 6})\n'
                      'except sim.InputError as err:\n    print(err)'),
    ],
    "03_sweeps_and_uncertainty.ipynb": [
        new_markdown_cell("# Sweeps and uncertainty\n\nVary what we are unsure of (behaviour effects, how "
                          "much discretionary activity jobcentres keep) and get bands around every figure. "
                          "Each run is one comparison with common random numbers; the spread across draws "
                          "is parameter uncertainty, the spread across seeds within a draw is Monte Carlo "
                          "error. `workers=0` runs in this process; `workers=2` starts a local Dask cluster."),
        new_code_cell(SETUP + '\nimport tempfile\nfrom pathlib import Path\nfrom sim.sweep import run_sweep, bands'),
        new_code_cell('spec = {\n'
                      '    "description": "expert group: meeting-effect uncertainty",\n'
                      '    "baseline": "baseline", "reform": "expert_group",\n'
                      '    "scale": SCALE / 2, "seeds": [1, 2], "n_draws": 2, "draw_seed": 7,\n'
                      '    "draw": [{"parameter": "behaviour.meeting_effect", "distribution": "uniform",\n'
                      '              "low": 0.05, "high": 0.15, "source": "assumption: +/- half the central 0.10"}],\n'
                      '}\n'
                      'out = Path(tempfile.mkdtemp()) / "sweep"\n'
                      'runs = run_sweep(spec, out, workers=0, progress=False)\n'
                      'runs.head()'),
        new_code_cell('b = bands(runs)\nb[b["year"] == 2030].round(3)'),
        new_code_cell('# a second call with the same folder computes nothing new\n'
                      'again = run_sweep(spec, out, workers=0, progress=False)\nlen(again) == len(runs)'),
    ],
    "04_consultation_charts.ipynb": [
        new_markdown_cell("# Charts and tables for a consultation response (høringssvar)\n\n"
                          "Danish labels and number format with `lang='da'`; every chart is saved as PNG and "
                          "SVG; `report.xlsx` holds summary, budget, caseload, assumptions and calibration."),
        new_code_cell(SETUP + '\nfrom pathlib import Path\nimport tempfile\nfrom IPython.display import Image, display'),
        new_code_cell('comp = sim.compare("baseline", "expert_group", scale=SCALE)\n'
                      'out = Path(tempfile.mkdtemp()) / "hoeringssvar"\n'
                      'from sim.report import prepare_out, write_compare\n'
                      's = write_compare(comp, prepare_out(out), 0.0, lang="da")\n'
                      'sorted(p.name for p in (out / "charts").glob("*.png"))'),
        new_code_cell('for name in ("savings_by_line.png", "gap.png", "bottom_up_by_provision.png"):\n'
                      '    display(Image(filename=str(out / "charts" / name), width=700))'),
        new_code_cell('pd.ExcelFile(out / "report.xlsx").sheet_names'),
    ],
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
        nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    main()
