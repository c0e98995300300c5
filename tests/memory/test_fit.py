"""Memory fit: hand calculations of weights, KV and the answers built on them."""

from __future__ import annotations

import pytest

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.errors import SpecError
from inferplan.memory.fit import FitRequest, fit, min_devices
from inferplan.memory.kv import kv_shard_fraction
from inferplan.specs.precision import parse_precision


def _req(model: str, gpu: str, **kw: object) -> FitRequest:
    base: dict[str, object] = dict(
        model=load_models().get(model),
        accelerator=load_accelerators().get(gpu),
        engine=load_engines().get("vllm"),
        weights=parse_precision("bf16"),
        kv_precision="bf16",
    )
    base.update(kw)
    return FitRequest(**base)  # type: ignore[arg-type]


def test_70b_bf16_does_not_fit_one_h100() -> None:
    res = fit(_req("llama-3.1-70b", "h100-sxm-80gb"))
    # 70.55e9 params x 2 bytes = 141 GB > 80 GB
    assert not res.fits
    assert "weights" in res.reason


def test_70b_bf16_tp4_concurrency_hand_calc() -> None:
    req = _req("llama-3.1-70b", "h100-sxm-80gb", tp=4, context_tokens=8192, concurrency=1)
    res = fit(req)
    assert res.fits
    # per device KV per token = 327,680 / 4 = 81,920 bytes; a sequence of 8192 tokens
    # holds 8192 x 81,920 = 671,088,640 bytes, so max sequences = floor(kv_cap / that)
    per_seq = 8192 * 81_920
    assert res.max_concurrency_at_context == int(res.kv_capacity_bytes_per_device // per_seq)
    assert res.per_device_bytes["weights"] == pytest.approx(70.55e9 * 2 / 4, rel=0.01)


def test_kv_heads_replicated_beyond_tp() -> None:
    m = load_models().get("llama-3.1-8b")  # 8 KV heads
    # tp=16 > 8 heads: each rank holds a whole head, i.e. 1/8 of the KV, not 1/16
    assert kv_shard_fraction(m, 16, 1) == pytest.approx(1 / 8)
    assert kv_shard_fraction(m, 4, 1) == pytest.approx(1 / 4)


def test_fp8_kv_doubles_capacity() -> None:
    a = fit(_req("llama-3.1-8b", "h100-sxm-80gb", kv_precision="bf16"))
    b = fit(_req("llama-3.1-8b", "h100-sxm-80gb", kv_precision="fp8"))
    assert b.kv_capacity_tokens == pytest.approx(2 * a.kv_capacity_tokens, rel=1e-3)


def test_longest_context_and_min_devices() -> None:
    res = fit(_req("llama-3.1-8b", "h100-sxm-80gb", concurrency=10))
    # context is capped by KV: 10 x ctx x 131,072 bytes <= kv_cap
    assert res.max_context_at_concurrency == min(
        131072, int(res.kv_capacity_bytes_per_device // (10 * 131_072))
    )
    best = min_devices(_req("llama-3.1-70b", "h100-sxm-80gb", context_tokens=4096))
    assert best is not None and best.count == 2  # 141 GB of weights need two 80 GB devices


def test_bad_context_and_tp() -> None:
    with pytest.raises(SpecError, match="context"):
        fit(_req("llama-2-7b", "h100-sxm-80gb", context_tokens=10_000))  # max 4096
    with pytest.raises(SpecError, match="tp"):
        fit(_req("llama-3.1-8b", "h100-sxm-80gb", tp=3))
