"""``perf``/``fit`` with ``--ep`` and ``--dp-attention``: working layouts and bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from inferplan.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["perf", "llama-3.1-8b", "--gpu", "h100-sxm-80gb", "--ep", "8"], "ep"),
        (["perf", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--ep", "0"], "ep"),
        (["perf", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--ep", "12", "--dp-attention"], "ep"),
        (["perf", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--ep", "8", "--tp", "4"], "ep"),
        (["perf", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--dp-attention"], "dp-attention"),
        (["perf", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--ep", "16", "--dp-attention",
          "--count", "24"], "count"),
        (["fit", "mixtral-8x7b", "--gpu", "h100-sxm-80gb", "--ep", "16"], "ep"),
        (["perf", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--ep", "72", "--dp-attention"], "ep"),
        (["perf", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--ep", "8", "--redundant-experts",
          "-8"], "redundant-experts"),
        (["fit", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--ep", "16", "--dp-attention",
          "--count", "8"], "count"),
    ],
)
def test_bad_expert_parallel_input_is_one_line_exit_2(args: list[str], field: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, (res.output, repr(res.exception))
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{field}:" in lines[0] and "Traceback" not in res.output


def test_fit_with_expert_parallelism_splits_the_experts() -> None:
    base = ["fit", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--precision", "fp8", "--json"]
    ep16 = runner.invoke(app, [*base, "--ep", "16", "--dp-attention"])
    ep32 = runner.invoke(app, [*base, "--ep", "32", "--dp-attention"])
    assert ep16.exit_code == 0 and ep32.exit_code == 0, (ep16.output, ep32.output)
    a, b = json.loads(ep16.stdout), json.loads(ep32.stdout)
    assert (a["count"], a["ep"], a["dp_attention"], a["tp"]) == (16, 16, 16, 1)
    # 58 x 256 x 3 x 7168 x 2048 FP8 expert bytes; 16 -> 32 devices frees 1/32 of them
    freed = 58 * 256 * 3 * 7168 * 2048 / 32
    got = a["per_device_bytes"]["weights"] - b["per_device_bytes"]["weights"]
    assert got == pytest.approx(freed, rel=1e-9)


def test_perf_with_expert_parallelism_runs_and_says_so() -> None:
    res = runner.invoke(
        app,
        ["perf", "deepseek-v3", "--gpu", "h100-sxm-80gb", "--precision", "fp8",
         "--engine", "sglang", "--ep", "16", "--dp-attention", "--batch", "64", "--json"],
    )
    assert res.exit_code == 0, (res.output, repr(res.exception))
    out = json.loads(res.stdout)
    assert any("expert parallel 16" in n for n in out["notes"])
    assert out["tpot_ms"]["mean"] > 0
