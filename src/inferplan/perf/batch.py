"""What one engine step processes, and the scheduler limits that shape it.

These two small value types are the contract between the step-time model
(``inferplan.perf.step``) and the continuous-batching simulator
(``inferplan.perf.simulate``): the simulator says what a step contains, the
step-time model says how long it takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from inferplan.specs.engine import Admission


@dataclass(frozen=True, slots=True)
class BatchShape:
    """The work of one engine step, as aggregate counts.

    prefill_tokens: prompt tokens processed this step, summed over all prefill chunks.
    prefill_attention_pairs: query-key pairs of those chunks' causal attention,
        sum over chunks of ``chunk * (context_before + (chunk + 1) / 2)``.
    prefill_seqs: sequences with a prefill chunk in this step.
    decode_seqs: sequences generating one token this step.
    decode_context_tokens: sum of the KV lengths those decode sequences attend to.
    """

    prefill_tokens: int = 0
    prefill_attention_pairs: float = 0.0
    prefill_seqs: int = 0
    decode_seqs: int = 0
    decode_context_tokens: int = 0

    @property
    def tokens(self) -> int:
        """Tokens that pass through the linear layers this step."""
        return self.prefill_tokens + self.decode_seqs


class StepTimeModel(Protocol):
    """Anything that turns a batch shape into a step duration in seconds."""

    def step_time_s(self, shape: BatchShape) -> float: ...


@dataclass(frozen=True, slots=True)
class SchedulerLimits:
    """Limits of an engine's continuous-batching scheduler for one replica."""

    max_num_seqs: int
    max_num_batched_tokens: int
    kv_capacity_tokens: int
    chunked_prefill: bool = True
    kv_block_tokens: int = 16
    admission: Admission = Admission.ON_DEMAND

    def __post_init__(self) -> None:
        if self.max_num_seqs < 1:
            raise ValueError("max_num_seqs must be >= 1")
        if self.max_num_batched_tokens < 1:
            raise ValueError("max_num_batched_tokens must be >= 1")
        if self.kv_capacity_tokens < 1:
            raise ValueError("kv_capacity_tokens must be >= 1")
