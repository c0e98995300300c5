"""Whole runs against the threaded stub: profiles, progress, metrics scrape, rebuild."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from inferplan.bench import BenchConfig, build_summary, read_records, run_benchmark
from inferplan.bench.client import Endpoint
from inferplan.bench.results import RunMetadata
from inferplan.bench.runner import ProgressSnapshot

from .stub_server import StubServer

Stub = Callable[..., AbstractContextManager[StubServer]]


def test_progress_and_server_metrics(threaded_stub: Stub, out_dir: Path) -> None:
    seen: list[ProgressSnapshot] = []
    with threaded_stub() as server:
        cfg = BenchConfig(
            url=server.url, concurrency=(2,), max_requests=10, isl="12", osl="3", output_dir=out_dir
        )
        outcome = run_benchmark(cfg, progress=seen.append)
    assert seen[-1].completed == 10 and seen[-1].failed == 0 and seen[-1].in_flight == 0
    stage = outcome.summary.stages[0]
    # the stub's vLLM-style counters: 10 requests x 3 tokens = 30; prompts: the calibrated
    # 12 tokens = 10 of chat template + 2 words, 10 x 12 = 120
    assert stage.server_metrics["generation_tokens"] == 30
    assert stage.server_metrics["prompt_tokens"] == 120
    assert stage.input_tokens_total == 120 and stage.output_tokens_total == 30


def test_rate_sweep_and_rebuilt_summary_agree(threaded_stub: Stub, out_dir: Path) -> None:
    with threaded_stub() as server:
        cfg = BenchConfig(
            url=server.url,
            rate=(20.0, 40.0),
            max_requests=8,
            isl="8",
            osl="2",
            output_dir=out_dir,
            warmup=1,
        )
        outcome = run_benchmark(cfg)
    stages = outcome.summary.stages
    assert [s.rate_req_per_s for s in stages] == [20.0, 40.0]
    assert all(s.profile == "rate" and s.counts["ok"] == 8 for s in stages)
    assert outcome.summary.warmup_requests == 1
    meta = RunMetadata.model_validate_json((out_dir / "run.json").read_text())
    rebuilt = build_summary(meta, read_records(out_dir / "records.jsonl"))
    assert rebuilt.counts == outcome.summary.counts
    assert rebuilt.stages[1].rate_req_per_s == 40.0
    assert rebuilt.stages[0].ttft_s.p50 == stages[0].ttft_s.p50


def test_trace_replay(threaded_stub: Stub, out_dir: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    trace.write_text(
        "".join(
            json.dumps({"timestamp_s": t, "input_tokens": 20, "output_tokens": n}) + "\n"
            for t, n in ((0, 3), (0.05, 5), (0.1, 7))
        )
    )
    with threaded_stub() as server:
        cfg = BenchConfig(url=server.url, trace=trace, output_dir=out_dir, warmup=0)
        outcome = run_benchmark(cfg)
    assert outcome.summary.stages[0].profile == "trace"
    assert outcome.summary.stages[0].output_tokens_total == 15  # 3 + 5 + 7


def test_ollama_native_api(threaded_stub: Stub, out_dir: Path) -> None:
    with threaded_stub(engine="ollama") as server:
        cfg = BenchConfig(
            url=server.url,
            endpoint=Endpoint.OLLAMA,
            max_requests=3,
            osl="4",
            isl="10",
            output_dir=out_dir,
        )
        outcome = run_benchmark(cfg)
    assert outcome.summary.metadata.engine == "ollama"
    assert outcome.summary.counts["ok"] == 3
    records = [r for r in read_records(out_dir / "records.jsonl") if r.phase == "measure"]
    assert all(r.server_timings and r.output_tokens_source == "timings" for r in records)


def test_calibration_fits_the_stub_template(threaded_stub: Stub, out_dir: Path) -> None:
    with threaded_stub() as server:
        outcome = run_benchmark(
            BenchConfig(url=server.url, max_requests=2, isl="40", osl="2", output_dir=out_dir)
        )
    cal = outcome.summary.metadata.prompt_calibration
    # the stub counts 1 token per word plus 10 for the chat template
    assert cal["tokens_per_word"] == pytest.approx(1.0) and cal["overhead_tokens"] == 10
    assert outcome.summary.stages[0].input_tokens_total == 2 * 40


async def _connect_against(handler: Callable[..., object], url: str = "http://web.example"):
    import httpx

    from inferplan.bench.runner import connect

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:  # type: ignore[arg-type]
        return await connect(http, BenchConfig(url=url, max_requests=1))


async def test_a_web_page_is_a_wrong_path_not_a_missing_model() -> None:
    import httpx

    from inferplan.errors import BenchmarkError

    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, headers={"content-type": "text/html"},
                              text="<!DOCTYPE html><html><body>Not Found</body></html>")

    with pytest.raises(BenchmarkError) as exc:
        await _connect_against(html)
    msg = str(exc.value)
    assert "web.example/v1/models answered an HTML page: wrong path?" in msg
    assert "--model" not in msg


async def test_a_json_404_everywhere_is_a_wrong_path() -> None:
    import httpx

    from inferplan.errors import BenchmarkError

    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"detail": "Not Found"})

    with pytest.raises(BenchmarkError, match=r"answered HTTP 404: wrong path\?"):
        await _connect_against(missing)


async def test_an_api_without_a_model_list_asks_for_model() -> None:
    import httpx

    from inferplan.errors import SpecError

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/models":
            return httpx.Response(200, json={"object": "list", "data": []})
        return httpx.Response(404, json={"detail": "Not Found"})

    with pytest.raises(SpecError, match="pass --model NAME"):
        await _connect_against(api)


def test_a_cancel_token_stops_the_run_and_keeps_what_it_measured(
    threaded_stub: Stub, out_dir: Path
) -> None:
    import threading

    cancel = threading.Event()

    def stop_after_two(snap: ProgressSnapshot) -> None:
        if snap.completed >= 2:
            cancel.set()

    # 1000 requests of 3 tokens 0.05 s apart take >= 50 s at concurrency 2: only a
    # stop ends the run within the test
    with threaded_stub(token_delay_s=0.05) as server:
        cfg = BenchConfig(url=server.url, concurrency=(2,), max_requests=1000, isl="12",
                          osl="3", output_dir=out_dir)
        outcome = run_benchmark(cfg, progress=stop_after_two, cancel=cancel)
    assert outcome.cancelled and outcome.summary.interrupted
    assert 2 <= outcome.records_written < 1000
    assert len(read_records(out_dir / "records.jsonl")) == outcome.records_written
