"""Explanations for the plan: Pareto frontier, reasons, quality notes."""

from __future__ import annotations

from inferplan.catalog import load_models
from inferplan.memory.params import total_params
from inferplan.results.plan import PlanOption
from inferplan.specs.scenario import ScenarioSpec


def _latency(o: PlanOption) -> float:
    return o.est_ttft_ms if o.est_ttft_ms is not None else float("inf")


def pareto_front(options: list[PlanOption]) -> list[str]:
    """Options no other beats on all of NPV (lower), estimated TTFT (lower) and
    sovereignty score (higher). APIs have no latency estimate (treated as unknown)."""
    front = []
    for o in options:
        dominated = any(
            p.npv_usd <= o.npv_usd
            and _latency(p) <= _latency(o)
            and p.sovereignty_score >= o.sovereignty_score
            and (p.npv_usd, _latency(p), -p.sovereignty_score)
            != (o.npv_usd, _latency(o), -o.sovereignty_score)
            for p in options
        )
        if not dominated:
            front.append(o.name)
    return front


def _money(x: float) -> str:
    return f"${x:,.0f}"


def explain(
    best: PlanOption, runner: PlanOption | None, served: list[PlanOption], scenario: ScenarioSpec
) -> tuple[list[str], str | None]:
    """Reasons for the pick and why the runner-up lost."""
    reasons = [
        f"lowest NPV of {len(served)} allowed options: {_money(best.npv_usd)} over "
        f"{scenario.finance.horizon_years} years at {scenario.finance.discount_rate:.1%}",
    ]
    if best.usd_per_million_tokens is not None:
        reasons.append(f"{best.usd_per_million_tokens:.3f} USD per million tokens")
    if best.hardware:
        reasons.append(
            f"{best.devices_per_replica} x {best.hardware} per replica at "
            f"{best.precision} on {best.engine}: "
            f"{best.replica_output_tokens_per_s:,.0f} output tokens/s per replica within the SLO"
        )
    if scenario.policy is not None:
        reasons.append(
            f"passes every data rule ({scenario.policy.data_class.value} data); legal "
            f"sovereignty {best.legal_sovereignty:.2f}, operational "
            f"{best.operational_sovereignty:.2f}"
        )
    why = None
    if runner is not None:
        gap = runner.npv_usd - best.npv_usd
        why = f"{runner.name} costs {_money(gap)} more in NPV ({gap / max(best.npv_usd, 1):.0%})"
        if runner.sovereignty_score > best.sovereignty_score:
            why += f" though it scores higher on sovereignty ({runner.sovereignty_score:.2f})"
    return reasons, why


def quality_notes(scenario: ScenarioSpec, served: list[PlanOption]) -> list[str]:
    """Flag when the options are not the same product (model size or precision)."""
    notes = []
    models = load_models()
    ids = {o.model for o in served if o.model and o.model in models}
    if len(ids) > 1:
        sizes = ", ".join(f"{m} ({total_params(models.get(m)) / 1e9:.0f}B)" for m in sorted(ids))
        notes.append(f"candidate models differ in size: {sizes}; answers are not equivalent")
    precs = {o.precision for o in served if o.precision}
    low = sorted(p for p in precs if p not in ("bf16", "fp16", "fp32"))
    if low:
        notes.append(
            "quantized options (" + ", ".join(low) + ") may lose accuracy against 16-bit "
            "weights; check your own evaluations before trading quality for cost"
        )
    if any(o.kind == "api" for o in served):
        notes.append(
            "API options serve the provider's deployment of the model; its latency is not "
            "predicted here and its quantization is the provider's choice"
        )
    return notes
