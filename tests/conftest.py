"""Shared fixtures: small, seeded inputs. Floating-point errors raise everywhere in the suite."""

from __future__ import annotations

import numpy as np
import pytest

np.seterr(all="raise")


@pytest.fixture(scope="session")
def data():
    from sim.parameters import load_data
    return load_data()


@pytest.fixture(scope="session")
def short_scenario(tmp_path_factory, data):
    """The baseline over two years (a reform-free diff that only shortens the horizon)."""
    from sim.scenario import load_scenario
    path = tmp_path_factory.mktemp("scen") / "short.toml"
    path.write_text('description = "baseline, two years"\nbaseline = "baseline"\n'
                    '[horizon]\nstart = "2025-01"\nend = "2026-12"\n')
    return load_scenario(path, data)


@pytest.fixture(scope="session")
def small_population(short_scenario):
    from sim.simulation import build_population
    return build_population(short_scenario, seed=3, scale=0.01)
