"""Transformer model architecture specs, with fields named as in Hugging Face ``config.json``."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from inferplan.specs.base import SourcedRecord


class AttentionKind(StrEnum):
    MHA = "mha"
    GQA = "gqa"
    MQA = "mqa"
    MLA = "mla"


class ModelSpec(SourcedRecord):
    """A decoder-only transformer.

    Dense, GQA/MQA, MoE (``num_experts`` > 0), MLA (``kv_lora_rank`` set) and
    sliding-window layers (``num_sliding_window_layers`` of ``num_layers`` use a
    window of ``sliding_window`` tokens) are described by the same record.
    ``mlp_gated`` is True for SwiGLU/GeGLU (three matrices), False for GPT-style two.
    """

    name: str
    family: str
    hidden_size: int = Field(gt=0)
    num_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    intermediate_size: int = Field(gt=0, description="dense MLP width")
    vocab_size: int = Field(gt=0)
    max_context: int = Field(gt=0)
    tie_word_embeddings: bool = False
    mlp_gated: bool = True
    qkv_bias: bool = False
    # MoE
    num_experts: int = Field(default=0, ge=0)
    experts_per_token: int = Field(default=0, ge=0)
    moe_intermediate_size: int = Field(default=0, ge=0)
    num_shared_experts: int = Field(default=0, ge=0)
    first_dense_layers: int = Field(default=0, ge=0, description="leading layers with a dense MLP")
    # MLA (DeepSeek-V2/V3)
    kv_lora_rank: int = Field(default=0, ge=0)
    q_lora_rank: int = Field(default=0, ge=0)
    qk_rope_head_dim: int = Field(default=0, ge=0)
    qk_nope_head_dim: int = Field(default=0, ge=0)
    v_head_dim: int = Field(default=0, ge=0)
    # sliding window
    sliding_window: int = Field(default=0, ge=0)
    num_sliding_window_layers: int = Field(default=0, ge=0)
    # speculative decoding
    mtp_modules: int = Field(
        default=0,
        ge=0,
        description="multi-token-prediction modules the released checkpoint ships "
        "(config.json num_nextn_predict_layers); 0 when it has none",
    )
    native_dtype: str = "bf16"
    published_params: float | None = Field(default=None, gt=0, description="vendor figure")

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.num_attention_heads % self.num_kv_heads and self.kv_lora_rank == 0:
            raise ValueError("num_attention_heads must be a multiple of num_kv_heads")
        if self.num_experts:
            if not 0 < self.experts_per_token <= self.num_experts:
                raise ValueError("experts_per_token must be in 1..num_experts")
            if self.moe_intermediate_size == 0:
                raise ValueError("moe_intermediate_size is required for MoE models")
        if self.first_dense_layers > self.num_layers:
            raise ValueError("first_dense_layers exceeds num_layers")
        if self.num_sliding_window_layers > self.num_layers:
            raise ValueError("num_sliding_window_layers exceeds num_layers")
        if self.num_sliding_window_layers and not self.sliding_window:
            raise ValueError("sliding_window is required when layers use one")
        return self

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def attention_kind(self) -> AttentionKind:
        if self.is_mla:
            return AttentionKind.MLA
        if self.num_kv_heads == 1:
            return AttentionKind.MQA
        if self.num_kv_heads == self.num_attention_heads:
            return AttentionKind.MHA
        return AttentionKind.GQA
