"""Every command on valid and invalid input: bad input is one line, exit 2, no traceback.

Each invalid case names what a user would type; the expected fragment is the part of
the message that says what is wrong. Valid cases prove the same commands work.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inferplan.cli.main import app
from inferplan.cli.plan_cmd import default_scenario_text

runner = CliRunner()
FIXTURES = Path(__file__).parents[1] / "catalog" / "fixtures"
EXAMPLES = Path(__file__).parents[2] / "examples"
GOOD = default_scenario_text()

# scenario file content -> expected fragment of the one-line error
SCENARIO_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "utf16": (lambda: GOOD.encode("utf-16"), "UTF-16 text"),
    "binary": (lambda: bytes(range(256)) * 8, "binary (NUL bytes)"),
    "latin1": (lambda: "name: café\n".encode("latin-1"), "line 1: not UTF-8 text"),
    "oversized": (lambda: GOOD.encode() + b"#" * (5 * 2**20), "over the limit of 4,194,304"),
    "duplicate key": (
        lambda: GOOD.replace("region: eu-avg", "region: eu-avg\nregion: de").encode(),
        "duplicate key 'region'",
    ),
    "huge number": (
        lambda: GOOD.replace("users: 4000", "users: 4000\n  requests_per_day: 1.0e+300")
        .replace("  requests_per_user_per_day: 12", "").encode(),
        "workload.requests_per_day: 1e+300 is out of range",
    ),
    "nan": (lambda: GOOD.replace("users: 4000", "users: .nan").encode(),
            "workload.users: must be a finite number"),
    "infinity": (lambda: GOOD.replace("discount_rate: 0.08", "discount_rate: .inf").encode(),
                 "finance.discount_rate: must be a finite number"),
    "not a mapping": (lambda: b"- a\n- b\n", "expected a mapping"),
    "empty": (lambda: b"", "expected a mapping"),
    "malformed": (lambda: b"workload: [\n", "malformed YAML"),
    "unknown field": (lambda: GOOD.replace("region: eu-avg", "regoin: eu-avg").encode(),
                      "regoin: unknown field"),
    "negative users": (lambda: GOOD.replace("users: 4000", "users: -5").encode(),
                       "workload.users"),
    "text for a number": (lambda: GOOD.replace("users: 4000", "users: lots").encode(),
                          "workload.users"),
}


def _assert_one_line_exit_2(argv: list[str], fragment: str) -> str:
    res = runner.invoke(app, argv)
    err = res.stderr.strip()
    assert res.exit_code == 2, (argv, res.exit_code, res.output, repr(res.exception))
    assert "Traceback" not in res.output
    assert "\n" not in err and err.startswith("error:"), err
    assert fragment in err, err
    return err


@pytest.mark.parametrize("command", ["plan", "tco"])
@pytest.mark.parametrize("case", list(SCENARIO_FILES))
def test_bad_scenario_files(case: str, command: str, tmp_path: Path) -> None:
    content, fragment = SCENARIO_FILES[case]
    path = tmp_path / "scenario.yaml"
    path.write_bytes(content())
    _assert_one_line_exit_2([command, str(path)], fragment)


@pytest.mark.parametrize("command", ["plan", "tco"])
def test_missing_scenario_file(command: str, tmp_path: Path) -> None:
    _assert_one_line_exit_2([command, str(tmp_path / "nope.yaml")], "nope.yaml")


FIT = ["fit", "llama-3.1-8b", "--gpu", "h100-sxm-80gb"]
PERF = ["perf", "llama-3.1-8b", "--gpu", "h100-sxm-80gb", "--batch", "1", "--isl", "128",
        "--osl", "16"]

BAD_ARGS: list[tuple[list[str], str]] = [
    (["fit", "llama-3.1-8b", "--gpu", "h100-sxn-80gb"], "did you mean h100-sxm-80gb"),
    (["fit", "lama-3.1-8b", "--gpu", "h100-sxm-80gb"], "model: unknown id 'lama-3.1-8b'"),
    ([*FIT, "--precision", "banana"], "precision: unknown precision 'banana'"),
    ([*FIT, "--kv-precision", "banana"], "kv_precision: 'banana' is not a KV-cache precision"),
    ([*FIT, "--kv-precision", "q4_0"], "kv_precision: 'q4_0' is not a KV-cache precision"),
    ([*FIT, "--engine", "vlm"], "engine: unknown id 'vlm'"),
    ([*FIT, "--count", "0"], "count"),
    ([*FIT, "--count", "abc"], "Invalid value for '--count'"),
    ([*FIT, "--count", "4", "--tp", "3"], "count: must equal tp x pp"),
    ([*FIT, "--context", "10000000"], "context"),
    (["fit", "llama-3.1-8b"], "Missing option '--gpu'"),
    (["fit"], "Missing argument"),
    ([*FIT, "--bogus"], "No such option"),
    ([*PERF, "--kv-precision", "banana"], "kv_precision: 'banana' is not a KV-cache precision"),
    ([*PERF, "--rate", "1"], "batch"),
    (["perf", "llama-3.1-8b", "--gpu", "h100-sxm-80gb", "--cv", "0"], "cv: must be > 0"),
    (["catalog", "list", "gpus"], "allowed: accelerators, models"),
    (["catalog", "show", "models", "lama-3"], "unknown id 'lama-3'"),
    (["catalog", "show", "prices", "no-such-price"], "price: unknown id 'no-such-price'"),
    (["schema", "plan"], "what: allowed: scenario"),
    (["calibrate", "show", "no-such-profile"], "no-such-profile"),
    (["bogus"], "No such command 'bogus'"),
]


@pytest.mark.parametrize(("argv", "fragment"), BAD_ARGS, ids=[" ".join(a) for a, _ in BAD_ARGS])
def test_bad_arguments(argv: list[str], fragment: str) -> None:
    _assert_one_line_exit_2(argv, fragment)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\xff\xfe{\x00}\x00", "UTF-16"),
        (b"{not json", "config"),
        (b"[1, 2]", "config"),
        (b"\x00\x01\x02", "config"),
    ],
)
def test_model_import_bad_config(content: bytes, fragment: str, tmp_path: Path) -> None:
    cfg = tmp_path / "config.json"
    cfg.write_bytes(content)
    _assert_one_line_exit_2(["model", "import", str(cfg)], fragment)


def test_model_import_missing_file(tmp_path: Path) -> None:
    _assert_one_line_exit_2(["model", "import", str(tmp_path / "config.json")], "config")


CASES_HEADER = ("case_id,scenario,engine,hardware,num_gpus,tp,model,weight_dtype,kv_dtype,"
                "isl,osl,batch,concurrency,request_rate,metric,statistic,value,trust\n")
CASE_ROW = ("x-1,static_batch,vllm,h100-sxm-80gb,1,1,llama-3-8b,fp16,fp16,128,128,1,,,"
            "e2e_latency_s,{stat},0.9939,medium\n")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ((CASES_HEADER + CASE_ROW.format(stat="p97")).encode(),
         "'p97' is not a statistic the predictor gives"),
        ((CASES_HEADER + CASE_ROW.format(stat="mean").replace("x-1", "café")).encode("latin-1"),
         "line 2: not UTF-8 text"),
        ((CASES_HEADER + CASE_ROW.format(stat="mean")).encode("utf-16"), "UTF-16 text"),
        (b"case_id,scenario\nx,static_batch\n", "lacks columns"),
    ],
)
def test_validate_bad_cases(content: bytes, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(content)
    _assert_one_line_exit_2(["validate", "--cases", str(path)], fragment)


def test_overlay_folder_errors_are_one_line(tmp_path: Path) -> None:
    import os

    from inferplan.catalog import loader

    try:
        _assert_one_line_exit_2(["--catalog", str(tmp_path / "nope"), *FIT], "is not a folder")
        (tmp_path / "models.yaml").write_text("records:\n  - id: a\n    id: b\n")
        loader.clear_cache()
        _assert_one_line_exit_2(["--catalog", str(tmp_path), *FIT], "duplicate key 'id'")
    finally:
        os.environ.pop(loader.OVERLAY_ENV, None)
        loader.clear_cache()


# --- valid input: the same commands work -------------------------------------------------


GOOD_ARGS: list[list[str]] = [
    [*FIT, "--json"],
    ["fit", "gpt-j-6b", "--gpu", "h100-sxm-80gb", "--json"],
    [*PERF, "--json"],
    [*PERF, "--kv-precision", "fp8", "--json"],
    ["catalog", "list", "prices", "--json"],
    ["catalog", "show", "accelerators", "h100", "--json"],
    ["schema", "scenario"],
    ["tco", str(EXAMPLES / "tco_onprem_vs_cloud.yaml"), "--json"],
    ["model", "import", str(FIXTURES / "llama-3.1-8b.json"), "--id", "x", "--json"],
]


@pytest.mark.parametrize("argv", GOOD_ARGS, ids=[" ".join(a[:3]) for a in GOOD_ARGS])
def test_valid_input_works(argv: list[str]) -> None:
    res = runner.invoke(app, argv)
    assert res.exit_code == 0, (res.output, repr(res.exception))
    if "--json" in argv or argv[0] == "schema":
        json.loads(res.stdout)


def test_fit_without_context_uses_a_short_window_and_says_so() -> None:
    res = runner.invoke(app, ["fit", "gpt-j-6b", "--gpu", "h100-sxm-80gb", "--json"])
    assert res.exit_code == 0
    # GPT-J's config.json: n_positions 2048 (shorter than the default 4096)
    assert json.loads(res.stdout)["context_tokens"] == 2048
    assert "using gpt-j-6b's whole window of 2,048 tokens" in res.stderr
    res = runner.invoke(app, [*FIT, "--json"])
    assert json.loads(res.stdout)["context_tokens"] == 4096 and "note" not in res.stderr


def test_kv_precision_given_is_kept() -> None:
    res = runner.invoke(app, [*FIT, "--precision", "int4-awq", "--kv-precision", "fp8", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["kv_precision"] == "fp8"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--isl", "4000", "--osl", "10"], "isl"),  # gpt-j-6b's window is 2,048 tokens
        (["--isl", "100", "--osl", "10", "--rate", "1e300"], "rate"),
        (["--isl", "0", "--osl", "10"], "isl"),
        (["--isl", "10", "--osl", "0"], "osl"),
    ],
)
def test_perf_refuses_impossible_lengths_and_rates(args: list[str], field: str) -> None:
    res = CliRunner().invoke(app, ["perf", "gpt-j-6b", "--gpu", "h100-sxm-80gb", *args])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"{field}:" in lines[0] and "Traceback" not in res.output
