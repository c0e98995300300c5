"""How fast is inferplan's benchmark client itself, and how does it compare?

Against a fast local stub server (``tests/bench/stub_server.py``, a separate
process on 127.0.0.1 that streams tokens with no delay), this script measures in
one process:

1. **Request rate**: open-loop constant-rate stages (16 output tokens each) at
   rising rates. A rate is *sustained* when the client sent on time and stamped
   on time: schedule lag p99 < 1 ms, event-loop lag p99 < 1 ms (the bound on every
   client timestamp's error) and achieved rate >= 95% of the requested rate.
2. **Token rate**: a second stub paces its tokens (1 ms apart, as a fast server
   would); closed-loop stages of 256-token requests at rising concurrency; the
   highest output token rate with event-loop lag p99 < 1 ms.
3. **Overhead vs an established client**: the same closed-loop load (concurrency
   16, 64 tokens per request) driven alternately by inferplan's client and by the
   official ``openai`` Python SDK streaming client (the request path that
   llmperf, evalscope and genai-bench use to time requests). Reported: client CPU
   time per request and per token (``time.process_time``; the stub runs in another
   process), requests/s, and the median TTFT each client measures against the
   same near-zero-latency server (the excess is client overhead). Rounds alternate
   A, B, A, B to cancel drift. Skipped, with a message, when ``openai`` is absent.
4. **Honesty under stress**: Poisson 50 req/s (must not be flagged) and Poisson
   800 req/s (beyond this client on two cores: must be flagged with the achieved
   rate and the cause, and its queueing kept out of TTFT).

Usage::

    python benchmarks/bench_client.py            # about one minute
    python benchmarks/bench_client.py --quick    # a few seconds, for a smoke check
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from inferplan.bench.client import ClientSettings, PlannedRequest, StreamClient
from inferplan.bench.loadgen import Arrival, LoadGenerator, Profile, StagePlan
from inferplan.bench.prompts import LengthDist, PromptFactory, TraceEntry
from inferplan.bench.results import JsonlWriter, Phase
from inferplan.bench.summary import summarize_stage

ROOT = Path(__file__).resolve().parents[1]
STUB = ROOT / "tests" / "bench" / "stub_server.py"
TIMING_LIMIT_S = 1e-3
RATE_SHORTFALL = 0.95


def start_stub(token_delay_s: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    """The stub in its own process (own core), loopback only, stopping by itself."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(STUB),
            "--port",
            "0",
            "--max-lifetime-s",
            "900",
            "--token-delay-s",
            str(token_delay_s),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise SystemExit(f"stub server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{line.split()[1]}"


async def run_stage(url: str, plan: StagePlan, osl: int, out: Path) -> dict[str, Any]:
    """One stage with inferplan's client; returns rates, lags and CPU use."""
    factory = PromptFactory(LengthDist.parse("isl", "16"), LengthDist.parse("osl", str(osl)))
    t0 = time.perf_counter()

    def clock() -> float:
        return time.perf_counter() - t0

    def make(rid: int, stage: int, phase: Phase, entry: TraceEntry | None) -> PlannedRequest:
        return factory.make(rid, stage, phase)

    conns = plan.concurrency or 2000
    limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
    writer = JsonlWriter(out / f"records-{plan.profile}-{plan.stage}.jsonl").open()
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as http:
        client = StreamClient(ClientSettings(base_url=url, model="stub-model"), http, clock)
        gen = LoadGenerator(client, make, clock, writer.write)
        await gen.run_warmup(min(8, conns), min(8, conns))
        cpu0 = time.process_time()
        run = await gen.run_stage(plan)
        cpu = time.process_time() - cpu0
    writer.close()
    s = summarize_stage(
        plan.stage,
        plan.profile.value,
        run.records,
        concurrency=plan.concurrency,
        rate_req_per_s=plan.rate_req_per_s,
        loop_lag_s=run.loop_lag_s,
        pool_limit=conns,
    )
    h = s.client_health
    queue = h.client_queue_s
    return {
        "queue_p50_s": (queue.p50 or 0.0) if queue is not None else 0.0,
        "client_limited": float(h.client_limited),
        "reasons": " | ".join(h.reasons),
        "scheduled_req_per_s": h.scheduled_rate_req_per_s or 0.0,
        "ok": s.counts["ok"],
        "total": s.counts["total"],
        "achieved_req_per_s": h.achieved_rate_req_per_s or 0.0,
        "req_per_s": s.request_throughput_rps,
        "tok_per_s": s.output_tokens_per_s,
        "sched_lag_p99_s": h.schedule_lag_s.p99 or 0.0,
        "loop_lag_p99_s": h.loop_lag_s.p99 or 0.0,
        "ttft_p50_s": s.ttft_s.p50 or 0.0,
        "cpu_s": cpu,
    }


def rate_sweep(url: str, rates: list[float], seconds: float, out: Path) -> float | None:
    print("\n1. request rate (open loop, constant arrivals, 16 output tokens per request)")
    print(
        f"{'requested':>10} {'achieved':>9} {'ok/total':>10} {'sched p99':>10} "
        f"{'loop p99':>9} {'tok/s':>8}  sustained"
    )
    best: float | None = None
    for i, rate in enumerate(rates):
        plan = StagePlan(
            i,
            Profile.RATE,
            rate_req_per_s=rate,
            arrival=Arrival.CONSTANT,
            max_requests=max(20, int(rate * seconds)),
        )
        r = asyncio.run(run_stage(url, plan, 16, out))
        ok = (
            r["sched_lag_p99_s"] < TIMING_LIMIT_S
            and r["loop_lag_p99_s"] < TIMING_LIMIT_S
            and r["achieved_req_per_s"] >= RATE_SHORTFALL * rate
            and r["ok"] == r["total"]
        )
        print(
            f"{rate:>10.0f} {r['achieved_req_per_s']:>9.1f} {r['ok']:>4.0f}/{r['total']:<5.0f} "
            f"{r['sched_lag_p99_s'] * 1e3:>7.3f} ms {r['loop_lag_p99_s'] * 1e3:>6.3f} ms "
            f"{r['tok_per_s']:>8.0f}  {'yes' if ok else 'no'}"
        )
        if ok:
            best = rate
        elif best is not None:
            break
    return best


def token_sweep(url: str, levels: list[int], requests: int, out: Path) -> float | None:
    print("\n2. token rate (closed loop, 256 output tokens per request, paced 1 ms apart)")
    print(f"{'concurrency':>11} {'tok/s':>9} {'loop p99':>9}  within 1 ms")
    best: float | None = None
    for i, c in enumerate(levels):
        plan = StagePlan(i, Profile.CONCURRENCY, concurrency=c, max_requests=max(requests, 2 * c))
        r = asyncio.run(run_stage(url, plan, 256, out))
        ok = r["loop_lag_p99_s"] < TIMING_LIMIT_S and r["ok"] == r["total"]
        print(
            f"{c:>11} {r['tok_per_s']:>9.0f} {r['loop_lag_p99_s'] * 1e3:>6.3f} ms  "
            f"{'yes' if ok else 'no'}"
        )
        if ok:
            best = max(best or 0.0, r["tok_per_s"])
    return best


async def openai_stage(url: str, concurrency: int, requests: int, osl: int) -> dict[str, float]:
    """The same closed loop driven by the openai SDK's streaming client."""
    from openai import AsyncOpenAI

    factory = PromptFactory(LengthDist.parse("isl", "16"), LengthDist.parse("osl", str(osl)))
    client = AsyncOpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
    ttfts: list[float] = []
    tokens = 0
    next_id = 0

    async def worker() -> None:
        nonlocal next_id, tokens
        while next_id < requests:
            planned = factory.make(next_id)
            next_id += 1
            sent = time.perf_counter()
            first: float | None = None
            stream = await client.chat.completions.create(
                model="stub-model",
                messages=[{"role": "user", "content": planned.prompt}],
                max_tokens=planned.max_tokens,
                stream=True,
                stream_options={"include_usage": True},
                temperature=0.0,
            )
            async for chunk in stream:
                if first is None and chunk.choices and chunk.choices[0].delta.content:
                    first = time.perf_counter()
                if chunk.usage is not None:
                    tokens += chunk.usage.completion_tokens
            if first is not None:
                ttfts.append(first - sent)

    await asyncio.gather(*(worker() for _ in range(min(8, concurrency))))  # warm-up
    ttfts.clear()
    tokens, next_id = 0, 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await client.close()
    return {
        "ok": len(ttfts),
        "req_per_s": len(ttfts) / wall,
        "tok_per_s": tokens / wall,
        "cpu_s": cpu,
        "ttft_p50_s": statistics.median(ttfts),
    }


def overhead(url: str, rounds: int, requests: int, out: Path) -> None:
    print("\n3. overhead vs the openai SDK (closed loop, concurrency 16, 64 tokens per request)")
    try:
        import openai
    except ImportError:
        print("   openai is not installed: pip install openai  (comparison skipped)")
        return
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for i in range(rounds):
        plan = StagePlan(i, Profile.CONCURRENCY, concurrency=16, max_requests=requests)
        ours.append(asyncio.run(run_stage(url, plan, 64, out)))
        theirs.append(asyncio.run(openai_stage(url, 16, requests, 64)))

    def agg(rows: list[dict[str, float]]) -> dict[str, float]:
        ok = sum(r["ok"] for r in rows)
        return {
            "cpu_ms_per_req": 1e3 * sum(r["cpu_s"] for r in rows) / ok,
            "cpu_us_per_tok": 1e6 * sum(r["cpu_s"] for r in rows) / (ok * 64),
            "req_per_s": statistics.median(r["req_per_s"] for r in rows),
            "ttft_p50_ms": 1e3 * statistics.median(r["ttft_p50_s"] for r in rows),
        }

    a, b = agg(ours), agg(theirs)
    print(f"{'client':>22} {'CPU ms/req':>10} {'CPU us/tok':>10} {'req/s':>8} {'TTFT p50 ms':>11}")
    for name, row in (("inferplan", a), (f"openai {openai.__version__}", b)):
        print(
            f"{name:>22} {row['cpu_ms_per_req']:>10.3f} {row['cpu_us_per_tok']:>10.2f} "
            f"{row['req_per_s']:>8.0f} {row['ttft_p50_ms']:>11.3f}"
        )
    cpu_ratio = b["cpu_ms_per_req"] / a["cpu_ms_per_req"]
    print(
        f"   ratio openai/inferplan: CPU per request {cpu_ratio:.2f}x, "
        f"requests/s {b['req_per_s'] / a['req_per_s']:.2f}x, "
        f"TTFT p50 {b['ttft_p50_ms'] / a['ttft_p50_ms']:.2f}x"
    )


def honesty(url: str, seconds: float, out: Path) -> None:
    print("\n4. honesty under stress (open loop, Poisson arrivals, 16 output tokens)")
    print(f"{'requested':>10} {'scheduled':>9} {'achieved':>9} {'TTFT p50':>10} "
          f"{'client queue p50':>16}  flagged")
    for i, rate in enumerate((50.0, 800.0)):
        plan = StagePlan(100 + i, Profile.RATE, rate_req_per_s=rate, arrival=Arrival.POISSON,
                         max_requests=max(20, int(rate * seconds)))
        r = asyncio.run(run_stage(url, plan, 16, out))
        print(f"{rate:>10.0f} {r['scheduled_req_per_s']:>9.1f} {r['achieved_req_per_s']:>9.1f} "
              f"{r['ttft_p50_s'] * 1e3:>7.2f} ms {r['queue_p50_s'] * 1e3:>13.2f} ms  "
              f"{'yes' if r['client_limited'] else 'no'}")
        if r["reasons"]:
            print(f"{'':>10} {r['reasons']}")
    print("   expected: 50 req/s not flagged; an overloaded client flagged with its achieved "
          "rate and cause, its queueing kept out of TTFT")


def main() -> None:
    parser = argparse.ArgumentParser(description="benchmark inferplan's benchmark client")
    parser.add_argument("--quick", action="store_true", help="tiny loads (smoke check)")
    args = parser.parse_args()
    stub, url = start_stub()
    paced, paced_url = start_stub(token_delay_s=0.001)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            print(f"stub server {url} (separate process); python {sys.version.split()[0]}")
            if args.quick:
                best_rate = rate_sweep(url, [50, 100], 1.0, out)
                best_tok = token_sweep(paced_url, [1, 4], 8, out)
                overhead(url, 1, 64, out)
                honesty(url, 1.0, out)
            else:
                best_rate = rate_sweep(
                    url, [100, 200, 300, 400, 600, 800, 1000, 1500, 2000], 3.0, out
                )
                best_tok = token_sweep(paced_url, [1, 4, 8, 12, 16, 32, 64], 16, out)
                overhead(url, 3, 600, out)
                honesty(url, 4.0, out)
            print(
                f"\nsustained with timing error < 1 ms: {best_rate or 0:.0f} req/s; "
                f"{best_tok or 0:.0f} output tok/s"
            )
    finally:
        for proc in (stub, paced):
            proc.kill()
            proc.wait(5)


if __name__ == "__main__":
    main()
