"""Tests of the continuous-batching simulator against hand calculations and queueing theory."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pytest

from inferplan.errors import SpecError
from inferplan.perf.batch import BatchShape, SchedulerLimits, StepTimeModel
from inferplan.perf.metrics import find_max_rate, slo_check, summarize
from inferplan.perf.simulate import (
    SimulationResult,
    poisson_rate_evaluator,
    simulate,
    simulate_static_batch,
)
from inferplan.perf.workload import LognormalLength, PoissonArrivals, WorkloadSpec, draw_requests
from inferplan.specs.engine import Admission

C = 0.01  # seconds per step of the constant model


class Const:
    """Every step takes C seconds, whatever it holds."""

    def step_time_s(self, shape: BatchShape) -> float:
        return C


class Linear:
    """a + b per decode sequence + p per prefill token."""

    def __init__(self, a: float = 7e-3, b: float = 2e-5, p: float = 6e-5) -> None:
        self.a, self.b, self.p = a, b, p

    def step_time_s(self, shape: BatchShape) -> float:
        return self.a + self.b * shape.decode_seqs + self.p * shape.prefill_tokens


class Recorder:
    """Constant step time; keeps every shape it was asked about."""

    def __init__(self) -> None:
        self.shapes: list[BatchShape] = []

    def step_time_s(self, shape: BatchShape) -> float:
        self.shapes.append(shape)
        return C


def limits(**kw: object) -> SchedulerLimits:
    base: dict[str, object] = dict(
        max_num_seqs=64, max_num_batched_tokens=2048, kv_capacity_tokens=1_000_000
    )
    base.update(kw)
    return SchedulerLimits(**base)  # type: ignore[arg-type]


def ints(*xs: int) -> np.ndarray:
    return np.array(xs, dtype=np.int64)


def check_complete(r: SimulationResult, osl: np.ndarray) -> None:
    """Every accepted request emitted all its tokens, in order, with one ITL gap per
    token after the first: sum of gap counts = sum(osl - 1)."""
    ok = ~r.rejected
    assert np.all(np.isfinite(r.finish_s[ok]))
    assert np.all(r.first_token_s[ok] >= r.arrival_s[ok])
    assert np.all(r.finish_s[ok] >= r.first_token_s[ok])
    assert np.array_equal(r.output_tokens[ok], osl[ok])
    _, counts = r.itl_gaps()
    assert counts.sum() == (osl[ok] - 1).sum()


# ---------------------------------------------------------------- static batch


def test_static_batch_constant_steps() -> None:
    # 4 prompts prefilled in one step (C), then osl - 1 = 9 decode steps:
    # TTFT = 0.01 s, E2E = 0.01 + 9 * 0.01 = 0.10 s for every request.
    r = simulate_static_batch(Const(), batch=4, isl=100, osl=10)
    assert np.allclose(r.first_token_s, 0.01)
    assert np.allclose(r.finish_s, 0.10)
    assert r.num_steps == 10


def test_static_batch_linear_steps() -> None:
    # prefill step: 7 ms + 0.06 ms * (4 * 100 tokens) = 7 + 24 = 31 ms
    # decode step: 7 ms + 0.02 ms * 4 seqs = 7.08 ms; E2E = 31 + 9 * 7.08 = 94.72 ms
    r = simulate_static_batch(Linear(), batch=4, isl=100, osl=10)
    assert r.first_token_s[0] == pytest.approx(0.031)
    assert r.finish_s[0] == pytest.approx(0.09472)


def test_static_batch_chunked_prefill_and_ragged_outputs() -> None:
    # 3 prompts of 1000 tokens in 2048-token steps: step 1 = 1000 + 1000 + 48,
    # step 2 = 952 -> first tokens at C, C, 2C. Decode starts after all prefill:
    # osl (2, 3, 5) finish at 2C + (1, 2, 4) C = 3C, 4C, 6C.
    lim = limits(max_num_batched_tokens=2048)
    r = simulate_static_batch(Const(), 3, 1000, ints(2, 3, 5), limits=lim)
    assert np.allclose(r.first_token_s, [C, C, 2 * C])
    assert np.allclose(r.finish_s, [3 * C, 4 * C, 6 * C])
    assert r.step_prefill_tokens[:2].tolist() == [2048, 952]
    # decode steps carry 3, 2, 1, 1 sequences
    assert r.step_decode_seqs[2:].tolist() == [3, 2, 1, 1]
    check_complete(r, ints(2, 3, 5))


# ---------------------------------------------------------------- step contents


def test_chunked_prefill_of_a_long_prompt() -> None:
    # 10,000-token prompt, 2048-token budget: ceil(10000 / 2048) = 5 steps to the
    # first token; chunks 4 x 2048 + 1808.
    rec = Recorder()
    r = simulate(rec, limits(), ints(10_000), ints(3))
    assert r.first_token_s[0] == pytest.approx(5 * C)
    assert r.step_prefill_tokens[:5].tolist() == [2048] * 4 + [1808]
    # first chunk pairs: 2048 * (0 + 2049 / 2) = 2,098,176; all chunks together
    # are the full causal triangle 10000 * 10001 / 2 = 50,005,000.
    assert rec.shapes[0].prefill_attention_pairs == pytest.approx(2_098_176)
    total = sum(s.prefill_attention_pairs for s in rec.shapes)
    assert total == pytest.approx(50_005_000)


def test_decode_contexts_grow_by_one_token_per_step() -> None:
    # isl 100, osl 4: the prefill emits token 1; decode steps attend to 101, 102, 103.
    rec = Recorder()
    simulate(rec, limits(), ints(100), ints(4))
    assert [s.decode_context_tokens for s in rec.shapes] == [0, 101, 102, 103]
    assert [s.decode_seqs for s in rec.shapes] == [0, 1, 1, 1]


@pytest.mark.parametrize("chunked", [True, False])
def test_prefill_of_a_late_arrival(chunked: bool) -> None:
    # A (osl 4) arrives at 0, B (osl 4) at 0.015; C = 0.01 per step.
    # step 1 [0, .01]: prefill A -> A token 1. step 2 [.01, .02]: decode A (token 2).
    # chunked: step 3 [.02, .03] decodes A (token 3) and prefills B (token 1);
    #   step 4: A token 4 (done at .04), B token 2; steps 5, 6: B tokens 3, 4 (.06).
    #   gaps all 0.01: A 3 gaps, B 3 gaps.
    # not chunked: step 3 is prefill-only (B token 1 at .03; A stalls);
    #   step 4 [.03, .04]: A token 3, B token 2; step 5: A token 4 (done .05), B 3;
    #   step 6: B token 4 (.06). A's gaps: .01, .02, .01; B's: .01, .01, .01.
    lim = limits(chunked_prefill=chunked)
    r = simulate(Const(), lim, ints(10, 10), ints(4, 4), np.array([0.0, 0.015]))
    assert r.first_token_s.tolist() == pytest.approx([0.01, 0.03])
    assert r.finish_s.tolist() == pytest.approx([0.04 if chunked else 0.05, 0.06])
    values, counts = r.itl_gaps()
    gaps = np.repeat(values, counts)
    expected = [0.01] * 6 if chunked else [0.01] * 5 + [0.02]
    assert sorted(gaps.tolist()) == pytest.approx(expected)


def test_idle_engine_jumps_to_next_arrival() -> None:
    # arrivals 0 and 100 s, osl 1: each request is one prefill step of C seconds.
    r = simulate(Const(), limits(), ints(5, 5), ints(1, 1), np.array([0.0, 100.0]))
    assert r.finish_s.tolist() == pytest.approx([C, 100.0 + C])
    assert r.num_steps == 2
    assert r.step_duration_s.tolist() == pytest.approx([C, C])


# ---------------------------------------------------------------- queueing theory


@pytest.mark.parametrize(("rho", "n"), [(0.5, 50_000), (0.8, 200_000)])
def test_md1_waiting_time_matches_pollaczek_khinchine(rho: float, n: int) -> None:
    # One sequence at a time, fixed lengths: deterministic service
    # D = a + (osl - 1) b = 4 ms + 1 * 2 ms = 6 ms. Poisson arrivals at rho / D.
    # Pollaczek-Khinchine for M/D/1 (Kleinrock, Queueing Systems vol. 1, eq. 5.105
    # with C_b^2 = 0): Wq = rho D / (2 (1 - rho)) -> 3 ms at rho 0.5, 12 ms at 0.8.
    a, b, osl = 0.004, 0.002, 2

    class TwoPhase:
        def step_time_s(self, shape: BatchShape) -> float:
            return a if shape.prefill_tokens else b

    d = a + (osl - 1) * b
    arrivals = PoissonArrivals(rate_rps=rho / d).arrival_times_s(np.random.default_rng(0), n)
    r = simulate(TwoPhase(), limits(max_num_seqs=1), np.full(n, 100), np.full(n, osl), arrivals)
    wait = (r.first_token_s - r.arrival_s - a).mean()
    assert wait == pytest.approx(rho * d / (2 * (1 - rho)), rel=0.05)


def test_closed_loop_littles_law() -> None:
    # 16 clients, zero think time, 8 running slots: 16 requests are always in the
    # system until the last ones drain, so L = X * W (Little) gives
    # 16 = throughput (req/s) * mean E2E within 1% over 4000 requests.
    spec = WorkloadSpec(
        isl=LognormalLength(mean=300, std=100), osl=LognormalLength(mean=50, std=30)
    )
    isl, osl = draw_requests(spec, 4000)
    r = simulate(Linear(), limits(max_num_seqs=8), isl, osl, concurrency=16)
    check_complete(r, osl)
    throughput = 4000 / r.makespan_s
    e2e = (r.finish_s - r.arrival_s).mean()
    assert throughput * e2e == pytest.approx(16, rel=0.01)


def test_all_at_once_throughput_limit() -> None:
    # Constant step C, 32 slots, 320 requests of isl 10 / osl 20 all at t=0. Each
    # wave: 1 prefill step (32 * 10 = 320 tokens fit 2048) + 19 decode steps = 20
    # steps, 32 * 20 tokens; 10 waves: makespan 200 C = 2 s; throughput
    # 320 * 20 / 2 = 3200 tok/s = max_num_seqs / C = 32 / 0.01.
    r = simulate(Const(), limits(max_num_seqs=32), np.full(320, 10), np.full(320, 20))
    m = summarize(r)
    assert r.makespan_s == pytest.approx(2.0)
    assert m.output_tokens_per_s == pytest.approx(32 / C)
    assert r.peak_running == 32


# ---------------------------------------------------------------- KV capacity


def _kv_workload() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.integers(50, 400, 200), rng.integers(20, 300, 200)


def test_on_demand_preempts_and_still_finishes() -> None:
    # 4096 KV tokens for up to 64 sequences of ~225 + ~160 tokens: KV overflows.
    isl, osl = _kv_workload()
    lim = limits(kv_capacity_tokens=4096)
    r = simulate(Linear(), lim, isl, osl)
    assert r.preemptions.sum() > 0
    assert r.num_rejected == 0
    check_complete(r, osl)
    assert r.peak_kv_tokens <= 4096


@pytest.mark.parametrize("chunked", [True, False])
def test_reserve_full_never_preempts(chunked: bool) -> None:
    isl, osl = _kv_workload()
    lim = limits(kv_capacity_tokens=4096, admission=Admission.RESERVE_FULL, chunked_prefill=chunked)
    r = simulate(Linear(), lim, isl, osl)
    assert r.preemptions.sum() == 0
    check_complete(r, osl)
    assert 0 < r.peak_kv_tokens <= 4096
    # reserving isl + osl each (<= 400 + 300 = 700 tokens) caps the batch well below 64
    assert r.peak_running < 64


def test_preempted_request_recomputes_prompt_and_output() -> None:
    # KV: 128 tokens = 8 blocks of 16. A and B: isl 48 (3 blocks each), osl 40, C per step.
    # step 0 prefills both (6 blocks). Decode step k has KV 48 + k - 1 before it, so
    # k = 1 takes a 4th block each (8 used). At k = 17 (KV 64) both need a 5th:
    # none free, so B (youngest) is preempted after emitting 1 + 16 = 17 tokens
    # (last at 17 C). A alone runs to token 40 at step 39 (0.40 s); B must wait for
    # ceil((48 + 17) / 16) = 5 free blocks (A holds 5, then 6), i.e. until A ends.
    # Step 40 re-prefills 48 + 17 = 65 tokens -> B token 18 at 0.41 s (gap 0.24 s),
    # then 22 decode steps: B finishes at 0.63 s.
    lim = limits(kv_capacity_tokens=128, kv_block_tokens=16)
    rec = Recorder()
    r = simulate(rec, lim, ints(48, 48), ints(40, 40))
    assert r.preemptions.tolist() == [0, 1]
    assert r.finish_s.tolist() == pytest.approx([0.40, 0.63])
    assert [s.prefill_tokens for s in rec.shapes if s.prefill_tokens] == [96, 65]
    assert rec.shapes[16].decode_seqs == 2 and rec.shapes[17].decode_seqs == 1
    values, counts = r.itl_gaps()
    assert values[counts == 1].max() == pytest.approx(0.24)
    assert r.peak_kv_tokens == 128
    check_complete(r, ints(40, 40))


def test_impossible_requests_are_rejected_not_hung() -> None:
    # capacity 1024 tokens: a 2000-token prompt can never fit; under on_demand a
    # 1000 + 100 request would need 1099 tokens of KV at its last token.
    lim = limits(kv_capacity_tokens=1024)
    r = simulate(Const(), lim, ints(2000, 1000, 100), ints(10, 100, 10))
    assert r.rejected.tolist() == [True, True, False]
    assert math.isnan(r.finish_s[0]) and r.output_tokens.tolist() == [0, 0, 10]
    # without chunked prefill a prompt above max_num_batched_tokens is rejected
    r2 = simulate(Const(), limits(chunked_prefill=False), ints(3000, 10), ints(2, 2))
    assert r2.rejected.tolist() == [True, False]


# ---------------------------------------------------------------- reproducibility, inputs


def test_same_seed_same_result_different_seed_different() -> None:
    spec = WorkloadSpec(
        isl=LognormalLength(mean=500, std=300), osl=LognormalLength(mean=80, std=40)
    )

    def run(seed: int) -> SimulationResult:
        rng = np.random.default_rng(seed)
        isl, osl = draw_requests(spec, 300, rng)
        arrivals = PoissonArrivals(rate_rps=20).arrival_times_s(rng, 300)
        return simulate(Linear(), limits(), isl, osl, arrivals)

    a, b, c = run(7), run(7), run(8)
    assert np.array_equal(a.finish_s, b.finish_s) and np.array_equal(a.step_end_s, b.step_end_s)
    assert not np.array_equal(a.finish_s, c.finish_s)


def test_bad_inputs_raise_spec_errors() -> None:
    with pytest.raises(SpecError):
        simulate(Const(), limits(), ints(10), ints(0))
    with pytest.raises(SpecError):
        simulate(Const(), limits(), ints(10, 10), ints(5))
    with pytest.raises(SpecError):
        simulate(Const(), limits(), ints(10), ints(5), np.array([0.0]), concurrency=1)

    class Negative:
        def step_time_s(self, shape: BatchShape) -> float:
            return -1.0

    with pytest.raises(SpecError):
        simulate(Negative(), limits(), ints(10), ints(5))


# ---------------------------------------------------------------- max rate search


def test_find_max_rate_bisects_to_two_percent() -> None:
    # max_num_seqs 1, service D = 4 ms prefill + 1 * 2 ms decode = 6 ms: the queue
    # is stable only below 1 / D = 166.7 rps, so the largest rate meeting a p95
    # TTFT of 50 ms lies below that, and above rho = 0.5 (83 rps), where M/D/1
    # waits are ~ D/2 = 3 ms.
    class TwoPhase:
        def step_time_s(self, shape: BatchShape) -> float:
            return 0.004 if shape.prefill_tokens else 0.002

    n = 3000
    evaluate = poisson_rate_evaluator(
        TwoPhase(), limits(max_num_seqs=1), np.full(n, 100), np.full(n, 2), seed=1
    )
    found = find_max_rate(evaluate, slo_check(slo_ttft_s=0.05), lo_rps=10, hi_rps=1000)
    assert found.max_rate_rps is not None and not found.limited_by_hi
    assert 1 / 0.012 < found.max_rate_rps < 1 / 0.006
    assert found.metrics is not None and found.metrics.ttft_s.p95 is not None
    assert found.metrics.ttft_s.p95 <= 0.05
    # within 2%: the rate 2% above the answer fails the SLO
    assert evaluate(found.max_rate_rps * 1.02).ttft_s.p95 > 0.05  # type: ignore[operator]


# ---------------------------------------------------------------- differential check
# A deliberately naive simulator: it tracks every sequence and every token time
# explicitly (O(batch) per step) under the scheduling rules stated in
# inferplan.perf.simulate. The fast simulator must agree with it exactly.


@dataclass
class Seq:
    rid: int
    isl: int
    osl: int
    arrival: float
    times: list[float] = field(default_factory=list)  # every token's emission time
    kv: int = 0  # tokens held in KV
    blocks: int = 0
    target: int = 0  # prompt tokens to prefill this incarnation
    prefilled: int = 0
    state: str = "waiting"
    preemptions: int = 0


@dataclass
class Reference:
    seqs: list[Seq]
    rejected: list[bool]
    shapes: list[BatchShape]
    peak_kv_blocks: int


def reference_simulate(  # the straightforward per-sequence version
    model: StepTimeModel,
    lim: SchedulerLimits,
    isl: np.ndarray,
    osl: np.ndarray,
    arrivals: np.ndarray | None = None,
    concurrency: int | None = None,
) -> Reference:
    n = len(isl)
    bt = lim.kv_block_tokens
    cap = lim.kv_capacity_tokens // bt
    reserve = lim.admission == Admission.RESERVE_FULL
    chunked = lim.chunked_prefill
    seq_cap = min(lim.max_num_seqs, lim.max_num_batched_tokens)
    arr = np.zeros(n) if arrivals is None else arrivals
    seqs = [Seq(k, int(isl[k]), int(osl[k]), float(arr[k])) for k in range(n)]
    rejected = []
    for s in seqs:
        peak = s.isl + s.osl - (0 if reserve else 1)
        too_long = not chunked and s.isl > lim.max_num_batched_tokens
        bad = math.ceil(peak / bt) > cap or too_long
        rejected.append(bad)
    if concurrency is None:
        pending = sorted(range(n), key=lambda k: (seqs[k].arrival, k))
    else:
        pending = list(range(min(concurrency, n)))
        for k in pending:
            seqs[k].arrival = 0.0
    next_req = len(pending)
    waiting: deque[Seq] = deque()
    running: list[Seq] = []  # admission order
    shapes: list[BatchShape] = []
    t, used, peak_used = 0.0, 0, 0

    def release(s: Seq, now: float) -> None:
        nonlocal used, next_req
        used -= s.blocks
        s.blocks = 0
        if concurrency is not None and next_req < n:
            seqs[next_req].arrival = now
            pending.append(next_req)
            pending.sort(key=lambda k: (seqs[k].arrival, k))
            next_req += 1

    def grow_or_preempt() -> bool:
        nonlocal used
        hit = False
        while True:
            dec = [s for s in running if s.state == "decode"]
            need = 0 if reserve else sum(1 for s in dec if s.kv % bt == 0)
            if cap - used >= need:
                break
            victim = running.pop()
            used -= victim.blocks
            victim.blocks, victim.state, victim.prefilled = 0, "waiting", 0
            victim.target = victim.isl + len(victim.times)
            victim.preemptions += 1
            waiting.appendleft(victim)
            hit = True
        if not reserve:
            for s in dec:
                if s.kv % bt == 0:
                    s.blocks += 1
                    used += 1
        return hit

    while True:
        while pending and seqs[pending[0]].arrival <= t:
            s = seqs[pending.pop(0)]
            if rejected[s.rid]:
                release(s, s.arrival)
            else:
                s.target = s.isl
                waiting.append(s)
        if not running and not waiting:
            if not pending:
                break
            t = max(t, seqs[pending[0]].arrival)
            continue
        preempted = False
        budget = lim.max_num_batched_tokens
        chunks: list[tuple[Seq, int]] = []
        if chunked:
            if any(s.state == "decode" for s in running):
                preempted = grow_or_preempt()
            budget -= sum(1 for s in running if s.state == "decode")
            for s in running:
                if s.state == "prefill" and budget > 0:
                    c = min(s.target - s.prefilled, budget)
                    chunks.append((s, c))
                    budget -= c
        while not preempted and waiting and budget > 0 and len(running) < seq_cap:
            s = waiting[0]
            alone = not chunks and s.target > lim.max_num_batched_tokens  # long recompute
            if not chunked and s.target > budget and not alone:
                break
            need = math.ceil((s.isl + s.osl if reserve else s.target) / bt)
            if cap - used < need:
                break
            waiting.popleft()
            used += need
            s.blocks, s.state, s.prefilled = need, "prefill", 0
            running.append(s)
            c = min(s.target, budget) if chunked else s.target
            chunks.append((s, c))
            budget -= c
        if not chunked and not chunks and running:
            preempted = grow_or_preempt() or preempted
        decoding = [s for s in running if s.state == "decode"] if (chunked or not chunks) else []
        if not decoding and not chunks:
            assert preempted
            continue
        peak_used = max(peak_used, used)
        shape = BatchShape(
            prefill_tokens=sum(c for _, c in chunks),
            prefill_attention_pairs=sum(c * (s.prefilled + (c + 1) / 2) for s, c in chunks),
            prefill_seqs=len(chunks),
            decode_seqs=len(decoding),
            decode_context_tokens=sum(s.kv + 1 for s in decoding),
        )
        shapes.append(shape)
        t += model.step_time_s(shape)
        for s in decoding:
            s.times.append(t)
            s.kv += 1
        for s, c in chunks:
            s.prefilled += c
            if s.prefilled == s.target:
                s.times.append(t)
                s.kv = s.target
                s.state = "decode"
        for s in [s for s in running if len(s.times) == s.osl]:
            s.state = "done"
            running.remove(s)
            release(s, t)
        peak_used = max(peak_used, used)
    return Reference(seqs, rejected, shapes, peak_used)


Case = tuple[int, bool, Admission, int, int, int, int, bool]
CASES: list[Case] = [  # (seed, chunked, admission, kv tokens, block, max seqs, budget, closed)
    (1, True, Admission.ON_DEMAND, 100_000, 16, 16, 512, False),
    (2, True, Admission.ON_DEMAND, 3_000, 16, 32, 512, False),
    (3, True, Admission.ON_DEMAND, 2_000, 8, 64, 256, True),
    (4, False, Admission.ON_DEMAND, 3_000, 16, 32, 1024, False),
    (5, False, Admission.ON_DEMAND, 1_500, 4, 16, 600, True),
    (6, True, Admission.RESERVE_FULL, 3_000, 16, 32, 512, False),
    (7, False, Admission.RESERVE_FULL, 2_500, 32, 8, 800, False),
    (8, True, Admission.ON_DEMAND, 900, 1, 128, 200, False),
    (9, True, Admission.ON_DEMAND, 480, 16, 16, 256, True),  # some never fit: rejected
    (10, False, Admission.ON_DEMAND, 4_000, 16, 16, 300, False),  # isl > 300 rejected
]


@pytest.mark.parametrize("api", ["shape", "fields", "runs"])
@pytest.mark.parametrize("case", CASES)
def test_fast_simulator_agrees_with_naive_reference(case: Case, api: str) -> None:
    # fields: the model also takes a step's fields as arguments (step_time_of, as StepModel
    # does), which the simulator then calls instead of building a BatchShape; runs: it also
    # times a run of decode-only steps as one array (decode_step_times_s), which the
    # simulator uses for runs of DECODE_RUN_MIN_STEPS or more
    seed, chunked, admission, kv, block, seqs, budget, closed = case
    rng = np.random.default_rng(seed)
    n = 120
    isl = rng.integers(1, 500, n)
    osl = rng.integers(1, 120, n)
    arrivals = None if closed else np.sort(rng.uniform(0.0, 2.0, n))
    lim = SchedulerLimits(
        max_num_seqs=seqs,
        max_num_batched_tokens=budget,
        kv_capacity_tokens=kv,
        kv_block_tokens=block,
        chunked_prefill=chunked,
        admission=admission,
    )
    linear = Linear(a=5e-3, b=1e-4, p=2e-5)

    class Recording:
        def __init__(self) -> None:
            self.shapes: list[BatchShape] = []

        def step_time_s(self, shape: BatchShape) -> float:
            self.shapes.append(shape)
            return linear.step_time_s(shape)

    class RecordingFields(Recording):
        def step_time_of(self, pf: int, pairs: float, pf_seqs: int, dec: int, ctx: int) -> float:
            return self.step_time_s(BatchShape(pf, pairs, pf_seqs, dec, ctx))

    class Runs(RecordingFields):
        def decode_step_times_s(self, dec: int, ctx: int, steps: int) -> np.ndarray:
            self.runs += 1
            return np.array([linear.step_time_s(BatchShape(decode_seqs=dec))] * steps)

        runs = 0

    model = {"shape": Recording, "fields": RecordingFields, "runs": Runs}[api]()
    concurrency = 10 if closed else None
    fast = simulate(model, lim, isl, osl, arrivals, concurrency=concurrency)
    ref = reference_simulate(linear, lim, isl, osl, arrivals, concurrency=concurrency)
    assert fast.step_decode_seqs.tolist() == [s.decode_seqs for s in ref.shapes]
    assert fast.step_prefill_tokens.tolist() == [s.prefill_tokens for s in ref.shapes]
    if isinstance(model, Runs):  # runs timed as one array have no shape to record
        model.shapes = ref.shapes
    assert len(model.shapes) == len(ref.shapes)
    for got, want in zip(model.shapes, ref.shapes, strict=True):
        assert (got.prefill_tokens, got.prefill_seqs) == (want.prefill_tokens, want.prefill_seqs)
        assert (got.decode_seqs, got.decode_context_tokens) == (
            want.decode_seqs,
            want.decode_context_tokens,
        )
        assert got.prefill_attention_pairs == pytest.approx(want.prefill_attention_pairs)
    assert fast.rejected.tolist() == ref.rejected
    ok = [s for s in ref.seqs if not ref.rejected[s.rid]]
    assert len(ok) > n // 2
    ids = [s.rid for s in ok]
    assert fast.arrival_s[ids] == pytest.approx([s.arrival for s in ok])
    assert fast.first_token_s[ids] == pytest.approx([s.times[0] for s in ok])
    assert fast.finish_s[ids] == pytest.approx([s.times[-1] for s in ok])
    assert fast.preemptions.tolist() == [s.preemptions for s in ref.seqs]
    assert fast.num_steps == len(ref.shapes)
    assert fast.peak_kv_tokens == ref.peak_kv_blocks * block
    values, counts = fast.itl_gaps()
    expected = np.sort(np.concatenate([np.diff(s.times) for s in ok]))
    assert np.sort(np.repeat(values, counts)) == pytest.approx(expected)
    check_complete(fast, osl)


def test_closed_loop_think_time() -> None:
    # one client, think 0.5 s, 3 requests of osl 2 (prefill step + 1 decode step = 2C):
    # r0 sent 0, done 0.02; r1 sent 0.52, done 0.54; r2 sent 1.04, done 1.06.
    three, two = ints(10, 10, 10), ints(2, 2, 2)
    r = simulate(Const(), limits(), three, two, concurrency=1, think_time_s=0.5)
    assert r.arrival_s.tolist() == pytest.approx([0.0, 0.52, 1.04])
    assert r.finish_s.tolist() == pytest.approx([0.02, 0.54, 1.06])


@pytest.mark.parametrize(
    ("chunked", "admission", "kv_tokens", "closed", "preempts"),
    [
        (True, Admission.ON_DEMAND, 400_000, False, False),
        (True, Admission.ON_DEMAND, 60_000, False, True),
        (True, Admission.ON_DEMAND, 60_000, True, False),
        (False, Admission.ON_DEMAND, 60_000, False, True),
        (True, Admission.RESERVE_FULL, 200_000, False, False),
    ],
)
def test_step_model_runs_give_the_same_floats_as_one_step_at_a_time(
    chunked: bool, admission: Admission, kv_tokens: int, closed: bool, preempts: bool
) -> None:
    # StepModel takes a step's fields (step_time_of) and times runs of decode-only steps as
    # one array (decode_step_times_s); the same model seen only through step_time_s gives
    # every step one at a time. The two runs must agree to the last bit: same steps, same
    # token times, same preemptions
    from inferplan.deploy.deployment import resolve, step_model_of

    step = step_model_of(resolve("gemma-2-9b", "h100-sxm-80gb"))  # sliding-window layers

    class OneAtATime:
        def step_time_s(self, shape: BatchShape) -> float:
            return step.step_time_s(shape)

    class Counting(OneAtATime):
        runs = 0

        def step_time_of(self, *fields: float) -> float:
            return step.step_time_of(*fields)  # type: ignore[arg-type]

        def decode_step_times_s(self, dec: int, ctx: int, steps: int) -> np.ndarray:
            self.runs += 1
            return step.decode_step_times_s(dec, ctx, steps)

    rng = np.random.default_rng(7)
    n = 300
    isl, osl = rng.integers(50, 3000, n), rng.integers(1, 400, n)
    lim = SchedulerLimits(
        max_num_seqs=64,
        max_num_batched_tokens=4096,
        kv_capacity_tokens=kv_tokens,
        chunked_prefill=chunked,
        admission=admission,
    )
    load: dict[str, object] = (
        {"concurrency": 24} if closed else {"arrivals_s": np.sort(rng.uniform(0.0, 20.0, n))}
    )
    model = Counting()
    fast = simulate(model, lim, isl, osl, **load)  # type: ignore[arg-type]
    slow = simulate(OneAtATime(), lim, isl, osl, **load)  # type: ignore[arg-type]
    assert model.runs > 0
    assert fast.num_steps == slow.num_steps
    fields = (
        "arrival_s first_token_s finish_s preemptions step_end_s step_duration_s "
        "step_decode_seqs step_prefill_tokens step_itl_gap_s step_itl_count extra_gap_s "
        "extra_gap_end_s"
    )
    for name in fields.split():
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    assert (fast.makespan_s, fast.peak_running, fast.peak_kv_tokens) == (
        slow.makespan_s,
        slow.peak_running,
        slow.peak_kv_tokens,
    )
    assert (int(fast.preemptions.sum()) > 0) == preempts
