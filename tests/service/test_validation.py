"""Validation: engine profile by release, summary slices."""

from __future__ import annotations

import numpy as np
import pytest

from inferplan.deploy.deployment import resolve, step_model_of
from inferplan.perf.batch import BatchShape, SchedulerLimits
from inferplan.perf.closed_loop import mid_step_wait_s
from inferplan.perf.simulate import simulate
from inferplan.service.cases import ValidationCase
from inferplan.service.validation import (
    SLICES,
    case_slices,
    engine_profile,
    predict_case,
    validate_cases,
)


def _case(**kw: object) -> ValidationCase:
    base: dict[str, object] = dict(
        case_id="t-1",
        scenario="static_batch",
        engine="vllm",
        hardware="h100-sxm-80gb",
        num_gpus=1,
        model="llama-3.1-8b",
        weight_dtype="fp16",
        isl=128,
        osl=128,
        batch=1,
        metric="e2e_latency_s",
        value=1.0,
    )
    base.update(kw)
    return ValidationCase.model_validate(base)


def test_vllm_release_in_notes_picks_the_engine_generation() -> None:
    assert engine_profile(_case(notes="engine: vLLM ~0.5.x (mid-2024)")) == "vllm-v0"
    assert engine_profile(_case(notes="engine: vLLM v0.7.3")) == "vllm-v0"
    assert engine_profile(_case(notes="engine: vLLM 0.9.0.1 (ROCm)")) == "vllm-v1-sync"
    assert engine_profile(_case(notes="engine: vLLM 0.14.0")) == "vllm"
    assert engine_profile(_case(notes="pip install vllm==0.4.2")) == "vllm-v0"
    assert engine_profile(_case(notes="image vllm-0.10.1")) == "vllm-v1-sync"
    assert engine_profile(_case(notes="")) == "vllm"
    assert engine_profile(_case(engine="trtllm", notes="vLLM 0.5 for comparison")) == "trtllm"


def test_v0_host_time_makes_the_same_case_slower() -> None:
    # same hardware and model: the V0 engine's host time between steps (1.4 ms per step,
    # 46 us per sequence) lengthens a 128-step batch by more than V1's 0.16 ms per step
    v1 = predict_case(_case(batch=64)).value
    v0 = predict_case(_case(batch=64, notes="engine: vLLM ~0.5.x")).value
    assert v0 > v1 * 1.1


def test_slices() -> None:
    low, moe, _ = SLICES
    assert low in case_slices(_case(scenario="single_stream"))
    assert low in case_slices(_case(batch=8))
    assert low not in case_slices(_case(batch=64))
    assert low in case_slices(_case(scenario="closed_loop", concurrency=4, batch=None))
    assert low not in case_slices(_case(scenario="max_throughput", concurrency=4, batch=None))
    assert moe in case_slices(_case(model="mixtral-8x7b", num_gpus=2, batch=64))
    assert moe not in case_slices(_case())


def test_summary_has_a_line_per_slice_with_cases() -> None:
    cases = [_case(case_id="a", batch=1), _case(case_id="b", batch=64)]
    s = validate_cases(cases).summary
    assert s.by_slice[SLICES[0]].n_cases == 1
    assert SLICES[1] not in s.by_slice  # no MoE case: no line


def test_case_naming_only_its_dataset_uses_the_dataset_means() -> None:
    # ShareGPT means 161.31 in / 337.99 out (vLLM paper, arXiv:2309.06180): the same case with
    # those lengths written out must give the same prediction
    named = _case(
        scenario="max_throughput",
        batch=None,
        isl=None,
        osl=None,
        metric="output_tokens_per_s",
        notes="dataset: ShareGPT, 1000 prompts",
    )
    explicit = named.model_copy(update={"isl": 161.31, "osl": 337.99, "notes": None})
    p = predict_case(named)
    assert p.value == predict_case(explicit).value
    assert "ShareGPT" in p.assumption


def test_closed_loop_ttft_waits_for_the_step_in_progress_only_with_other_clients() -> None:
    # a lone client finds the engine idle: its TTFT is the prefill step of its 2,048-token
    # prompt, as the step model times it (plus nothing)
    kw = dict(scenario="closed_loop", batch=None, isl=2048, osl=256, metric="ttft_ms")
    alone = predict_case(_case(concurrency=1, **kw)).value
    step = step_model_of(resolve("llama-3.1-8b", "h100-sxm-80gb", precision="fp16"))
    prefill = BatchShape(
        prefill_tokens=2048, prefill_attention_pairs=2048 * 2049 / 2, prefill_seqs=1
    )
    assert alone == pytest.approx(step.step_time_s(prefill) * 1e3, rel=0.02)


class _TenMs:
    def step_time_s(self, shape: BatchShape) -> float:
        return 0.010


def test_mid_step_wait_is_half_a_step_of_equal_steps() -> None:
    # every step takes 10 ms: a request reaching a busy engine at a random instant waits
    # 5 ms on average; a lone client's engine is idle when it sends
    limits = SchedulerLimits(max_num_seqs=8, max_num_batched_tokens=512, kv_capacity_tokens=8192)
    n = 40
    run = simulate(_TenMs(), limits, np.full(n, 100), np.full(n, 20), concurrency=4)
    assert mid_step_wait_s(run, clients=4, warmup=8) == pytest.approx(0.005)
    assert mid_step_wait_s(run, clients=1, warmup=8) == 0.0
