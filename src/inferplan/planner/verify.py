"""Check a design by simulation: its latency percentiles at the planned peak load,
and its latency-throughput curve over concurrency.

A speculative-decoding design is simulated with its speculative step model (each decode
step the mean time per emitted token, :mod:`inferplan.perf.speculative`). A disaggregated
design is not: the simulator runs one pool, so its check is the closed-form steady state
of :mod:`inferplan.perf.disagg` with the planning margins, and it has no curve."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from inferplan.deploy.uncertainty import interval
from inferplan.perf.batch import SchedulerLimits
from inferplan.perf.closed_loop import closed_loop_requests, mid_step_wait_s, with_ttft_wait
from inferplan.perf.metrics import ServingMetrics, slo_check, summarize
from inferplan.perf.prefix import cached_prefix_tokens
from inferplan.perf.simulate import simulate
from inferplan.perf.workload import PoissonArrivals, lognormal_from_mean_p90
from inferplan.planner.capacity import TPOT_TAIL, TTFT_TAIL, Capacity, with_shared_prefix
from inferplan.planner.designs import Design, prefix_share
from inferplan.planner.techniques import runtime
from inferplan.results.plan import LatencyCheck
from inferplan.specs.plan import SloSpec
from inferplan.specs.scenario import ScenarioSpec, TrafficSpec
from inferplan.tco.traffic import hourly_request_rates, replicas_needed

VERIFY_REQUESTS = 1500


def request_lengths(traffic: TrafficSpec, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    isl = lognormal_from_mean_p90(traffic.input_tokens_mean, traffic.input_tokens_p90)
    osl = lognormal_from_mean_p90(traffic.output_tokens_mean, traffic.output_tokens_p90)
    return isl.sample(rng, n), osl.sample(rng, n)


PREFIX_SHARE_MAX = 1.0 - 1e-9
"""A share of 1 still computes the last prompt token of each request."""


def _prefix(
    scenario: ScenarioSpec, design: Design, isl: np.ndarray
) -> tuple[SchedulerLimits, np.ndarray | None]:
    """The design's scheduler limits less the shared prefix's KV, and the cached prompt
    tokens of each request (None without a shared prefix)."""
    share = prefix_share(scenario)
    _, limits = runtime(design.deployment, design.memory, design.technique)
    if share <= 0.0:
        return limits, None
    limits = with_shared_prefix(limits, scenario.workload.input_tokens_mean, share)
    return limits, cached_prefix_tokens(isl, min(share, PREFIX_SHARE_MAX))


def peak_request_rate(scenario: ScenarioSpec) -> float:
    """Busiest hour of the last year, requests/s, with the intra-hour peak factor."""
    w = scenario.workload
    growth = (1 + w.growth_per_year) ** (scenario.finance.horizon_years - 1)
    return float(hourly_request_rates(w).max()) * growth * w.peak_to_mean_within_hour


def _disaggregated(design: Design) -> bool:
    return design.technique is not None and design.technique.disaggregated


def verify_latency(scenario: ScenarioSpec, design: Design, slo: SloSpec) -> LatencyCheck:
    """Simulate one replica at its share of the peak load (Poisson arrivals); a
    disaggregated unit: its closed-form steady state with the planning margins."""
    peak = peak_request_rate(scenario)
    osl_mean = scenario.workload.output_tokens_mean
    reps = max(
        1,
        int(
            replicas_needed(
                peak * osl_mean,
                design.capacity.output_tokens_per_s,
                scenario.candidates.target_utilisation,
            )
        ),
    )
    rate = peak / reps
    if _disaggregated(design):
        return _closed_form_check(design, slo, rate, reps)
    step, _ = runtime(design.deployment, design.memory, design.technique)
    isl, osl = request_lengths(scenario.workload, VERIFY_REQUESTS)
    limits, cached = _prefix(scenario, design, isl)
    arrivals = PoissonArrivals(rate_rps=rate).arrival_times_s(
        np.random.default_rng(1), VERIFY_REQUESTS
    )
    run = simulate(step, limits, isl, osl, arrivals_s=arrivals, cached_tokens=cached)
    m = summarize(
        run,
        slo.ttft_ms / 1e3,
        slo.tpot_ms / 1e3,
        slo.percentile,
        warmup_requests=VERIFY_REQUESTS // 10,
        cooldown_requests=VERIFY_REQUESTS // 10,
    )
    ttft = (m.ttft_s.percentile(slo.percentile) or 0.0) * 1e3
    tpot = (m.tpot_s.percentile(slo.percentile) or 0.0) * 1e3
    return _check(slo, rate, reps, ttft, tpot, None)


def _check(
    slo: SloSpec, rate: float, reps: int, ttft_ms: float, tpot_ms: float, basis: str | None
) -> LatencyCheck:
    """A latency check of ``ttft_ms`` and ``tpot_ms`` against ``slo`` with their intervals
    (``basis`` names where the latencies come from; None: the intervals' own basis)."""
    t_lo, t_hi, interval_basis = interval("ttft_ms", ttft_ms)
    p_lo, p_hi, _ = interval("tpot_ms", tpot_ms)
    return LatencyCheck(
        requests_per_s_per_replica=rate,
        replicas_at_peak=reps,
        p_ttft_ms=ttft_ms,
        p_tpot_ms=tpot_ms,
        p_ttft_interval_ms=(t_lo, t_hi),
        p_tpot_interval_ms=(p_lo, p_hi),
        percentile=slo.percentile,
        meets_slo=ttft_ms <= slo.ttft_ms and tpot_ms <= slo.tpot_ms,
        interval_basis=basis or interval_basis,
    )


def _closed_form_check(design: Design, slo: SloSpec, rate: float, reps: int) -> LatencyCheck:
    """The closed-form TTFT and TPOT of a design at the SLO with the margins the closed
    form plans with (``TTFT_TAIL``, ``TPOT_TAIL``), as the check of a design the
    simulator cannot run."""
    c = design.capacity
    return _check(
        slo,
        rate,
        reps,
        c.ttft_s * TTFT_TAIL * 1e3,
        c.tpot_s * TPOT_TAIL * 1e3,
        "closed-form steady state of the disaggregated pools "
        "(inferplan.perf.disagg) with the planning margins; not simulated",
    )


def latency_curve(
    scenario: ScenarioSpec, design: Design, percentile: float | None = None
) -> list[dict[str, float]]:
    """Closed-loop concurrency sweep (1, 2, 4, ...): steady-state throughput and latency
    percentiles of one replica, run as ``perf --concurrency`` runs a closed loop
    (:mod:`inferplan.perf.closed_loop`): the same requests per client and warm-up waves,
    the last wave dropped, and TTFT with the mean wait for the step in progress when a
    request reaches the busy engine (the residual step time). With every request of the
    same lengths, a point's TTFT is the one ``perf --concurrency`` reports. A disaggregated
    design has no curve (the simulator runs one pool)."""
    pct = percentile or (scenario.slo.percentile if scenario.slo else 95.0)
    if _disaggregated(design):
        return []
    step, base_limits = runtime(design.deployment, design.memory, design.technique)
    out = []
    c = 1
    top = max(1, min(base_limits.max_num_seqs, design.capacity.batch * 2))
    while c <= top:
        n, warmup = closed_loop_requests(c)
        isl, osl = request_lengths(scenario.workload, n, seed=c)
        limits, cached = _prefix(scenario, design, isl)
        run = simulate(step, limits, isl, osl, concurrency=c, cached_tokens=cached)
        wait = mid_step_wait_s(run, c, warmup)
        m = summarize(run, warmup_requests=warmup, cooldown_requests=c)
        ttft = with_ttft_wait(m.ttft_s, wait)
        out.append(
            {
                "concurrency": float(c),
                "output_tokens_per_s": m.output_tokens_per_s,
                "ttft_ms": (ttft.percentile(pct) or 0.0) * 1e3,
                "tpot_ms": (m.tpot_s.percentile(pct) or 0.0) * 1e3,
            }
        )
        c *= 2
    return out


CAPACITY_REQUESTS = 400
MAX_CAPACITY_REQUESTS = 4000
STEADY_LIFETIMES = 10
CAPACITY_REL_TOL = 0.06
BRACKET_FIRST_STEP = 1.25
MAX_BRACKET_STEPS = 5


def _bracket(
    evaluate: Callable[[float], ServingMetrics],
    ok: Callable[[ServingMetrics], bool],
    guess: float,
) -> tuple[float, ServingMetrics, float] | None:
    """(passing rate, its metrics, failing rate) around the SLO boundary, or None.

    Steps of 1.25x from the guess, each step twice the last (1.25, 1.56, 2.4, ...),
    at most ``MAX_BRACKET_STEPS`` times: far beyond any gap seen between the
    closed form and the simulator, so nothing caps what the simulator finds.
    """
    m = evaluate(guess)
    factor = BRACKET_FIRST_STEP
    if ok(m):
        lo, lo_m = guess, m
        for _ in range(MAX_BRACKET_STEPS):
            trial = lo * factor
            mt = evaluate(trial)
            if not ok(mt):
                return lo, lo_m, trial
            lo, lo_m = trial, mt
            factor *= factor
        return lo, lo_m, lo
    hi = guess
    for _ in range(MAX_BRACKET_STEPS):
        trial = hi / factor
        mt = evaluate(trial)
        if ok(mt):
            return trial, mt, hi
        hi = trial
        factor *= factor
    return None


def capacity_requests(design: Design, scenario: ScenarioSpec, rate_rps: float) -> int:
    """Requests a capacity run needs: at least ``STEADY_LIFETIMES`` request lifetimes
    (closed-form TTFT + mean output x TPOT) of arrivals at ``rate_rps``, so that a
    replica serving dozens of requests a second reaches its steady queue; between
    ``CAPACITY_REQUESTS`` and ``MAX_CAPACITY_REQUESTS``."""
    c = design.capacity
    lifetime_s = c.ttft_s + scenario.workload.output_tokens_mean * c.tpot_s
    n = math.ceil(rate_rps * STEADY_LIFETIMES * lifetime_s)
    return max(CAPACITY_REQUESTS, min(MAX_CAPACITY_REQUESTS, n))


def capacity_evaluator(
    scenario: ScenarioSpec, design: Design, rate_rps: float
) -> Callable[[float], ServingMetrics]:
    """rate -> metrics of one replica under Poisson arrivals (common random numbers:
    the same lengths and unit-rate arrival gaps at every rate), the first and last
    tenth of the requests excluded as warm-up and drain; the scenario's shared-prefix
    share of each prompt is found in the prefix cache."""
    step, _ = runtime(design.deployment, design.memory, design.technique)
    n = capacity_requests(design, scenario, rate_rps)
    isl, osl = request_lengths(scenario.workload, n, seed=2)
    limits, cached = _prefix(scenario, design, isl)
    unit = PoissonArrivals(rate_rps=1.0).arrival_times_s(np.random.default_rng(3), n)

    def evaluate(rate: float) -> ServingMetrics:
        run = simulate(step, limits, isl, osl, arrivals_s=unit / rate, cached_tokens=cached)
        return summarize(run, warmup_requests=n // 10, cooldown_requests=n // 10)

    return evaluate


def simulated_capacity(
    scenario: ScenarioSpec, design: Design, slo: SloSpec, guess_factor: float = 1.0
) -> Capacity | None:
    """Highest Poisson rate one replica serves within the SLO percentile, by
    simulation with the workload's length distributions.

    The closed-form capacity x ``guess_factor`` (the planner passes the median
    simulated / closed-form ratio seen so far) is only the first guess: the rate
    grows while the SLO holds (or shrinks until it does, see :func:`_bracket`), then
    bisection to ``CAPACITY_REL_TOL``. None when even the smallest rate tried misses.
    A disaggregated design keeps its closed-form capacity (the simulator runs one pool).
    """
    if _disaggregated(design):
        return design.capacity
    guess = design.capacity.requests_per_s * guess_factor
    evaluate = capacity_evaluator(scenario, design, guess)
    pct = min((50.0, 90.0, 95.0, 99.0), key=lambda p: abs(p - slo.percentile))
    ok = slo_check(slo.ttft_ms / 1e3, slo.tpot_ms / 1e3, pct)
    found = _bracket(evaluate, ok, guess)
    if found is None:
        return None
    lo, lo_m, hi = found
    while hi - lo > CAPACITY_REL_TOL * lo:
        mid = 0.5 * (lo + hi)
        mm = evaluate(mid)
        if ok(mm):
            lo, lo_m = mid, mm
        else:
            hi = mid
    osl_mean = scenario.workload.output_tokens_mean
    return Capacity(
        batch=design.capacity.batch,
        requests_per_s=lo,
        output_tokens_per_s=lo * osl_mean,
        tpot_s=lo_m.tpot_s.percentile(pct) or 0.0,
        ttft_s=lo_m.ttft_s.percentile(pct) or 0.0,
        limited_by="latency (simulated)",
    )
