"""Reporting: the contract's output files (summary, budget, caseload, manifest), charts and Excel.

Charts take most of the time of writing a comparison. ``reformsim run`` and ``compare`` therefore
start chart workers (:func:`sim.workers.start_chart_workers`, a ``ProcessPoolExecutor``) before
they simulate, and hand them the charts and report.xlsx while this process writes the tables.
Called without workers (as from a notebook), the writers do it all themselves. The outputs are
the same either way.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import budget as money
from . import financing
from . import municipalities as places
from .groups import SCHEME_GROUPS, caseload_by_group
from .paths import prepare_out  # noqa: F401  (part of this module's interface)
from .workers import start_chart_workers  # noqa: F401  (part of this module's interface)

PACKAGES = ("reformsim", "numpy", "pandas", "numba", "llvmlite", "scipy", "pyarrow", "matplotlib",
            "pydantic")


def git_commit() -> str | None:
    """The checkout's commit, with '+dirty' when tracked files have uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) or None


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pass
    return out


def caseload_table(results, schemes=("current",)) -> pd.DataFrame:
    """Tidy caseload: month, scenario, scheme, group, persons."""
    frames = []
    for scheme in schemes:
        arr = caseload_by_group(results.occupancy, scheme)
        df = pd.DataFrame(arr, columns=list(SCHEME_GROUPS[scheme]))
        df.insert(0, "month", results.months)
        df = df.melt(id_vars="month", var_name="group", value_name="persons")
        df.insert(1, "scenario", results.scenario.name)
        df.insert(2, "scheme", scheme)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def manifest(results_list, wall_s: float, extra: dict | None = None) -> dict:
    from .scenario import month_label
    first = results_list[0]
    files = {}
    changes = {}
    for r in results_list:
        files.update(r.scenario.file_hashes())
        changes[r.scenario.name] = [{"month": month_label(c.month), "parameter": c.parameter, "value": c.value,
                                     "source": c.source} for c in r.scenario.changes]
    data_dir = first.scenario.data.directory
    data_files = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(data_dir.glob("*.csv"))}
    return {
        "scenarios": [r.scenario.name for r in results_list],
        "scenario_files": files,
        "data_files": data_files,
        "changes": changes,
        "seed": first.seed,
        "engine": first.engine,
        "scale": first.scale,
        "versions": versions(),
        "git_commit": git_commit(),
        "wall_s": wall_s,
        **(extra or {}),
    }


def write_json(path: Path, obj) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=_jsonable))
    tmp.replace(path)


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    raise TypeError(type(x))


@dataclass(frozen=True)
class ChartJob:
    """One chart: a drawing function of :mod:`sim.charts`, its data and the PNG it writes (and the
    SVG beside it). Calling the job draws the chart, in this process or in a chart worker."""

    function: str
    args: tuple
    path: Path
    lang: str = "en"
    options: dict = field(default_factory=dict)

    def __call__(self) -> Path:
        from . import charts
        getattr(charts, self.function)(*self.args, path=self.path, lang=self.lang, **self.options)
        return self.path


def run_chart_jobs(results, budget: pd.DataFrame, caseload: pd.DataFrame, folder: Path,
                   lang: str = "en") -> list[ChartJob]:
    """The charts of ``reformsim run``."""
    y = results.base_year
    return [ChartJob("caseload_chart", (caseload,), folder / "caseload_by_group.png", lang),
            ChartJob("budget_by_line", (budget,), folder / "budget_by_line.png", lang),
            ChartJob("sick_duration", ({results.scenario.name: results.sick_duration_profile(y)}, y),
                     folder / "sick_duration.png", lang)]


def compare_chart_jobs(comp, summary: dict, caseload: pd.DataFrame, folder: Path,
                       lang: str = "en", per_inhabitant: pd.DataFrame | None = None) -> list[ChartJob]:
    """The comparison's charts, each with only the data it draws."""
    full = "2030" if 2030 in comp.years else str(comp.years[-1])     # the reforms' full effect
    jobs = [ChartJob("savings_by_line", (summary,), folder / "savings_by_line.png", lang)]
    if summary["budget.bottom_up_by_provision_bn"]:
        jobs.append(ChartJob("provision_waterfall", (summary, full), folder / "bottom_up_by_provision.png", lang))
    for scheme in dict.fromkeys(("current", comp.reform.scenario.scheme)):
        jobs.append(ChartJob("caseload_compare", (caseload, scheme), folder / f"caseload_{scheme}.png", lang))
    jobs.append(ChartJob("employment_and_finances", (summary,), folder / "employment_public_finances.png", lang))
    if "budget.rationed_by_group_bn" in summary:
        jobs.append(ChartJob("gap_chart", (summary,), folder / "gap.png", lang))
    year = int(full)
    profiles = {comp.baseline.scenario.name: comp.baseline.sick_duration_profile(year),
                comp.reform.scenario.name: comp.reform.sick_duration_profile(year)}
    jobs.append(ChartJob("sick_duration", (profiles, year), folder / "sick_duration.png", lang))
    reform = comp.reform.scenario
    jobs.append(ChartJob("caseload_chart", (caseload[caseload["scenario"] == reform.name],),
                         folder / "caseload_over_time.png", lang, {"scheme": reform.scheme}))
    if per_inhabitant is not None and reform.name != comp.baseline.scenario.name:
        names = (comp.baseline.scenario.name, reform.name)
        jobs.append(ChartJob("per_inhabitant_chart", (per_inhabitant, year, names),
                             folder / "municipalities_per_inhabitant.png", lang, {"few": places.FEW_PERSONS}))
    return jobs


def _hand_out(jobs: list, workers) -> list:
    """Start the jobs (charts, the workbook): give each to the workers (a future each) or,
    without workers, do them here at once (no futures)."""
    if workers is None:
        for job in jobs:
            job()
        return []
    futures = []
    for job in jobs:
        try:
            futures.append(workers.submit(job))
        except (RuntimeError, OSError, EOFError):      # the pool is broken or shut down
            futures.append(None)
    return futures


def _collect(jobs: list, futures: list, workers) -> None:
    """Wait for the workers' jobs. An error in a job is raised here, as it would be in this
    process, once the other jobs are done (a bad chart does not cost the workbook). The jobs of
    a worker that died (killed, out of memory) are done here instead, once every worker has
    stopped."""
    from concurrent.futures.process import BrokenProcessPool
    failed = error = None
    for job, future in zip(jobs, futures):
        try:
            if future is None:
                raise BrokenProcessPool("the chart workers could not take the job")
            future.result()
        except BrokenProcessPool as exc:
            if failed is None:
                failed = exc
                workers.shutdown(wait=True, cancel_futures=True)
                sys.stderr.write(f"reformsim: chart workers failed ({exc}); drawing the rest of the "
                                 f"charts in the main process\n")
            job()
        except Exception as exc:                        # noqa: BLE001  (raised below)
            error = error or exc
    if error is not None:
        raise error


def write_run(results, out: Path, wall_s: float, lang: str = "en", workers=None) -> dict:
    """Write the outputs of ``reformsim run``: summary, budget, caseload, calibration, charts.

    ``workers`` (from :func:`start_chart_workers`) draw the charts meanwhile; without them, this
    process draws them."""
    from .calibration import report as calibration_report
    from .summary import baseline_summary
    data = results.scenario.data
    budget = money.budget_table(results, data)
    caseload = caseload_table(results)
    (out / "charts").mkdir(parents=True, exist_ok=True)
    jobs = run_chart_jobs(results, budget, caseload, out / "charts", lang)
    drawing = _hand_out(jobs, workers)
    summary = baseline_summary(results, budget)
    write_json(out / "summary.json", summary)
    budget.to_csv(out / "budget.csv", index=False)
    places.run_table(results, budget).to_csv(out / "municipalities.csv", index=False)
    caseload.to_parquet(out / "caseload.parquet", index=False)
    places.caseload_table(results).to_parquet(out / "caseload_municipalities.parquet", index=False)
    results.flows_table().to_parquet(out / "flows.parquet", index=False)
    calibration_report(results, data, summary).to_csv(out / "calibration.csv", index=False)
    write_json(out / "manifest.json", manifest([results], wall_s))
    _collect(jobs, drawing, workers)
    return summary


def write_compare(comp, out: Path, wall_s: float, lang: str = "en", workers=None) -> dict:
    """Write the outputs of ``reformsim compare``: summary, budget, caseload, charts, Excel.

    ``workers`` (from :func:`start_chart_workers`) draw the charts and write report.xlsx
    meanwhile; without them, this process does."""
    from .calibration import report as calibration_report
    from .summary import comparison_summary
    summary = comparison_summary(comp)
    schemes = tuple(dict.fromkeys(("current", comp.reform.scenario.scheme)))
    frames = [caseload_table(comp.baseline, schemes)]
    if comp.reform.scenario.name != comp.baseline.scenario.name:
        frames.append(caseload_table(comp.reform, schemes))
    caseload = pd.concat(frames, ignore_index=True)
    by_place = places.comparison_table(comp)
    per_inhabitant = places.per_inhabitant(comp, by_place)
    fin = financing.financing_tables(comp, by_place)
    if fin is not None:
        summary.update(financing.summary_keys(comp, fin))
    (out / "charts").mkdir(parents=True, exist_ok=True)
    jobs = compare_chart_jobs(comp, summary, caseload, out / "charts", lang, per_inhabitant)
    if fin is not None:
        jobs.append(ChartJob("financing_chart", (fin, summary), out / "charts" / "financing.png", lang))
    drawing = _hand_out(jobs, workers)
    # the workbook is written by a worker too (openpyxl is loaded there already)
    calibration = calibration_report(comp.baseline, comp.baseline.scenario.data, summary)
    sheets = excel_sheets(summary, comp.budget, caseload, [comp.baseline.scenario, comp.reform.scenario],
                          calibration, per_inhabitant, fin)
    jobs.append(ExcelJob(sheets, out / "report.xlsx"))
    drawing += _hand_out(jobs[-1:], workers)
    write_json(out / "summary.json", summary)
    comp.budget.to_csv(out / "budget.csv", index=False)
    by_place.to_csv(out / "municipalities.csv", index=False)
    per_inhabitant.to_csv(out / "municipalities_per_inhabitant.csv", index=False)
    if fin is not None:
        fin.to_csv(out / "financing.csv", index=False)
    caseload.to_parquet(out / "caseload.parquet", index=False)
    runs = [comp.baseline] + ([comp.reform] if comp.reform.scenario.name != comp.baseline.scenario.name else [])
    pd.concat([places.caseload_table(r, schemes) for r in runs], ignore_index=True).to_parquet(
        out / "caseload_municipalities.parquet", index=False)
    flows = pd.concat([comp.baseline.flows_table().assign(scenario=comp.baseline.scenario.name),
                       comp.reform.flows_table().assign(scenario=comp.reform.scenario.name)])
    flows.to_parquet(out / "flows.parquet", index=False)
    calibration.to_csv(out / "calibration.csv", index=False)
    write_json(out / "manifest.json", manifest([comp.baseline, comp.reform], wall_s,
                                               {"provisions": summary["reform.provisions"]}))
    _collect(jobs, drawing, workers)
    return summary


def flat_summary(summary: dict) -> pd.DataFrame:
    """Summary as rows: key, year (or line/provision), value."""
    rows = []
    for key, value in summary.items():
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, dict):
                    rows += [(key, f"{k} {y}", x) for y, x in v.items()]
                else:
                    rows.append((key, k, v))
        elif isinstance(value, (int, float)):
            rows.append((key, "", value))
    return pd.DataFrame(rows, columns=["key", "item", "value"])


def assumptions_table(scenarios) -> pd.DataFrame:
    """Every parameter in force: the defaults of data/ and each scenario's dated changes."""
    from .scenario import month_label
    data = scenarios[0].data
    rows = [("default", k, str(v), "", data.units[k], data.sources[k]) for k, v in data.params.items()]
    seen = set()
    for sc in scenarios:
        for ch in sc.changes:
            key = (sc.name, ch.month, ch.parameter)
            if key in seen:
                continue
            seen.add(key)
            unit = data.units.get(ch.parameter, "")
            rows.append((sc.name, ch.parameter, str(ch.value), f"{month_label(ch.month)} ({ch.provision})",
                         unit, ch.source))
    return pd.DataFrame(rows, columns=["scenario", "parameter", "value", "from month (provision)", "unit",
                                       "source"])


#: Excel number formats by column header
EXCEL_FORMATS = {"dkk": "#,##0", "persons (average over the year)": "#,##0", "bn_dkk": "0.000",
                 "deviation": "0.000", "effort_change_dkk": "#,##0", "municipal_spending_change_dkk": "#,##0",
                 "effort_change_per_inhabitant_dkk": "#,##0.0", "spending_change_per_inhabitant_dkk": "#,##0.0",
                 "population": "#,##0", "spending_dkk": "#,##0", "rise_dkk": "#,##0", "effort_rise_dkk": "#,##0",
                 "compensation_dkk": "#,##0", "financing_dkk": "#,##0", "gap_dkk": "#,##0",
                 "activity_cut_dkk": "#,##0", "state_transfers_rise_dkk": "#,##0",
                 "gap_per_inhabitant_dkk": "#,##0.0"}


def excel_sheets(summary: dict, budget: pd.DataFrame, caseload: pd.DataFrame, scenarios,
                 calibration: pd.DataFrame | None = None,
                 per_inhabitant: pd.DataFrame | None = None,
                 fin: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The sheets of report.xlsx as tables: summary, budget, caseload (yearly averages),
    assumptions, calibration and the reform's effect on each municipality."""
    yearly = caseload.assign(year=caseload["month"].str[:4].astype(int)).groupby(
        ["year", "scenario", "scheme", "group"], as_index=False)["persons"].mean()
    return {
        "summary": flat_summary(summary),
        "budget": budget.assign(bn_dkk=budget["dkk"] / money.DKK_PER_BN),
        "caseload": yearly.rename(columns={"persons": "persons (average over the year)"}),
        "assumptions": assumptions_table(scenarios),
        "calibration": calibration if calibration is not None else pd.DataFrame(),
        "municipalities": per_inhabitant if per_inhabitant is not None else pd.DataFrame(),
        **({"financing": fin} if fin is not None else {}),
    }


@dataclass(frozen=True)
class ExcelJob:
    """report.xlsx from its sheets; like a :class:`ChartJob`, written here or by a chart worker."""

    sheets: dict
    path: Path

    def __call__(self) -> Path:
        write_sheets(self.path, self.sheets)
        return self.path


def write_sheets(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """An Excel workbook with a sheet per table: a bold header row that stays in view, columns
    as wide as their first 200 cells (10 to 60), amounts with thousands separators. Rows go
    straight into openpyxl (no pandas Excel layer)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for sheet, frame in sheets.items():
        ws = book.create_sheet(sheet)
        ws.freeze_panes = "A2"
        headers = [str(h) for h in frame.columns]
        if not headers:
            continue
        columns = [[_excel_value(v) for v in frame[h].tolist()] for h in frame.columns]
        ws.append(headers)
        for values in zip(*columns):
            ws.append(values)
        for j, (header, values, cells) in enumerate(zip(headers, columns, ws.iter_cols()), start=1):
            cells[0].font = bold
            width = max([len(header)] + [len(str(v)) for v in values[:199] if v is not None])
            ws.column_dimensions[get_column_letter(j)].width = min(max(10, width + 2), 60)
            if header in EXCEL_FORMATS:
                for cell in cells[1:]:
                    cell.number_format = EXCEL_FORMATS[header]
    book.save(path)


def _excel_value(v):
    """A table value as Excel takes it: missing values as empty cells, infinities as text."""
    if isinstance(v, float):
        if v != v:
            return None
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
    elif v is pd.NA or v is pd.NaT or v is None:
        return None
    elif isinstance(v, np.generic):
        return v.item()
    return v
