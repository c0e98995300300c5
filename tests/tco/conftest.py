"""Shared fixtures for the TCO tests: the shipped catalogs and a scenario builder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tco_fixtures import make_raw

from inferplan.catalog.loader import Catalog
from inferplan.catalog.prices import PriceCatalog, load_prices, load_regions
from inferplan.scenario_io import parse_scenario
from inferplan.specs.prices import RegionRecord
from inferplan.specs.scenario import ScenarioSpec


@pytest.fixture(scope="session")
def prices() -> PriceCatalog:
    return load_prices()


@pytest.fixture(scope="session")
def regions() -> Catalog[RegionRecord]:
    return load_regions()


@pytest.fixture
def build() -> Callable[..., ScenarioSpec]:
    """build(options, **top) -> a validated ScenarioSpec."""

    def _build(options: list[dict[str, Any]], **top: Any) -> ScenarioSpec:
        return parse_scenario(make_raw(options, **top))

    return _build
