"""Plan a 20-scenario portfolio in-process, on a local process pool and on local Ray.

The 20 scenarios are variants of the bundled default (``inferplan init``): five
model choices x four traffic levels, with SLOs, weekly profiles, data classes and
deployment kinds varied by index; every scenario runs the planner's tornado and a
200-draw Monte Carlo. The three runs must give identical results (checked here:
the same JSON per scenario); the script prints the three wall times, the CPU load
of the machine during the run (other processes on a shared machine slow every
run), and the extrapolated time and speed-up on more nodes.

Extrapolation model (assumptions, printed with the numbers):

* scenarios are independent tasks of the measured in-process durations; a node has
  ``--cpus-per-node`` CPUs as fast as this machine's, one task per CPU;
* Ray hands the next task to the first free CPU, modelled as longest-task-first
  list scheduling of the measured durations (Graham, "Bounds on multiprocessing
  timing anomalies", SIAM J. Appl. Math. 17(2), 1969: within 4/3 of optimal);
* a scenario's cost is its CPU time measured in the in-process run (wall time on a
  shared machine includes waiting for the CPU);
* fixed cost: starting the Ray runtime and its worker processes, measured here;
  per-task cost: a round trip of an empty task, measured here; moving a scenario
  (a few kB) and a plan (a few hundred kB) over a data-centre network costs
  milliseconds and is ignored.

Usage::

    PYTHONPATH=src python benchmarks/portfolio_scaling.py [--scenarios 20] [--draws 200]
"""

from __future__ import annotations

import argparse
import heapq
import os
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import yaml

from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.executor import InProcessExecutor, ProcessExecutor, RayExecutor, ray_available
from inferplan.planner.portfolio import PortfolioResult, plan_portfolio
from inferplan.scenario_io import parse_scenario
from inferplan.specs.scenario import ScenarioSpec

T = TypeVar("T")
R = TypeVar("R")

MODELS = (
    ["llama-3.3-70b"],
    ["llama-3.1-8b"],
    ["qwen2.5-72b"],
    ["llama-3.1-8b", "qwen2.5-7b"],
    ["mixtral-8x7b"],
)
USERS = (800, 3000, 9000, 25000)
PROFILES = ("business_hours", "always_on", "office_chat", "flat")
DATA = ("confidential", "internal", "public", "confidential")
KINDS = (None, ["on_prem", "colocation", "cloud"], None, ["cloud", "api"])


def portfolio(n: int, draws: int) -> list[tuple[str, ScenarioSpec]]:
    """``n`` variants of the default scenario (see the module docstring)."""
    base = yaml.safe_load(default_scenario_text())
    out = []
    for i in range(n):
        raw = dict(base)
        raw["name"] = f"variant-{i:02d}"
        raw["models"] = MODELS[i % len(MODELS)]
        raw["workload"] = {
            **base["workload"],
            "users": USERS[(i // len(MODELS)) % len(USERS)],
            "profile": PROFILES[i % len(PROFILES)],
        }
        raw["slo"] = {**base["slo"], "ttft_ms": 1000 + 250 * (i % 4), "tpot_ms": 40 + 5 * (i % 3)}
        raw["policy"] = {**base["policy"], "data_class": DATA[i % len(DATA)]}
        cand = {**base["candidates"]}
        if KINDS[i % len(KINDS)] is not None:
            cand["kinds"] = KINDS[i % len(KINDS)]
        raw["candidates"] = cand
        raw["uncertainty"] = {"draws": draws, "seed": i}
        out.append((f"variant-{i:02d}.yaml", parse_scenario(raw)))
    return out


class TimedInProcess(InProcessExecutor):
    """The in-process executor, recording each item's wall and CPU time in s."""

    def __init__(self) -> None:
        self.wall_s: list[float] = []
        self.cpu_s: list[float] = []

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], chunk_size: int | None = None
    ) -> list[R]:
        out = []
        for x in items:
            w0, c0 = time.perf_counter(), time.process_time()
            out.append(fn(x))
            self.wall_s.append(time.perf_counter() - w0)
            self.cpu_s.append(time.process_time() - c0)
        return out


def noop(x: int) -> int:
    return x


def burn(n: int) -> float:
    """CPU seconds spent on ``n`` multiply-adds (a pure-Python busy loop)."""
    c0, acc = time.process_time(), 0
    for i in range(n):
        acc += i * i
    return time.process_time() - c0


def free_cpus(pool: ProcessExecutor, workers: int) -> float:
    """CPUs this machine gives ``workers`` parallel busy loops: their CPU time / wall time."""
    pool.map(burn, [1] * workers, chunk_size=1)  # start the workers first
    t0 = time.perf_counter()
    cpu = sum(pool.map(burn, [5_000_000] * workers, chunk_size=1))
    return cpu / (time.perf_counter() - t0)


def makespan_s(durations: list[float], cpus: int) -> float:
    """Longest-task-first list schedule of ``durations`` on ``cpus`` identical CPUs."""
    free = [0.0] * max(1, cpus)
    for d in sorted(durations, reverse=True):
        t = heapq.heappop(free)
        heapq.heappush(free, t + d)
    return max(free)


def cpu_load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def timed(label: str, run: Callable[[], PortfolioResult]) -> tuple[float, PortfolioResult]:
    before = cpu_load()
    t0 = time.perf_counter()
    result = run()
    wall = time.perf_counter() - t0
    print(f"{label:<30} {wall:7.1f} s   (load average 1/5/15 min before: {before})")
    return wall, result


def ray_run(
    items: list[tuple[str, ScenarioSpec]], workers: int
) -> tuple[float, PortfolioResult, float, float]:
    """Portfolio on a fresh local Ray runtime: (wall incl. start, result, start s, s per task)."""
    ex = RayExecutor(workers=workers)
    with ex:
        t0 = time.perf_counter()
        ex.map(noop, list(range(workers)), chunk_size=1)  # runtime and worker processes up
        start = time.perf_counter() - t0
        t1 = time.perf_counter()
        ex.map(noop, list(range(100)), chunk_size=1)
        per_task = (time.perf_counter() - t1) * workers / 100
        t_plan, result = timed(f"local Ray ({workers} CPUs)", lambda: plan_portfolio(items, ex))
    print(f"{'':<30} + {start:5.1f} s to start the runtime and its workers")
    return start + t_plan, result, start, per_task


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=20)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2, help="local processes / Ray CPUs")
    ap.add_argument("--cpus-per-node", type=int, default=2)
    args = ap.parse_args()
    items = portfolio(args.scenarios, args.draws)
    cpus = os.cpu_count()
    print(f"{len(items)} scenarios, Monte Carlo {args.draws} draws each; {cpus} CPUs here\n")

    timer = TimedInProcess()
    t_in, ref = timed("in-process", lambda: plan_portfolio(items, timer))
    with ProcessExecutor(args.workers) as pool:
        free = free_cpus(pool, args.workers)
        t_pool, got_pool = timed(
            f"process pool ({args.workers} workers)", lambda: plan_portfolio(items, pool)
        )
    print(f"{'':<30} ({free:.2f} CPUs free here for {args.workers} parallel busy loops)")
    if not ray_available():
        print("local Ray: skipped (pip install 'inferplan[ray]')")
        return
    t_ray, got_ray, start, per_task = ray_run(items, args.workers)
    same = got_pool.model_dump_json() == ref.model_dump_json()
    same_ray = got_ray.model_dump_json() == ref.model_dump_json()
    print(f"\nidentical results: process pool {same}, Ray {same_ray}")
    print(
        f"planned {ref.summary.planned}, failed {ref.summary.failed}; total NPV "
        f"${ref.summary.total_npv_usd:,.0f}"
    )
    print(
        f"speed-up vs in-process: process pool {t_in / t_pool:.2f}x, "
        f"Ray {t_in / t_ray:.2f}x (start included)"
    )
    cpu = sum(timer.cpu_s)
    print(
        f"in-process CPU time {cpu:.1f} s of {t_in:.1f} s wall: this process had "
        f"{cpu / t_in:.0%} of a CPU (other work shares the machine)"
    )
    extrapolate(timer.cpu_s, t_in, start, per_task, args.workers, args.cpus_per_node, t_ray)


def extrapolate(
    work: list[float],
    t_in: float,
    start: float,
    per_task: float,
    workers: int,
    per_node: int,
    t_ray: float,
) -> None:
    """Modelled wall time and speed-up on 1..8 nodes (module docstring)."""
    tasks = [w + per_task for w in work]
    local = start + makespan_s(tasks, workers)
    print(
        f"\nExtrapolation from CPU time per scenario (sum {sum(work):.1f} s, longest "
        f"{max(work):.1f} s: no schedule beats the longest), Ray start {start:.1f} s, "
        f"{per_task * 1e3:.1f} ms per task. Model for this machine: {local:.1f} s; "
        f"measured {t_ray:.1f} s (the gap is CPU taken by other processes)."
    )
    print(
        f"Assumptions: nodes of {per_node} idle CPUs as fast as this one; Ray gives the "
        "next scenario to the first free CPU (longest first); start cost as measured; "
        "moving scenarios and plans (kB) ignored. Speed-up vs the in-process CPU time."
    )
    print(f"{'nodes':>5} {'CPUs':>5} {'time s':>8} {'speed-up':>9} {'gain of the node':>17}")
    serial = sum(work)
    prev: float | None = None
    for nodes in range(1, 9):
        t = start + makespan_s(tasks, nodes * per_node)
        gain = "" if prev is None else f"{prev / t:.2f}x"
        print(f"{nodes:>5} {nodes * per_node:>5} {t:8.1f} {serial / t:8.2f}x {gain:>17}")
        prev = t
    big = tasks * 10
    print(
        f"A portfolio 10x larger ({len(big)} scenarios) on 8 nodes: "
        f"{10 * serial / (start + makespan_s(big, 8 * per_node)):.1f}x."
    )


if __name__ == "__main__":
    main()
