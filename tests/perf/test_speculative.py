"""Speculative decoding: expected tokens per round and when it pays."""

from __future__ import annotations

import pytest

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.perf.batch import BatchShape
from inferplan.perf.speculative import (
    SpeculativeSpec,
    SpeculativeStepModel,
    expected_tokens_per_round,
    verify_shape,
)
from inferplan.perf.step import build_step_model
from inferplan.specs.precision import parse_precision


def test_expected_tokens_follow_the_geometric_series() -> None:
    # Leviathan et al. 2023 eq. 1: k = 4, a = 0.8 -> (1 - 0.8^5) / 0.2 = 3.3616
    assert expected_tokens_per_round(4, 0.8) == pytest.approx(3.3616)
    # nothing accepted ever: one token per round, the target's own
    assert expected_tokens_per_round(4, 1e-9) == pytest.approx(1.0)


def test_verify_step_adds_k_rows_per_sequence() -> None:
    v = verify_shape(BatchShape(decode_seqs=8, decode_context_tokens=8000), 3)
    assert (v.tokens, v.decode_seqs, v.decode_context_tokens) == (32, 8, 8000)


def _step(model: str):  # type: ignore[no-untyped-def]
    return build_step_model(
        load_models().get(model),
        load_accelerators().get("h100-sxm-80gb"),
        parse_precision("bf16"),
        "bf16",
        load_engines().get("vllm").efficiency,
    )


def test_pays_at_low_batch_and_less_as_the_batch_grows() -> None:
    target = _step("llama-3.1-8b")
    spec = SpeculativeSpec(method="draft_model", draft_tokens=4, acceptance_rate=0.7)
    free = SpeculativeStepModel(target, spec.model_copy(update={"method": "ngram"}))
    drafted = SpeculativeStepModel(target, spec, draft=_step("llama-3.2-1b"))
    speedups = [
        free.speedup(BatchShape(decode_seqs=b, decode_context_tokens=b * 1000))
        for b in (1, 8, 64, 256)
    ]
    # batch 1: a 5-row verify step streams the same weights as a decode step: close to the
    # 2.77 tokens a round emits; bigger batches make the verify step compute bound
    assert speedups[0] > 2.5
    assert speedups == sorted(speedups, reverse=True)
    one = BatchShape(decode_seqs=1, decode_context_tokens=1000)
    many = BatchShape(decode_seqs=256, decode_context_tokens=256 * 1000)
    # a 1B draft model's 4 steps per round: still a gain alone, a loss at batch 256
    assert drafted.speedup(one) > 1.2
    assert drafted.speedup(many) < 1.0


def test_a_draft_model_costs_its_own_steps() -> None:
    target = _step("llama-3.1-8b")
    spec = SpeculativeSpec(method="draft_model", draft_tokens=4, acceptance_rate=0.7)
    free = SpeculativeStepModel(target, spec.model_copy(update={"method": "ngram"}))
    drafted = SpeculativeStepModel(target, spec, draft=_step("llama-3.2-1b"))
    one = BatchShape(decode_seqs=1, decode_context_tokens=1000)
    assert 1.0 < drafted.speedup(one) < free.speedup(one)


def test_prediction_with_a_draft_model_shares_memory_and_says_so() -> None:
    from inferplan.deploy.deployment import resolve
    from inferplan.service.perf import predict

    d = resolve("llama-3.1-8b", "h100-sxm-80gb")
    spec = SpeculativeSpec(method="draft_model", draft_tokens=4, acceptance_rate=0.7)
    plain = predict(d, 1000, 300, batch=1)
    fast = predict(d, 1000, 300, batch=1, speculative=spec, draft_model="llama-3.2-1b")
    assert fast.tpot_ms.p50 is not None and plain.tpot_ms.p50 is not None
    assert fast.tpot_ms.p50 < plain.tpot_ms.p50
    assert any("speculative decoding" in n for n in fast.notes)
    # the 1B drafter's 2.5 GB of weights and its KV (32 KB per token beside the 8B's 128 KB)
    # come out of the KV cache: a KV-bound saturated engine runs fewer sequences
    long_plain = predict(d, 30_000, 1000)
    long_spec = predict(d, 30_000, 1000, speculative=spec, draft_model="llama-3.2-1b")
    assert long_plain.limited_by == "kv_cache"
    assert long_spec.running_batch is not None and long_plain.running_batch is not None
    assert long_spec.running_batch < long_plain.running_batch


class _Linear:
    """Toy target: 10 ms per step plus 0.1 ms per token of any kind."""

    def step_time_s(self, shape: BatchShape) -> float:
        return 0.010 + 1e-4 * shape.tokens


def test_a_mixed_step_charges_its_prompt_tokens_in_full() -> None:
    # ngram (free drafts), k = 4, a = 0.5: E = (1 - 0.5^5) / 0.5 = 1.9375 tokens per round.
    # 2 decodes: the verify step runs 2 x 5 = 10 rows -> round 10 + 1.0 = 11.0 ms; per
    # emitted token 11.0 / 1.9375 = 5.677 ms. A 500-token prompt chunk in the same step adds
    # 500 x 0.1 = 50 ms to the round, charged whole: 50 + 5.677 = 55.677 ms (dividing the
    # whole 61 ms round by E would give 31.48 ms and a TTFT almost halved)
    spec = SpeculativeSpec(method="ngram", draft_tokens=4, acceptance_rate=0.5)
    sm = SpeculativeStepModel(_Linear(), spec)
    decode = BatchShape(decode_seqs=2, decode_context_tokens=2000)
    assert sm.step_time_s(decode) == pytest.approx(0.011 / 1.9375)
    mixed = BatchShape(
        prefill_tokens=500,
        prefill_attention_pairs=500 * 501 / 2,
        prefill_seqs=1,
        decode_seqs=2,
        decode_context_tokens=2000,
    )
    assert sm.step_time_s(mixed) == pytest.approx(0.050 + 0.011 / 1.9375)
    prompt_only = BatchShape(prefill_tokens=500, prefill_attention_pairs=0, prefill_seqs=1)
    assert sm.step_time_s(prompt_only) == pytest.approx(0.060)
