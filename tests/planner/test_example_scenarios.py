"""Properties an infrastructure consultant would state, checked on every scenario in
``examples/scenarios`` (no snapshots of numbers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from accounting import assert_accounted
from typer.testing import CliRunner

from inferplan.cli.main import app
from inferplan.planner.search import plan
from inferplan.results.plan import PlanResult
from inferplan.scenario_io import load_scenario
from inferplan.specs.scenario import ScenarioSpec

SCENARIOS = sorted((Path(__file__).parents[2] / "examples" / "scenarios").glob("*.yaml"))
OWN = {"on_prem", "colocation"}


@pytest.fixture(scope="module")
def planned() -> dict[str, tuple[ScenarioSpec, PlanResult]]:
    out = {}
    for path in SCENARIOS:
        spec = load_scenario(path)
        out[path.stem] = (spec, plan(spec))
    return out


def test_the_suite_covers_at_least_twelve_realistic_scenarios() -> None:
    assert len(SCENARIOS) >= 12


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_every_candidate_is_accounted_for(
    name: str, planned: dict[str, tuple[ScenarioSpec, PlanResult]]
) -> None:
    spec, result = planned[name]
    assert_accounted(spec, result)
    assert all(r.reason.strip() for r in result.rejected)


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_self_hosted_picks_meet_the_slo_in_simulation(
    name: str, planned: dict[str, tuple[ScenarioSpec, PlanResult]]
) -> None:
    spec, result = planned[name]
    rec = result.recommendation
    assert spec.slo is not None
    if rec.kind in ("api",):
        assert rec.latency_verified is not None
        if rec.latency_verified is False:
            assert "latency not verified" in rec.headline
        return
    check = rec.latency_check
    assert check is not None and check.meets_slo, rec.headline
    assert check.p_ttft_ms <= spec.slo.ttft_ms and check.p_tpot_ms <= spec.slo.tpot_ms
    pick = next(o for o in result.options if o.name == rec.option)
    assert "simulated" in (pick.capacity_basis or "")


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_conditions_appear_in_the_headline_and_never_as_passes(
    name: str, planned: dict[str, tuple[ScenarioSpec, PlanResult]]
) -> None:
    _, result = planned[name]
    rec = result.recommendation
    for c in rec.conditions:
        assert c in rec.headline
    if rec.conditions:
        assert not any("passes every data rule" in r for r in rec.reasons)


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_own_fleets_are_whole_servers_with_a_spare(
    name: str, planned: dict[str, tuple[ScenarioSpec, PlanResult]]
) -> None:
    spec, result = planned[name]
    for o in result.options:
        if o.kind in OWN:
            assert o.servers and o.gpus_per_server and o.replicas and o.devices_per_replica
            assert o.spare_replicas == spec.candidates.spare_replicas
            assert o.servers * o.gpus_per_server >= o.replicas * o.devices_per_replica
            # no server more than the replicas need
            assert (o.servers - 1) * o.gpus_per_server < o.replicas * o.devices_per_replica


def test_air_gap_allows_only_own_hardware(
    planned: dict[str, tuple[ScenarioSpec, PlanResult]],
) -> None:
    spec, result = planned["01-airgapped-ministry"]
    assert spec.policy is not None and spec.policy.air_gapped
    assert {o.kind for o in result.options} <= OWN
    assert result.recommendation.kind in OWN
    pick = next(o for o in result.options if o.name == result.recommendation.option)
    assert pick.breakdown_usd.get("compliance", 0) > 0


def test_tiny_load_with_an_allowed_api_buys_no_servers(
    planned: dict[str, tuple[ScenarioSpec, PlanResult]],
) -> None:
    _, result = planned["05-tiny-load"]
    rec = result.recommendation
    assert rec.kind == "api" and rec.servers is None


def test_health_data_never_leaves_the_eu(
    planned: dict[str, tuple[ScenarioSpec, PlanResult]],
) -> None:
    _, result = planned["02-eu-hospital"]
    for o in result.options:
        if o.kind in ("cloud", "api"):
            assert o.region is not None and not o.region.startswith("us")


def test_several_models_are_flagged_as_not_equivalent(
    planned: dict[str, tuple[ScenarioSpec, PlanResult]],
) -> None:
    _, result = planned["10-several-models"]
    assert any("not equivalent" in n for n in result.quality_notes)
    assert result.recommendation.model in result.recommendation.option


def test_mxfp4_on_hopper_is_planned(
    planned: dict[str, tuple[ScenarioSpec, PlanResult]],
) -> None:
    _, result = planned["13-gpt-oss-on-hopper"]
    assert any(o.precision == "mxfp4" and o.hardware == "h100-sxm-80gb" for o in result.options)


def test_strict_latency_ranks_unverified_latency_last(
    planned: dict[str, tuple[ScenarioSpec, PlanResult]],
) -> None:
    _, result = planned["06-strict-latency-voice"]
    flags = [o.latency_verified for o in result.options]
    assert flags == sorted(flags, key=lambda v: 0 if v else 1)


def test_impossible_scenario_exits_2_with_one_paragraph(tmp_path: Path) -> None:
    path = tmp_path / "impossible.yaml"
    path.write_text(
        "name: impossible\nmodels: [llama-3.1-405b]\n"
        "workload: {requests_per_day: 1000, input_tokens_mean: 1000, output_tokens_mean: 200}\n"
        "slo: {ttft_ms: 1000, tpot_ms: 50}\n"
        "finance: {horizon_years: 3, discount_rate: 0.08}\n"
        "candidates: {accelerators: [l4-24gb], precisions: [bf16], max_devices_per_replica: 8,"
        " kinds: [on_prem, colocation, cloud]}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(app, ["plan", str(path)])
    assert res.exit_code == 2
    text = res.output.strip()
    assert "No recommendation" in text and "max_devices_per_replica" in text
    assert "recommendation ─" not in text and "Traceback" not in text


def test_peaky_load_with_expensive_rented_peaks_owns_the_base_and_bursts(
    planned: dict[str, tuple[ScenarioSpec, PlanResult]],
) -> None:
    _, result = planned["12-hybrid-peaky"]
    hybrids = [o for o in result.options if o.kind == "hybrid"]
    owned = [o for o in result.options if o.kind == "on_prem"]
    assert hybrids and owned
    h = hybrids[0]
    # the base owns fewer servers than a fleet sized for the peak, and costs less overall
    assert h.servers is not None and 0 < h.servers < owned[0].servers  # type: ignore[operator]
    assert h.npv_usd < owned[0].npv_usd
    assert any(k.startswith("base.") for k in h.breakdown_usd)
    assert any(k.startswith("burst.") for k in h.breakdown_usd)


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_a_hybrid_uses_both_its_base_and_its_burst(
    name: str, planned: dict[str, tuple[ScenarioSpec, PlanResult]]
) -> None:
    _, result = planned[name]
    for o in result.options:
        if o.kind == "hybrid":
            assert o.servers and o.servers > 0
            assert sum(v for k, v in o.breakdown_usd.items() if k.startswith("burst.")) > 0


@pytest.mark.parametrize("name", [p.stem for p in SCENARIOS])
def test_sensitivity_and_monte_carlo_name_only_options_of_the_answer(
    name: str, planned: dict[str, tuple[ScenarioSpec, PlanResult]]
) -> None:
    # a reader must find every option the tornado or the Monte Carlo names in the
    # options table (a hybrid's base and burst are options in their own right)
    _, result = planned[name]
    names = {o.name for o in result.options}
    for bar in result.sensitivity:
        assert set(bar["npv_low_usd"]) <= names, set(bar["npv_low_usd"]) - names
        assert set(bar["npv_high_usd"]) <= names
        assert bar["cheapest_low"] in names | {None} and bar["cheapest_high"] in names | {None}
    if result.monte_carlo is not None:
        assert set(result.monte_carlo["options"]) <= names


def test_a_hybrid_pick_says_where_its_base_runs_and_that_the_burst_covers_failures(
    planned: dict[str, tuple[ScenarioSpec, PlanResult]],
) -> None:
    _, result = planned["12-hybrid-peaky"]
    rec = result.recommendation
    assert rec.kind == "hybrid", rec.headline
    pick = next(o for o in result.options if o.name == rec.option)
    assert pick.spare_replicas == 0
    base_kind = "colocation" if rec.option.startswith("hybrid colocation") else "on_prem"
    where = {"colocation": "in colocation", "on_prem": "in your data centre"}[base_kind]
    assert rec.base_kind == base_kind
    assert where in rec.headline
    assert "no spare" in rec.headline and "carries its load" in rec.headline
