"""The catalog loader: provenance is required, malformed files fail with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.catalog.loader import parse_records, read_yaml
from inferplan.catalog.prices import load_prices, load_regions
from inferplan.catalog.providers import load_providers
from inferplan.errors import CatalogError
from inferplan.specs.model import ModelSpec

RECORD = {
    "id": "tiny",
    "name": "Tiny",
    "family": "llama",
    "hidden_size": 64,
    "num_layers": 2,
    "num_attention_heads": 4,
    "num_kv_heads": 2,
    "head_dim": 16,
    "intermediate_size": 128,
    "vocab_size": 1000,
    "max_context": 512,
    "source": "https://example.org/config.json",
    "as_of": "2026-01-01",
}


@pytest.mark.parametrize("missing", ["source", "as_of"])
def test_record_without_provenance_is_rejected(missing: str) -> None:
    rec = {k: v for k, v in RECORD.items() if k != missing}
    with pytest.raises(CatalogError, match=missing):
        parse_records("model", {"records": [rec]}, ModelSpec, "test.yaml")


def test_unknown_key_is_rejected() -> None:
    with pytest.raises(CatalogError, match="colour"):
        parse_records("model", {"records": [{**RECORD, "colour": "red"}]}, ModelSpec, "t")


def test_malformed_yaml_is_one_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("records: [\n  - id: x\n")
    with pytest.raises(CatalogError) as exc:
        read_yaml(p)
    assert "\n" not in str(exc.value) and "malformed YAML" in str(exc.value)


def test_every_shipped_record_has_source_and_date() -> None:
    prices = load_prices()
    sections = [
        load_accelerators(), load_models(), load_engines(), load_providers(), load_regions(),
        prices.servers, prices.gpus, prices.cloud, prices.api, prices.rates,
    ]
    n = 0
    for catalog in sections:
        for rec in catalog:
            assert rec.source.strip() and rec.as_of is not None, rec.id
            n += 1
    assert n > 150
