"""Price catalog provenance, overrides, and scenario validation errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from tco_fixtures import API, CLOUD, ON_PREM, make_raw

from inferplan.catalog.prices import apply_price_overrides
from inferplan.errors import SpecError
from inferplan.scenario_io import load_scenario, parse_scenario

SRC = Path(__file__).resolve().parents[2] / "src" / "inferplan"


def test_every_row_has_source_and_date(prices, regions) -> None:
    for cat in [*prices.sections().values(), regions]:
        assert len(cat) > 0
        for rec in cat:
            assert len(rec.source) > 3 and rec.as_of is not None


def test_every_default_in_code_names_a_catalog_row(prices) -> None:
    """Defaults are looked up by row id; each id the code uses must exist."""
    ids: set[str] = set()
    for path in [*(SRC / "tco").glob("*.py"), SRC / "specs" / "economics.py"]:
        text = path.read_text(encoding="utf-8")
        ids |= set(re.findall(r'rate\("([a-z0-9.-]+)"\)', text))
        ids |= set(re.findall(r'catalog_id: str = "([a-z0-9.-]+)"', text))
    assert {
        "support-share",
        "ops-fte",
        "staff-loaded-cost",
        "server-idle-power-share",
        "pue-colocation",
        "pue-hyperscale",
        "colocation-wholesale-na",
    } <= ids
    for rid in ids:
        assert rid in prices.rates, rid
    for rec in prices.cloud:
        if rec.power_reference:
            assert rec.power_reference in prices.servers


def test_regions_convert_currency_with_a_sourced_rate(regions) -> None:
    eu = regions.get("eu_avg")
    # Eurostat H2 2024 EUR 0.1899/kWh x Fed G.5 June 2024 1.0763 USD/EUR
    assert eu.electricity_usd_per_kwh == pytest.approx(0.1899 * 1.0763)
    assert "G.5" in eu.fx_source
    assert regions.get("us-tx").electricity_usd_per_kwh == pytest.approx(0.0660)
    assert regions.get("de").electricity_usd_per_kwh is None  # not retrieved: say so


def test_overrides(prices, regions) -> None:
    p, r = apply_price_overrides(
        prices,
        regions,
        {
            "aws-p5-48xlarge": {"on_demand_usd_per_hour": 40.0},
            "us-va": {"electricity_usd_per_kwh": 0.2},
        },
    )
    assert p.cloud.get("aws-p5-48xlarge").on_demand_usd_per_hour == 40.0
    assert r.get("us-va").electricity_usd_per_kwh == 0.2
    assert prices.cloud.get("aws-p5-48xlarge").on_demand_usd_per_hour == 55.04
    with pytest.raises(SpecError, match=r"price_overrides\.nope"):
        apply_price_overrides(prices, regions, {"nope": {"value": 1}})
    with pytest.raises(SpecError, match=r"price_overrides\.support-share\.bogus"):
        apply_price_overrides(prices, regions, {"support-share": {"bogus": 1}})
    with pytest.raises(SpecError, match=r"price_overrides\.support-share"):
        apply_price_overrides(prices, regions, {"support-share": {"value": -1}})


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda r: r["options"][0]["capex"].update(server_price_usd=-1),
            "options[0].capex.server_price_usd",
        ),
        (
            lambda r: r["options"][2].update(input_usd_per_million=-0.5),
            "options[2].input_usd_per_million",
        ),
        (lambda r: r["finance"].update(horizon_years=0), "finance.horizon_years"),
        (lambda r: r["options"][0].update(depreciation_years=16), "options[0].depreciation_years"),
        (lambda r: r["options"][1].update(commitment="reserved_3y"), "options[1].commitment"),
        (lambda r: r["options"][0].update(colour="red"), "options[0].colour"),
        (lambda r: r["options"][0].update(kind="colocation"), "options[0].facility"),
        (lambda r: r["options"][0].update(bridge="own"), "options[0].bridge"),
        (lambda r: r["workload"].update(requests_per_day=-1), "workload.requests_per_day"),
        (lambda r: r["finance"].update(currency="JPY"), "finance.currency"),
    ],
)
def test_bad_inputs_name_the_field(mutate, field) -> None:
    raw = make_raw([ON_PREM, CLOUD, API])
    mutate(raw)
    with pytest.raises(SpecError) as e:
        parse_scenario(raw)
    assert e.value.field == field, str(e.value)


def test_load_scenario_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="malformed YAML"):
        load_scenario(bad)
    ok = tmp_path / "ok.yaml"
    raw = make_raw([API], models=["llama-3.1-70b"], slo=None)
    ok.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert load_scenario(ok).options[0].name == "api"


@pytest.mark.parametrize("name", ["tco_onprem_vs_cloud.yaml", "tco_hybrid.yaml"])
def test_examples_load(name: str) -> None:
    spec = load_scenario(Path(__file__).resolve().parents[2] / "examples" / name)
    assert len(spec.options) >= 2
