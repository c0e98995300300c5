"""The plan's Monte Carlo follows the scenario's draws up to the one analysis cap."""

from __future__ import annotations

from inferplan.planner.search import plan
from inferplan.public import default_scenario
from inferplan.tco.analysis import MAX_DRAWS


def test_the_plan_runs_the_scenarios_draws_under_the_one_cap() -> None:
    s = default_scenario()
    asked = s.model_copy(
        update={"uncertainty": s.uncertainty.model_copy(update={"draws": MAX_DRAWS - 150})}
    )
    mc = plan(asked).monte_carlo
    assert mc is not None and mc["draws"] == MAX_DRAWS - 150
