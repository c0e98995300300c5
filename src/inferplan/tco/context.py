"""Shared inputs and outputs of the per-option cash-flow evaluators.

:class:`Factors` are multiplicative what-if knobs (1.0 = the scenario as written)
used by the tornado and the Monte Carlo. :class:`EvalContext` carries the
scenario-wide inputs; :class:`Flows` is what an evaluator returns: cost vectors per
category (index 0..N, see :mod:`inferplan.tco.cashflow` for the conventions),
requests served, energy and CO2 per month, and the demand it could not serve.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from inferplan.catalog.price_catalog import PriceCatalog
from inferplan.catalog.records import Catalog
from inferplan.errors import SpecError
from inferplan.specs.prices import RateRecord, RegionRecord
from inferplan.specs.scenario import FinanceSpec, TrafficSpec
from inferplan.tco.cashflow import FloatArray, escalation_index
from inferplan.tco.tax import Asset


@dataclass(frozen=True)
class Factors:
    """Multipliers applied on top of the scenario (1.0 = unchanged)."""

    hardware_price: float = 1.0
    cloud_price: float = 1.0
    api_price: float = 1.0
    electricity_price: float = 1.0
    colocation_price: float = 1.0
    staff_cost: float = 1.0
    support_share: float = 1.0
    residual_value: float = 1.0
    traffic: float = 1.0
    throughput: float = 1.0
    power: float = 1.0
    discount_rate: float = 1.0

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class EvalContext:
    """Scenario-wide inputs every evaluator needs."""

    months: int
    finance: FinanceSpec
    traffic: TrafficSpec
    prices: PriceCatalog
    regions: Catalog[RegionRecord]
    default_region: str
    factors: Factors = Factors()
    finance_rates: Catalog[RateRecord] = field(default_factory=lambda: Catalog("finance", []))

    def index(self, kind: str) -> FloatArray:
        """Escalation index 0..N for a price kind named in ``EscalationSpec``."""
        rate = float(getattr(self.finance.escalation, kind))
        return escalation_index(self.months, rate)

    def region(self, region_id: str | None, field_name: str) -> RegionRecord:
        """Region record by id; unknown ids raise naming ``field_name``."""
        if region_id is None:
            return self.regions.get(self.default_region, "region")
        return self.regions.get(region_id, field_name)

    def finance_rate(self, record_id: str, field_name: str) -> float:
        """``value`` of a finance-catalog row; a missing row raises naming ``field_name``."""
        if record_id not in self.finance_rates:
            raise SpecError(field_name, f"required: no '{record_id}' row in the finance catalog")
        return self.finance_rates.get(record_id).value

    @property
    def out_tokens(self) -> float:
        return self.traffic.output_tokens_mean

    @property
    def tokens_per_request(self) -> float:
        return self.traffic.input_tokens_mean + self.traffic.output_tokens_mean


@dataclass
class Flows:
    """One option's evaluated cash flows and physical quantities, indices 0..N."""

    months: int
    categories: dict[str, FloatArray] = field(default_factory=dict)
    served_requests: FloatArray | None = None
    energy_kwh: FloatArray | None = None
    co2_kg: FloatArray | None = None
    overflow_rps: FloatArray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)

    def zeros(self) -> FloatArray:
        return np.zeros(self.months + 1)

    def add(self, category: str, values: FloatArray) -> None:
        """Add ``values`` (length N+1) to ``category``."""
        cur = self.categories.get(category)
        self.categories[category] = values.copy() if cur is None else cur + values

    def add_at(self, category: str, month: int, amount: float) -> None:
        """Add one amount at cash-flow index ``month``."""
        v = self.zeros()
        v[month] = amount
        self.add(category, v)

    @property
    def total(self) -> FloatArray:
        out = self.zeros()
        for v in self.categories.values():
            out = out + v
        return out

    def merge(self, other: Flows, prefix: str = "") -> None:
        """Add another option's flows into this one (categories optionally prefixed)."""
        for k, v in other.categories.items():
            self.add(f"{prefix}{k}", v)
        for name in ("served_requests", "energy_kwh", "co2_kg"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None:
                setattr(self, name, theirs.copy() if mine is None else mine + theirs)
        self.warnings.extend(other.warnings)
        self.assets.extend(other.assets)


def require_throughput(value: float | None, field_name: str) -> float:
    """The option's throughput per replica, or a clear error if it is missing."""
    if value is None:
        raise SpecError(
            field_name,
            "required: state output tokens/s per replica at the SLO (the performance "
            "model can predict it)",
        )
    return value


__all__ = ["EvalContext", "Factors", "Flows", "require_throughput"]
