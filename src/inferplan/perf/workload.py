"""Synthetic serving workloads: request-length distributions and arrival processes.

Every distribution and process is a small frozen spec with a ``kind`` literal, so a
workload reads naturally from YAML (``{kind: lognormal, mean: 1000, std: 600}``).
Two registries, :data:`LENGTH_KINDS` and :data:`ARRIVAL_KINDS`, map each ``kind``
to its class. All sampling takes an explicit :class:`numpy.random.Generator`: the
same seed gives the same workload.

Example::

    >>> import numpy as np
    >>> spec = WorkloadSpec(isl=FixedLength(value=128), osl=UniformLength(min=1, max=9))
    >>> isl, osl = draw_requests(spec, 4)
    >>> isl.tolist()
    [128, 128, 128, 128]
    >>> float(PoissonArrivals(rate_rps=2.0).arrival_times_s(np.random.default_rng(0), 3)[0])
    0.0
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from inferplan.errors import SpecError
from inferplan.specs.base import FrozenSpec

IntArray = np.ndarray
FloatArray = np.ndarray


def _clip_tokens(raw: np.ndarray, lo: int, hi: int | None) -> IntArray:
    """Round to the nearest integer and clip to ``[lo, hi]`` tokens."""
    out = np.rint(raw)
    out = np.clip(out, lo, hi if hi is not None else np.inf)
    return out.astype(np.int64)


# ---------------------------------------------------------------- lengths (tokens)


class FixedLength(FrozenSpec):
    """Every request has exactly ``value`` tokens."""

    kind: Literal["fixed"] = "fixed"
    value: int = Field(ge=1)

    @property
    def mean(self) -> float:
        return float(self.value)

    def sample(self, rng: np.random.Generator, n: int) -> IntArray:
        return np.full(n, self.value, dtype=np.int64)


class UniformLength(FrozenSpec):
    """Integers drawn uniformly from ``[min, max]`` (both inclusive); mean (min+max)/2."""

    kind: Literal["uniform"] = "uniform"
    min: int = Field(ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> UniformLength:
        if self.max < self.min:
            raise ValueError("max must be >= min")
        return self

    @property
    def mean(self) -> float:
        return (self.min + self.max) / 2.0

    def sample(self, rng: np.random.Generator, n: int) -> IntArray:
        return rng.integers(self.min, self.max, size=n, endpoint=True, dtype=np.int64)


class NormalLength(FrozenSpec):
    """Normal(mean, std) rounded to integers and clipped to ``[min, max]``.

    ``mean`` is the mean before clipping; it is the sample mean whenever the clip
    bounds lie several ``std`` away from it.
    """

    kind: Literal["normal"] = "normal"
    mean: float = Field(gt=0)
    std: float = Field(ge=0)
    min: int = Field(default=1, ge=1)
    max: int | None = Field(default=None, ge=1)

    def sample(self, rng: np.random.Generator, n: int) -> IntArray:
        return _clip_tokens(rng.normal(self.mean, self.std, size=n), self.min, self.max)


class LognormalLength(FrozenSpec):
    """Log-normal lengths given by their own mean (tokens) and ``std`` or shape ``sigma``.

    With ``std``: sigma^2 = ln(1 + (std/mean)^2); in both cases
    mu = ln(mean) - sigma^2/2, so that E[X] = exp(mu + sigma^2/2) = mean (moments of
    the log-normal distribution, e.g. Johnson, Kotz & Balakrishnan, *Continuous
    Univariate Distributions* vol. 1, ch. 14). Rounded and clipped to ``[min, max]``;
    ``mean`` is the mean before clipping.
    """

    kind: Literal["lognormal"] = "lognormal"
    mean: float = Field(gt=0)
    std: float | None = Field(default=None, gt=0)
    sigma: float | None = Field(default=None, gt=0)
    min: int = Field(default=1, ge=1)
    max: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_shape(self) -> LognormalLength:
        if (self.std is None) == (self.sigma is None):
            raise ValueError("give exactly one of std (tokens) or sigma (log-space shape)")
        return self

    @property
    def shape_sigma(self) -> float:
        """Standard deviation of ln(X)."""
        if self.sigma is not None:
            return self.sigma
        assert self.std is not None
        return math.sqrt(math.log1p((self.std / self.mean) ** 2))

    def sample(self, rng: np.random.Generator, n: int) -> IntArray:
        sigma = self.shape_sigma
        mu = math.log(self.mean) - sigma * sigma / 2.0
        return _clip_tokens(rng.lognormal(mu, sigma, size=n), self.min, self.max)


class EmpiricalLength(FrozenSpec):
    """Lengths resampled from observed ``values`` (with optional relative ``weights``)."""

    kind: Literal["empirical"] = "empirical"
    values: tuple[int, ...] = Field(min_length=1)
    weights: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _valid(self) -> EmpiricalLength:
        if min(self.values) < 1:
            raise ValueError("values must be >= 1 token")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if min(self.weights) < 0 or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 with a positive sum")
        return self

    def _probabilities(self) -> FloatArray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    @property
    def mean(self) -> float:
        return float(np.average(np.asarray(self.values, dtype=float), weights=self.weights))

    def sample(self, rng: np.random.Generator, n: int) -> IntArray:
        values = np.asarray(self.values, dtype=np.int64)
        return rng.choice(values, size=n, p=self._probabilities())


LengthSpec = Annotated[
    FixedLength | UniformLength | NormalLength | LognormalLength | EmpiricalLength,
    Field(discriminator="kind"),
]
LENGTH_KINDS: dict[str, type[FrozenSpec]] = {
    "fixed": FixedLength,
    "uniform": UniformLength,
    "normal": NormalLength,
    "lognormal": LognormalLength,
    "empirical": EmpiricalLength,
}

# ---------------------------------------------------------------- arrivals (seconds)


def _times_from_gaps(gaps_s: FloatArray) -> FloatArray:
    """Arrival times with the first request at t = 0 and the given gaps between them."""
    times = np.empty(len(gaps_s), dtype=float)
    if len(gaps_s):
        times[0] = 0.0
        np.cumsum(gaps_s[:-1], out=times[1:])
    return times


class PoissonArrivals(FrozenSpec):
    """Poisson process: exponential inter-arrival times of mean 1/rate_rps; first at t=0."""

    kind: Literal["poisson"] = "poisson"
    rate_rps: float = Field(gt=0)

    def arrival_times_s(self, rng: np.random.Generator, n: int) -> FloatArray:
        return _times_from_gaps(rng.exponential(1.0 / self.rate_rps, size=n))


class GammaArrivals(FrozenSpec):
    """Gamma inter-arrival times with mean 1/rate_rps and coefficient of variation ``cv``.

    Shape k = 1/cv^2, scale = 1/(rate_rps k): mean k*scale = 1/rate, CV = 1/sqrt(k)
    (gamma moments). cv = 1 is the Poisson process, cv > 1 is burstier (this is the
    ``burstiness`` = k parameter of vLLM's ``benchmark_serving``). First at t=0.
    """

    kind: Literal["gamma"] = "gamma"
    rate_rps: float = Field(gt=0)
    cv: float = Field(gt=0)

    def arrival_times_s(self, rng: np.random.Generator, n: int) -> FloatArray:
        shape = 1.0 / (self.cv * self.cv)
        scale = 1.0 / (self.rate_rps * shape)
        return _times_from_gaps(rng.gamma(shape, scale, size=n))


class ConstantArrivals(FrozenSpec):
    """One request every 1/rate_rps seconds, first at t=0."""

    kind: Literal["constant"] = "constant"
    rate_rps: float = Field(gt=0)

    def arrival_times_s(self, rng: np.random.Generator, n: int) -> FloatArray:
        return np.arange(n, dtype=float) / self.rate_rps


class TraceArrivals(FrozenSpec):
    """Replay recorded arrival times (seconds, non-decreasing; key ``arrival_times_s``)."""

    kind: Literal["trace"] = "trace"
    times_s: tuple[float, ...] = Field(alias="arrival_times_s", min_length=1)

    @model_validator(mode="after")
    def _sorted(self) -> TraceArrivals:
        t = np.asarray(self.times_s, dtype=float)
        if not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) < 0):
            raise ValueError("arrival_times_s must be finite, >= 0 and non-decreasing")
        return self

    def arrival_times_s(self, rng: np.random.Generator, n: int) -> FloatArray:
        if n > len(self.times_s):
            raise SpecError(
                "arrival_times_s", f"trace holds {len(self.times_s)} arrivals, {n} requested"
            )
        return np.asarray(self.times_s[:n], dtype=float)


ArrivalSpec = Annotated[
    PoissonArrivals | GammaArrivals | ConstantArrivals | TraceArrivals,
    Field(discriminator="kind"),
]
ARRIVAL_KINDS: dict[str, type[FrozenSpec]] = {
    "poisson": PoissonArrivals,
    "gamma": GammaArrivals,
    "constant": ConstantArrivals,
    "trace": TraceArrivals,
}

# ---------------------------------------------------------------- workload


class WorkloadSpec(FrozenSpec):
    """Input (``isl``) and output (``osl``) length distributions, an optional arrival
    process, and the seed that makes a draw reproducible."""

    isl: LengthSpec
    osl: LengthSpec
    arrival: ArrivalSpec | None = None
    seed: int = Field(default=0, ge=0)


def draw_requests(
    spec: WorkloadSpec, n: int, rng: np.random.Generator | None = None
) -> tuple[IntArray, IntArray]:
    """Draw ``n`` requests: (input tokens, output tokens), each an int64 array >= 1.

    Uses ``rng`` when given, else a fresh generator seeded with ``spec.seed``.
    """
    if n < 0:
        raise SpecError("n", "number of requests must be >= 0")
    gen = rng if rng is not None else np.random.default_rng(spec.seed)
    isl = np.maximum(spec.isl.sample(gen, n), 1)
    osl = np.maximum(spec.osl.sample(gen, n), 1)
    return isl, osl


def draw_arrivals(spec: WorkloadSpec, n: int, rng: np.random.Generator | None = None) -> FloatArray:
    """Arrival times (seconds) of ``n`` requests from ``spec.arrival``.

    Uses ``rng`` when given, else a generator seeded with ``spec.seed + 1`` so that
    arrivals do not reuse the length stream.
    """
    if spec.arrival is None:
        raise SpecError("arrival", "the workload has no arrival process")
    gen = rng if rng is not None else np.random.default_rng(spec.seed + 1)
    return spec.arrival.arrival_times_s(gen, n)


def residual_step_wait_s(step_durations_s: FloatArray) -> float:
    """Mean wait of a request that reaches a busy engine at a random instant: the rest of
    the step in progress, ``sum(d^2) / (2 sum(d))`` over back-to-back steps of durations ``d``.

    A step's batch is fixed when it starts, so a request arriving mid-step waits for it to
    end; an instant picked uniformly in time falls in a step with probability proportional
    to its length and then sits, on average, half-way through it (the residual life of a
    renewal process, length-biased sampling; Kleinrock, Queueing Systems vol. 1, sec. 5.2).
    Long prefill steps dominate it: 0.45 s prefill steps taking half the time and 22 ms
    decode steps the other half give ``(0.5 x 0.45 + 0.5 x 0.022) / 2 = 0.118`` s.

    Example::

        >>> round(residual_step_wait_s(np.array([0.4, 0.02, 0.02])), 4)
        0.1827
    """
    d = np.asarray(step_durations_s, dtype=float)
    total = float(d.sum())
    if d.size == 0 or total <= 0:
        return 0.0
    return float((d * d).sum() / (2.0 * total))


DEFAULT_SIGMA = 0.8
"""Log-space spread of request lengths when the scenario gives no p90 (a p90 about
2.2 x the median; chat traces in the README's traffic notes are in this range)."""
Z90 = 1.2816


def lognormal_from_mean_p90(mean: float, p90: float | None) -> LognormalLength:
    """Log-normal with the given mean and 90th percentile (sigma solves
    ln(p90/mean) = z90 sigma - sigma^2/2, the smaller root).

    By hand for mean 1,000 and p90 2,000 tokens: 1.2816^2 - 2 ln 2 = 0.2562, so
    sigma = 1.2816 - 0.2562^0.5 = 0.775.

    >>> round(lognormal_from_mean_p90(1000, 2000).sigma, 3)
    0.775
    """
    if p90 is None or p90 <= mean:
        return LognormalLength(mean=mean, sigma=DEFAULT_SIGMA)
    disc = Z90 * Z90 - 2.0 * math.log(p90 / mean)
    sigma = Z90 - math.sqrt(disc) if disc > 0 else Z90
    return LognormalLength(mean=mean, sigma=max(sigma, 1e-3))


__all__ = [
    "ARRIVAL_KINDS",
    "DEFAULT_SIGMA",
    "LENGTH_KINDS",
    "ArrivalSpec",
    "ConstantArrivals",
    "EmpiricalLength",
    "FixedLength",
    "GammaArrivals",
    "LengthSpec",
    "LognormalLength",
    "NormalLength",
    "PoissonArrivals",
    "TraceArrivals",
    "UniformLength",
    "WorkloadSpec",
    "draw_arrivals",
    "draw_requests",
    "lognormal_from_mean_p90",
    "residual_step_wait_s",
]
