"""Scheduler defaults that depend on the GPU (vLLM's larger batch on big GPUs).

Source of every expected figure: vLLM ``vllm/engine/arg_utils.py``, ``get_batch_defaults``
(the A100 exclusion from vllm-project/vllm PR 17885, released in v0.9.0, 2025-05-15, and
unchanged through v0.27): a GPU reporting at least 70 GiB of memory whose name does not
contain "a100" gets ``max_num_seqs`` 1024 and, for the OpenAI server,
``max_num_batched_tokens`` 8192; any other GPU gets ``max_num_seqs`` 256. SGLang and
TensorRT-LLM size their batch otherwise: their profiles do not depend on the GPU.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from inferplan.catalog import load_accelerators, load_engines
from inferplan.deploy.deployment import Deployment, limits_of, memory_of, resolve

GIB = 2**30


def _limits(d: Deployment) -> tuple[int, int]:
    lim = limits_of(d, memory_of(d, 2048, 1))
    return lim.max_num_seqs, lim.max_num_batched_tokens


@pytest.mark.parametrize(
    "gpu",
    # H100 SXM 80 GB reports 79.6 GiB, H200 141 GB 131 GiB, B200 180 GB 167 GiB: all >= 70 GiB
    ["h100-sxm-80gb", "h200-sxm-141gb", "b200-180gb"],
)
def test_vllm_gives_large_gpus_1024_sequences(gpu: str) -> None:
    d = resolve("llama-3.1-8b", gpu, "vllm")
    assert d.accelerator.capacity_bytes >= 70 * GIB
    assert _limits(d) == (1024, 8192)


@pytest.mark.parametrize(
    "gpu",
    [
        "a100-sxm-80gb",  # 80 GB >= 70 GiB, but vLLM excludes "a100" by name (PR 17885)
        "l40s-48gb",  # 48 GB = 44.7 GiB < 70 GiB
    ],
)
def test_vllm_keeps_256_sequences_on_a100_and_smaller_gpus(gpu: str) -> None:
    assert _limits(resolve("llama-3.1-8b", gpu, "vllm")) == (256, 8192)


def test_the_rule_reads_the_reported_memory_against_70_gib() -> None:
    sched = load_engines().get("vllm").scheduler
    h100 = load_accelerators().get("h100-sxm-80gb")
    just_below = h100.model_copy(update={"usable_memory_bytes": 70 * GIB - 2**20})
    at = h100.model_copy(update={"usable_memory_bytes": 70 * GIB})
    assert sched.defaults_for(just_below) == (256, 8192)
    assert sched.defaults_for(at) == (1024, 8192)


def test_only_gpus_qualify() -> None:
    # vLLM's CPU platform sets its own defaults; an Apple SoC's 192 GB is not a big GPU
    sched = load_engines().get("vllm").scheduler
    accels = load_accelerators()
    assert sched.defaults_for(accels.get("apple-m2-ultra-192gb")) == (256, 8192)
    assert sched.defaults_for(accels.get("epyc-9654")) == (256, 8192)


def test_vllm_v1_sync_releases_have_the_rule() -> None:
    # vLLM 0.9-0.13 carry get_batch_defaults with the A100 exclusion (v0.9.0 release notes)
    assert _limits(resolve("llama-3.1-70b", "mi300x-192gb", "vllm-v1-sync")) == (1024, 8192)
    assert _limits(resolve("llama-3.1-8b", "a100-sxm-80gb", "vllm-v1-sync")) == (256, 8192)


def test_vllm_v0_is_unchanged() -> None:
    # the V0 engine predates the rule: 256 whatever the GPU
    assert _limits(resolve("llama-3.1-8b", "h200-sxm-141gb", "vllm-v0"))[0] == 256


@pytest.mark.parametrize("explicit", [128, 300, 4096])
def test_an_explicit_max_num_seqs_wins(explicit: int) -> None:
    d = replace(resolve("llama-3.1-8b", "h200-sxm-141gb", "vllm"), max_num_seqs=explicit)
    assert _limits(d)[0] == explicit
    small = replace(resolve("llama-3.1-8b", "l40s-48gb", "vllm"), max_num_seqs=explicit)
    assert _limits(small)[0] == explicit


def test_each_attention_data_parallel_rank_gets_the_large_default() -> None:
    # 8 ranks of one H200 each run their own scheduler: 8 x 1024 sequences per replica
    d = resolve("deepseek-v3", "h200-sxm-141gb", "vllm", "fp8", ep=8, dp_attention=True)
    assert d.dp_attention == 8
    assert _limits(d) == (8 * 1024, 8 * 8192)


@pytest.mark.parametrize("engine", ["sglang", "trtllm"])
def test_other_engines_do_not_depend_on_the_gpu(engine: str) -> None:
    base = load_engines().get(engine).scheduler
    for gpu in ("h200-sxm-141gb", "l40s-48gb", "a100-sxm-80gb"):
        seqs, tokens = _limits(resolve("llama-3.1-8b", gpu, engine))
        assert (seqs, tokens) == (base.max_num_seqs, base.max_num_batched_tokens)
