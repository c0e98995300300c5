"""The Python API: the names the README promises, typed results, clean errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import inferplan

ROOT = Path(__file__).resolve().parents[2]


def test_all_names_resolve() -> None:
    for name in inferplan.__all__:
        assert getattr(inferplan, name) is not None
    with pytest.raises(AttributeError):
        _ = inferplan.no_such_name  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_planner() -> None:
    # the CLI imports inferplan.cli.*, which first runs inferplan/__init__: it must stay light
    code = (
        "import sys, inferplan; "
        "print(any(m.startswith('inferplan.planner') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fit_matches_the_published_kv_size() -> None:
    # Llama-3.1-70B: 80 layers x 8 KV heads x 128 dims x 2 (K and V) x 2 bytes = 327,680 B/token
    r = inferplan.fit("llama-3.1-70b", "h100-sxm-80gb", context=8192, concurrency=8, count=4)
    assert r.kv_cache_bytes_per_token == 80 * 8 * 128 * 2 * 2
    assert (r.count, r.tp, r.pp) == (4, 4, 1)


def test_fit_without_count_is_the_fewest_devices() -> None:
    # 70.6e9 parameters x 2 bytes = 141 GB of bf16 weights: more than one 80 GB H100
    r = inferplan.fit("llama-3.1-70b", "h100-sxm-80gb")
    assert r.fits and r.count >= 2


def test_predict_and_bad_values_name_the_field() -> None:
    r = inferplan.predict("llama-3.1-8b", "h100-sxm-80gb", isl=512, osl=64, concurrency=4)
    assert r.ttft_ms.p50 > 0 and r.tpot_ms.p50 > 0
    with pytest.raises(inferplan.SpecError) as exc:
        inferplan.predict("llama-3.1-8b", "h100-sxm-80gb", isl=512, osl=64, count=3, tp=2)
    assert exc.value.field == "count"
    with pytest.raises(inferplan.SpecError) as exc:
        inferplan.fit("llama-3.1-8b", "no-such-gpu")
    assert exc.value.field == "gpu"


def test_scenario_from_mapping_and_price() -> None:
    # one API option at $1 per 1M input and output tokens: $1 per 1M tokens, by definition
    s = inferplan.scenario({
        "name": "x", "finance": {"horizon_years": 1, "discount_rate": 0},
        "workload": {"requests_per_day": 1000, "input_tokens_mean": 100,
                     "output_tokens_mean": 100, "profile": "flat"},
        "options": [{"kind": "api", "name": "api", "input_usd_per_million": 1,
                     "output_usd_per_million": 1}],
    })
    assert isinstance(s, inferplan.Scenario)
    res = inferplan.price(s)
    assert res.options[0].usd_per_million_tokens == pytest.approx(1.0)


def test_readme_example_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Python API.*?```python\n(.*?)```", readme, re.S)
    assert block, "README has a '## Python API' section with a python example"
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)
    assert "result" in namespace
