"""The TCO use case: ``inferplan tco``, ``POST /tco`` and :func:`inferplan.price`.

Loads the shipped catalogs (prices with the finance defaults, regions) and runs
:func:`inferplan.tco.analysis.analyse_tco`: the comparison, and with ``sensitivity``
the tornado and a Monte Carlo capped at :data:`~inferplan.tco.analysis.MAX_DRAWS`.
"""

from __future__ import annotations

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.executor import Executor
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco.analysis import MAX_DRAWS, TcoAnalysis, analyse_tco


def price_scenario(
    scenario: ScenarioSpec,
    *,
    sensitivity: bool = False,
    draws: int | None = None,
    executor: Executor | None = None,
) -> TcoAnalysis:
    """TCO of the scenario's ``options`` against the shipped catalogs.

    A scenario without options (a plan scenario) raises
    :class:`~inferplan.errors.SpecError` on ``options``; ``draws`` above
    :data:`MAX_DRAWS` raises on ``draws``.

    >>> from inferplan.public import scenario
    >>> s = scenario({"name": "x", "finance": {"horizon_years": 1, "discount_rate": 0},
    ...     "workload": {"requests_per_day": 1e6, "input_tokens_mean": 1000,
    ...                  "output_tokens_mean": 1000, "profile": "flat"},
    ...     "options": [{"kind": "api", "name": "api", "input_usd_per_million": 1,
    ...                  "output_usd_per_million": 1}]})
    >>> a = price_scenario(s, sensitivity=True, draws=20)
    >>> round(a.comparison.options[0].usd_per_million_tokens, 6), a.monte_carlo.draws
    (1.0, 20)
    """
    return analyse_tco(
        scenario,
        load_prices(),
        load_regions(),
        sensitivity=sensitivity,
        draws=draws,
        executor=executor,
    )


__all__ = ["MAX_DRAWS", "price_scenario"]
