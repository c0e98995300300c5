"""The core commands end to end through the real CLI (Typer runner)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inferplan.cli.main import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_fit_json_fields_and_values() -> None:
    code, out, _ = _run("fit", "llama-3.1-70b", "--gpu", "h100-sxm-80gb", "--count", "4",
                        "--context", "8192", "--concurrency", "16", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("total_params", "active_params", "weights_bytes", "kv_cache_bytes_per_token",
                "fits", "max_concurrency_at_context", "per_device_bytes"):
        assert key in data
    assert data["kv_cache_bytes_per_token"] == 327_680  # 2 x 8 x 128 x 80 x 2 bytes
    assert data["fits"] is True and data["tp"] == 4


def test_fit_without_count_finds_fewest_devices() -> None:
    code, out, _ = _run("fit", "llama-3.1-70b", "--gpu", "h100-sxm-80gb", "--json")
    # 141 GB of bf16 weights: one 85.5 GB device is too small, two suffice
    assert code == 0 and json.loads(out)["count"] == 2


def test_unknown_gpu_one_line_with_suggestion() -> None:
    code, out, err = _run("fit", "llama-3.1-8b", "--gpu", "h100-sxn-80gb")
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "gpu" in lines[0] and "h100-sxm-80gb" in lines[0]
    assert "Traceback" not in err + out


def test_impossible_context_names_the_field() -> None:
    code, _, err = _run("fit", "llama-2-7b", "--gpu", "a100", "--context", "100000")
    assert code == 2 and "context" in err and "4096" in err


def test_bad_precision_lists_allowed_values() -> None:
    code, _, err = _run("fit", "llama-3.1-8b", "--gpu", "a100", "--precision", "fp7")
    assert code == 2 and "precision" in err and "q4_k_m" in err


def test_catalog_list_and_show_carry_sources() -> None:
    code, out, _ = _run("catalog", "list", "accelerators", "--json")
    assert code == 0
    records = json.loads(out)
    assert all(r["source"] and r["as_of"] for r in records)
    code, out, _ = _run("catalog", "show", "models", "mixtral-8x7b", "--json")
    assert code == 0 and json.loads(out)["num_experts"] == 8


def test_model_import_writes_a_record(tmp_path: Path) -> None:
    cfg = Path(__file__).parents[1] / "catalog" / "fixtures" / "llama-3.1-8b.json"
    out_file = tmp_path / "m.yaml"
    code, _, err = _run("model", "import", str(cfg), "--id", "my-llama", "-o", str(out_file))
    assert code == 0, err
    assert "my-llama" in out_file.read_text()
    before = out_file.read_bytes()
    code, _, err = _run("model", "import", str(cfg), "--id", "my-llama", "-o", str(out_file))
    assert code == 2 and "already has id 'my-llama'" in err
    assert out_file.read_bytes() == before  # nothing already saved is overwritten


def test_model_import_appends_and_keeps_the_file(tmp_path: Path) -> None:
    cfg = Path(__file__).parents[1] / "catalog" / "fixtures" / "llama-3.1-8b.json"
    out_file = tmp_path / "models.yaml"
    out_file.write_text("# my private models\nrecords: []\n")
    # an empty flow list cannot take a block item: refused, file untouched
    code, _, err = _run("model", "import", str(cfg), "--id", "a", "-o", str(out_file))
    assert code == 2 and "cannot append" in err
    assert out_file.read_text() == "# my private models\nrecords: []\n"
    out_file.unlink()
    for rid in ("a", "b"):
        code, _, err = _run("model", "import", str(cfg), "--id", rid, "-o", str(out_file))
        assert code == 0, err
    text = out_file.read_text()
    assert text.count("- id: ") == 2 and text.startswith("records:\n- id: a")


def test_imported_model_is_used_by_fit_perf_and_plan(tmp_path: Path) -> None:
    from inferplan.catalog import loader

    cfg = Path(__file__).parents[1] / "catalog" / "fixtures" / "llama-3.1-8b.json"
    folder = tmp_path / "catalog"
    folder.mkdir()
    code, _, err = _run("model", "import", str(cfg), "--id", "my-llama", "-o",
                        str(folder / "models.yaml"))
    assert code == 0, err
    loader.clear_cache()
    try:
        code, out, err = _run("--catalog", str(folder), "fit", "my-llama", "--gpu",
                              "h100-sxm-80gb", "--json")
        assert code == 0, err
        # the same architecture as the shipped Llama 3.1 8B: 2 x 8 x 128 x 32 x 2 bytes/token
        assert json.loads(out)["kv_cache_bytes_per_token"] == 131_072
        code, out, err = _run("--catalog", str(folder), "perf", "my-llama", "--gpu",
                              "h100-sxm-80gb", "--batch", "1", "--isl", "128", "--osl", "16",
                              "--json")
        assert code == 0, err
        assert json.loads(out)["model"] == "my-llama"
        scenario = tmp_path / "s.yaml"
        _run("init", str(scenario))
        import yaml

        raw = yaml.safe_load(scenario.read_text())
        raw["models"] = ["my-llama"]
        scenario.write_text(yaml.safe_dump(raw))
        code, out, err = _run("--catalog", str(folder), "plan", str(scenario), "--json")
        assert code == 0, err
        assert json.loads(out)["recommendation"]["model"] == "my-llama"
    finally:
        os.environ.pop(loader.OVERLAY_ENV, None)
        loader.clear_cache()


def test_perf_batch1_json() -> None:
    code, out, _ = _run("perf", "llama-3.1-8b", "--gpu", "h100-sxm-80gb", "--isl", "128",
                        "--osl", "128", "--batch", "1", "--json")
    assert code == 0
    data = json.loads(out)
    # batch-1 decode streams ~15 GB of weights per token: between 4 and 12 ms per token
    assert 4.0 < data["tpot_ms"]["mean"] < 12.0
    lo, hi = data["tpot_ms"]["p95_interval"]
    assert lo < data["tpot_ms"]["p95"] < hi


def test_perf_rejects_two_regimes() -> None:
    code, _, err = _run("perf", "llama-3.1-8b", "--gpu", "h100", "--batch", "2",
                        "--rate", "1")
    assert code == 2 and "batch" in err


def test_validate_json_schema(tmp_path: Path) -> None:
    csv_path = tmp_path / "cases.csv"
    csv_path.write_text(
        "case_id,scenario,engine,hardware,num_gpus,tp,model,weight_dtype,kv_dtype,isl,osl,"
        "batch,concurrency,request_rate,metric,statistic,value,trust\n"
        "x-1,static_batch,vllm,h100-sxm-80gb,1,1,llama-3-8b,fp16,fp16,128,128,1,,,"
        "e2e_latency_s,mean,0.9939,medium\n"
        "x-2,static_batch,vllm,h100-sxm-80gb,1,1,no-such-model,fp16,fp16,128,128,1,,,"
        "e2e_latency_s,mean,1.0,medium\n"
    )
    code, out, _ = _run("validate", "--cases", str(csv_path), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data["summary"]) >= {"median_ape", "within_25pct", "coverage", "n_cases"}
    assert data["summary"]["n_cases"] == 2 and data["summary"]["coverage"] == 0.5
    by_id = {c["case_id"]: c for c in data["cases"]}
    assert by_id["x-1"]["ape"] is not None and by_id["x-2"]["skipped_reason"]


def test_validate_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,scenario\nx,static_batch\n")
    code, _, err = _run("validate", "--cases", str(bad))
    assert code == 2 and "lacks columns" in err


def test_init_and_schema(tmp_path: Path) -> None:
    target = tmp_path / "s.yaml"
    code, _, _ = _run("init", str(target))
    assert code == 0 and "slo:" in target.read_text()
    code, _, err = _run("init", str(target))
    assert code == 2 and "exists" in err
    code, out, _ = _run("schema", "scenario")
    schema = json.loads(out)
    assert "workload" in schema["properties"] and "policy" in schema["properties"]


def test_plan_bad_scenario_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodels: [llama-3.1-8b]\nworkload: {users: -5}\n")
    code, _, err = _run("plan", str(bad))
    assert code == 2 and "workload" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "kind", ["accelerators", "models", "engines", "providers", "prices", "regions"]
)
def test_catalog_list_json_and_table_work_for_every_kind(kind: str) -> None:
    code, out, err = _run("catalog", "list", kind, "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert rows and all(r["id"] and r["source"] and r["as_of"] for r in rows)
    if kind == "prices":
        assert {"servers", "cloud", "api"} <= {r["section"] for r in rows}
    code, out, err = _run("catalog", "list", kind)
    assert code == 0, err
    code, out, err = _run("catalog", "show", kind, rows[0]["id"], "--json")
    assert code == 0, err
    assert json.loads(out)["id"] == rows[0]["id"]


def test_catalog_show_unknown_price_suggests() -> None:
    code, out = _run("catalog", "list", "prices", "--json")[:2]
    first = json.loads(out)[0]["id"]
    code, _, err = _run("catalog", "show", "prices", first + "x")
    assert code == 2 and f"did you mean {first}" in err and "\n" not in err.strip()


def test_catalog_unknown_kind_lists_the_kinds() -> None:
    code, _, err = _run("catalog", "list", "gpus")
    assert code == 2 and "allowed: accelerators, models" in err
