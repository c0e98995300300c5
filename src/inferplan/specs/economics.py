"""Deployment options for the TCO comparison, each a typed spec discriminated by ``kind``.

* ``on_prem`` / ``colocation`` -- :class:`OnPremSpec`: bought servers in an own
  data centre (facility ``metered``: PUE x metered electricity) or in colocation
  (facility ``colocation``: $/kW-month, with ``power_included`` so power is never
  charged twice).
* ``cloud`` -- :class:`CloudSpec`: rented GPU nodes, on demand, reserved or spot,
  optionally autoscaled under the hourly traffic curve.
* ``api`` -- :class:`ApiSpec`: a hosted model billed per token.
* ``hybrid`` -- :class:`HybridSpec`: a base option (by name) sized for part of the
  load with the overflow sent to a burst option (by name).

Money is USD, power W, time months or years as named. Any field left ``None``
takes its default from the price catalog (the docstring names the row).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from inferplan.specs.base import FrozenSpec
from inferplan.specs.prices import PriceUnit

MAX_USD = 1e9
"""Upper limit of any single money input (USD): far above any real purchase, far below
the float range, so that totals stay finite."""


class FiniteSpec(FrozenSpec):
    """A spec whose numbers must be finite: ``inf``, ``.inf``, ``nan`` and ``1e400`` are refused."""

    model_config = ConfigDict(allow_inf_nan=False)


class ServingSpec(FiniteSpec):
    """Throughput of one model replica at the SLO, until the performance model predicts it.

    output_tokens_per_s_per_replica: output tokens/s one replica sustains at the SLO.
    gpus_per_replica: GPUs one replica occupies (tensor x pipeline parallel size).
    target_utilisation: share of that throughput the sizing plans to use (headroom
        policy, not a price); replicas(hour) = ceil(peak tok/s / (throughput x target)).
    """

    output_tokens_per_s_per_replica: float | None = Field(default=None, gt=0, le=1e7)
    gpus_per_replica: int = Field(default=1, ge=1, le=576)
    target_utilisation: float = Field(default=0.8, gt=0, le=1)


class ServerCapexSpec(FiniteSpec):
    """What one server costs to buy and install, USD, and what it draws, W.

    Price: ``server_price_usd`` if given; else ``gpus_per_server x gpu_price_usd +
    chassis + cpus + memory + nics`` if ``gpu_price_usd`` is given; else the price of
    the ``catalog_id`` server row. Networking and storage shares are added per
    server; installation is a one-off per server, paid in cash and never resold.
    ``idle_power_share`` defaults to the ``server-idle-power-share`` rates row.
    ``load_power_w`` is the server's draw at full serving load (measured or the vendor's
    typical figure); it defaults to the finance row ``load-power-<catalog_id>``, else
    ``max_power_w``. Draw at load L = load_power x (idle share + (1 - idle share) x L);
    ``max_power_w`` (PSU rating) sizes contracted facility kW.
    """

    catalog_id: str | None = None
    gpus_per_server: int | None = Field(default=None, ge=1, le=72)
    server_price_usd: float | None = Field(default=None, ge=0, le=1e8)
    gpu_price_usd: float | None = Field(default=None, ge=0, le=1e7)
    chassis_usd: float = Field(default=0.0, ge=0, le=1e7)
    cpus_usd: float = Field(default=0.0, ge=0, le=1e7)
    memory_usd: float = Field(default=0.0, ge=0, le=1e7)
    nics_usd: float = Field(default=0.0, ge=0, le=1e7)
    networking_usd_per_server: float = Field(default=0.0, ge=0, le=1e7)
    storage_usd_per_server: float = Field(default=0.0, ge=0, le=1e7)
    installation_usd_per_server: float = Field(default=0.0, ge=0, le=1e7)
    max_power_w: float | None = Field(default=None, gt=0, le=1e6)
    idle_power_share: float | None = Field(default=None, ge=0, le=1)
    load_power_w: float | None = Field(default=None, gt=0, le=1e6)

    @model_validator(mode="after")
    def _priced(self) -> ServerCapexSpec:
        if self.catalog_id is None:
            if self.server_price_usd is None and self.gpu_price_usd is None:
                raise ValueError("catalog_id: give catalog_id, server_price_usd or gpu_price_usd")
            if self.gpus_per_server is None:
                raise ValueError("gpus_per_server: required without catalog_id")
            if self.max_power_w is None:
                raise ValueError("max_power_w: required without catalog_id")
        return self


class MeteredFacilitySpec(FiniteSpec):
    """Own data centre: electricity = IT kWh x PUE x USD/kWh, plus the facility's capacity.

    ``pue`` defaults to the region's ``default_pue``; ``electricity_usd_per_kwh`` to the
    region's price (regions catalog). Space, power and cooling capacity for the
    servers' contracted kW (servers x ``max_power_w``), per ``capacity_cost``:

    * ``rent`` (default): ``usd_per_kw_month`` per installed kW, default the
      ``colocation-wholesale-na`` rates row -- what the same capacity rents for, the
      opportunity cost of space you own;
    * ``capex``: build ``capex_usd_per_kw`` (default finance row
      ``dc-construction-usd-per-kw``) for the horizon's peak kW at month 0; its
      straight-line book value over ``life_years`` (default ``dc-facility-life-years``)
      comes back at the end of the horizon;
    * ``sunk``: capacity already paid for and otherwise idle: no charge.
    """

    kind: Literal["metered"] = "metered"
    capacity_cost: Literal["rent", "capex", "sunk"] = "rent"
    usd_per_kw_month: float | None = Field(default=None, ge=0, le=1e5)
    capex_usd_per_kw: float | None = Field(default=None, ge=0, le=1e6)
    life_years: float | None = Field(default=None, gt=0, le=100)
    pue: float | None = Field(default=None, ge=1.0, le=3.0)
    electricity_usd_per_kwh: float | None = Field(default=None, ge=0, le=10)
    fixed_usd_per_month: float = Field(default=0.0, ge=0, le=MAX_USD)


class ColocationFacilitySpec(FiniteSpec):
    """Colocation: contracted kW (servers x max power) x USD per kW-month.

    With ``power_included`` true the rent covers electricity and none is charged
    (energy and CO2 are still reported); otherwise metered IT kWh x ``pue`` x
    USD/kWh is added. ``usd_per_kw_month`` defaults to the ``catalog_id`` rates row,
    ``pue`` to ``pue-colocation``.
    """

    kind: Literal["colocation"] = "colocation"
    power_included: bool
    usd_per_kw_month: float | None = Field(default=None, ge=0, le=1e5)
    catalog_id: str = "colocation-wholesale-na"
    pue: float | None = Field(default=None, ge=1.0, le=3.0)
    electricity_usd_per_kwh: float | None = Field(default=None, ge=0, le=10)


class Financing(StrEnum):
    CASH = "cash"
    LOAN = "loan"
    LEASE = "lease"


class FinancingSpec(FiniteSpec):
    """How hardware is paid for.

    cash: the price at purchase. loan: ``down_payment_share`` at purchase, the rest
    as an annuity at ``annual_rate`` / 12 per month over ``term_months`` (default:
    until the fleet is sold); a balance still open at sale is repaid then. lease:
    an annuity over the fleet's life on (price - PV of ``lease_residual_share`` x
    price); the lessor keeps the hardware, so no resale value comes back.
    """

    kind: Financing = Financing.CASH
    annual_rate: float = Field(default=0.0, ge=0, le=1)
    term_months: int | None = Field(default=None, ge=1, le=180)
    down_payment_share: float = Field(default=0.0, ge=0, le=1)
    lease_residual_share: float = Field(default=0.0, ge=0, lt=1)


class OnPremSpec(ServingSpec):
    """Servers you buy, in your own data centre or in colocation.

    Timing: hardware and installation are paid at month 0 (order); service,
    opex (power, facility, support, licences, staff) start after
    ``lead_time_months``; traffic in the lead months (and any hour the fleet is
    short) goes to ``bridge`` (a cloud or api option by name) or is unserved.
    Residual: at each sale, ``residual_value_share`` x purchase price if given; else
    (1 - ``residual_decline_per_year``)^(age in years) if given (market value by
    age); else the straight-line book value over ``depreciation_years``.
    ``purchase``: ``upfront`` buys the fleet for the horizon's peak at month 0;
    ``staged`` buys each year's extra servers as growth needs them, ordered
    ``lead_time_months`` ahead (never before month 0), all sold at the end.
    Staff: ``staff_fte`` (fixed) + servers in service / ``staff_servers_per_fte``.
    ``spare_share``: spare servers ceil(n x share) bought with each purchase (no
    power or capacity; supported, insured, resold). ``insurance_share_per_year`` and
    ``failure_replacement_share_per_year``: shares of the hardware value a year;
    ``decommissioning_usd_per_server``: paid at each sale per server.
    ``refresh_after_years``: sell and re-buy at that anniversary; the new fleet
    costs ``refresh_price_factor`` x the escalated price and delivers
    ``refresh_throughput_factor`` x the throughput per replica.
    Defaults: support ``support-share``, staff ``ops-fte`` x ``staff-loaded-cost``;
    licences 0 unless ``licence_usd_per_gpu_year`` or ``licence_id`` is given.
    """

    kind: Literal["on_prem", "colocation"] = "on_prem"
    name: str = Field(min_length=1)
    region: str | None = None
    capex: ServerCapexSpec
    servers: int | None = Field(default=None, ge=1, le=1_000_000)
    facility: MeteredFacilitySpec | ColocationFacilitySpec | None = Field(
        default=None, discriminator="kind"
    )
    support_share_per_year: float | None = Field(default=None, ge=0, le=1)
    licence_usd_per_gpu_year: float | None = Field(default=None, ge=0, le=1e6)
    licence_id: str | None = None
    staff_fte: float | None = Field(default=None, ge=0, le=1e5)
    staff_usd_per_fte_year: float | None = Field(default=None, ge=0, le=1e7)
    staff_servers_per_fte: float | None = Field(default=None, gt=0, le=1e6)
    spare_share: float = Field(default=0.0, ge=0, le=1)
    insurance_share_per_year: float = Field(default=0.0, ge=0, le=1)
    failure_replacement_share_per_year: float = Field(default=0.0, ge=0, le=1)
    decommissioning_usd_per_server: float = Field(default=0.0, ge=0, le=1e6)
    depreciation_years: float = Field(default=5.0, gt=0, le=15)
    residual_value_share: float | None = Field(default=None, ge=0, le=1)
    residual_decline_per_year: float | None = Field(default=None, ge=0, lt=1)
    purchase: Literal["upfront", "staged"] = "upfront"
    financing: FinancingSpec = FinancingSpec()
    lead_time_months: int = Field(default=0, ge=0, le=60)
    bridge: str | None = None
    refresh_after_years: int | None = Field(default=None, ge=1, le=14)
    refresh_price_factor: float = Field(default=1.0, gt=0, le=10)
    refresh_throughput_factor: float = Field(default=1.0, gt=0, le=100)
    compliance_fte: float = Field(default=0.0, ge=0, le=100)
    compliance_usd_per_year: float = Field(default=0.0, ge=0, le=MAX_USD)

    @model_validator(mode="after")
    def _facility_matches(self) -> OnPremSpec:
        if self.purchase == "staged" and self.refresh_after_years is not None:
            raise ValueError("purchase: staged purchases cannot be combined with a refresh")
        if self.purchase == "staged" and self.servers is not None:
            raise ValueError("purchase: staged purchases size the fleet; leave servers unset")
        if self.kind == "colocation" and not isinstance(self.facility, ColocationFacilitySpec):
            raise ValueError(
                "facility: a colocation option needs facility: {kind: colocation, "
                "power_included: true|false}"
            )
        return self


class CloudCommitment(StrEnum):
    ON_DEMAND = "on_demand"
    RESERVED_1Y = "reserved_1y"
    RESERVED_3Y = "reserved_3y"
    SAVINGS_PLAN_1Y = "savings_plan_1y"
    SAVINGS_PLAN_3Y = "savings_plan_3y"
    SPOT = "spot"


RESERVED_TERM_MONTHS: dict[CloudCommitment, int] = {
    CloudCommitment.RESERVED_1Y: 12,
    CloudCommitment.RESERVED_3Y: 36,
}

SAVINGS_PLAN_TERM_MONTHS: dict[CloudCommitment, int] = {
    CloudCommitment.SAVINGS_PLAN_1Y: 12,
    CloudCommitment.SAVINGS_PLAN_3Y: 36,
}
"""Savings plans and committed-use discounts: a spend per hour committed for the term."""


class CloudSpec(ServingSpec):
    """Rented GPU nodes.

    Price: the ``catalog_id`` cloud row, or inline ``price_usd_per_hour`` (on-demand,
    per ``price_unit``) with ``gpus_per_node``. Reserved: ``reserved_discount`` off
    on-demand, else the row's reserved price or discount; billed 24/7 for every
    month of each whole term (terms renew back to back; months after the last
    whole term are billed on demand). Spot: the spot price x (1 +
    ``spot_interruption_overhead``), the extra node-hours lost to interruptions.
    Payment of a reserved term (``reserved_payment``): ``no_upfront`` monthly;
    ``all_upfront`` the whole term's bill at the term's start; ``partial_upfront``
    ``reserved_upfront_share`` of it at the start and the rest monthly (state the
    ``reserved_discount`` that goes with your payment option).
    Savings plan / committed use (``savings_plan_1y``/``_3y``): nodes autoscale as on
    demand; each hour pays max(commitment, usage at the plan rate) up to the
    commitment, and usage beyond it at on-demand prices:
    cost(hour) = C + max(0, U x (1 - d) - C) / (1 - d) with U the on-demand value of
    the node-hours, d = ``reserved_discount`` and C = ``savings_plan_usd_per_hour``.
    Autoscaling (on demand, spot, savings plans): nodes(hour) = max(min_nodes, needed).
    Energy is estimated when a node power is known (``node_max_power_w`` or the
    row's ``power_reference``), with ``pue`` (default ``pue-hyperscale``).
    Staff: ``staff_fte`` (default finance row ``mlops-fte-rented``) x
    ``staff_usd_per_fte_year`` (default ``staff-loaded-cost``) run the serving stack;
    not charged when the option only carries another option's overflow.
    """

    kind: Literal["cloud"] = "cloud"
    name: str = Field(min_length=1)
    catalog_id: str | None = None
    provider: str | None = None
    instance: str | None = None
    cloud_region: str | None = None
    price_usd_per_hour: float | None = Field(default=None, ge=0, le=1e5)
    price_unit: PriceUnit | None = None
    gpus_per_node: int | None = Field(default=None, ge=1, le=72)
    commitment: CloudCommitment = CloudCommitment.ON_DEMAND
    reserved_discount: float | None = Field(default=None, ge=0, lt=1)
    reserved_payment: Literal["no_upfront", "partial_upfront", "all_upfront"] = "no_upfront"
    reserved_upfront_share: float | None = Field(default=None, gt=0, lt=1)
    savings_plan_usd_per_hour: float | None = Field(default=None, gt=0, le=1e7)
    spot_price_usd_per_hour: float | None = Field(default=None, ge=0, le=1e5)
    spot_interruption_overhead: float = Field(default=0.1, ge=0, le=1)
    autoscaling: bool = True
    min_nodes: int = Field(default=1, ge=0, le=1_000_000)
    nodes: int | None = Field(default=None, ge=1, le=1_000_000)
    spare_replicas: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="replicas a fixed-size fleet (reserved term, autoscaling off) holds "
        "beyond the peak need, for availability (1 = N+1); autoscaled nodes are "
        "replaced on demand and hold none",
    )
    storage_usd_per_month: float = Field(default=0.0, ge=0, le=MAX_USD)
    egress_usd_per_gb: float = Field(default=0.0, ge=0, le=100)
    egress_bytes_per_output_token: float = Field(default=4.0, gt=0, le=1e6)
    grid_region: str | None = None
    node_max_power_w: float | None = Field(default=None, gt=0, le=1e7)
    pue: float | None = Field(default=None, ge=1.0, le=3.0)
    staff_fte: float | None = Field(default=None, ge=0, le=1e5)
    staff_usd_per_fte_year: float | None = Field(default=None, ge=0, le=1e7)

    @model_validator(mode="after")
    def _priced(self) -> CloudSpec:
        if (self.reserved_payment == "partial_upfront") != (
            self.reserved_upfront_share is not None
        ):
            raise ValueError(
                "reserved_upfront_share: required with reserved_payment: partial_upfront only"
            )
        if self.commitment in SAVINGS_PLAN_TERM_MONTHS and (
            self.savings_plan_usd_per_hour is None or self.reserved_discount is None
        ):
            raise ValueError(
                "savings_plan_usd_per_hour: a savings plan needs savings_plan_usd_per_hour "
                "and reserved_discount (the plan's discount off on demand)"
            )
        if self.catalog_id is None:
            if self.price_usd_per_hour is None:
                raise ValueError("price_usd_per_hour: required without catalog_id")
            if self.gpus_per_node is None:
                raise ValueError("gpus_per_node: required without catalog_id")
        return self


class ApiTierSpec(FiniteSpec):
    """A volume tier: tokens of a month above ``above_million_tokens_per_month`` get
    ``discount`` off the list price (marginal, like tax brackets)."""

    above_million_tokens_per_month: float = Field(ge=0, le=1e9)
    discount: float = Field(ge=0, lt=1)


class ProvisionedSpec(FiniteSpec):
    """Provisioned throughput: ``units`` reserved at ``usd_per_unit_month`` each, each
    serving ``tokens_per_s_per_unit`` input + output tokens/s; hours above the
    provisioned rate spill over to per-token billing."""

    units: int = Field(ge=1, le=100_000)
    usd_per_unit_month: float = Field(ge=0, le=1e7)
    tokens_per_s_per_unit: float = Field(gt=0, le=1e7)


class ApiSpec(FiniteSpec):
    """A hosted model API billed per token, USD per 1M tokens.

    Cost per request = (input x (1 - cached share) x input price + input x cached share
    x cached price + output x output price) / 1e6, times (1 - batch_share x
    batch_discount). Cached input defaults to the input price when unknown.
    Rate limits are checked against the peak hour and reported as warnings.
    Commitments: ``enterprise_discount`` off every token; ``volume_tiers`` discount the
    tokens of a month above each threshold (marginal); ``provisioned`` throughput
    is a fixed monthly fee for a token rate, with per-token billing above it.
    """

    kind: Literal["api"] = "api"
    name: str = Field(min_length=1)
    catalog_id: str | None = None
    input_usd_per_million: float | None = Field(default=None, ge=0, le=1e4)
    output_usd_per_million: float | None = Field(default=None, ge=0, le=1e4)
    cached_input_usd_per_million: float | None = Field(default=None, ge=0, le=1e4)
    batch_share: float = Field(default=0.0, ge=0, le=1)
    batch_discount: float | None = Field(default=None, ge=0, lt=1)
    max_requests_per_minute: float | None = Field(default=None, gt=0)
    max_tokens_per_minute: float | None = Field(default=None, gt=0)
    enterprise_discount: float = Field(default=0.0, ge=0, lt=1)
    volume_tiers: list[ApiTierSpec] = Field(default_factory=list)
    provisioned: ProvisionedSpec | None = None

    @model_validator(mode="after")
    def _priced(self) -> ApiSpec:
        edges = [t.above_million_tokens_per_month for t in self.volume_tiers]
        if edges != sorted(set(edges)):
            raise ValueError("volume_tiers: thresholds must be distinct and ascending")
        if self.catalog_id is None and (
            self.input_usd_per_million is None or self.output_usd_per_million is None
        ):
            raise ValueError(
                "input_usd_per_million: give catalog_id or both input and output prices"
            )
        return self


class HybridSpec(FiniteSpec):
    """Base option sized for part of the load, overflow to a burst option.

    ``base`` names an on_prem, colocation or cloud option; ``burst`` a cloud or api
    option. With ``base_servers`` None inferplan tries every base size from 0 to the
    size that serves the peak alone and keeps the cheapest by ``objective``.
    """

    kind: Literal["hybrid"] = "hybrid"
    name: str = Field(min_length=1)
    base: str
    burst: str
    base_servers: int | None = Field(default=None, ge=0, le=1_000_000)
    objective: Literal["npv", "nominal"] = "npv"


DeploymentOption = Annotated[
    OnPremSpec | CloudSpec | ApiSpec | HybridSpec, Field(discriminator="kind")
]

__all__ = [
    "MAX_USD",
    "RESERVED_TERM_MONTHS",
    "SAVINGS_PLAN_TERM_MONTHS",
    "ApiSpec",
    "ApiTierSpec",
    "CloudCommitment",
    "CloudSpec",
    "ColocationFacilitySpec",
    "DeploymentOption",
    "Financing",
    "FinancingSpec",
    "FiniteSpec",
    "HybridSpec",
    "MeteredFacilitySpec",
    "OnPremSpec",
    "ProvisionedSpec",
    "ServerCapexSpec",
    "ServingSpec",
]
