"""Explanations for the plan: Pareto frontier, reasons, quality notes."""

from __future__ import annotations

from collections.abc import Sequence

from inferplan.catalog import load_models
from inferplan.memory.params import total_params
from inferplan.planner.designs import Design, Rejection
from inferplan.results.plan import PlanOption, Recommendation
from inferplan.sovereignty.rules import Finding, Severity
from inferplan.specs.economics import ApiSpec, DeploymentOption
from inferplan.specs.plan import SloSpec
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
            + (
                f" (a replica here is a unit of {best.devices_per_replica} GPUs)"
                if (best.serving_technique or "").startswith("disaggregated")
                else ""
            )
        )
    if best.serving_technique:
        reasons.append(
            f"{best.serving_technique}: kept because it serves more output tokens/s per GPU "
            "within the SLO than plain colocated replicas of the same layout, or meets the "
            f"SLO where they do not (capacity basis: {best.capacity_basis})"
        )
    if scenario.policy is not None:
        data = scenario.policy.data_class.value
        if best.conditions:
            reasons.append(
                f"meets the data rules for {data} data only under {len(best.conditions)} "
                f"condition{'s' if len(best.conditions) > 1 else ''}: " + "; ".join(best.conditions)
            )
        else:
            reasons.append(f"passes every data rule for {data} data without conditions")
        reasons.append(
            f"legal sovereignty {best.legal_sovereignty:.2f}, operational "
            f"{best.operational_sovereignty:.2f}"
        )
    if best.latency_verified is False:
        reasons.append(
            "latency not verified: no published measurement of this provider's time to "
            "first token and output speed for the model; it is not shown as meeting the SLO"
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
            "API options serve the provider's deployment of the model: its latency is "
            "checked only against published measurements (api_latency.yaml; otherwise "
            "'latency not verified') and its quantization is the provider's choice"
        )
    return notes


def conditions_of(findings: Sequence[Finding]) -> list[str]:
    """What an option is allowed only under, as plain sentences: first the contracts to
    sign and attestations to check of every ``condition`` finding, then the facts to
    check that ``warn`` findings name."""
    out: list[str] = []
    for f in findings:
        if f.severity == Severity.CONDITION:
            for c in f.conditions or (f.reason,):
                if f"{f.rule}: {c}" not in out:
                    out.append(f"{f.rule}: {c}")
    out += [f"{f.rule}: {f.reason}" for f in findings if f.severity == Severity.WARN]
    return out


def api_model(option: DeploymentOption) -> str | None:
    """Model id an API option serves (its catalog row), else None."""
    from inferplan.catalog.prices import load_prices

    cat_id = option.catalog_id if isinstance(option, ApiSpec) else None
    if not cat_id:
        return None
    prices = load_prices()
    if cat_id not in prices.api:
        return None
    name = prices.api.get(cat_id).model
    models = load_models()
    return models.get(name).id if name in models else name


STRICT_TTFT_MS = 500.0
STRICT_TPOT_MS = 25.0
"""An SLO counts as strict (unverified latency ranks last) when ``slo.strict`` is
unset and its TTFT or TPOT target is at or below these: inferplan assumption, about
the medians published for hosted 70B-class APIs (see ``api_latency.yaml``)."""


def slo_is_strict(slo: SloSpec) -> bool:
    if slo.strict is not None:
        return slo.strict
    return slo.ttft_ms <= STRICT_TTFT_MS or slo.tpot_ms <= STRICT_TPOT_MS


def rank_key(o: PlanOption, slo: SloSpec) -> tuple[int, float, int]:
    """Ranking: options whose latency is not verified go behind verified ones under a
    strict SLO; options whose verified latency misses the SLO go last; then NPV; at equal
    NPV, plain serving before a serving technique (it is chosen only when cheaper)."""
    tier = 0
    if o.latency_verified is False and slo_is_strict(slo):
        tier = 1
    if o.meets_slo is False:
        tier = 2
    return tier, o.npv_usd, 1 if o.serving_technique else 0


def headline(rec: Recommendation, scenario: ScenarioSpec) -> str:
    """One sentence a CTO reads: what is bought or rented, for which model, at what
    cost, and under which conditions."""
    money = f"NPV {_money(rec.npv_usd)} over {scenario.finance.horizon_years} years"
    per_tok = (
        f", {rec.usd_per_million_tokens:.2f} USD per million tokens"
        if rec.usd_per_million_tokens is not None
        else ""
    )
    model = rec.model or "the model"
    if rec.kind in ("on_prem", "colocation") and rec.servers:
        where = "in your data centre" if rec.kind == "on_prem" else "in colocation"
        gps = rec.gpus_per_server or 0
        reps = max(rec.replicas or 1, 1)
        in_use = (reps - rec.spare_replicas) * ((rec.count or 0) // reps)
        spare = (
            f" + {rec.spare_replicas} spare replica{'s' if rec.spare_replicas > 1 else ''}"
            if rec.spare_replicas
            else ""
        )
        what = (
            f"buy {rec.servers} server{'s' if rec.servers > 1 else ''} with {gps} x "
            f"{rec.hardware} {where} ({in_use} GPU{'s' if in_use != 1 else ''} serve"
            f"{'s' if in_use == 1 else ''} the peak{spare}, "
            f"{rec.servers * gps} GPUs bought)"
        )
    elif rec.kind == "hybrid" and rec.servers is not None:
        where = {"on_prem": " in your data centre", "colocation": " in colocation"}.get(
            rec.base_kind or "", ""
        )
        burst_to = rec.provider.split("+")[-1]
        what = (
            f"buy {rec.servers} server{'s' if rec.servers != 1 else ''} with "
            f"{rec.gpus_per_server} x {rec.hardware}{where} for the base load (no spare: "
            f"when a server fails the burst to {burst_to} carries its load) and burst to "
            f"{burst_to} at the peaks ({rec.option})"
        )
    elif rec.kind == "cloud":
        spare = ""
        if rec.spare_replicas and rec.replicas and rec.count:
            per_rep = rec.count // rec.replicas
            in_use = (rec.replicas - rec.spare_replicas) * per_rep
            spare = (
                f" ({in_use} serve{'s' if in_use == 1 else ''} the peak + "
                f"{rec.spare_replicas} spare replica{'s' if rec.spare_replicas > 1 else ''})"
            )
        term = {
            "reserved_1y": " on a 1-year reservation",
            "reserved_3y": " on a 3-year reservation",
        }.get(rec.commitment or "", " at the peak")
        what = f"rent {rec.count} x {rec.hardware}{spare}{term} from {rec.provider} ({rec.option})"
    elif rec.kind == "api":
        what = f"use the {rec.provider} API"
    else:
        what = rec.option
    prec = rec.precision or "the provider's precision"
    if rec.layout and rec.layout.startswith("EP "):
        what += f", each replica {rec.layout}"
    if rec.serving_technique:
        what += f", serving with {rec.serving_technique}"
    text = f"{model}: {what} at {prec}; {money}{per_tok}"
    if rec.kind == "api" and rec.latency_verified and rec.latency_source:
        text += "; " + rec.latency_source
    elif rec.kind != "api" or rec.latency_verified:
        if rec.p95_ttft_ms is not None and rec.p95_tpot_ms is not None:
            how = (
                "closed-form"
                if (rec.serving_technique or "").startswith("disaggregated")
                else "simulated"
            )
            text += f"; {how} p95 TTFT {rec.p95_ttft_ms:,.0f} ms, TPOT {rec.p95_tpot_ms:.0f} ms"
    else:
        text += "; latency not verified"
    if rec.conditions:
        text += "; conditions: " + "; ".join(rec.conditions)
    return text + "."


def infeasible_message(
    scenario: ScenarioSpec, designs: list[Design], rejected: list[Rejection]
) -> str:
    """One paragraph: which rule or number stopped each family, and what to relax."""
    by_stage: dict[str, list[Rejection]] = {}
    for r in rejected:
        by_stage.setdefault(r.stage, []).append(r)
    parts: list[str] = []
    relax: list[str] = []
    mem = by_stage.get("memory", [])
    if mem:
        parts.append(
            f"{len(mem)} model/accelerator/precision famil{'ies' if len(mem) > 1 else 'y'} "
            f"do not fit in memory (e.g. {mem[0].family}: {mem[0].reason})"
        )
        relax.append(
            "allow larger replicas (candidates.max_devices_per_replica), accelerators with "
            "more memory or a lower precision"
        )
    slo = [r for r in by_stage.get("slo", []) if r.miss is not None] or by_stage.get("slo", [])
    if slo:
        near = min(slo, key=lambda r: r.miss if r.miss is not None else float("inf"))
        over = f", {near.miss - 1:.0%} over the target" if near.miss else ""
        parts.append(
            f"{len(slo)} famil{'ies' if len(slo) > 1 else 'y'} cannot meet the latency "
            f"targets; the closest is {near.family}{over}: {near.reason}"
        )
        relax.append(
            "close the gap with more or newer GPUs per replica, a smaller model or lower "
            "precision, or looser targets (slo.ttft_ms, slo.tpot_ms)"
        )
    for stage, what, fix in (
        ("precision", "have no kernels for the precision", "choose another precision"),
        (
            "sovereignty",
            "break a data rule",
            "allow own hardware (candidates.kinds) or relax the policy",
        ),
        ("price", "have no price in the catalog", "add the missing prices as price_overrides"),
        ("hardware", "do not fit the offer's nodes", "allow other offers or smaller replicas"),
        ("provider", "are outside candidates.providers", "allow more providers"),
        (
            "capacity",
            "leave demand unserved",
            "set finance.unserved_usd_per_million_tokens "
            "or allow options without lead time or rate limits",
        ),
    ):
        rows = by_stage.get(stage, [])
        if rows:
            parts.append(
                f"{len(rows)} option famil{'ies' if len(rows) > 1 else 'y'} {what} "
                f"(e.g. {rows[0].family}: {rows[0].reason})"
            )
            relax.append(fix)
    if not parts:
        return "No recommendation: the candidate space is empty (check models and candidates)."
    return (
        "No recommendation: "
        + "; ".join(parts)
        + ". To get one: "
        + "; ".join(dict.fromkeys(relax))
        + "."
    )
