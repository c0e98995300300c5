"""Discrete-event simulation of an LLM engine's continuous-batching scheduler.

The simulator advances engine *steps*: each step's batch is built under
:class:`~inferplan.perf.batch.SchedulerLimits` and its duration comes from a
:class:`~inferplan.perf.batch.StepTimeModel`. Time is simulated, never slept.

Scheduling follows vLLM ("Optimization and Tuning",
https://docs.vllm.ai/en/stable/configuration/optimization/):

* chunked prefill (vLLM V1): every step runs all decoding sequences (one token
  each), then spends the rest of ``max_num_batched_tokens`` on prompt chunks of
  admitted sequences in admission order, then admits waiting requests (FCFS,
  stopping at the first that does not fit) while ``max_num_seqs`` allows.
  Waiting requests are not admitted in a step that preempted.
* no chunked prefill (vLLM V0): when a waiting prompt fits the token budget, a
  prefill-only step runs whole prompts; otherwise a decode step runs every
  running sequence.
* KV ``on_demand``: admission needs the prompt's blocks; a sequence takes a new
  block each time its KV length crosses a multiple of ``kv_block_tokens``; when
  the blocks of a decode step do not fit, the most recently admitted sequence is
  preempted (recompute: back to the front of the queue, later prefilling prompt
  plus the tokens it already emitted, whose timestamps stand). ``reserve_full``
  reserves prompt + max output blocks at admission and never preempts.

A prefill that completes emits the sequence's next token at the end of its step;
each decode step emits one token per decoding sequence. With j tokens emitted,
a sequence's KV holds isl + j - 1 tokens and its next decode step attends to
isl + j. Running cost per step is O(1) in the batch size: aggregate counters,
a heap of finish events keyed by decode-step index (lazy deletion on
preemption) and per-phase block counters.

Example::

    >>> import numpy as np
    >>> from inferplan.perf.batch import BatchShape, SchedulerLimits
    >>> class Const:
    ...     def step_time_s(self, shape: BatchShape) -> float:
    ...         return 0.01
    >>> lim = SchedulerLimits(max_num_seqs=8, max_num_batched_tokens=512, kv_capacity_tokens=4096)
    >>> r = simulate(Const(), lim, np.array([100, 100]), np.array([5, 5]))
    >>> round(float(r.finish_s[0]), 3)   # 1 prefill step + 4 decode steps
    0.05
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from inferplan.errors import SpecError
from inferplan.perf.batch import BatchShape, SchedulerLimits, StepTimeModel
from inferplan.perf.metrics import ServingMetrics, summarize
from inferplan.perf.workload import PoissonArrivals
from inferplan.specs.engine import Admission

_WAITING, _PREFILL, _DECODE, _DONE = 0, 1, 2, 3

DECODE_RUN_MIN_STEPS = 16
"""Decode-only steps ahead from which they are timed as one array (fewer: one by one,
which is faster for a handful)."""
DECODE_RUN_MAX_STEPS = 4096


@dataclass(frozen=True)
class SimulationResult:
    """Per-request and per-step record of a simulated run (seconds, tokens).

    Rejected requests (that could never fit) have NaN token times and 0 output
    tokens. ``step_itl_gap_s``/``step_itl_count``: the inter-token gap shared by
    the sequences that also decoded in the previous decode step, and their
    number; ``extra_gap_s`` holds the other gaps (a sequence's first decode
    token after its prefill, its first token after a recompute), ending at
    ``extra_gap_end_s``.
    """

    arrival_s: np.ndarray
    first_token_s: np.ndarray
    finish_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    preemptions: np.ndarray
    rejected: np.ndarray
    step_end_s: np.ndarray
    step_duration_s: np.ndarray
    step_decode_seqs: np.ndarray
    step_prefill_tokens: np.ndarray
    step_itl_gap_s: np.ndarray
    step_itl_count: np.ndarray
    extra_gap_s: np.ndarray
    extra_gap_end_s: np.ndarray
    makespan_s: float
    peak_running: int
    peak_kv_tokens: int

    @property
    def num_steps(self) -> int:
        return int(self.step_end_s.size)

    @property
    def num_rejected(self) -> int:
        return int(self.rejected.sum())

    def itl_gaps(
        self, window_s: tuple[float, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pooled inter-token gaps as (value s, count), those ending in ``window_s``."""
        keep = self.step_itl_count > 0
        values = np.concatenate([self.step_itl_gap_s[keep], self.extra_gap_s])
        counts = np.concatenate([self.step_itl_count[keep], np.ones(self.extra_gap_s.size)])
        if window_s is not None:
            ends = np.concatenate([self.step_end_s[keep], self.extra_gap_end_s])
            inside = (ends >= window_s[0]) & (ends <= window_s[1])
            values, counts = values[inside], counts[inside]
        return values, counts.astype(np.int64)


def _tokens(name: str, x: np.ndarray) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1 or (a.size and (not np.issubdtype(a.dtype, np.integer) or a.min() < 1)):
        raise SpecError(name, "must be a 1-D array of integer token counts >= 1")
    return a.astype(np.int64)


def _duration(step_model: StepTimeModel, shape: BatchShape) -> float:
    d = step_model.step_time_s(shape)
    if not (d >= 0.0 and math.isfinite(d)):
        raise SpecError("step_model", f"step time must be finite and >= 0 s, got {d} for {shape}")
    return float(d)


def _blocks(tokens: int, block: int) -> int:
    return -(-tokens // block)


def simulate_static_batch(
    step_model: StepTimeModel,
    batch: int,
    isl: int | np.ndarray,
    osl: int | np.ndarray,
    limits: SchedulerLimits | None = None,
) -> SimulationResult:
    """One static batch: ``batch`` requests arrive at t=0; all prompts are prefilled
    (in one step, or packed in request order into steps of at most
    ``limits.max_num_batched_tokens`` tokens, split across steps when
    ``limits.chunked_prefill``), then decode steps run until the longest output
    is done; a finished sequence leaves the decode batch. A request's E2E is the
    end of the step completing its prefill plus its (osl - 1) decode steps after
    the prefill phase. KV capacity is not checked.
    """
    if batch < 1:
        raise SpecError("batch", "must be >= 1")
    isl_a = _tokens("isl", np.broadcast_to(np.asarray(isl), (batch,)))
    osl_a = _tokens("osl", np.broadcast_to(np.asarray(osl), (batch,)))
    budget = limits.max_num_batched_tokens if limits is not None else int(isl_a.sum())
    chunked = limits is None or limits.chunked_prefill
    first = np.zeros(batch)
    ends: list[float] = []
    decode_seqs: list[int] = []
    prefill_tokens: list[int] = []
    t, i, done = 0.0, 0, 0  # clock, request being prefilled, its tokens already done
    while i < batch:
        room, tokens, pairs, seqs, finished = budget, 0, 0.0, 0, []
        while i < batch and room > 0:
            left = int(isl_a[i]) - done
            if not chunked and seqs and left > room:
                break
            c = min(left, room) if chunked else left
            pairs += c * (done + (c + 1) / 2)
            tokens, seqs, room = tokens + c, seqs + 1, room - c
            done += c
            if done == isl_a[i]:
                finished.append(i)
                i, done = i + 1, 0
        t += _duration(step_model, BatchShape(tokens, pairs, seqs))
        first[finished] = t
        ends.append(t)
        decode_seqs.append(0)
        prefill_tokens.append(tokens)
    n_prefill = len(ends)
    finish = first.copy()
    for k in range(1, int(osl_a.max())):  # decode step k emits token k + 1 of each alive sequence
        alive = osl_a > k
        n_alive = int(alive.sum())
        ctx = int(isl_a[alive].sum()) + k * n_alive
        t += _duration(step_model, BatchShape(decode_seqs=n_alive, decode_context_tokens=ctx))
        ends.append(t)
        decode_seqs.append(n_alive)
        prefill_tokens.append(0)
        finish[osl_a == k + 1] = t
    end_a = np.array(ends)
    dur_a = np.diff(end_a, prepend=0.0)
    dec_a = np.array(decode_seqs, dtype=np.int64)
    # the first decode step is every sequence's first gap (from its own first token)
    itl_count = np.where(np.arange(end_a.size) > n_prefill, dec_a, 0)
    multi = osl_a > 1
    first_decode_end = float(end_a[n_prefill]) if end_a.size > n_prefill else 0.0
    return SimulationResult(
        arrival_s=np.zeros(batch),
        first_token_s=first,
        finish_s=finish,
        input_tokens=isl_a,
        output_tokens=osl_a,
        preemptions=np.zeros(batch, dtype=np.int64),
        rejected=np.zeros(batch, dtype=bool),
        step_end_s=end_a,
        step_duration_s=dur_a,
        step_decode_seqs=dec_a,
        step_prefill_tokens=np.array(prefill_tokens, dtype=np.int64),
        step_itl_gap_s=dur_a,
        step_itl_count=itl_count,
        extra_gap_s=first_decode_end - first[multi],
        extra_gap_end_s=np.full(int(multi.sum()), first_decode_end),
        makespan_s=t,
        peak_running=batch,
        peak_kv_tokens=int((isl_a + osl_a - 1).sum()),
    )


def _check_cached(cached_tokens: np.ndarray | None, isl_a: np.ndarray) -> np.ndarray:
    """Cached prompt tokens per request (zeros when none), checked: 0 <= cached < isl."""
    n = isl_a.size
    if cached_tokens is None:
        return np.zeros(n, dtype=np.int64)
    cached_a = np.asarray(cached_tokens)
    if (
        cached_a.shape != (n,)
        or not np.issubdtype(cached_a.dtype, np.integer)
        or (n and (cached_a.min() < 0 or (cached_a >= isl_a).any()))
    ):
        raise SpecError("cached_tokens", "must hold one integer 0 <= cached < isl per request")
    return cached_a.astype(np.int64)


def _check_load(
    n: int, arrivals_s: np.ndarray | None, concurrency: int | None, think_time_s: float
) -> np.ndarray:
    """Arrival times (zeros for max throughput), checked against the closed-loop options."""
    closed = concurrency is not None
    if closed and arrivals_s is not None:
        raise SpecError("concurrency", "give arrivals_s (open loop) or concurrency, not both")
    if closed and (concurrency is None or concurrency < 1):
        raise SpecError("concurrency", "must be >= 1")
    if not think_time_s >= 0.0:
        raise SpecError("think_time_s", "must be >= 0")
    arrival = np.zeros(n) if arrivals_s is None else np.asarray(arrivals_s, dtype=float).copy()
    if arrival.shape != (n,) or not np.all(np.isfinite(arrival)) or (n and arrival.min() < 0):
        raise SpecError("arrivals_s", "must hold one finite time >= 0 s per request")
    return arrival


def _itl_steps(
    step_end: list[float], step_dec: list[int], dec_end: list[float], dec_step: list[int],
    joined_at: list[int], g: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per step: the gap shared by the sequences that decoded in the previous decode step
    too, and their number (those joining at a step have their own gap in extra_gap)."""
    end_a = np.array(step_end)
    dec_a = np.array(step_dec, dtype=np.int64)
    gap_a = np.zeros(end_a.size)
    count_a = np.zeros(end_a.size, dtype=np.int64)
    if g:
        steps = np.array(dec_step[1:])
        joined = np.bincount(np.array(joined_at, dtype=np.int64), minlength=g + 1)[1:]
        count_a[steps] = dec_a[steps] - joined
        gap_a[steps] = np.diff(np.array(dec_end))
    return gap_a, count_a


def simulate(
    step_model: StepTimeModel,
    limits: SchedulerLimits,
    isl: np.ndarray,
    osl: np.ndarray,
    arrivals_s: np.ndarray | None = None,
    concurrency: int | None = None,
    think_time_s: float = 0.0,
    cached_tokens: np.ndarray | None = None,
) -> SimulationResult:
    """Simulate continuous batching of ``len(isl)`` requests until all are done.

    Open loop: request k arrives at ``arrivals_s[k]`` (all at t=0 when both
    ``arrivals_s`` and ``concurrency`` are None: the max-throughput regime).
    Closed loop: ``concurrency`` clients each send their next request (in index
    order) ``think_time_s`` after their previous one finishes.
    A request is rejected, not simulated, when it can never fit: on_demand needs
    blocks for isl + osl - 1 tokens (its KV when emitting its last token),
    reserve_full for isl + osl; without chunked prefill, isl must also fit
    ``max_num_batched_tokens``. At most min(max_num_seqs, max_num_batched_tokens)
    sequences run at once.

    Prefix caching: ``cached_tokens[k]`` leading prompt tokens of request k are found in
    the engine's prefix cache (a shared system prompt, a previous turn): its prefill
    computes only the rest, attending to the cached part, and its private KV blocks hold
    only the rest (the shared blocks are the cache's: pass ``limits.kv_capacity_tokens``
    without them). A recomputed request finds its prefix cached again.

    Each loop turn is four named steps: ``admit_arrivals`` (queue what has arrived),
    ``schedule_step`` (decode blocks, prefill chunks, admissions: the batch shape),
    the step's duration from ``step_model`` and its record, and ``complete_step``
    (tokens emitted, sequences finished, prefills turned into decodes).
    """
    isl_a, osl_a = _tokens("isl", isl), _tokens("osl", osl)
    n = isl_a.size
    cached_a = _check_cached(cached_tokens, isl_a)
    if osl_a.size != n:
        raise SpecError("osl", "must have one entry per request (same length as isl)")
    arrival = _check_load(n, arrivals_s, concurrency, think_time_s)
    closed = concurrency is not None
    block = limits.kv_block_tokens
    cap_blocks = limits.kv_capacity_tokens // block
    reserve = limits.admission == Admission.RESERVE_FULL
    chunked = limits.chunked_prefill
    budget_max = limits.max_num_batched_tokens
    seq_cap = min(limits.max_num_seqs, budget_max)
    peak_tokens = isl_a - cached_a + osl_a - (0 if reserve else 1)
    rejected_a = -(-peak_tokens // block) > cap_blocks
    if not chunked:
        rejected_a |= isl_a > budget_max

    isl_l, osl_l, rej_l = isl_a.tolist(), osl_a.tolist(), rejected_a.tolist()
    cached_l = cached_a.tolist()
    own_l = (isl_a - cached_a).tolist()  # prompt tokens in the request's own KV blocks
    arr_l = arrival.tolist() if not closed else [math.nan] * n
    nan = math.nan
    first, finish, last_tok = [nan] * n, [nan] * n, [nan] * n
    preempts, gen, target, prefilled = [0] * n, [0] * n, list(isl_l), [0] * n
    blocks_at, g0, j0, phase, inc, state = [0] * n, [0] * n, [0] * n, [0] * n, [0] * n, [0] * n
    full_blocks = (-(-(isl_a - cached_a + osl_a) // block)).tolist()

    if closed:
        assert concurrency is not None
        pending = [(0.0, k) for k in range(min(concurrency, n))]
        for _, k in pending:
            arr_l[k] = 0.0
    else:
        pending = sorted(zip(arr_l, range(n), strict=True))
    heapq.heapify(pending)
    next_req = len(pending) if closed else n

    waiting: deque[int] = deque()
    prefilling: list[int] = []
    stack: list[tuple[int, int]] = []  # (request, incarnation) in admission order, lazily pruned
    finish_heap: list[tuple[int, int, int]] = []  # (decode step of last token, request, inc.)
    phase_count = [0] * block
    dec_end, dec_step, joined_at = [0.0], [-1], []
    extra_gap: list[float] = []
    extra_end: list[float] = []
    step_end: list[float] = []
    step_dec: list[int] = []
    step_pf: list[int] = []
    step_dur: list[float] = []
    t = 0.0
    g = n_dec = ctx = used = peak_running = peak_used = 0

    def send_next(now: float) -> None:
        nonlocal next_req
        if closed and next_req < n:
            arr_l[next_req] = now + think_time_s
            heapq.heappush(pending, (now + think_time_s, next_req))
            next_req += 1

    def join_gap(i: int) -> None:
        """Record the gap from i's last token to its first decode token (step g0 + 1)."""
        end = dec_end[g0[i] + 1]
        extra_gap.append(end - last_tok[i])
        extra_end.append(end)
        joined_at.append(g0[i] + 1)

    def preempt_youngest() -> None:
        nonlocal n_dec, ctx, used
        while True:
            if not stack:
                raise RuntimeError("KV accounting error: nothing left to preempt")
            i, k = stack.pop()
            if k == inc[i] and state[i] in (_PREFILL, _DECODE):
                break
        inc[i] += 1
        preempts[i] += 1
        if state[i] == _DECODE:
            j = j0[i] + g - g0[i]
            if g > g0[i]:
                join_gap(i)
                last_tok[i] = dec_end[g]
            n_dec -= 1
            ctx -= isl_l[i] + j
            phase_count[phase[i]] -= 1
            used -= -(-(own_l[i] + j - 1) // block)
            gen[i] = j
        else:
            prefilling.remove(i)
            used -= blocks_at[i]
        target[i], prefilled[i], state[i] = isl_l[i] + gen[i], 0, _WAITING
        waiting.appendleft(i)

    def admit_arrivals(now: float) -> None:
        """Queue the requests that have arrived by ``now``; one that can never fit is
        dropped (its client, in a closed loop, sends its next request at once)."""
        while pending and pending[0][0] <= now:
            i = heapq.heappop(pending)[1]
            if rej_l[i]:
                send_next(arr_l[i])
            else:
                waiting.append(i)

    def take_decode_blocks() -> bool:
        """Blocks for this step's decode tokens, preempting the youngest sequence until
        they fit; True when a sequence was preempted."""
        nonlocal used
        preempted = False
        while cap_blocks - used < phase_count[(g + 1) % block]:
            preempt_youngest()
            preempted = True
        used += phase_count[(g + 1) % block]
        return preempted

    def schedule_step() -> tuple[int, float, int, list[int], bool]:
        """The next step's prefill work: ``(tokens, attention pairs, sequences, requests
        whose prompt completes, preempted)``; its decode sequences are ``n_dec``."""
        nonlocal used
        preempted = False
        pf_tokens, pf_pairs, pf_seqs, completed = 0, 0.0, 0, []
        budget = budget_max - n_dec if chunked else budget_max
        if chunked and n_dec and not reserve:
            preempted = take_decode_blocks()
        for i in prefilling:  # chunked only: continue partial prompts, oldest first
            if budget <= 0:
                break
            c = min(target[i] - prefilled[i], budget)
            pf_pairs += c * (prefilled[i] + (c + 1) / 2)
            pf_tokens, pf_seqs, budget = pf_tokens + c, pf_seqs + 1, budget - c
            prefilled[i] += c
            if prefilled[i] == target[i]:
                completed.append(i)
        while not preempted and waiting and budget > 0 and n_dec + len(prefilling) < seq_cap:
            i = waiting[0]
            size = target[i] - cached_l[i]  # tokens to compute
            if not chunked and size > budget and (pf_seqs or size <= budget_max):
                break  # a recompute longer than the budget runs alone
            need = full_blocks[i] if reserve else -(-size // block)
            if cap_blocks - used < need:
                break
            waiting.popleft()
            used += need
            blocks_at[i], state[i] = need, _PREFILL
            prefilling.append(i)
            stack.append((i, inc[i]))
            c = min(size, budget) if chunked else size
            pf_pairs += c * (cached_l[i] + (c + 1) / 2)
            pf_tokens, pf_seqs, budget = pf_tokens + c, pf_seqs + 1, budget - c
            prefilled[i] = cached_l[i] + c
            if c == size:
                completed.append(i)
        if not chunked and not pf_seqs and n_dec and not reserve:
            preempted = take_decode_blocks() or preempted
        return pf_tokens, pf_pairs, pf_seqs, completed, preempted

    def complete_step(now: float, decoding: int, completed: list[int]) -> None:
        """At the end of a step (``now``): a decode token for every decoding sequence,
        the sequences that emitted their last token leave, and completed prompts emit
        their token and start decoding (or finish)."""
        nonlocal g, n_dec, ctx, used
        if decoding:
            g += 1
            dec_end.append(now)
            dec_step.append(len(step_end) - 1)
            ctx += n_dec
            while finish_heap and finish_heap[0][0] == g:
                _, i, k = heapq.heappop(finish_heap)
                if k != inc[i] or state[i] != _DECODE:
                    continue
                j = j0[i] + g - g0[i]
                state[i], finish[i] = _DONE, now
                n_dec -= 1
                ctx -= isl_l[i] + j
                phase_count[phase[i]] -= 1
                used -= blocks_at[i] if reserve else -(-(own_l[i] + j - 1) // block)
                join_gap(i)
                send_next(now)
        if completed:
            for i in completed:
                j = gen[i] + 1
                if first[i] != first[i]:  # NaN: this is the request's first token
                    first[i] = now
                else:
                    extra_gap.append(now - last_tok[i])
                    extra_end.append(now)
                last_tok[i] = now
                if j >= osl_l[i]:
                    state[i], finish[i] = _DONE, now
                    used -= blocks_at[i]
                    send_next(now)
                    continue
                state[i], g0[i], j0[i] = _DECODE, g, j
                n_dec += 1
                ctx += isl_l[i] + j
                if not reserve:
                    phase[i] = (g + 2 - own_l[i] - j) % block
                    phase_count[phase[i]] += 1
                heapq.heappush(finish_heap, (g + osl_l[i] - j, i, inc[i]))
            prefilling[:] = [i for i in prefilling if state[i] == _PREFILL]

    def decode_run() -> bool:
        """Several decode-only steps at once, when the model times them as one array
        (``decode_step_times_s``): from now (nothing waiting or prefilling) until the step
        before the next finish, the last step that fits its KV blocks without preempting,
        or the step during which the next request arrives, whichever comes first. The
        same steps, times and records as one step at a time; False (nothing done) when
        fewer than ``DECODE_RUN_MIN_STEPS`` steps are ahead."""
        nonlocal t, g, ctx, used, peak_used, peak_running
        assert decode_step_times_s is not None
        k = min(finish_heap[0][0] - g - 1, DECODE_RUN_MAX_STEPS)
        if k < DECODE_RUN_MIN_STEPS:
            return False
        if pending and step_time_of is not None:
            # steps grow longer with the contexts: the first is the shortest
            first = step_time_of(0, 0.0, 0, n_dec, ctx)
            if first > 0.0:
                k = min(k, int((pending[0][0] - t) / first) + 1)
                if k < DECODE_RUN_MIN_STEPS:
                    return False
        if not reserve:  # decode step g + j takes phase_count[(g + j) % block] new blocks
            phases = np.arange(g + 1, g + 1 + k) % block
            need = np.cumsum(np.asarray(phase_count)[phases])
            k = min(k, int(np.searchsorted(need, cap_blocks - used, side="right")))
            if k < DECODE_RUN_MIN_STEPS:
                return False
        d = decode_step_times_s(n_dec, ctx, k)
        if not bool(np.all((d >= 0.0) & (d < math.inf))):
            return False  # the step-at-a-time path reports the bad step
        # end of each step, added up one step after the other as ``t += dur`` does
        ends = np.cumsum(np.concatenate(([t], d)))[1:]
        m = k
        if pending:  # a step runs decode-only while the previous one ended before the arrival
            m = 1 + int(np.searchsorted(ends[: k - 1], pending[0][0], side="left"))
        if not reserve:
            used += int(need[m - 1])
            if used > peak_used:
                peak_used = used
        if n_dec > peak_running:
            peak_running = n_dec
        first_step = len(step_end)
        durs, end_l = d[:m].tolist(), ends[:m].tolist()
        step_dur.extend(durs)
        step_end.extend(end_l)
        step_dec.extend([n_dec] * m)
        step_pf.extend([0] * m)
        dec_end.extend(end_l)
        dec_step.extend(range(first_step, first_step + m))
        g += m
        ctx += m * n_dec
        t = end_l[-1]
        return True

    # a model with ``step_time_of`` (:class:`~inferplan.perf.step.StepModel`) takes the
    # shape's fields as arguments: no BatchShape is built for each of the many steps
    step_time_of = getattr(step_model, "step_time_of", None)
    step_time_s = step_model.step_time_s
    decode_step_times_s = getattr(step_model, "decode_step_times_s", None)
    while True:
        if pending and pending[0][0] <= t:
            admit_arrivals(t)
        if not n_dec and not prefilling and not waiting:
            if not pending:
                break
            t = max(t, pending[0][0])
            continue
        if (
            decode_step_times_s is not None
            and not waiting
            and not prefilling
            and finish_heap[0][0] - g > DECODE_RUN_MIN_STEPS  # else decode_run declines
            and decode_run()
        ):
            continue
        if waiting or prefilling:
            pf_tokens, pf_pairs, pf_seqs, completed, preempted = schedule_step()
        else:  # decode only, most steps: schedule_step with nothing to prefill or admit
            pf_tokens, pf_pairs, pf_seqs, completed, preempted = 0, 0.0, 0, [], False
            if not reserve:
                need = phase_count[(g + 1) % block]
                if cap_blocks - used >= need:
                    used += need
                else:
                    preempted = take_decode_blocks()
        decoding = n_dec if (chunked or not pf_seqs) else 0
        if not decoding and not pf_seqs:
            if preempted:
                continue
            raise RuntimeError("simulator made no progress (scheduler invariant broken)")
        if used > peak_used:
            peak_used = used
        running = n_dec + len(prefilling)
        if running > peak_running:
            peak_running = running
        ctx_now = ctx if decoding else 0
        if step_time_of is not None:
            dur = step_time_of(pf_tokens, pf_pairs, pf_seqs, decoding, ctx_now)
        else:
            dur = step_time_s(BatchShape(pf_tokens, pf_pairs, pf_seqs, decoding, ctx_now))
        if not 0.0 <= dur < math.inf:  # NaN fails too
            shape = BatchShape(pf_tokens, pf_pairs, pf_seqs, decoding, ctx_now)
            raise SpecError(
                "step_model", f"step time must be finite and >= 0 s, got {dur} for {shape}"
            )
        dur = float(dur)
        t += dur
        step_dur.append(dur)
        step_end.append(t)
        step_dec.append(decoding)
        step_pf.append(pf_tokens)
        if completed or not decoding or (finish_heap and finish_heap[0][0] == g + 1):
            complete_step(t, decoding, completed)
        else:  # complete_step of a decode step where no sequence finishes
            g += 1
            dec_end.append(t)
            dec_step.append(len(step_end) - 1)
            ctx += n_dec

    if used or n_dec or prefilling or waiting:
        raise RuntimeError("simulator ended with work or KV left (scheduler invariant broken)")
    gap_a, count_a = _itl_steps(step_end, step_dec, dec_end, dec_step, joined_at, g)
    done = ~rejected_a
    return SimulationResult(
        arrival_s=np.array(arr_l),
        first_token_s=np.array(first),
        finish_s=np.array(finish),
        input_tokens=isl_a,
        output_tokens=np.where(done, osl_a, 0),
        preemptions=np.array(preempts, dtype=np.int64),
        rejected=rejected_a,
        step_end_s=np.array(step_end),
        step_duration_s=np.array(step_dur),
        step_decode_seqs=np.array(step_dec, dtype=np.int64),
        step_prefill_tokens=np.array(step_pf, dtype=np.int64),
        step_itl_gap_s=gap_a,
        step_itl_count=count_a,
        extra_gap_s=np.array(extra_gap),
        extra_gap_end_s=np.array(extra_end),
        makespan_s=t,
        peak_running=peak_running,
        peak_kv_tokens=peak_used * block,
    )


def poisson_rate_evaluator(
    step_model: StepTimeModel,
    limits: SchedulerLimits,
    isl: np.ndarray,
    osl: np.ndarray,
    seed: int = 0,
    slo_ttft_s: float | None = None,
    slo_tpot_s: float | None = None,
    slo_percentile: float = 95.0,
) -> Callable[[float], ServingMetrics]:
    """A function rate_rps -> metrics of an open-loop Poisson run of these requests.

    Every rate reuses the same seed (common random numbers): the arrival times at
    rate r are those at rate 1 divided by r, so the comparison between rates is
    not blurred by sampling noise. For :func:`~inferplan.perf.metrics.find_max_rate`.
    """

    def evaluate(rate_rps: float) -> ServingMetrics:
        arrivals = PoissonArrivals(rate_rps=rate_rps).arrival_times_s(
            np.random.default_rng(seed), len(isl)
        )
        result = simulate(step_model, limits, isl, osl, arrivals_s=arrivals)
        return summarize(result, slo_ttft_s, slo_tpot_s, slo_percentile)

    return evaluate


__all__ = [
    "SimulationResult",
    "poisson_rate_evaluator",
    "simulate",
    "simulate_static_batch",
]
