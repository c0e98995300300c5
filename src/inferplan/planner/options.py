"""Turn replica designs into deployment options (own DC, colocation, cloud, API)
and check each against the sovereignty policy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from inferplan.catalog import load_accelerators, load_models
from inferplan.catalog.loader import Catalog
from inferplan.catalog.prices import PriceCatalog
from inferplan.errors import InferplanError
from inferplan.planner.designs import Design, Rejection
from inferplan.sovereignty import SovereigntyTarget, compliance_overheads, evaluate
from inferplan.sovereignty.evaluate import ComplianceCost
from inferplan.sovereignty.rules import Finding
from inferplan.specs.economics import (
    RESERVED_TERM_MONTHS,
    ApiSpec,
    CloudCommitment,
    CloudSpec,
    ColocationFacilitySpec,
    DeploymentOption,
    OnPremSpec,
    ServerCapexSpec,
)
from inferplan.specs.hardware import AcceleratorSpec
from inferplan.specs.policy import DeploymentKind, SovereigntyPolicy
from inferplan.specs.prices import CloudPriceRecord, RegionRecord, ServerPriceRecord
from inferplan.specs.provider import ProviderSpec
from inferplan.specs.scenario import ScenarioSpec
from inferplan.tco.traffic import hourly_request_rates, replicas_needed, units_for_replicas


def catalog_id_of(option: DeploymentOption) -> str | None:
    """The catalog row an option is priced from: the server row of an own or colocated
    fleet, the cloud or API row; None for inline prices and hybrids."""
    if isinstance(option, OnPremSpec):
        return option.capex.catalog_id
    if isinstance(option, CloudSpec | ApiSpec):
        return option.catalog_id
    return None


def lead_time_months_of(option: DeploymentOption) -> int:
    """Months before a bought fleet serves (0 for rented options)."""
    return option.lead_time_months if isinstance(option, OnPremSpec) else 0


@dataclass
class Candidate:
    """One priced-to-be option with where it came from and its sovereignty verdict.

    ``compliance``: the yearly staff and cash the data rules add (priced as its own
    cost line); ``spare_replicas``: replicas bought beyond the peak need;
    ``bridge``: the rented option that serves the lead months of a bought fleet;
    ``burst`` / ``base``: a hybrid's overflow option and owned base.
    """

    option: DeploymentOption
    design: Design | None
    provider: str
    region: str | None
    country: str | None
    legal_sovereignty: float = 1.0
    operational_sovereignty: float = 1.0
    findings: list[Finding] = field(default_factory=list)
    compliance: ComplianceCost | None = None
    spare_replicas: int = 0
    bridge: Candidate | None = None
    burst: Candidate | None = None
    base: Candidate | None = None

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
    cand.findings = list(res.findings)
    if res.allowed:
        return None
    fails = "; ".join(f"{f.rule}: {f.reason}" for f in res.failures())
    return Rejection(family, "sovereignty", fails)


def _short(d: Design) -> str:
    dep = d.deployment
    par = f"x{dep.tp}" if dep.pp == 1 else f"x{dep.tp}x{dep.pp}pp"
    if dep.ep > 1:
        n = dep.tp * dep.dp_attention * dep.pp
        par = f"x{n} ep{dep.ep}" + ("-dpa" if dep.dp_attention > 1 else "")
    tech = f" {d.technique.short}" if d.technique is not None else ""
    return (
        f"{dep.model.id} on {dep.accelerator.id} {par} {dep.weights.precision.value} "
        f"{dep.engine.id}{tech}"
    )


def _in_node_what(d: Design) -> str:
    """What must sit in one node: a replica, its expert-parallel group's share of a node,
    or a disaggregated unit."""
    if d.technique is not None and d.technique.disaggregated:
        return "a disaggregated unit"
    dep = d.deployment
    if dep.dp_attention > 1:
        return f"a replica's expert-parallel group (EP {dep.ep}, all-to-all inside the node)"
    return "a replica"


def canonical_accelerator(accs: Catalog[AcceleratorSpec], name: str) -> str:
    """Catalog id of an accelerator named by id or alias (price rows use either)."""
    return accs.get(name).id if name in accs else name


def peak_output_tokens_per_s(scenario: ScenarioSpec) -> float:
    """Output tokens/s of the busiest hour of the horizon (last year's growth, the
    intra-hour peak factor): the load every fleet is sized for."""
    w = scenario.workload
    growth = (1 + w.growth_per_year) ** (scenario.finance.horizon_years - 1)
    rate = float(hourly_request_rates(w).max()) * growth * w.peak_to_mean_within_hour
    return rate * w.output_tokens_mean


def replicas_at_peak(scenario: ScenarioSpec, d: Design) -> int:
    """ceil(peak output tokens/s / (replica output tokens/s at the SLO x utilisation))."""
    return int(
        replicas_needed(
            peak_output_tokens_per_s(scenario),
            d.capacity.output_tokens_per_s,
            scenario.candidates.target_utilisation,
        )
    )


def _server_for(servers: list[ServerPriceRecord], gpus: int) -> ServerPriceRecord:
    """The server row that buys ``gpus`` devices for the least money (whole servers)."""
    return min(servers, key=lambda s: (math.ceil(gpus / s.gpus_per_server) * s.price_usd, s.id))


def build_candidates(
    scenario: ScenarioSpec,
    designs: list[Design],
    prices: PriceCatalog,
    providers: Catalog[ProviderSpec],
    regions: Catalog[RegionRecord],
    accelerators: list[str] | None = None,
) -> tuple[list[Candidate], list[Rejection]]:
    """Every deployment option the designs and catalogs allow, and the rejections.

    Price rows are joined to designs through canonical accelerator ids (a row may
    name an alias). Own and colocated fleets are bought as whole servers holding
    the replicas the peak needs plus ``candidates.spare_replicas`` spares. Cloud
    offers are tried at every term their row prices (on demand with autoscaling,
    reserved 1 and 3 years when the horizon holds the term) and need at least as
    many GPUs per node as a replica. A reserved fleet is fixed for its term, so it
    holds the same ``candidates.spare_replicas`` spares as an own fleet; an on-demand
    fleet autoscales and replaces a failed node on demand, so it holds none.
    ``accelerators`` (the candidate space) lets offers of accelerators without any
    design be listed as rejected.
    """
    accs = load_accelerators()
    kinds = set(scenario.candidates.kinds)
    allow_providers = scenario.candidates.providers
    policy = scenario.policy
    home = site_country(scenario, regions)
    cand = scenario.candidates
    util = cand.target_utilisation
    out: list[Candidate] = []
    rejected: list[Rejection] = []

    def consider(c: Candidate, target: SovereigntyTarget, family: str) -> None:
        try:
            rej = _check(c, policy, providers, target, family)
        except InferplanError as exc:
            rej = Rejection(family, "sovereignty", str(exc))
        if rej is not None:
            rejected.append(rej)
        else:
            out.append(c)

    server_rows: dict[str, list[ServerPriceRecord]] = {}
    for s in prices.servers:
        if s.superseded_by is not None:  # a newer price of the same server stands for it
            continue
        server_rows.setdefault(canonical_accelerator(accs, s.accelerator), []).append(s)
    cloud_rows = [(canonical_accelerator(accs, r.accelerator), r) for r in prices.cloud]
    with_designs = {d.deployment.accelerator.id for d in designs}
    for acc in accelerators or []:
        if acc in with_designs:
            continue
        for acc_id, row in cloud_rows:
            if acc_id == acc and "cloud" in kinds:
                rejected.append(
                    Rejection(
                        f"cloud / {row.id}",
                        "design",
                        f"no design of {', '.join(scenario.models)} fits on {acc} "
                        "within the SLO (see the accelerator's own line)",
                    )
                )
    price_missing: set[tuple[str, str]] = set()
    for d in designs:
        dep, cap = d.deployment, d.capacity
        g = d.devices  # a replica, or a disaggregated unit's prefill and decode pools
        in_node = d.node_devices
        serving = dict(
            output_tokens_per_s_per_replica=cap.output_tokens_per_s,
            gpus_per_replica=g,
            target_utilisation=util,
        )
        servers = server_rows.get(dep.accelerator.id, [])
        for kind in ("on_prem", "colocation"):
            if kind not in kinds:
                continue
            family = f"{kind} / {dep.accelerator.id}"
            if not servers:
                if (kind, dep.accelerator.id) not in price_missing:
                    price_missing.add((kind, dep.accelerator.id))
                    rejected.append(
                        Rejection(
                            family,
                            "price",
                            f"the catalog has no purchase price for a {dep.accelerator.id} "
                            "server, so buying one cannot be costed",
                        )
                    )
                continue
            replicas = replicas_at_peak(scenario, d) + cand.spare_replicas
            server = _server_for(servers, replicas * g)
            if server.gpus_per_server < in_node:
                rejected.append(
                    Rejection(
                        f"{family} / {d.label}",
                        "hardware",
                        f"{_in_node_what(d)} needs "
                        f"{in_node} GPUs in one node; the {server.id} server "
                        f"holds {server.gpus_per_server}",
                    )
                )
                continue
            n_servers = int(units_for_replicas(replicas, g, server.gpus_per_server))
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
                ColocationFacilitySpec(power_included=cand.colocation_power_included)
                if kind == "colocation"
                else None
            )
            opt = OnPremSpec(
                kind=kind,
                name=f"{kind.replace('_', '-')} {_short(d)}",
                capex=ServerCapexSpec(catalog_id=server.id),
                facility=facility,
                servers=n_servers,
                lead_time_months=cand.lead_time_months,
                compliance_fte=extra.ops_fte if extra is not None else 0.0,
                compliance_usd_per_year=extra.usd_per_year if extra is not None else 0.0,
                **serving,
            )
            c = Candidate(opt, d, kind.replace("_", "-"), None, home)
            c.compliance = extra
            c.spare_replicas = cand.spare_replicas
            consider(c, target, family)
        if "cloud" not in kinds:
            continue
        offers = [(a, r) for a, r in cloud_rows if a == dep.accelerator.id]
        if not offers and ("cloud", dep.accelerator.id) not in price_missing:
            price_missing.add(("cloud", dep.accelerator.id))
            rejected.append(
                Rejection(
                    f"cloud / {dep.accelerator.id}",
                    "price",
                    f"the catalog has no cloud offer for {dep.accelerator.id}",
                )
            )
        for _acc_id, row in offers:
            family = f"cloud / {row.id}"
            if allow_providers and row.provider not in allow_providers:
                rejected.append(
                    Rejection(
                        family,
                        "provider",
                        f"{row.provider} is not in candidates.providers "
                        f"({', '.join(allow_providers)})",
                    )
                )
                continue
            if row.gpus_per_node < in_node:
                what = (
                    f"a replica split {dep.tp} ways (tensor parallel) needs {dep.tp} GPUs"
                    if in_node == dep.tp and dep.dp_attention == 1
                    else f"{_in_node_what(d)} needs {in_node} GPUs"
                )
                rejected.append(
                    Rejection(
                        f"{family} / {d.label}",
                        "hardware",
                        f"{row.instance} has {row.gpus_per_node} GPU"
                        f"{'s' if row.gpus_per_node > 1 else ''} per node; "
                        f"{what} in one node",
                    )
                )
                continue
            region = None if row.region == "global" else row.region
            if region is None and policy is not None:
                rejected.append(
                    Rejection(
                        family,
                        "sovereignty",
                        "the offer names no region, so the data-location rules cannot be checked",
                    )
                )
                continue
            target = SovereigntyTarget(
                kind=DeploymentKind.CLOUD, provider_id=row.provider, region_id=region
            )
            for term in cloud_terms(row, scenario.finance.horizon_months):
                label = "" if term is CloudCommitment.ON_DEMAND else f" {term.value}"
                # a reserved fleet is fixed: it holds the availability spares an own
                # fleet holds; on demand, a failed node is replaced by autoscaling
                spare = 0 if term is CloudCommitment.ON_DEMAND else cand.spare_replicas
                opt_c = CloudSpec(
                    name=f"cloud {row.id}{label} {_short(d)}",
                    catalog_id=row.id,
                    commitment=term,
                    autoscaling=term is CloudCommitment.ON_DEMAND,
                    spare_replicas=spare,
                    **serving,
                )
                c_cloud = Candidate(opt_c, d, row.provider, row.region, None)
                c_cloud.spare_replicas = spare
                consider(c_cloud, target, family)
    if "api" in kinds:
        models = load_models()
        wanted = {models.get(m).id for m in scenario.models}
        for api_row in prices.api:
            if api_row.model not in models or models.get(api_row.model).id not in wanted:
                continue
            family = f"api / {api_row.id}"
            if allow_providers and api_row.provider not in allow_providers:
                rejected.append(
                    Rejection(
                        family,
                        "provider",
                        f"{api_row.provider} is not in candidates.providers "
                        f"({', '.join(allow_providers)})",
                    )
                )
                continue
            region = None if api_row.region == "global" else api_row.region
            opt_a = ApiSpec(
                name=f"api {api_row.id} ({models.get(api_row.model).id})",
                catalog_id=api_row.id,
            )
            target = SovereigntyTarget(
                kind=DeploymentKind.API, provider_id=api_row.provider, region_id=region
            )
            consider(Candidate(opt_a, None, api_row.provider, region, None), target, family)
    return out, rejected


def cloud_terms(row: CloudPriceRecord, horizon_months: int) -> list[CloudCommitment]:
    """On demand, and each reserved term the row prices and the horizon holds whole."""
    terms = [CloudCommitment.ON_DEMAND]
    for term, price, disc in (
        (CloudCommitment.RESERVED_1Y, row.reserved_1y_usd_per_hour, row.reserved_1y_discount),
        (CloudCommitment.RESERVED_3Y, row.reserved_3y_usd_per_hour, row.reserved_3y_discount),
    ):
        if (price is not None or disc is not None) and RESERVED_TERM_MONTHS[term] <= horizon_months:
            terms.append(term)
    return terms
