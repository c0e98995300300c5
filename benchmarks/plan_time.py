"""Time ``plan`` on the default scenario (target < 5 s) and on a candidate space ten
times larger (more models, precisions and engines; target < 30 s), report included.

Usage: python benchmarks/plan_time.py
"""

from __future__ import annotations

import time

import yaml

from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.planner.search import plan
from inferplan.report.html import render_plan_html
from inferplan.scenario_io import parse_scenario


def timed(raw: dict[str, object]) -> tuple[float, int, int]:
    spec = parse_scenario(raw)
    t0 = time.perf_counter()
    result = plan(spec)
    render_plan_html(result, spec)
    return time.perf_counter() - t0, len(result.options), len(result.rejected)


def main() -> None:
    raw = yaml.safe_load(default_scenario_text())
    t, n, r = timed(raw)
    print(f"default scenario: {t:.2f} s, {n} priced options, {r} rejected families "
          f"(target 5 s, ratio {t / 5:.2f})")
    big = dict(raw)
    big["models"] = ["llama-3.3-70b", "llama-3.1-70b", "qwen2.5-72b", "llama-3.1-8b",
                     "mixtral-8x7b"]
    big["candidates"] = {
        **raw["candidates"],
        "precisions": ["bf16", "fp8", "int4-awq", "int8"],
        "engines": ["vllm", "sglang"],
    }
    t, n, r = timed(big)
    print(f"10x candidates: {t:.2f} s, {n} priced options, {r} rejected families "
          f"(target 30 s, ratio {t / 30:.2f})")


if __name__ == "__main__":
    main()
