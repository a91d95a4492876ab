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
