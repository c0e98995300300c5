"""Speculative decoding and disaggregated serving in the planner: chosen only where they
pay at the SLO, never where the scenario does not allow them, sized like perf sizes them.

Properties a serving engineer would state, not snapshots:
* at low concurrency and a strict TPOT target, decoding is weight-streaming bound, so a
  drafter that emits ~2.8 tokens per verify step (acceptance 0.7, 4 drafts:
  (1 - 0.7^5) / 0.3 = 2.77) lets fewer GPUs meet the target;
* at batch 256 with short requests the verify step's 5 rows per sequence cost compute,
  so speculation serves fewer tokens per second (below 1x) and is never picked;
* a disaggregated unit holds ``n_d`` decode and ``ceil(n_d x r)`` prefill replicas for the
  ratio ``r`` of :func:`inferplan.perf.disagg.disaggregated`.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.catalog.providers import load_providers
from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.deploy.deployment import limits_of, memory_of, resolve, step_model_of
from inferplan.deploy.disaggregation import kv_link_bytes_per_s
from inferplan.perf.disagg import disaggregated
from inferplan.perf.speculative import expected_tokens_per_round
from inferplan.planner.capacity import TPOT_TAIL, TTFT_TAIL
from inferplan.planner.designs import Design, find_designs, prompt_tail, workload_lengths
from inferplan.planner.options import build_candidates, peak_output_tokens_per_s
from inferplan.planner.search import plan
from inferplan.planner.techniques import Workload, disagg_variant
from inferplan.results.plan import PlanResult
from inferplan.scenario_io import load_scenario, parse_scenario
from inferplan.specs.economics import OnPremSpec
from inferplan.specs.scenario import ScenarioSpec

EXAMPLE = Path(__file__).parents[2] / "examples" / "scenarios" / "14-fast-tokens-speculative.yaml"


def _scenario(**over: Any) -> ScenarioSpec:
    raw = yaml.safe_load(default_scenario_text())
    cand = over.pop("candidates", {})
    work = over.pop("workload", {})
    raw.update(over)
    raw["workload"] = {**raw["workload"], **work}
    raw["candidates"] = {**raw["candidates"], **cand}
    return parse_scenario(raw)


@pytest.fixture(scope="module")
def fast_tokens() -> tuple[ScenarioSpec, PlanResult]:
    spec = load_scenario(EXAMPLE)
    return spec, plan(spec, analyses=False)


def test_the_draft_model_round_emits_what_leviathan_et_al_give() -> None:
    # E = (1 - a^(k+1)) / (1 - a) for a = 0.7, k = 4: (1 - 0.16807) / 0.3 = 2.7731
    assert expected_tokens_per_round(4, 0.7) == pytest.approx(2.7731, abs=1e-4)


def test_low_concurrency_strict_tpot_picks_speculative_decoding(
    fast_tokens: tuple[ScenarioSpec, PlanResult],
) -> None:
    spec, result = fast_tokens
    rec = result.recommendation
    assert spec.slo is not None
    assert rec.serving_technique is not None
    assert rec.serving_technique.startswith("speculative decoding (draft model llama-3.2-1b")
    assert rec.serving_technique in rec.headline
    # the pick is simulated within the targets, and is cheaper than every plain option
    assert rec.latency_check is not None and rec.latency_check.meets_slo
    assert rec.p95_tpot_ms is not None and rec.p95_tpot_ms <= spec.slo.tpot_ms
    plain = [o for o in result.options if o.serving_technique is None]
    assert all(o.npv_usd > rec.npv_usd for o in plain)
    # the same layout without speculation misses 12 ms per token, or serves fewer tokens
    pick = next(o for o in result.options if o.name == rec.option)
    same = [
        o
        for o in plain
        if (o.hardware, o.precision, o.tensor_parallel) == (pick.hardware, pick.precision, 1)
    ]
    assert not same or all(
        (o.replica_output_tokens_per_s or 0) < (pick.replica_output_tokens_per_s or 0) for o in same
    )
    # and a technique that does not apply says why, in one plain sentence
    mtp = [
        r for r in result.rejected if r.family == "llama-3.3-70b with speculative decoding (mtp)"
    ]
    assert mtp and "no multi-token-prediction module" in mtp[0].reason


def test_high_batch_short_requests_never_pick_speculative_decoding() -> None:
    # offline-style load: 128-token prompts and outputs, loose targets, batch 256
    spec = _scenario(
        models=["llama-3.1-8b"],
        workload={
            "input_tokens_mean": 128,
            "input_tokens_p90": 256,
            "output_tokens_mean": 128,
            "output_tokens_p90": 256,
            "cached_input_share": 0.0,
        },
        slo={"ttft_ms": 10000, "tpot_ms": 200},
        candidates={
            "accelerators": ["h100-sxm-80gb"],
            "precisions": ["bf16"],
            "kinds": ["on_prem", "cloud"],
            "speculative": ["none", "draft_model", "ngram"],
            "acceptance_rate": {"draft_model": 0.7, "ngram": 0.5},
        },
    )
    assert spec.slo is not None
    designs, rejected = find_designs(spec, ["h100-sxm-80gb"], spec.slo)
    assert designs and all(d.technique is None for d in designs)
    lines = [r for r in rejected if r.stage == "technique"]
    assert lines
    for r in lines:
        m = re.search(r": ([0-9.]+)x the output tokens/s plain decoding serves", r.reason)
        assert m is not None and float(m.group(1)) < 1.0, r.reason
        assert r.reason.endswith("does not pay")
    result = plan(spec, analyses=False)
    assert result.recommendation.serving_technique is None
    assert all(o.serving_technique is None for o in result.options)


def test_disallowed_techniques_never_appear() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    cand = {k: v for k, v in raw["candidates"].items() if k in ("precisions", "kinds")}
    plain = parse_scenario({**raw, "candidates": cand})
    result = plan(plain, analyses=False)
    assert all(o.serving_technique is None for o in result.options)
    assert not [r for r in result.rejected if r.stage == "technique"]
    assert not any(" spec " in o.name or " disagg " in o.name for o in result.options)
    # only MTP allowed (Llama has no MTP module): no draft model and no disaggregated pools
    mtp_only = parse_scenario({**raw, "candidates": {**cand, "speculative": ["none", "mtp"]}})
    res2 = plan(mtp_only, analyses=False)
    assert all(o.serving_technique is None for o in res2.options)
    assert all(
        "draft model" not in r.family and "disaggregated" not in r.family for r in res2.rejected
    )


def test_mtp_is_offered_only_for_models_with_an_mtp_module() -> None:
    spec = _scenario(
        models=["deepseek-v3"],
        slo={"ttft_ms": 3000, "tpot_ms": 30},
        candidates={"precisions": ["fp8"], "speculative": ["none", "mtp"]},
    )
    assert spec.slo is not None
    designs, _ = find_designs(spec, ["h200-sxm-141gb"], spec.slo)
    mtp = [d for d in designs if d.technique is not None]
    assert mtp, "DeepSeek-V3 ships an MTP module: an MTP design is tried"
    for d in mtp:
        s = d.technique.speculative if d.technique else None
        # one MTP module drafts one token, accepted 85 % of the time (DeepSeek-V3 report)
        assert s is not None and (s.method, s.draft_tokens, s.acceptance_rate) == ("mtp", 1, 0.85)


def test_a_disaggregated_fleet_is_prefill_plus_decode_devices_from_the_perf_ratio() -> None:
    spec = _scenario(
        models=["llama-3.1-8b"],
        workload={"cached_input_share": 0.0},
        slo={"ttft_ms": 20000, "tpot_ms": 60},
        candidates={
            "accelerators": ["h100-sxm-80gb"],
            "precisions": ["bf16"],
            "kinds": ["on_prem"],
            "disaggregated": True,
        },
        policy=None,
    )
    assert spec.slo is not None
    d = resolve("llama-3.1-8b", "h100-sxm-80gb", "vllm", "bf16")
    isl, osl, long_ctx = workload_lengths(spec)
    mem = memory_of(d, long_ctx, spec.candidates.min_concurrency)
    w = Workload(isl, osl, prompt_tail(spec), 0.0, 20.0, 0.060, long_ctx)
    v = disagg_variant(d, mem, None, w, node_devices=8)
    assert v.technique is not None and v.capacity is not None, v.reason
    t, cap = v.technique, v.capacity
    # by hand from perf.disagg at the decode batch the TPOT target allows (loose TTFT:
    # the prefill pool packs as many whole prompts per step as the token budget holds)
    step, limits = step_model_of(d), limits_of(d, mem)
    r = disaggregated(
        step,
        step,
        limits,
        replace(limits, max_num_seqs=cap.batch),
        round(isl),
        round(osl),
        step.kv_bytes_per_token_dev,
        kv_link_bytes_per_s(d),
    )
    assert t.prefill_per_decode == pytest.approx(r.prefill_replicas_per_decode_replica)
    per_unit = t.prefill_replicas + t.decode_replicas  # tp 1: one GPU per replica
    assert 8 % per_unit == 0  # units tile an 8-GPU node
    unit_rps = min(
        t.decode_replicas * r.decode_rps_per_replica, t.prefill_replicas * r.prefill_rps_per_replica
    )
    assert cap.requests_per_s == pytest.approx(unit_rps)
    # the pools follow the ratio: neither has a whole replica more than the other needs
    assert t.prefill_replicas - 1 < t.decode_replicas * r.prefill_replicas_per_decode_replica
    assert t.decode_replicas - 1 < t.prefill_replicas / r.prefill_replicas_per_decode_replica
    # TPOT within the target with the p95 allowance, KV transfer of a mean prompt included
    assert cap.tpot_s == pytest.approx(r.tpot_s + r.kv_transfer_s / (round(osl) - 1))
    assert cap.tpot_s * TPOT_TAIL <= 0.060 and cap.ttft_s * TTFT_TAIL <= 20.0
    # the fleet: whole units for the peak plus the spare, each unit's pools on one node
    design = Design(d, mem, cap, t)
    units = math.ceil(
        peak_output_tokens_per_s(spec)
        / (cap.output_tokens_per_s * spec.candidates.target_utilisation)
    )
    cands, _ = build_candidates(spec, [design], load_prices(), load_providers(), load_regions())
    own = [c for c in cands if isinstance(c.option, OnPremSpec)]
    assert own
    assert design.devices == per_unit
    fleet = (units + spec.candidates.spare_replicas) * per_unit
    for c in own:
        assert isinstance(c.option, OnPremSpec) and c.option.capex.catalog_id
        assert c.option.gpus_per_replica == per_unit
        gps = load_prices().servers.get(c.option.capex.catalog_id).gpus_per_server
        assert c.option.servers == math.ceil(fleet / gps)


def _allows_no_technique(path: Path) -> bool:
    cand = load_scenario(path).candidates
    return cand.speculative == ["none"] and not cand.disaggregated


SCENARIOS = [p for p in sorted(EXAMPLE.parent.glob("*.yaml")) if _allows_no_technique(p)]


def test_most_examples_allow_no_technique() -> None:
    # the examples that allow speculative decoding or disaggregation are the exception
    assert len(SCENARIOS) >= len(list(EXAMPLE.parent.glob("*.yaml"))) - 2


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_examples_that_allow_no_technique_plan_plain_serving_only(path: Path) -> None:
    spec = load_scenario(path)
    result = plan(spec, analyses=False)
    assert result.recommendation.serving_technique is None
    assert all(o.serving_technique is None for o in result.options)
    assert not [r for r in result.rejected if r.stage == "technique"]
    assert not any(" spec " in o.name or " disagg " in o.name for o in result.options)
