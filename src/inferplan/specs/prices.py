"""Price-catalog records: purchase, cloud, API, facility and people rates, regions.

Every record is a :class:`~inferplan.specs.base.SourcedRecord`: it carries the
``source`` it was read from and the ``as_of`` date, plus the region, commitment
and unit (per GPU or per node) where they apply. All money is US dollars; a
region's electricity price keeps its local currency and the exchange rate used,
with that rate's own source.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from inferplan.specs.base import SourcedRecord


class PriceUnit(StrEnum):
    """What one quoted price buys: one GPU or one whole node (server)."""

    PER_GPU = "per_gpu"
    PER_NODE = "per_node"


class Commitment(StrEnum):
    """How a price is committed: bought, rented on demand, reserved, or spot."""

    PURCHASE = "purchase"
    USED = "used"
    ON_DEMAND = "on_demand"
    RESERVED_1Y = "reserved_1y"
    RESERVED_3Y = "reserved_3y"
    SPOT = "spot"


class ServerPriceRecord(SourcedRecord):
    """Purchase price of one whole GPU server (node), GPUs included, in USD.

    ``max_power_w`` is the server's maximum input power (PSU rating or vendor
    "max"), used for contracted colocation kW and as the full-load draw.
    ``end_of_life``: the vendor no longer sells it (the notes cite the notice); such
    rows are kept for reference and not offered by default.
    ``superseded_by``: the id of a newer price row for the same configuration; the
    planner buys at the newer figure, this one stays for the record (and for options
    that name it).
    """

    name: str
    accelerator: str = Field(description="accelerator catalog id")
    gpus_per_server: int = Field(ge=1, le=72)
    price_usd: float = Field(gt=0)
    unit: PriceUnit = PriceUnit.PER_NODE
    commitment: Commitment = Commitment.PURCHASE
    region: str = "global"
    max_power_w: float | None = Field(default=None, gt=0)
    end_of_life: bool = False
    superseded_by: str | None = None


class GpuPriceRecord(SourcedRecord):
    """Street (or used-market) price of one accelerator card, in USD;
    ``end_of_life`` as for servers."""

    name: str
    accelerator: str
    price_usd: float = Field(gt=0)
    unit: PriceUnit = PriceUnit.PER_GPU
    commitment: Commitment = Commitment.PURCHASE
    region: str = "global"
    end_of_life: bool = False


class CloudPriceRecord(SourcedRecord):
    """An hourly cloud GPU price, USD per hour per ``unit``.

    Reserved prices are either quoted directly (``reserved_*_usd_per_hour``) or
    as a discount share off on-demand (``reserved_*_discount``).
    ``grid_region`` names the electricity region (regions catalog) the instance
    runs in, for energy and CO2 estimates; ``power_reference`` names a server
    price record whose power figures stand in for the provider's node.
    """

    provider: str
    instance: str
    region: str
    accelerator: str
    gpus_per_node: int = Field(ge=1, le=72)
    unit: PriceUnit
    on_demand_usd_per_hour: float = Field(gt=0)
    spot_usd_per_hour: float | None = Field(default=None, gt=0)
    reserved_1y_usd_per_hour: float | None = Field(default=None, gt=0)
    reserved_3y_usd_per_hour: float | None = Field(default=None, gt=0)
    reserved_1y_discount: float | None = Field(default=None, ge=0, lt=1)
    reserved_3y_discount: float | None = Field(default=None, ge=0, lt=1)
    grid_region: str | None = None
    power_reference: str | None = None

    def node_usd_per_hour(self, price_per_unit: float) -> float:
        """Convert a price per ``unit`` into USD per node-hour."""
        if self.unit is PriceUnit.PER_GPU:
            return price_per_unit * self.gpus_per_node
        return price_per_unit


class ApiPriceRecord(SourcedRecord):
    """Token prices of a hosted model API, USD per 1M tokens."""

    provider: str
    model: str
    input_usd_per_million: float = Field(ge=0)
    output_usd_per_million: float = Field(ge=0)
    cached_input_usd_per_million: float | None = Field(default=None, ge=0)
    batch_discount: float = Field(default=0.0, ge=0, lt=1)
    region: str = "global"


class RateRecord(SourcedRecord):
    """One scalar default (a PUE, a $/kW-month, a share per year, a salary).

    ``unit`` says what ``value`` is measured in (``usd_per_kw_month``,
    ``share_per_year``, ``usd_per_gpu_year``, ``ratio``...). ``power_included``
    applies to colocation rates only.
    """

    value: float = Field(ge=0)
    unit: str
    region: str = "global"
    power_included: bool | None = None


class UncertaintyRecord(SourcedRecord):
    """A default Monte Carlo range for one multiplicative factor (1.0 = base case)."""

    factor: str
    low: float = Field(gt=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> UncertaintyRecord:
        if not self.low <= 1.0 <= self.high:
            raise ValueError("low <= 1.0 <= high is required")
        return self


class RegionRecord(SourcedRecord):
    """An electricity region: industrial power price, grid carbon, default PUE.

    ``source`` is the electricity price's source; the carbon figure and the
    exchange rate carry their own. A region without a retrieved price has
    ``electricity_price_local_per_kwh`` None: metered on-prem options there must
    state their own price.
    """

    name: str
    country: str
    electricity_price_local_per_kwh: float | None = Field(default=None, gt=0)
    currency: str = "USD"
    usd_per_local_unit: float = Field(default=1.0, gt=0)
    fx_source: str = ""
    price_period: str = ""
    grid_gco2_per_kwh: float = Field(ge=0)
    carbon_year: int = Field(ge=2000, le=2100)
    carbon_source: str = Field(min_length=3)
    default_pue: float = Field(default=1.56, ge=1.0, le=3.0)
    pue_source: str = ""

    @property
    def electricity_usd_per_kwh(self) -> float | None:
        """Local price times the exchange rate (USD per local unit), USD/kWh."""
        if self.electricity_price_local_per_kwh is None:
            return None
        return self.electricity_price_local_per_kwh * self.usd_per_local_unit

    @model_validator(mode="after")
    def _fx_sourced(self) -> RegionRecord:
        priced = self.electricity_price_local_per_kwh is not None
        if self.currency != "USD" and priced and not self.fx_source:
            raise ValueError("a non-USD price needs fx_source for its exchange rate")
        return self


__all__ = [
    "ApiPriceRecord",
    "CloudPriceRecord",
    "Commitment",
    "GpuPriceRecord",
    "PriceUnit",
    "RateRecord",
    "RegionRecord",
    "ServerPriceRecord",
    "UncertaintyRecord",
]
