"""Predict published measurements and report the error (``inferplan validate``).

Each case is mapped to a deployment (catalog ids, precision, TP, replicas =
num_gpus / (tp * pp)) and a regime; the prediction is compared with the measured
value as absolute percentage error, ``|pred - meas| / meas``.
"""

from __future__ import annotations

import functools
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
from pydantic import BaseModel

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.datasets import load_datasets
from inferplan.deploy.deployment import Deployment, limits_of, memory_of, resolve, step_model_of
from inferplan.errors import InferplanError
from inferplan.perf.batch import SchedulerLimits
from inferplan.perf.closed_loop import closed_loop_metrics
from inferplan.perf.datasets import dataset_lengths, dataset_named_in
from inferplan.perf.metrics import ServingMetrics, summarize
from inferplan.perf.regimes import max_throughput, prefill_time_s, static_batch
from inferplan.perf.simulate import simulate
from inferplan.perf.step import StepModel
from inferplan.perf.workload import PoissonArrivals
from inferplan.service.cases import ValidationCase
from inferplan.specs.engine import EngineEfficiency
from inferplan.specs.hardware import DeviceKind
from inferplan.specs.precision import kv_bytes_per_element

GENERATION_ONLY_DEFAULT_OSL = 128
"""Single-stream rows without lengths are read as llama-bench tg128 (generation only)."""

MAX_THROUGHPUT_DEFAULT_REQUESTS = 100_000


class CaseResult(BaseModel):
    case_id: str
    scenario: str
    metric: str
    engine: str
    hardware: str
    model: str
    trust: str
    measured: float
    predicted: float | None = None
    ape: float | None = None
    assumption: str = ""
    skipped_reason: str | None = None
    slices: list[str] = []


class GroupSummary(BaseModel):
    n_cases: int
    n_predicted: int
    median_ape: float | None
    within_25pct: float | None


class ValidationSummary(BaseModel):
    n_cases: int
    n_predicted: int
    coverage: float
    median_ape: float | None
    within_25pct: float | None
    by_regime_metric: dict[str, GroupSummary]
    by_slice: dict[str, GroupSummary] = {}


class ValidationReport(BaseModel):
    summary: ValidationSummary
    cases: list[CaseResult]


@dataclass(frozen=True, slots=True)
class _Prediction:
    value: float
    assumption: str = ""


_VLLM_VERSION = re.compile(r"\bvLLM\s*(?:==|=|:|-|\s)?\s*~?\s*v?(\d+)\.(\d+)", re.IGNORECASE)
VLLM_PROFILES = (((0, 8), "vllm-v0"), ((0, 14), "vllm-v1-sync"))
"""vLLM releases before 0.8 run the V0 engine; 0.8-0.13 the V1 engine without asynchronous
scheduling (on by default from 0.14); later ones the ``vllm`` profile."""


def engine_profile(case: ValidationCase) -> str:
    """The engine profile of a case: the vLLM profile of the release its notes name, if any."""
    if case.engine == "vllm":
        m = _VLLM_VERSION.search(case.notes or "")
        if m:
            version = (int(m[1]), int(m[2]))
            for before, profile in VLLM_PROFILES:
                if version < before:
                    return profile
    return case.engine


def _deployment(case: ValidationCase, eff: Mapping[str, EngineEfficiency] | None) -> Deployment:
    if (case.ep or 1) > 1 or case.dp_attention:
        return _expert_parallel_deployment(case, eff)
    tp = case.tp
    pp = 1
    if tp is None:
        if case.engine == "llamacpp" and case.num_gpus > 1:
            tp, pp = 1, case.num_gpus  # layer split: stages run one after another
        else:
            tp = case.num_gpus
    node = load_accelerators().get(case.hardware, "hardware").max_devices_per_node
    if tp > node and tp % node == 0:
        tp, pp = node, tp // node  # TP inside a node, pipeline stages across nodes
    replicas = max(1, case.num_gpus // (tp * pp))
    kv = _kv_format(case)
    d = resolve(
        case.model,
        case.hardware,
        engine=engine_profile(case),
        precision=case.weight_dtype,
        kv_precision=kv,
        tp=tp,
        pp=pp,
        replicas=replicas,
    )
    return _with_efficiency(d, eff)


def _kv_format(case: ValidationCase) -> str | None:
    """The case's KV format, an unlisted one read as a 16-bit cache."""
    try:
        kv_bytes_per_element(case.kv_dtype or "fp16")
    except InferplanError:
        return "fp16"
    return case.kv_dtype


def _with_efficiency(d: Deployment, eff: Mapping[str, EngineEfficiency] | None) -> Deployment:
    """``d`` with the efficiency given for its engine, if any."""
    if eff is not None and d.engine.id in eff:
        return replace(d, efficiency=eff[d.engine.id])
    return d


def _expert_parallel_deployment(
    case: ValidationCase, eff: Mapping[str, EngineEfficiency] | None
) -> Deployment:
    """A case with an ``ep`` column: replicas of ``tp x dp_attention`` devices."""
    kv = _kv_format(case)
    d = resolve(
        case.model,
        case.hardware,
        engine=engine_profile(case),
        precision=case.weight_dtype,
        kv_precision=kv,
        tp=case.tp or (1 if case.dp_attention else case.ep or 1),
        ep=case.ep or 1,
        dp_attention=bool(case.dp_attention),
        redundant_experts=case.redundant_experts or 0,
    )
    replicas = max(1, case.num_gpus // d.devices_per_replica)
    return _with_efficiency(replace(d, replicas=replicas), eff)


def predict_case(
    case: ValidationCase, eff: Mapping[str, EngineEfficiency] | None = None
) -> _Prediction:
    """Predict one case's metric; raises :class:`InferplanError` when it cannot."""
    from_dataset = ""
    if case.isl is None and case.osl is None and case.scenario != "single_stream":
        named = dataset_named_in(case.notes or "", load_datasets())
        if named is not None:
            d = dataset_lengths(named)
            case = case.model_copy(update={"isl": d.isl_mean, "osl": d.osl_mean})
            from_dataset = (
                f"lengths not given: {d.name} {d.isl_mean:g} in / {d.osl_mean:g} out "
                f"({d.isl_basis}; {d.source.split(',')[0]})"
            )
    p = _predict_case(case, eff)
    return replace(p, assumption=p.assumption or from_dataset)


def _predict_case(case: ValidationCase, eff: Mapping[str, EngineEfficiency] | None) -> _Prediction:
    d = _deployment(case, eff)
    step = step_model_of(d)
    isl = int(case.isl) if case.isl is not None else None
    osl = int(case.osl) if case.osl is not None else None
    metric = case.metric
    if case.scenario in ("static_batch", "single_stream"):
        batch = case.batch or 1
        assumption = ""
        if case.scenario == "single_stream" and isl is None and osl is None:
            isl, osl = 0, GENERATION_ONLY_DEFAULT_OSL
            assumption = f"lengths not given: generation-only tg{osl} assumed"
        if case.engine == "llamacpp" or (case.scenario == "single_stream" and isl == 0):
            if isl is None and osl is None:
                isl, osl = 0, GENERATION_ONLY_DEFAULT_OSL
                assumption = f"lengths not given: generation-only tg{osl} assumed"
            budget = d.engine.scheduler.max_num_batched_tokens
            if metric == "prompt_tokens_per_s":
                t = prefill_time_s(step, batch, isl or 0, budget)
                return _Prediction(batch * (isl or 0) / t, assumption)
            if metric == "output_tokens_per_s":
                r = static_batch(step, batch, 0, (osl or 1) + 1)
                return _Prediction(batch / r.decode_step_s, assumption)
        if isl is None or osl is None:
            raise InferplanError("isl/osl not given")
        mem = memory_of(d, isl + osl, batch)
        if not mem.fits:
            raise InferplanError(f"does not fit: {mem.reason}")
        r = static_batch(step, batch, isl, osl)
        value = {
            "output_tokens_per_s": r.output_tokens_per_s * d.replicas,
            "e2e_latency_s": r.e2e_s,
            "ttft_ms": r.ttft_s * 1e3,
            "prompt_tokens_per_s": r.prompt_tokens_per_s * d.replicas,
            "tpot_ms": r.decode_step_s * 1e3,
            "itl_ms": r.decode_step_s * 1e3,
        }.get(metric)
        if value is None:
            raise InferplanError(f"metric {metric} not predicted for {case.scenario}")
        return _Prediction(value, assumption)
    if case.scenario == "max_throughput":
        if isl is None or osl is None:
            raise InferplanError("isl/osl not given")
        mem = memory_of(d, isl + osl, 1)
        if not mem.fits:
            raise InferplanError(f"does not fit: {mem.reason}")
        limits = limits_of(d, mem)
        if case.concurrency:
            limits = (
                replace(limits, max_num_seqs=min(limits.max_num_seqs, case.concurrency))
                if case.engine != "vllm"
                else replace(limits, max_num_seqs=case.concurrency)
            )
        requests = case.concurrency or MAX_THROUGHPUT_DEFAULT_REQUESTS
        ss = max_throughput(step, limits, isl, osl, requests)
        if metric == "output_tokens_per_s":
            return _Prediction(ss.output_tokens_per_s * d.replicas)
        if metric == "request_throughput_rps":
            return _Prediction(ss.request_throughput_rps * d.replicas)
        raise InferplanError(f"metric {metric} not predicted for max_throughput")
    if case.scenario in ("closed_loop", "server"):
        return _predict_simulated(case, d, step)
    raise InferplanError(f"scenario {case.scenario} is not predicted")


SIM_MAX_REQUESTS = 4000
"""Requests of a simulated Poisson run (closed loops: :mod:`inferplan.perf.closed_loop`)."""
_METRIC_FIELDS = {
    "ttft_ms": "ttft_s",
    "itl_ms": "itl_s",
    "tpot_ms": "tpot_s",
    "e2e_latency_s": "e2e_s",
}


@functools.lru_cache(maxsize=256)
def _simulated_metrics(
    step: StepModel, limits: SchedulerLimits, isl: int, osl: int, scenario: str, load: float
) -> ServingMetrics:
    """Steady-state metrics of one replica, ``load`` clients (closed loop, TTFT with the
    mid-step wait: :func:`~inferplan.perf.closed_loop.closed_loop_metrics`, as ``perf
    --concurrency`` predicts it) or req/s (Poisson)."""
    if scenario == "closed_loop":
        return closed_loop_metrics(step, limits, isl, osl, int(load)).metrics
    n = SIM_MAX_REQUESTS
    arrivals = PoissonArrivals(rate_rps=load).arrival_times_s(np.random.default_rng(0), n)
    run = simulate(step, limits, np.full(n, isl), np.full(n, osl), arrivals_s=arrivals)
    return summarize(run, warmup_requests=n // 10, cooldown_requests=n // 10)


def _predict_simulated(case: ValidationCase, d: Deployment, step: StepModel) -> _Prediction:
    """Closed-loop clients or Poisson arrivals, simulated step by step on one replica."""
    if case.isl is None or case.osl is None:
        raise InferplanError("isl/osl not given")
    isl, osl = max(1, int(round(case.isl))), max(1, int(round(case.osl)))
    mem = memory_of(d, isl + osl, 1)
    if not mem.fits:
        raise InferplanError(f"does not fit: {mem.reason}")
    limits = limits_of(d, mem)
    if case.scenario == "closed_loop":
        if not case.concurrency:
            raise InferplanError("closed_loop case without concurrency")
        load = float(max(1, round(case.concurrency / d.replicas)))
    else:
        if not case.request_rate:
            raise InferplanError("server case without request_rate")
        load = case.request_rate / d.replicas
    metrics = _simulated_metrics(step, limits, isl, osl, case.scenario, load)
    if case.metric == "output_tokens_per_s":
        return _Prediction(metrics.output_tokens_per_s * d.replicas)
    if case.metric == "request_throughput_rps":
        return _Prediction(metrics.request_throughput_rps * d.replicas)
    field = _METRIC_FIELDS.get(case.metric)
    if field is None:
        raise InferplanError(f"metric {case.metric} not predicted for {case.scenario}")
    dist = getattr(metrics, field)
    stat = {"mean": dist.mean, "median": dist.p50, "p99": dist.p99}.get(case.statistic, dist.mean)
    if stat is None:
        raise InferplanError(f"no {case.metric} samples")
    scale = 1e3 if case.metric.endswith("_ms") else 1.0
    return _Prediction(stat * scale)


LOW_BATCH_MAX = 8
"""Cases with at most this many sequences in flight form the low-batch slice."""
SLICES = (
    "low batch (single stream, batch or concurrency <= 8)",
    "MoE models",
    "Apple silicon and CPUs",
)


def case_slices(case: ValidationCase) -> list[str]:
    """The slices of the summary ``case`` belongs to (besides its regime and metric)."""
    out = []
    in_flight = case.batch if case.scenario in ("static_batch", "single_stream") else None
    if case.scenario == "closed_loop":
        in_flight = case.concurrency
    if case.scenario == "single_stream" or (in_flight is not None and in_flight <= LOW_BATCH_MAX):
        out.append(SLICES[0])
    try:
        if load_models().get(case.model).is_moe:
            out.append(SLICES[1])
        acc = load_accelerators().get(case.hardware)
    except InferplanError:
        return out
    if acc.kind in (DeviceKind.SOC, DeviceKind.CPU) or acc.vendor.lower() == "apple":
        out.append(SLICES[2])
    return out


def validate_cases(
    cases: Iterable[ValidationCase],
    predictor: Callable[[ValidationCase], _Prediction] = predict_case,
) -> ValidationReport:
    """Predict every case and summarise the error overall and by regime and metric."""
    results: list[CaseResult] = []
    for c in cases:
        base = dict(
            case_id=c.case_id,
            scenario=c.scenario,
            metric=c.metric,
            engine=c.engine,
            hardware=c.hardware,
            model=c.model,
            trust=c.trust,
            measured=c.value,
            slices=case_slices(c),
        )
        try:
            p = predictor(c)
        except InferplanError as exc:
            results.append(CaseResult(**base, skipped_reason=str(exc)))
            continue
        ape = abs(p.value - c.value) / c.value
        results.append(CaseResult(**base, predicted=p.value, ape=ape, assumption=p.assumption))
    return ValidationReport(summary=summarize_results(results), cases=results)


def _group(results: list[CaseResult]) -> GroupSummary:
    apes = [r.ape for r in results if r.ape is not None]
    return GroupSummary(
        n_cases=len(results),
        n_predicted=len(apes),
        median_ape=statistics.median(apes) if apes else None,
        within_25pct=sum(a <= 0.25 for a in apes) / len(apes) if apes else None,
    )


def summarize_results(results: list[CaseResult]) -> ValidationSummary:
    groups: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        groups[f"{r.scenario}/{r.metric}"].append(r)
    overall = _group(results)
    slices = {k: _group([r for r in results if k in r.slices]) for k in SLICES}
    return ValidationSummary(
        n_cases=overall.n_cases,
        n_predicted=overall.n_predicted,
        coverage=overall.n_predicted / overall.n_cases if overall.n_cases else 0.0,
        median_ape=overall.median_ape,
        within_25pct=overall.within_25pct,
        by_regime_metric={k: _group(v) for k, v in sorted(groups.items())},
        by_slice={k: g for k, g in slices.items() if g.n_cases},
    )
