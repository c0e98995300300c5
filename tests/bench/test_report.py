"""The HTML page: offline plotly, the stage table, warnings and definitions."""

from __future__ import annotations

import re

from inferplan.bench.report import render_report
from inferplan.bench.results import RequestRecord, RunMetadata
from inferplan.bench.summary import build_summary


def _records() -> list[RequestRecord]:
    out = []
    for i in range(12):
        t = float(i)
        out.append(
            RequestRecord(
                request_id=i,
                stage=i % 2,
                sent_s=t,
                first_token_s=t + 0.05,
                last_token_s=t + 0.25,
                end_s=t + 0.26,
                output_tokens=5,
                token_times_s=[t + 0.05 + 0.05 * k for k in range(5)],
            )
        )
    return out


def test_page_is_self_contained_with_curve_and_tables() -> None:
    md = RunMetadata(
        started_at="2026-01-01T00:00:00+00:00",
        url="http://127.0.0.1:1",
        endpoint="chat",
        model="m<x>",
        config={"concurrency": [1, 4]},
    )
    summary = build_summary(md, _records())
    page = render_report(summary, _records())
    assert not re.search(r'<script[^>]+src="https?://', page)  # no CDN
    assert page.count("Plotly.newPlot") == 3
    assert "Latency-throughput curve" in page and "Latency distributions" in page
    assert "m&lt;x&gt;" in page and "m<x>" not in page  # escaped model name
    assert "c=1" in page and "c=4" in page
    assert "request sent -&gt; first generated token" in page
    assert "too few samples" in page
