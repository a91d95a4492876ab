"""reformsim: a microsimulation of the budget effects of reforming the Danish employment effort.

The Python interface, for notebooks::

    import sim
    base = sim.load_scenario("baseline")
    reform = base.with_changes({"rules.dagpenge.akasse_months": 6}, start="2026-01",
                               source="Djøf (000)", name="akasse_6m")
    comp = sim.compare(base, reform, scale=0.1)
    sim.compare_summary(comp)["budget.savings_bn"]
"""

from .compare import compare
from .compare import summary as compare_summary
from .errors import InputError
from .scenario import list_scenarios, load_scenario
from .simulate import simulate

__all__ = ["compare", "compare_summary", "InputError", "list_scenarios", "load_scenario", "simulate"]
__version__ = "0.1.0"
