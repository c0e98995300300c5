"""One TCO analysis: the comparison, and on request its tornado and Monte Carlo.

Every way of asking for a TCO (``inferplan tco``, the REST API, the Python API, the
planner's sensitivity of its pick) goes through :func:`analyse_tco`, so the three
parts are built the same way and the Monte Carlo is bounded by one cap,
:data:`MAX_DRAWS`. Catalogs are arguments; nothing is read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inferplan.catalog.price_catalog import PriceCatalog
from inferplan.catalog.records import Catalog
from inferplan.errors import SpecError
from inferplan.executor import Executor
from inferplan.specs.prices import RegionRecord
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco.compare import compare_tco
from inferplan.tco.results import MonteCarloResult, TcoComparison, TornadoBar
from inferplan.tco.sensitivity import monte_carlo, tornado

MAX_DRAWS = 500
"""The most Monte Carlo draws one analysis runs (an inferplan choice: the scenario's
default ``uncertainty.draws``; each draw prices every option once, so the cap bounds
the time a request to the service or a plan can take)."""


@dataclass(frozen=True)
class TcoAnalysis:
    """A :class:`TcoComparison`, with the tornado bars (longest swing first) and the
    Monte Carlo when sensitivity was asked for; ``notes`` say what was capped."""

    comparison: TcoComparison
    tornado: list[TornadoBar] | None = None
    monte_carlo: MonteCarloResult | None = None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The comparison's JSON with ``tornado``, ``monte_carlo`` and ``notes`` added
        when present (the shape of ``inferplan tco --json`` and ``POST /tco``)."""
        data = self.comparison.model_dump(mode="json")
        if self.tornado is not None:
            data["tornado"] = [b.model_dump(mode="json") for b in self.tornado]
        if self.monte_carlo is not None:
            data["monte_carlo"] = self.monte_carlo.model_dump(mode="json")
        if self.notes:
            data["notes"] = list(self.notes)
        return data


def draws_for(scenario: ScenarioSpec, draws: int | None = None) -> tuple[int, list[str]]:
    """Monte Carlo draws to run, and a note when the scenario's count was capped.

    An explicit ``draws`` above :data:`MAX_DRAWS` is refused; the scenario's
    ``uncertainty.draws`` above it is cut to the cap, and the note says so.

    >>> from inferplan.public import default_scenario
    >>> draws_for(default_scenario(), 40)
    (40, [])
    """
    if draws is not None:
        if not 1 <= draws <= MAX_DRAWS:
            raise SpecError("draws", f"must be between 1 and {MAX_DRAWS}, got {draws}")
        return draws, []
    asked = scenario.uncertainty.draws
    if asked <= MAX_DRAWS:
        return asked, []
    return MAX_DRAWS, [
        f"Monte Carlo: {MAX_DRAWS} draws, the most one analysis runs "
        f"(uncertainty.draws asked for {asked})"
    ]


def analyse_tco(
    scenario: ScenarioSpec,
    prices: PriceCatalog,
    regions: Catalog[RegionRecord],
    *,
    sensitivity: bool = False,
    draws: int | None = None,
    executor: Executor | None = None,
) -> TcoAnalysis:
    """Compare the scenario's options; with ``sensitivity``, add the tornado and a
    Monte Carlo of ``draws`` (default the scenario's, capped at :data:`MAX_DRAWS`).

    ``executor`` evaluates the tornado runs and the draws (default in-process); the
    results are the same whichever executor runs them.
    """
    base = compare_tco(scenario, prices, regions)
    if not sensitivity:
        return TcoAnalysis(base)
    n, notes = draws_for(scenario, draws)
    bars = tornado(scenario, prices, regions, base=base, executor=executor)
    mc = monte_carlo(scenario, prices, regions, draws=n, base=base, executor=executor)
    return TcoAnalysis(base, bars, mc, notes)


__all__ = ["MAX_DRAWS", "TcoAnalysis", "analyse_tco", "draws_for"]
