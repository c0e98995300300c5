"""The Python API: the use cases of the command line, as functions with typed results.

    >>> import inferplan
    >>> fit = inferplan.fit("llama-3.1-8b", "h100-sxm-80gb", context=8192, concurrency=16)
    >>> fit.fits, fit.count
    (True, 1)

Every function raises :class:`inferplan.SpecError` (a bad or unknown value; ``.field``
names it) or :class:`inferplan.InfeasibleError` (valid input that no design meets),
both subclasses of :class:`inferplan.InferplanError`. Scenarios are the YAML format of
``inferplan plan`` (``inferplan schema scenario``), given as a path, a parsed mapping
or a :class:`Scenario`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inferplan.results.memory import MemoryBreakdown
from inferplan.results.perf import PerfResult
from inferplan.results.plan import PlanResult
from inferplan.scenario_io import load_scenario, parse_scenario
from inferplan.specs.scenario import ScenarioSpec as Scenario
from inferplan.tco.results import TcoComparison

ScenarioLike = Scenario | Mapping[str, Any] | str | Path


def scenario(source: ScenarioLike) -> Scenario:
    """A validated :class:`Scenario` from a path, a parsed mapping or a Scenario."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, str | Path):
        return load_scenario(source)
    return parse_scenario(dict(source))


def default_scenario() -> Scenario:
    """The bundled default scenario (what ``inferplan plan`` plans without an argument)."""
    from importlib import resources

    ref = resources.files("inferplan") / "examples" / "default.yaml"
    with resources.as_file(ref) as path:
        return load_scenario(path)


def plan(source: ScenarioLike, calibration: str | None = None) -> PlanResult:
    """Search, size, price and check the rules of a scenario; one recommendation.

    ``calibration`` names a profile written by ``inferplan calibrate``.
    """
    from inferplan.planner.search import plan as run_plan

    hook = None
    if calibration is not None:
        from inferplan.service.calibration_profiles import efficiency_hook, load_profile

        hook = efficiency_hook(load_profile(calibration))
    return run_plan(scenario(source), efficiency_for=hook)


def fit(
    model: str,
    gpu: str,
    *,
    precision: str = "bf16",
    kv_precision: str | None = None,
    engine: str = "vllm",
    context: int | None = None,
    concurrency: int = 1,
    count: int | None = None,
    tp: int | None = None,
    pp: int | None = None,
) -> MemoryBreakdown:
    """Memory fit of ``model`` on ``gpu`` (``inferplan fit``); without ``count``, ``tp``
    or ``pp``, the fewest devices that fit. ``context`` defaults to 4,096 tokens or the
    model's window when shorter."""
    from inferplan.deploy.deployment import fit_layout, resolve
    from inferplan.deploy.layout import layout_of

    d = resolve(model, gpu, engine, precision, kv_precision)
    ctx = context if context is not None else min(4096, d.model.max_context)
    layout = layout_of(count, tp, pp, d.accelerator.max_devices_per_node)
    return fit_layout(d, ctx, concurrency, layout)


def predict(
    model: str,
    gpu: str,
    *,
    isl: int,
    osl: int,
    count: int | None = None,
    tp: int | None = None,
    pp: int | None = None,
    precision: str = "bf16",
    kv_precision: str | None = None,
    engine: str = "vllm",
    batch: int | None = None,
    concurrency: int | None = None,
    rate_rps: float | None = None,
    slo_ttft_ms: float | None = None,
    slo_tpot_ms: float | None = None,
    calibration: str | None = None,
) -> PerfResult:
    """Predicted TTFT/TPOT/ITL/E2E percentiles and throughput (``inferplan perf``).

    At most one regime: ``batch`` (static), ``concurrency`` (closed loop) or
    ``rate_rps`` (Poisson arrivals); none = the highest throughput.
    """
    from inferplan.deploy.deployment import resolve
    from inferplan.deploy.layout import with_replicas
    from inferplan.service.perf import predict as run_predict

    d = resolve(model, gpu, engine, precision, kv_precision)
    if calibration is not None:
        from inferplan.service.calibration_profiles import calibrated, load_profile

        d = calibrated(d, load_profile(calibration))
    d = with_replicas(d, count, tp, pp)
    return run_predict(d, isl, osl, batch, concurrency, rate_rps, slo_ttft_ms, slo_tpot_ms)


def price(source: ScenarioLike) -> TcoComparison:
    """Cash flows, NPV, $/1M tokens and break-evens of a scenario's ``options``
    (``inferplan tco``)."""
    from inferplan.service.tco import price_scenario

    return price_scenario(scenario(source)).comparison


__all__ = [
    "Scenario",
    "default_scenario",
    "fit",
    "plan",
    "predict",
    "price",
    "scenario",
]
