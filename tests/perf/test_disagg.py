"""Disaggregated prefill/decode pools against hand calculations."""

from __future__ import annotations

import pytest

from inferplan.perf.batch import BatchShape, SchedulerLimits
from inferplan.perf.disagg import disaggregated


class Linear:
    """2 ms + 0.05 ms per decode sequence + 0.1 ms per prefill token."""

    def step_time_s(self, shape: BatchShape) -> float:
        return 2e-3 + 5e-5 * shape.decode_seqs + 1e-4 * shape.prefill_tokens


def _lim(**kw: object) -> SchedulerLimits:
    base: dict[str, object] = dict(
        max_num_seqs=64, max_num_batched_tokens=4096, kv_capacity_tokens=10**7, kv_block_tokens=1
    )
    base.update(kw)
    return SchedulerLimits(**base)  # type: ignore[arg-type]


def test_pools_balance_by_their_rates() -> None:
    r = disaggregated(Linear(), Linear(), _lim(), _lim(), 1000, 101, 131_072, 25e9)
    # prefill: 4 prompts of 1000 per 4096-token step, 2 ms + 0.4 s: 4 / 0.402 = 9.95 req/s
    assert r.prefill_rps_per_replica == pytest.approx(4 / 0.402)
    # decode: 64 sequences, 2 ms + 3.2 ms per step, 100 steps each: 64 / 0.52 = 123.1 req/s
    assert r.tpot_s == pytest.approx(5.2e-3)
    assert r.decode_rps_per_replica == pytest.approx(64 / (100 * 5.2e-3))
    assert r.prefill_replicas_per_decode_replica == pytest.approx(
        r.decode_rps_per_replica / r.prefill_rps_per_replica
    )
    # one prompt alone: 2 ms + 0.1 s; its 1000 x 131,072 bytes of KV at 25 GB/s: 5.24 ms
    assert r.ttft_s == pytest.approx(0.102)
    assert r.kv_transfer_s == pytest.approx(1000 * 131_072 / 25e9)
    # devices: ratio prefill replicas + 1 decode replica, one device each
    devices = r.prefill_replicas_per_decode_replica + 1
    assert r.output_tokens_per_s_per_device == pytest.approx(
        r.decode_rps_per_replica * 101 / devices
    )


def test_decode_steps_carry_no_prompts() -> None:
    # colocated chunked prefill would add prompt tokens to decode steps; here TPOT is the
    # decode-only step at the running batch whatever the prompt length
    short = disaggregated(Linear(), Linear(), _lim(), _lim(), 100, 50, 1.0, 1e9)
    long = disaggregated(Linear(), Linear(), _lim(), _lim(), 4000, 50, 1.0, 1e9)
    assert short.tpot_s == long.tpot_s
    assert long.prefill_replicas_per_decode_replica > short.prefill_replicas_per_decode_replica


def test_deployment_note_compares_with_colocated_serving() -> None:
    from inferplan.deploy.deployment import resolve
    from inferplan.service.perf import disaggregation_note

    note = disaggregation_note(resolve("llama-3.1-8b", "h100-sxm-80gb"), 4000, 300)
    assert "prefill replicas per decode replica" in note and "colocated" in note
