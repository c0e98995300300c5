"""A disaggregated unit's capacity takes the plain designs' simulated / closed-form ratio.

The simulator runs one pool, so a disaggregated unit is never simulated; its decode pool
is plain serving, so the closed form overstates it as much as it overstates plain
replicas of the same workload. Properties:
* with a plain median ratio ``r < 1`` the unit's capacity is its closed form x ``r``
  (hand calculation below), whatever speculative designs' ratios are;
* the correction never raises the closed form (``r >= 1`` leaves it, no ratio yet leaves it);
* in a whole plan, a disaggregated option states the same factor as the plain options
  scaled by the median.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inferplan.deploy.deployment import memory_of, resolve
from inferplan.planner.capacity import Capacity
from inferplan.planner.designs import Design
from inferplan.planner.refine import Refinement
from inferplan.planner.search import plan
from inferplan.planner.techniques import DISAGG_BASIS, Technique
from inferplan.scenario_io import load_scenario

EXAMPLE = Path(__file__).parents[2] / "examples" / "scenarios" / "14-fast-tokens-speculative.yaml"


def _unit() -> Design:
    d = resolve("llama-3.1-8b", "h100-sxm-80gb", "vllm", "bf16")
    cap = Capacity(
        batch=64,
        requests_per_s=10.0,
        output_tokens_per_s=4000.0,
        tpot_s=0.02,
        ttft_s=0.3,
        limited_by=DISAGG_BASIS,
    )
    tech = Technique("disaggregated", prefill_replicas=1, decode_replicas=3)
    return Design(d, memory_of(d, 4096, 1), cap, tech)


def _refinement(plain: list[float], spec: list[float]) -> Refinement:
    ref = Refinement()
    for i, r in enumerate(plain):
        ref.ratios[f"plain {i}"] = r
        ref.groups[f"plain {i}"] = ""
    for i, r in enumerate(spec):
        ref.ratios[f"spec {i}"] = r
        ref.groups[f"spec {i}"] = "spec llama-3.2-1b"
    return ref


def test_a_unit_is_scaled_by_the_plain_median_below_one() -> None:
    # plain ratios 0.30, 0.36, 0.50: median 0.36; the speculative 0.90 does not count
    ref = _refinement([0.50, 0.30, 0.36], [0.90])
    (out,), rejected = ref.apply([_unit()])
    assert not rejected
    # hand calculation: 10 req/s x 0.36 = 3.6 req/s, 4,000 tok/s x 0.36 = 1,440 tok/s
    assert out.capacity.requests_per_s == pytest.approx(3.6)
    assert out.capacity.output_tokens_per_s == pytest.approx(1440.0)
    assert "x 0.36" in out.capacity.limited_by
    assert "plain" in out.capacity.limited_by


@pytest.mark.parametrize(
    ("plain", "spec"),
    [([1.4, 2.0, 1.2], []), ([], []), ([1.0], [0.5]), ([0.2, 3.0, 0.9], [1.7])],
)
def test_the_correction_never_raises_the_closed_form(plain: list[float], spec: list[float]) -> None:
    unit = _unit()
    (out,), _ = _refinement(plain, spec).apply([unit])
    assert out.capacity.requests_per_s <= unit.capacity.requests_per_s
    assert out.capacity.output_tokens_per_s <= unit.capacity.output_tokens_per_s


def test_no_plain_ratio_above_one_changes_the_unit() -> None:
    unit = _unit()
    (out,), _ = _refinement([1.4, 2.0, 1.2], []).apply([unit])
    assert out.capacity.requests_per_s == unit.capacity.requests_per_s


def test_in_a_plan_disaggregated_options_carry_the_plain_factor() -> None:
    result = plan(load_scenario(EXAMPLE), analyses=False)
    factor = re.compile(r"closed form x (\d\.\d\d)")
    plain = {
        m.group(1)
        for o in result.options
        if o.serving_technique is None and (m := factor.search(o.capacity_basis or ""))
    }
    disagg = [o for o in result.options if (o.serving_technique or "").startswith("disagg")]
    assert len(plain) == 1 and disagg
    (r,) = plain
    assert float(r) < 1.0
    for o in disagg:
        m = factor.search(o.capacity_basis or "")
        assert m is not None and m.group(1) == r, o.capacity_basis


def test_a_close_call_unit_has_its_layouts_plain_design_simulated() -> None:
    # scenario 14 on H200 with plain decoding only: a 4 + 4 GPU unit is a close call of
    # the cheapest option; its decode pool is the plain TP4 replica, which is simulated
    spec = load_scenario(EXAMPLE)
    cand = spec.candidates.model_copy(
        update={
            "speculative": ["none"],
            "acceptance_rate": {},
            "draft_tokens": {},
            "draft_model": None,
            "accelerators": ["h200-sxm-141gb"],
        }
    )
    result = plan(spec.model_copy(update={"candidates": cand}), analyses=False)
    best = min(o.npv_usd for o in result.options if o.kind != "api")
    close = [
        o
        for o in result.options
        if (o.serving_technique or "").startswith("disagg") and o.npv_usd - best <= 0.05 * best
    ]
    assert close
    for o in close:
        plain_name = o.name.rsplit(" disagg ", 1)[0]
        (plain,) = [p for p in result.options if p.name == plain_name]
        assert plain.capacity_basis == "latency (simulated)"
        assert "closed form x" in (o.capacity_basis or "")
