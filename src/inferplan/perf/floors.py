"""The work of one measured floor step (``tests/reference/data/h200_*_steps.csv``) as a batch shape.

A floor row names its kind (``decode``, ``prefill`` or ``mixed decode+chunkN``), a batch and a
token count; :func:`floor_shape` turns it into the :class:`~inferplan.perf.batch.BatchShape` the
step-time model takes, following the measuring script: decode sequences attend to ``tokens`` cached
tokens, prefill prompts are causal without a cache, and a mixed step's chunk attends causally to
itself only.

    >>> floor_shape("mixed decode+chunk512", 64, 2048).prefill_tokens
    512
"""

from __future__ import annotations

from inferplan.errors import SpecError
from inferplan.perf.batch import BatchShape


def floor_shape(kind: str, batch: int, tokens: int) -> BatchShape:
    """The batch shape of one measured step of ``kind`` with ``batch`` and ``tokens``."""
    if kind == "decode":
        return BatchShape(decode_seqs=batch, decode_context_tokens=batch * tokens)
    if kind == "prefill":
        return BatchShape(
            prefill_tokens=batch * tokens,
            prefill_attention_pairs=batch * tokens * (tokens + 1) / 2.0,
            prefill_seqs=batch,
        )
    prefix = "mixed decode+chunk"
    if kind.startswith(prefix) and kind[len(prefix) :].isdigit():
        chunk = int(kind[len(prefix) :])
        return BatchShape(
            prefill_tokens=chunk,
            prefill_attention_pairs=chunk * (chunk + 1) / 2.0,
            prefill_seqs=1,
            decode_seqs=batch,
            decode_context_tokens=batch * tokens,
        )
    raise SpecError(
        "kind", f"unknown floor step kind {kind!r} (decode, prefill, mixed decode+chunkN)"
    )
