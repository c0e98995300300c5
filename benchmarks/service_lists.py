"""How fast are the team service's list endpoints when the stored plans are large?

Fills a fresh SQLite store with ``--plans`` plans (default 100) whose results are
about ``--result-mb`` MB each (default 2; the padding is a list of numbers in the
result, as a long cash-flow table would be), 100 scenarios, 20 benchmark runs and
10 calibration profiles, serves it with ``inferplan serve`` in its own process on
127.0.0.1, and sends ``--requests`` GET requests (default 200) at
``--concurrency`` (default 20) to each list endpoint. Prints p50, p99 and the
maximum latency per endpoint, whether p99 is under the 300 ms target, and p50 as a
multiple of ``/healthz``'s p50 under the same load (no database, no template): on
a machine shared with other work the absolute figures move with its load, the
ratio much less. A list that read whole results would grow with ``--result-mb``.

Usage::

    python benchmarks/service_lists.py
    python benchmarks/service_lists.py --plans 100 --result-mb 12   # heavier
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ENDPOINTS = ("/api/v1/plans", "/api/v1/scenarios", "/api/v1/bench-runs",
             "/api/v1/calibrations", "/api/v1/jobs", "/ui/plans", "/ui/")
TARGET_P99_S = 0.300


def fill(url: str, plans: int, result_mb: float) -> None:
    from inferplan.store import records, scenarios
    from inferplan.store.database import open_store

    store = open_store(url)
    numbers = int(result_mb * 1e6 / 20)  # ~20 characters per float in JSON
    pad = [i * 1.000000001 for i in range(numbers)]
    for i in range(100):
        scenarios.create_scenario(store, {"name": f"scenario-{i}", "description": "x" * 200,
                                          "workload": {"users": i + 1}})
    for i in range(plans):
        p = records.create_plan(store, {"name": f"scenario-{i % 100}"}, (i % 100) + 1, 1)
        result = {"recommendation": {"option": f"option-{i}", "npv_usd": 1e6 + i,
                                     "usd_per_million_tokens": 1.5},
                  "options": [{"name": f"option-{i}", "npv_usd": 1e6 + i,
                               "monthly_cash_flows_usd": pad}]}
        records.finish_plan(store, p.id, "succeeded", result=result)
    stage = {"stage": 0, "concurrency": 8, "counts": {"ok": 100},
             "ttft_s": {"p50": 0.1, "p99": 0.3}, "output_tokens_per_s": 900.0}
    for i in range(20):
        records.create_bench_run(store, f"run-{i}", "127.0.0.1:8000", "m", "vllm",
                                 {"stages": [stage] * 8}, None, 0)
    for i in range(10):
        records.create_calibration(store, f"cal-{i}", "vllm", "h100-sxm-80gb",
                                   {"step_overhead_s": 0.001}, "")
    store.dispose()


async def measure(base: str, path: str, n: int, concurrency: int) -> list[float]:
    sem = asyncio.Semaphore(concurrency)
    out: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        async def one() -> None:
            async with sem:
                t0 = time.perf_counter()
                r = await client.get(path)
                out.append(time.perf_counter() - t0)
                r.raise_for_status()

        await asyncio.gather(*(one() for _ in range(n)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plans", type=int, default=100)
    ap.add_argument("--result-mb", type=float, default=2.0)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'lists.db'}"
        t0 = time.perf_counter()
        fill(url, args.plans, args.result_mb)
        size_mb = (Path(tmp) / "lists.db").stat().st_size / 1e6
        print(f"store: {args.plans} plans of ~{args.result_mb:g} MB results, "
              f"{size_mb:,.0f} MB on disk, filled in {time.perf_counter() - t0:.1f} s")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        env = {**os.environ, "INFERPLAN_API_TOKEN": "", "INFERPLAN_API_READ_TOKEN": ""}
        server = subprocess.Popen([sys.executable, "-m", "inferplan", "serve", "--port",
                                   str(port), "--database-url", url, "--log-level", "warning"],
                                  env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            print(f"{args.requests} GET requests per endpoint at concurrency "
                  f"{args.concurrency}:")
            print(f"{'endpoint':<24}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  p99 < 300 ms"
                  "  p50 / healthz p50")
            ref = None
            for path in ("/healthz", *ENDPOINTS):
                lat = sorted(asyncio.run(measure(base, path, args.requests, args.concurrency)))
                p50 = statistics.median(lat)
                ref = ref or p50
                p99 = lat[min(len(lat) - 1, int(round(0.99 * len(lat))) - 1)]
                print(f"{path:<24}{p50 * 1e3:>9.1f}{p99 * 1e3:>9.1f}{lat[-1] * 1e3:>9.1f}  "
                      f"{'yes' if p99 < TARGET_P99_S else 'NO':<12}  {p50 / ref:>6.1f}")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
