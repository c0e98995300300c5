"""Grid fitting of engine efficiency parameters against published validation cases, shared by
``fit_metal.py`` and ``fit_cpu.py``.

The error of a case is ``predicted / measured - 1`` through the service layer's
:func:`~inferplan.service.validation.predict_case` with the engine's efficiency replaced; a grid
search over two parameters keeps the point with the least sum of squared relative errors, or
(``robust``) the least sum of absolute log errors, which a few rows with an effect the model
lacks cannot pull as far.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from inferplan.service.cases import ValidationCase
from inferplan.service.validation import predict_case
from inferplan.specs.engine import EngineEfficiency


def errors(
    eff: EngineEfficiency, cases: Sequence[ValidationCase], engine: str = "llamacpp"
) -> list[float]:
    """Relative errors (predicted / measured - 1) of ``cases`` under ``eff`` for ``engine``."""
    return [predict_case(c, {engine: eff}).value / c.value - 1.0 for c in cases]


def best(
    base: EngineEfficiency,
    cases: Sequence[ValidationCase],
    grid: dict[str, Sequence[float]],
    robust: bool = False,
) -> EngineEfficiency:
    """The grid point (two parameters) with the least sum of squared relative errors
    (``robust``: of absolute log errors)."""
    (k1, v1), (k2, v2) = grid.items()
    scored = []
    for a in v1:
        for b in v2:
            eff = base.model_copy(update={k1: a, k2: b})
            errs = errors(eff, cases)
            loss = sum(abs(math.log1p(e)) for e in errs) if robust else sum(e * e for e in errs)
            scored.append((loss, a, b))
    _, a, b = min(scored)
    return base.model_copy(update={k1: a, k2: b})


def report(name: str, eff: EngineEfficiency, cases: Sequence[ValidationCase]) -> None:
    """Print the count, median and worst absolute error of ``cases`` under ``eff``."""
    errs = [abs(e) for e in errors(eff, cases)]
    print(
        f"{name}: {len(cases)} cases, median {100 * statistics.median(errs):.1f}%, "
        f"worst {100 * max(errs):.1f}%"
    )
