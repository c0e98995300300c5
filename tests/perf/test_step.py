"""Step-time model pinned to hand calculations."""

from __future__ import annotations

import pytest

from inferplan.catalog import load_accelerators, load_models
from inferplan.perf.batch import BatchShape
from inferplan.perf.step import DEFAULT_MATMUL_EFFICIENCY, build_step_model
from inferplan.specs.engine import EngineEfficiency
from inferplan.specs.precision import parse_precision

EFF = EngineEfficiency(
    gemm_efficiency=0.7,
    gemm_half_tokens=0.0,
    bandwidth_efficiency=0.8,
    attention_efficiency=0.5,
    step_overhead_s=1e-3,
    layer_overhead_s=0.0,
    seq_overhead_s=0.0,
)


def _model(
    gpu: str = "h100-sxm-80gb", precision: str = "fp16", tp: int = 1, model: str = "llama-3.1-8b"
):  # type: ignore[no-untyped-def]
    return build_step_model(
        load_models().get(model),
        load_accelerators().get(gpu),
        parse_precision(precision),
        "fp16",
        EFF,
        tp=tp,
    )


def bw_of(acc) -> float:  # type: ignore[no-untyped-def]
    return float(acc.memory_bandwidth_bytes_per_s * 0.8)


def test_batch1_decode_is_weight_bytes_over_bandwidth_plus_overhead() -> None:
    step = _model()
    h100 = load_accelerators().get("h100-sxm-80gb")
    bw = h100.memory_bandwidth_bytes_per_s * 0.8
    # Llama-3.1-8B: 8.030e9 params at 2 bytes, less the input embedding table
    # (128,256 x 4,096 = 0.525e9 params, only looked up, never streamed) = 15.01e9 bytes.
    weight_bytes = (8.030e9 - 128_256 * 4096) * 2
    # one token attending to 1000 cached tokens reads 1000 x 131,072 bytes of KV
    kv_bytes = 1000 * 131_072
    expected = (weight_bytes + kv_bytes) / bw + 1e-3
    t = step.step_time_s(BatchShape(decode_seqs=1, decode_context_tokens=1000))
    assert t == pytest.approx(expected, rel=0.01)


def test_large_prefill_is_compute_bound() -> None:
    step = _model()
    h100 = load_accelerators().get("h100-sxm-80gb")
    tokens = 8192
    # linear layers: 2 FLOP per parameter per token, at peak x MAMF x gemm efficiency
    mamf = h100.matmul_efficiency or DEFAULT_MATMUL_EFFICIENCY  # 0.80 measured (MAMF table)
    gemm_rate = h100.peak_flops_for("fp16") * mamf * 0.7
    # (the LM head runs only for the one row that samples a token: negligible here)
    linear = 2 * tokens * (8.030e9 - 2 * 128_256 * 4096) / gemm_rate
    # causal attention of one 8192-token prompt: pairs = 8192 x 8193 / 2;
    # 4 x 32 heads x 128 x 32 layers FLOPs per pair at half the 16-bit peak
    pairs = tokens * (tokens + 1) / 2
    attn = pairs * 4 * 32 * 128 * 32 / (h100.peak_flops_for("fp16") * 0.5)
    # elementwise kernels: 2 bytes x (10 x 4096 + 3 x 14336 + 2 x 4096) per token and layer
    elementwise = tokens * 32 * 2 * (10 * 4096 + 3 * 14336 + 2 * 4096) / bw_of(h100)
    t = step.step_time_s(
        BatchShape(prefill_tokens=tokens, prefill_attention_pairs=pairs, prefill_seqs=1)
    )
    assert t == pytest.approx(linear + attn + elementwise + 1e-3, rel=0.01)


def test_fp8_halves_weight_streaming_time() -> None:
    shape = BatchShape(decode_seqs=1, decode_context_tokens=1)
    t16 = _model(precision="fp16").step_time_s(shape) - 1e-3
    t8 = _model(precision="fp8").step_time_s(shape) - 1e-3
    # block weights halve; embeddings/LM head (2 x 0.525e9 params) stay 16-bit
    assert 0.5 < t8 / t16 < 0.6


def test_moe_decode_reads_only_touched_experts() -> None:
    step = _model(model="mixtral-8x7b", tp=2)
    one = step.step_time_s(BatchShape(decode_seqs=1, decode_context_tokens=1))
    many = step.step_time_s(BatchShape(decode_seqs=64, decode_context_tokens=64))
    # batch 1 touches 2 of 8 experts; 64 tokens touch 8 x (1 - (6/8)^64) ~ all 8:
    # the expert bytes grow about 4x while dense weights stay
    assert 1.8 < many / one < 4.0


def test_tensor_parallel_adds_allreduce_time() -> None:
    t1 = _model(tp=1).step_time_s(BatchShape(decode_seqs=1, decode_context_tokens=1))
    t2 = _model(tp=2).step_time_s(BatchShape(decode_seqs=1, decode_context_tokens=1))
    # halving the weights per device halves streaming; the all-reduces add back a little
    assert 0.5 < t2 / t1 < 0.7


def test_gemm_latency_lowers_bandwidth_of_small_matrices() -> None:
    # a fixed time t0 per GEMM kernel: a matrix of S bytes streams at S / (S / BW + t0), so the
    # 8B model's 4 GEMMs per layer x 32 layers + LM head add 129 x t0 to a batch-1 decode
    h100 = load_accelerators().get("h100-sxm-80gb")
    lat = EFF.model_copy(update={"gemm_latency_s": 5e-6})
    m = load_models().get("llama-3.1-8b")
    base = build_step_model(m, h100, parse_precision("fp16"), "fp16", EFF)
    slow = build_step_model(m, h100, parse_precision("fp16"), "fp16", lat)
    shape = BatchShape(decode_seqs=1, decode_context_tokens=1)
    assert slow.step_time_s(shape) - base.step_time_s(shape) == pytest.approx(129 * 5e-6, rel=0.01)


def test_layer_latency_is_paid_once_per_layer_whatever_the_batch() -> None:
    h100 = load_accelerators().get("h100-sxm-80gb")
    m = load_models().get("llama-3.1-8b")
    lat = EFF.model_copy(update={"layer_latency_s": 20e-6})
    base = build_step_model(m, h100, parse_precision("fp16"), "fp16", EFF)
    slow = build_step_model(m, h100, parse_precision("fp16"), "fp16", lat)
    for b in (1, 64):
        shape = BatchShape(decode_seqs=b, decode_context_tokens=b * 100)
        assert slow.step_time_s(shape) - base.step_time_s(shape) == pytest.approx(32 * 20e-6)


def test_moe_routing_is_paid_once_per_moe_layer_whatever_the_batch() -> None:
    # Mixtral-8x7B: all 32 layers are MoE layers, each routes its tokens once per step;
    # a dense model has nothing to route
    h100 = load_accelerators().get("h100-sxm-80gb")
    lat = EFF.model_copy(update={"moe_routing_latency_s": 25e-6})
    for name, moe_layers in (("mixtral-8x7b", 32), ("llama-3.1-8b", 0)):
        m = load_models().get(name)
        base = build_step_model(m, h100, parse_precision("fp16"), "fp16", EFF, tp=2)
        slow = build_step_model(m, h100, parse_precision("fp16"), "fp16", lat, tp=2)
        for b in (1, 64):
            shape = BatchShape(decode_seqs=b, decode_context_tokens=b * 100)
            extra = slow.step_time_s(shape) - base.step_time_s(shape)
            assert extra == pytest.approx(moe_layers * 25e-6, abs=1e-12)


def test_roofline_knee_is_rounded() -> None:
    # at the ridge point (streaming time = compute time) the smooth max with p = 4 is
    # 2^(1/4) = 1.19 x either term: slower than a sharp max, faster than a sum
    step = _model()
    t = step.gemm_time_s(flops=1.0, rows=1e12, stream_s=1.0 / step.gemm_flops_per_s)
    assert t * step.gemm_flops_per_s == pytest.approx(2**0.25, rel=1e-6)


def test_host_time_is_separate_from_device_time() -> None:
    step = _model()
    shape = BatchShape(decode_seqs=8, decode_context_tokens=800)
    assert step.host_time_s(shape) == pytest.approx(1e-3)
    assert step.step_time_s(shape) == pytest.approx(
        step.device_time_s(shape) + step.comm_time_s(shape) + 1e-3
    )


def test_tensor_parallel_beyond_a_node_runs_at_the_scale_out_link() -> None:
    # TP 16 of 8-GPU H100 nodes: the ring's slowest hop is one GPU's 400 Gb/s NIC (50 GB/s),
    # not NVLink (450 GB/s); 64 tokens x 8192 hidden x 2 bytes per all-reduce, 2 per layer
    m = load_models().get("llama-3.1-405b")
    h100 = load_accelerators().get("h100-sxm-80gb")
    eff = EFF.model_copy(update={"comm_efficiency": 1.0, "allreduce_latency_s": 0.0})
    step = build_step_model(m, h100, parse_precision("fp8"), "fp8", eff, tp=16)
    shape = BatchShape(decode_seqs=64, decode_context_tokens=64 * 100)
    msg = 64 * m.hidden_size * 2
    expected = 2 * m.num_layers * 2 * 15 / 16 * msg / 50e9
    assert step.comm_time_s(shape) == pytest.approx(expected)


def test_pipeline_stages_on_two_nodes_send_activations_over_the_network() -> None:
    m = load_models().get("llama-3.1-405b")
    h100 = load_accelerators().get("h100-sxm-80gb")
    eff = EFF.model_copy(update={"comm_efficiency": 1.0, "allreduce_latency_s": 0.0})
    one = build_step_model(m, h100, parse_precision("fp8"), "fp8", eff, tp=8)
    two = build_step_model(m, h100, parse_precision("fp8"), "fp8", eff, tp=8, pp=2)
    shape = BatchShape(prefill_tokens=4096, prefill_attention_pairs=4096 * 2048, prefill_seqs=1)
    # one stage boundary: 4096 tokens x 16384 hidden x 2 bytes at 50 GB/s = 2.7 ms
    extra = 4096 * m.hidden_size * 2 / 50e9
    assert two.comm_time_s(shape) - one.comm_time_s(shape) == pytest.approx(extra)


@pytest.mark.parametrize(
    ("model", "tp", "pp"),
    [("llama-3.1-8b", 1, 1), ("mixtral-8x7b", 2, 1), ("gemma-2-9b", 1, 1), ("llama-3.1-70b", 4, 2)],
)
def test_step_time_is_device_plus_communication_plus_host(model: str, tp: int, pp: int) -> None:
    # step_time_s inlines the three parts for speed: it must add up to them for dense, MoE,
    # sliding-window, tensor- and pipeline-parallel models, decode, prefill and mixed steps
    step = build_step_model(
        load_models().get(model),
        load_accelerators().get("h100-sxm-80gb"),
        parse_precision("fp16"),
        "fp16",
        EFF.model_copy(update={"seq_overhead_s": 2e-6, "layer_overhead_s": 1e-6}),
        tp=tp,
        pp=pp,
    )
    shapes = [
        BatchShape(decode_seqs=1, decode_context_tokens=5000),
        BatchShape(decode_seqs=96, decode_context_tokens=96 * 9000),
        BatchShape(prefill_tokens=3000, prefill_attention_pairs=3000 * 3001 / 2, prefill_seqs=1),
        BatchShape(
            prefill_tokens=512,
            prefill_attention_pairs=512 * 1800.0,
            prefill_seqs=2,
            decode_seqs=40,
            decode_context_tokens=40 * 700,
        ),
    ]
    # the same tokens and sampled rows as shapes above with other contexts and chunks: the
    # linear layers and communication kept per (tokens, rows) must not leak the attention
    shapes += [
        BatchShape(decode_seqs=96, decode_context_tokens=96 * 300),
        BatchShape(
            prefill_tokens=2998,
            prefill_attention_pairs=2998 * 50.0,
            prefill_seqs=1,
            decode_seqs=2,
            decode_context_tokens=2 * 64_000,
        ),  # 3000 tokens like the prefill above, but 3 sampled rows
        BatchShape(
            prefill_tokens=2999,
            prefill_attention_pairs=10.0,
            prefill_seqs=2,
            decode_seqs=1,
            decode_context_tokens=7,
        ),  # 3000 tokens and 3 rows again
    ]
    for _ in range(2):  # the second pass finds every (tokens, rows) already computed
        for shape in shapes:
            parts = step.device_time_s(shape) + step.comm_time_s(shape) + step.host_time_s(shape)
            assert step.step_time_s(shape) == pytest.approx(parts, rel=1e-12)
            fields = (
                shape.prefill_tokens,
                shape.prefill_attention_pairs,
                shape.prefill_seqs,
                shape.decode_seqs,
                shape.decode_context_tokens,
            )
            assert step.step_time_of(*fields) == step.step_time_s(shape)
    assert step.step_time_s(BatchShape()) == 0.0


@pytest.mark.parametrize(
    ("model", "tp", "pp"),
    [("llama-3.1-8b", 1, 1), ("mixtral-8x7b", 2, 1), ("gemma-2-9b", 1, 1), ("llama-3.1-70b", 4, 2)],
)
def test_a_run_of_decode_steps_times_each_step_as_one_at_a_time(
    model: str, tp: int, pp: int
) -> None:
    # decode_step_times_s times k decode-only steps at once (the simulator's runs between
    # events); step j attends to j x decode more tokens than the first. Same floats, bit
    # for bit, as step_time_of one step at a time (sliding windows, MoE, TP and PP included)
    step = build_step_model(
        load_models().get(model),
        load_accelerators().get("h100-sxm-80gb"),
        parse_precision("fp16"),
        "fp16",
        EFF.model_copy(update={"seq_overhead_s": 2e-6, "layer_overhead_s": 1e-6}),
        tp=tp,
        pp=pp,
    )
    for decode, ctx in ((1, 5000), (37, 37 * 1000 + 5), (200, 200 * 9000)):
        run = step.decode_step_times_s(decode, ctx, 40)
        one_by_one = [step.step_time_of(0, 0.0, 0, decode, ctx + j * decode) for j in range(40)]
        assert run.tolist() == one_by_one
    assert step.decode_step_times_s(8, 100, 0).size == 0
