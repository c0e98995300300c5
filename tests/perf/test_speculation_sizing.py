"""Speculative sizing: MTP weights and KV, its output head, draft checks, CLI defaults."""

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


def test_each_mtp_draft_token_also_runs_the_output_head() -> None:
    # DeepSeek-V3 output head: 129,280 x 7,168 BF16 weights = 1.853 GB, 231.7 MB per device
    # at TP 8; at batch 1 it streams at 0.886 x 4.8 TB/s (H200) plus one 6.2 us kernel:
    # 231.7e6 / 4.253e12 + 6.2e-6 = 60.7 us
    from inferplan.perf.batch import BatchShape
    from inferplan.perf.speculative import SpeculativeStepModel

    d = _ds()
    target = step_model_of(d)
    assert target.lm_head_time_s(1) == pytest.approx(60.7e-6, rel=0.02)
    dec = BatchShape(decode_seqs=1, decode_context_tokens=2000)
    sm = SpeculativeStepModel(target, MTP, target_layers=target.layers)
    layer_share = target.step_time_s(dec) / 61
    assert sm.draft_time_s(dec) == pytest.approx(layer_share + 60.7e-6, rel=0.02)


DRAFT = SpeculativeSpec(method="draft_model", draft_tokens=4, acceptance_rate=0.7)


@pytest.mark.parametrize(
    ("draft", "why"),
    [
        ("qwen3-8b", "vocabulary"),  # 151,936 tokens against Llama 3's 128,256
        ("llama-3.1-405b", "not smaller"),
    ],
)
def test_a_draft_must_share_the_vocabulary_and_be_smaller(draft: str, why: str) -> None:
    d = replace(resolve("llama-3.1-70b", "h100-sxm-80gb", "vllm", "bf16"), tp=4)
    with pytest.raises(SpecError, match=why):
        speculative_runtime(d, memory_of(d, 2048, 1), DRAFT, draft, 2048)


def test_cli_needs_an_acceptance_rate_except_for_mtp() -> None:
    from typer.testing import CliRunner

    from inferplan.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["perf", "llama-3.1-8b", "--gpu", "h100-sxm-80gb", "--spec", "ngram"])
    assert res.exit_code == 2
    assert "spec-acceptance" in res.output and "Traceback" not in res.output
    # MTP: one draft token at the published 0.85 acceptance, (1 - 0.85^2) / 0.15 = 1.85
    res = runner.invoke(
        app,
        [
            "perf",
            "deepseek-v3",
            "--gpu",
            "h200-sxm-141gb",
            "--precision",
            "fp8",
            "--tp",
            "8",
            "--spec",
            "mtp",
            "--concurrency",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (
        "1 draft tokens, acceptance 0.85" in res.output and "1.85 tokens per verify" in res.output
    )
