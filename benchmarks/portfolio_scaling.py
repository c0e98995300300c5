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
* fixed costs (runtime start, first import on each worker) and per-task overhead are
  taken from the local Ray run: overhead = Ray wall time - its own 2-CPU schedule;
  moving a scenario (a few kB) and a plan (a few hundred kB) over a data-centre
  network costs milliseconds and is ignored; the portfolio summary is serial and
  included in the overhead.

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
    """The in-process executor, recording each item's wall time in s."""

    def __init__(self) -> None:
        self.durations_s: list[float] = []

    def map(
        self, fn: Callable[[T], R], items: Sequence[T], chunk_size: int | None = None
    ) -> list[R]:
        out = []
        for x in items:
            t0 = time.perf_counter()
            out.append(fn(x))
            self.durations_s.append(time.perf_counter() - t0)
        return out


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
    print(f"{label:<28} {wall:8.1f} s   (load average 1/5/15 min before: {before})")
    return wall, result


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
        t_pool, got_pool = timed(
            f"process pool ({args.workers} workers)", lambda: plan_portfolio(items, pool)
        )
    t_ray: float | None = None
    got_ray: PortfolioResult | None = None
    if ray_available():
        ray_ex = RayExecutor(workers=args.workers)

        def on_ray() -> PortfolioResult:
            with ray_ex:  # includes starting (and stopping) the local Ray runtime
                return plan_portfolio(items, ray_ex)

        t_ray, got_ray = timed(f"local Ray ({args.workers} CPUs)", on_ray)
    else:
        print("local Ray                    skipped: pip install 'inferplan[ray]'")
    same = got_pool.model_dump_json() == ref.model_dump_json()
    same_ray = got_ray is None or got_ray.model_dump_json() == ref.model_dump_json()
    print(f"\nidentical results: process pool {same}, Ray {same_ray if got_ray else 'n/a'}")
    print(
        f"planned {ref.summary.planned}, failed {ref.summary.failed}; total NPV "
        f"${ref.summary.total_npv_usd:,.0f}"
    )
    print(f"speed-up vs in-process: process pool {t_in / t_pool:.2f}x", end="")
    print(f", Ray {t_in / t_ray:.2f}x" if t_ray else "")
    extrapolate(timer.durations_s, t_in, t_ray, args.workers, args.cpus_per_node)


def extrapolate(
    durations: list[float], t_in: float, t_ray: float | None, workers: int, per_node: int
) -> None:
    """Print the modelled wall time and speed-up for 1..8 nodes (module docstring)."""
    total, longest = sum(durations), max(durations)
    local = makespan_s(durations, workers)
    overhead = (t_ray - local) if t_ray is not None else 0.0
    print(
        f"\nExtrapolation: {len(durations)} tasks, sum {total:.1f} s, longest {longest:.1f} s "
        f"(no schedule can beat it); Ray overhead {overhead:.1f} s "
        f"(= {t_ray or 0:.1f} s measured - {local:.1f} s modelled on {workers} CPUs)."
    )
    print(
        f"Assumptions: nodes of {per_node} CPUs as fast as this one; longest-task-first "
        "scheduling; fixed overhead as measured; data transfer ignored."
    )
    print(f"{'nodes':>5} {'CPUs':>5} {'time s':>8} {'speed-up':>9} {'gain of the node':>17}")
    prev: float | None = None
    for nodes in range(1, 9):
        t = makespan_s(durations, nodes * per_node) + overhead
        gain = "" if prev is None else f"{prev / t:.2f}x"
        print(f"{nodes:>5} {nodes * per_node:>5} {t:8.1f} {t_in / t:8.2f}x {gain:>17}")
        prev = t
    big = durations * 10
    print(
        f"A portfolio 10x larger ({len(big)} tasks) keeps gaining: 8 nodes "
        f"{sum(big) / (makespan_s(big, 8 * per_node) + overhead):.1f}x vs in-process."
    )


if __name__ == "__main__":
    main()
