"""Mann-Whitney U against hand-computed values, and run comparison verdicts."""

from __future__ import annotations

import math
import random

import pytest

from inferplan.bench.compare import compare_records, mann_whitney_u, rank_average
from inferplan.bench.results import RequestRecord
from inferplan.errors import SpecError


def test_ranks_average_ties() -> None:
    import numpy as np

    ranks, ties = rank_average(np.array([3.0, 1.0, 3.0, 2.0]))
    assert list(ranks) == [3.5, 1.0, 3.5, 2.0] and ties == [2]


def test_exact_complete_separation() -> None:
    # U_a = 0; each of the C(6,3) = 20 rank sets is equally likely; P(U <= 0) = 1/20
    # two-sided p = 2/20 = 0.1
    assert mann_whitney_u([1, 2, 3], [4, 5, 6]) == (0.0, 0.1, "exact")
    # one overlap: a = {1,2,4}, b = {3,5,6}: U_a = 1 (4 > 3); P(U <= 1) = 2/20 -> p = 0.2
    assert mann_whitney_u([1, 2, 4], [3, 5, 6])[1] == pytest.approx(0.2)


def test_normal_approximation_with_ties_by_hand() -> None:
    a, b = [1.0, 2.0, 2.0], [2.0, 3.0, 4.0]
    # ranks: 1 -> 1, the three 2s -> 3, 3 -> 5, 4 -> 6; R_a = 1 + 3 + 3 = 7, U_a = 7 - 6 = 1
    # var = 9/12 * (7 - (27 - 3)/30) = 0.75 * 6.2 = 4.65; z = (|1 - 4.5| - 0.5)/sqrt(4.65)
    u, p, method = mann_whitney_u(a, b)
    z = 3.0 / math.sqrt(4.65)
    assert method == "normal" and u == 1.0
    assert p == pytest.approx(math.erfc(z / math.sqrt(2)))


def _run(shift: float, n: int = 60, seed: int = 1) -> list[RequestRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ttft = 0.1 + shift + rng.uniform(0, 0.02)
        out.append(
            RequestRecord(
                request_id=i,
                sent_s=i,
                first_token_s=i + ttft,
                last_token_s=i + ttft + 0.5,
                end_s=i + ttft + 0.5,
                output_tokens=11,
                token_times_s=[i + ttft, i + ttft + 0.5],
            )
        )
    return out


def test_same_distribution_is_within_noise_and_a_shift_differs() -> None:
    same = compare_records(_run(0.0, seed=1), _run(0.0, seed=2))
    ttft = next(m for m in same.metrics if m.metric == "ttft_s")
    assert ttft.verdict == "same within noise" and not ttft.significant
    shifted = compare_records(_run(0.0), _run(0.05))
    ttft = next(m for m in shifted.metrics if m.metric == "ttft_s")
    assert ttft.verdict == "B higher" and ttft.p_value is not None and ttft.p_value < 1e-6
    assert shifted.differs and ttft.change_fraction == pytest.approx(0.05 / 0.11, rel=0.1)


def test_bad_alpha() -> None:
    with pytest.raises(SpecError, match="alpha"):
        compare_records([], [], alpha=2.0)
