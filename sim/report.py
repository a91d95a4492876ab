"""Reporting: the contract's output files (summary, budget, caseload, manifest) and charts."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import budget as money
from .calibration import report as calibration_report
from .errors import InputError
from .groups import SCHEME_GROUPS, caseload_by_group
from .scenario import month_label

PACKAGES = ("reformsim", "numpy", "pandas", "numba", "llvmlite", "scipy", "pyarrow", "matplotlib",
            "pydantic")


def prepare_out(out: str | Path) -> Path:
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "charts").mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the output directory ({exc.strerror})") from None
    return out


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


def baseline_summary(results, budget: pd.DataFrame) -> dict:
    """The contract's baseline keys (base-year numbers) and per-year companions."""
    data = results.scenario.data
    y = results.base_year
    persons = results.sick_persons_per_year()
    reach = results.sick_reaching_week22_per_year()
    to_jc = results.sick_to_job_clarification_per_year()
    effort = {int(yr): money.effort_total_bn(budget, int(yr)) for yr in sorted(budget["year"].unique())}
    transfers = (budget[budget["line"].str.startswith("transfers:")].groupby("year")["dkk"].sum() / 1e9)
    return {
        "sick.persons_per_year": persons[y],
        "sick.reaching_week22_per_year": reach[y],
        "sick.to_job_clarification_per_year": to_jc[y],
        "budget.effort_baseline_bn": effort[y],
        "sick.persons_by_year": {str(k): v for k, v in persons.items()},
        "sick.reaching_week22_by_year": {str(k): v for k, v in reach.items()},
        "sick.to_job_clarification_by_year": {str(k): v for k, v in to_jc.items()},
        "sick.stock_fulltime": money.fulltime_sick_stock(results, data),
        "budget.effort_bn": {str(k): v for k, v in effort.items()},
        "budget.transfers_bn": {str(int(k)): float(v) for k, v in transfers.items()},
        "base_year": y,
    }


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
    first = results_list[0]
    files = {}
    changes = {}
    for r in results_list:
        files.update(r.scenario.file_hashes())
        changes[r.scenario.name] = [{"month": month_label(m), "parameter": p, "value": v, "source": s}
                                    for m, p, v, s in r.scenario.changes]
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


def write_run(results, out: Path, wall_s: float, lang: str = "en") -> dict:
    """Write the outputs of ``reformsim run``: summary, budget, caseload, calibration, charts."""
    data = results.scenario.data
    budget = money.budget_table(results, data)
    summary = baseline_summary(results, budget)
    write_json(out / "summary.json", summary)
    budget.to_csv(out / "budget.csv", index=False)
    caseload = caseload_table(results)
    caseload.to_parquet(out / "caseload.parquet", index=False)
    results.flows_table().to_parquet(out / "flows.parquet", index=False)
    calibration_report(results, data, summary).to_csv(out / "calibration.csv", index=False)
    from .charts import budget_by_line, caseload_chart, sick_duration
    caseload_chart(caseload, out / "charts" / "caseload_by_group.png", lang=lang)
    budget_by_line(budget, out / "charts" / "budget_by_line.png", lang=lang)
    sick_duration({results.scenario.name: results.sick_duration_profile(results.base_year)},
                  results.base_year, out / "charts" / "sick_duration.png", lang)
    write_json(out / "manifest.json", manifest([results], wall_s))
    return summary


def write_compare(comp, out: Path, wall_s: float, lang: str = "en") -> dict:
    """Write the outputs of ``reformsim compare``: summary, budget, caseload, charts, Excel."""
    from .compare import summary as compare_summary
    summary = compare_summary(comp)
    write_json(out / "summary.json", summary)
    comp.budget.to_csv(out / "budget.csv", index=False)
    schemes = tuple(dict.fromkeys(("current", comp.reform.scenario.scheme)))
    frames = [caseload_table(comp.baseline, schemes)]
    if comp.reform.scenario.name != comp.baseline.scenario.name:
        frames.append(caseload_table(comp.reform, schemes))
    caseload = pd.concat(frames, ignore_index=True)
    caseload.to_parquet(out / "caseload.parquet", index=False)
    flows = pd.concat([comp.baseline.flows_table().assign(scenario=comp.baseline.scenario.name),
                       comp.reform.flows_table().assign(scenario=comp.reform.scenario.name)])
    flows.to_parquet(out / "flows.parquet", index=False)
    from . import charts
    charts.compare_charts(comp, summary, caseload, out / "charts", lang)
    calibration = calibration_report(comp.baseline, comp.baseline.scenario.data, summary)
    calibration.to_csv(out / "calibration.csv", index=False)
    write_excel(out / "report.xlsx", summary, comp.budget, caseload,
                [comp.baseline.scenario, comp.reform.scenario], calibration)
    write_json(out / "manifest.json", manifest([comp.baseline, comp.reform], wall_s,
                                               {"provisions": [p for p, _ in comp.steps]}))
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
    data = scenarios[0].data
    rows = [("default", k, str(v), "", data.units[k], data.sources[k]) for k, v in data.params.items()]
    seen = set()
    for sc in scenarios:
        for (month, param, value, source), prov in zip(sc.changes, sc.provision_of_change):
            key = (sc.name, month, param)
            if key in seen:
                continue
            seen.add(key)
            unit = data.units.get(param, "")
            rows.append((sc.name, param, str(value), f"{2000 + month // 12}-{month % 12 + 1:02d} ({prov})",
                         unit, source))
    return pd.DataFrame(rows, columns=["scenario", "parameter", "value", "from month (provision)", "unit",
                                       "source"])


def write_excel(path: Path, summary: dict, budget: pd.DataFrame, caseload: pd.DataFrame, scenarios,
                calibration: pd.DataFrame | None = None) -> None:
    """report.xlsx with the sheets summary, budget, caseload, assumptions and calibration."""
    from openpyxl.styles import Font
    yearly = caseload.assign(year=caseload["month"].str[:4].astype(int)).groupby(
        ["year", "scenario", "scheme", "group"], as_index=False)["persons"].mean()
    sheets = {
        "summary": flat_summary(summary),
        "budget": budget.assign(bn_dkk=budget["dkk"] / 1e9),
        "caseload": yearly.rename(columns={"persons": "persons (average over the year)"}),
        "assumptions": assumptions_table(scenarios),
        "calibration": calibration if calibration is not None else pd.DataFrame(),
    }
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name_, frame in sheets.items():
            frame.to_excel(xl, sheet_name=name_, index=False)
        for ws in xl.book.worksheets:
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True)
            for col in ws.columns:
                header = str(col[0].value or "")
                width = max(len(str(c.value)) if c.value is not None else 0 for c in col[:200])
                ws.column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 60)
                fmt = ("#,##0" if header in ("dkk", "persons (average over the year)")
                       else "0.000" if header in ("bn_dkk", "deviation") else None)
                if fmt:
                    for c in col[1:]:
                        c.number_format = fmt
