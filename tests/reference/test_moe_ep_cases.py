"""Expert-parallel rows of validation/moe_cases.csv: conversions as stated, layouts as read."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferplan.service.cases import read_cases
from inferplan.service.validation import predict_case

CASES = Path(__file__).resolve().parents[2] / "validation" / "moe_cases.csv"


def _case(case_id: str):  # type: ignore[no-untyped-def]
    return next(c for c in read_cases(CASES) if c.case_id == case_id)


def test_decode_row_conversion() -> None:
    # 22,282 tokens/s per node of 8 H100 x 256 sequences: 2,048 / 22,282 s = 91.913 ms a step
    c = _case("lmsys-ep-decode-2k")
    assert c.value == pytest.approx(2048 / 22282 * 1e3, abs=1e-3)
    assert (c.num_gpus, c.ep, c.dp_attention, c.batch) == (72, 72, True, 72 * 256)


def test_prefill_rows_are_four_nodes_of_16384_tokens_per_device() -> None:
    for case_id, isl, per_node in (
        ("lmsys-ep-prefill-1k", 1024, 57674),
        ("lmsys-ep-prefill-2k", 2048, 54543),
        ("lmsys-ep-prefill-4k", 4096, 50302),
    ):
        c = _case(case_id)
        assert c.value == 4 * per_node
        assert c.isl == isl and c.batch * isl == 32 * 16384


def test_expert_parallel_rows_predict_within_25_percent() -> None:
    # the model is not fitted to these rows; this guards the EP path against regressions
    for case_id in ("lmsys-ep-prefill-4k", "lmsys-ep-decode-2k"):
        c = _case(case_id)
        pred = predict_case(c).value
        assert abs(pred - c.value) / c.value < 0.25, (case_id, pred, c.value)
