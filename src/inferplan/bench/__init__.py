"""Benchmark real OpenAI-compatible servers (the only package that talks to the network).

Modules: ``sse`` (stream decoding), ``client`` (one timed streamed request),
``loadgen`` (load profiles), ``prompts`` (cache-busting synthetic prompts),
``server`` (engine detection, ``/metrics``), ``results`` (record and summary
files), ``stats`` (percentiles with confidence intervals), ``summary`` (records
to statistics), ``compare`` (two-run significance), ``report`` (HTML),
``probe`` (prompt calibration), ``runner`` (a whole run), ``config`` (its settings).
"""

from __future__ import annotations

from inferplan.bench.compare import ComparisonResult, compare_runs
from inferplan.bench.config import BenchConfig
from inferplan.bench.results import (
    METRIC_DEFINITIONS,
    ErrorKind,
    RequestRecord,
    RunMetadata,
    RunSummary,
    StageSummary,
    read_records,
    read_summary,
)
from inferplan.bench.runner import RunOutcome, run_benchmark
from inferplan.bench.summary import build_summary

__all__ = [
    "METRIC_DEFINITIONS",
    "BenchConfig",
    "ComparisonResult",
    "ErrorKind",
    "RequestRecord",
    "RunMetadata",
    "RunOutcome",
    "RunSummary",
    "StageSummary",
    "build_summary",
    "compare_runs",
    "read_records",
    "read_summary",
    "run_benchmark",
]
