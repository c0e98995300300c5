"""Turn replica designs into deployment options (own DC, colocation, cloud, API)
and check each against the sovereignty policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from inferplan.catalog import load_models
from inferplan.catalog.loader import Catalog
from inferplan.catalog.prices import PriceCatalog
from inferplan.errors import InferplanError
from inferplan.planner.designs import Design, Rejection
from inferplan.sovereignty import SovereigntyTarget, compliance_overheads, evaluate
from inferplan.specs.economics import (
    ApiSpec,
    CloudSpec,
    ColocationFacilitySpec,
    DeploymentOption,
    OnPremSpec,
    ServerCapexSpec,
)
from inferplan.specs.policy import DeploymentKind, SovereigntyPolicy
from inferplan.specs.prices import RegionRecord
from inferplan.specs.provider import ProviderSpec
from inferplan.specs.scenario import ScenarioSpec


@dataclass
class Candidate:
    """One priced-to-be option with where it came from and its sovereignty verdict."""

    option: DeploymentOption
    design: Design | None
    provider: str
    region: str | None
    country: str | None
    legal_sovereignty: float = 1.0
    operational_sovereignty: float = 1.0
    findings: list[dict[str, object]] = field(default_factory=list)

    @property
    def sovereignty_score(self) -> float:
        return (self.legal_sovereignty + self.operational_sovereignty) / 2.0


def site_country(scenario: ScenarioSpec, regions: Catalog[RegionRecord]) -> str | None:
    """Country of the user's own data centre or colocation site."""
    if scenario.candidates.site_country:
        return scenario.candidates.site_country.upper()
    if scenario.policy is not None and scenario.policy.home_country:
        return scenario.policy.home_country
    try:
        country = str(regions.get(scenario.region).country)
    except InferplanError:
        return None
    return country if len(country) == 2 else None


def _check(
    cand: Candidate,
    policy: SovereigntyPolicy | None,
    providers: Catalog[ProviderSpec],
    target: SovereigntyTarget,
    family: str,
) -> Rejection | None:
    if policy is None:
        return None
    res = evaluate(policy, target, providers)
    cand.legal_sovereignty = res.legal_sovereignty
    cand.operational_sovereignty = res.operational_sovereignty
    cand.findings = [f.model_dump(mode="json") for f in res.findings]
    if res.allowed:
        return None
    fails = "; ".join(f"{f.rule}: {f.reason}" for f in res.failures())
    return Rejection(family, "sovereignty", fails)


def _short(d: Design) -> str:
    dep = d.deployment
    return f"{dep.accelerator.id} x{dep.tp} {dep.weights.precision.value} {dep.engine.id}"


def build_candidates(
    scenario: ScenarioSpec,
    designs: list[Design],
    prices: PriceCatalog,
    providers: Catalog[ProviderSpec],
    regions: Catalog[RegionRecord],
) -> tuple[list[Candidate], list[Rejection]]:
    """Every deployment option the designs and catalogs allow, and the rejections."""
    kinds = set(scenario.candidates.kinds)
    allow_providers = scenario.candidates.providers
    policy = scenario.policy
    home = site_country(scenario, regions)
    util = scenario.candidates.target_utilisation
    out: list[Candidate] = []
    rejected: list[Rejection] = []

    def consider(cand: Candidate, target: SovereigntyTarget, family: str) -> None:
        try:
            rej = _check(cand, policy, providers, target, family)
        except InferplanError as exc:
            rej = Rejection(family, "sovereignty", str(exc))
        if rej is not None:
            rejected.append(rej)
        else:
            out.append(cand)

    for d in designs:
        dep, cap = d.deployment, d.capacity
        serving = dict(
            output_tokens_per_s_per_replica=cap.output_tokens_per_s,
            gpus_per_replica=dep.tp * dep.pp,
            target_utilisation=util,
        )
        servers = [s for s in prices.servers if s.accelerator == dep.accelerator.id]
        for kind in ("on_prem", "colocation"):
            if kind not in kinds:
                continue
            if not servers:
                rejected.append(
                    Rejection(
                        f"{kind} / {dep.accelerator.id}",
                        "price",
                        f"no server purchase price for {dep.accelerator.id} in the catalog",
                    )
                )
                continue
            server = min(servers, key=lambda s: s.price_usd / s.gpus_per_server)
            if server.gpus_per_server < dep.tp:
                continue
            # own hardware can be run air-gapped (offline model updates, compliance
            # cost added below) whenever the policy asks for it
            target = SovereigntyTarget(
                kind=DeploymentKind(kind),
                provider_id=kind.replace("_", "-"),
                country=home,
                air_gapped=bool(policy is not None and policy.air_gapped),
            )
            extra = compliance_overheads(policy, target) if policy is not None else None
            facility = (
                ColocationFacilitySpec(power_included=scenario.candidates.colocation_power_included)
                if kind == "colocation"
                else None
            )
            opt = OnPremSpec(
                kind=kind,
                name=f"{kind.replace('_', '-')} {_short(d)}",
                capex=ServerCapexSpec(catalog_id=server.id),
                facility=facility,
                staff_fte=(prices.rate("ops-fte") + extra.ops_fte) if extra else None,
                **serving,
            )
            consider(
                Candidate(opt, d, kind.replace("_", "-"), None, home),
                target,
                f"{kind} / {dep.accelerator.id}",
            )
        if "cloud" not in kinds:
            continue
        for row in prices.cloud:
            if row.accelerator != dep.accelerator.id:
                continue
            if allow_providers and row.provider not in allow_providers:
                continue
            family = f"cloud / {row.provider} / {row.region}"
            if row.unit.value == "per_node" and row.gpus_per_node < dep.tp:
                rejected.append(
                    Rejection(
                        family,
                        "hardware",
                        f"{row.instance} has {row.gpus_per_node} GPUs; the design needs {dep.tp}",
                    )
                )
                continue
            opt_c = CloudSpec(
                name=f"cloud {row.id} {_short(d)}",
                catalog_id=row.id,
                **serving,
            )
            region = None if row.region == "global" else row.region
            if region is None and policy is not None:
                rejected.append(
                    Rejection(
                        family,
                        "sovereignty",
                        "location: the offer names no region, so the data rules cannot be checked",
                    )
                )
                continue
            target = SovereigntyTarget(
                kind=DeploymentKind.CLOUD, provider_id=row.provider, region_id=region
            )
            consider(Candidate(opt_c, d, row.provider, row.region, None), target, family)
    if "api" in kinds:
        models = load_models()
        wanted = {models.get(m).id for m in scenario.models}
        for api_row in prices.api:
            if api_row.model not in models or models.get(api_row.model).id not in wanted:
                continue
            if allow_providers and api_row.provider not in allow_providers:
                continue
            family = f"api / {api_row.provider}"
            region = None if api_row.region == "global" else api_row.region
            opt_a = ApiSpec(name=f"api {api_row.id}", catalog_id=api_row.id)
            target = SovereigntyTarget(
                kind=DeploymentKind.API, provider_id=api_row.provider, region_id=region
            )
            consider(Candidate(opt_a, None, api_row.provider, region, None), target, family)
    return out, rejected
