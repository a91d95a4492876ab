"""Reports: charts in both languages with titles, labels and legends; the Excel report's sheets."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import charts
from sim.comparison import compare
from sim.report import prepare_out, write_compare


@pytest.fixture(scope="module")
def comp(data):
    return compare("baseline", "expert_group", seed=2, scale=0.01, data=data)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_compare_writes_charts_and_excel(tmp_path, comp, lang, monkeypatch):
    seen = []
    original = charts._save

    def spy(fig, path):
        for ax in fig.axes:
            if ax.has_data():
                seen.append((path.name, ax.get_title(), ax.get_xlabel() or ax.get_ylabel(),
                             ax.get_legend() is not None))
        original(fig, path)
    monkeypatch.setattr(charts, "_save", spy)
    write_compare(comp, prepare_out(tmp_path), 0.0, lang=lang)
    pngs = list((tmp_path / "charts").glob("*.png"))
    assert len(pngs) >= 5
    assert len(list((tmp_path / "charts").glob("*.svg"))) == len(pngs)
    for name, title, axis_label, _ in seen:
        assert title and axis_label, name
    assert sum(has_legend for *_, has_legend in seen) >= 5
    assert pd.ExcelFile(tmp_path / "report.xlsx").sheet_names == ["summary", "budget", "caseload",
                                                                   "assumptions", "calibration",
                                                                   "municipalities"]
    if lang == "da":
        assert any("mia. kr." in axis for _, _, axis, _ in seen)


def test_danish_numbers():
    assert charts.number(1234.5, "da") == "1.234,5"
    assert charts.number(1234.5, "en") == "1,234.5"
    with pytest.raises(ValueError):
        charts.label("bn_year", "de")


def test_assumptions_sheet_lists_reform_changes(tmp_path, comp):
    write_compare(comp, prepare_out(tmp_path), 0.0)
    a = pd.read_excel(tmp_path / "report.xlsx", sheet_name="assumptions")
    assert (a["scenario"] == "default").sum() > 100
    reform = a[a["scenario"] == "expert_group"]
    assert "rules.resource_course.closed" in set(reform["parameter"])
    assert reform["source"].str.len().min() > 3


def test_chart_workers_draw_the_same_charts(tmp_path, comp):
    """Charts drawn by worker processes are byte for byte those drawn in this process (PNG), and
    an error inside a chart reaches the caller."""
    from sim.report import ChartJob, start_chart_workers
    workers = start_chart_workers(2)
    if workers is None:
        pytest.skip("no fork server on this platform")
    try:
        write_compare(comp, prepare_out(tmp_path / "workers"), 0.0, workers=workers)
        with pytest.raises(KeyError, match="budget.savings_by_line_bn"):
            bad = ChartJob("savings_by_line", ({},), tmp_path / "bad.png")
            workers.submit(bad).result()
    finally:
        workers.shutdown(cancel_futures=True)
    write_compare(comp, prepare_out(tmp_path / "here"), 0.0)
    pngs = sorted(p.name for p in (tmp_path / "here" / "charts").glob("*.png"))
    assert pngs == sorted(p.name for p in (tmp_path / "workers" / "charts").glob("*.png"))
    assert len(list((tmp_path / "workers" / "charts").glob("*.svg"))) == len(pngs)
    for name in pngs:
        assert ((tmp_path / "here" / "charts" / name).read_bytes()
                == (tmp_path / "workers" / "charts" / name).read_bytes()), name


def test_excel_layout(tmp_path, comp):
    from openpyxl import load_workbook
    write_compare(comp, prepare_out(tmp_path), 0.0)
    book = load_workbook(tmp_path / "report.xlsx")
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.b for c in ws[1])
        assert all(10 <= d.width <= 60 for d in ws.column_dimensions.values())
    budget = book["budget"]
    header = [c.value for c in budget[1]]
    assert header == ["year", "scenario", "line", "payer", "dkk", "bn_dkk"]
    row = budget[2]
    assert row[4].number_format == "#,##0" and row[5].number_format == "0.000"
    assert row[0].value == 2025 and row[4].value > 0
    frame = pd.read_excel(tmp_path / "report.xlsx", sheet_name="budget")
    assert len(frame) == len(comp.budget)
    assert frame["dkk"].sum() == pytest.approx(comp.budget["dkk"].sum())


def test_tight_lays_out_like_tight_layout_and_draws_once(monkeypatch):
    """charts.tight gives the subplot parameters of fig.tight_layout() but leaves no layout
    engine behind, so that savefig draws the figure once (not twice)."""
    import io

    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    def figure():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1000], label="a long label for the legend")
        ax.set_ylabel("persons (thousands, average over the year)")
        ax.legend()
        return fig

    ours, theirs = figure(), figure()
    charts.tight(ours)
    theirs.tight_layout()
    params = ("left", "right", "bottom", "top")
    assert [getattr(ours.subplotpars, p) for p in params] == pytest.approx(
        [getattr(theirs.subplotpars, p) for p in params])
    assert ours.subplotpars.left > plt.rcParams["figure.subplot.left"] - 0.1   # it did move
    assert ours.get_layout_engine() is None
    draws = []
    original = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, r: (draws.append(1), original(self, r))[1])
    ours.savefig(io.BytesIO(), format="png")
    assert len(draws) == 1
    plt.close("all")


def test_charts_are_the_same_files_when_drawn_again(tmp_path, comp):
    """No date or other run-dependent content in the chart files: PNG and SVG are byte for byte
    the same when the same chart is drawn twice."""
    summary = __import__("sim.summary", fromlist=["comparison_summary"]).comparison_summary(comp)
    files = []
    for k in range(2):
        path = tmp_path / f"run{k}" / "savings.png"
        path.parent.mkdir()
        charts.savings_by_line(summary, path=path, lang="da")
        files.append((path.read_bytes(), path.with_suffix(".svg").read_bytes()))
    assert files[0] == files[1]
    assert b"<text" in files[0][1]          # SVG text stays text (editable), not glyph paths


def test_an_error_in_a_chart_is_raised_after_the_workbook_is_written(tmp_path, comp):
    """A chart that fails raises its error in the caller, but only once the other jobs are done:
    the workbook handed out after it is still written."""
    from sim.summary import comparison_summary as compare_summary
    from sim.report import ChartJob, ExcelJob, _collect, _hand_out, excel_sheets, start_chart_workers
    workers = start_chart_workers(2)
    if workers is None:
        pytest.skip("no fork server on this platform")
    summary = compare_summary(comp)
    sheets = excel_sheets(summary, comp.budget, pd.DataFrame({"month": ["2025-01"], "scenario": ["b"],
                          "scheme": ["current"], "group": ["g"], "persons": [1.0]}),
                          [comp.baseline.scenario, comp.reform.scenario])
    jobs = [ChartJob("savings_by_line", ({},), tmp_path / "bad.png"), ExcelJob(sheets, tmp_path / "r.xlsx")]
    try:
        futures = _hand_out(jobs, workers)
        with pytest.raises(KeyError, match="budget.savings_by_line_bn"):
            _collect(jobs, futures, workers)
        assert futures[1].done() and (tmp_path / "r.xlsx").stat().st_size > 0
    finally:
        workers.shutdown(cancel_futures=True)
