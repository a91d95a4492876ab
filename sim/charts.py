"""Charts for consultation responses, in one readable style, in English or Danish.

Every chart has a title, axis labels with units and a legend where there is more than one
series, and is written as PNG and SVG. ``lang="da"`` gives Danish labels, Danish number format
(decimal comma, thousands point, "mia. kr.") and Danish month names.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.layout_engine import TightLayoutEngine  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from .budget import DKK_PER_BN  # noqa: E402

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
    "svg.fonttype": "none",
    "svg.hashsalt": "reformsim",   # element ids from the content alone: the same chart, the same file
}

MONTHS_DA = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.", "nov.", "dec.")

LABELS = {
    "en": {
        "caseload_title": "Caseload by target group ({scheme}), {scenario}",
        "persons_k": "persons (thousands)", "month": "month", "year": "year",
        "effort_title": "Employment effort by budget line, {scenario}",
        "bn_year": "bn DKK per year", "line": "line",
        "savings_title": "Savings by budget line, {scenario} against the baseline",
        "bn_saving": "bn DKK per year (positive = saving)",
        "waterfall_title": "Bottom-up process savings by provision, {year}, {scenario}", "total": "total",
        "caseload_cmp_title": "Caseload by target group ({scheme}), {year}",
        "persons_avg_k": "persons (thousands, average over the year)", "scenario": "scenario",
        "employment_title": "Employment, reform minus baseline", "persons": "persons",
        "net_title": "Net effect on the public finances", "bn_improve": "bn DKK per year (positive = improves)",
        "goal": "government goal: +{goal} persons toward 2030",
        "gap_title": "The gap: saving against rule changes, {scenario}",
        "gap_y": "bn DKK per year; bars: activity rationed away, by group",
        "top_down": "top-down effort saving", "bottom_up": "freed by the rule changes (bottom-up)",
        "unrealised": "freed, not yet shed (staff, contracts)", "over_budget": "over budget",
        "duration_title": "Sick-benefit spells by month of spell, {year}",
        "duration_y": "persons on sick benefit (thousands, average per month)",
        "duration_x": "month of the sick-benefit spell (0 = first month)",
        "bands_title": "Uncertainty: 5th, 50th and 95th percentiles",
        "per_inhabitant_title": "{what} per inhabitant, {year}: {scenario} against {baseline}",
        "spending_change": "Change in municipal spending", "effort_change": "Change in effort spending",
        "dkk_per_inhabitant": "DKK per inhabitant (negative = spends less)",
        "few_persons": "hatched: fewer than {n} simulated persons (uncertain)",
        "region": "region",
        "financing_title": "Who pays for the downturn",
        "financing_y": "bn DKK per year (extra public cost of the downturn)",
        "state": "state", "municipalities": "municipalities", "activity_cut": "activity cut",
        "fin_gap_title": "Gap per inhabitant, {year}, the 98 municipalities ranked",
        "gap_dkk": "DKK per inhabitant the municipality must find", "rank": "municipality (ranked)",
        "regime_today": "today's financing", "regime_service_ceiling": "under the service ceiling",
    },
    "da": {
        "caseload_title": "Sagsmængde efter målgruppe ({scheme}), {scenario}",
        "persons_k": "personer (tusinder)", "month": "måned", "year": "år",
        "effort_title": "Beskæftigelsesindsatsen efter budgetlinje, {scenario}",
        "bn_year": "mia. kr. pr. år", "line": "linje",
        "savings_title": "Besparelser efter budgetlinje, {scenario} mod basis",
        "bn_saving": "mia. kr. pr. år (positiv = besparelse)",
        "waterfall_title": "Besparelser fra regelændringer efter element, {year}, {scenario}", "total": "i alt",
        "caseload_cmp_title": "Sagsmængde efter målgruppe ({scheme}), {year}",
        "persons_avg_k": "personer (tusinder, gennemsnit over året)", "scenario": "scenarie",
        "employment_title": "Beskæftigelse, reform minus basis", "persons": "personer",
        "net_title": "Nettoeffekt på de offentlige finanser", "bn_improve": "mia. kr. pr. år (positiv = forbedring)",
        "goal": "regeringens mål: +{goal} personer frem mod 2030",
        "gap_title": "Hullet: besparelse mod regelændringer, {scenario}",
        "gap_y": "mia. kr. pr. år; søjler: indsats der rationeres væk, efter gruppe",
        "top_down": "besparelse på indsatsen (top-down)", "bottom_up": "frigjort af regelændringer (bottom-up)",
        "unrealised": "frigjort, men endnu ikke afviklet (personale, kontrakter)", "over_budget": "over budget",
        "duration_title": "Sygedagpengeforløb efter forløbsmåned, {year}",
        "duration_y": "personer på sygedagpenge (tusinder, gennemsnit pr. måned)",
        "duration_x": "måned i sygedagpengeforløbet (0 = første måned)",
        "bands_title": "Usikkerhed: 5., 50. og 95. percentil",
        "per_inhabitant_title": "{what} pr. indbygger, {year}: {scenario} mod {baseline}",
        "spending_change": "Ændring i kommunens udgifter", "effort_change": "Ændring i udgifter til indsatsen",
        "dkk_per_inhabitant": "kr. pr. indbygger (negativ = bruger mindre)",
        "few_persons": "skraveret: færre end {n} simulerede personer (usikkert)",
        "region": "region",
        "financing_title": "Hvem betaler for nedturen",
        "financing_y": "mia. kr. pr. år (nedturens ekstra offentlige udgift)",
        "state": "staten", "municipalities": "kommunerne", "activity_cut": "indsats skåret væk",
        "fin_gap_title": "Finansieringshul pr. indbygger, {year}, de 98 kommuner rangordnet",
        "gap_dkk": "kr. pr. indbygger, som kommunen selv skal finde", "rank": "kommune (rangordnet)",
        "regime_today": "nuværende finansiering", "regime_service_ceiling": "under serviceloftet",
    },
}

NAMES_DA = {
    "jobcentre_operations": "drift af jobcentre", "guidance_upskilling": "øvrig vejledning og opkvalificering",
    "other_effort": "anden indsats", "derived_effects": "afledte effekter",
    "youth": "unge", "vulnerable_adults": "udsatte voksne", "insured_unemployed": "forsikrede ledige",
    "sick": "syge", "other": "øvrige", "baseline": "basis", "expert_group": "ekspertgruppen",
    "six_cities": "6-byerne", "kl_2030": "KL 2030", "djoef_now": "Djøf nu", "agreement_2025": "aftalen 2025",
}
SCHEMES_DA = {"current": "nuværende 13 målgrupper", "expert_group": "ekspertgruppens 5 målgrupper",
              "six_cities": "6-byernes 5 målgrupper"}


def label(key: str, lang: str, **kw) -> str:
    if lang not in LABELS:
        raise ValueError(f"language '{lang}': allowed en, da")
    return LABELS[lang][key].format(**kw)


def name(text: str, lang: str) -> str:
    """A line, group or scheme name in the chart's language."""
    return NAMES_DA.get(text, text) if lang == "da" else text.replace("_", " ")


def scheme_name(scheme: str, lang: str) -> str:
    return SCHEMES_DA.get(scheme, scheme) if lang == "da" else f"{scheme.replace('_', ' ')} scheme"


def number(x: float, lang: str, decimals: int = 1) -> str:
    """A number in the language's format: 1,234.5 (en) or 1.234,5 (da)."""
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "§").replace(".", ",").replace("§", ".") if lang == "da" else text


def _axis_format(ax, lang: str, axis: str = "y", decimals: int = 1) -> None:
    fmt = FuncFormatter(lambda v, _pos: number(v, lang, decimals))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def tight(fig, **kwargs) -> None:
    """``fig.tight_layout(**kwargs)`` without what it leaves behind: a place-holder layout engine,
    which makes every later ``savefig`` draw the whole figure twice (a third of a chart's time)."""
    TightLayoutEngine(**kwargs).execute(fig)


def _save(fig, path: Path) -> None:
    """The chart as PNG and, beside it, SVG (text kept as text; no date, so the same chart gives
    the same file)."""
    tight(fig)
    fig.savefig(path)
    fig.savefig(Path(path).with_suffix(".svg"), metadata={"Date": None})
    plt.close(fig)


def warm_up() -> None:
    """Draw a small chart in the house style to memory, as PNG and SVG: the first chart of a
    process pays for loading the fonts and the writers, and this one is thrown away. Each chart
    worker calls it as it starts (:func:`sim.workers.start_chart_workers`)."""
    import io
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [0, 1], label="1,0")
        ax.set_title("reformsim")
        ax.set_xlabel("x")
        _axis_format(ax, "da")
        ax.legend(title="y")
        tight(fig)
        for fmt in ("png", "svg"):
            fig.savefig(io.BytesIO(), format=fmt)
        plt.close(fig)


def caseload_chart(caseload: pd.DataFrame, path: Path, scheme: str = "current", lang: str = "en") -> None:
    """Stacked caseload by target group over the horizon (persons)."""
    with plt.rc_context(STYLE):
        df = caseload[caseload["scheme"] == scheme].pivot_table(index="month", columns="group",
                                                                 values="persons", aggfunc="sum")
        df = df[df.mean().sort_values(ascending=False).index]
        fig, ax = plt.subplots()
        x = pd.PeriodIndex(df.index, freq="M").to_timestamp()
        ax.stackplot(x, (df / 1000).T.values, labels=df.columns, alpha=0.9,
                     colors=plt.cm.tab20.colors[:len(df.columns)])
        if lang == "da":
            ax.xaxis.set_major_formatter(FuncFormatter(
                lambda v, _p: (lambda d: f"{MONTHS_DA[d.month - 1]} {d.year}")(matplotlib.dates.num2date(v))))
        ax.set_title(label("caseload_title", lang, scheme=scheme_name(scheme, lang),
                           scenario=name(caseload["scenario"].iloc[0], lang)))
        ax.set_ylabel(label("persons_k", lang))
        ax.set_xlabel(label("month", lang))
        _axis_format(ax, lang, decimals=0)
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
        _save(fig, path)


def budget_by_line(budget: pd.DataFrame, path: Path, lang: str = "en") -> None:
    """Effort spending by line and year (bn DKK)."""
    with plt.rc_context(STYLE):
        eff = budget[~budget["line"].str.startswith("transfers:") & (budget["line"] != "derived_effects")]
        df = eff.pivot_table(index="year", columns="line", values="dkk", aggfunc="sum") / DKK_PER_BN
        df.columns = [name(c, lang) for c in df.columns]
        fig, ax = plt.subplots()
        df.plot(kind="bar", stacked=True, ax=ax, width=0.8)
        ax.set_title(label("effort_title", lang, scenario=name(budget["scenario"].iloc[0], lang)))
        ax.set_ylabel(label("bn_year", lang))
        ax.set_xlabel(label("year", lang))
        _axis_format(ax, lang)
        ax.legend(title=label("line", lang))
        _save(fig, path)


def savings_by_line(summary: dict, path: Path, lang: str = "en") -> None:
    """Savings by budget line and year against the reform (bn DKK; positive = spends less)."""
    with plt.rc_context(STYLE):
        df = pd.DataFrame(summary["budget.savings_by_line_bn"])
        df.index = df.index.astype(int)
        df.columns = [name(c, lang) for c in df.columns]
        fig, ax = plt.subplots()
        df.plot(kind="bar", stacked=True, ax=ax, width=0.8)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(label("savings_title", lang, scenario=name(summary["reform.scenario"], lang)))
        ax.set_ylabel(label("bn_saving", lang))
        ax.set_xlabel(label("year", lang))
        _axis_format(ax, lang)
        ax.legend(title=label("line", lang))
        _save(fig, path)


def provision_waterfall(summary: dict, year: str, path: Path, lang: str = "en") -> None:
    """Bottom-up process savings in one year, provision by provision (bn DKK)."""
    parts = {k: v[year] for k, v in summary["budget.bottom_up_by_provision_bn"].items()}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(9, 0.45 * max(len(parts), 4) + 1.5))
        left = 0.0
        for i, (prov, value) in enumerate(parts.items()):
            ax.barh(i, value, left=left, color="tab:green" if value >= 0 else "tab:red",
                    label="_nolegend_")
            left += value
        ax.barh(len(parts), left, color="tab:blue")
        ax.set_yticks(range(len(parts) + 1), [p.replace("_", " ") for p in parts] + [label("total", lang)])
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(label("waterfall_title", lang, year=year, scenario=name(summary["reform.scenario"], lang)))
        ax.set_xlabel(label("bn_saving", lang))
        _axis_format(ax, lang, axis="x")
        _save(fig, path)


def caseload_compare(caseload: pd.DataFrame, scheme: str, path: Path, lang: str = "en") -> None:
    """Average caseload by group in the last year: baseline beside reform (thousands of persons)."""
    with plt.rc_context(STYLE):
        df = caseload[caseload["scheme"] == scheme]
        last = df["month"].str[:4].max()
        df = df[df["month"].str[:4] == last].groupby(["group", "scenario"])["persons"].mean().unstack()
        df.columns = [name(c, lang) for c in df.columns]
        fig, ax = plt.subplots()
        (df / 1000).plot(kind="barh", ax=ax)
        ax.set_title(label("caseload_cmp_title", lang, scheme=scheme_name(scheme, lang), year=last))
        ax.set_xlabel(label("persons_avg_k", lang))
        ax.set_ylabel("")
        _axis_format(ax, lang, axis="x", decimals=0)
        ax.legend(title=label("scenario", lang))
        _save(fig, path)


def employment_and_finances(summary: dict, path: Path, lang: str = "en") -> None:
    """Employment effect (persons) and net effect on the public finances (bn DKK) by year."""
    with plt.rc_context(STYLE):
        emp = pd.Series(summary["employment.fulltime_persons_delta"])
        net = pd.Series(summary["public_finances.net_effect_bn"])
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
        a1.bar(emp.index, emp.values, color="tab:purple", label=label("employment_title", lang))
        a1.set_title(label("employment_title", lang))
        a1.set_ylabel(label("persons", lang))
        goal = summary.get("employment.labour_supply_goal_persons")
        if goal:
            a1.text(0.02, 0.95, label("goal", lang, goal=number(goal, lang, 0)), transform=a1.transAxes,
                    va="top", fontsize=8)
        a2.bar(net.index, net.values, color="tab:green", label=label("net_title", lang))
        a2.set_title(label("net_title", lang))
        a2.set_ylabel(label("bn_improve", lang))
        _axis_format(a1, lang, decimals=0)
        _axis_format(a2, lang)
        for a in (a1, a2):
            a.axhline(0, color="black", lw=0.8)
            a.set_xlabel(label("year", lang))
            a.tick_params(axis="x", rotation=45)
            a.legend(loc="lower left", fontsize=8)
        _save(fig, path)


def gap_chart(summary: dict, path: Path, lang: str = "en") -> None:
    """Top-down effort saving against what the rule changes free, and where the rest is rationed."""
    from .states import EFFORT_LINES
    with plt.rc_context(STYLE):
        lines = summary["budget.savings_by_line_bn"]
        years = list(summary["budget.savings_bn"])
        top = [sum(lines[ln][y] for ln in EFFORT_LINES) for y in years]
        bottom = [summary["budget.bottom_up_process_savings_bn"][y] for y in years]
        rationed = pd.DataFrame(summary["budget.rationed_by_group_bn"]).loc[years]
        rationed.columns = [name(c, lang) for c in rationed.columns]
        fig, ax = plt.subplots()
        rationed.plot(kind="bar", stacked=True, ax=ax, width=0.7, alpha=0.8)
        ax.plot(range(len(years)), top, "k-o", label=label("top_down", lang))
        ax.plot(range(len(years)), bottom, "k--s", label=label("bottom_up", lang))
        # savings take time: what is freed but still paid for, and what the budget cannot find
        for key, style in (("budget.unrealised_bn", "C3:^"), ("budget.over_budget_bn", "C1-.v")):
            values = [sum(summary[key][ln].get(y, 0.0) for ln in EFFORT_LINES) for y in years] if key in summary else []
            if any(v > 0.005 for v in values):
                ax.plot(range(len(years)), values, style, label=label(key.split(".")[1][:-3], lang))
        ax.set_title(label("gap_title", lang, scenario=name(summary["reform.scenario"], lang)))
        ax.set_ylabel(label("gap_y", lang))
        ax.set_xlabel(label("year", lang))
        _axis_format(ax, lang)
        ax.legend(fontsize=8)
        _save(fig, path)


def sick_duration(profiles: dict[str, np.ndarray], year: int, path: Path, lang: str = "en") -> None:
    """Persons on sick benefit by month of spell: baseline beside reform (thousands)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots()
        for scen, prof in profiles.items():
            ax.plot(np.arange(len(prof)), prof / 1000, marker="o", ms=3, label=name(scen, lang))
        ax.set_title(label("duration_title", lang, year=year))
        ax.set_ylabel(label("duration_y", lang))
        ax.set_xlabel(label("duration_x", lang))
        _axis_format(ax, lang)
        ax.legend(title=label("scenario", lang))
        _save(fig, path)


#: colours of the five regions in the municipality charts
REGION_COLOURS = {"Hovedstaden": "C0", "Sjælland": "C1", "Syddanmark": "C2", "Midtjylland": "C3",
                  "Nordjylland": "C4"}


def per_inhabitant_chart(table: pd.DataFrame, year: int, scenarios: tuple[str, str], path: Path,
                         lang: str = "en", column: str = "spending_change_per_inhabitant_dkk",
                         few: int = 1000) -> None:
    """The reform's effect on each of the 98 municipalities in ``year``, per inhabitant (DKK),
    ranked, coloured by region; hatched where it rests on few simulated persons."""
    with plt.rc_context(STYLE):
        df = table[table["year"] == year].sort_values(column)
        fig, ax = plt.subplots(figsize=(8, 15))
        y = np.arange(len(df))
        colours = [REGION_COLOURS.get(r, "C7") for r in df["region"]]
        bars = ax.barh(y, df[column], color=colours, height=0.8)
        for bar, flagged in zip(bars, df["few_persons"]):
            if flagged:
                bar.set_hatch("////")
                bar.set_alpha(0.5)
        ax.set_yticks(y, df["municipality"], fontsize=6)
        ax.set_ylim(-0.7, len(df) - 0.3)
        ax.axvline(0, color="k", lw=0.8)
        what = label("spending_change" if column.startswith("spending") else "effort_change", lang)
        ax.set_title(label("per_inhabitant_title", lang, what=what, year=year,
                           scenario=name(scenarios[1], lang), baseline=name(scenarios[0], lang)), fontsize=10)
        ax.set_xlabel(label("dkk_per_inhabitant", lang))
        _axis_format(ax, lang, axis="x", decimals=0)
        handles = [Patch(color=c, label=r) for r, c in REGION_COLOURS.items()
                   if r in set(df["region"])]
        if df["few_persons"].any():
            handles.append(Patch(facecolor="white", edgecolor="k", hatch="////",
                                                    label=label("few_persons", lang, n=number(few, lang, 0))))
        ax.legend(handles=handles, title=label("region", lang), fontsize=7, loc="lower right")
        ax.grid(axis="y", alpha=0)
        _save(fig, path)


def financing_chart(fin: pd.DataFrame, summary: dict, path: Path, lang: str = "en") -> None:
    """A downturn's public cost by year, state against municipalities, in each financing regime
    (left), and the gap per inhabitant of the 98 municipalities ranked, in the peak year (right)."""
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
        regimes = list(dict.fromkeys(fin["regime"]))
        years = sorted(fin["year"].unique())
        width = 0.8 / len(regimes)
        for k, regime in enumerate(regimes):
            block = fin[fin["regime"] == regime].groupby("year")
            state = (block["state_transfers_rise_dkk"].sum() + block["compensation_dkk"].sum()).reindex(years)
            towns = block["gap_dkk"].sum().reindex(years)
            cut = block["activity_cut_dkk"].sum().reindex(years)
            x = np.arange(len(years)) + (k - (len(regimes) - 1) / 2) * width
            tag = label(f"regime_{regime}", lang)
            left.bar(x, state / DKK_PER_BN, width, color="C0", alpha=0.5 + 0.5 * k, label=f"{label('state', lang)}: {tag}")
            left.bar(x, towns / DKK_PER_BN, width, bottom=np.where(towns >= 0, state, 0) / DKK_PER_BN,
                     color="C1", alpha=0.5 + 0.5 * k, label=f"{label('municipalities', lang)}: {tag}")
            if (cut > 0.005 * DKK_PER_BN).any():
                left.plot(x, cut / DKK_PER_BN, "kv", ms=4, label=f"{label('activity_cut', lang)}: {tag}")
        left.set_xticks(np.arange(len(years)), years, rotation=45)
        left.axhline(0, color="k", lw=0.8)
        left.set_title(label("financing_title", lang))
        left.set_ylabel(label("financing_y", lang))
        left.set_xlabel(label("year", lang))
        _axis_format(left, lang)
        left.legend(fontsize=7)
        peak = int(summary["financing.peak_year"])
        for k, regime in enumerate(regimes):
            at = fin[(fin["regime"] == regime) & (fin["year"] == peak)].sort_values("gap_per_inhabitant_dkk",
                                                                                  ascending=False)
            gaps = at["gap_per_inhabitant_dkk"].to_numpy()
            right.plot(np.arange(1, len(at) + 1), gaps, marker="o", ms=2, label=label(f"regime_{regime}", lang))
            if k == 0:                      # the three most exposed, named once
                for rank, town in enumerate(at["municipality"].head(3)):
                    right.annotate(town, (rank + 1, gaps[rank]), fontsize=7, xytext=(6, -3 - 9 * rank),
                                   textcoords="offset points")
        right.axhline(0, color="k", lw=0.8)
        right.set_title(label("fin_gap_title", lang, year=peak))
        right.set_ylabel(label("gap_dkk", lang))
        right.set_xlabel(label("rank", lang))
        _axis_format(right, lang, decimals=0)
        right.legend(fontsize=8)
        _save(fig, path)
