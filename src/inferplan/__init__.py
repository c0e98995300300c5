"""inferplan: plan LLM inference deployments.

Size (memory fit), predict (latency and throughput), price (TCO), govern (data
sovereignty), recommend (Pareto search) and prove (benchmark and calibrate).

The Python API (:mod:`inferplan.public`) is loaded on first use, so that importing a
submodule (the command line, the team service) does not pay for the whole library::

    import inferplan
    result = inferplan.plan(inferplan.default_scenario())
    print(result.recommendation.headline)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "Scenario": "inferplan.public",
    "default_scenario": "inferplan.public",
    "fit": "inferplan.public",
    "plan": "inferplan.public",
    "predict": "inferplan.public",
    "scenario": "inferplan.public",
    "price": "inferplan.public",
    "InferplanError": "inferplan.errors",
    "SpecError": "inferplan.errors",
    "InfeasibleError": "inferplan.errors",
}

if TYPE_CHECKING:
    from inferplan.errors import InfeasibleError, InferplanError, SpecError
    from inferplan.public import (
        Scenario,
        default_scenario,
        fit,
        plan,
        predict,
        price,
        scenario,
    )


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'inferplan' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


__all__ = [
    "InfeasibleError",
    "InferplanError",
    "Scenario",
    "SpecError",
    "__version__",
    "default_scenario",
    "fit",
    "plan",
    "predict",
    "price",
    "scenario",
]
