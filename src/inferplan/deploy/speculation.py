"""A deployment's speculative step model and what the drafter takes from its KV cache.

One sizing rule for ``inferplan perf --spec`` and the planner's speculative designs:

* ``draft_model``: the draft model runs at the target's tensor-parallel degree; its weights
  come out of the KV cache, and its own KV then shares what is left token for token with the
  target's (every sequence holds both).
* ``mtp``: the checkpoint's multi-token-prediction module(s) are one more decoder layer each,
  sharing the embedding and the output head with the main model (DeepSeek-V3 technical
  report, arXiv:2412.19437 section 2.2); inferplan charges ``mtp_modules`` average decoder
  layers of the replica's per-device weights (DeepSeek-V3: 671B / 61 layers = 11.0B
  parameters, beside the 14B of MTP weights DeepSeek's README_WEIGHTS.md lists with the
  module's own copies of the shared embedding) and one layer's KV per module per token.
* ``ngram``: prompt lookup holds nothing on the device.

Example (DeepSeek-V3 FP8 at TP 8 holds about 84 GB of weights per device; its MTP
module about 1/61 of that)::

    >>> d = replace(resolve("deepseek-v3", "h200-sxm-141gb", "vllm", "fp8"), tp=8)
    >>> round(mtp_bytes_per_device(d) / 1e9, 2)
    1.38
"""

from __future__ import annotations

from dataclasses import replace

from inferplan.deploy.deployment import Deployment, limits_of, resolve, step_model_of
from inferplan.errors import InfeasibleError, SpecError
from inferplan.memory.params import total_params
from inferplan.memory.weights import weights_bytes_per_device
from inferplan.perf.batch import SchedulerLimits
from inferplan.perf.speculative import SpeculativeSpec, SpeculativeStepModel
from inferplan.perf.step import StepModel
from inferplan.results.memory import MemoryBreakdown
from inferplan.specs.model import ModelSpec


def mtp_bytes_per_device(d: Deployment) -> float:
    """Bytes of ``d``'s multi-token-prediction module(s) on each device: ``mtp_modules``
    average decoder layers of its per-device weights (0 for a model without one)."""
    m = d.model
    if m.mtp_modules < 1:
        return 0.0
    per_device = weights_bytes_per_device(
        m, d.weights, d.tp, 1, ep=d.ep, redundant_experts=d.redundant_experts
    )
    return m.mtp_modules * per_device / m.num_layers


def mtp_missing(m: ModelSpec) -> str | None:
    """None when ``m`` has a multi-token-prediction module to draft with, else one line
    naming the catalog field."""
    if m.mtp_modules > 0:
        return None
    return (
        f"{m.id} has no multi-token-prediction module (catalog field mtp_modules is 0: its "
        "config.json sets no num_nextn_predict_layers)"
    )


def draft_problem(target: ModelSpec, draft: ModelSpec) -> str | None:
    """Why ``draft`` cannot draft for ``target``, or None: a draft model must share the
    target's vocabulary (engines verify drafted token ids against the target's; vLLM
    refuses a mismatch) and be smaller than the target."""
    if draft.vocab_size != target.vocab_size:
        return (
            f"{draft.id} has a vocabulary of {draft.vocab_size:,} tokens, {target.id} of "
            f"{target.vocab_size:,}: a draft model must share the target's tokenizer"
        )
    if total_params(draft) >= total_params(target):
        return f"{draft.id} is not smaller than {target.id}: a draft model must be cheaper to run"
    return None


def speculative_runtime(
    d: Deployment,
    mem: MemoryBreakdown,
    spec: SpeculativeSpec,
    draft_model: str | None,
    min_tokens: int,
) -> tuple[SpeculativeStepModel, SchedulerLimits]:
    """The speculative step model of ``d`` and its scheduler limits with the drafter's
    weights and KV taken out of the KV cache (see the module text). Raises
    :class:`~inferplan.errors.SpecError` for a method the model cannot run and
    :class:`~inferplan.errors.InfeasibleError` when fewer than ``min_tokens`` of KV remain."""
    target = step_model_of(d)
    limits = limits_of(d, mem)
    draft: StepModel | None = None
    held_bytes, kv_extra = 0.0, 0.0
    kv_t = target.kv_bytes_per_token_dev
    if spec.method == "mtp":
        why = mtp_missing(d.model)
        if why:
            raise SpecError("spec", f"{why}; use draft_model or ngram")
        held_bytes = mtp_bytes_per_device(d)
        kv_extra = kv_t * d.model.mtp_modules / d.model.num_layers
        what = "the multi-token-prediction module"
    elif spec.method == "draft_model":
        if draft_model is None:
            raise SpecError("draft_model", "speculative method draft_model needs a draft model id")
        dd = replace(
            resolve(draft_model, d.accelerator.id, d.engine.id, d.weights.precision.value),
            tp=d.tp,
            efficiency=d.efficiency,
        )
        why = draft_problem(d.model, dd.model)
        if why:
            raise SpecError("draft_model", why)
        draft = step_model_of(dd)
        held_bytes = weights_bytes_per_device(dd.model, dd.weights, d.tp, 1)
        kv_extra = draft.kv_bytes_per_token_dev
        what = f"draft model {draft_model}"
    if held_bytes or kv_extra:
        left = (limits.kv_capacity_tokens * kv_t - held_bytes) / (kv_t + kv_extra)
        if left < min_tokens:
            raise InfeasibleError(
                f"{what} leaves {max(left, 0):,.0f} tokens of KV cache, "
                f"fewer than the {min_tokens:,} one request needs"
            )
        limits = replace(limits, kv_capacity_tokens=int(left))
    return SpeculativeStepModel(target, spec, draft=draft, target_layers=target.layers), limits


__all__ = ["draft_problem", "mtp_bytes_per_device", "mtp_missing", "speculative_runtime"]
