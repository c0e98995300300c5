"""CSV export: one row per priced option, flags on the right rows, plain numbers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from inferplan.errors import SpecError
from inferplan.planner.search import plan
from inferplan.report.export import write_plan_csv
from inferplan.results.plan import PlanOption, PlanResult, Recommendation
from inferplan.scenario_io import load_scenario

HEADER = [
    "name", "kind", "provider", "region", "model", "hardware", "devices_per_replica", "layout",
    "peak_devices", "precision", "engine", "serving_technique", "tco_nominal_usd", "npv_usd",
    "usd_per_million_tokens", "est_ttft_ms", "est_tpot_ms", "legal_sovereignty",
    "operational_sovereignty", "sovereignty_score", "recommended", "on_frontier",
]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == HEADER
        return list(reader)


def small_plan() -> PlanResult:
    """Two hand-made options: a cloud pick and an API (no hardware, no latency)."""
    cloud = PlanOption(
        name="cloud a, \"quoted\"", kind="cloud", provider="a", region="eu-1",
        model="m", hardware="h100-sxm-80gb", devices_per_replica=4, peak_devices=8,
        layout="EP 4 with attention data parallelism in one node",
        precision="fp8", engine="vllm", est_ttft_ms=931.764, est_tpot_ms=41.8,
        serving_technique="speculative decoding (mtp, 1 draft token, acceptance 0.85)",
        tco_nominal_usd=877564.2857, npv_usd=719267.8517, usd_per_million_tokens=3.29903,
        monthly_cash_flows_usd=[0.0, 1.0], breakdown_usd={"cloud_compute": 1.0},
        legal_sovereignty=0.6, operational_sovereignty=0.3, sovereignty_score=0.45,
    )
    api = PlanOption(
        name="api b", kind="api", provider="b", tco_nominal_usd=1_234_567.891,
        npv_usd=900_000.0, usd_per_million_tokens=None, monthly_cash_flows_usd=[0.0, 2.0],
        breakdown_usd={"api": 2.0}, legal_sovereignty=0.9, operational_sovereignty=0.1,
        sovereignty_score=0.5,
    )
    rec = Recommendation(
        option=cloud.name, kind="cloud", provider="a", region="eu-1", hardware="h100-sxm-80gb",
        count=8, precision="fp8", engine="vllm", model="m", tco_nominal_usd=877564.2857,
        npv_usd=719267.8517, usd_per_million_tokens=3.29903, p95_ttft_ms=None,
        p95_tpot_ms=None, reasons=["cheapest"],
    )
    return PlanResult(
        scenario="s", horizon_months=1, discount_rate=0.08, recommendation=rec,
        runner_up=api, why_not_runner_up=None, frontier=[cloud.name, api.name],
        options=[cloud, api], rejected=[], break_even_month={api.name: 1},
        quality_notes=[], assumptions=[],
    )


def test_cells_of_a_hand_made_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    write_plan_csv(small_plan(), path)
    rows = read_rows(path)
    assert len(rows) == 2
    cloud, api = rows
    # The csv module quotes the comma and doubles the quotes; reading gives it back.
    assert cloud["name"] == 'cloud a, "quoted"'
    assert cloud["devices_per_replica"] == "4"
    assert cloud["layout"] == "EP 4 with attention data parallelism in one node"
    assert cloud["peak_devices"] == "8"
    assert cloud["tco_nominal_usd"] == "877564.29"        # to the cent
    assert cloud["npv_usd"] == "719267.85"
    assert cloud["usd_per_million_tokens"] == "3.2990"    # 4 decimals
    assert cloud["est_ttft_ms"] == "931.76"
    assert cloud["est_tpot_ms"] == "41.80"
    assert cloud["legal_sovereignty"] == "0.6000"
    assert cloud["sovereignty_score"] == "0.4500"
    assert (cloud["recommended"], cloud["on_frontier"]) == ("true", "true")
    assert cloud["serving_technique"] == (
        "speculative decoding (mtp, 1 draft token, acceptance 0.85)"
    )
    # An API has no hardware, latency estimate or region: empty cells, not "None".
    for col in ("region", "hardware", "devices_per_replica", "layout", "peak_devices",
                "precision",
                "engine", "serving_technique", "est_ttft_ms", "est_tpot_ms",
                "usd_per_million_tokens"):
        assert api[col] == "", col
    assert api["tco_nominal_usd"] == "1234567.89"  # no thousands separator, no "$"
    assert (api["recommended"], api["on_frontier"]) == ("false", "true")


def test_default_plan_one_row_per_option_one_recommended(tmp_path: Path) -> None:
    result = plan(load_scenario("src/inferplan/examples/default.yaml"))
    path = tmp_path / "default.csv"
    write_plan_csv(result, path)
    rows = read_rows(path)
    assert [r["name"] for r in rows] == [o.name for o in result.options]
    flagged = [r["name"] for r in rows if r["recommended"] == "true"]
    assert flagged == [result.recommendation.option]
    assert {r["recommended"] for r in rows} <= {"true", "false"}
    assert {r["name"] for r in rows if r["on_frontier"] == "true"} == set(result.frontier)
    for row, option in zip(rows, result.options, strict=True):
        assert float(row["npv_usd"]) == pytest.approx(option.npv_usd, abs=0.005)
        # the default scenario allows no serving technique: plain replicas, empty cells
        assert row["serving_technique"] == ""


def test_unwritable_path_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="csv: cannot write"):
        write_plan_csv(small_plan(), tmp_path / "missing-dir" / "plan.csv")
