"""Multi-token prediction is a model fact: the catalog's ``mtp_modules`` (config.json
``num_nextn_predict_layers``) decides whether ``plan`` and ``perf --spec mtp`` may use it."""

from __future__ import annotations

from typer.testing import CliRunner

from inferplan.catalog import load_models
from inferplan.cli.main import app
from inferplan.deploy.deployment import resolve
from inferplan.deploy.speculation import mtp_missing

runner = CliRunner()


def test_deepseek_v3_and_r1_ship_one_mtp_module_and_dense_models_none() -> None:
    models = load_models()
    # DeepSeek-V3 README_WEIGHTS.md: "The open-sourced V3 weights include 1 MTP Module";
    # R1 has the same architecture (model_type deepseek_v3, num_nextn_predict_layers 1)
    assert models.get("deepseek-v3").mtp_modules == 1
    assert models.get("deepseek-r1").mtp_modules == 1
    for other in ("llama-3.1-8b", "qwen3-235b-a22b", "mixtral-8x7b", "gpt-oss-120b"):
        assert models.get(other).mtp_modules == 0, other


def test_planner_refuses_mtp_by_the_model_field_not_the_family() -> None:
    ds = resolve("deepseek-v3", "h200-sxm-141gb", "vllm", "fp8")
    assert mtp_missing(ds.model) is None
    llama = resolve("llama-3.1-8b", "h100-sxm-80gb")
    why = mtp_missing(llama.model)
    assert why is not None and "mtp_modules" in why and "llama-3.1-8b" in why


def test_perf_spec_mtp_without_the_module_is_one_line_exit_2() -> None:
    res = runner.invoke(app, ["perf", "llama-3.1-8b", "--gpu", "h100-sxm-80gb", "--spec", "mtp"])
    assert res.exit_code == 2, (res.output, repr(res.exception))
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "spec:" in lines[0] and "mtp_modules" in lines[0]
    assert "Traceback" not in res.output


def test_perf_spec_mtp_runs_on_a_model_that_ships_the_module() -> None:
    res = runner.invoke(
        app,
        ["perf", "deepseek-v3", "--gpu", "h200-sxm-141gb", "--precision", "fp8", "--count", "8",
         "--spec", "mtp", "--spec-k", "1"],
    )
    assert res.exit_code == 0, res.output
    assert "speculative decoding (mtp" in res.output
