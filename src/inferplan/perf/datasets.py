"""Request-length distributions of public datasets from their published statistics.

A measurement or a scenario that names only its dataset ("ShareGPT, 500 prompts") is
predicted from the dataset's published figures (:class:`~inferplan.specs.dataset.DatasetSpec`,
shipped in ``catalog/data/datasets.yaml``). Each length (prompt, output) becomes a
:mod:`inferplan.perf.workload` length spec from what its source gives, and the choice is
stated with it:

* mean and median (mean > median): log-normal with median ``e^mu`` and mean
  ``e^(mu + sigma^2/2)``, so ``sigma = sqrt(2 ln(mean/median))``;
* mean and standard deviation: log-normal of that mean and std (``LognormalLength``);
* mean and 90th percentile: ``lognormal_from_mean_p90``;
* median and 90th percentile: ``sigma = ln(p90/median) / z90``, mean ``median e^(sigma^2/2)``;
* mean only: fixed lengths at the mean ("mean only: fixed lengths");
* median only: fixed lengths at the median, flagged (the mean of a right-skewed length
  distribution is larger; it is not published);
* a generation cap only (``max_is_cap``): fixed at the cap, flagged as an upper bound.

Log-normal moments: Johnson, Kotz & Balakrishnan, *Continuous Univariate Distributions*
vol. 1, ch. 14. The log-normal is an inferplan modelling choice: request lengths are positive
and right-skewed, and two published figures pin its two parameters; it is clipped at the
published maximum or generation cap when there is one. Lengths counted in words are
converted at the record's ``tokens_per_word`` (its source is in the record). The
steady-state and static regimes use the distributions' means; a simulated workload
(:func:`dataset_workload`) draws from the distributions.

Example::

    >>> from inferplan.specs.dataset import LengthStats
    >>> spec, basis = length_distribution(LengthStats(mean=161.31))
    >>> (spec.mean, basis)
    (161.0, 'mean only: fixed lengths')
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from inferplan.perf.workload import (
    Z90,
    FixedLength,
    LengthSpec,
    LognormalLength,
    WorkloadSpec,
    lognormal_from_mean_p90,
)
from inferplan.specs.dataset import DatasetSpec, LengthStats


def sigma_from_mean_median(mean: float, median: float) -> float:
    """Log-space sigma of the log-normal with this mean and median (``mean > median``).

    By hand for mean 1,000 and median 600 tokens: ln(1000/600) = 0.5108, x2 = 1.0217,
    sqrt = 1.0108.

    >>> round(sigma_from_mean_median(1000, 600), 4)
    1.0108
    """
    return math.sqrt(2.0 * math.log(mean / median))


def length_distribution(
    stats: LengthStats, tokens_per_word: float | None = None
) -> tuple[LengthSpec, str]:
    """The length spec (tokens) for published ``stats`` and a phrase naming what it used."""
    k = tokens_per_word if stats.unit == "words" and tokens_per_word else 1.0
    words = f" (words x {k:g} tokens/word)" if k != 1.0 else ""

    def scaled(x: float | None) -> float | None:
        return None if x is None else x * k

    mean, median, std, p90 = (scaled(v) for v in (stats.mean, stats.median, stats.std, stats.p90))
    hi = None if stats.max is None else max(1, round(stats.max * k))  # a cap bounds it too
    if mean is not None and median is not None and mean > median:
        sigma = sigma_from_mean_median(mean, median)
        lnd = LognormalLength(mean=mean, sigma=sigma, max=hi)
        return lnd, f"lognormal matched to mean and median{words}"
    if mean is not None and std is not None:
        lnd = LognormalLength(mean=mean, std=std, max=hi)
        return lnd, f"lognormal matched to mean and std{words}"
    if mean is not None and p90 is not None and p90 > mean:
        fitted = lognormal_from_mean_p90(mean, p90)
        lnd = LognormalLength(mean=mean, sigma=fitted.shape_sigma, max=hi)
        return lnd, f"lognormal matched to mean and p90{words}"
    if mean is None and median is not None and p90 is not None and p90 > median:
        sigma = math.log(p90 / median) / Z90
        lnd = LognormalLength(mean=median * math.exp(sigma * sigma / 2.0), sigma=sigma, max=hi)
        return lnd, f"lognormal matched to median and p90{words}"
    if mean is not None:
        return FixedLength(value=max(1, round(mean))), f"mean only: fixed lengths{words}"
    if median is not None:
        basis = "median only: fixed lengths at the median (mean not published)"
        return FixedLength(value=max(1, round(median))), basis + words
    assert stats.max is not None  # LengthStats requires mean, median or max
    cap = max(1, round(stats.max * k))
    what = "generation cap" if stats.max_is_cap else "maximum"
    return FixedLength(value=cap), f"{what} only: fixed at the {what} (an upper bound){words}"


def published(stats: LengthStats) -> str:
    """The published figures of ``stats`` in a few words.

    >>> published(LengthStats(mean=161.31, max=1024))
    'mean 161.31, max 1024 tokens'
    >>> published(LengthStats(max=512, max_is_cap=True))
    'cap 512 tokens'
    """
    parts = [
        f"{name} {value:g}"
        for name, value in (
            ("mean", stats.mean), ("median", stats.median), ("std", stats.std),
            ("p90", stats.p90), ("cap" if stats.max_is_cap else "max", stats.max),
        )
        if value is not None
    ]
    return f"{', '.join(parts)} {stats.unit}"


@dataclass(frozen=True, slots=True)
class DatasetLengths:
    """A dataset's prompt (``isl``) and output (``osl``) length specs, what each used, and
    the source."""

    id: str
    name: str
    isl: LengthSpec
    osl: LengthSpec
    isl_basis: str
    osl_basis: str
    isl_published: str
    osl_published: str
    tokenizer: str
    source: str

    isl_mean: float
    """Mean prompt tokens: the published mean (unrounded) or the distribution's mean."""
    osl_mean: float
    """Mean output tokens, the same way."""

    @property
    def fixed(self) -> bool:
        """True when both lengths are fixed (one published figure each): no spread."""
        return "fixed" in self.isl_basis and "fixed" in self.osl_basis

    def describe(self) -> str:
        """One line: the dataset, the lengths used with their basis, and the source."""
        return (
            f"lengths: {self.name}: prompt {self.isl_published} -> {self.isl_mean:,.0f} tokens "
            f"used ({self.isl_basis}); output {self.osl_published} -> {self.osl_mean:,.0f} "
            f"tokens used ({self.osl_basis}); source: {self.source}"
            + (
                "; every request has these lengths, so the percentiles show no length spread"
                if self.fixed
                else "; closed loops and arrivals draw each request's lengths from these "
                "distributions, batch and max-throughput figures use the means"
            )
        )


def dataset_lengths(spec: DatasetSpec) -> DatasetLengths:
    """The prompt and output length distributions of ``spec``.

    >>> from inferplan.specs.dataset import LengthStats
    >>> d = DatasetSpec(id="x", name="X", source="a paper", as_of="2024-01-01", tokenizer="t",
    ...                 input=LengthStats(mean=1000, median=600), output=LengthStats(mean=200))
    >>> (round(dataset_lengths(d).isl.shape_sigma, 4), dataset_lengths(d).osl_basis)
    (1.0108, 'mean only: fixed lengths')
    """
    isl, isl_basis = length_distribution(spec.input, spec.tokens_per_word)
    osl, osl_basis = length_distribution(spec.output, spec.tokens_per_word)
    k = spec.tokens_per_word or 1.0

    def mean_of(stats: LengthStats, dist: LengthSpec) -> float:
        if stats.mean is not None:
            return stats.mean * (k if stats.unit == "words" else 1.0)
        return float(dist.mean)

    return DatasetLengths(
        id=spec.id,
        name=spec.name,
        isl=isl,
        osl=osl,
        isl_basis=isl_basis,
        osl_basis=osl_basis,
        isl_mean=mean_of(spec.input, isl),
        osl_mean=mean_of(spec.output, osl),
        isl_published=published(spec.input),
        osl_published=published(spec.output),
        tokenizer=spec.tokenizer,
        source=spec.source,
    )


def dataset_workload(spec: DatasetSpec, seed: int = 0) -> WorkloadSpec:
    """A workload drawing prompt and output lengths from ``spec``'s distributions."""
    d = dataset_lengths(spec)
    return WorkloadSpec(isl=d.isl, osl=d.osl, seed=seed)


def p90_of(spec: LengthSpec) -> float | None:
    """90th percentile (tokens) of a log-normal spec, ``e^(mu + z90 sigma)``; None otherwise.

    By hand for mean 1,000 and sigma 1.0108 (median 600): 600 e^(1.2816 x 1.0108) = 2191.

    >>> round(p90_of(LognormalLength(mean=1000, sigma=1.0108)) or 0)
    2191
    """
    if not isinstance(spec, LognormalLength):
        return None
    sigma = spec.shape_sigma
    mu = math.log(spec.mean) - sigma * sigma / 2.0
    return math.exp(mu + Z90 * sigma)


def _pattern(name: str) -> re.Pattern[str]:
    """A whole-word pattern for ``name`` where ``-``, ``_`` and a space match each other."""
    parts = [re.escape(p) for p in re.split(r"[-_ ]+", name.strip()) if p]
    return re.compile(r"\b" + r"[-_ ]?".join(parts) + r"\b", re.IGNORECASE)


def dataset_named_in(text: str, datasets: Iterable[DatasetSpec]) -> DatasetSpec | None:
    """The first of ``datasets`` whose id, name or an alias appears as a word in ``text``.

    >>> from inferplan.specs.dataset import LengthStats
    >>> d = DatasetSpec(id="lmsys-chat-1m", name="LMSYS-Chat-1M", source="a paper",
    ...                 as_of="2023-09-21", tokenizer="t", input=LengthStats(mean=69.5),
    ...                 output=LengthStats(mean=214.5))
    >>> dataset_named_in("prompts from LMSYS Chat 1M", [d]).id
    'lmsys-chat-1m'
    """
    for d in datasets:
        if any(_pattern(n).search(text) for n in (d.id, d.name, *d.aliases)):
            return d
    return None


__all__ = [
    "DatasetLengths",
    "dataset_lengths",
    "dataset_named_in",
    "dataset_workload",
    "length_distribution",
    "p90_of",
    "published",
    "sigma_from_mean_median",
]
