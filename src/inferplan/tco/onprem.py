"""Monthly cash flows of owned servers (own data centre or colocation).

Per fleet (the first one, and the refresh fleet if any), with ``n`` servers:

* hardware H = n x (server + networking + storage share) x hardware escalation at
  purchase; paid per ``financing`` (cash at purchase, loan, or lease).
  Installation n x installation per server, cash at purchase.
* service months: after ``lead_time_months`` from the order; the refresh fleet
  serves from the month after the refresh purchase.
* residual value -H x share at the sale (end of horizon or refresh); share =
  ``residual_value_share`` or straight-line book value over ``depreciation_years``
  of the months since purchase. None for leases (the lessor keeps the hardware).
* support = support share x H / 12, licences = USD/GPU-year x GPUs / 12, staff =
  FTE x loaded cost / 12, per service month.
* power: IT kW(hour) = n x max power x (idle share + (1 - idle share) x load),
  load = served output tokens/s / (installed replicas x throughput). Facility kWh
  = IT kWh x PUE. Metered: electricity = facility kWh x USD/kWh. Colocation: n x
  max kW x USD/kW-month, plus electricity only if ``power_included`` is false.
* capacity: installed replicas x throughput x target utilisation; demand above it
  (and all demand before service starts) is returned as overflow.
"""

from __future__ import annotations

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
from inferplan.tco.traffic import (
    WEEKS_PER_MONTH,
    replicas_in_units,
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


@dataclass(frozen=True)
class Fleet:
    buy: int
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
    return ServerParams(
        gpus=gpus,
        hardware_usd=base + cap.networking_usd_per_server + cap.storage_usd_per_server,
        installation_usd=cap.installation_usd_per_server,
        max_power_w=max_w,
        idle_power_share=idle,
    )


def _fleets(spec: OnPremSpec, months: int, throughput: float) -> list[Fleet]:
    start = spec.lead_time_months + 1
    if spec.refresh_after_years is None:
        return [Fleet(0, start, months, throughput, 1.0)]
    r = 12 * spec.refresh_after_years
    return [
        Fleet(0, start, r, throughput, 1.0),
        Fleet(
            r, r + 1, months, throughput * spec.refresh_throughput_factor, spec.refresh_price_factor
        ),
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
    served = np.zeros_like(demand)
    it_kw = np.zeros_like(demand)
    servers: list[int] = []
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
    fte = spec.staff_fte if spec.staff_fte is not None else ctx.prices.rate("ops-fte")
    salary = spec.staff_usd_per_fte_year
    if salary is None:
        salary = ctx.prices.rate("staff-loaded-cost")
    facility = spec.facility or MeteredFacilitySpec()
    colo_idx, sw_idx, staff_idx = ctx.index("colocation"), ctx.index("software"), ctx.index("staff")
    for fl in _fleets(spec, n_months, thr0):
        rows = slice(fl.start, fl.end + 1)
        if servers_override is not None:
            n = servers_override
        elif spec.servers is not None:
            n = spec.servers
        else:
            peak = float(sizing_output_tokens_per_s(demand[rows], ctx.traffic).max())
            n = int(units_for_replicas(replicas_needed(peak, fl.throughput, util), g, srv.gpus))
        servers.append(n)
        if n == 0:
            continue
        reps = replicas_in_units(n, g, srv.gpus)
        if reps > 0:
            cap_rps = reps * fl.throughput * util / (out_mean * burst)
            served[rows] = np.minimum(demand[rows], cap_rps)
            load = served[rows] * out_mean / (reps * fl.throughput)
        else:
            load = np.zeros_like(demand[rows])
        idle = srv.idle_power_share
        it_kw[rows] = n * srv.max_power_w * f.power * (idle + (1.0 - idle) * load) / 1000.0
        price_idx = purchase_index(fl.buy, esc.hardware) * fl.price_factor * f.hardware_price
        hw = n * srv.hardware_usd * price_idx
        flows.add_at("installation", fl.buy, n * srv.installation_usd * price_idx)
        pay_for_hardware(flows, spec.financing, hw, fl.buy, fl.end)
        if spec.financing.kind is not Financing.LEASE:
            share = spec.residual_value_share
            if share is None:
                share = straight_line_book_share(fl.end - fl.buy, spec.depreciation_years)
            flows.add_at("residual_value", fl.end, -hw * share * f.residual_value)
        on = flows.zeros()
        on[rows] = 1.0
        flows.add("support", on * support_share * f.support_share * hw / 12.0)
        flows.add("licences", on * licence * n * srv.gpus / 12.0 * sw_idx)
        flows.add("staff", on * fte * salary * f.staff_cost / 12.0 * staff_idx)
        if isinstance(facility, ColocationFacilitySpec):
            rate = facility.usd_per_kw_month
            if rate is None:
                rate = ctx.prices.rates.get(facility.catalog_id, f"{at}.facility.catalog_id").value
            kw = n * srv.max_power_w / 1000.0
            flows.add("colocation", on * kw * rate * colo_idx * f.colocation_price)
        elif facility.fixed_usd_per_month:
            flows.add("facility", on * facility.fixed_usd_per_month * colo_idx)
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
    capacity_tok = sum(
        replicas_in_units(n, g, srv.gpus)
        * fl.throughput
        * (fl.end - fl.start + 1)
        * demand.shape[1]
        for n, fl in zip(servers, _fleets(spec, n_months, thr0), strict=True)
    )
    served_tok = float(served.sum()) * out_mean
    flows.info.update(
        servers=servers,
        gpus=[n * srv.gpus for n in servers],
        pue=pue,
        region=region.id,
        power_charged=charged,
        mean_utilisation=(served_tok / capacity_tok) if capacity_tok > 0 else 0.0,
    )
    return flows


__all__ = ["ServerParams", "evaluate_on_prem", "pay_for_hardware", "resolve_server"]
