"""Multi-token prediction holds its module's weights and one more layer of KV per token."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inferplan.deploy.deployment import limits_of, memory_of, resolve, step_model_of
from inferplan.deploy.speculation import mtp_bytes_per_device, speculative_runtime
from inferplan.errors import SpecError
from inferplan.memory.weights import weights_bytes_per_device
from inferplan.perf.speculative import SpeculativeSpec

MTP = SpeculativeSpec(method="mtp", draft_tokens=1, acceptance_rate=0.85)


def _ds(tp: int = 8):  # type: ignore[no-untyped-def]
    return replace(resolve("deepseek-v3", "h200-sxm-141gb", "vllm", "fp8"), tp=tp)


def test_mtp_module_is_one_average_decoder_layer_per_device() -> None:
    # DeepSeek-V3: 61 decoder layers, one MTP module (num_nextn_predict_layers 1): the
    # module is charged 1/61 of the per-device weights; 671e9 FP8 parameters / 8 devices
    # / 61 layers = 1.375e9 bytes, within the embedding and BF16 norms' share
    d = _ds()
    per_device = weights_bytes_per_device(d.model, d.weights, 8, 1)
    assert mtp_bytes_per_device(d) == pytest.approx(per_device / 61)
    assert mtp_bytes_per_device(d) == pytest.approx(671e9 / 8 / 61, rel=0.03)


def test_mtp_takes_its_weights_and_kv_out_of_the_cache() -> None:
    # left = (tokens x kv - module bytes) / (kv x (1 + 1/61)): the module's weights come
    # out of the cache and each token also holds the module's one layer of KV
    d = _ds()
    mem = memory_of(d, 4096, 1)
    base = limits_of(d, mem)
    kv = step_model_of(d).kv_bytes_per_token_dev
    _, limits = speculative_runtime(d, mem, MTP, None, 4096)
    expected = (base.kv_capacity_tokens * kv - mtp_bytes_per_device(d)) / (kv * (1 + 1 / 61))
    assert limits.kv_capacity_tokens == int(expected)
    assert limits.kv_capacity_tokens < base.kv_capacity_tokens


def test_a_model_without_an_mtp_module_is_refused() -> None:
    d = resolve("llama-3.1-8b", "h100-sxm-80gb", "vllm", "bf16")
    assert mtp_bytes_per_device(d) == 0.0
    with pytest.raises(SpecError):
        speculative_runtime(d, memory_of(d, 2048, 1), MTP, None, 2048)
