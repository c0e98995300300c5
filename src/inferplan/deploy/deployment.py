"""Resolve catalog ids into a deployment: memory fit, step-time model, scheduler limits."""

from __future__ import annotations

from dataclasses import dataclass, replace

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.errors import SpecError
from inferplan.memory.fit import FitRequest, fit, min_devices
from inferplan.perf.batch import SchedulerLimits
from inferplan.perf.step import StepModel, build_step_model
from inferplan.results.memory import MemoryBreakdown
from inferplan.specs.engine import EngineEfficiency, EngineSpec
from inferplan.specs.hardware import AcceleratorSpec
from inferplan.specs.model import ModelSpec
from inferplan.specs.precision import (
    KV_PRECISIONS,
    PrecisionInfo,
    kv_bytes_per_element,
    parse_precision,
)


@dataclass(frozen=True, slots=True)
class Deployment:
    """One replica's configuration (TP x PP devices) and how many replicas run."""

    model: ModelSpec
    accelerator: AcceleratorSpec
    engine: EngineSpec
    weights: PrecisionInfo
    kv_precision: str
    tp: int = 1
    pp: int = 1
    replicas: int = 1
    max_num_seqs: int | None = None
    max_num_batched_tokens: int | None = None
    efficiency: EngineEfficiency | None = None

    @property
    def devices(self) -> int:
        return self.tp * self.pp * self.replicas


def resolve(
    model: str,
    gpu: str,
    engine: str = "vllm",
    precision: str = "bf16",
    kv_precision: str | None = None,
    tp: int = 1,
    pp: int = 1,
    replicas: int = 1,
) -> Deployment:
    """Look every id up in the catalogs; unknown ids raise with suggestions."""
    m = load_models().get(model, "model")
    a = load_accelerators().get(gpu, "gpu")
    e = load_engines().get(engine, "engine")
    w = parse_precision(precision, "precision")
    if w.gguf and not e.supports_gguf:
        raise SpecError("precision", f"GGUF format {w.precision.value} needs engine llamacpp")
    if kv_precision is None:  # derived from the weights: a KV format engines offer
        kv = "fp16" if w.bits_per_weight < 16 or w.gguf else w.precision.value
        if kv not in ("fp32", "bf16", "fp16", "fp8", "int8"):
            kv = "fp16"
    else:  # the user's value: checked, never replaced
        try:
            kv_bytes_per_element(kv_precision, "kv_precision")
        except SpecError:
            allowed = ", ".join(p.value for p in KV_PRECISIONS)
            raise SpecError(
                "kv_precision", f"'{kv_precision}' is not a KV-cache precision; allowed: {allowed}"
            ) from None
        kv = parse_precision(kv_precision, "kv_precision").precision.value
    if replicas < 1:
        raise SpecError("count", "must be >= 1")
    return Deployment(m, a, e, w, kv, tp, pp, replicas)


def memory_of(d: Deployment, context_tokens: int = 2048, concurrency: int = 1) -> MemoryBreakdown:
    """Memory breakdown of one replica of ``d``."""
    return fit(
        FitRequest(
            model=d.model,
            accelerator=d.accelerator,
            engine=d.engine,
            weights=d.weights,
            kv_precision=d.kv_precision,
            tp=d.tp,
            pp=d.pp,
            context_tokens=min(context_tokens, d.model.max_context),
            concurrency=concurrency,
            max_num_batched_tokens=d.max_num_batched_tokens,
            max_num_seqs=d.max_num_seqs,
        )
    )


def fit_layout(
    d: Deployment, context_tokens: int, concurrency: int, layout: tuple[int, int] | None
) -> MemoryBreakdown:
    """Memory fit of ``d`` on a (tp, pp) layout, or on the fewest devices that fit."""
    req = FitRequest(
        model=d.model,
        accelerator=d.accelerator,
        engine=d.engine,
        weights=d.weights,
        kv_precision=d.kv_precision,
        context_tokens=context_tokens,
        concurrency=concurrency,
    )
    if layout is None:
        found = min_devices(req)
        return found if found is not None else fit(req)
    return fit(replace(req, tp=layout[0], pp=layout[1]))


def step_model_of(d: Deployment) -> StepModel:
    """The step-time model of one replica of ``d``."""
    return build_step_model(
        d.model,
        d.accelerator,
        d.weights,
        d.kv_precision,
        d.efficiency or d.engine.efficiency,
        tp=d.tp,
        fp8_compute=d.engine.supports_fp8_compute,
        pp=d.pp,
    )


def limits_of(d: Deployment, mem: MemoryBreakdown) -> SchedulerLimits:
    """Scheduler limits of one replica, with the KV capacity the memory fit leaves."""
    s = d.engine.scheduler
    return SchedulerLimits(
        max_num_seqs=d.max_num_seqs or s.max_num_seqs,
        max_num_batched_tokens=d.max_num_batched_tokens or s.max_num_batched_tokens,
        kv_capacity_tokens=max(1, mem.kv_capacity_tokens),
        chunked_prefill=s.chunked_prefill,
        kv_block_tokens=d.engine.memory.kv_block_tokens,
        admission=s.admission,
    )
