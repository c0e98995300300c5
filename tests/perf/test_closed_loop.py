"""Closed-loop steady state at high client counts."""

from __future__ import annotations

from inferplan.perf.closed_loop import closed_loop_metrics


def test_a_saturated_engine_keeps_its_throughput_with_more_clients() -> None:
    # Llama-3.1-8B bf16 on H100, 1,000 in / 256 out: the KV cache holds about 350 such
    # sequences, so 512 and 1,024 clients both saturate the engine: their throughput must be
    # about the same (a run of too few requests per client measured 1,024 clients 27% low)
    from inferplan.deploy.deployment import limits_of, memory_of, resolve, step_model_of

    d = resolve("llama-3.1-8b", "h100-sxm-80gb", "vllm", "bf16")
    step, limits = step_model_of(d), limits_of(d, memory_of(d, 1256, 1))
    assert limits.kv_capacity_tokens / 1256 < 512
    half = closed_loop_metrics(step, limits, 1000, 256, 512).metrics.output_tokens_per_s
    full = closed_loop_metrics(step, limits, 1000, 256, 1024).metrics.output_tokens_per_s
    assert abs(full / half - 1.0) < 0.10
