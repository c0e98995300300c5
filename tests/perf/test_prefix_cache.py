"""Prefix caching in the simulator and the closed-form regimes."""

from __future__ import annotations

import numpy as np
import pytest

from inferplan.errors import SpecError
from inferplan.perf.batch import BatchShape, SchedulerLimits
from inferplan.perf.prefix import cached_prefix_tokens
from inferplan.perf.regimes import max_throughput, prefill_time_s
from inferplan.perf.simulate import simulate


class Recorder:
    """0.01 s per step; keeps every shape."""

    def __init__(self) -> None:
        self.shapes: list[BatchShape] = []

    def step_time_s(self, shape: BatchShape) -> float:
        self.shapes.append(shape)
        return 0.01 + 1e-5 * shape.prefill_tokens


def _lim(**kw: object) -> SchedulerLimits:
    base: dict[str, object] = dict(
        max_num_seqs=8, max_num_batched_tokens=4096, kv_capacity_tokens=100_000
    )
    base.update(kw)
    return SchedulerLimits(**base)  # type: ignore[arg-type]


def test_cached_prefix_is_not_recomputed_but_attended_to() -> None:
    rec = Recorder()
    isl, osl = np.array([1000]), np.array([3])
    simulate(rec, _lim(), isl, osl, cached_tokens=np.array([800]))
    prefill = rec.shapes[0]
    # 200 new tokens, each attending to the 800 cached ones plus the causal part of its own:
    # pairs = 200 x (800 + 201 / 2) = 180,100
    assert prefill.prefill_tokens == 200
    assert prefill.prefill_attention_pairs == pytest.approx(200 * (800 + 201 / 2))
    # decode steps attend to the whole context: 1001, then 1002 tokens
    assert [s.decode_context_tokens for s in rec.shapes[1:]] == [1001, 1002]


def test_private_kv_holds_only_the_uncached_part() -> None:
    isl, osl = np.full(8, 1000), np.full(8, 10)
    lim = _lim(kv_block_tokens=1, max_num_batched_tokens=10_000)  # one prefill step for all
    full = simulate(Recorder(), lim, isl, osl)
    cached = simulate(Recorder(), lim, isl, osl, cached_tokens=np.full(8, 900))
    # the same 8 sequences in lockstep: each holds 900 tokens fewer in its own blocks
    assert full.peak_kv_tokens - cached.peak_kv_tokens == 8 * 900
    assert cached.makespan_s < full.makespan_s


def test_cached_tokens_must_fit_the_prompt() -> None:
    with pytest.raises(SpecError, match="cached_tokens"):
        simulate(Recorder(), _lim(), np.array([10]), np.array([2]), cached_tokens=np.array([10]))


def test_prefix_tokens_from_a_share() -> None:
    # a 30% share of 1000-token prompts is 300 tokens; at least one token is always computed
    assert cached_prefix_tokens(np.array([1000, 10]), 0.3).tolist() == [300, 3]
    assert cached_prefix_tokens(np.array([1]), 0.99).tolist() == [0]
    with pytest.raises(SpecError, match="prefix_share"):
        cached_prefix_tokens(np.array([10]), 1.0)


def test_closed_forms_compute_only_uncached_tokens() -> None:
    rec = Recorder()
    t = prefill_time_s(rec, 1, 1000, cached=600)
    assert rec.shapes[0].prefill_tokens == 400
    assert t == pytest.approx(0.01 + 1e-5 * 400)
    lim = _lim(max_num_seqs=256, kv_capacity_tokens=20_000, kv_block_tokens=1)
    base = max_throughput(Recorder(), lim, 1000, 100)
    more = max_throughput(Recorder(), lim, 1000, 100, cached=900)
    # KV-bound: 20,000 / (1000 + 50) = 19 sequences without, 20,000 / (100 + 50) = 133 with
    assert (base.running_batch, more.running_batch) == (19, 133)
    assert more.output_tokens_per_s > base.output_tokens_per_s


def test_prediction_with_a_shared_prefix_is_faster_and_says_so() -> None:
    from inferplan.deploy.deployment import resolve
    from inferplan.service.perf import predict

    d = resolve("llama-3.1-8b", "h100-sxm-80gb")
    plain = predict(d, 4000, 200, batch=1)
    cached = predict(d, 4000, 200, batch=1, prefix_share=0.75)
    # 1000 of 4000 tokens computed: TTFT falls, the decode steps (same context) do not
    assert cached.ttft_ms.p50 is not None and plain.ttft_ms.p50 is not None
    assert cached.ttft_ms.p50 < 0.5 * plain.ttft_ms.p50
    assert cached.tpot_ms.p50 == pytest.approx(plain.tpot_ms.p50)
    assert any("prefix cache" in n for n in cached.notes)
    mt_plain = predict(d, 4000, 200)
    mt_cached = predict(d, 4000, 200, prefix_share=0.75)
    assert mt_cached.output_tokens_per_s > mt_plain.output_tokens_per_s
