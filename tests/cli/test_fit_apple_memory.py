"""``inferplan fit`` on Apple silicon states the GPU's share of unified memory and takes a
raised limit."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from inferplan.cli.main import app

runner = CliRunner()
BASE = (
    "fit",
    "llama-3.1-70b",
    "--gpu",
    "apple-m2-max-96gb",
    "--engine",
    "llamacpp",
    "--precision",
    "q8_0",
    "--count",
    "1",
    "--json",
)


def test_fit_on_a_mac_says_how_much_memory_the_gpu_may_wire() -> None:
    res = runner.invoke(app, list(BASE))
    assert res.exit_code == 0, res.stderr
    assert "75% of the 96 GB unified memory" in res.stderr
    assert "iogpu.wired_limit_mb" in res.stderr
    # 0.75 x 96 GiB
    assert json.loads(res.stdout)["device_capacity_bytes"] == 77_309_411_328


def test_a_raised_limit_is_used_and_echoed_with_its_sysctl_value() -> None:
    res = runner.invoke(app, [*BASE, "--gpu-memory-limit-gb", "90"])
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["device_capacity_bytes"] == 90e9
    assert "iogpu.wired_limit_mb=85831" in res.stderr  # 90e9 / 2**20 MiB


def test_a_limit_on_a_discrete_gpu_or_beyond_the_memory_is_one_line_exit_2() -> None:
    for args in (
        ("--gpu", "h100-sxm-80gb", "--gpu-memory-limit-gb", "40"),
        ("--gpu", "apple-m1-16gb", "--gpu-memory-limit-gb", "20"),
    ):
        res = runner.invoke(app, ["fit", "llama-3.1-8b", *args])
        assert res.exit_code == 2
        lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
        assert len(lines) == 1 and "gpu-memory-limit-gb" in lines[0], res.stderr


def test_a_model_that_does_not_fit_exits_1_without_an_internal_error() -> None:
    # 70B bf16 needs about 141 GB of weights; one 24 GB card cannot hold it: the answer is
    # "does not fit" with exit code 1, not an internal error
    from typer.testing import CliRunner

    from inferplan.cli.main import app

    res = CliRunner().invoke(
        app, ["fit", "llama-3.1-70b", "--gpu", "rtx-4090-24gb", "--count", "1"]
    )
    assert res.exit_code == 1
    assert "does not fit" in res.output and "internal error" not in res.output
