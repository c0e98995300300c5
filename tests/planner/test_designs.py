"""Design search: every tensor-parallel degree up to the node, pipeline stages across
nodes, weight-only formats served like ``fit`` sizes them."""

from __future__ import annotations

from typing import Any

import yaml

from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.memory.fit import FitRequest, fit
from inferplan.planner.designs import find_designs
from inferplan.scenario_io import parse_scenario
from inferplan.specs.scenario import ScenarioSpec


def _spec(models: list[str], precisions: list[str], **cand: Any) -> ScenarioSpec:
    raw = yaml.safe_load(default_scenario_text())
    raw["models"] = models
    raw["candidates"] = {**raw["candidates"], "precisions": precisions, **cand}
    return parse_scenario(raw)


def test_four_h200_fp8_is_tried_for_the_bundled_70b_scenario() -> None:
    spec = _spec(["llama-3.3-70b"], ["fp8"])
    assert spec.slo is not None
    designs, rejected = find_designs(spec, ["h200-sxm-141gb"], spec.slo)
    tried = {d.deployment.tp for d in designs} | {
        int(r.family.split(" on ")[1].split("x")[0]) for r in rejected if r.stage == "dominated"
    }
    assert {1, 2, 4, 8} & tried >= {2, 4, 8}
    # every kept design of the family earns more per GPU than any smaller kept design
    per_gpu = [
        d.capacity.output_tokens_per_s / d.deployment.tp
        for d in sorted(designs, key=lambda d: d.deployment.tp)
    ]
    assert per_gpu == sorted(per_gpu)
    for r in rejected:
        if r.stage == "dominated":
            assert "per GPU" in r.reason and "never costs less" in r.reason


def test_a_model_larger_than_one_node_gets_pipeline_stages() -> None:
    # Llama 3.1 405B at 16 bit: 811 GB of weights > 8 x 80 GB, so one H100 node cannot hold it
    spec = _spec(["llama-3.1-405b"], ["bf16"])
    assert spec.slo is not None
    loose = spec.slo.model_copy(update={"ttft_ms": 5000, "tpot_ms": 120})
    spec = spec.model_copy(update={"slo": loose})
    assert spec.slo is not None
    designs, rejected = find_designs(spec, ["h100-sxm-80gb"], spec.slo)
    assert designs, rejected
    assert all(d.deployment.pp >= 2 and d.deployment.tp == 8 for d in designs)


def test_mxfp4_on_hopper_is_planned_weight_only_as_fit_sizes_it() -> None:
    spec = _spec(["gpt-oss-120b"], ["mxfp4"])
    assert spec.slo is not None
    designs, rejected = find_designs(spec, ["h100-sxm-80gb"], spec.slo)
    assert designs, rejected
    d = min(designs, key=lambda d: d.deployment.tp)
    dep = d.deployment
    assert dep.weights.weight_only and dep.weights.compute == "fp16"
    # the memory the planner used is what `fit` reports for the same request
    alone = fit(
        FitRequest(
            model=dep.model,
            accelerator=dep.accelerator,
            engine=dep.engine,
            weights=dep.weights,
            kv_precision=dep.kv_precision,
            tp=dep.tp,
            pp=dep.pp,
            context_tokens=d.memory.context_tokens,
            concurrency=d.memory.concurrency,
        )
    )
    assert alone.fits and alone.weights_bytes == d.memory.weights_bytes


def test_fp8_dense_on_ampere_runs_weight_only_and_fp8_moe_is_rejected_with_reason() -> None:
    spec = _spec(["llama-3.1-8b", "gpt-oss-120b"], ["fp8"])
    assert spec.slo is not None
    designs, rejected = find_designs(spec, ["a100-sxm-80gb"], spec.slo)
    assert any(d.deployment.model.id == "llama-3.1-8b" for d in designs)
    moe = [r for r in rejected if r.family.startswith("gpt-oss-120b")]
    assert moe and "mixture-of-experts" in moe[0].reason


def test_every_layout_tried_ends_as_a_design_or_a_line_with_its_number() -> None:
    # EU hospital: Llama-3.3-70B, p95 prompt ~9k tokens, TTFT target 2 s. Some H200
    # layouts fail while others of the same family are kept: each failing degree still
    # gets its number. bf16 weights alone are 2 bytes x 70.6e9 = 141 GB, more than one
    # 141 GB H200 gives the engine, so tp 1 is a memory miss.
    from pathlib import Path

    from inferplan.scenario_io import load_scenario

    path = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "02-eu-hospital.yaml"
    spec = load_scenario(path)
    assert spec.slo is not None
    designs, rejected = find_designs(spec, ["h200-sxm-141gb"], spec.slo)
    for prec in ("bf16", "fp8"):
        kept = {d.deployment.tp for d in designs if d.deployment.weights.precision.value == prec}
        dominated = {
            int(r.family.split(" on ")[1].split("x")[0])
            for r in rejected
            if r.stage == "dominated" and f"({prec}, vllm)" in r.family
        }
        lines = [
            r for r in rejected if r.family == f"llama-3.3-70b / h200-sxm-141gb / {prec} / vllm"
        ]
        assert kept, prec
        assert len(lines) == 1, prec
        missed = {tp for tp in (1, 2, 4, 8) if f"tp {tp}:" in lines[0].reason}
        assert kept | dominated | missed == {1, 2, 4, 8}, (prec, lines[0].reason)
        assert not (kept | dominated) & missed
        for part in lines[0].reason.split(" (kept")[0].split("; "):
            # each degree's number: a memory need in GB, or a latency above its target
            assert " GB " in part or "> 2.00 s" in part or "> 50 ms" in part, part
    bf16 = next(r for r in rejected if r.family.endswith("/ bf16 / vllm"))
    assert "tp 1: weights and runtime need" in bf16.reason
