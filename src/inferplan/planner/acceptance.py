"""How low the acceptance rate of a speculative pick may fall before the pick fails.

A speculative design's capacity rests on the acceptance rate the scenario assumes
(``candidates.acceptance_rate``): the mean tokens a verify step emits are
``(1 - a^(k+1)) / (1 - a)`` (Leviathan et al., arXiv:2211.17192), so a drafter that
accepts less on the buyer's traffic serves fewer tokens per second and, at a strict
TPOT target, may not meet it at all. The tornado and Monte Carlo vary prices and
demand, not this rate, so a speculative pick carries it as a condition with three
rates found by bisection over the acceptance rate on the planner's own path
(:func:`~inferplan.planner.techniques.speculative_variants`, i.e. the speculative step
model and :func:`~inferplan.planner.capacity.capacity_at_slo` with the planning margins):

* ``meets_slo``: the lowest rate at which one replica of the design meets the targets at
  all (below it the planner drops the design: no number of its replicas meets them);
* ``fleet``: the lowest rate at which the replicas bought still carry the peak within
  the targets, sized as the planner sizes fleets (closed form at that rate x the
  simulated / closed-form ratio the design got, at the target utilisation);
* ``pays``: where plain decoding on the same layout meets the targets, the rate at which
  the design serves no more output tokens/s than it (below it speculation does not pay).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inferplan.deploy.deployment import limits_of, step_model_of
from inferplan.planner.capacity import Capacity, capacity_at_slo, with_shared_prefix
from inferplan.planner.designs import Design, prefix_share, prompt_tail, workload_lengths
from inferplan.planner.options import peak_output_tokens_per_s, replicas_at_peak
from inferplan.planner.techniques import Workload, speculative_variants
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco.traffic import replicas_needed

ACCEPTANCE_TOL = 0.005
"""Bisection stops when the bracket of acceptance rates is this narrow."""
LOWEST_RATE = 0.01
"""The lowest acceptance rate tried (a drafter that accepts nothing never pays)."""


@dataclass(frozen=True, slots=True)
class BreakEven:
    """Acceptance rates below which a speculative design fails (see the module text);
    each is None when the design holds down to ``LOWEST_RATE`` (``pays``: or when plain
    decoding misses the targets on the layout)."""

    assumed: float
    meets_slo: float | None
    fleet: float | None
    pays: float | None
    replicas: int


def _workload(scenario: ScenarioSpec, d: Design) -> Workload:
    """The workload the planner sizes ``d``'s variants for (as :mod:`designs` builds it)."""
    assert scenario.slo is not None
    isl, osl, long_ctx = workload_lengths(scenario)
    return Workload(
        isl,
        osl,
        prompt_tail(scenario),
        prefix_share(scenario),
        scenario.slo.ttft_ms / 1e3,
        scenario.slo.tpot_ms / 1e3,
        min(long_ctx, d.deployment.model.max_context),
    )


def speculative_capacity(scenario: ScenarioSpec, d: Design, acceptance: float) -> Capacity | None:
    """Closed-form capacity of ``d``'s speculative variant at ``acceptance`` (None when it
    misses the targets even at one sequence), on the planner's path."""
    assert d.technique is not None and d.technique.speculative is not None
    method = d.technique.speculative.method
    cand = scenario.candidates.model_copy(
        update={
            "speculative": [method],
            "acceptance_rate": {**scenario.candidates.acceptance_rate, method: acceptance},
            "draft_tokens": {
                **scenario.candidates.draft_tokens,
                method: d.technique.speculative.draft_tokens,
            },
            "draft_model": d.technique.draft_model or scenario.candidates.draft_model,
        }
    )
    (v,) = speculative_variants(d.deployment, d.memory, None, _workload(scenario, d), cand)
    return v.capacity


def _lowest(holds: Callable[[float], bool], top: float) -> float | None:
    """The lowest rate in ``[LOWEST_RATE, top]`` where ``holds`` (monotone: false below,
    true above), to ``ACCEPTANCE_TOL``; None when it holds at ``LOWEST_RATE``."""
    if holds(LOWEST_RATE):
        return None
    lo, hi = LOWEST_RATE, top
    while hi - lo > ACCEPTANCE_TOL:
        mid = 0.5 * (lo + hi)
        if holds(mid):
            hi = mid
        else:
            lo = mid
    return hi


def break_even(scenario: ScenarioSpec, d: Design) -> BreakEven | None:
    """The acceptance rates below which speculative design ``d`` fails; None for a design
    that does not speculate."""
    if d.technique is None or d.technique.speculative is None:
        return None
    assumed = d.technique.speculative.acceptance_rate
    at_assumed = speculative_capacity(scenario, d, assumed)
    if at_assumed is None:
        return None
    # the simulated / closed-form scaling the refinement gave the design
    scale = d.capacity.output_tokens_per_s / at_assumed.output_tokens_per_s
    peak = peak_output_tokens_per_s(scenario)
    util = scenario.candidates.target_utilisation
    bought = replicas_at_peak(scenario, d)

    def meets(a: float) -> bool:
        return speculative_capacity(scenario, d, a) is not None

    def carries(a: float) -> bool:
        cap = speculative_capacity(scenario, d, a)
        if cap is None:
            return False
        return int(replicas_needed(peak, cap.output_tokens_per_s * scale, util)) <= bought

    plain = _plain_capacity(scenario, d)

    def beats_plain(a: float) -> bool:
        cap = speculative_capacity(scenario, d, a)
        return (
            cap is not None
            and plain is not None
            and cap.output_tokens_per_s > plain.output_tokens_per_s
        )

    pays = _lowest(beats_plain, assumed) if plain is not None else None
    return BreakEven(assumed, _lowest(meets, assumed), _lowest(carries, assumed), pays, bought)


def _plain_capacity(scenario: ScenarioSpec, d: Design) -> Capacity | None:
    """Closed-form capacity of plain decoding on ``d``'s layout (None: misses the SLO)."""
    w = _workload(scenario, d)
    dep = d.deployment
    limits = with_shared_prefix(limits_of(dep, d.memory), w.isl, w.share)
    return capacity_at_slo(
        step_model_of(dep), limits, w.isl, w.osl, w.ttft_slo_s, w.tpot_slo_s, w.isl_tail, w.share
    )


def condition(scenario: ScenarioSpec, d: Design) -> str | None:
    """The condition a speculative pick carries: the acceptance rate it needs, in words."""
    be = break_even(scenario, d)
    if be is None or d.technique is None or d.technique.speculative is None:
        return None
    assert scenario.slo is not None
    target = f"the {scenario.slo.tpot_ms:g} ms TPOT and {scenario.slo.ttft_ms:g} ms TTFT targets"
    who = d.technique.draft_model or d.technique.speculative.method
    need = be.fleet if be.fleet is not None else be.meets_slo
    rate = need if need is not None else LOWEST_RATE
    margin = ": no margin" if rate >= be.assumed - 2 * ACCEPTANCE_TOL else ""
    parts = [
        f"speculative decoding with {who}: this option needs an acceptance rate of at least "
        + f"{rate:.3f} (the scenario assumes {be.assumed:g}{margin}) for the {be.replicas} "
        f"replica{'s' if be.replicas != 1 else ''} at the peak to meet {target}"
    ]
    if be.meets_slo is not None:
        parts.append(f"below {be.meets_slo:.3f} no replica of this design meets them")
    if be.pays is not None:
        parts.append(f"below {be.pays:.3f} plain decoding on the same GPUs serves more")
    else:
        parts.append("plain decoding on the same GPUs misses the targets")
    return (
        "; ".join(parts)
        + "; measure the acceptance rate with this draft on your own traffic before buying"
    )


__all__ = ["ACCEPTANCE_TOL", "BreakEven", "break_even", "condition", "speculative_capacity"]
