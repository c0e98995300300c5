"""Replica designs: model x accelerator x precision x engine x tensor parallelism.

Mixture-of-experts models also get expert-parallel layouts (:func:`_ep_layouts`): the
routed experts split whole over ``ep`` devices of one node with tensor-parallel attention
(``ep = tp``), or over ``ep`` devices of one node or of whole nodes with attention data
parallelism (one attention group per device); the deployment layer's
:func:`~inferplan.deploy.deployment.expert_layout` says which degrees a model and node
take, the memory fit and the step model (all-to-all over NVLink inside a node and over the
scale-out link between nodes) are the same as for ``perf --ep``.

A design is kept when it fits in memory with room for ``min_concurrency``
sequences at the workload's long (p90) context, and when one replica can meet the
latency targets at all; otherwise the reason is recorded as a rejection.

When the scenario allows them (``candidates.speculative``, ``candidates.disaggregated``),
each layout that fits also gets a speculative-decoding variant per allowed method and a
disaggregated variant (:mod:`inferplan.planner.techniques`), kept only when it serves more
output tokens/s per GPU within the SLO than the plain layout; each dropped variant is a
rejection line with its number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import NamedTuple

from inferplan.deploy.deployment import (
    Deployment,
    expert_layout,
    limits_of,
    memory_of,
    resolve,
    step_model_of,
    with_expert_parallel,
)
from inferplan.errors import InferplanError
from inferplan.executor import Executor, InProcessExecutor, shippable
from inferplan.memory.fit import check_parallelism
from inferplan.perf.workload import lognormal_from_mean_p90
from inferplan.planner.capacity import (
    TPOT_TAIL,
    TTFT_TAIL,
    Capacity,
    capacity_at_slo,
    latency_floor,
    with_shared_prefix,
)
from inferplan.planner.techniques import (
    Technique,
    Variant,
    Workload,
    disagg_variant,
    speculative_variants,
)
from inferplan.results.memory import MemoryBreakdown
from inferplan.specs.engine import EngineEfficiency
from inferplan.specs.hardware import DeviceKind
from inferplan.specs.plan import CandidatesSpec, SloSpec
from inferplan.specs.scenario import ScenarioSpec

TP_DEGREES = (1, 2, 4, 8, 16, 32, 64)
PP_DEGREES = (2, 3, 4, 6, 8)
EP_DEGREES = (2, 4, 8, 16, 32, 64)
"""Expert-parallel degrees tried for MoE models: inside one node, then whole nodes."""

EXPERT_PARALLEL_ENGINES = frozenset({"vllm", "sglang", "trtllm"})
"""Engines that split a MoE model's experts over devices, with attention data parallel:
vLLM ``--enable-expert-parallel`` with ``--data-parallel-size``
(docs.vllm.ai/en/latest/serving/expert_parallel_deployment/), SGLang ``--ep-size`` with
``--enable-dp-attention`` (docs.sglang.io/advanced_features/expert_parallelism.html) and
TensorRT-LLM ``enable_attention_dp`` with expert parallel MoE (its "Parallelism in
TensorRT LLM" feature page)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a family of options was dropped: the stage and the rule or number."""

    family: str
    stage: str
    reason: str
    miss: float | None = None
    """For latency rejections: estimate / target of the worse metric (1.3 = 30 % over)."""


class _Reason(NamedTuple):
    """Why no layout of a family was kept: the stage, one line, and (latency) the miss."""

    stage: str
    text: str
    miss: float | None = None


@dataclass(frozen=True, slots=True)
class Design:
    """One replica that fits and can meet the SLO, with its capacity at the SLO."""

    deployment: Deployment
    memory: MemoryBreakdown
    capacity: Capacity
    technique: Technique | None = None
    """Speculative decoding or disaggregated pools; None for plain colocated replicas.
    The capacity is then that of one unit (a disaggregated unit holds several replicas)."""

    @property
    def label(self) -> str:
        plain = layout_label(self.deployment)
        return plain if self.technique is None else f"{plain} with {self.technique.name}"

    @property
    def devices(self) -> int:
        """Devices of one unit of capacity: a replica, or a disaggregated unit's pools."""
        d = self.deployment
        per_unit = self.technique.replicas_per_unit if self.technique is not None else 1
        return d.devices_per_replica * per_unit

    @property
    def node_devices(self) -> int:
        """Devices that must sit in one node: a replica's tensor-parallel group, an
        expert-parallel group's share of a node (the whole group when it fits in one node,
        else full nodes), or a whole disaggregated unit (its KV transfer runs over the
        node's interconnect)."""
        if self.technique is not None and self.technique.disaggregated:
            return self.devices
        return node_share(self.deployment)


def node_share(d: Deployment) -> int:
    """Devices of one replica that must share a node: the tensor-parallel group, or an
    attention-data-parallel expert group up to the node size (the step model charges
    the all-to-all between nodes on the scale-out link for the rest)."""
    if d.dp_attention > 1:
        return min(d.tp * d.dp_attention, d.accelerator.max_devices_per_node)
    return d.tp


def layout_words(d: Deployment) -> str:
    """A replica's layout in plain words: ``EP 16 with attention data parallelism over 2
    nodes``, ``EP 8 with tensor-parallel attention in one node``, ``tensor parallel 4``,
    ``tensor parallel 8 x 2 pipeline stages``."""
    if d.ep > 1:
        n = d.devices_per_replica
        node = d.accelerator.max_devices_per_node
        where = f"over {n // node} nodes" if n > node else "in one node"
        attn = (
            "attention data parallelism"
            if d.dp_attention > 1
            else "tensor-parallel attention"
        )
        return f"EP {d.ep} with {attn} {where}"
    if d.pp > 1:
        return f"tensor parallel {d.tp} x {d.pp} pipeline stages"
    return f"tensor parallel {d.tp}"


def layout_label(d: Deployment) -> str:
    """``llama-3.1-8b on 1x h100-sxm-80gb (bf16, vllm)``: a replica layout in plain words
    (``deepseek-v3 on 16x h100-sxm-80gb as EP 16 with attention data parallelism over 2
    nodes (fp8, vllm)`` for an expert-parallel one)."""
    if d.ep > 1:
        return (
            f"{d.model.id} on {d.devices_per_replica}x {d.accelerator.id} as {layout_words(d)} "
            f"({d.weights.precision.value}, {d.engine.id})"
        )
    par = f"{d.tp}x" if d.pp == 1 else f"{d.pp} stages x {d.tp}x"
    return f"{d.model.id} on {par} {d.accelerator.id} ({d.weights.precision.value}, {d.engine.id})"


def workload_lengths(scenario: ScenarioSpec) -> tuple[float, float, int]:
    """(mean prompt tokens, mean output tokens, long context for memory sizing)."""
    w = scenario.workload
    isl, osl = w.input_tokens_mean, w.output_tokens_mean
    long_ctx = int((w.input_tokens_p90 or 2 * isl) + (w.output_tokens_p90 or 2 * osl))
    return isl, osl, long_ctx


TAIL_PERCENTILE_Z = 1.6449  # z of the 95th percentile


def prompt_tail(scenario: ScenarioSpec) -> float:
    """95th percentile of prompt lengths under the log-normal the simulator samples."""
    w = scenario.workload
    dist = lognormal_from_mean_p90(w.input_tokens_mean, w.input_tokens_p90)
    sigma = dist.shape_sigma
    mu = math.log(dist.mean) - sigma * sigma / 2.0
    return math.exp(mu + TAIL_PERCENTILE_Z * sigma)


def prefix_share(scenario: ScenarioSpec) -> float:
    """Share of every prompt the engine finds in its prefix cache: the scenario's
    ``workload.cached_input_share`` (a shared system prompt or RAG template), the
    same setting that prices an API's cached input tokens."""
    return scenario.workload.cached_input_share


WEIGHT_ONLY_ENGINES = frozenset({"vllm"})
"""Engines that serve FP8 and MXFP4 checkpoints on GPUs without those tensor cores
through weight-only Marlin kernels (16-bit compute): vLLM docs, FP8 W8A8
("Turing/Ampere GPUs are supported for W8A16 (weight-only FP8) utilizing Marlin
kernels", docs.vllm.ai/en/stable/features/quantization/fp8/) and the gpt-oss
recipe (H100/H200 supported, A100 through Marlin MXFP4 MoE,
github.com/vllm-project/recipes OpenAI/GPT-OSS.md)."""


def _compatible(d: Deployment) -> tuple[Deployment | None, str | None]:
    """The deployment as the engine runs it on this accelerator, or why it cannot.

    FP8 or MXFP4 weights on an NVIDIA GPU without those tensor cores (but with
    16-bit ones, Ampere or newer) run weight-only on vLLM: the weights keep their
    size, the GEMMs run at the 16-bit rate. FP8 MoE models are not served this way
    (vLLM's fused-MoE kernel has no FP8 Marlin path).
    """
    a, w = d.accelerator, d.weights
    if w.compute == "fp8" and not w.weight_only and a.peak_flops.fp8 is None:
        if _weight_only_ok(d) and not d.model.is_moe:
            return replace(d, weights=replace(w, compute="fp16", weight_only=True)), None
        if d.model.is_moe and _weight_only_ok(d):
            return None, (
                f"{a.id} has no FP8 tensor cores, and {d.engine.id} serves FP8 mixture-of-experts "
                "models only on GPUs that have them"
            )
        return None, f"{a.id} has no FP8 tensor cores and {d.engine.id} has no weight-only FP8 path"
    if w.compute == "fp4" and a.peak_flops.fp4 is None:
        if w.precision.value == "mxfp4" and _weight_only_ok(d):
            return replace(d, weights=replace(w, compute="fp16", weight_only=True)), None
        return None, f"{a.id} has no FP4 tensor cores and {d.engine.id} has no weight-only path"
    return d, None


def _weight_only_ok(d: Deployment) -> bool:
    a = d.accelerator
    return (
        d.engine.id in WEIGHT_ONLY_ENGINES
        and a.vendor.lower() == "nvidia"
        and a.peak_flops.bf16 is not None
    )


EfficiencyHook = Callable[[Deployment], EngineEfficiency | None]


def find_designs(
    scenario: ScenarioSpec,
    accelerators: list[str],
    slo: SloSpec,
    efficiency_for: EfficiencyHook | None = None,
    executor: Executor | None = None,
) -> tuple[list[Design], list[Rejection]]:
    """Every feasible design of the scenario's models, and why the others failed.

    ``efficiency_for`` may return calibrated efficiencies for a deployment (a
    calibration profile measured on that accelerator and engine), else None.
    ``executor`` evaluates the model x accelerator x precision x engine families in
    chunks (default in-process); the results keep the loop order of the families.
    A hook that cannot be pickled keeps the evaluation in this process.
    """
    cand = scenario.candidates
    families = [
        (model_id, acc_id, prec, engine)
        for model_id in scenario.models
        for acc_id in accelerators
        for prec in cand.precisions
        for engine in cand.engines
    ]
    ex: Executor = executor or InProcessExecutor()
    if efficiency_for is not None and not shippable(ex, efficiency_for):
        ex = InProcessExecutor()
    results = ex.map(partial(_family, scenario, slo, efficiency_for), families)
    designs: list[Design] = []
    rejected: list[Rejection] = []
    for found, rejections in results:
        designs += found
        rejected += rejections
    return designs, rejected


def _family(
    scenario: ScenarioSpec,
    slo: SloSpec,
    efficiency_for: EfficiencyHook | None,
    family_key: tuple[str, str, str, str],
) -> tuple[list[Design], list[Rejection]]:
    """The designs of one model / accelerator / precision / engine, or why there are none."""
    model_id, acc_id, prec, engine = family_key
    cand = scenario.candidates
    isl, osl, long_ctx = workload_lengths(scenario)
    family = f"{model_id} / {acc_id} / {prec} / {engine}"
    try:
        base = resolve(model_id, acc_id, engine, prec, cand.kv_precision)
    except InferplanError as exc:
        return [], [Rejection(family, "precision", str(exc))]
    if efficiency_for is not None:
        base = replace(base, efficiency=efficiency_for(base))
    runnable, why = _compatible(base)
    if runnable is None:
        return [], [Rejection(family, "precision", why or "not runnable")]
    base = runnable
    tech_dropped: list[Rejection] = []
    found, reason, misses = _designs_for(
        base,
        long_ctx,
        isl,
        osl,
        slo,
        cand,
        prompt_tail(scenario),
        prefix_share(scenario),
        tech_dropped,
    )
    no_ep = _no_expert_parallel(base, family)
    if not found:
        text = reason.text
        if misses:
            text += ". Each layout tried: " + "; ".join(misses)
        return [], [Rejection(family, reason.stage, text, reason.miss), *tech_dropped, *no_ep]
    kept, dominated = [], []
    for group in _by_technique(found):
        k, dm = _undominated(group)
        kept += k
        dominated += dm
    dominated += tech_dropped + no_ep
    if "none" not in cand.speculative:
        dominated.append(
            Rejection(
                family,
                "technique",
                "plain decoding is not in candidates.speculative "
                f"({', '.join(cand.speculative)}): only speculative designs are considered",
            )
        )
    if misses:
        kept_names = ", ".join(
            short_layout(x.deployment)
            + (f" {x.technique.short}" if x.technique is not None else "")
            for x in kept
        )
        dropped = len(found) - len(kept)
        tail = f"; {dropped} more dominated (their own lines)" if dropped else ""
        dominated.append(
            Rejection(
                family,
                "layout",
                "; ".join(misses) + f" (kept: {kept_names}{tail})",
            )
        )
    return kept, dominated


def _layouts(base: Deployment, cand: CandidatesSpec) -> list[tuple[int, int]]:
    """(tp, pp) to try: every tensor-parallel degree up to the node size, then, only
    when no single node holds the model, pipeline stages of full nodes."""
    a = base.accelerator
    if a.kind in (DeviceKind.CPU, DeviceKind.SOC):
        return [(1, 1)]
    node = min(a.max_devices_per_node, cand.max_devices_per_replica)
    out = []
    for tp in TP_DEGREES:
        if tp > node:
            break
        try:
            check_parallelism(base.model, a, tp, 1)
        except InferplanError:
            continue
        out.append((tp, 1))
    if out:
        top = out[-1][0]
        out += [
            (top, pp)
            for pp in PP_DEGREES
            if top * pp <= cand.max_devices_per_replica and pp <= base.model.num_layers
        ]
    return out


def _no_expert_parallel(base: Deployment, family: str) -> list[Rejection]:
    """One line when a MoE model on a GPU gets no expert-parallel layouts because of its
    engine; none otherwise."""
    a = base.accelerator
    if (
        not base.model.is_moe
        or a.kind in (DeviceKind.CPU, DeviceKind.SOC)
        or base.engine.id in EXPERT_PARALLEL_ENGINES
    ):
        return []
    return [
        Rejection(
            family,
            "layout",
            f"expert-parallel layouts are not tried on {base.engine.id}: inferplan models "
            f"expert parallelism only for {', '.join(sorted(EXPERT_PARALLEL_ENGINES))}, so "
            "the experts are tensor parallel",
        )
    ]


def _ep_layouts(base: Deployment, cand: CandidatesSpec) -> list[Deployment]:
    """Expert-parallel replicas to try for a MoE model on an engine that runs them:
    ``ep`` in :data:`EP_DEGREES` up to ``candidates.max_devices_per_replica``, with
    tensor-parallel attention (``ep = tp``, inside one node) and with attention data
    parallelism (one attention group per device, ``ep`` devices of one node or of whole
    nodes), each as :func:`~inferplan.deploy.deployment.expert_layout` allows (``ep``
    divides the routed experts, whole nodes) and the attention heads split ``tp`` ways."""
    m, a = base.model, base.accelerator
    if (
        not m.is_moe
        or a.kind in (DeviceKind.CPU, DeviceKind.SOC)
        or base.engine.id not in EXPERT_PARALLEL_ENGINES
    ):
        return []
    out: list[Deployment] = []
    for ep in EP_DEGREES:
        if ep > cand.max_devices_per_replica:
            break
        for dp in (False, True):
            try:
                tp, _, _ = expert_layout(m, a, ep, dp)
                check_parallelism(m, a, tp, 1)
                out.append(with_expert_parallel(base, ep, dp))
            except InferplanError:
                continue
    return out


def _designs_for(
    base: Deployment,
    long_ctx: int,
    isl: float,
    osl: float,
    slo: SloSpec,
    cand: CandidatesSpec,
    isl_tail: float,
    share: float = 0.0,
    dropped: list[Rejection] | None = None,
) -> tuple[list[Design], _Reason, list[str]]:
    """Every layout that fits and meets the SLO, less those another layout of the
    family dominates (fewer or as many GPUs per replica and at least as many
    output tokens/s per GPU at the SLO). Pipeline layouts are tried only when no
    tensor-parallel layout inside one node fits in memory.

    Also returns, for every layout tried and not kept, one short line with its
    number (``"tp 1: weights and runtime need ... GB per device; ..."``, ``"tp 2: p95
    TTFT 2.30 s > 2.00 s"``), so that no layout disappears without a reason.

    ``share``: the shared-prefix share of every prompt (prefix cache), which cuts
    the prefill computed and the private KV of each sequence.

    Pipeline stages: the step time is that of the whole model at the stage's
    tensor-parallel degree (stages run one after another for a token; no
    micro-batch overlap is counted, so throughput is conservative).

    ``dropped`` collects one line for each technique variant (speculative decoding,
    disaggregated pools) tried on a layout and not kept.
    """
    out: list[Design] = []
    ctx = min(long_ctx, base.model.max_context)
    work = Workload(isl, osl, isl_tail, share, slo.ttft_ms / 1e3, slo.tpot_ms / 1e3, ctx)
    node = min(base.accelerator.max_devices_per_node, cand.max_devices_per_replica)
    plain_allowed = "none" in cand.speculative
    misses: list[str] = []
    a = base.accelerator
    reason = _Reason(
        "memory",
        f"{base.model.id} at {base.weights.precision.value} does not fit in "
        f"{cand.max_devices_per_replica} x {a.id} (candidates.max_devices_per_replica)",
    )
    closest: tuple[float, str] | None = None
    single_node_fit = False
    layouts = [replace(base, tp=tp, pp=pp, replicas=1) for tp, pp in _layouts(base, cand)]
    layouts += _ep_layouts(base, cand)
    for d in layouts:
        if d.pp > 1 and single_node_fit:
            continue
        name = short_layout(d)
        mem = memory_of(d, ctx, cand.min_concurrency)
        if not mem.fits:
            misses.append(f"{name}: {mem.reason.replace('; ', ', ')}")
            if not out and closest is None:
                reason = _Reason("memory", f"on {d.devices_per_replica} x {a.id}: {mem.reason}")
            continue
        single_node_fit = single_node_fit or (d.pp == 1 and d.ep == 1)
        step = step_model_of(d)
        limits = with_shared_prefix(limits_of(d, mem), isl, share)
        cap = capacity_at_slo(
            step, limits, isl, osl, slo.ttft_ms / 1e3, slo.tpot_ms / 1e3, isl_tail, share
        )
        variants = speculative_variants(d, mem, cap, work, cand)
        if cand.disaggregated:
            variants.append(disagg_variant(d, mem, cap, work, node))
        out += _kept(d, mem, variants, dropped)
        if not plain_allowed:
            continue
        if cap is None:
            tpot, ttft = latency_floor(step, limits, isl, osl, isl_tail, share)
            miss = max(ttft * TTFT_TAIL * 1e3 / slo.ttft_ms, tpot * TPOT_TAIL * 1e3 / slo.tpot_ms)
            misses.append(f"{name}: {_slo_numbers(ttft, tpot, slo)}")
            if closest is None or miss < closest[0]:
                closest = (miss, _slo_sentence(d, ttft, tpot, isl_tail, slo))
            continue
        out.append(Design(d, mem, cap))
    if closest is not None and not out:
        reason = _Reason("slo", closest[1], closest[0])
    return out, reason, misses


def _kept(
    d: Deployment,
    mem: MemoryBreakdown,
    variants: list[Variant],
    dropped: list[Rejection] | None,
) -> list[Design]:
    """The variants kept as designs; a rejection line for each of the others."""
    out: list[Design] = []
    for v in variants:
        if v.technique is not None and v.capacity is not None:
            out.append(Design(d, mem, v.capacity, v.technique))
        elif dropped is not None:
            where = d.model.id if v.per_model else layout_label(d)
            dropped.append(Rejection(f"{where} with {v.label}", "technique", v.reason))
    return out


def layout_name(tp: int, pp: int) -> str:
    """``tp 4`` or ``tp 8 x 2 stages``: how a layout is named in rejection lines."""
    return f"tp {tp}" if pp == 1 else f"tp {tp} x {pp} stages"


def short_layout(d: Deployment) -> str:
    """``tp 4``, ``tp 8 x 2 stages``, ``ep 8``, ``ep 16 + dp attention``: a design's
    layout in rejection and kept lists."""
    if d.ep > 1:
        return f"ep {d.ep}" + (" + dp attention" if d.dp_attention > 1 else "")
    return layout_name(d.tp, d.pp)


def _slo_numbers(ttft_s: float, tpot_s: float, slo: SloSpec) -> str:
    """The latency numbers a layout misses, with the planning margins applied."""
    parts = []
    if ttft_s * TTFT_TAIL * 1e3 > slo.ttft_ms:
        parts.append(f"p95 TTFT {_duration(ttft_s * TTFT_TAIL)} > {_duration(slo.ttft_ms / 1e3)}")
    if tpot_s * TPOT_TAIL * 1e3 > slo.tpot_ms:
        parts.append(f"p95 TPOT {tpot_s * TPOT_TAIL * 1e3:.0f} ms > {slo.tpot_ms:g} ms")
    return ", ".join(parts) or "misses the latency targets"


def _duration(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f} ms" if seconds < 1.0 else f"{seconds:,.2f} s"


def _slo_sentence(
    d: Deployment, ttft_s: float, tpot_s: float, isl_tail: float, slo: SloSpec
) -> str:
    n = d.devices_per_replica
    parts = []
    if ttft_s * TTFT_TAIL * 1e3 > slo.ttft_ms:
        parts.append(
            f"its p95 prompt of {isl_tail:,.0f} tokens takes {_duration(ttft_s)} to the first "
            f"token on {n} x {d.accelerator.id} alone ({_duration(ttft_s * TTFT_TAIL)} with the "
            f"{TTFT_TAIL:g}x queueing margin); the target is {_duration(slo.ttft_ms / 1e3)}"
        )
    if tpot_s * TPOT_TAIL * 1e3 > slo.tpot_ms:
        parts.append(
            f"one output token takes {tpot_s * 1e3:.0f} ms on {n} x {d.accelerator.id} "
            f"({tpot_s * TPOT_TAIL * 1e3:.0f} ms at the p95 allowance of {TPOT_TAIL:g}x); "
            f"the target is {slo.tpot_ms:g} ms"
        )
    return "; ".join(parts) or f"misses the targets on {n} x {d.accelerator.id}"


def _by_technique(designs: list[Design]) -> list[list[Design]]:
    """Designs grouped by serving technique (plain first), in their order: a layout is
    compared only with layouts serving the same way, so that plain replicas stay priced
    beside the variants and the ranking, not a per-GPU rule, decides between them."""
    groups: dict[str, list[Design]] = {}
    for d in designs:
        groups.setdefault(d.technique.short if d.technique else "", []).append(d)
    return [g for _, g in sorted(groups.items(), key=lambda kv: kv[0] != "")]  # stable


def _undominated(designs: list[Design]) -> tuple[list[Design], list[Rejection]]:
    """Designs no other of the family beats on both GPUs per replica (fewer) and
    output tokens/s per GPU at the SLO (more, by over 2 %), and why the rest lost."""
    keep: list[Design] = []
    dropped: list[Rejection] = []
    best: Design | None = None
    best_per_gpu = 0.0
    # at equal size the layout serving more per GPU comes first (an expert-parallel and a
    # tensor-parallel replica of the same GPUs), so that it is the one kept
    ordered = sorted(designs, key=lambda x: (x.devices, -x.capacity.output_tokens_per_s))
    for d in ordered:
        n = d.devices
        per_gpu = d.capacity.output_tokens_per_s / n
        if best is None or per_gpu > best_per_gpu * 1.02:
            keep.append(d)
            best, best_per_gpu = d, per_gpu
            continue
        nb = best.devices
        if nb == n:
            why = (
                f"{n} GPUs per replica serve {per_gpu:,.0f} output tokens/s per GPU within the "
                f"SLO; {best.label} on as many GPUs serves {best_per_gpu:,.0f} per GPU"
            )
        else:
            why = (
                f"{n} GPUs per replica serve {per_gpu:,.0f} output tokens/s per GPU within the "
                f"SLO; {nb} GPUs per replica already serve {best_per_gpu:,.0f} per GPU, so the "
                "larger replica never costs less"
            )
        dropped.append(Rejection(d.label, "dominated", why))
    return keep, dropped
