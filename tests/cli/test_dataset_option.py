"""Workloads named by dataset: ``perf --dataset``, ``workload.dataset`` in a scenario and the
catalog listing, with the statistics used said in the output."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from inferplan.cli.main import app
from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.scenario_io import parse_scenario

runner = CliRunner()
PERF = ["perf", "llama-3.1-8b", "--gpu", "h100-sxm-80gb", "--batch", "8"]


def _with_dataset(name: str) -> str:
    """The default scenario with its four token fields replaced by ``dataset: name``."""
    lines = default_scenario_text().splitlines()
    out = [f"  dataset: {name}" if ln.strip().startswith("input_tokens_mean:") else ln
           for ln in lines if not ln.strip().startswith(
               ("input_tokens_p90:", "output_tokens_mean:", "output_tokens_p90:"))]
    return "\n".join(out) + "\n"


def test_perf_dataset_uses_the_published_lengths_and_says_which() -> None:
    res = runner.invoke(app, [*PERF, "--dataset", "ShareGPT", "--json"])
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    # ShareGPT means 161.31 / 337.99 tokens (vLLM paper, arXiv:2309.06180), rounded
    assert (data["isl"], data["osl"]) == (161.0, 338.0)
    note = next(n for n in data["notes"] if n.startswith("lengths: ShareGPT"))
    assert "mean 161.31 tokens" in note and "mean 337.99 tokens" in note
    assert "mean only: fixed lengths" in note and "arXiv:2309.06180" in note


def test_perf_dataset_note_is_in_the_terminal_text() -> None:
    res = runner.invoke(app, [*PERF, "--dataset", "splitwise-code"])
    assert res.exit_code == 0, res.stderr
    text = " ".join(res.stdout.split())
    assert "median 1500 tokens" in text and "median only" in text and "Splitwise" in text


def test_perf_unknown_dataset_is_one_line_exit_2_listing_the_names() -> None:
    res = runner.invoke(app, [*PERF, "--dataset", "shargpt"])
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert "\n" not in err and "unknown dataset 'shargpt'; allowed: sharegpt, alpaca" in err


def test_perf_dataset_with_isl_is_refused() -> None:
    res = runner.invoke(app, [*PERF, "--dataset", "alpaca", "--isl", "100"])
    assert res.exit_code == 2 and "give --dataset or --isl/--osl, not both" in res.stderr


def test_scenario_dataset_fills_the_token_fields() -> None:
    import yaml

    spec = parse_scenario(yaml.safe_load(_with_dataset("LMSYS-Chat-1M")))
    w = spec.workload
    # LMSYS-Chat-1M Table 1 (arXiv:2309.11998): 69.5 tokens per prompt, 214.5 per response;
    # mean only, so no p90 (the planner's default spread applies, as for any scenario)
    assert (w.input_tokens_mean, w.output_tokens_mean) == (69.5, 214.5)
    assert (w.input_tokens_p90, w.output_tokens_p90) == (None, None)
    assert w.dataset == "LMSYS-Chat-1M"
    again = parse_scenario(spec.model_dump(mode="json"))  # a written-back scenario reads again
    assert again.workload == w


def test_scenario_unknown_dataset_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(_with_dataset("no-such-set"), encoding="utf-8")
    res = runner.invoke(app, ["plan", str(path)])
    assert res.exit_code == 2
    err = res.stderr.strip()
    assert "\n" not in err
    assert "workload.dataset: unknown dataset 'no-such-set'; allowed: sharegpt" in err


def test_scenario_dataset_beside_a_token_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(_with_dataset("sharegpt").replace(
        "  dataset: sharegpt", "  dataset: sharegpt\n  output_tokens_mean: 300"), encoding="utf-8")
    res = runner.invoke(app, ["plan", str(path)])
    assert res.exit_code == 2
    assert "workload.dataset: give dataset or output_tokens_mean, not both" in res.stderr


def test_scenario_naming_a_dataset_plans(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(_with_dataset("ShareGPT"), encoding="utf-8")
    res = runner.invoke(app, ["plan", str(path), "--json"])
    assert res.exit_code == 0, res.stderr
    plan = json.loads(res.stdout)
    assert plan["recommendation"]["option"]


def test_catalog_lists_the_datasets_with_their_basis() -> None:
    res = runner.invoke(app, ["catalog", "list", "datasets", "--json"])
    assert res.exit_code == 0, res.stderr
    rows = {r["id"]: r for r in json.loads(res.stdout)}
    assert rows["sharegpt"]["input"]["mean"] == 161.31
    assert rows["longbench-govreport"]["tokens_per_word"] == 1.3333
    res = runner.invoke(app, ["catalog", "list", "datasets"])
    assert res.exit_code == 0 and "mean only" in res.stdout
