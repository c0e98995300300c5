"""The plan's latency curve is a closed loop run as ``perf --concurrency`` runs one."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.deploy.deployment import memory_of, resolve
from inferplan.planner import verify
from inferplan.planner.capacity import Capacity
from inferplan.planner.designs import Design
from inferplan.scenario_io import parse_scenario
from inferplan.service.perf import predict

ISL, OSL = 1000, 200


def test_curve_ttft_equals_perf_concurrency_ttft_with_the_same_lengths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = yaml.safe_load(default_scenario_text())
    raw["models"] = ["llama-3.1-8b"]
    raw["workload"]["cached_input_share"] = 0.0
    spec = parse_scenario(raw)
    d = resolve("llama-3.1-8b", "h100-sxm-80gb", "vllm", "bf16")
    mem = memory_of(d, ISL + OSL, 1)
    # a capacity of batch 8 makes the sweep run 1, 2, 4, 8 and 16 clients
    design = Design(d, mem, Capacity(8, 1.0, 200.0, 0.01, 0.1, "latency"))
    # every request ISL prompt tokens and OSL output tokens, as perf --isl --osl sends them
    monkeypatch.setattr(
        verify,
        "request_lengths",
        lambda _traffic, n, seed=0: (np.full(n, ISL), np.full(n, OSL)),
    )
    curve = verify.latency_curve(spec, design, percentile=95.0)
    assert [p["concurrency"] for p in curve] == [1.0, 2.0, 4.0, 8.0, 16.0]
    for point in curve:
        c = int(point["concurrency"])
        perf = predict(d, ISL, OSL, concurrency=c)
        assert perf.ttft_ms.p95 is not None
        assert point["ttft_ms"] == pytest.approx(perf.ttft_ms.p95, rel=1e-9)
        # a busy engine makes a request wait for the step in progress: the curve's TTFT
        # is above the bare simulated one from two clients on
        if c >= 2:
            assert any("mean wait for the step in progress" in n for n in perf.notes)
