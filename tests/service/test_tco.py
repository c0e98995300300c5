"""The one TCO use case: comparison, tornado and Monte Carlo built once, one draw cap."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from inferplan.errors import SpecError
from inferplan.scenario_io import parse_scenario
from inferplan.service.tco import price_scenario
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco.analysis import MAX_DRAWS, draws_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tco"))
from tco_fixtures import API, CLOUD, make_raw


def _scenario(draws: int) -> ScenarioSpec:
    return parse_scenario(make_raw([CLOUD, API], uncertainty={"draws": draws, "seed": 3}))


def test_without_sensitivity_only_the_comparison() -> None:
    a = price_scenario(_scenario(30))
    assert a.tornado is None and a.monte_carlo is None
    data = a.as_json()
    assert "tornado" not in data and "monte_carlo" not in data
    assert [o["name"] for o in data["options"]] == ["cloud", "api"]


def test_sensitivity_runs_the_scenarios_draws_on_the_same_base() -> None:
    a = price_scenario(_scenario(30), sensitivity=True)
    assert a.monte_carlo is not None and a.tornado is not None
    assert a.monte_carlo.draws == 30 and a.notes == []
    assert set(a.monte_carlo.options) == {"cloud", "api"}
    swings = [b.swing_usd for b in a.tornado]
    assert swings == sorted(swings, reverse=True)
    data = a.as_json()
    assert data["monte_carlo"]["draws"] == 30 and len(data["tornado"]) == len(a.tornado)


def test_a_scenario_above_the_cap_is_cut_to_it_and_says_so() -> None:
    s = _scenario(MAX_DRAWS + 700)
    assert draws_for(s) == (MAX_DRAWS, [
        f"Monte Carlo: {MAX_DRAWS} draws, the most one analysis runs "
        f"(uncertainty.draws asked for {MAX_DRAWS + 700})"
    ])


@pytest.mark.parametrize("draws", [0, MAX_DRAWS + 1])
def test_an_explicit_count_outside_the_cap_names_draws(draws: int) -> None:
    with pytest.raises(SpecError) as err:
        price_scenario(_scenario(30), sensitivity=True, draws=draws)
    assert err.value.field == "draws"


def test_a_scenario_without_options_names_options() -> None:
    raw = make_raw([])
    raw.pop("options")
    with pytest.raises(SpecError) as err:
        price_scenario(parse_scenario(raw))
    assert err.value.field == "options"
