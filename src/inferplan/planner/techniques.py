"""Serving techniques the planner may add to a replica design: speculative decoding and
disaggregated prefill and decode pools (both opt-in, ``candidates.speculative`` and
``candidates.disaggregated``).

Speculative decoding (:mod:`inferplan.perf.speculative`) runs the design's replica with a
drafter: a draft model of the same family and vocabulary (its weights and KV take memory
from the target's KV cache), the model's own multi-token-prediction module, or n-gram
lookup. The replica's step model becomes the mean time per emitted token, so the same
closed form and simulator size it. It pays where weight streaming dominates a step
(small batches) and stops paying when the batch makes the ``k + 1`` verified rows cost
compute; a variant is kept only when it serves more output tokens per second within the
SLO than plain decoding on the same layout (or when plain decoding misses the SLO).

Disaggregated serving (:mod:`inferplan.perf.disagg`): a unit of ``n_p`` prefill replicas
and ``n_d`` decode replicas of the design's layout inside one node (the KV cache moves over
the node's interconnect; across nodes the network would carry it, which is not modelled).
The rates of each pool and their ratio ``r`` (prefill replicas per decode replica) are
:func:`~inferplan.perf.disagg.disaggregated`'s at the decode batch the SLO allows; a unit
serves ``min(n_d x decode rate, n_p x prefill rate)``, and its size divides the node's so
that whole units fill whole servers. Its capacity is that module's steady state (closed
form), which the refinement scales by the plain designs' simulated / closed-form median
(the decode pool is plain serving; :mod:`inferplan.planner.refine`); the simulator does
not run two pools, and the option's latency source says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from inferplan.catalog import load_models
from inferplan.deploy.deployment import Deployment, limits_of, step_model_of
from inferplan.deploy.disaggregation import disagg_steady
from inferplan.deploy.speculation import draft_problem, mtp_missing, speculative_runtime
from inferplan.errors import InferplanError
from inferplan.memory.params import total_params
from inferplan.perf.batch import BatchShape, SchedulerLimits, StepTimeModel
from inferplan.perf.disagg import DisaggResult
from inferplan.perf.regimes import prefill_time_s, running_batch
from inferplan.perf.speculative import SpeculativeSpec
from inferplan.planner.capacity import (
    TPOT_TAIL,
    TTFT_TAIL,
    Capacity,
    capacity_at_slo,
    latency_floor,
    with_shared_prefix,
)
from inferplan.results.memory import MemoryBreakdown
from inferplan.specs.plan import CandidatesSpec, DraftMethod
from inferplan.specs.scenario import ScenarioSpec

SPEC_WITH_DP_ATTENTION = (
    "a draft model beside attention data-parallel groups is not modelled (its own steps "
    "would need a replica per group)"
)
"""Why draft-model variants are not tried on attention-data-parallel layouts."""

DRAFT_MAX_SHARE = 0.25
"""A draft model is chosen automatically only when it has at most this share of the
target's parameters (inferplan assumption: a drafter as large as a third of the target
costs about as much per token as it saves)."""


@dataclass(frozen=True, slots=True)
class Technique:
    """How a design serves beyond plain colocated decoding.

    ``speculative``: the drafter, its draft length and acceptance rate, with
    ``draft_model`` (a catalog id) for the draft-model method and ``speedup`` (decode speed
    with speculation over without at the design's batch). ``disaggregated``: the unit's
    ``prefill_replicas`` and ``decode_replicas``, the ratio
    ``prefill_per_decode`` :func:`~inferplan.perf.disagg.disaggregated` computed, and the
    KV transfer time of a mean prompt.
    """

    kind: Literal["speculative", "disaggregated"]
    speculative: SpeculativeSpec | None = None
    draft_model: str | None = None
    speedup: float = 1.0
    prefill_replicas: int = 0
    decode_replicas: int = 0
    prefill_per_decode: float = 0.0
    kv_transfer_s: float = 0.0

    @property
    def replicas_per_unit(self) -> int:
        """Replicas of the design's layout one unit holds (1 unless disaggregated)."""
        return self.prefill_replicas + self.decode_replicas if self.disaggregated else 1

    @property
    def disaggregated(self) -> bool:
        return self.kind == "disaggregated"

    @property
    def name(self) -> str:
        """How the technique is named in the plan (headline, options, report)."""
        if self.speculative is not None:
            s = self.speculative
            who = f"draft model {self.draft_model}" if self.draft_model else s.method
            return (
                f"speculative decoding ({who}, {s.draft_tokens} draft token"
                f"{'s' if s.draft_tokens > 1 else ''}, acceptance {s.acceptance_rate:g})"
            )
        return (
            f"disaggregated prefill and decode ({self.prefill_replicas} prefill + "
            f"{self.decode_replicas} decode replica{'s' if self.decode_replicas > 1 else ''} "
            "per node)"
        )

    @property
    def short(self) -> str:
        """A suffix for option names: ``spec mtp``, ``spec llama-3.2-1b``, ``disagg 1p+3d``."""
        if self.speculative is not None:
            return f"spec {self.draft_model or self.speculative.method}"
        return f"disagg {self.prefill_replicas}p+{self.decode_replicas}d"


def draft_for(target: Deployment, cand: CandidatesSpec) -> tuple[str | None, str]:
    """The draft model for ``target`` (``candidates.draft_model`` or the smallest catalog
    model of the same family and vocabulary with at most ``DRAFT_MAX_SHARE`` of its
    parameters), or None and why there is none."""
    models = load_models()
    if cand.draft_model is not None:
        m = models.get(cand.draft_model, "candidates.draft_model")
        why = draft_problem(target.model, m)
        return (None, f"draft model {why}") if why else (m.id, "")
    top = DRAFT_MAX_SHARE * total_params(target.model)
    same = [
        m
        for m in models
        if m.family == target.model.family
        and m.vocab_size == target.model.vocab_size
        and m.id != target.model.id
        and total_params(m) <= top
    ]
    if not same:
        return None, (
            f"no catalog model of {target.model.id}'s family ({target.model.family}) with its "
            f"vocabulary and at most {DRAFT_MAX_SHARE:.0%} of its parameters to draft with "
            "(name one as candidates.draft_model)"
        )
    return min(same, key=lambda m: (total_params(m), m.id)).id, ""


def speculative_spec(method: DraftMethod, cand: CandidatesSpec) -> SpeculativeSpec:
    """The scenario's speculative settings for ``method``."""
    return SpeculativeSpec(
        method=method,
        draft_tokens=cand.tokens_drafted(method),
        acceptance_rate=cand.acceptance(method),
    )


def runtime(
    d: Deployment, mem: MemoryBreakdown, technique: Technique | None
) -> tuple[StepTimeModel, SchedulerLimits]:
    """Step model and scheduler limits one replica of a design runs with (a disaggregated
    design's replicas are the plain layout's)."""
    if technique is not None and technique.speculative is not None:
        return speculative_runtime(d, mem, technique.speculative, technique.draft_model, 1)
    return step_model_of(d), limits_of(d, mem)


# --- disaggregated units -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DisaggUnit:
    """A disaggregated unit at the SLO: pools, rates and latencies (s, req/s)."""

    steady: DisaggResult
    prefill_replicas: int
    decode_replicas: int
    decode_batch: int
    requests_per_s: float
    tpot_s: float
    ttft_s: float


def disagg_unit(
    d: Deployment,
    mem: MemoryBreakdown,
    isl: float,
    osl: float,
    isl_tail: float,
    ttft_slo_s: float,
    tpot_slo_s: float,
    node_devices: int,
    tpot_tail: float,
    ttft_tail: float,
) -> tuple[DisaggUnit | None, str]:
    """The disaggregated unit of ``d`` that serves the most requests per device within the
    SLO, or None and why none does.

    Decode pool: the largest running batch whose TPOT (a decode-only step, plus the KV
    transfer spread over the remaining ``osl - 1`` tokens) times ``tpot_tail`` meets the
    target. Prefill pool: the most whole prompts per step (``p``, at most what the token
    budget holds) such that a prompt waiting half a step, then running in a step of ``p``
    prompts (or alone, for an ``isl_tail`` prompt that takes longer), times ``ttft_tail``,
    meets the TTFT target; the pool's rate is that of steps of ``p`` prompts.
    Unit: ``n_p`` prefill and ``n_d`` decode replicas inside one node of
    ``node_devices``, whose devices divide the node's (units tile a node, so fleets of
    whole units fill whole servers without one straddling two); a unit serves
    ``min(n_d x decode rate, n_p x prefill rate)`` requests/s, and the unit with the most
    per device is taken (``n_p / n_d`` is then the tiling's closest to the ratio).
    """
    g = d.tp * d.pp
    if d.dp_attention > 1:
        return None, (
            "pools of attention data-parallel expert groups are not modelled (the unit "
            "tiles one node of tensor-parallel replicas)"
        )
    if d.pp > 1 or 2 * g > node_devices:
        return None, (
            f"a prefill and a decode replica need {2 * g} GPUs in one node, which holds "
            f"{node_devices}; KV transfer between nodes is not modelled"
        )
    step = step_model_of(d)
    limits = limits_of(d, mem)
    isl_i, osl_i = max(1, round(isl)), max(2, round(osl))
    b_max, _ = running_batch(limits, isl_i, osl_i, 10**9)
    if b_max < 1:
        return None, "one replica cannot hold one request's KV cache"

    def tpot_at(b: int) -> tuple[float, DisaggResult]:
        r = disagg_steady(d, step, limits, isl_i, osl_i, b)
        return r.tpot_s + r.kv_transfer_s / (osl_i - 1), r

    t1, _ = tpot_at(1)
    if t1 * tpot_tail > tpot_slo_s:
        return None, (
            f"one output token takes {t1 * 1e3:.0f} ms on the decode pool with the KV "
            f"transfer ({t1 * tpot_tail * 1e3:.0f} ms at the p95 allowance); the target is "
            f"{tpot_slo_s * 1e3:g} ms"
        )
    lo, hi = 1, b_max
    if tpot_at(hi)[0] * tpot_tail <= tpot_slo_s:
        lo = hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if tpot_at(mid)[0] * tpot_tail <= tpot_slo_s:
            lo = mid
        else:
            hi = mid
    tpot, _ = tpot_at(lo)
    budget = limits.max_num_batched_tokens
    alone = prefill_time_s(step, 1, math.ceil(isl_tail), budget)

    def ttft_at(p: int) -> float:
        full = prefill_time_s(step, p, isl_i, p * isl_i)
        return 0.5 * full + max(full, alone)

    top = max(1, min(budget // isl_i, limits.max_num_seqs))
    if ttft_at(1) * ttft_tail > ttft_slo_s:
        ttft = ttft_at(1)
        return None, (
            f"a prefill replica takes {ttft * 1e3:,.0f} ms to the first token of a p95 prompt "
            f"({ttft * ttft_tail * 1e3:,.0f} ms with the queueing margin); the target is "
            f"{ttft_slo_s * 1e3:,.0f} ms"
        )
    per_step = max(p for p in range(1, top + 1) if ttft_at(p) * ttft_tail <= ttft_slo_s)
    ttft = ttft_at(per_step)
    prefill_limits = replace(limits, max_num_batched_tokens=per_step * isl_i)
    r = disagg_steady(d, step, limits, isl_i, osl_i, lo, prefill_limits)
    best: tuple[float, int, int, float] | None = None
    slots = node_devices // g  # replicas of this layout one node holds
    for size in range(2, slots + 1):
        if slots % size:
            continue  # units tile a node, so that no unit straddles two
        for n_d in range(1, size):
            n_p = size - n_d
            rps = min(n_d * r.decode_rps_per_replica, n_p * r.prefill_rps_per_replica)
            per_device = rps / (size * g)
            if best is None or per_device > best[0] * (1 + 1e-9):
                best = (per_device, n_p, n_d, rps)
    if best is None:
        return None, f"no unit of prefill and decode replicas tiles a node of {node_devices} GPUs"
    _, n_p, n_d, rps = best
    return DisaggUnit(r, n_p, n_d, lo, rps, tpot, ttft), ""


@dataclass(frozen=True, slots=True)
class Variant:
    """A technique tried on one layout: kept (``capacity`` set, ``reason`` empty) or
    dropped with a plain-sentence ``reason``."""

    technique: Technique | None
    capacity: Capacity | None
    reason: str
    label: str
    per_model: bool = False
    """The reason holds for the model on every layout (one line per model, not per layout)."""


@dataclass(frozen=True, slots=True)
class Workload:
    """What the variants of a layout are sized for: mean lengths, the p95 prompt, the
    shared-prefix share, the targets (s) and the longest context one request needs."""

    isl: float
    osl: float
    isl_tail: float
    share: float
    ttft_slo_s: float
    tpot_slo_s: float
    long_ctx: int


def speculative_variants(
    d: Deployment,
    mem: MemoryBreakdown,
    plain: Capacity | None,
    w: Workload,
    cand: CandidatesSpec,
) -> list[Variant]:
    """Every allowed speculative method on layout ``d``: kept when it serves more output
    tokens/s within the SLO than plain decoding (or when plain decoding misses the SLO)."""
    out: list[Variant] = []
    for method in cand.speculative_methods():
        label = "speculative decoding (" + method + ")"
        if d.pp > 1:
            out.append(Variant(None, None, f"{label}: not modelled across pipeline stages", label))
            continue
        draft: str | None = None
        if method == "draft_model" and d.dp_attention > 1:
            out.append(Variant(None, None, f"{label}: {SPEC_WITH_DP_ATTENTION}", label))
            continue
        if method == "mtp":
            why = mtp_missing(d.model)
            if why:
                out.append(Variant(None, None, f"{label}: {why}", label, per_model=True))
                continue
        elif method == "draft_model":
            draft, why_not = draft_for(d, cand)
            if draft is None:
                out.append(Variant(None, None, f"{label}: {why_not}", label, per_model=True))
                continue
            label = f"speculative decoding with {draft}"
        spec = speculative_spec(method, cand)
        try:
            sm, limits = speculative_runtime(d, mem, spec, draft, w.long_ctx)
        except InferplanError as exc:
            out.append(Variant(None, None, f"{label}: {exc}", label))
            continue
        limits = with_shared_prefix(limits, w.isl, w.share)
        cap = capacity_at_slo(
            sm, limits, w.isl, w.osl, w.ttft_slo_s, w.tpot_slo_s, w.isl_tail, w.share
        )
        if cap is None:
            one = sm.speedup(decode_shape(1, w.isl, w.osl))
            tpot, ttft = latency_floor(sm, limits, w.isl, w.osl, w.isl_tail, w.share)
            out.append(
                Variant(
                    None,
                    None,
                    f"{label}: misses the latency targets even at one sequence "
                    f"({_misses(ttft, tpot, w)}; decode {one:.2f}x as fast as plain "
                    "decoding there)",
                    label,
                )
            )
            continue
        speedup = sm.speedup(decode_shape(cap.batch, w.isl, w.osl))
        tech = Technique("speculative", spec, draft, speedup)
        if plain is not None:
            ratio = cap.output_tokens_per_s / plain.output_tokens_per_s
            if ratio <= 1.0:
                out.append(
                    Variant(
                        None,
                        None,
                        f"{label}: {ratio:.3g}x the output tokens/s plain decoding serves "
                        f"within the SLO (decode {speedup:.2f}x as fast at batch {cap.batch}, "
                        f"the batch this replica runs at the SLO; plain decoding runs "
                        f"{plain.batch}), does not pay",
                        label,
                    )
                )
                continue
        out.append(Variant(tech, cap, "", label))
    return out


def _misses(ttft_s: float, tpot_s: float, w: Workload) -> str:
    """The targets missed with the planning margins, in numbers."""
    parts = []
    if ttft_s * TTFT_TAIL > w.ttft_slo_s:
        parts.append(f"p95 TTFT {ttft_s * TTFT_TAIL * 1e3:,.0f} ms > {w.ttft_slo_s * 1e3:,.0f} ms")
    if tpot_s * TPOT_TAIL > w.tpot_slo_s:
        parts.append(f"p95 TPOT {tpot_s * TPOT_TAIL * 1e3:.1f} ms > {w.tpot_slo_s * 1e3:g} ms")
    return ", ".join(parts) or "misses the targets"


def disagg_variant(
    d: Deployment,
    mem: MemoryBreakdown,
    plain: Capacity | None,
    w: Workload,
    node_devices: int,
) -> Variant:
    """The disaggregated unit of layout ``d``: kept when it serves more output tokens/s
    per device within the SLO than colocated replicas (or when those miss the SLO)."""
    label = "disaggregated prefill and decode"
    unit, why = disagg_unit(
        d,
        mem,
        w.isl,
        w.osl,
        w.isl_tail,
        w.ttft_slo_s,
        w.tpot_slo_s,
        node_devices,
        TPOT_TAIL,
        TTFT_TAIL,
    )
    if unit is None:
        return Variant(None, None, f"{label}: {why}", label)
    tech = Technique(
        "disaggregated",
        prefill_replicas=unit.prefill_replicas,
        decode_replicas=unit.decode_replicas,
        prefill_per_decode=unit.steady.prefill_replicas_per_decode_replica,
        kv_transfer_s=unit.steady.kv_transfer_s,
    )
    devices = (unit.prefill_replicas + unit.decode_replicas) * d.tp * d.pp
    cap = Capacity(
        batch=unit.decode_batch,
        requests_per_s=unit.requests_per_s,
        output_tokens_per_s=unit.requests_per_s * w.osl,
        tpot_s=unit.tpot_s,
        ttft_s=unit.ttft_s,
        limited_by=DISAGG_BASIS,
    )
    if plain is not None:
        ratio = (cap.output_tokens_per_s / devices) / (plain.output_tokens_per_s / (d.tp * d.pp))
        if ratio <= 1.0:
            return Variant(
                None,
                None,
                f"{label} ({tech.prefill_replicas} prefill + {tech.decode_replicas} decode "
                f"replicas, {tech.prefill_per_decode:.2f} prefill per decode replica): "
                f"{ratio:.3g}x the output tokens/s per GPU colocated replicas serve within "
                "the SLO, does not pay",
                label,
            )
    return Variant(tech, cap, "", label)


DISAGG_BASIS = "disaggregated steady state (closed form; the simulator runs one pool)"
"""Capacity basis of a disaggregated design: :mod:`inferplan.perf.disagg`'s steady state
(before the refinement scales it, :meth:`inferplan.planner.refine.Refinement.apply`)."""


def technique_assumption(tech: Technique, scenario: ScenarioSpec) -> dict[str, str]:
    """The plan's assumption line for a technique: where its figures come from."""
    if tech.speculative is not None:
        method = tech.speculative.method
        given = method in scenario.candidates.acceptance_rate
        source = (
            "acceptance rate from the scenario (candidates.acceptance_rate)"
            if given
            else "acceptance rate: DeepSeek-V3 Technical Report, arXiv:2412.19437 section "
            "5.4.3 (second-token acceptance 85-90 %, low end)"
        )
        return {
            "item": tech.name,
            "source": source + "; speedup model: Leviathan et al., arXiv:2211.17192 "
            "(inferplan.perf.speculative); in steps mixing prompts and speculative "
            "decodes the prompt tokens are charged in full, the decode round per emitted token",
            "as_of": "scenario" if given else "2024-12-27",
        }
    return {
        "item": tech.name,
        "source": "steady state of inferplan.perf.disagg (DistServe, arXiv:2401.09670); "
        "KV moves over the node's interconnect at the engine's comm efficiency; pools "
        "sized in whole units inside one node; closed form scaled by the plain designs' "
        "simulated / closed-form median (never raised), not simulated",
        "as_of": "2024-01-18",
    }


def decode_shape(batch: int, isl: float, osl: float) -> BatchShape:
    """A decode step of ``batch`` sequences at the mean context ``isl + osl / 2``."""
    return BatchShape(
        decode_seqs=batch, decode_context_tokens=int(round(batch * (isl + osl / 2.0)))
    )


__all__ = [
    "DISAGG_BASIS",
    "DRAFT_MAX_SHARE",
    "DisaggUnit",
    "Technique",
    "Variant",
    "Workload",
    "decode_shape",
    "disagg_unit",
    "disagg_variant",
    "draft_for",
    "runtime",
    "speculative_spec",
    "speculative_variants",
    "technique_assumption",
]
