"""Replace closed-form capacities by simulated ones where the decision depends on them.

Loop: price every option with the current capacities; if the cheapest option that
serves the demand runs a design the discrete-event simulator has not checked,
simulate it (:func:`inferplan.planner.verify.simulated_capacity`: highest Poisson
rate within the SLO percentile, no cap on the search) and price again. Designs not
simulated yet carry their closed-form capacity times the median simulated /
closed-form ratio of the designs simulated so far (of the same serving technique
when any is simulated: speculative decoding meets the simulator differently), so the
ranking does not favour the unchecked. A simulated capacity, once known, sizes its
design's fleet in every later round and in the answer. The loop ends when the design
behind the cheapest self-hosted option, and those of its close calls (within
``CLOSE_CALL`` of its NPV), are simulated.

A disaggregated design is not simulated (the simulator runs one pool) and takes no part
in the ratio. Its decode pool is plain serving, so its closed-form steady state is
scaled by the ratio plain designs not simulated get (:meth:`Refinement.prior` of the
plain group), never raised by it: ``min(1, r)``. When one is behind the cheapest option
or a close call, the plain design of its layout is simulated instead (when the search
kept one), so the ratio it gets includes its own layout's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace

from inferplan.planner.capacity import Capacity
from inferplan.planner.designs import Design, Rejection, layout_label
from inferplan.planner.options import Candidate
from inferplan.planner.pricing import counts_as_served
from inferplan.planner.verify import simulated_capacity
from inferplan.specs.plan import SloSpec
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco.results import OptionResult

MAX_SIMULATED_DESIGNS = 12
CLOSE_CALL = 0.05
"""Options within 5 % of the cheapest self-hosted option's NPV are close calls: their
designs are simulated too, so the simulator, not the closed form, decides them."""
MAX_CLOSE_CALLS = 2
SIMULATED = "latency (simulated)"
DISAGG_STEADY = "disaggregated steady state"


@dataclass
class Refinement:
    """Simulated capacities by design label (None: misses the SLO even at low load)."""

    simulated: dict[str, Capacity | None] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    """Serving technique of each simulated design (``""`` plain, else ``spec ...``)."""
    checked: set[str] = field(default_factory=set)
    """Disaggregated designs behind a cheapest option or close call: not simulated (the
    simulator runs one pool), scaled by the plain designs' ratio."""

    def prior(self, group: str | None = None) -> float:
        """Median simulated / closed-form ratio, over the designs of ``group`` (a serving
        technique: speculative designs meet the simulator differently) when any of them
        is simulated, else over all."""
        same = [r for k, r in self.ratios.items() if group is None or self.groups[k] == group]
        vals = sorted(same or self.ratios.values()) or [1.0]
        return vals[len(vals) // 2]

    def apply(self, base: list[Design]) -> tuple[list[Design], list[Rejection]]:
        """Designs with simulated capacities where known, scaled closed form elsewhere."""
        out: list[Design] = []
        rejected: list[Rejection] = []
        for d in base:
            if d.label in self.simulated:
                cap = self.simulated[d.label]
                if cap is None:
                    rejected.append(
                        Rejection(
                            d.label,
                            "slo",
                            f"simulated {d.label} misses the p95 targets even at a twentieth "
                            "of the load the closed form allows",
                        )
                    )
                else:
                    out.append(dc_replace(d, capacity=cap))
                continue
            if _closed_form_only(d):
                out.append(dc_replace(d, capacity=self.disaggregated_capacity(d.capacity)))
                continue
            c0 = d.capacity
            prior = self.prior(_group(d))
            out.append(
                dc_replace(
                    d,
                    capacity=dc_replace(
                        c0,
                        requests_per_s=c0.requests_per_s * prior,
                        output_tokens_per_s=c0.output_tokens_per_s * prior,
                        limited_by=f"{c0.limited_by} (closed form x {prior:.2f}, simulated median)",
                    ),
                )
            )
        return out, rejected

    def disaggregated_capacity(self, c0: Capacity) -> Capacity:
        """A disaggregated unit's closed-form capacity ``c0`` scaled by the plain designs'
        simulated / closed-form median ``r`` (its decode pool is plain serving), at most
        1: the correction never raises the closed form."""
        if not self.ratios:
            return c0
        median = self.prior("")
        r = min(1.0, median)
        if r >= 1.0:
            why = f"closed form; the plain designs' simulated median, {median:.2f}, never raises it"
        else:
            why = (
                f"closed form x {r:.2f}, the plain designs' simulated median: the decode "
                "pool is plain serving"
            )
        return dc_replace(
            c0,
            requests_per_s=c0.requests_per_s * r,
            output_tokens_per_s=c0.output_tokens_per_s * r,
            limited_by=f"{DISAGG_STEADY} ({why}; the simulator runs one pool)",
        )

    def simulate(self, scenario: ScenarioSpec, d: Design, slo: SloSpec) -> None:
        cap = simulated_capacity(scenario, d, slo, self.prior(_group(d)))
        self.simulated[d.label] = cap
        if cap is not None and not _closed_form_only(d):
            self.ratios[d.label] = cap.requests_per_s / d.capacity.requests_per_s
            self.groups[d.label] = _group(d)


def _group(d: Design) -> str:
    """The serving-technique group whose simulated / closed-form ratios scale ``d``."""
    return "" if d.technique is None else d.technique.short


def _closed_form_only(d: Design) -> bool:
    """A disaggregated design: the simulator runs one pool, so it is not simulated and
    its closed-form steady state takes the plain designs' ratio
    (:meth:`Refinement.disaggregated_capacity`)."""
    return d.technique is not None and d.technique.disaggregated


def _unsimulated_close_calls(
    ranked: list[Candidate], npv: dict[str, float], ref: Refinement
) -> list[Design]:
    """Designs not simulated yet behind the cheapest self-hosted option and behind any
    other within ``CLOSE_CALL`` of its NPV (at most ``MAX_CLOSE_CALLS`` of those)."""
    if not ranked or ranked[0].design is None:
        return []
    best = npv[ranked[0].option.name]
    out: list[Design] = []
    seen: set[str] = set()
    for i, c in enumerate(ranked):
        if c.design is None or c.design.label in seen:
            continue
        if i > 0 and (
            npv[c.option.name] - best > CLOSE_CALL * abs(best) or len(seen) > MAX_CLOSE_CALLS
        ):
            break
        seen.add(c.design.label)
        if c.design.label not in ref.simulated and c.design.label not in ref.checked:
            out.append(c.design)
    return out


Build = Callable[[list[Design]], tuple[list[Candidate], list[Rejection]]]
Price = Callable[[list[Candidate]], list[OptionResult]]


def refine(
    scenario: ScenarioSpec,
    base: list[Design],
    slo: SloSpec,
    build: Build,
    price: Price,
    on_round: Callable[[int], None] | None = None,
) -> tuple[list[Design], list[Candidate], list[OptionResult], list[Rejection], Refinement]:
    """Simulate the designs behind the cheapest options until the pick's is simulated.

    ``base`` holds the closed-form designs; ``build`` turns designs into candidates
    (with their rejections), ``price`` prices candidates. Returns the final designs,
    candidates, prices, the rejections of the last build plus the simulator's, and
    the refinement record.
    """
    ref = Refinement()
    closed = {d.label: d for d in base}
    for round_ in range(MAX_SIMULATED_DESIGNS + 1):
        if on_round is not None:
            on_round(round_)
        designs, sim_rej = ref.apply(base)
        cands, rej = build(designs)
        priced = price(cands) if cands else []
        npv = {r.name: r.npv_usd for r in priced if counts_as_served(scenario, r)}
        ranked = sorted(
            (c for c in cands if c.design is not None and c.option.name in npv),
            key=lambda c: npv[c.option.name],
        )
        todo = _unsimulated_close_calls(ranked, npv, ref)
        if not todo:
            return designs, cands, priced, rej + sim_rej, ref
        if round_ == MAX_SIMULATED_DESIGNS:
            break
        d = closed[todo[0].label]
        if _closed_form_only(d):
            # not simulated: it counts as checked, and the plain design of its layout
            # (its decode pool's serving) is simulated in its place when there is one
            ref.checked.add(d.label)
            plain = closed.get(layout_label(d.deployment))
            if plain is not None and plain.label not in ref.simulated:
                ref.simulate(scenario, plain, slo)
            continue
        ref.simulate(scenario, d, slo)
    return designs, cands, priced, rej + sim_rej, ref


__all__ = ["MAX_SIMULATED_DESIGNS", "Refinement", "refine"]
