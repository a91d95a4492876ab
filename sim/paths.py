"""Where things are: the project's folders, scenario files and output folders.

Standard library only, so that the command line can check its arguments (and start the chart
workers) before it loads pandas, numba and pydantic.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError, did_you_mean

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
CONFIG_DIR = ROOT / "configs"


def scenario_path(name_or_path: str | Path) -> Path:
    """Resolve a scenario name in ``configs/`` or a path to a TOML file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.exists():
            raise InputError(f"{p}: scenario file not found")
        return p
    candidate = CONFIG_DIR / f"{name_or_path}.toml"
    if not candidate.exists():
        names = [f.stem for f in CONFIG_DIR.glob("*.toml")]
        raise InputError(f"unknown scenario '{name_or_path}'{did_you_mean(str(name_or_path), names)}; "
                         f"shipped scenarios: {', '.join(sorted(names))} (or give a path to a .toml file)")
    return candidate


def prepare_out(out: str | Path) -> Path:
    """The output folder (and its ``charts/``), created if need be."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "charts").mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the output directory ({exc.strerror})") from None
    return out

#: environment variable naming a file that ``reformsim compare`` appends a line to for each
#: simulation it starts (the browser page follows a run there)
PROGRESS_ENV = "REFORMSIM_PROGRESS_FILE"
