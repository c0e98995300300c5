"""Resolve catalog ids into a deployment: memory fit, step-time model, scheduler limits.

A replica is ``pp`` pipeline stages of ``tp x dp_attention`` devices. Attention, dense
layers and the LM head are tensor parallel over ``tp`` devices and, with attention data
parallelism, replicated over ``dp_attention`` groups that each serve their own
sequences; the routed experts of MoE layers are tensor parallel over ``tp`` (``ep`` = 1)
or split whole over ``ep`` devices: ``ep = tp`` without attention data parallelism
(vLLM ``--enable-expert-parallel``), ``ep = tp x dp_attention`` with it (SGLang
``--enable-dp-attention --ep-size``).
"""

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
    ep: int = 1
    dp_attention: int = 1
    redundant_experts: int = 0

    @property
    def devices_per_replica(self) -> int:
        """Devices of one replica: ``tp x dp_attention x pp``."""
        return self.tp * self.dp_attention * self.pp

    @property
    def devices(self) -> int:
        return self.devices_per_replica * self.replicas


def expert_layout(
    m: ModelSpec,
    a: AcceleratorSpec,
    ep: int,
    dp_attention: bool,
    tp: int | None = None,
    redundant_experts: int = 0,
) -> tuple[int, int, int]:
    """(tp, ep, dp_attention) of a replica with ``ep``-way expert parallelism.

    Without attention data parallelism the tensor-parallel group holds the experts
    (``tp`` = ``ep``); with it, ``ep / tp`` groups of ``tp`` devices (``tp`` 1 by default)
    each run attention for their own sequences. An expert-parallel group larger than a node
    spans whole nodes. ``ep`` must divide the routed experts plus ``redundant_experts``
    copies of popular ones (EPLB; SGLang ``--ep-num-redundant-experts``).

    >>> from inferplan.catalog import load_accelerators, load_models
    >>> ds, h100 = load_models().get("deepseek-v3"), load_accelerators().get("h100-sxm-80gb")
    >>> expert_layout(ds, h100, 8, False), expert_layout(ds, h100, 72, True, None, 32)
    ((8, 8, 1), (1, 72, 72))
    """
    if ep < 1:
        raise SpecError("ep", "must be >= 1")
    if ep > 1 and not m.is_moe:
        raise SpecError("ep", f"{m.id} has no routed experts; ep must be 1")
    if redundant_experts < 0 or (redundant_experts and ep < 2):
        raise SpecError("redundant-experts", "must be >= 0, and only with ep >= 2")
    if m.is_moe and ep > m.num_experts:
        raise SpecError(
            "ep", f"{m.id} has {m.num_experts} routed experts per layer; ep must not exceed it"
        )
    if m.is_moe and (m.num_experts + redundant_experts) % ep:
        raise SpecError(
            "ep", f"must divide {m.id}'s {m.num_experts} routed experts"
            + (f" plus {redundant_experts} redundant" if redundant_experts else "")
            + "; add redundant copies with --redundant-experts to use other degrees"
        )
    node = a.max_devices_per_node
    if ep > node and ep % node:
        raise SpecError(
            "ep", f"an expert-parallel group over {node}-device nodes must fill whole nodes; "
            f"ep {ep} is not a multiple of {node}"
        )
    if not dp_attention:
        if ep > node:
            raise SpecError(
                "ep", f"without attention data parallelism ep is the tensor-parallel degree and "
                f"must not exceed the node's {node} devices; add --dp-attention"
            )
        if tp is not None and ep > 1 and tp != ep:
            raise SpecError(
                "ep", f"must equal tp ({tp}) without attention data parallelism "
                "(the tensor-parallel group holds the experts); add --dp-attention"
            )
        t = tp if tp is not None else ep
        return t, ep, 1
    if ep < 2:
        raise SpecError("dp-attention", "needs ep >= 2 (attention data parallel over ep devices)")
    t = 1 if tp is None else tp
    if t < 1 or ep % t:
        raise SpecError("tp", f"with attention data parallelism tp must divide ep ({ep})")
    return t, ep, ep // t


def with_expert_parallel(
    d: Deployment,
    ep: int,
    dp_attention: bool,
    tp: int | None = None,
    pp: int | None = None,
    count: int | None = None,
    redundant_experts: int = 0,
) -> Deployment:
    """``d`` with ``ep``-way expert parallelism (:func:`expert_layout`), on ``count``
    devices in all (one replica by default)."""
    t, e, dp = expert_layout(d.model, d.accelerator, ep, dp_attention, tp, redundant_experts)
    p = pp or 1
    if p < 1:
        raise SpecError("pp", "must be >= 1")
    group = t * dp * p
    total = count if count is not None else group
    if total < 1 or total % group:
        raise SpecError(
            "count", f"{total} devices do not split into replicas of tp x dp x pp = {group}"
        )
    return replace(
        d,
        tp=t,
        pp=p,
        ep=e,
        dp_attention=dp,
        redundant_experts=redundant_experts,
        replicas=total // group,
    )


def resolve(
    model: str,
    gpu: str,
    engine: str = "vllm",
    precision: str = "bf16",
    kv_precision: str | None = None,
    tp: int = 1,
    pp: int = 1,
    replicas: int = 1,
    ep: int = 1,
    dp_attention: bool = False,
    redundant_experts: int = 0,
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
    d = Deployment(m, a, e, w, kv, tp, pp, replicas)
    if ep > 1 or dp_attention or redundant_experts:
        t, ep, dp = expert_layout(m, a, ep, dp_attention, tp, redundant_experts)
        d = replace(d, tp=t, ep=ep, dp_attention=dp, redundant_experts=redundant_experts)
    return d


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
            ep=d.ep,
            redundant_experts=d.redundant_experts,
            dp=d.dp_attention,
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
        ep=d.ep,
        redundant_experts=d.redundant_experts,
        dp=d.dp_attention,
    )
    if layout is None and d.ep > 1:
        return fit(replace(req, tp=d.tp, pp=d.pp))
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
        ep=d.ep,
        dp=d.dp_attention,
        redundant_experts=d.redundant_experts,
    )


def limits_of(d: Deployment, mem: MemoryBreakdown) -> SchedulerLimits:
    """Scheduler limits of one replica, with the KV capacity the memory fit leaves.

    Each attention data-parallel group runs its own scheduler, so the engine's default
    limits hold per group (``dp_attention`` times them per replica). The defaults are the
    ones the engine picks on ``d``'s accelerator (vLLM: larger on big GPUs, see
    :meth:`inferplan.specs.engine.EngineScheduler.defaults_for`); limits the deployment
    states win."""
    s = d.engine.scheduler
    dp = d.dp_attention
    seqs, tokens = s.defaults_for(d.accelerator)
    return SchedulerLimits(
        max_num_seqs=d.max_num_seqs or seqs * dp,
        max_num_batched_tokens=d.max_num_batched_tokens or tokens * dp,
        kv_capacity_tokens=max(1, mem.kv_capacity_tokens),
        chunked_prefill=s.chunked_prefill,
        kv_block_tokens=d.engine.memory.kv_block_tokens,
        admission=s.admission,
    )
