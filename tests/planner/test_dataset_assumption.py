"""A scenario whose workload names a public dataset says, in the plan's assumptions,
which published statistics gave its lengths."""

from __future__ import annotations

from typing import Any

import yaml

from inferplan.catalog.datasets import get_dataset
from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.planner.search import plan
from inferplan.scenario_io import parse_scenario


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(default_scenario_text())
    return raw


def test_the_assumptions_name_the_dataset_and_its_statistics() -> None:
    raw = _raw()
    work = {
        k: v for k, v in raw["workload"].items() if not k.startswith(("input_", "output_"))
    }
    raw["workload"] = {**work, "dataset": "sharegpt"}
    spec = parse_scenario(raw)
    result = plan(spec, analyses=False)
    ds = get_dataset("sharegpt")
    lines = [a for a in result.assumptions if a["item"].startswith("workload lengths")]
    assert len(lines) == 1
    line = lines[0]
    assert line["item"] == "workload lengths from dataset sharegpt"
    assert ds.name in line["source"] and ds.source in line["source"]
    assert "prompt" in line["source"] and "output" in line["source"]
    assert line["as_of"] == str(ds.as_of)
    # the lengths the plan sized with are the ones the line states
    assert f"{spec.workload.input_tokens_mean:,.0f} tokens used" in line["source"]


def test_without_a_dataset_no_dataset_line() -> None:
    result = plan(parse_scenario(_raw()), analyses=False)
    assert not any(a["item"].startswith("workload lengths") for a in result.assumptions)
