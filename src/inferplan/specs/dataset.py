"""A public dataset's request lengths as its sources publish them (``catalog/data/datasets.yaml``).

Only published figures are stored: a mean, median, standard deviation, 90th percentile or
maximum of the prompt (``input``) and output lengths, each in the unit its source counted
(tokens, or words for benchmarks that count words to stay tokenizer-neutral, converted at
``tokens_per_word`` whose own source is named in ``conversion``). A field the source does
not publish stays empty; :mod:`inferplan.perf.datasets` turns what is there into a length
distribution and says which figures it used.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from inferplan.specs.base import FrozenSpec, SourcedRecord


class LengthStats(FrozenSpec):
    """Published statistics of one length (prompt or output) of a dataset.

    ``max_is_cap`` marks a ``max`` that is the benchmark's generation cap
    (``max_new_tokens``), not an observed maximum.
    """

    unit: Literal["tokens", "words"] = "tokens"
    mean: float | None = Field(default=None, gt=0, le=1e7)
    median: float | None = Field(default=None, gt=0, le=1e7)
    std: float | None = Field(default=None, gt=0, le=1e7)
    p90: float | None = Field(default=None, gt=0, le=1e7)
    max: int | None = Field(default=None, ge=1, le=10_000_000)
    max_is_cap: bool = False

    @model_validator(mode="after")
    def _something_published(self) -> LengthStats:
        if self.mean is None and self.median is None and self.max is None:
            raise ValueError("mean: give at least one of mean, median or max")
        if self.max_is_cap and self.max is None:
            raise ValueError("max_is_cap: needs max")
        for name in ("mean", "median", "p90"):
            value = getattr(self, name)
            if value is not None and self.max is not None and value > self.max:
                raise ValueError(f"{name}: {value:g} is above max {self.max}")
        return self


class DatasetSpec(SourcedRecord):
    """One dataset (or one task of a benchmark) with its published length statistics."""

    name: str = Field(min_length=1, max_length=80, description="display name")
    input: LengthStats
    output: LengthStats
    tokenizer: str = Field(min_length=1, description="tokenizer the source counted with")
    samples: int | None = Field(default=None, ge=1, description="requests in the set")
    tokens_per_word: float | None = Field(default=None, gt=0, le=10)
    conversion: str = Field(default="", description="source of tokens_per_word")

    @model_validator(mode="after")
    def _conversion_sourced(self) -> DatasetSpec:
        in_words = "words" in (self.input.unit, self.output.unit)
        if in_words and (self.tokens_per_word is None or len(self.conversion) < 3):
            raise ValueError(
                "tokens_per_word: lengths in words need tokens_per_word and its source "
                "in conversion"
            )
        if not in_words and self.tokens_per_word is not None:
            raise ValueError("tokens_per_word: only for lengths counted in words")
        return self


__all__ = ["DatasetSpec", "LengthStats"]
