"""Reports: charts in both languages with titles, labels and legends; the Excel report's sheets."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import charts
from sim.compare import compare
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
                                                                   "assumptions", "calibration"]
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
