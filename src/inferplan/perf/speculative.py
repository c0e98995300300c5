"""Speculative decoding: a cheap drafter proposes tokens, the target verifies them in one step.

Each round the drafter proposes ``k`` tokens per sequence (``k`` decode steps of a draft
model, or nearly free for n-gram lookup, or the model's own multi-token-prediction heads) and
the target runs one step over ``k + 1`` positions per sequence. With a per-token acceptance
rate ``a`` (independent acceptances), a round emits on average

    E = (1 - a^(k+1)) / (1 - a)

tokens per sequence (Leviathan, Kalman and Matias, Fast Inference from Transformers via
Speculative Decoding, ICML 2023, arXiv:2211.17192, eq. 1). The verify step streams the weights
and each sequence's KV once, like a decode step, but pushes ``k + 1`` rows per sequence through
the linear layers and ``k`` more queries through attention: at small batch it costs about one
decode step (weight streaming dominates), at large batch about ``k + 1`` of them (compute
dominates), which is why speculation pays at low batch and stops paying as the batch grows.

:class:`SpeculativeStepModel` wraps a target step model: a decode step's time becomes the
round's time divided by ``E`` (the mean time per emitted token), so the simulator's one token
per decode step keeps the right throughput and mean TPOT, while the prompt tokens of a mixed
step are charged what they add to the round, in full (TTFT is not shortened by ``E``);
tokens in fact arrive in bursts of ``E`` on average (ITL percentiles are not modelled).

Example::

    >>> round(expected_tokens_per_round(4, 0.7), 3)
    2.773
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from inferplan.perf.batch import BatchShape, StepTimeModel
from inferplan.perf.step import StepModel
from inferplan.specs.base import FrozenSpec


class SpeculativeSpec(FrozenSpec):
    """How a deployment speculates: drafter kind, draft length and acceptance rate.

    method: ``draft_model`` (a smaller model of the same tokenizer, its steps timed by its
    own step model), ``mtp`` (multi-token-prediction heads, about one extra layer per draft
    token: DeepSeek-V3, arXiv:2412.19437 section 2.2) or ``ngram`` (prompt lookup, no device
    time).
    """

    method: Literal["draft_model", "mtp", "ngram"] = "draft_model"
    draft_tokens: int = Field(default=4, ge=1, le=16)
    acceptance_rate: float = Field(default=0.7, gt=0.0, lt=1.0)


def expected_tokens_per_round(draft_tokens: int, acceptance_rate: float) -> float:
    """Mean tokens a sequence emits per verify step, ``(1 - a^(k+1)) / (1 - a)``."""
    a, k = acceptance_rate, draft_tokens
    return (1.0 - a ** (k + 1)) / (1.0 - a)


def verify_shape(shape: BatchShape, draft_tokens: int) -> BatchShape:
    """The target's verify step for the decode part of ``shape``: ``k`` extra rows per
    sequence through the linear layers and LM head, each attending to its context."""
    b, k = shape.decode_seqs, draft_tokens
    mean_ctx = shape.decode_context_tokens / b if b else 0.0
    return BatchShape(
        prefill_tokens=shape.prefill_tokens + b * k,
        prefill_attention_pairs=shape.prefill_attention_pairs + b * k * (mean_ctx + k / 2.0),
        prefill_seqs=shape.prefill_seqs + b * k,
        decode_seqs=b,
        decode_context_tokens=shape.decode_context_tokens,
    )


@dataclass(frozen=True, slots=True)
class SpeculativeStepModel:
    """A target step model with speculative decoding (see module docstring).

    ``draft`` times the drafter's own decode steps (``draft_model``); for ``mtp`` the
    drafter costs ``1 / target_layers`` of a target decode step plus the output head per
    draft token; ``ngram``
    drafts cost nothing on the device.
    """

    target: StepTimeModel
    spec: SpeculativeSpec
    draft: StepTimeModel | None = None
    target_layers: int = 1

    def draft_time_s(self, shape: BatchShape) -> float:
        """Device time of proposing ``k`` tokens for every decode sequence of ``shape``."""
        k = self.spec.draft_tokens
        dec = BatchShape(
            decode_seqs=shape.decode_seqs, decode_context_tokens=shape.decode_context_tokens
        )
        if self.spec.method == "ngram" or not shape.decode_seqs:
            return 0.0
        if self.spec.method == "mtp":
            # one MTP module is one more decoder layer, but each drafted token also runs the
            # shared output head over the batch (arXiv:2412.19437 section 2.2)
            head_s = (
                self.target.lm_head_time_s(shape.decode_seqs)
                if isinstance(self.target, StepModel)
                else 0.0
            )
            return k * (self.target.step_time_s(dec) / max(1, self.target_layers) + head_s)
        if self.draft is None:
            raise ValueError("a draft_model speculative spec needs a draft step model")
        return k * self.draft.step_time_s(dec)

    def round_time_s(self, shape: BatchShape) -> float:
        """Seconds of one speculative round: drafting, then one verify step."""
        verify = self.target.step_time_s(verify_shape(shape, self.spec.draft_tokens))
        return self.draft_time_s(shape) + verify

    def step_time_s(self, shape: BatchShape) -> float:
        """Seconds the simulator charges for ``shape``: a decode-only round divided by the
        mean tokens per round ``E`` (the time per emitted token), plus, in a step that also
        carries prompt tokens, what those prompt tokens add to the round, in full.

        The simulator advances every decode sequence one token and every prompt one chunk per
        step; a real round advances the decodes ``E`` tokens and the prompt one chunk. Charging
        the prompt's share whole keeps each chunk at its real cost (so TTFT is not divided
        by ``E``); only the decode part is spread over the tokens it emits. The prompt's share
        is what it adds to a plain step of the same decodes. Prefill-only steps
        run as is.
        """
        if not shape.decode_seqs:
            return self.target.step_time_s(shape)
        e = expected_tokens_per_round(self.spec.draft_tokens, self.spec.acceptance_rate)
        decode_only = BatchShape(
            decode_seqs=shape.decode_seqs, decode_context_tokens=shape.decode_context_tokens
        )
        decode_round_s = self.round_time_s(decode_only)
        if not shape.prefill_tokens:
            return decode_round_s / e
        # the prompt's share: what it adds to a plain step of the same decodes (the verify
        # rows are kept out of it, so a prompt stays one sequence, e.g. on one attention
        # data-parallel rank)
        prompt_s = max(0.0, self.target.step_time_s(shape) - self.target.step_time_s(decode_only))
        return prompt_s + decode_round_s / e

    def speedup(self, shape: BatchShape) -> float:
        """Decode speed with speculation over without, for ``shape`` (> 1: it pays)."""
        return self.target.step_time_s(shape) / self.step_time_s(shape)
