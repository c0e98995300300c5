"""Expert-parallel designs for mixture-of-experts models: which layouts are tried, what a
device holds, what the network charges, how fleets are counted and how plans name them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.catalog.providers import load_providers
from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.deploy.deployment import Deployment, resolve, step_model_of
from inferplan.perf.batch import BatchShape
from inferplan.planner.designs import (
    Design,
    _designs_for,
    _ep_layouts,
    find_designs,
    layout_words,
    prompt_tail,
    workload_lengths,
)
from inferplan.planner.options import build_candidates, replicas_at_peak
from inferplan.planner.search import plan
from inferplan.results.plan import PlanResult
from inferplan.scenario_io import load_scenario, parse_scenario
from inferplan.specs.economics import OnPremSpec
from inferplan.specs.scenario import ScenarioSpec

EXAMPLES = Path(__file__).parents[2] / "examples" / "scenarios"


def _scenario(**over: Any) -> ScenarioSpec:
    raw = yaml.safe_load(default_scenario_text())
    cand = over.pop("candidates", {})
    work = over.pop("workload", {})
    raw.update(over)
    raw["workload"] = {**raw["workload"], **work}
    raw["candidates"] = {**raw["candidates"], **cand}
    return parse_scenario(raw)


def _all_designs(spec: ScenarioSpec, base: Deployment) -> list[Design]:
    """Every design of one family that fits and meets the SLO, before dominance."""
    isl, osl, long_ctx = workload_lengths(spec)
    assert spec.slo is not None
    found, _, _ = _designs_for(
        base, long_ctx, isl, osl, spec.slo, spec.candidates, prompt_tail(spec)
    )
    return found


def _by_layout(designs: list[Design]) -> dict[tuple[int, int, int, int], Design]:
    return {
        (d.deployment.tp, d.deployment.pp, d.deployment.ep, d.deployment.dp_attention): d
        for d in designs
        if d.technique is None
    }


@pytest.fixture(scope="module")
def deepseek_h200() -> list[Design]:
    spec = _scenario(
        models=["deepseek-v3"],
        slo={"ttft_ms": 20000, "tpot_ms": 300},
        candidates={"precisions": ["fp8"]},
    )
    return _all_designs(spec, resolve("deepseek-v3", "h200-sxm-141gb", "vllm", "fp8"))


def test_a_dense_model_never_gets_expert_parallel_designs() -> None:
    spec = _scenario(models=["llama-3.3-70b"], candidates={"precisions": ["fp8"]})
    for gpu in ("h100-sxm-80gb", "h200-sxm-141gb"):
        assert _ep_layouts(resolve("llama-3.3-70b", gpu, "vllm", "fp8"), spec.candidates) == []
    assert spec.slo is not None
    designs, rejected = find_designs(spec, ["h100-sxm-80gb", "l40s-48gb"], spec.slo)
    assert designs
    assert all(d.deployment.ep == 1 and d.deployment.dp_attention == 1 for d in designs)
    assert not any(" ep " in f" {r.reason}" or "EP " in r.family for r in rejected)


def test_ep_layouts_follow_the_expert_count_and_the_node() -> None:
    # DeepSeek-V3: 256 routed experts, 8-GPU nodes, replicas up to 32 GPUs (default):
    # EP 2, 4, 8 inside a node with tensor-parallel attention (ep = tp) and with attention
    # data parallelism, then EP 16 and 32 over 2 and 4 whole nodes (data parallel only)
    spec = _scenario(models=["deepseek-v3"], candidates={"precisions": ["fp8"]})
    tried = _ep_layouts(resolve("deepseek-v3", "h100-sxm-80gb", "vllm", "fp8"), spec.candidates)
    got = [(d.ep, d.tp, d.dp_attention) for d in tried]
    assert got == [
        (2, 2, 1),
        (2, 1, 2),
        (4, 4, 1),
        (4, 1, 4),
        (8, 8, 1),
        (8, 1, 8),
        (16, 1, 16),
        (32, 1, 32),
    ]
    # Mixtral-8x7B has 8 experts: no EP 16 or 32 however large the replica may be
    spec = _scenario(models=["mixtral-8x7b"], candidates={"max_devices_per_replica": 64})
    tried = _ep_layouts(resolve("mixtral-8x7b", "h100-sxm-80gb"), spec.candidates)
    assert max(d.ep for d in tried) == 8
    # engines without expert parallelism get none (llama.cpp)
    assert (
        _ep_layouts(resolve("mixtral-8x7b", "h100-sxm-80gb", "llamacpp", "q4_k_m"), spec.candidates)
        == []
    )


def test_ep_holds_fewer_expert_bytes_per_device_than_tensor_parallel_alone(
    deepseek_h200: list[Design],
) -> None:
    """Hand calculation, DeepSeek-V3 at FP8 (1 byte per weight): routed experts
    256 x 3 x 7,168 x 2,048 x 58 MoE layers = 653,908,770,816 B. Tensor parallel 8 (the most
    one node takes) holds 1/8 of them, 81,738,596,352 B per device, plus 1/8 of the rest;
    EP 16 with attention data parallelism holds 16 whole experts per layer,
    16/256 x 653,908,770,816 = 40,869,298,176 B, plus all of the rest (attention, dense
    layers, shared experts, embeddings: tp 1), 8 x the TP 8 device's share of it."""
    layouts = _by_layout(deepseek_h200)
    tp8, ep16 = layouts[(8, 1, 1, 1)], layouts[(1, 1, 16, 16)]
    experts = 256 * 3 * 7168 * 2048 * 58
    assert experts == 653_908_770_816
    w_tp8 = tp8.memory.per_device_bytes["weights"]
    w_ep16 = ep16.memory.per_device_bytes["weights"]
    rest_tp8 = w_tp8 - experts / 8
    assert w_ep16 == pytest.approx(8 * rest_tp8 + experts * 16 / 256, rel=1e-9)
    assert w_ep16 - 8 * rest_tp8 == pytest.approx(40_869_298_176, rel=1e-9)
    assert w_ep16 - 8 * rest_tp8 < w_tp8 - rest_tp8  # half the expert bytes of TP 8
    # and the devices' KV caches: MLA's latent is not split by tensor parallelism, so
    # 16 data-parallel groups hold far more tokens than one TP 8 group
    assert ep16.memory.kv_capacity_tokens > 4 * tp8.memory.kv_capacity_tokens


def test_an_ep_group_spanning_nodes_is_charged_the_scale_out_link(
    deepseek_h200: list[Design],
) -> None:
    """Hand calculation of one decode step's all-to-all, 128 tokens per device, hidden
    7,168, top-8, DeepEP low-latency kernels (FP8 dispatch 1.03125 B per value, BF16
    combine 2 B), 24 us per call, 58 MoE layers:

    EP 8 in one node: 7 of 8 copies over NVLink (450 GB/s x 0.765 = 344.25 GB/s):
    dispatch 128 x 7 x 7,168 x 1.03125 = 6,623,232 B -> 19.240 us, combine 12,845,056 B ->
    37.313 us, + 48 us = 104.553 us per layer, 6.064 ms per step.

    EP 16 over two nodes: 4 of 8 copies to the other node over InfiniBand NDR
    (50 GB/s x 0.86 = 43 GB/s): dispatch 3,784,704 B -> 88.016 us, combine 7,340,032 B ->
    170.698 us, + 48 us = 306.714 us per layer, 17.789 ms per step."""
    layouts = _by_layout(deepseek_h200)
    ep8, ep16 = layouts[(1, 1, 8, 8)], layouts[(1, 1, 16, 16)]
    assert ep8.node_devices == 8 and ep16.node_devices == 8 and ep16.devices == 16

    def comm(d: Design) -> float:
        dp = d.deployment.dp_attention
        step = step_model_of(d.deployment)
        return step.comm_time_s(
            BatchShape(decode_seqs=128 * dp, decode_context_tokens=128 * dp * 2000)
        )

    assert comm(ep8) == pytest.approx(58 * 104.553e-6, rel=1e-3)
    assert comm(ep16) == pytest.approx(58 * 306.714e-6, rel=1e-3)
    # the same 16 devices in one (hypothetical) 16-GPU NVLink node pay far less
    big = replace(
        ep16.deployment,
        accelerator=ep16.deployment.accelerator.model_copy(update={"max_devices_per_node": 16}),
    )
    step = step_model_of(big)
    one_node = step.comm_time_s(BatchShape(decode_seqs=128 * 16, decode_context_tokens=4096000))
    assert one_node < comm(ep16) / 2


def test_ep_fleets_are_whole_servers_and_need_full_nodes(deepseek_h200: list[Design]) -> None:
    ep16 = _by_layout(deepseek_h200)[(1, 1, 16, 16)]
    spec = _scenario(
        models=["deepseek-v3"],
        slo={"ttft_ms": 20000, "tpot_ms": 300},
        candidates={"precisions": ["fp8"], "kinds": ["on_prem"]},
        policy=None,
    )
    cands, _ = build_candidates(spec, [ep16], load_prices(), load_providers(), load_regions())
    assert cands
    for c in cands:
        assert isinstance(c.option, OnPremSpec)
        reps = replicas_at_peak(spec, ep16) + spec.candidates.spare_replicas
        gps = load_prices().servers.get(c.option.capex.catalog_id).gpus_per_server
        # two 8-GPU servers per replica of 16: never a replica straddling a part-server
        assert c.option.servers == -(-reps * 16 // gps)
        assert "ep16-dpa" in c.option.name


def test_layouts_are_named_in_plain_words(deepseek_h200: list[Design]) -> None:
    layouts = _by_layout(deepseek_h200)
    assert layout_words(layouts[(1, 1, 16, 16)].deployment) == (
        "EP 16 with attention data parallelism over 2 nodes"
    )
    assert layout_words(layouts[(8, 1, 8, 1)].deployment) == (
        "EP 8 with tensor-parallel attention in one node"
    )
    assert layout_words(layouts[(8, 1, 1, 1)].deployment) == "tensor parallel 8"


@pytest.fixture(scope="module")
def large_moe() -> PlanResult:
    return plan(load_scenario(EXAMPLES / "08-large-moe.yaml"), analyses=False)


def test_scenario_08_tries_ep_layouts_and_says_why_each_lost_or_won(large_moe: PlanResult) -> None:
    ep_lines = [r for r in large_moe.rejected if " as EP " in r.family]
    assert ep_lines, "EP designs of DeepSeek-V3 are tried"
    for r in ep_lines:
        if r.stage == "hardware":  # a server or cloud node smaller than the EP group's node
            assert "GPUs in one node" in r.reason
        else:
            assert r.stage == "dominated" and "output tokens/s per GPU" in r.reason
    spanning = [r for r in ep_lines if "over 2 nodes" in r.family and r.stage == "dominated"]
    assert spanning and all("16 GPUs per replica" in r.reason for r in spanning)
    # every self-hosted option names its layout; EP ones carry their degrees
    hosted = [o for o in large_moe.options if o.hardware]
    assert hosted and all(o.layout for o in hosted)
    for o in hosted:
        if o.expert_parallel and o.expert_parallel > 1:
            assert o.layout is not None and o.layout.startswith(f"EP {o.expert_parallel} ")
            assert o.devices_per_replica == (o.tensor_parallel or 1) * (
                o.attention_data_parallel or 1
            ) * (o.pipeline_stages or 1)
    # 60,000 requests a day: one 8-GPU replica plus a spare costs far more than the API
    # tokens; no layout changes that, so the API stays the pick
    assert large_moe.recommendation.kind == "api"


def test_an_ep_pick_is_named_in_the_headline() -> None:
    from inferplan.planner.report_data import headline
    from inferplan.results.plan import Recommendation

    rec = Recommendation(
        option="on-prem deepseek-v3 on h100-sxm-80gb x16 ep16-dpa fp8 vllm",
        kind="on_prem",
        provider="on-prem",
        region=None,
        hardware="h100-sxm-80gb",
        count=32,
        servers=4,
        gpus_per_server=8,
        replicas=2,
        spare_replicas=1,
        precision="fp8",
        engine="vllm",
        model="deepseek-v3",
        layout="EP 16 with attention data parallelism over 2 nodes",
        tco_nominal_usd=1.0,
        npv_usd=1.0,
        usd_per_million_tokens=1.0,
        p95_ttft_ms=None,
        p95_tpot_ms=None,
        reasons=[],
    )
    text = headline(rec, _scenario())
    assert "each replica EP 16 with attention data parallelism over 2 nodes" in text
    assert "buy 4 servers" in text


def test_mtp_runs_on_data_parallel_attention_but_a_draft_and_disaggregation_do_not() -> None:
    spec = _scenario(
        models=["deepseek-v3"],
        slo={"ttft_ms": 3000, "tpot_ms": 30},
        candidates={"precisions": ["fp8"], "speculative": ["none", "mtp"], "disaggregated": True},
    )
    assert spec.slo is not None
    designs, rejected = find_designs(spec, ["h200-sxm-141gb"], spec.slo)
    assert any(d.technique is not None for d in designs), "MTP still runs on TP layouts"
    # disaggregated pools never sit on data-parallel attention; MTP is not refused there
    assert all(
        d.deployment.dp_attention == 1
        for d in designs
        if d.technique is not None and d.technique.speculative is None
    )
    lines = [
        r
        for r in rejected
        if "attention data parallelism over 2 nodes" in r.family
        and "disaggregated prefill and decode" in r.family
    ]
    assert lines and "not modelled" in lines[0].reason
    assert not any(
        "attention data parallelism" in r.family
        and "speculative decoding (mtp)" in r.family
        and "not modelled" in r.reason
        for r in rejected
    )
