"""Planner sections of a scenario: latency targets and the candidate space."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from inferplan.specs.base import FrozenSpec

OptionKind = Literal["on_prem", "colocation", "cloud", "api", "hybrid"]
ALL_KINDS: tuple[OptionKind, ...] = ("on_prem", "colocation", "cloud", "api", "hybrid")

DraftMethod = Literal["draft_model", "mtp", "ngram"]
SpeculativeMode = Literal["none", "draft_model", "mtp", "ngram"]
AcceptanceRate = Annotated[float, Field(gt=0.0, lt=1.0)]
DraftTokens = Annotated[int, Field(ge=1, le=16)]

MTP_ACCEPTANCE_RATE = 0.85
"""Acceptance of the token a DeepSeek-V3 multi-token-prediction module drafts: "the
acceptance rate of the second token prediction ranges between 85% and 90% across various
generation topics" (DeepSeek-V3 Technical Report, arXiv:2412.19437, section 5.4.3); the
low end is taken. No comparable published figure holds for a draft model or n-gram lookup
in general (it depends on the pair and on the text), so those need the scenario's own."""

DEFAULT_DRAFT_TOKENS: dict[str, int] = {"draft_model": 4, "mtp": 1, "ngram": 4}
"""Tokens drafted per round: one for MTP (DeepSeek-V3 trains and ships one MTP module,
predicting one extra token: arXiv:2412.19437 section 2.2); four for a draft model or n-gram
lookup (inferplan assumption, :class:`~inferplan.perf.speculative.SpeculativeSpec`'s
default; set ``candidates.draft_tokens`` to the engine's setting)."""


class SloSpec(FrozenSpec):
    """Latency targets at a percentile (metric definitions in the README)."""

    ttft_ms: float = Field(gt=0, description="time to first token limit, ms")
    tpot_ms: float = Field(gt=0, description="time per output token limit, ms")
    percentile: float = Field(default=95.0, ge=50.0, lt=100.0)
    strict: bool | None = Field(
        default=None,
        description="options whose latency is not verified rank behind verified ones; "
        "unset: strict when ttft_ms <= 500 or tpot_ms <= 25",
    )


class CandidatesSpec(FrozenSpec):
    """The search space. ``None`` means every catalog entry that has a price."""

    accelerators: list[str] | None = None
    precisions: list[str] = Field(default_factory=lambda: ["bf16", "fp8", "int4-awq"])
    kv_precision: str | None = None
    engines: list[str] = Field(default_factory=lambda: ["vllm"])
    kinds: list[OptionKind] = Field(default_factory=lambda: list(ALL_KINDS))
    providers: list[str] | None = None
    max_devices_per_replica: int = Field(
        default=32,
        ge=1,
        le=576,
        description="largest replica: tensor parallel inside a node, pipeline stages across",
    )
    target_utilisation: float = Field(
        default=0.7, gt=0, le=1, description="share of SLO capacity the fleet is sized to use"
    )
    site_country: str | None = Field(
        default=None, description="country of own data centre / colocation (ISO alpha-2)"
    )
    colocation_power_included: bool = False
    min_concurrency: int = Field(default=8, ge=1, description="sequences a replica must hold")
    lead_time_months: int = Field(
        default=0,
        ge=0,
        le=36,
        description="months from ordering servers to serving on them (own and colocated "
        "fleets); the cheapest allowed cloud or API option bridges them when there is one",
    )
    spare_replicas: int = Field(
        default=1,
        ge=0,
        le=16,
        description="availability of own and colocated fleets: replicas bought beyond the "
        "peak need (1 = N+1, production default; 0 = none)",
    )
    speculative: list[SpeculativeMode] = Field(
        default_factory=lambda: list[SpeculativeMode](["none"]),
        description="decoding modes the planner may use: none (plain decoding), draft_model "
        "(a smaller model of the same tokenizer), mtp (the model's multi-token-prediction "
        "module), ngram (prompt lookup); default plain decoding only",
    )
    draft_model: str | None = Field(
        default=None,
        description="catalog id of the draft model (default: the smallest catalog model of "
        "the same family and vocabulary, at most a quarter of the target's parameters)",
    )
    acceptance_rate: dict[DraftMethod, AcceptanceRate] = Field(
        default_factory=dict,
        description="per-token acceptance rate by method, 0-1 exclusive; mtp defaults to "
        "the DeepSeek-V3 figure, draft_model and ngram must be given (measure them)",
    )
    draft_tokens: dict[DraftMethod, DraftTokens] = Field(
        default_factory=dict, description="tokens drafted per round by method, 1-16"
    )
    disaggregated: bool = Field(
        default=False,
        description="also consider separate prefill and decode pools joined by a KV "
        "transfer over the node's interconnect",
    )

    @model_validator(mode="after")
    def _speculation(self) -> CandidatesSpec:
        modes = self.speculative
        if not modes:
            raise ValueError(
                "speculative: list at least one of none, draft_model, mtp, ngram "
                "(none = plain decoding)"
            )
        dup = sorted({m for m in modes if modes.count(m) > 1})
        if dup:
            raise ValueError(f"speculative: {', '.join(dup)} listed twice")
        for key, what in (
            (self.acceptance_rate, "acceptance_rate"),
            (self.draft_tokens, "draft_tokens"),
        ):
            for method in key:
                if method not in modes:
                    raise ValueError(
                        f"{what}.{method}: given for a method not in candidates.speculative "
                        f"({', '.join(modes)})"
                    )
        for method in ("draft_model", "ngram"):
            if method in modes and method not in self.acceptance_rate:
                raise ValueError(
                    f"acceptance_rate.{method}: required when speculative allows {method}; "
                    "no published figure holds in general (it depends on the draft and the "
                    "text): give the per-token acceptance rate measured on your traffic, "
                    "between 0 and 1"
                )
        if self.draft_model is not None and "draft_model" not in modes:
            raise ValueError(
                "draft_model: given but candidates.speculative does not allow draft_model"
            )
        return self

    def speculative_methods(self) -> list[DraftMethod]:
        """The speculative methods allowed, in the order listed."""
        return [m for m in self.speculative if m != "none"]

    def acceptance(self, method: DraftMethod) -> float:
        """Per-token acceptance rate of ``method`` (the scenario's, else the cited default)."""
        if method in self.acceptance_rate:
            return self.acceptance_rate[method]
        if method == "mtp":
            return MTP_ACCEPTANCE_RATE
        raise ValueError(f"no acceptance rate for {method}")

    def tokens_drafted(self, method: DraftMethod) -> int:
        """Tokens drafted per round by ``method``."""
        return self.draft_tokens.get(method, DEFAULT_DRAFT_TOKENS[method])


__all__ = [
    "DEFAULT_DRAFT_TOKENS",
    "MTP_ACCEPTANCE_RATE",
    "CandidatesSpec",
    "DraftMethod",
    "OptionKind",
    "SloSpec",
    "SpeculativeMode",
]
