"""Parameter counts of a transformer from its architecture.

Counts follow the weight matrices of the Hugging Face implementations (Llama,
Mixtral, Qwen, DeepSeek-V3, Gemma, GPT-J): attention projections, MLP or MoE
experts and router, norms, token embedding and LM head (shared when tied).
Biases are counted where the architecture has them (``qkv_bias``).
Reference for the dense count: Kaplan et al. 2020 (arXiv:2001.08361) and the
published totals pinned in ``tests/reference``.
"""

from __future__ import annotations

from dataclasses import dataclass

from inferplan.specs.model import ModelSpec


@dataclass(frozen=True, slots=True)
class ParamCounts:
    """Parameter counts by role (elements, not bytes)."""

    embedding: float
    lm_head: float
    attention: float
    dense_mlp: float
    expert_each: float
    experts_total: float
    shared_experts: float
    router: float
    norms: float
    moe_layers: int

    @property
    def total(self) -> float:
        return (
            self.embedding
            + self.lm_head
            + self.attention
            + self.dense_mlp
            + self.experts_total
            + self.shared_experts
            + self.router
            + self.norms
        )

    def active(self, experts_per_token: int) -> float:
        """Parameters one token uses: everything but the experts it is not routed to."""
        routed = self.expert_each * experts_per_token * self.moe_layers
        return self.total - self.experts_total + routed


def attention_params_per_layer(m: ModelSpec) -> float:
    """Weights of one attention block (projections, MLA down/up projections, biases)."""
    h = m.hidden_size
    if m.is_mla:
        qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            q = h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * m.num_attention_heads * qk_head
        else:
            q = h * m.num_attention_heads * qk_head
        kv_down = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
        kv_up = m.kv_lora_rank * m.num_attention_heads * (m.qk_nope_head_dim + m.v_head_dim)
        o = m.num_attention_heads * m.v_head_dim * h
        return float(q + kv_down + kv_up + o)
    q_dim = m.num_attention_heads * m.head_dim
    kv_dim = m.num_kv_heads * m.head_dim
    proj = h * q_dim + 2 * h * kv_dim + q_dim * h
    bias = (q_dim + 2 * kv_dim) if m.qkv_bias else 0
    return float(proj + bias)


def mlp_params(hidden: int, intermediate: int, gated: bool) -> float:
    """One MLP: gated (gate, up, down) has 3 h*i matrices, GPT-style has 2 plus biases."""
    if gated:
        return 3.0 * hidden * intermediate
    return 2.0 * hidden * intermediate + intermediate + hidden


def count_params(m: ModelSpec) -> ParamCounts:
    """Parameter counts of ``m`` by role.

    >>> from inferplan.catalog import load_models
    >>> round(count_params(load_models().get("llama-3.1-70b")).total / 1e9, 2)
    70.55
    """
    h, n_layers = m.hidden_size, m.num_layers
    embedding = float(m.vocab_size * h)
    lm_head = 0.0 if m.tie_word_embeddings else float(m.vocab_size * h)
    attention = attention_params_per_layer(m) * n_layers
    norms = float(2 * h * n_layers + h)
    if m.is_moe:
        moe_layers = n_layers - m.first_dense_layers
        dense_layers = m.first_dense_layers
        expert_each = mlp_params(h, m.moe_intermediate_size, m.mlp_gated)
        experts_total = expert_each * m.num_experts * moe_layers
        shared = expert_each * m.num_shared_experts * moe_layers
        router = float(h * m.num_experts * moe_layers)
    else:
        moe_layers, dense_layers = 0, n_layers
        expert_each = experts_total = shared = router = 0.0
    dense_mlp = mlp_params(h, m.intermediate_size, m.mlp_gated) * dense_layers
    return ParamCounts(
        embedding=embedding,
        lm_head=lm_head,
        attention=attention,
        dense_mlp=dense_mlp,
        expert_each=expert_each,
        experts_total=experts_total,
        shared_experts=shared,
        router=router,
        norms=norms,
        moe_layers=moe_layers,
    )


def total_params(m: ModelSpec) -> float:
    """All parameters stored (embedding and LM head once each unless tied)."""
    return count_params(m).total


def active_params(m: ModelSpec) -> float:
    """Parameters used per token (equal to the total for dense models)."""
    return count_params(m).active(m.experts_per_token)
