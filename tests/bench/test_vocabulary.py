"""Measured and predicted metrics share one vocabulary; runs saved with older names load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferplan.bench.results import (
    LEGACY_STAGE_FIELDS,
    METRIC_DEFINITIONS,
    RequestRecord,
    RunMetadata,
    RunSummary,
    StageSummary,
    StatResult,
    read_summary,
    upgrade_stage,
)
from inferplan.bench.stats import describe
from inferplan.bench.summary import summarize_stage
from inferplan.perf.metrics import METRIC_DEFINITIONS as SERVING_DEFINITIONS
from inferplan.perf.metrics import Distribution, ServingMetrics
from inferplan.service.comparisons import compare_summaries
from inferplan.store.summaries import bench_headline

RATES = ("output_tokens_per_s", "input_tokens_per_s", "request_throughput_rps",
         "goodput_rps", "slo_attainment")


def _stage() -> StageSummary:
    # two requests, 10 output tokens each, sent at 0 and 1, ended at 2 and 4: window 4 s
    recs = [
        RequestRecord(request_id=i, sent_s=float(i), first_token_s=i + 0.5,
                      last_token_s=2.0 + 2 * i, end_s=2.0 + 2 * i, output_tokens=10,
                      input_tokens=5, token_times_s=[i + 0.5, 2.0 + 2 * i])
        for i in range(2)
    ]
    return summarize_stage(0, "concurrency", recs, concurrency=1)


def test_bench_stages_and_predictions_name_rates_alike() -> None:
    assert set(RATES) <= set(StageSummary.model_fields)
    assert set(RATES) <= set(ServingMetrics.model_fields)
    assert not set(LEGACY_STAGE_FIELDS) & set(StageSummary.model_fields)


def test_one_set_of_definitions_serves_both() -> None:
    for name, text in SERVING_DEFINITIONS.items():
        assert METRIC_DEFINITIONS[name] == text
    assert "ttfc_s" in METRIC_DEFINITIONS  # measurement-only extras are added, not redefined


def test_measured_statistics_are_distributions() -> None:
    stat = describe([1.0, 2.0, 3.0, 4.0, 5.0], "x")
    assert isinstance(stat, StatResult) and isinstance(stat, Distribution)
    # numpy linear percentile: rank (5 - 1) * 0.95 = 3.8 -> 4 + 0.8 * (5 - 4) = 4.8
    assert stat.percentile(95) == pytest.approx(4.8)
    assert stat.percentile(50) == 3.0


def test_a_run_saved_with_the_old_names_still_loads(tmp_path: Path) -> None:
    stage = _stage()
    assert stage.output_tokens_per_s == pytest.approx(20 / 4)  # 20 tokens over 4 s
    old = json.loads(stage.model_dump_json())
    for legacy, name in LEGACY_STAGE_FIELDS.items():
        old[legacy] = old.pop(name)
    assert "output_throughput_tok_per_s" in old
    meta = RunMetadata(started_at="2026-01-01T00:00:00Z", url="http://h", endpoint="chat",
                       model="m")
    doc = {"metadata": json.loads(meta.model_dump_json()), "stages": [old], "counts": {}}
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    loaded = read_summary(path)
    assert loaded.stages[0].output_tokens_per_s == pytest.approx(5.0)
    assert loaded.stages[0].request_throughput_rps == pytest.approx(2 / 4)
    new = json.loads(RunSummary.model_validate(doc).model_dump_json())
    headline = bench_headline(doc)
    assert headline[0]["output_tokens_per_s"] == pytest.approx(5.0)
    rows = {(r["metric"], r["stat"]): r for r in compare_summaries(doc, new)}
    assert rows[("output_tokens_per_s", "value")]["diff"] == 0.0


def test_a_new_name_wins_over_a_legacy_one() -> None:
    assert upgrade_stage({"output_throughput_tok_per_s": 1.0, "output_tokens_per_s": 2.0}) == {
        "output_tokens_per_s": 2.0
    }
