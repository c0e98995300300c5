"""The scenario file: one YAML document describing workload, options and finance.

``inferplan tco`` and ``inferplan plan`` read the same :class:`ScenarioSpec`.
Sections: ``name``, ``description``, ``workload`` (:class:`TrafficSpec`),
``finance`` (:class:`FinanceSpec`), ``region`` (default electricity/carbon region
id), ``options`` (deployment options discriminated by ``kind``),
``price_overrides`` (catalog id -> {field: value}), ``uncertainty`` (Monte Carlo
and tornado ranges) and the planner's sections ``models`` (candidate model ids), ``slo``
(:class:`SloSpec`), ``policy`` (:class:`SovereigntyPolicy`), ``candidates``
(:class:`CandidatesSpec`) and ``report``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, model_validator

from inferplan.specs.economics import (
    RESERVED_TERM_MONTHS,
    SAVINGS_PLAN_TERM_MONTHS,
    ApiSpec,
    CloudSpec,
    DeploymentOption,
    FiniteSpec,
    HybridSpec,
    OnPremSpec,
)
from inferplan.specs.plan import CandidatesSpec, SloSpec
from inferplan.specs.policy import SovereigntyPolicy


class ProfilePreset(StrEnum):
    """Named weekly traffic shapes (data and sources in ``inferplan.tco.traffic``).

    always_on: Azure LLM inference trace 2024, conversation (peak/mean 1.34).
    business_hours: Azure LLM inference trace 2024, coding (peak/mean 2.23).
    office_chat: BurstGPT ChatGPT conversation log (peak/mean ~2.3, lunch dip).
    flat: the same rate every hour.
    """

    ALWAYS_ON = "always_on"
    BUSINESS_HOURS = "business_hours"
    OFFICE_CHAT = "office_chat"
    FLAT = "flat"


class TrafficSpec(FiniteSpec):
    """Demand: volume, weekly shape, growth and token lengths.

    Volume is ``requests_per_day`` (mean over the 7 days of a week) or ``users`` x
    ``requests_per_user_per_day``; zero prices what a fleet costs standing idle.
    ``profile`` is a preset or relative weights for 24 hours (every day;
    ``weekend_factor`` scales Saturday and Sunday) or 168 hours (Monday 00h first).
    ``peak_to_mean_within_hour`` (>= 1) scales the hourly mean rate for sizing only
    (bursts inside an hour). Growth is applied in yearly steps: year k (months
    12k+1..12k+12) has (1 + growth_per_year)^k times the volume. Costs use the mean
    token lengths (cost is linear in tokens); the p90 fields are
    kept for the performance model. ``dataset`` names a public dataset of
    ``catalog/data/datasets.yaml`` (``inferplan catalog list datasets``) whose published
    statistics fill the four token fields when the scenario is read; it replaces them,
    so give one or the other.
    """

    requests_per_day: float | None = Field(default=None, ge=0, le=1e12)
    users: int | None = Field(default=None, ge=1, le=10_000_000_000)
    requests_per_user_per_day: float | None = Field(default=None, ge=0, le=1e5)
    profile: ProfilePreset | list[float] = ProfilePreset.ALWAYS_ON
    weekend_factor: float | None = Field(default=None, ge=0, le=100)
    peak_to_mean_within_hour: float = Field(default=1.0, ge=1.0, le=20.0)
    growth_per_year: float = Field(default=0.0, gt=-1.0, le=10.0)
    input_tokens_mean: float = Field(gt=0, le=1e7)
    output_tokens_mean: float = Field(gt=0, le=1e7)
    input_tokens_p90: float | None = Field(default=None, gt=0, le=1e7)
    output_tokens_p90: float | None = Field(default=None, gt=0, le=1e7)
    cached_input_share: float = Field(default=0.0, ge=0, le=1)
    dataset: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _volume_and_shape(self) -> TrafficSpec:
        per_user = self.users is not None or self.requests_per_user_per_day is not None
        if self.requests_per_day is not None and per_user:
            raise ValueError("requests_per_day: give requests_per_day or users, not both")
        if self.requests_per_day is None and (
            self.users is None or self.requests_per_user_per_day is None
        ):
            raise ValueError(
                "requests_per_day: give requests_per_day, or users and requests_per_user_per_day"
            )
        if isinstance(self.profile, list):
            if len(self.profile) not in (24, 168):
                raise ValueError("profile: a list needs 24 (daily) or 168 (weekly) weights")
            if any(w < 0 for w in self.profile) or sum(self.profile) <= 0:
                raise ValueError("profile: weights must be >= 0 with a positive sum")
            if len(self.profile) == 168 and self.weekend_factor is not None:
                raise ValueError("weekend_factor: not used with a 168-hour profile")
        return self

    @property
    def daily_requests(self) -> float:
        """Mean requests per day over a week."""
        if self.requests_per_day is not None:
            return self.requests_per_day
        assert self.users is not None and self.requests_per_user_per_day is not None
        return self.users * self.requests_per_user_per_day


class EscalationSpec(FiniteSpec):
    """Price change per year per price kind (0.05 = +5 %/year, -0.2 = -20 %/year).

    Prices step once a year: a cash flow in month m (m >= 1) uses
    (1 + rate)^floor((m - 1) / 12); a purchase at month b uses (1 + rate)^floor(b / 12).
    """

    hardware: float = Field(default=0.0, gt=-1, le=1)
    cloud: float = Field(default=0.0, gt=-1, le=1)
    api: float = Field(default=0.0, gt=-1, le=1)
    electricity: float = Field(default=0.0, gt=-1, le=1)
    colocation: float = Field(default=0.0, gt=-1, le=1)
    staff: float = Field(default=0.0, gt=-1, le=1)
    software: float = Field(default=0.0, gt=-1, le=1)


MACRS_YEARS = (3, 5, 7)
"""Recovery periods with a MACRS half-year table in :mod:`inferplan.tco.tax`."""


class TaxSpec(FiniteSpec):
    """Corporate income tax for the after-tax view.

    ``rate`` (a share of taxable profit), or ``country`` to take the finance catalog
    row ``tax-<country>`` (``us``: federal 21 %; ``uk``: 25 %). Costs are deducted from
    profits made elsewhere in the business when they are paid, except capital
    purchases (hardware, installation, facility build), which are depreciated:
    ``straight_line`` over ``years``; ``declining_balance`` at ``declining_balance_factor``
    / ``years`` a year, switching to straight line when that is larger; ``macrs``: the
    IRS half-year table for ``years`` in 3, 5 or 7 (computers are 5-year property).
    A facility build is depreciated straight line over ``facility_years`` (39: IRS
    nonresidential real property). At a sale, tax is due on the gain over the
    remaining tax basis (a loss saves tax).
    """

    country: str | None = None
    rate: float | None = Field(default=None, ge=0, le=0.9)
    depreciation: Literal["straight_line", "declining_balance", "macrs"] = "straight_line"
    years: int = Field(default=5, ge=1, le=40)
    declining_balance_factor: float = Field(default=2.0, gt=1.0, le=3.0)
    facility_years: int = Field(default=39, ge=1, le=60)

    @model_validator(mode="after")
    def _rate_or_country(self) -> TaxSpec:
        if self.rate is None and self.country is None:
            raise ValueError("rate: give a tax rate or a country (us, uk)")
        if self.depreciation == "macrs" and self.years not in MACRS_YEARS:
            raise ValueError("years: MACRS tables exist for 3, 5 and 7 years")
        return self


class FinanceSpec(FiniteSpec):
    """Horizon, discount rate (effective annual, e.g. your WACC) and escalation.

    Horizon: ``horizon_years`` or ``horizon_months`` (e.g. 18 for a pilot; prices and
    growth still step once a year, in months 13, 25, ...).
    ``unserved_usd_per_million_tokens``: what a million tokens of demand that an
    option cannot serve costs the business (e.g. the price of an API that would
    carry them, or a penalty). ``None`` (default): an option must serve all the
    demand to be ranked.
    ``currency``: results are also reported in EUR, GBP or CHF at the dated finance
    catalog rate (``fx-eur``...), or at ``usd_per_currency_unit`` when given; prices stay
    in USD. ``tax``: the after-tax view. ``baseline``: the option every other is
    compared against for IRR and payback month.
    """

    horizon_years: int = Field(gt=0, le=15)
    months: int | None = Field(default=None, alias="horizon_months", ge=1, le=180)
    discount_rate: float = Field(ge=0, le=1)
    currency: Literal["USD", "EUR", "GBP", "CHF"] = "USD"
    usd_per_currency_unit: float | None = Field(default=None, gt=0, le=1e4)
    escalation: EscalationSpec = EscalationSpec()
    unserved_usd_per_million_tokens: float | None = Field(default=None, ge=0, le=1e4)
    tax: TaxSpec | None = None
    baseline: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _years_from_months(cls, data: Any) -> Any:
        if isinstance(data, dict):
            m = data.get("horizon_months", data.get("months"))
            if isinstance(m, int) and not isinstance(m, bool) and m > 0:
                years = -(-m // 12)
                given = data.get("horizon_years")
                if given is None:
                    data = {**data, "horizon_years": years}
                elif given != years:
                    raise ValueError(
                        "horizon_years: give horizon_years or horizon_months, not both"
                    )
        return data

    @property
    def horizon_months(self) -> int:
        return self.months if self.months is not None else 12 * self.horizon_years


FactorName = Literal[
    "hardware_price",
    "cloud_price",
    "api_price",
    "electricity_price",
    "colocation_price",
    "staff_cost",
    "support_share",
    "residual_value",
    "traffic",
    "throughput",
    "power",
    "discount_rate",
]


class RangeSpec(FiniteSpec):
    """A multiplicative range around the base case (1.0), e.g. low 0.8, high 1.3."""

    low: float = Field(gt=0, le=1)
    high: float = Field(ge=1, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> RangeSpec:
        if not self.low <= 1.0 <= self.high:
            raise ValueError("low: low <= 1.0 <= high is required")
        return self


class CorrelationSpec(FiniteSpec):
    """Factors whose draws move together: every pair among ``factors`` has rank
    correlation about ``rho`` (Gaussian copula correlation)."""

    factors: list[FactorName] = Field(min_length=2)
    rho: float = Field(ge=-0.99, le=0.99)

    @model_validator(mode="after")
    def _distinct(self) -> CorrelationSpec:
        if len(set(self.factors)) != len(self.factors):
            raise ValueError("factors: each factor once")
        return self


class UncertaintySpec(FiniteSpec):
    """Ranges for the tornado and the Monte Carlo (seeded, triangular with mode 1).

    A factor without a range here takes the finance or price catalog ``uncertainty``
    row for it, or +/- ``tornado_step`` (the tornado and the Monte Carlo use the same
    ranges; the discount rate is drawn only when given a range). ``correlations``
    make prices that move together draw together.
    """

    draws: int = Field(default=500, ge=1, le=100_000)
    seed: int = 0
    tornado_step: float = Field(default=0.2, gt=0, lt=1)
    ranges: dict[FactorName, RangeSpec] = Field(default_factory=dict)
    correlations: list[CorrelationSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _pairs_once(self) -> UncertaintySpec:
        seen: set[frozenset[str]] = set()
        for i, c in enumerate(self.correlations):
            for a in c.factors:
                for b in c.factors:
                    pair = frozenset((a, b))
                    if a < b and pair in seen:
                        raise ValueError(f"correlations[{i}]: pair {a}/{b} is given twice")
                    if a < b:
                        seen.add(pair)
        return self


class ScenarioSpec(FiniteSpec):
    """A whole scenario. See the module docstring for the sections."""

    name: str = Field(min_length=1)
    description: str = ""
    workload: TrafficSpec
    finance: FinanceSpec
    region: str = "us-avg"
    options: list[DeploymentOption] = Field(default_factory=list)
    price_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    uncertainty: UncertaintySpec = UncertaintySpec()
    models: list[str] = Field(default_factory=list)
    slo: SloSpec | None = None
    policy: SovereigntyPolicy | None = None
    candidates: CandidatesSpec = CandidatesSpec()
    report: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> ScenarioSpec:
        if not self.options and not self.models:
            raise ValueError("options: give deployment options, or models for the planner")
        names = [o.name for o in self.options]
        by_name = {o.name: o for o in self.options}
        months = self.finance.horizon_months
        if self.finance.baseline is not None and self.finance.baseline not in by_name:
            raise ValueError("finance.baseline: must name one of the options")
        for i, opt in enumerate(self.options):
            at = f"options[{i}]"
            if opt.name in names[:i]:
                raise ValueError(f"{at}.name: option name '{opt.name}' is used twice")
            terms = {**RESERVED_TERM_MONTHS, **SAVINGS_PLAN_TERM_MONTHS}
            if isinstance(opt, CloudSpec) and opt.commitment in terms:
                term = terms[opt.commitment]
                if term > months:
                    raise ValueError(
                        f"{at}.commitment: {opt.commitment.value} term ({term} months) is "
                        f"longer than finance.horizon_years ({months} months)"
                    )
            if isinstance(opt, OnPremSpec):
                if opt.lead_time_months >= months:
                    raise ValueError(f"{at}.lead_time_months: must be shorter than the horizon")
                if opt.refresh_after_years is not None:
                    r = 12 * opt.refresh_after_years
                    if not opt.lead_time_months < r < months:
                        raise ValueError(
                            f"{at}.refresh_after_years: must fall after the lead time "
                            "and before the end of the horizon"
                        )
                if opt.bridge is not None:
                    target = by_name.get(opt.bridge)
                    if not isinstance(target, CloudSpec | ApiSpec):
                        raise ValueError(f"{at}.bridge: must name a cloud or api option")
            if isinstance(opt, HybridSpec):
                base, burst = by_name.get(opt.base), by_name.get(opt.burst)
                if not isinstance(base, OnPremSpec | CloudSpec):
                    raise ValueError(f"{at}.base: must name an on_prem, colocation or cloud option")
                if not isinstance(burst, CloudSpec | ApiSpec):
                    raise ValueError(f"{at}.burst: must name a cloud or api option")
                if opt.base == opt.burst:
                    raise ValueError(f"{at}.burst: must differ from base")
        return self


__all__ = [
    "MACRS_YEARS",
    "CorrelationSpec",
    "EscalationSpec",
    "FactorName",
    "FinanceSpec",
    "ProfilePreset",
    "RangeSpec",
    "ScenarioSpec",
    "TaxSpec",
    "TrafficSpec",
    "UncertaintySpec",
]
