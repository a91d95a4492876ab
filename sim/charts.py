"""Charts in one readable style (matplotlib, written without a screen)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

STYLE = {
    "figure.figsize": (9, 5),
    "figure.dpi": 110,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 10,
    "axes.titlesize": 12,
    "legend.frameon": False,
}


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def caseload_chart(caseload: pd.DataFrame, path: Path, scheme: str = "current") -> None:
    """Stacked caseload by target group over the horizon (persons)."""
    with plt.rc_context(STYLE):
        df = caseload[caseload["scheme"] == scheme].pivot_table(index="month", columns="group",
                                                                 values="persons", aggfunc="sum")
        df = df[df.mean().sort_values(ascending=False).index]
        fig, ax = plt.subplots()
        x = pd.PeriodIndex(df.index, freq="M").to_timestamp()
        ax.stackplot(x, (df / 1000).T.values, labels=df.columns, alpha=0.9,
                     colors=plt.cm.tab20.colors[:len(df.columns)])
        ax.set_title(f"Caseload by target group ({scheme} scheme), {caseload['scenario'].iloc[0]}")
        ax.set_ylabel("persons (thousands)")
        ax.set_xlabel("month")
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
        _save(fig, path)


def budget_by_line(budget: pd.DataFrame, path: Path) -> None:
    """Effort spending by line and year (bn DKK)."""
    with plt.rc_context(STYLE):
        eff = budget[~budget["line"].str.startswith("transfers:")]
        df = eff.pivot_table(index="year", columns="line", values="dkk", aggfunc="sum") / 1e9
        fig, ax = plt.subplots()
        df.plot(kind="bar", stacked=True, ax=ax, width=0.8)
        ax.set_title(f"Employment effort by budget line, {budget['scenario'].iloc[0]}")
        ax.set_ylabel("bn DKK per year")
        ax.set_xlabel("year")
        ax.legend(title="line")
        _save(fig, path)


def savings_by_line(summary: dict, path: Path) -> None:
    """Savings by budget line and year against the reform (bn DKK; positive = spends less)."""
    with plt.rc_context(STYLE):
        df = pd.DataFrame(summary["budget.savings_by_line_bn"])
        df.index = df.index.astype(int)
        fig, ax = plt.subplots()
        df.plot(kind="bar", stacked=True, ax=ax, width=0.8)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(f"Savings by budget line, {summary['reform.scenario']} against the baseline")
        ax.set_ylabel("bn DKK per year (positive = saving)")
        ax.set_xlabel("year")
        ax.legend(title="line")
        _save(fig, path)


def provision_waterfall(summary: dict, year: str, path: Path) -> None:
    """Bottom-up process savings in one year, provision by provision (bn DKK)."""
    parts = {k: v[year] for k, v in summary["budget.bottom_up_by_provision_bn"].items()}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(parts), 4) + 1.5))
        left = 0.0
        for i, (name, value) in enumerate(parts.items()):
            ax.barh(i, value, left=left, color="tab:green" if value >= 0 else "tab:red")
            left += value
        ax.barh(len(parts), left, color="tab:blue")
        ax.set_yticks(range(len(parts) + 1), list(parts) + ["total"])
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(f"Bottom-up process savings by provision, {year}, {summary['reform.scenario']}")
        ax.set_xlabel("bn DKK per year (positive = saving)")
        _save(fig, path)


def caseload_compare(caseload: pd.DataFrame, scheme: str, path: Path) -> None:
    """Average caseload by group in the last year: baseline beside reform (thousands of persons)."""
    with plt.rc_context(STYLE):
        df = caseload[caseload["scheme"] == scheme]
        last = df["month"].str[:4].max()
        df = df[df["month"].str[:4] == last].groupby(["group", "scenario"])["persons"].mean().unstack()
        fig, ax = plt.subplots()
        (df / 1000).plot(kind="barh", ax=ax)
        ax.set_title(f"Caseload by target group ({scheme} scheme), {last}")
        ax.set_xlabel("persons (thousands, average over the year)")
        ax.set_ylabel("")
        ax.legend(title="scenario")
        _save(fig, path)


def employment_and_finances(summary: dict, path: Path) -> None:
    """Employment effect (persons) and net effect on the public finances (bn DKK) by year."""
    with plt.rc_context(STYLE):
        emp = pd.Series(summary["employment.fulltime_persons_delta"])
        net = pd.Series(summary["public_finances.net_effect_bn"])
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
        a1.bar(emp.index, emp.values, color="tab:purple")
        a1.set_title("Employment, reform minus baseline")
        a1.set_ylabel("persons")
        goal = summary.get("employment.labour_supply_goal_persons")
        if goal:
            a1.text(0.02, 0.95, f"government goal: +{goal:,.0f} persons toward 2030", transform=a1.transAxes,
                    va="top", fontsize=8)
        a2.bar(net.index, net.values, color="tab:green")
        a2.set_title("Net effect on the public finances")
        a2.set_ylabel("bn DKK per year (positive = improves)")
        for a in (a1, a2):
            a.axhline(0, color="black", lw=0.8)
            a.set_xlabel("year")
            a.tick_params(axis="x", rotation=45)
        _save(fig, path)


def gap_chart(summary: dict, path: Path) -> None:
    """Top-down effort saving against what the rule changes free, and where the rest is rationed."""
    from .states import EFFORT_LINES
    with plt.rc_context(STYLE):
        lines = summary["budget.savings_by_line_bn"]
        years = list(summary["budget.savings_bn"])
        top = [sum(lines[ln][y] for ln in EFFORT_LINES) for y in years]
        bottom = [summary["budget.bottom_up_process_savings_bn"][y] for y in years]
        rationed = pd.DataFrame(summary["budget.rationed_by_group_bn"]).loc[years]
        fig, ax = plt.subplots()
        rationed.plot(kind="bar", stacked=True, ax=ax, width=0.7, alpha=0.8)
        ax.plot(range(len(years)), top, "k-o", label="top-down effort saving")
        ax.plot(range(len(years)), bottom, "k--s", label="freed by the rule changes (bottom-up)")
        ax.set_title(f"The gap: saving against rule changes, {summary['reform.scenario']}")
        ax.set_ylabel("bn DKK per year; bars: activity rationed away, by group")
        ax.set_xlabel("year")
        ax.legend(fontsize=8)
        _save(fig, path)


def compare_charts(comp, summary: dict, caseload: pd.DataFrame, folder: Path, lang: str = "en") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    savings_by_line(summary, folder / "savings_by_line.png")
    full = "2030" if 2030 in comp.years else str(comp.years[-1])     # the reforms' full effect
    if summary["budget.bottom_up_by_provision_bn"]:
        provision_waterfall(summary, full, folder / "bottom_up_by_provision.png")
    for scheme in dict.fromkeys(("current", comp.reform.scenario.scheme)):
        caseload_compare(caseload, scheme, folder / f"caseload_{scheme}.png")
    employment_and_finances(summary, folder / "employment_public_finances.png")
    if "budget.rationed_by_group_bn" in summary:
        gap_chart(summary, folder / "gap.png")
