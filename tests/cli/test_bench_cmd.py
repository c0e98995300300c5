"""``inferplan bench`` through Typer's CliRunner against the threaded stub."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from inferplan.cli import bench_cmd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from stub_server import StubConfig, StubServer, ThreadedStub

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """root"""

    bench_cmd.register(app)
    return app


@pytest.fixture(scope="module")
def server() -> Iterator[StubServer]:
    with ThreadedStub(StubConfig()) as srv:
        yield srv


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(_app(), ["bench", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_summary_has_counts_and_statistics(server: StubServer, tmp_path: Path) -> None:
    code, out, err = _run(
        "--url",
        f"{server.url}/v1",
        "-n",
        "6",
        "-c",
        "2",
        "--isl",
        "20",
        "--osl",
        "5",
        "--json",
        "-o",
        str(tmp_path / "a"),
        "--slo-ttft-ms",
        "1000",
    )
    assert code == 0, err
    data = json.loads(out)
    stage = data["stages"][0]
    assert data["counts"]["ok"] == 6 and stage["concurrency"] == 2
    for metric in ("ttft_s", "itl_s", "tpot_s", "e2e_s"):
        assert {"mean", "p50", "p90", "p99"} <= set(stage[metric])
    assert stage["output_tokens_total"] == 30  # 6 requests x 5 tokens
    # stub: 20 words + 10 chat-template tokens; calibrated to overhead 10, 1 token/word
    assert stage["input_tokens_total"] == 6 * 20
    assert stage["goodput_rps"] == pytest.approx(stage["request_throughput_rps"])
    assert data["metadata"]["engine"] == "vllm"
    assert "ttft_s" in data["metadata"]["metric_definitions"]


def test_sweep_table_and_files(server: StubServer, tmp_path: Path) -> None:
    out_dir = tmp_path / "sweep"
    code, out, err = _run(
        "--url", server.url, "-n", "4", "-c", "1,3", "--osl", "4", "--isl", "16", "-o", str(out_dir)
    )
    assert code == 0, err
    assert "c=1" in out and "c=3" in out
    names = {p.name for p in out_dir.iterdir()}
    assert {"run.json", "records.jsonl", "summary.json", "records.csv", "report.html"} <= names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "url: required"),
        (("--url", "nope"), "url: 'nope' is not a server URL"),
        (("--url", "http://127.0.0.1:1", "-c", "0"), "concurrency: '0' is not allowed"),
        (("--url", "http://127.0.0.1:1", "-c", "2", "--rate", "3"), "rate: give --concurrency"),
        (("--url", "http://127.0.0.1:1", "--rate", "x"), "rate: 'x' is not allowed"),
        (("--url", "http://127.0.0.1:1", "--osl", "uniform:9"), "osl: 'uniform:9'"),
        (("--url", "http://127.0.0.1:1", "--arrival", "burst"), "arrival: 'burst' is not allowed"),
        (("--url", "http://127.0.0.1:1", "--extra-body", "[1]"), "extra_body: allowed"),
        (("--url", "http://127.0.0.1:1", "-n", "0"), "max_requests:"),
        (
            ("--url", "http://127.0.0.1:1", "--api-key-env", "INFERPLAN_TEST_UNSET_VAR"),
            "api_key_env: environment variable INFERPLAN_TEST_UNSET_VAR is not set",
        ),
        (("--url", "http://127.0.0.1:1", "-n", "1"), "url: connection refused by 127.0.0.1:1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    code, _, err = _run(*args)
    assert code == 2
    assert err.startswith("error: " + message), err
    assert err.strip().count("\n") == 0 and "Traceback" not in err


def test_api_key_is_never_written(
    server: StubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFERPLAN_TEST_KEY", "sekret-value-123")
    out_dir = tmp_path / "k"
    code, _, err = _run(
        "--url",
        server.url,
        "-n",
        "2",
        "--osl",
        "2",
        "-o",
        str(out_dir),
        "--api-key-env",
        "INFERPLAN_TEST_KEY",
    )
    assert code == 0, err
    for path in out_dir.iterdir():
        assert "sekret-value-123" not in path.read_text()
    assert "INFERPLAN_TEST_KEY" in (out_dir / "run.json").read_text()


def test_existing_output_is_refused(server: StubServer, tmp_path: Path) -> None:
    out_dir = tmp_path / "x"
    assert _run("--url", server.url, "-n", "1", "--osl", "2", "-o", str(out_dir))[0] == 0
    code, _, err = _run("--url", server.url, "-n", "1", "-o", str(out_dir))
    assert code == 2 and "output:" in err and "already holds records.jsonl" in err


def test_all_failed_is_exit_1(tmp_path: Path) -> None:
    with ThreadedStub(StubConfig(mode="http500")) as srv:
        code, _, err = _run(
            "--url",
            srv.url,
            "-n",
            "3",
            "--warmup",
            "0",
            "--no-calibrate",
            "-o",
            str(tmp_path / "f"),
        )
    assert code == 1 and "no request succeeded (3 http_status)" in err
    assert (tmp_path / "f" / "summary.json").exists()


def test_compare_and_report(server: StubServer, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        assert (
            _run("--url", server.url, "-n", "8", "--osl", "4", "--isl", "16", "-o", str(d))[0] == 0
        )
    code, out, err = _run("compare", str(a), str(b), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {m["metric"] for m in data["metrics"]} == {"ttft_s", "tpot_s", "e2e_s", "itl_s"}
    code, out, _ = _run("compare", str(a), str(b))
    assert code == 0 and "ttft" in out
    code, _, err = _run("compare", str(a), str(tmp_path / "missing"))
    assert code == 2 and err.startswith("error: run_b:")
    (a / "summary.json").unlink()
    code, out, err = _run("report", str(a))
    assert code == 0, err
    assert (a / "summary.json").exists()


def test_compare_refuses_runs_under_different_loads(server: StubServer, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for d, extra in ((a, ("-c", "1")), (b, ("-c", "2")), (c, ("-c", "1", "--osl", "6"))):
        code, _, err = _run("--url", server.url, "-n", "6", "--osl", "4", "--isl", "16",
                            "-o", str(d), *extra)
        assert code == 0, err
    code, _, err = _run("compare", str(a), str(b))
    assert code == 2 and "not comparable: load: concurrency [1] vs [2]" in err
    assert err.strip().count("\n") == 0
    code, _, err = _run("compare", str(a), str(c))
    assert code == 2 and "lengths: osl 4 vs 6" in err
    code, out, err = _run("compare", str(a), str(b), "--allow-different", "--json")
    assert code == 0, err
    assert "not comparable: load: concurrency [1] vs [2]" in json.loads(out)["warnings"]
    assert "warning: not comparable" in err


def test_compare_warns_when_the_model_differs(tmp_path: Path) -> None:
    from inferplan.bench.compare import comparability
    from inferplan.bench.results import RunMetadata

    base = RunMetadata(started_at="", url="http://gpu-a:8000", endpoint="chat", model="m-bf16",
                       engine="vllm", engine_version="0.6.0",
                       config={"concurrency": [4], "isl": "128", "osl": "128"})
    other = base.model_copy(update={"model": "m-fp8", "url": "http://gpu-b:8000"})
    blocking, warnings = comparability(base, other)
    assert blocking == []
    assert warnings == ["model m-bf16 vs m-fp8", "server http://gpu-a:8000 vs http://gpu-b:8000"]
