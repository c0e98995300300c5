"""Monthly cash flows of owned servers (own data centre or colocation).

The fleet is bought in tranches: one at month 0 (``purchase: upfront``, optionally
sold and re-bought at ``refresh_after_years``), or one per year of growth
(``purchase: staged``: year k's extra servers ordered ``lead_time_months`` before
month 12k + 1, never before month 0, all sold at the end of the horizon). Per
tranche of ``n`` servers and ``s = ceil(n x spare_share)`` spares:

* hardware H = (n + s) x (server + networking + storage share) x hardware
  escalation at purchase; paid per ``financing`` (cash at purchase, loan, or
  lease). Installation n x installation per server, cash at purchase.
* residual value -H x share at the sale; share = ``residual_value_share``, else
  (1 - ``residual_decline_per_year``)^(age/12 years), else straight-line book value
  over ``depreciation_years``. None for leases (the lessor keeps the hardware).
  Decommissioning (n + s) x USD per server at the sale.
* per service month: support = support share x H / 12, insurance and failure
  replacement = their shares x H / 12, licences = USD/GPU-year x n x GPUs / 12.
* staff per month with servers in service: (``staff_fte`` + servers /
  ``staff_servers_per_fte``) x loaded cost / 12.
* compliance per month with servers in service (what the data rules add, e.g. air-gap
  operations): (``compliance_fte`` x loaded cost + ``compliance_usd_per_year``) / 12,
  its own line; the staff price factor and escalation apply to its FTE part.
* power: IT kW(hour) = servers x load power x (idle share + (1 - idle share) x
  load), load = served output tokens/s / (installed replicas x throughput), load
  power = the server's draw at full serving load (``load_power_w``, default the
  finance row, else ``max_power_w``). Facility kWh = IT kWh x PUE; metered:
  electricity = facility kWh x USD/kWh. Colocation: servers x max kW x
  USD/kW-month, plus electricity only if ``power_included`` is false. Own data
  centre capacity: rent per kW-month, or build capex per kW with its book value
  back at the end, or sunk (see :class:`~inferplan.specs.economics.MeteredFacilitySpec`).
* capacity: installed replicas x throughput x target utilisation; demand above it
  (and all demand before service starts) is returned as overflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inferplan.errors import SpecError
from inferplan.specs.economics import (
    ColocationFacilitySpec,
    Financing,
    FinancingSpec,
    MeteredFacilitySpec,
    OnPremSpec,
)
from inferplan.tco.cashflow import (
    FloatArray,
    annuity_payment,
    loan_schedule,
    purchase_index,
    straight_line_book_share,
)
from inferplan.tco.context import EvalContext, Flows, require_throughput
from inferplan.tco.tax import Asset
from inferplan.tco.traffic import (
    WEEKS_PER_MONTH,
    replicas_needed,
    requests_per_month,
    sizing_output_tokens_per_s,
    units_for_replicas,
)


@dataclass(frozen=True)
class ServerParams:
    """Resolved per-server figures: GPUs, USD and W."""

    gpus: int
    hardware_usd: float
    installation_usd: float
    max_power_w: float
    idle_power_share: float
    load_power_w: float = 0.0
    load_power_source: str = "max_power_w"


@dataclass(frozen=True)
class Tranche:
    """Servers bought at ``buy``, in service ``start``..``end``, sold at ``end``."""

    buy: int
    n: int
    spares: int
    start: int
    end: int
    throughput: float
    price_factor: float


def resolve_server(spec: OnPremSpec, ctx: EvalContext, at: str) -> ServerParams:
    """Per-server price and power from the spec, falling back to the catalog rows."""
    cap = spec.capex
    rec = (
        ctx.prices.servers.get(cap.catalog_id, f"{at}.capex.catalog_id")
        if cap.catalog_id is not None
        else None
    )
    gpus = cap.gpus_per_server or (rec.gpus_per_server if rec else None)
    max_w = cap.max_power_w or (rec.max_power_w if rec else None)
    if gpus is None:
        raise SpecError(f"{at}.capex.gpus_per_server", "required")
    if max_w is None:
        raise SpecError(f"{at}.capex.max_power_w", "required: the catalog row has no power")
    if cap.server_price_usd is not None:
        base = cap.server_price_usd
    elif cap.gpu_price_usd is not None:
        parts = cap.chassis_usd + cap.cpus_usd + cap.memory_usd + cap.nics_usd
        base = gpus * cap.gpu_price_usd + parts
    else:
        assert rec is not None
        base = rec.price_usd
    idle = cap.idle_power_share
    if idle is None:
        idle = ctx.prices.rate("server-idle-power-share")
    load_w, load_src = max_w, "max_power_w"
    if cap.load_power_w is not None:
        load_w, load_src = cap.load_power_w, "load_power_w"
    elif rec is not None and f"load-power-{rec.id}" in ctx.finance_rates:
        load_w, load_src = (
            ctx.finance_rates.get(f"load-power-{rec.id}").value,
            (f"finance:load-power-{rec.id}"),
        )
    return ServerParams(
        gpus=gpus,
        hardware_usd=base + cap.networking_usd_per_server + cap.storage_usd_per_server,
        installation_usd=cap.installation_usd_per_server,
        max_power_w=max_w,
        idle_power_share=idle,
        load_power_w=load_w,
        load_power_source=load_src,
    )


def _tranches(
    spec: OnPremSpec,
    ctx: EvalContext,
    demand: FloatArray,
    srv: ServerParams,
    thr0: float,
    servers_override: int | None,
) -> list[Tranche]:
    months = ctx.months
    start0 = spec.lead_time_months + 1
    util, g = spec.target_utilisation, spec.gpus_per_replica
    fixed = servers_override if servers_override is not None else spec.servers

    def size(first: int, last: int, thr: float) -> int:
        if fixed is not None:
            return fixed
        peak = float(sizing_output_tokens_per_s(demand[first : last + 1], ctx.traffic).max())
        return int(units_for_replicas(replicas_needed(peak, thr, util), g, srv.gpus))

    def spares(n: int) -> int:
        return math.ceil(n * spec.spare_share - 1e-9)

    if spec.purchase == "staged" and servers_override is None:
        out: list[Tranche] = []
        have = 0
        for k in range((months + 11) // 12):
            first, last = max(12 * k + 1, start0), min(12 * k + 12, months)
            if first > last:
                continue
            add = max(0, size(first, last, thr0) - have)
            if add > 0:
                buy = max(0, first - 1 - spec.lead_time_months)
                out.append(Tranche(buy, add, spares(add), first, months, thr0, 1.0))
                have += add
        return out
    if spec.refresh_after_years is None:
        n = size(start0, months, thr0)
        return [Tranche(0, n, spares(n), start0, months, thr0, 1.0)]
    r = 12 * spec.refresh_after_years
    thr1 = thr0 * spec.refresh_throughput_factor
    n0, n1 = size(start0, r, thr0), size(r + 1, months, thr1)
    return [
        Tranche(0, n0, spares(n0), start0, r, thr0, 1.0),
        Tranche(r, n1, spares(n1), r + 1, months, thr1, spec.refresh_price_factor),
    ]


def pay_for_hardware(flows: Flows, fin: FinancingSpec, price: float, buy: int, sell: int) -> None:
    """Book the hardware price ``price`` bought at ``buy`` and sold at ``sell``."""
    held = sell - buy
    if fin.kind is Financing.CASH:
        flows.add_at("hardware", buy, price)
    elif fin.kind is Financing.LOAN:
        down = price * fin.down_payment_share
        flows.add_at("hardware", buy, down)
        term = fin.term_months or held
        interest, repaid, balance = loan_schedule(price - down, fin.annual_rate, term, held)
        v_i, v_p = flows.zeros(), flows.zeros()
        v_i[buy + 1 : sell + 1] = interest
        v_p[buy + 1 : sell + 1] = repaid
        v_p[sell] += balance
        flows.add("financing_interest", v_i)
        flows.add("hardware", v_p)
    else:
        pay = annuity_payment(
            price, fin.annual_rate / 12.0, held, balloon=fin.lease_residual_share * price
        )
        v = flows.zeros()
        v[buy + 1 : sell + 1] = pay
        flows.add("lease", v)


def residual_share(spec: OnPremSpec, age_months: int) -> float:
    """Share of the purchase price a server fetches at ``age_months`` (see the module doc)."""
    if spec.residual_value_share is not None:
        return spec.residual_value_share
    if spec.residual_decline_per_year is not None:
        return float((1.0 - spec.residual_decline_per_year) ** (age_months / 12.0))
    return straight_line_book_share(age_months, spec.depreciation_years)


def _facility(
    spec: OnPremSpec,
    ctx: EvalContext,
    flows: Flows,
    installed: FloatArray,
    srv: ServerParams,
    at: str,
) -> None:
    """Facility capacity costs: colocation rent, own-DC rent or capex, fixed fees."""
    facility = spec.facility or MeteredFacilitySpec()
    kw = installed * srv.max_power_w / 1000.0
    on = (installed > 0).astype(float)
    colo_idx, f = ctx.index("colocation"), ctx.factors
    if isinstance(facility, ColocationFacilitySpec):
        rate = facility.usd_per_kw_month
        if rate is None:
            rate = ctx.prices.rates.get(facility.catalog_id, f"{at}.facility.catalog_id").value
        flows.add("colocation", kw * rate * colo_idx * f.colocation_price)
        return
    if facility.fixed_usd_per_month:
        flows.add("facility", on * facility.fixed_usd_per_month * colo_idx)
    if facility.capacity_cost == "rent":
        rate = facility.usd_per_kw_month
        if rate is None:
            rate = ctx.prices.rate("colocation-wholesale-na")
        flows.add("facility_rent", kw * rate * colo_idx * f.colocation_price)
    elif facility.capacity_cost == "capex":
        per_kw = facility.capex_usd_per_kw
        if per_kw is None:
            per_kw = ctx.finance_rate(
                "dc-construction-usd-per-kw", f"{at}.facility.capex_usd_per_kw"
            )
        life = facility.life_years
        if life is None:
            life = ctx.finance_rate("dc-facility-life-years", f"{at}.facility.life_years")
        capex = float(kw.max()) * per_kw
        book = capex * straight_line_book_share(ctx.months, life)
        flows.add_at("facility_capex", 0, capex)
        flows.add_at("facility_residual", ctx.months, -book)
        if capex > 0:
            first = int(np.argmax(installed > 0))
            flows.assets.append(Asset(capex, first, ctx.months, book, "facility"))


def evaluate_on_prem(
    spec: OnPremSpec,
    ctx: EvalContext,
    demand: FloatArray,
    at: str,
    servers_override: int | None = None,
) -> Flows:
    """Cash flows of ``spec`` serving ``demand`` (rps[m, h]); see the module docstring."""
    n_months, f, esc = ctx.months, ctx.factors, ctx.finance.escalation
    thr0 = (
        require_throughput(
            spec.output_tokens_per_s_per_replica, f"{at}.output_tokens_per_s_per_replica"
        )
        * f.throughput
    )
    srv = resolve_server(spec, ctx, at)
    region = ctx.region(spec.region, f"{at}.region")
    g, util = spec.gpus_per_replica, spec.target_utilisation
    out_mean, burst = ctx.out_tokens, ctx.traffic.peak_to_mean_within_hour
    flows = Flows(n_months)
    support_share = spec.support_share_per_year
    if support_share is None:
        support_share = ctx.prices.rate("support-share")
    licence = spec.licence_usd_per_gpu_year
    if licence is None:
        licence = (
            ctx.prices.rates.get(spec.licence_id, f"{at}.licence_id").value
            if spec.licence_id
            else 0.0
        )
    sw_idx = ctx.index("software")
    tranches = _tranches(spec, ctx, demand, srv, thr0, servers_override)
    installed = flows.zeros()
    thr = flows.zeros()
    for t in tranches:
        units = t.n + t.spares
        installed[t.start : t.end + 1] += t.n
        thr[t.start : t.end + 1] = t.throughput
        if units == 0:
            continue
        price_idx = purchase_index(t.buy, esc.hardware) * t.price_factor * f.hardware_price
        hw = units * srv.hardware_usd * price_idx
        flows.add_at("installation", t.buy, t.n * srv.installation_usd * price_idx)
        pay_for_hardware(flows, spec.financing, hw, t.buy, t.end)
        if spec.financing.kind is not Financing.LEASE:
            share = residual_share(spec, t.end - t.buy)
            proceeds = hw * share * f.residual_value
            flows.add_at("residual_value", t.end, -proceeds)
            cost = hw + t.n * srv.installation_usd * price_idx
            flows.assets.append(Asset(cost, t.start, t.end, proceeds))
        if spec.decommissioning_usd_per_server:
            flows.add_at("decommissioning", t.end, units * spec.decommissioning_usd_per_server)
        on = flows.zeros()
        on[t.start : t.end + 1] = 1.0
        flows.add("support", on * support_share * f.support_share * hw / 12.0)
        if spec.insurance_share_per_year:
            flows.add("insurance", on * spec.insurance_share_per_year * hw / 12.0)
        if spec.failure_replacement_share_per_year:
            flows.add(
                "failure_replacement", on * spec.failure_replacement_share_per_year * hw / 12.0
            )
        if licence:
            flows.add("licences", on * licence * t.n * srv.gpus / 12.0 * sw_idx)
    # capacity, service and power, month by month
    reps = np.floor(installed * srv.gpus / g + 1e-9)
    cap_rps = reps * thr * util / (out_mean * burst)
    served = np.minimum(demand, cap_rps[:, None])
    denom = (reps * thr)[:, None]
    load = np.divide(served * out_mean, denom, out=np.zeros_like(served), where=denom > 0)
    idle = srv.idle_power_share
    draw_w = srv.load_power_w * f.power * (idle + (1.0 - idle) * load)
    it_kw = installed[:, None] * draw_w / 1000.0
    # staff
    fte = spec.staff_fte if spec.staff_fte is not None else ctx.prices.rate("ops-fte")
    salary = spec.staff_usd_per_fte_year
    if salary is None:
        salary = ctx.prices.rate("staff-loaded-cost")
    in_service = (installed > 0).astype(float)
    fte_m = in_service * fte
    if spec.staff_servers_per_fte is not None:
        fte_m = fte_m + installed / spec.staff_servers_per_fte
    flows.add("staff", fte_m * salary * f.staff_cost / 12.0 * ctx.index("staff"))
    if spec.compliance_fte > 0 or spec.compliance_usd_per_year > 0:
        yearly = spec.compliance_fte * salary * f.staff_cost * ctx.index("staff")
        flows.add("compliance", in_service * (yearly + spec.compliance_usd_per_year) / 12.0)
    _facility(spec, ctx, flows, installed, srv, at)
    facility = spec.facility or MeteredFacilitySpec()
    it_kwh = it_kw.sum(axis=1) * WEEKS_PER_MONTH
    if isinstance(facility, ColocationFacilitySpec):
        pue = facility.pue if facility.pue is not None else ctx.prices.rate("pue-colocation")
        charged = not facility.power_included
    else:
        pue = facility.pue if facility.pue is not None else region.default_pue
        charged = True
    kwh = it_kwh * pue
    if charged and kwh.any():
        price = facility.electricity_usd_per_kwh
        if price is None:
            price = region.electricity_usd_per_kwh
        if price is None:
            raise SpecError(
                f"{at}.facility.electricity_usd_per_kwh",
                f"region '{region.id}' has no electricity price in the catalog; set one",
            )
        flows.add("electricity", kwh * price * ctx.index("electricity") * f.electricity_price)
    flows.energy_kwh = kwh
    flows.co2_kg = kwh * region.grid_gco2_per_kwh / 1000.0
    flows.served_requests = requests_per_month(served)
    flows.overflow_rps = demand - served
    capacity_tok = float((reps * thr).sum()) * demand.shape[1]
    served_tok = float(served.sum()) * out_mean
    flows.info.update(
        servers=[t.n for t in tranches],
        spare_servers=[t.spares for t in tranches],
        purchases=[{"month": t.buy, "servers": t.n, "spares": t.spares} for t in tranches],
        peak_servers=int(installed.max()),
        gpus=[t.n * srv.gpus for t in tranches],
        pue=pue,
        region=region.id,
        power_charged=charged,
        load_power_w=srv.load_power_w,
        load_power_source=srv.load_power_source,
        mean_utilisation=(served_tok / capacity_tok) if capacity_tok > 0 else 0.0,
    )
    return flows


__all__ = [
    "ServerParams",
    "Tranche",
    "evaluate_on_prem",
    "pay_for_hardware",
    "residual_share",
    "resolve_server",
]
