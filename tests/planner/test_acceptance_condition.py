"""A speculative pick rests on the acceptance rate the scenario assumes, so it carries the
rate it needs as a condition (headline, JSON options, report).

Properties a serving engineer would state:
* a speculative pick (and a speculative runner-up) always carries the condition, and
  the rates it states lie below the assumed one (the planner kept the design at the
  assumed rate, with headroom from the target utilisation);
* re-planning with the acceptance just below the rate where "no replica meets the
  targets", the design is gone; just above it, it is still there (the bisection found
  the boundary of the planner's own sizing);
* just below the rate the bought fleet needs, the same option needs more replicas (or
  is gone);
* where plain decoding meets the targets on the same GPUs, just below the stated
  "plain decoding serves more" rate the speculative variant is dropped as not paying.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inferplan.planner.search import plan
from inferplan.results.plan import PlanResult
from inferplan.scenario_io import load_scenario
from inferplan.specs.scenario import ScenarioSpec

EXAMPLE = Path(__file__).parents[2] / "examples" / "scenarios" / "14-fast-tokens-speculative.yaml"
PICK = "cloud nebius-b200 llama-3.3-70b on b200-180gb x1 fp8 vllm spec llama-3.2-1b"
RATE = r"(\d\.\d{3})"


def _b200(acceptance: float | None = None, tpot_ms: float | None = None) -> ScenarioSpec:
    """Scenario 14 on B200 only (fast), at another acceptance rate or TPOT target."""
    spec = load_scenario(EXAMPLE)
    cand = {"accelerators": ["b200-180gb"]}
    if acceptance is not None:
        cand["acceptance_rate"] = {"draft_model": acceptance}  # type: ignore[assignment]
    spec = spec.model_copy(update={"candidates": spec.candidates.model_copy(update=cand)})
    if tpot_ms is not None:
        assert spec.slo is not None
        spec = spec.model_copy(update={"slo": spec.slo.model_copy(update={"tpot_ms": tpot_ms})})
    return spec


def _condition(result: PlanResult) -> str:
    found = [c for c in result.recommendation.conditions if c.startswith("speculative decoding")]
    assert len(found) == 1, result.recommendation.conditions
    return found[0]


def _rate(text: str, pattern: str) -> float:
    m = re.search(pattern, text)
    assert m is not None, text
    return float(m.group(1))


@pytest.fixture(scope="module")
def fast_tokens() -> PlanResult:
    return plan(load_scenario(EXAMPLE), analyses=False)


@pytest.fixture(scope="module")
def b200() -> PlanResult:
    return plan(_b200(), analyses=False)


def test_a_speculative_pick_carries_the_condition_everywhere(fast_tokens: PlanResult) -> None:
    rec = fast_tokens.recommendation
    assert (rec.serving_technique or "").startswith("speculative decoding")
    text = _condition(fast_tokens)
    assert "assumes 0.7" in text and "measure" in text
    assert "conditions: " + text in rec.headline
    (pick,) = [o for o in fast_tokens.options if o.name == rec.option]
    assert text in pick.conditions
    runner = fast_tokens.runner_up
    if runner is not None and (runner.serving_technique or "").startswith("speculative"):
        assert any(c.startswith("speculative decoding") for c in runner.conditions)


def test_the_stated_rates_lie_below_the_assumed_one(fast_tokens: PlanResult) -> None:
    text = _condition(fast_tokens)
    need = _rate(text, "at least " + RATE)
    floor = _rate(text, "below " + RATE + " no replica")
    assert 0.0 < floor <= need < 0.7


def test_just_below_the_floor_rate_the_design_is_gone(b200: PlanResult) -> None:
    assert b200.recommendation.option == PICK
    floor = _rate(_condition(b200), "below " + RATE + " no replica")
    below = plan(_b200(acceptance=floor - 0.01), analyses=False)
    above = plan(_b200(acceptance=floor + 0.01), analyses=False)
    assert PICK not in {o.name for o in below.options}
    assert below.recommendation.option != PICK
    assert PICK in {o.name for o in above.options}


def test_just_below_the_fleet_rate_the_bought_replicas_do_not_suffice(b200: PlanResult) -> None:
    rec = b200.recommendation
    need = _rate(_condition(b200), "at least " + RATE)
    below = plan(_b200(acceptance=need - 0.01), analyses=False)
    same = [o for o in below.options if o.name == PICK]
    assert not same or (same[0].replicas or 0) > (rec.replicas or 0)


def test_where_plain_decoding_meets_the_target_below_the_pay_rate_speculation_is_dropped() -> None:
    # at 20 ms plain decoding on one B200 meets the TPOT target (16 ms x 1.1 margin)
    text = _condition(plan(_b200(tpot_ms=20), analyses=False))
    pays = _rate(text, "below " + RATE + " plain decoding on the same GPUs serves more")
    assert pays < 0.7
    below = plan(_b200(acceptance=pays - 0.01, tpot_ms=20), analyses=False)
    assert PICK not in {o.name for o in below.options}
    layout = (
        "llama-3.3-70b on 1x b200-180gb (fp8, vllm) with speculative decoding with llama-3.2-1b"
    )
    assert any(r.family == layout and "does not pay" in r.reason for r in below.rejected)
