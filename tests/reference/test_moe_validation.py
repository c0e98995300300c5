"""Public MoE and Apple measurements (validation/*.csv): all predicted, read back as stated."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferplan.service.cases import read_cases
from inferplan.service.validation import SLICES, validate_cases

CASES = Path(__file__).resolve().parents[2] / "validation" / "moe_cases.csv"
APPLE = CASES.with_name("apple_cases.csv")


def test_every_moe_case_is_predicted_and_in_the_moe_slice() -> None:
    cases = read_cases(CASES)
    report = validate_cases(cases)
    assert report.summary.coverage == 1.0
    assert report.summary.by_slice[SLICES[1]].n_cases == len(cases)


def test_qwen_speed_row_conversion() -> None:
    # 490.10 tokens/s over 6,144 prompt + 2,048 generated tokens: 8,192 / 490.10 = 16.715 s
    case = next(c for c in read_cases(CASES) if c.case_id == "qwen-speed-001")
    assert case.value == pytest.approx(16.715, abs=1e-3)
    assert (case.isl, case.osl, case.batch) == (6144, 2048, 1)


def test_every_apple_case_is_predicted_and_in_the_apple_slice() -> None:
    cases = read_cases(APPLE)
    report = validate_cases(cases)
    assert report.summary.coverage == 1.0
    assert report.summary.by_slice[SLICES[2]].n_cases == len(cases)
