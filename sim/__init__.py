"""reformsim: a microsimulation of the budget effects of reforming the Danish employment effort.

The Python interface, for notebooks::

    import sim
    base = sim.load_scenario("baseline")
    reform = base.with_changes({"rules.dagpenge.akasse_months": 6}, start="2026-01",
                               source="Djøf (000)", name="akasse_6m")
    comp = sim.compare(base, reform, scale=0.1)
    sim.compare_summary(comp)["budget.savings_bn"]

The names below are imported on first use (a module ``__getattr__``), so that ``import sim.cli``
(``reformsim --help``, and the chart worker processes) does not load numba, pandas and pydantic.
No module of the package bears the name of one of these functions.
"""

from __future__ import annotations

import importlib

#: public name -> (module of sim, name in it)
_EXPORTS = {
    "compare": ("comparison", "compare"),
    "compare_summary": ("summary", "comparison_summary"),
    "InputError": ("errors", "InputError"),
    "list_scenarios": ("scenario", "list_scenarios"),
    "load_scenario": ("scenario", "load_scenario"),
    "simulate": ("simulation", "simulate"),
}

__all__ = ["compare", "compare_summary", "InputError", "list_scenarios", "load_scenario", "simulate"]
__version__ = "0.1.0"


def __getattr__(name: str):
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'sim' has no attribute '{name}'") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
