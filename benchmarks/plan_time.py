"""Time ``inferplan --help`` and ``plan``: the command as a user runs it, then its parts.

1. ``inferplan --help`` and ``inferplan plan`` (default scenario) as fresh processes
   (best of 3 wall times, and the least CPU time beside them; targets 0.3 s and 1.0 s);
   ``plan`` prints the terminal summary, which needs no tornado, Monte Carlo or latency
   curve, so ``plan --json`` (the full analysis) is timed beside it;
2. import time of the CLI and of what ``plan`` imports (``python -X importtime``
   is the detailed view);
3. catalog load time: parsing every shipped YAML file cold (no cache, the C parser
   when PyYAML has it), from the content-keyed parse cache, and validating records;
4. ``plan`` in-process on the default scenario (target 5 s) and on a candidate
   space ten times larger (target 30 s), report included.

Usage: python benchmarks/plan_time.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def best_wall(argv: list[str], runs: int = 3) -> tuple[float, float]:
    """Best wall time of ``runs`` fresh processes, and the least CPU time (user + system)
    one of them took: on a shared machine the CPU time moves less than the wall time."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    best = best_cpu = float("inf")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "inferplan", *argv], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_cpu = min(best_cpu, cpu)
    return best, best_cpu


def import_time(module: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(out)


def catalog_times() -> None:
    import yaml

    from inferplan.catalog import loader

    files = loader.shipped_files()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[loader.CACHE_ENV] = tmp
        data = [(f, (loader._data_dir() / f).read_bytes()) for f in files]
        t0 = time.perf_counter()
        for f, b in data:
            loader._parse_cached(b, f, loader.MAX_CATALOG_BYTES)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        for f, b in data:
            loader._parse_cached(b, f, loader.MAX_CATALOG_BYTES)
        cached = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _, b in data:
            yaml.load(b.decode(), Loader=yaml.SafeLoader)  # the pure-Python parser, for scale
        pure = time.perf_counter() - t0
        loader.clear_cache()
        t0 = time.perf_counter()
        from inferplan.catalog import load_accelerators, load_engines, load_models
        from inferplan.catalog.prices import load_prices, load_regions
        from inferplan.catalog.providers import load_providers

        for load in (load_accelerators, load_models, load_engines, load_prices, load_regions,
                     load_providers):
            load()
        validated = time.perf_counter() - t0
    c_parser = hasattr(yaml, "CSafeLoader")
    print(f"catalog ({len(files)} files): parse {cold:.3f} s cold "
          f"({'C' if c_parser else 'pure-Python'} parser; pure-Python {pure:.3f} s), "
          f"{cached:.3f} s from the parse cache; load + validate every catalog "
          f"{validated:.3f} s")


def main() -> None:
    help_s, help_cpu = best_wall(["--help"])
    plan_s, plan_cpu = best_wall(["plan"])
    print(f"inferplan --help: {help_s:.2f} s, CPU {help_cpu:.2f} s "
          f"(target 0.3 s, ratio {help_s / 0.3:.2f})")
    print(f"inferplan plan (default scenario): {plan_s:.2f} s, CPU {plan_cpu:.2f} s "
          f"(target 1.0 s, ratio {plan_s / 1.0:.2f})")
    full_s, full_cpu = best_wall(["plan", "--json"])
    print(f"inferplan plan --json (with tornado, Monte Carlo, latency curve): {full_s:.2f} s, "
          f"CPU {full_cpu:.2f} s")
    print(f"import: CLI entry {import_time('inferplan.cli.main'):.3f} s, "
          f"plan command {import_time('inferplan.cli.plan_cmd'):.3f} s, "
          f"planner {import_time('inferplan.planner.search'):.3f} s")
    catalog_times()

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

    raw = yaml.safe_load(default_scenario_text())
    t, n, r = timed(raw)
    print(f"default scenario in-process: {t:.2f} s, {n} priced options, {r} rejected families "
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
