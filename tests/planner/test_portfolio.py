"""Portfolio planning: loading, hourly pooling, fleet sharing, totals, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inferplan.errors import InfeasibleError, SpecError
from inferplan.executor import ProcessExecutor
from inferplan.planner import portfolio as pf
from inferplan.results.plan import PlanOption, PlanResult, Recommendation
from inferplan.scenario_io import parse_scenario
from inferplan.specs.scenario import ScenarioSpec

ROOT = Path(__file__).resolve().parents[2]
DAY = [1.0] * 12 + [0.0] * 12  # traffic in hours 0-11 only
NIGHT = [0.0] * 12 + [1.0] * 12  # traffic in hours 12-23 only


def _scenario(name: str, profile: Any) -> ScenarioSpec:
    return parse_scenario(
        {
            "name": name,
            "models": ["llama-3.1-8b"],
            # 86,400 requests a day = 1 request/s on average; no growth, no intra-hour peak
            "workload": {
                "requests_per_day": 86400,
                "profile": profile,
                "input_tokens_mean": 500,
                "output_tokens_mean": 100,
            },
            "finance": {"horizon_years": 1, "discount_rate": 0.05},
            "candidates": {"target_utilisation": 0.5},
        }
    )


def _option(name: str, kind: str, provider: str, hw: str | None, npv: float) -> PlanOption:
    return PlanOption(
        name=name,
        kind=kind,
        provider=provider,
        region="eu-1" if kind == "cloud" else None,
        country="DE",
        hardware=hw,
        devices_per_replica=2 if hw else None,
        replica_output_tokens_per_s=50.0 if hw else None,
        tco_nominal_usd=npv * 1.1,
        npv_usd=npv,
        usd_per_million_tokens=1.0,
        monthly_cash_flows_usd=[],
        breakdown_usd={},
    )


def _plan(name: str, options: list[PlanOption]) -> PlanResult:
    best = options[0]
    rec = Recommendation(
        option=best.name,
        kind=best.kind,
        provider=best.provider,
        region=best.region,
        hardware=best.hardware,
        count=None,
        precision=None,
        engine=None,
        model=None,
        tco_nominal_usd=best.tco_nominal_usd,
        npv_usd=best.npv_usd,
        usd_per_million_tokens=1.0,
        p95_ttft_ms=None,
        p95_tpot_ms=None,
        reasons=[],
    )
    return PlanResult(
        scenario=name,
        horizon_months=12,
        discount_rate=0.05,
        recommendation=rec,
        runner_up=None,
        why_not_runner_up=None,
        frontier=[],
        options=options,
        rejected=[],
        break_even_month={},
        quality_notes=[],
        assumptions=[],
    )


def test_hourly_devices_by_hand() -> None:
    opt = _option("x", "cloud", "acme", "h100-sxm-80gb", 100.0)
    # flat: 1 req/s x 100 tokens = 100 tok/s; / (50 tok/s x 0.5) = 4 replicas x 2 = 8 devices
    flat = pf.hourly_devices(_scenario("flat", "flat"), opt)
    assert flat.shape == (168,) and set(flat.tolist()) == {8.0}
    # day-only profile: 12 busy hours carry the whole day, weight 2 -> 2 req/s -> 16 devices
    day = pf.hourly_devices(_scenario("day", DAY), opt)
    assert day[:12].tolist() == [16.0] * 12 and day[12:24].tolist() == [0.0] * 12


def test_pool_and_fleets_from_complementary_profiles() -> None:
    scen = {"day": _scenario("day", DAY), "night": _scenario("night", NIGHT)}
    cloud_a = _option("acme h100", "cloud", "acme", "h100-sxm-80gb", 1000.0)
    plans = {
        "day": _plan("day", [cloud_a]),
        # night's own pick is on-prem; acme's H100 cloud costs it 1,030 - 1,000 = 30 more (3 %)
        "night": _plan(
            "night",
            [
                _option("own h100", "on_prem", "on-prem", "h100-sxm-80gb", 1000.0),
                _option("acme h100", "cloud", "acme", "h100-sxm-80gb", 1030.0),
            ],
        ),
    }
    outcomes = [pf.ScenarioOutcome(key=k, name=k, source=k) for k in plans]
    s = pf.summarise_portfolio(outcomes, plans, scen, share_tolerance=0.05)
    assert s.total_npv_usd == pytest.approx(2000.0)
    assert s.total_tco_nominal_usd == pytest.approx(2200.0)
    # pools: rented H100 for day (16 devices), owned H100 for night (16): different pools
    assert [(h.hardware, h.ownership, h.devices_at_own_peaks) for h in s.hardware_pool] == [
        ("h100-sxm-80gb", "owned", 16),
        ("h100-sxm-80gb", "rented", 16),
    ]
    # acme's cloud H100s suit both within 5 %: 16 + 16 devices as two fleets, 16 pooled
    (fleet,) = s.fleets
    assert (fleet.kind, fleet.provider, fleet.location) == ("cloud", "acme", "eu-1")
    assert fleet.premium_usd == {"day": 0.0, "night": pytest.approx(30.0)}
    assert (fleet.devices_separate, fleet.devices_pooled) == (32, 16)
    # at 2 % tolerance night's 3 % premium is too much: no shared fleet
    s2 = pf.summarise_portfolio(outcomes, plans, scen, share_tolerance=0.02)
    assert s2.fleets == []


def test_coincident_peak_of_a_shared_pool() -> None:
    scen = {"day": _scenario("day", DAY), "flat": _scenario("flat", "flat")}
    opt = _option("acme h100", "cloud", "acme", "h100-sxm-80gb", 500.0)
    plans = {k: _plan(k, [opt]) for k in scen}
    outcomes = [pf.ScenarioOutcome(key=k, name=k, source=k) for k in plans]
    (pool,) = pf.summarise_portfolio(outcomes, plans, scen).hardware_pool
    # day peaks at 16 while flat needs 8 in every hour: peaks coincide, 16 + 8 = 24 either way
    assert (pool.devices_at_own_peaks, pool.devices_at_coincident_peak) == (24, 24)
    assert pool.scenarios == ["day", "flat"]


def test_load_portfolio_reads_folders_in_name_order(tmp_path: Path) -> None:
    src = (ROOT / "examples/portfolio/eu-support-bot.yaml").read_text()
    (tmp_path / "b.yml").write_text(src)
    (tmp_path / "a.yaml").write_text(src)
    (tmp_path / "notes.txt").write_text("not a scenario")
    items = pf.load_portfolio([tmp_path])
    assert [Path(p).name for p, _ in items] == ["a.yaml", "b.yml"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError, match=r"holds no \.yaml"):
        pf.load_portfolio([tmp_path / "empty"])
    with pytest.raises(SpecError, match="not found"):
        pf.load_portfolio([tmp_path / "missing.yaml"])
    (tmp_path / "c.yaml").write_text("name: x\nworkload: {users: -1}\n")
    with pytest.raises(SpecError, match=r"c\.yaml"):
        pf.load_portfolio([tmp_path])


def test_failed_scenarios_are_reported_and_keys_are_unique(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = _plan("ok", [_option("acme h100", "cloud", "acme", "h100-sxm-80gb", 100.0)])

    def fake_plan(scenario: ScenarioSpec, **_: object) -> PlanResult:
        if scenario.name == "bad":
            raise InfeasibleError("no option meets the latency targets")
        return good

    monkeypatch.setattr(pf, "plan", fake_plan)
    items = [
        ("x/a.yaml", _scenario("ok", "flat")),
        ("y/a.yaml", _scenario("ok", "flat")),
        ("z/b.yaml", _scenario("bad", "flat")),
    ]
    r = pf.plan_portfolio(items)
    assert [o.key for o in r.summary.scenarios] == ["a", "a-2", "b"]
    assert (r.summary.planned, r.summary.failed) == (2, 1)
    assert r.summary.scenarios[2].error == "no option meets the latency targets"
    assert any("b: not planned" in n for n in r.summary.notes)
    assert r.summary.total_npv_usd == pytest.approx(200.0)


PAIR = ["examples/portfolio/eu-support-bot.yaml", "examples/portfolio/eu-assistant.yaml"]


def test_process_pool_portfolio_equals_in_process_and_cli_writes_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = pf.load_portfolio([ROOT / p for p in PAIR])
    ref = pf.plan_portfolio(items)
    with ProcessExecutor(workers=2) as ex:
        assert pf.plan_portfolio(items, ex).model_dump_json() == ref.model_dump_json()
    assert sorted(ref.plans) == ["eu-assistant", "eu-support-bot"]

    from inferplan.cli.main import app

    seen: dict[str, object] = {}

    def planned(got: list[tuple[str, ScenarioSpec]], ex: object = None) -> pf.PortfolioResult:
        seen.update(names=[Path(src).name for src, _ in got], kind=getattr(ex, "kind", None))
        return ref  # the plans above; the CLI part checks the wiring and the files

    monkeypatch.setattr(pf, "plan_portfolio", planned)
    out = tmp_path / "out"
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for p in PAIR:
        (folder / Path(p).name).write_text((ROOT / p).read_text())
    args = ["plan", str(folder), "--out", str(out), "--json", "--executor", "process"]
    res = CliRunner().invoke(app, [*args, "--workers", "2"])
    assert res.exit_code == 0, res.output
    assert seen == {"names": ["eu-assistant.yaml", "eu-support-bot.yaml"], "kind": "process"}
    summary = json.loads((out / "portfolio.json").read_text())
    assert summary["planned"] == 2 and summary["total_npv_usd"] == pytest.approx(
        ref.summary.total_npv_usd
    )
    for key in ref.plans:
        assert (out / f"{key}.json").is_file() and (out / f"{key}.csv").is_file()
    assert "Portfolio summary" in (out / "portfolio.md").read_text()
