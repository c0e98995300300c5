"""The GPU's share of Apple silicon unified memory (macOS's default wired limit, Metal's
``recommendedMaxWorkingSetSize``) is what the memory fit offers an engine on a SoC."""

from __future__ import annotations

import pytest

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.memory.fit import FitRequest, fit
from inferplan.memory.unified import device_memory_bytes, soc_memory_note
from inferplan.specs.precision import parse_precision


def _acc(rid: str):  # type: ignore[no-untyped-def]
    return load_accelerators().get(rid, "gpu")


def test_a_96_gb_mac_gives_the_gpu_three_quarters_of_96_gib() -> None:
    # Apple's "96 GB" is 96 GiB; above 32 GiB macOS lets the GPU wire 3/4 of it:
    # 0.75 x 96 x 2**30 = 77,309,411,328 B (llama.cpp logs 51539.61 MB = 0.75 x 64 GiB on 64 GB)
    assert device_memory_bytes(_acc("apple-m2-max-96gb")) == pytest.approx(77_309_411_328)


def test_a_16_gb_mac_gives_the_gpu_two_thirds_of_16_gib() -> None:
    # 2/3 x 16 x 2**30 = 11,453,246,122.7 B (llama.cpp logs 11453.25 MB on 16 GB Macs)
    assert device_memory_bytes(_acc("apple-m1-16gb")) == pytest.approx(11_453_246_123)


def test_the_share_steps_up_above_32_gib() -> None:
    # 32 GB: 2/3 x 32 GiB = 21,845.33 MiB (llama.cpp PR 2011 log: 21845.34 MB);
    # 36 GB: 3/4 x 36 GiB = 27 GiB
    assert device_memory_bytes(_acc("apple-m4-32gb")) == pytest.approx(2 / 3 * 32 * 2**30)
    assert device_memory_bytes(_acc("apple-m3-pro-36gb")) == pytest.approx(27 * 2**30)


def test_a_set_usable_figure_replaces_the_default_rule() -> None:
    raised = _acc("apple-m2-max-96gb").model_copy(update={"usable_memory_bytes": 90e9})
    assert device_memory_bytes(raised) == 90e9
    assert "90.0 GB" in (soc_memory_note(raised) or "")


def test_a_discrete_gpu_keeps_its_driver_visible_memory() -> None:
    h100 = _acc("h100-sxm-80gb")
    assert h100.usable_memory_bytes is not None
    assert device_memory_bytes(h100) == h100.usable_memory_bytes
    assert soc_memory_note(h100) is None
    res = fit(_req("llama-3.1-70b", "h100-sxm-80gb", "vllm", "fp8", 4096))
    assert res.device_capacity_bytes == h100.usable_memory_bytes


def test_the_note_names_the_share_and_the_sysctl() -> None:
    note = soc_memory_note(_acc("apple-m2-max-96gb")) or ""
    assert "75%" in note and "96 GB" in note and "72 GiB" in note
    assert "iogpu.wired_limit_mb" in note


def _req(model: str, gpu: str, engine: str, precision: str, context: int) -> FitRequest:
    return FitRequest(
        model=load_models().get(model, "model"),
        accelerator=_acc(gpu),
        engine=load_engines().get(engine, "engine"),
        weights=parse_precision(precision, "precision"),
        kv_precision="fp16",
        context_tokens=context,
    )


def test_llama_70b_q8_0_leaves_an_m2_max_96gb_almost_no_kv_cache() -> None:
    # Q8_0 weights: 70.55e9 x 8.5 bits / 8 = 74.96 GB; + 0.5 GB llama.cpp runtime + ~0.41 GB
    # activations = 75.87 GB of 77.31 GB: ~1.44 GB of KV / 327,680 B per token = ~4,400
    # tokens (with all 96 GB it was ~61,000). 8,192 tokens of context no longer fit.
    short = fit(_req("llama-3.1-70b", "apple-m2-max-96gb", "llamacpp", "q8_0", 4096))
    assert short.device_capacity_bytes == pytest.approx(77_309_411_328)
    assert 4_096 <= short.kv_capacity_tokens < 5_000
    long = fit(_req("llama-3.1-70b", "apple-m2-max-96gb", "llamacpp", "q8_0", 8192))
    assert not long.fits
