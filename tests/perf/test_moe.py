"""Expert parallelism: all-to-all time, load imbalance, weights per device, layouts.

Expected numbers are hand calculations written next to each assertion.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from inferplan.catalog import load_accelerators, load_models
from inferplan.deploy.deployment import (
    expert_layout,
    memory_of,
    resolve,
    step_model_of,
    with_expert_parallel,
)
from inferplan.errors import SpecError
from inferplan.memory.weights import weights_bytes, weights_bytes_per_device
from inferplan.perf.batch import BatchShape
from inferplan.perf.moe import (
    A2A_LATENCY_S,
    all_to_all_time_s,
    busiest_rank_experts,
    load_imbalance,
)
from inferplan.perf.step import build_step_model
from inferplan.specs.precision import parse_precision

NV = 450e9 * 0.765  # H100 NVLink per direction x DeepEP's achieved share
IB = 50e9 * 0.86  # NDR NIC x DeepEP's achieved share


def test_all_to_all_intranode_hand_calculation() -> None:
    # DeepSeek-V3 (h 7168, top-8), 128 tokens, EP 8 in one node, low-latency kernels:
    # 7/8 of 128 x 8 copies leave the device: 896 copies.
    # dispatch 896 x 7168 x 1.03125 = 6,623,232 B; combine 896 x 7168 x 2 = 12,845,056 B
    # (6,623,232 + 12,845,056) / 344.25e9 = 56.553 us, + 2 x 24 us = 104.553 us
    expected = (6_623_232 + 12_845_056) / NV + 2 * 24e-6
    got = all_to_all_time_s(128, 7168, 8, 8, 8, NV, IB)
    assert got == pytest.approx(expected, rel=1e-9)
    assert got == pytest.approx(104.553e-6, abs=1e-9)


def test_all_to_all_is_nothing_without_expert_parallelism() -> None:
    assert all_to_all_time_s(128, 7168, 8, 1, 8, NV, IB) == 0.0
    assert all_to_all_time_s(0, 7168, 8, 8, 8, NV, IB) == 0.0


def test_internode_all_to_all_is_slower_than_intranode() -> None:
    # the same 16 devices, in one 16-device NVLink domain or two 8-device nodes
    inside = all_to_all_time_s(128, 7168, 8, 16, 16, NV, IB)
    across = all_to_all_time_s(128, 7168, 8, 16, 8, NV, IB)
    assert across > 2 * inside
    # prefill (normal kernels) too
    assert all_to_all_time_s(4096, 7168, 8, 16, 8, NV, IB, low_latency=False) > (
        all_to_all_time_s(4096, 7168, 8, 16, 16, NV, IB, low_latency=False)
    )


def test_deepep_low_latency_figures_are_matched_within_the_derivation() -> None:
    # DeepEP README (V1), H800 + CX7: EP 32 dispatch 155 us, combine 273 us for 128 tokens.
    # dispatch alone: 128 x 8 x 24/32 x 7168 x 1.03125 B / 43 GB/s + 24 us
    dispatch = 128 * 8 * 24 / 32 * 7168 * 1.03125 / IB + A2A_LATENCY_S
    combine = 128 * 8 * 24 / 32 * 7168 * 2 / IB + A2A_LATENCY_S
    assert dispatch == pytest.approx(155e-6, rel=0.05)
    assert combine == pytest.approx(273e-6, rel=0.05)
    # all_to_all_time_s is their sum on an H800 (200 GB/s NVLink) in 8-device nodes
    assert all_to_all_time_s(128, 7168, 8, 32, 8, 200e9 * 0.765, IB) == pytest.approx(
        dispatch + combine, rel=1e-9
    )


def test_load_imbalance_balls_into_bins() -> None:
    # m = 64 x 8 / 8 = 64 per device: 1 + sqrt(2 ln 8 x 7/8 / 64) = 1.2385
    assert load_imbalance(512, 8) == pytest.approx(
        1 + math.sqrt(2 * math.log(8) * 0.875 / 64), rel=1e-12
    )
    assert load_imbalance(512, 8) == pytest.approx(1.2385, abs=1e-4)
    # more tokens even out; one device is perfectly balanced; never above ep
    assert load_imbalance(8192, 8) < load_imbalance(512, 8)
    assert load_imbalance(512, 1) == 1.0
    # one token over two devices: m = 0.5, 1 + sqrt(2 ln 2 x 1/2 / 0.5) = 2.18, capped at 2
    assert load_imbalance(1, 2) == 2.0


def test_busiest_rank_reads_no_more_experts_than_it_holds() -> None:
    for tokens in (1, 8, 128, 4096):
        a, touched = busiest_rank_experts(tokens, 256, 8, 32)
        assert 0 < touched <= 8  # 256 / 32 experts on a device
        assert a >= tokens * 8 / 32  # at least the mean


def test_expert_parallel_splits_expert_weights_exactly() -> None:
    m = load_models().get("deepseek-v3")
    fp8 = parse_precision("fp8")
    # routed experts: 58 MoE layers x 256 experts x 3 x 7168 x 2048 weights, 1 byte each
    experts = 58 * 256 * 3 * 7168 * 2048
    assert experts == 653_908_770_816
    total = weights_bytes(m, fp8)
    # attention data parallel (tp 1, pp 1): everything else whole, experts / ep
    ep16 = weights_bytes_per_device(m, fp8, 1, 1, ep=16)
    ep32 = weights_bytes_per_device(m, fp8, 1, 1, ep=32)
    assert ep16 == pytest.approx(total - experts + experts / 16, rel=1e-12)
    # doubling ep frees experts x (1/16 - 1/32) = 20.43 GB per device
    assert ep16 - ep32 == pytest.approx(experts / 32, rel=1e-9)
    assert (ep16 - ep32) / 1e9 == pytest.approx(20.43, abs=0.01)
    # ep = tp holds the same bytes as slicing every expert tp ways (256 divisible by 8)
    assert weights_bytes_per_device(m, fp8, 8, 1, ep=8) == pytest.approx(
        weights_bytes_per_device(m, fp8, 8, 1), rel=1e-12
    )
    # ep 72 with 32 redundant experts: (256 + 32) / 72 = 4 experts per device
    ep72 = weights_bytes_per_device(m, fp8, 1, 1, ep=72, redundant_experts=32)
    assert ep72 == pytest.approx(total - experts + experts * 4 / 256, rel=1e-12)


def test_ep_1_changes_no_prediction() -> None:
    shapes = [
        BatchShape(decode_seqs=1, decode_context_tokens=1000),
        BatchShape(decode_seqs=64, decode_context_tokens=64 * 3000),
        BatchShape(prefill_tokens=4096, prefill_seqs=2, prefill_attention_pairs=4.2e6),
    ]
    for model, gpu, tp in (
        ("llama-3.1-8b", "h100-sxm-80gb", 1),
        ("llama-3.1-70b", "h100-sxm-80gb", 4),
        ("mixtral-8x7b", "h100-sxm-80gb", 2),
        ("deepseek-v3", "h200-sxm-141gb", 8),
    ):
        d = resolve(model, gpu, "vllm", "bf16" if "deepseek" not in model else "fp8", tp=tp)
        e = resolve(model, gpu, "vllm", "bf16" if "deepseek" not in model else "fp8", tp=tp, ep=1)
        a, b = step_model_of(d), step_model_of(e)
        for s in shapes:
            assert a.step_time_s(s) == b.step_time_s(s)
        assert memory_of(d, 4096, 4) == memory_of(e, 4096, 4)
        # the per-device weights are the TP slice of every block, as before
        w = weights_bytes(d.model, d.weights)
        assert weights_bytes_per_device(d.model, d.weights, tp, 1) == pytest.approx(w / tp)


def test_ep_equal_to_tp_streams_the_same_experts_as_tp_at_large_batch() -> None:
    # at 4,096 tokens every expert is touched: EP 8 reads 32 whole experts, TP 8 a 1/8
    # slice of 256; the imbalance (1 + sqrt(2 ln 8 x 7/8 / 4096) = 1.03) adds at most 3%
    d = resolve("deepseek-v3", "h200-sxm-141gb", "sglang", "fp8", tp=8)
    tp_only = step_model_of(d)
    ep = step_model_of(with_expert_parallel(d, 8, False))
    shape = BatchShape(prefill_tokens=4096, prefill_seqs=1, prefill_attention_pairs=4096 * 2048.5)
    assert tp_only.comm_time_s(shape) == ep.comm_time_s(shape)  # no all-to-all without DP
    ratio = ep.device_time_s(shape) / tp_only.device_time_s(shape)
    assert 0.97 < ratio < 1.04


def test_dp_attention_charges_all_to_all_and_multiplies_kv_capacity() -> None:
    d = resolve("deepseek-v3", "h100-sxm-80gb", "sglang", "fp8")
    one_node = with_expert_parallel(d, 16, True)
    assert (one_node.tp, one_node.ep, one_node.dp_attention, one_node.devices) == (1, 16, 16, 16)
    step = step_model_of(one_node)
    shape = BatchShape(decode_seqs=16 * 128, decode_context_tokens=16 * 128 * 2000)
    # each device sends its own 128 tokens; 58 MoE layers of dispatch + combine
    per_layer = all_to_all_time_s(128, 7168, 8, 16, 8, 450e9 * 0.765, 50e9 * 0.86)
    assert step.comm_time_s(shape) == pytest.approx(58 * per_layer, rel=1e-9)
    mem = memory_of(one_node, 2048, 1)
    per_device_tokens = int(mem.kv_capacity_bytes_per_device // mem.kv_cache_bytes_per_token)
    assert mem.kv_capacity_tokens == 16 * per_device_tokens
    # internode EP is slower than the same EP inside one NVLink domain
    wide = replace(d, accelerator=d.accelerator.model_copy(update={"max_devices_per_node": 16}))
    inside = step_model_of(with_expert_parallel(wide, 16, True))
    assert step.step_time_s(shape) > inside.step_time_s(shape)


def test_imbalance_makes_the_busiest_device_slower_than_the_mean() -> None:
    from inferplan.catalog import load_engines

    m = load_models().get("qwen3-235b-a22b")  # 128 experts, top-8
    a = load_accelerators().get("h100-sxm-80gb")
    eff = load_engines().get("sglang").efficiency
    ep8 = build_step_model(m, a, parse_precision("bf16"), "bf16", eff, tp=1, ep=8, dp=8)
    tokens = 8 * 2048
    # the mean device: 16,384 x 8 / 8 assignments over its 16 experts, all touched
    mean_a = tokens * 8 / 8
    touched = 16 * (1 - (1 - 1 / 16) ** mean_a)
    mean_s = ep8.gemm_time_s(
        ep8.expert_flops_per_row * mean_a,
        mean_a / touched,
        touched * ep8.expert_stream_s + ep8.expert_kernel_s,
        ep8.expert_width_factor,
    )
    busiest = ep8._experts_time_s(tokens)
    # 1 + sqrt(2 ln 8 x 7/8 / 16,384) = 1.0149: compute bound, so about 1.5% slower
    assert busiest > mean_s
    assert busiest / mean_s == pytest.approx(1.0149, abs=0.005)


@pytest.mark.parametrize(
    ("model", "ep", "dp", "tp", "field"),
    [
        ("llama-3.1-8b", 8, False, None, "ep"),
        ("deepseek-v3", 0, False, None, "ep"),
        ("deepseek-v3", 512, True, None, "ep"),
        ("deepseek-v3", 12, True, None, "ep"),
        ("deepseek-v3", 8, False, 4, "ep"),
        ("deepseek-v3", 16, False, None, "ep"),
        ("deepseek-v3", 1, True, None, "dp-attention"),
        ("deepseek-v3", 8, True, 3, "tp"),
        ("deepseek-v3", 72, True, None, "ep"),  # 256 experts do not split 72 ways
    ],
)
def test_bad_expert_layouts_name_their_field(
    model: str, ep: int, dp: bool, tp: int | None, field: str
) -> None:
    m = load_models().get(model)
    a = load_accelerators().get("h100-sxm-80gb")
    with pytest.raises(SpecError) as exc:
        expert_layout(m, a, ep, dp, tp)
    assert exc.value.field == field


def test_rank_shape_gives_the_busiest_data_parallel_device_whole_sequences() -> None:
    d = resolve("deepseek-v3", "h100-sxm-80gb", "sglang", "fp8")
    step = step_model_of(with_expert_parallel(d, 16, True, tp=4))  # 4 groups of tp 4
    assert step.dp == 4
    # 10 decode sequences over 4 groups: ceil(10/4) = 3 on the busiest, 3 x 1,000 context
    r = step.rank_shape(BatchShape(decode_seqs=10, decode_context_tokens=10_000))
    assert (r.decode_seqs, r.decode_context_tokens) == (3, 3_000)
    # 5 prompts of 1,000 tokens: 2 on the busiest, 2,000 tokens and 2/5 of the pairs
    r = step.rank_shape(
        BatchShape(prefill_tokens=5_000, prefill_seqs=5, prefill_attention_pairs=5 * 500_500.0)
    )
    assert (r.prefill_seqs, r.prefill_tokens) == (2, 2_000)
    assert r.prefill_attention_pairs == pytest.approx(2 * 500_500.0)
    # a single prompt gains nothing from data-parallel attention
    one = BatchShape(prefill_tokens=4096, prefill_seqs=1, prefill_attention_pairs=8.4e6)
    assert step.rank_shape(one) == one


def test_redundant_experts_let_ep_72_split_deepseek() -> None:
    m = load_models().get("deepseek-v3")
    a = load_accelerators().get("h100-sxm-80gb")
    assert expert_layout(m, a, 72, True, None, 32) == (1, 72, 72)
    with pytest.raises(SpecError) as exc:
        expert_layout(m, a, 72, True, None, 30)  # 286 slots do not split 72 ways
    assert exc.value.field == "ep"
    with pytest.raises(SpecError) as exc:
        expert_layout(m, a, 1, False, None, 32)
    assert exc.value.field == "redundant-experts"
    d = with_expert_parallel(
        resolve("deepseek-v3", "h100-sxm-80gb", "sglang", "fp8"), 72, True, redundant_experts=32
    )
    assert step_model_of(d).expert_slots == 4
