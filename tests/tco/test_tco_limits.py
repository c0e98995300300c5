"""Money must be finite and plausible: bad numbers are refused naming the field."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
import yaml
from tco_fixtures import API, CLOUD, ON_PREM, make_raw

from inferplan.errors import SpecError
from inferplan.scenario_io import parse_scenario
from inferplan.tco import compare_tco

CAPEX = "options[0].capex"
ELEC = "price_overrides.us-avg.electricity_usd_per_kwh"


def _with(path: list[Any], value: Any, options: list[dict[str, Any]] | None = None) -> dict:
    raw = make_raw(options or [ON_PREM, CLOUD, API])
    node: Any = raw
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["options", 0, "capex", "server_price_usd"], math.inf, f"{CAPEX}.server_price_usd"),
        (["options", 0, "capex", "server_price_usd"], math.nan, f"{CAPEX}.server_price_usd"),
        (["options", 2, "output_usd_per_million"], "1e400", "options[2].output_usd_per_million"),
        (["workload", "requests_per_day"], 1e300, "workload.requests_per_day"),
        (["options", 1, "price_usd_per_hour"], 1e300, "options[1].price_usd_per_hour"),
        (["finance", "discount_rate"], math.inf, "finance.discount_rate"),
    ],
)
def test_non_finite_or_absurd_inputs_are_refused(path, value, field) -> None:
    with pytest.raises(SpecError) as e:
        parse_scenario(_with(path, value))
    assert e.value.field == field


def test_yaml_infinity_is_refused() -> None:
    text = yaml.safe_dump(make_raw([API]))
    text = text.replace("output_usd_per_million: 4.0", "output_usd_per_million: .inf")
    assert ".inf" in text
    with pytest.raises(SpecError) as e:
        parse_scenario(yaml.safe_load(text))
    assert e.value.field == "options[0].output_usd_per_million"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"support-share": {"value": 50.0}}, "price_overrides.support-share.value"),
        ({"pue-hyperscale": {"value": 0.5}}, "price_overrides.pue-hyperscale.value"),
        ({"us-avg": {"electricity_usd_per_kwh": math.inf}}, ELEC),
        ({"us-avg": {"electricity_usd_per_kwh": 500.0}}, ELEC),
        ({"us-avg": {"default_pue": 30.0}}, "price_overrides.us-avg.default_pue"),
    ],
)
def test_overrides_beyond_the_field_limits_are_refused(prices, regions, override, field) -> None:
    own = dict(copy.deepcopy(ON_PREM), support_share_per_year=None)
    with pytest.raises(SpecError) as e:  # refused when read (non-finite) or when priced
        compare_tco(parse_scenario(make_raw([own], price_overrides=override)), prices, regions)
    assert e.value.field == field


def test_a_plausible_override_still_applies(prices, regions) -> None:
    own = dict(copy.deepcopy(ON_PREM), support_share_per_year=None)
    spec = parse_scenario(make_raw([own], price_overrides={"support-share": {"value": 0.15}}))
    r = compare_tco(spec, prices, regions).options[0]
    # 15 % of 400,000 a year for 2 years
    assert r.breakdown_usd["support"] == pytest.approx(120_000)


def test_scenario_without_options_gets_one_clear_error(prices, regions) -> None:
    raw = make_raw([])
    raw["models"] = ["llama-3.1-8b"]
    raw.pop("options")
    spec = parse_scenario(raw)
    with pytest.raises(SpecError) as e:
        compare_tco(spec, prices, regions)
    assert e.value.field == "options"
    assert "inferplan plan" in str(e.value)
