"""API options are checked against the SLO with published, dated measurements."""

from __future__ import annotations

from typing import Any

import yaml

from inferplan.catalog.prices import load_prices
from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.planner.api_latency import check_api_latency, load_api_latency
from inferplan.planner.search import plan
from inferplan.scenario_io import parse_scenario
from inferplan.specs.plan import SloSpec


def test_every_profile_is_sourced_dated_and_names_a_priced_api() -> None:
    prices = load_prices()
    for rec in load_api_latency():
        assert rec.source.startswith("https://") and rec.as_of.year >= 2025
        assert rec.api in prices.api


def test_groq_published_p95_meets_a_strict_target_and_misses_a_stricter_one() -> None:
    # TokenMix, April 2026: p95 TTFT 280 ms; p95 (slow tail) 250 tokens/s -> TPOT 1/250 s = 4 ms
    ok = check_api_latency("groq-llama-3.x-70b", SloSpec(ttft_ms=400, tpot_ms=20))
    assert ok.verified and ok.meets is True
    assert "280 ms" in ok.note and "4.0 ms" in ok.note and "2026-04-10" in ok.note
    miss = check_api_latency("groq-llama-3.x-70b", SloSpec(ttft_ms=250, tpot_ms=20))
    assert miss.verified and miss.meets is False


def test_medians_only_or_no_measurement_is_not_verified() -> None:
    medians = check_api_latency("anthropic-claude-sonnet-4", SloSpec(ttft_ms=2000, tpot_ms=50))
    assert not medians.verified and medians.meets is None
    assert "only medians" in medians.note
    # a median already over the target is a verified miss: 800 ms > 500 ms
    slow = check_api_latency("anthropic-claude-sonnet-4", SloSpec(ttft_ms=500, tpot_ms=50))
    assert slow.verified and slow.meets is False
    none = check_api_latency("ovhcloud-llama-3.3-70b", SloSpec(ttft_ms=1000, tpot_ms=50))
    assert not none.verified and none.note.startswith("latency not verified")


def _raw(slo: dict[str, Any]) -> dict[str, Any]:
    raw = yaml.safe_load(default_scenario_text())
    raw.pop("policy")
    raw["slo"] = slo
    raw["candidates"]["accelerators"] = ["h100-sxm-80gb", "h200-sxm-141gb"]
    return raw


def test_unverified_apis_rank_behind_verified_options_under_a_strict_slo() -> None:
    result = plan(parse_scenario(_raw({"ttft_ms": 400, "tpot_ms": 20})))
    verified = [i for i, o in enumerate(result.options) if o.latency_verified]
    unverified = [i for i, o in enumerate(result.options) if o.latency_verified is False]
    assert verified and unverified
    assert max(verified) < min(unverified)
    assert result.recommendation.latency_verified
    assert all(o.meets_slo is not False for o in result.options)


def test_loose_slo_lets_the_cheapest_unverified_api_win_and_says_so() -> None:
    raw = yaml.safe_load(default_scenario_text())  # EU data rules: EU-hosted APIs only
    raw["slo"] = {"ttft_ms": 3000, "tpot_ms": 80}
    result = plan(parse_scenario(raw))
    rec = result.recommendation
    # the cheapest EU 70B API in the catalog (OVHcloud) has no published measurement
    assert rec.kind == "api" and rec.latency_verified is False
    assert "latency not verified" in rec.headline
    assert any("latency not verified" in r for r in rec.reasons)
    cheapest = min(result.options, key=lambda o: o.npv_usd)
    assert rec.option == cheapest.name


def test_api_whose_published_latency_misses_is_rejected_with_numbers() -> None:
    result = plan(parse_scenario(_raw({"ttft_ms": 250, "tpot_ms": 20})))
    groq = [r for r in result.rejected if r.family == "api / groq-llama-3.x-70b"]
    assert groq and groq[0].stage == "slo"
    assert "280 ms" in groq[0].reason
    assert not any("groq" in o.name for o in result.options)


def test_median_targets_use_the_median() -> None:
    v = check_api_latency("groq-llama-3.x-70b", SloSpec(ttft_ms=150, tpot_ms=5, percentile=50))
    assert v.verified and v.meets is True and "median" in v.note


def test_a_target_faster_than_every_published_api_rejects_unmeasured_apis() -> None:
    # the fastest median TTFT on record is Groq's 120 ms (TokenMix, April 2026): a 50 ms
    # p95 target cannot be met by an API nobody has measured, since p95 >= median
    from inferplan.planner.api_latency import check_api_latency
    from inferplan.specs.plan import SloSpec

    v = check_api_latency("no-such-measured-api", SloSpec(ttft_ms=50, tpot_ms=50))
    assert v.verified and v.meets is False and "120 ms" in v.note
    loose = check_api_latency("no-such-measured-api", SloSpec(ttft_ms=2000, tpot_ms=100))
    assert not loose.verified and loose.meets is None
