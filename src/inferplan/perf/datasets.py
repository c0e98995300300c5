"""Request lengths of public datasets, by name, with the statistics' sources.

A measurement or a scenario that names only its dataset ("ShareGPT, 500 prompts") can be
predicted from the dataset's mean prompt and output lengths in tokens. Only figures that a
cited source states are listed; a dataset whose statistics could not be sourced is absent
(an unknown name raises, listing the known ones). The steady-state and static regimes use the
means; the simulator draws fixed lengths at the rounded means unless a spread is known.

Example::

    >>> d = dataset_lengths("ShareGPT")
    >>> (d.isl_mean, d.osl_mean)
    (161.31, 337.99)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inferplan.errors import SpecError
from inferplan.perf.workload import FixedLength, WorkloadSpec


@dataclass(frozen=True, slots=True)
class DatasetLengths:
    """Mean prompt (``isl``) and output (``osl``) lengths of a dataset, tokens."""

    name: str
    isl_mean: float
    osl_mean: float
    tokenizer: str
    source: str


DATASETS: dict[str, DatasetLengths] = {
    "sharegpt": DatasetLengths(
        name="ShareGPT",
        isl_mean=161.31,
        osl_mean=337.99,
        tokenizer="OPT/LLaMA (as in the source)",
        source="Kwon et al., Efficient Memory Management for LLM Serving with PagedAttention, "
        "SOSP 2023 (arXiv:2309.06180), section 6.1 and Fig. 11: ShareGPT input mean 161.31, "
        "output mean 337.99 tokens",
    ),
    "alpaca": DatasetLengths(
        name="Alpaca",
        isl_mean=19.31,
        osl_mean=58.45,
        tokenizer="OPT/LLaMA (as in the source)",
        source="Kwon et al., SOSP 2023 (arXiv:2309.06180), section 6.1 and Fig. 11: Alpaca "
        "input mean 19.31, output mean 58.45 tokens",
    ),
}
"""Datasets with sourced mean lengths. OpenOrca (MLPerf Llama-2-70B), LongBench and the other
MLPerf sets are not listed: their token-length means could not be sourced yet."""

ALIASES = {"sharegpt_v3": "sharegpt", "sharegpt-v3": "sharegpt", "share-gpt": "sharegpt"}


def _key(name: str) -> str:
    k = name.strip().lower().replace(" ", "")
    return ALIASES.get(k, k)


def dataset_lengths(name: str) -> DatasetLengths:
    """The sourced mean lengths of dataset ``name`` (case-insensitive)."""
    found = DATASETS.get(_key(name))
    if found is None:
        known = ", ".join(d.name for d in DATASETS.values())
        raise SpecError("dataset", f"unknown dataset {name!r}; known: {known}")
    return found


def dataset_workload(name: str, seed: int = 0) -> WorkloadSpec:
    """A workload of fixed lengths at the dataset's rounded mean prompt and output lengths."""
    d = dataset_lengths(name)
    return WorkloadSpec(
        isl=FixedLength(value=max(1, round(d.isl_mean))),
        osl=FixedLength(value=max(1, round(d.osl_mean))),
        seed=seed,
    )


def dataset_named_in(text: str) -> DatasetLengths | None:
    """The first known dataset whose name appears as a word in ``text``, if any."""
    for key, d in DATASETS.items():
        names = [key, d.name, *(a for a, k in ALIASES.items() if k == key)]
        if any(re.search(rf"\b{re.escape(n)}\b", text, re.IGNORECASE) for n in names):
            return d
    return None
