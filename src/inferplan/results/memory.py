"""Result of a memory-fit computation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MemoryBreakdown(BaseModel):
    """Where one device's memory goes, and what fits. Bytes are SI bytes per device
    unless the name says ``total``."""

    model_config = ConfigDict(frozen=True)

    model: str
    accelerator: str
    engine: str
    precision: str
    kv_precision: str
    tp: int
    pp: int
    count: int
    ep: int = 1
    dp_attention: int = 1
    context_tokens: int
    concurrency: int
    total_params: float
    active_params: float
    weights_bytes: float
    kv_cache_bytes_per_token: float
    kv_cache_bytes_per_sequence: float
    per_device_bytes: dict[str, float]
    device_capacity_bytes: float
    engine_budget_bytes: float
    kv_capacity_bytes_per_device: float
    kv_capacity_tokens: int
    fits: bool
    max_concurrency_at_context: int
    max_context_at_concurrency: int
    reason: str
