"""Scenario building blocks for the TCO tests (flat 10 requests/s traffic)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

# A flat 10 requests/s (864,000 a day), 1,000 input + 500 output tokens per request.
BASE_WORKLOAD: dict[str, Any] = {
    "requests_per_day": 864_000,
    "profile": "flat",
    "input_tokens_mean": 1000,
    "output_tokens_mean": 500,
}

# Two 8-GPU servers at $200k serve it at 1,000 tok/s per 2-GPU replica and 62.5 % target.
ON_PREM: dict[str, Any] = {
    "kind": "on_prem",
    "name": "own",
    "output_tokens_per_s_per_replica": 1000,
    "gpus_per_replica": 2,
    "target_utilisation": 0.625,
    "capex": {
        "gpus_per_server": 8,
        "server_price_usd": 200_000,
        "max_power_w": 10_000,
        "idle_power_share": 0.5,
    },
    # capacity already paid for: no facility charge (priced in test_tco_costs.py)
    "facility": {
        "kind": "metered",
        "pue": 1.5,
        "electricity_usd_per_kwh": 0.10,
        "capacity_cost": "sunk",
    },
    "support_share_per_year": 0.12,
    "staff_fte": 0.5,
    "staff_usd_per_fte_year": 120_000,
    "residual_value_share": 0.5,
}

CLOUD: dict[str, Any] = {
    "kind": "cloud",
    "name": "cloud",
    "price_usd_per_hour": 2.0,
    "price_unit": "per_gpu",
    "gpus_per_node": 8,
    "output_tokens_per_s_per_replica": 1000,
    "gpus_per_replica": 2,
    "target_utilisation": 0.625,
    "staff_fte": 0,  # no MLOps staff (priced in test_tco_costs.py)
}

API: dict[str, Any] = {
    "kind": "api",
    "name": "api",
    "input_usd_per_million": 1.0,
    "output_usd_per_million": 4.0,
}


def make_raw(options: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "test",
        "region": "us-avg",
        "workload": copy.deepcopy(BASE_WORKLOAD),
        "finance": {"horizon_years": 2, "discount_rate": 0.10},
        "options": copy.deepcopy(options),
    }
    raw.update(copy.deepcopy(top))
    return raw


DOCS = Path(__file__).resolve().parents[2] / "docs"


def doc_yaml(page: str) -> str:
    """The scenario a worked-example page in ``docs/`` holds as its ```yaml block."""
    text = (DOCS / page).read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert block is not None, f"docs/{page} must hold the scenario as a ```yaml block"
    return block.group(1)


def doc_raw(page: str) -> dict[str, Any]:
    """That scenario, parsed from YAML."""
    raw: dict[str, Any] = yaml.safe_load(doc_yaml(page))
    return raw
