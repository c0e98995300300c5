"""perf draws request lengths from a dataset's distribution in the closed and open loops."""

from __future__ import annotations

import datetime as dt

from inferplan.deploy.deployment import resolve
from inferplan.perf.datasets import dataset_lengths
from inferplan.service.perf import predict
from inferplan.specs.dataset import DatasetSpec, LengthStats


def _spread() -> DatasetSpec:
    # a published mean of 1,000 and median of 600 prompt tokens: log-normal, sigma
    # = sqrt(2 ln(1000 / 600)) = 1.01 (tests/perf/test_datasets.py checks the fit)
    return DatasetSpec(
        id="x",
        name="X",
        source="a paper",
        as_of=dt.date(2024, 1, 1),
        tokenizer="t",
        input=LengthStats(mean=1000, median=600),
        output=LengthStats(mean=200),
    )


def test_a_closed_loop_with_a_length_spread_has_a_ttft_tail() -> None:
    d = resolve("llama-3.1-8b", "h100-sxm-80gb", "vllm", "bf16")
    lengths = dataset_lengths(_spread())
    assert not lengths.fixed
    fixed = predict(d, 1000, 200, concurrency=16)
    spread = predict(d, 1000, 200, concurrency=16, lengths=(lengths.isl, lengths.osl))
    # equal lengths keep the clients in step: every TTFT alike; drawn lengths do not
    assert fixed.ttft_ms.p99 < 1.2 * fixed.ttft_ms.p50
    assert spread.ttft_ms.p99 > 1.5 * spread.ttft_ms.p50


def test_open_loop_arrivals_draw_lengths_too() -> None:
    d = resolve("llama-3.1-8b", "h100-sxm-80gb", "vllm", "bf16")
    lengths = dataset_lengths(_spread())
    r = predict(d, 1000, 200, rate_rps=5.0, lengths=(lengths.isl, lengths.osl))
    # prefill time grows with the prompt: a log-normal prompt (p99 / median = e^(2.33 x 1.01)
    # = 10.5) gives a TTFT tail far above the median
    assert r.ttft_ms.p99 > 2.0 * r.ttft_ms.p50
