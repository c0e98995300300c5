"""The side-by-side comparison with AIConfigurator (``benchmarks/compare_aiconfigurator.py``)
without the peer installed: one line and exit code 2; the case mapping it sends the peer.

The figures of the comparison itself are printed by the script (README, Benchmarks)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from inferplan.service.cases import ValidationCase

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "compare_aiconfigurator.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_aiconfigurator", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "INFERPLAN_PEER_PYTHON"}
    env["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def test_without_a_peer_interpreter_it_says_so_in_one_line_and_exits_2() -> None:
    p = _run()
    assert p.returncode == 2
    assert p.stderr == ""
    lines = p.stdout.splitlines()
    assert len(lines) == 1
    assert "AIConfigurator not found" in lines[0]
    assert "--peer-python" in lines[0] and "INFERPLAN_PEER_PYTHON" in lines[0]


def test_an_interpreter_without_the_peer_is_refused_in_one_line() -> None:
    # inferplan's own environment must not hold the peer (it belongs in its own virtualenv);
    # a missing cases file keeps the run short should it ever be installed there
    p = _run("no-such-cases.csv", "--peer-python", sys.executable)
    assert p.returncode == 2
    lines = p.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"AIConfigurator not installed for {sys.executable}")
    assert "aiconfigurator==0.12.0" in lines[0]


def _case(**kw: object) -> ValidationCase:
    base: dict[str, object] = dict(
        case_id="x-1", scenario="static_batch", engine="trtllm", hardware="h100-sxm-80gb",
        num_gpus=2, tp=2, model="llama-2-70b", weight_dtype="fp8", kv_dtype="fp8",
        isl=128, osl=128, batch=1024, metric="output_tokens_per_s", value=5314)
    base.update(kw)
    return ValidationCase.model_validate(base)


def test_llama_2_is_sent_as_a_llama_config_with_its_published_shapes() -> None:
    req, why = _script().peer_request(_case())
    assert why == "" and req is not None
    cfg = req["model"]["config"]
    # meta-llama/Llama-2-70b-hf config.json: 80 layers, hidden 8192, 64 heads, 8 KV heads,
    # FFN 28672, vocabulary 32000
    assert cfg["architectures"] == ["LlamaForCausalLM"]
    assert (cfg["num_hidden_layers"], cfg["hidden_size"], cfg["num_attention_heads"],
            cfg["num_key_value_heads"], cfg["intermediate_size"], cfg["vocab_size"]) == (
        80, 8192, 64, 8, 28672, 32000)
    assert (req["system"], req["backend"], req["tp"], req["gemm"], req["kv"]) == (
        "h100_sxm", "trtllm", 2, "fp8", "fp8")


def test_cases_outside_the_peer_are_left_out_with_the_reason() -> None:
    mod = _script()
    assert mod.peer_request(_case(hardware="mi300x-192gb", engine="vllm"))[1] == (
        "no peer system for mi300x-192gb")
    assert mod.peer_request(_case(engine="llamacpp"))[1] == "no peer backend for llamacpp"
    assert mod.peer_request(_case(model="gpt-j-6b"))[1] == (
        "the peer implements no architecture for gpt-j-6b")


def test_closed_loop_clients_are_split_over_replicas_and_throughput_summed() -> None:
    mod = _script()
    req, _ = mod.peer_request(_case(scenario="closed_loop", num_gpus=4, tp=2, batch=None,
                                    concurrency=50, metric="ttft_ms", value=800))
    assert req["regime"] == "agg" and req["batch"] == 25 and req["replicas"] == 2
    ans = dict(tokens_per_s=400.0, ttft_ms=1.0, tpot_ms=2.0, e2e_s=3.0)
    tput = _case(scenario="closed_loop", num_gpus=4, tp=2, concurrency=50)
    assert mod.peer_value(tput, req, ans) == 800.0


def test_nothing_in_src_or_tests_imports_the_peer() -> None:
    peer = "aiconfigurator"
    for tree in ("src", "tests"):
        for path in (ROOT / tree).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert f"import {peer}" not in text, path
            assert f"from {peer}" not in text, path
