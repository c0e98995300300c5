"""Monthly cash flows of rented capacity: cloud GPU nodes and per-token APIs.

Cloud: node-hours x USD per node-hour, summed over the 168 hours of the week and
times 730/168 weeks per month, escalated with the ``cloud`` rate. Needed nodes per
hour = ceil(replicas_needed x GPUs per replica / GPUs per node). On-demand and
spot autoscale to max(min_nodes, needed); a fixed ``nodes`` (or autoscaling off)
keeps the peak fleet all month. Reserved terms are billed 24/7 for the fleet
sized to the peak of the term; months after the last whole term are on demand.
Fixed-size fleets (reserved terms, autoscaling off) hold ``spare_replicas`` replicas
beyond the need: nodes = ceil((replicas_needed + spare) x GPUs per replica / GPUs
per node).
Storage is a monthly fee; egress = output tokens x bytes per token / 1e9 x USD/GB.
Commitments (reserved prepayment, savings plans, API tiers and provisioned
throughput): :mod:`inferplan.tco.commitments`.
Staff running the serving stack on rented nodes: ``staff_fte`` x loaded cost / 12
a month (default finance row ``mlops-fte-rented``), escalated with ``staff``.

Overflow role (a bridge behind an on-prem option, or the burst part of a hybrid):
the option bills only what it carries. Autoscaled nodes follow the overflow with
no floor (``min_nodes`` is ignored: the owned fleet is the floor), and fixed
fleets, reserved terms and storage are billed only in the months in which some
overflow reaches it. A cloud *base* of a hybrid at size ``k`` autoscales under
that cap when its commitment autoscales: nodes(hour) = min(k, max(min_nodes,
needed)); reserved bases keep ``k`` nodes 24/7.

API: requests x cost per request (see :class:`~inferplan.specs.economics.ApiSpec`),
escalated with the ``api`` rate. No energy figure: providers do not publish one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inferplan.errors import SpecError
from inferplan.specs.economics import (
    RESERVED_TERM_MONTHS,
    SAVINGS_PLAN_TERM_MONTHS,
    ApiSpec,
    CloudCommitment,
    CloudSpec,
)
from inferplan.specs.prices import PriceUnit
from inferplan.tco.cashflow import FloatArray
from inferplan.tco.commitments import prepay_terms, savings_plan_hour_cost, tier_multiplier
from inferplan.tco.context import EvalContext, Flows, require_throughput
from inferplan.tco.traffic import (
    WEEKS_PER_MONTH,
    replicas_needed,
    requests_per_month,
    sizing_output_tokens_per_s,
    units_for_replicas,
)


@dataclass(frozen=True)
class NodeParams:
    """A rented node: GPUs, on-demand and committed USD per node-hour, power."""

    gpus: int
    on_demand_usd_per_hour: float
    committed_usd_per_hour: float
    max_power_w: float | None
    grid_region: str | None


def resolve_cloud(spec: CloudSpec, ctx: EvalContext, at: str) -> NodeParams:
    """Node prices at the spec's commitment, from the spec or its catalog row.

    Inline prices are per GPU-hour unless ``price_unit`` says per node.
    """
    rec = ctx.prices.cloud.get(spec.catalog_id, f"{at}.catalog_id") if spec.catalog_id else None
    gpus = spec.gpus_per_node or (rec.gpus_per_node if rec else 1)
    unit = spec.price_unit or (rec.unit if rec else PriceUnit.PER_GPU)

    def node(p: float) -> float:
        return p * gpus if unit is PriceUnit.PER_GPU else p

    od_unit = spec.price_usd_per_hour
    if od_unit is None:
        assert rec is not None
        od_unit = rec.on_demand_usd_per_hour
    od = node(od_unit)
    c = spec.commitment
    if c is CloudCommitment.ON_DEMAND:
        committed = od
    elif c in SAVINGS_PLAN_TERM_MONTHS:
        assert spec.reserved_discount is not None  # the spec requires it
        committed = od * (1.0 - spec.reserved_discount)
    elif c is CloudCommitment.SPOT:
        spot = spec.spot_price_usd_per_hour or (rec.spot_usd_per_hour if rec else None)
        if spot is None:
            raise SpecError(
                f"{at}.spot_price_usd_per_hour", "required: no spot price in the catalog row"
            )
        committed = node(spot) * (1.0 + spec.spot_interruption_overhead)
    else:
        one = c is CloudCommitment.RESERVED_1Y
        rec_price = (
            (rec.reserved_1y_usd_per_hour if one else rec.reserved_3y_usd_per_hour) if rec else None
        )
        rec_disc = (rec.reserved_1y_discount if one else rec.reserved_3y_discount) if rec else None
        if spec.reserved_discount is not None:
            committed = od * (1.0 - spec.reserved_discount)
        elif rec_disc is not None:
            committed = od * (1.0 - rec_disc)
        elif rec_price is not None:
            committed = node(rec_price)
        else:
            raise SpecError(
                f"{at}.reserved_discount", "required: no reserved price in the catalog row"
            )
    max_w = spec.node_max_power_w
    if max_w is None and rec is not None and rec.power_reference:
        ref = ctx.prices.servers.get(rec.power_reference, f"{at}.catalog_id")
        if ref.max_power_w is not None:
            max_w = ref.max_power_w * gpus / ref.gpus_per_server
    grid = spec.grid_region or (rec.grid_region if rec else None)
    return NodeParams(gpus, od, committed, max_w, grid)


def _node_plan(
    spec: CloudSpec,
    need: FloatArray,
    node: NodeParams,
    months: int,
    fixed: int | None,
    floor: int,
    cap: int | None = None,
    need_fixed: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Nodes and USD per node-hour for every (month, hour); index 0 stays empty.

    ``floor`` is the autoscaling minimum; ``cap`` (a hybrid base size) limits
    autoscaled nodes; ``need_fixed`` (default ``need``) sizes fixed-size fleets
    (spares included).
    """
    sized = need if need_fixed is None else need_fixed
    nodes = np.zeros_like(need)
    price = np.zeros_like(need)
    notes: list[str] = []
    auto_start = 1
    if spec.commitment in RESERVED_TERM_MONTHS:
        term = RESERVED_TERM_MONTHS[spec.commitment]
        blocks = months // term
        for k in range(blocks):
            rows = slice(1 + k * term, 1 + (k + 1) * term)
            n = fixed if fixed is not None else float(sized[rows].max())
            nodes[rows] = n
            price[rows] = node.committed_usd_per_hour
        auto_start = 1 + blocks * term
        if auto_start <= months:
            notes.append(
                f"months {auto_start}-{months} fall outside a whole {term}-month term "
                "and are billed on demand"
            )
        rate = node.on_demand_usd_per_hour
    elif spec.commitment in SAVINGS_PLAN_TERM_MONTHS:
        rate = node.on_demand_usd_per_hour  # usage valued on demand, billed by the plan
    else:
        rate = node.committed_usd_per_hour
    rows = slice(auto_start, months + 1)
    if auto_start <= months:
        if cap is not None and spec.autoscaling:
            nodes[rows] = np.minimum(cap, np.maximum(min(floor, cap), need[rows]))
        elif fixed is not None or not spec.autoscaling:
            n = fixed if fixed is not None else float(sized[1:].max())
            nodes[rows] = n
        else:
            nodes[rows] = np.maximum(floor, need[rows])
        price[rows] = rate
    return nodes, price, notes


def _bill_compute(spec: CloudSpec, ctx: EvalContext, flows: Flows, value: FloatArray) -> None:
    """Book compute: ``value[m, h]`` is USD per hour of hour-of-week h in month m at the
    price the plan bills (on-demand value for savings plans)."""
    months = ctx.months
    if spec.commitment in SAVINGS_PLAN_TERM_MONTHS:
        assert spec.savings_plan_usd_per_hour is not None and spec.reserved_discount is not None
        term = SAVINGS_PLAN_TERM_MONTHS[spec.commitment]
        covered = 1 + (months // term) * term  # first month after the last whole term
        value = value.copy()
        value[1:covered] = savings_plan_hour_cost(
            value[1:covered], spec.savings_plan_usd_per_hour, spec.reserved_discount
        )
        if covered <= months:
            flows.warnings.append(
                f"months {covered}-{months} fall outside a whole {term}-month plan "
                "and are billed on demand"
            )
    monthly = value.sum(axis=1) * WEEKS_PER_MONTH
    share = {"no_upfront": 0.0, "all_upfront": 1.0}.get(
        spec.reserved_payment, spec.reserved_upfront_share or 0.0
    )
    if spec.commitment in RESERVED_TERM_MONTHS and share > 0:
        term = RESERVED_TERM_MONTHS[spec.commitment]
        upfront, monthly = prepay_terms(monthly, 1, term, months // term, share)
        flows.add("cloud_upfront", upfront)
    flows.add("cloud_compute", monthly)


def evaluate_cloud(
    spec: CloudSpec,
    ctx: EvalContext,
    demand: FloatArray,
    at: str,
    nodes_override: int | None = None,
    overflow: bool = False,
) -> Flows:
    """Cash flows of ``spec`` serving ``demand`` (rps[m, h]); see the module docstring.

    ``nodes_override``: a hybrid base size (a cap when the commitment autoscales).
    ``overflow``: the option carries another option's overflow (bridge or burst).
    """
    f = ctx.factors
    thr = (
        require_throughput(
            spec.output_tokens_per_s_per_replica, f"{at}.output_tokens_per_s_per_replica"
        )
        * f.throughput
    )
    node = resolve_cloud(spec, ctx, at)
    g, util = spec.gpus_per_replica, spec.target_utilisation
    out_mean, burst = ctx.out_tokens, ctx.traffic.peak_to_mean_within_hour
    reps_needed = replicas_needed(sizing_output_tokens_per_s(demand, ctx.traffic), thr, util)
    need = units_for_replicas(reps_needed, g, node.gpus)
    need_fixed = (
        units_for_replicas(reps_needed + spec.spare_replicas, g, node.gpus)
        if spec.spare_replicas
        else None
    )
    fixed = nodes_override if nodes_override is not None else spec.nodes
    cap = nodes_override if spec.commitment not in RESERVED_TERM_MONTHS else None
    floor = 0 if overflow else spec.min_nodes
    nodes, price, notes = _node_plan(spec, need, node, ctx.months, fixed, floor, cap, need_fixed)
    active = np.ones(ctx.months + 1, dtype=bool)
    active[0] = False
    if overflow:
        active[1:] = demand[1:].max(axis=1) > 0
        nodes[~active] = 0.0
    flows = Flows(ctx.months, warnings=notes)
    cloud_idx = ctx.index("cloud") * f.cloud_price
    _bill_compute(spec, ctx, flows, nodes * price * cloud_idx[:, None])
    reps = np.floor(nodes * node.gpus / g + 1e-9)
    served = np.minimum(demand, reps * thr * util / (out_mean * burst))
    on = active.astype(float)
    if spec.storage_usd_per_month:
        flows.add("storage", on * spec.storage_usd_per_month * cloud_idx)
    if not overflow:
        fte = spec.staff_fte
        if fte is None:
            fte = ctx.finance_rate("mlops-fte-rented", f"{at}.staff_fte")
        salary = spec.staff_usd_per_fte_year
        if salary is None:
            salary = ctx.prices.rate("staff-loaded-cost")
        if fte:
            staff = on * fte * salary * f.staff_cost / 12.0 * ctx.index("staff")
            flows.add("staff", staff)
    served_req = requests_per_month(served)
    if spec.egress_usd_per_gb:
        gb = served_req * out_mean * spec.egress_bytes_per_output_token / 1e9
        flows.add("egress", gb * spec.egress_usd_per_gb * cloud_idx)
    flows.served_requests = served_req
    flows.overflow_rps = demand - served
    if node.max_power_w is not None:
        idle = ctx.prices.rate("server-idle-power-share")
        load = np.divide(served * out_mean, reps * thr, out=np.zeros_like(served), where=reps > 0)
        it_kw = nodes * node.max_power_w * f.power * (idle + (1 - idle) * load) / 1000.0
        pue = spec.pue if spec.pue is not None else ctx.prices.rate("pue-hyperscale")
        region = ctx.region(node.grid_region, f"{at}.grid_region")
        flows.energy_kwh = it_kw.sum(axis=1) * WEEKS_PER_MONTH * pue
        flows.co2_kg = flows.energy_kwh * region.grid_gco2_per_kwh / 1000.0
        flows.info["grid_region"] = region.id
    flows.info.update(
        peak_nodes=float(nodes.max()),
        mean_nodes=float(nodes[1:].mean()) if ctx.months else 0.0,
        usd_per_node_hour=node.committed_usd_per_hour,
    )
    return flows


def api_usd_per_request(spec: ApiSpec, ctx: EvalContext, at: str) -> float:
    """Cost of one mean request at today's price, USD."""
    rec = ctx.prices.api.get(spec.catalog_id, f"{at}.catalog_id") if spec.catalog_id else None
    p_in = spec.input_usd_per_million
    p_out = spec.output_usd_per_million
    if p_in is None or p_out is None:
        assert rec is not None
        p_in = rec.input_usd_per_million if p_in is None else p_in
        p_out = rec.output_usd_per_million if p_out is None else p_out
    p_cached = spec.cached_input_usd_per_million
    if p_cached is None:
        p_cached = rec.cached_input_usd_per_million if rec else None
    if p_cached is None:
        p_cached = p_in
    disc = spec.batch_discount
    if disc is None:
        disc = rec.batch_discount if rec else 0.0
    t = ctx.traffic
    c = t.cached_input_share
    usd = (
        t.input_tokens_mean * ((1 - c) * p_in + c * p_cached) + t.output_tokens_mean * p_out
    ) / 1e6
    return usd * (1.0 - spec.batch_share * disc)


def evaluate_api(spec: ApiSpec, ctx: EvalContext, demand: FloatArray, at: str) -> Flows:
    """Cash flows of an API serving all of ``demand``; rate limits become warnings.

    Per-token cost = requests x cost per request x (1 - enterprise discount) x the
    volume-tier multiplier of the month's billed tokens; provisioned throughput adds
    its fixed fee and takes the requests it can carry off the per-token bill.
    """
    flows = Flows(ctx.months)
    req = requests_per_month(demand)
    per_req = api_usd_per_request(spec, ctx, at) * (1.0 - spec.enterprise_discount)
    price_idx = ctx.index("api") * ctx.factors.api_price
    billed = req
    prov = spec.provisioned
    if prov is not None:
        cap_rps = (
            prov.units
            * prov.tokens_per_s_per_unit
            / (ctx.tokens_per_request * ctx.traffic.peak_to_mean_within_hour)
        )
        billed = requests_per_month(np.maximum(0.0, demand - cap_rps))
        fee = np.zeros(ctx.months + 1)
        fee[1:] = prov.units * prov.usd_per_unit_month
        flows.add("api_provisioned", fee * price_idx)
        flows.info["provisioned_share_of_requests"] = (
            1.0 - float(billed.sum()) / float(req.sum()) if req.sum() > 0 else 0.0
        )
    tiers = tier_multiplier(billed * ctx.tokens_per_request / 1e6, spec.volume_tiers)
    flows.add("api", billed * per_req * tiers * price_idx)
    flows.served_requests = req
    flows.overflow_rps = np.zeros_like(demand)
    peak_rpm = float(demand.max()) * 60.0 * ctx.traffic.peak_to_mean_within_hour
    if spec.max_requests_per_minute and peak_rpm > spec.max_requests_per_minute:
        flows.warnings.append(
            f"peak {peak_rpm:,.0f} requests/min exceeds the rate limit "
            f"{spec.max_requests_per_minute:,.0f}"
        )
    peak_tpm = peak_rpm * ctx.tokens_per_request
    if spec.max_tokens_per_minute and peak_tpm > spec.max_tokens_per_minute:
        flows.warnings.append(
            f"peak {peak_tpm:,.0f} tokens/min exceeds the rate limit "
            f"{spec.max_tokens_per_minute:,.0f}"
        )
    flows.info["usd_per_request"] = per_req
    return flows


__all__ = ["NodeParams", "api_usd_per_request", "evaluate_api", "evaluate_cloud", "resolve_cloud"]
