"""The catalog loader: provenance is required, malformed files fail with one line."""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Iterator
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


# --- strict reading -------------------------------------------------------------------


def test_duplicate_key_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    p = tmp_path / "dup.yaml"
    p.write_text("records:\n  - id: a\n    name: A\n    name: B\n")
    with pytest.raises(CatalogError) as exc:
        read_yaml(p)
    msg = str(exc.value)
    assert "duplicate key 'name'" in msg and "line 4" in msg and "first on line 3" in msg


def test_same_key_in_two_mappings_is_fine(tmp_path: Path) -> None:
    p = tmp_path / "ok.yaml"
    p.write_text("records:\n  - id: a\n  - id: b\n")
    assert read_yaml(p) == {"records": [{"id": "a"}, {"id": "b"}]}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("records: []\n".encode("utf-16"), "UTF-16"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"records:\n  - id: caf\xe9\n", "line 2: not UTF-8"),
    ],
)
def test_non_utf8_files_are_one_line(tmp_path: Path, data: bytes, expected: str) -> None:
    p = tmp_path / "f.yaml"
    p.write_bytes(data)
    with pytest.raises(CatalogError, match=expected) as exc:
        read_yaml(p)
    assert "\n" not in str(exc.value)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "bom.yaml"
    p.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_yaml(p) == {"a": 1}


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    p = tmp_path / "big.yaml"
    p.write_bytes(b"a: 1\n" + b"#" * 2000)
    with pytest.raises(CatalogError, match="over the limit of 1,000 bytes"):
        read_yaml(p, limit_bytes=1000)


# --- parsed-file cache ----------------------------------------------------------------


def test_cache_is_keyed_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from inferplan.catalog import loader

    monkeypatch.setenv(loader.CACHE_ENV, str(tmp_path / "cache"))
    first = loader._parse_cached(b"a: 1\nd: 2026-01-02\n", "x.yaml", 1000)
    entries = list((tmp_path / "cache").glob("*.pickle"))
    assert len(entries) == 1 and first == {"a": 1, "d": dt.date(2026, 1, 2)}
    # same bytes: served from the entry (prove it by planting a different value there)
    with entries[0].open("wb") as fh:
        pickle.dump({"a": "from cache"}, fh)
    assert loader._parse_cached(b"a: 1\nd: 2026-01-02\n", "x.yaml", 1000) == {"a": "from cache"}
    # changed bytes: parsed again, a second entry
    assert loader._parse_cached(b"a: 2\n", "x.yaml", 1000) == {"a": 2}
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 2


def test_cache_entry_with_foreign_objects_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inferplan.catalog import loader

    monkeypatch.setenv(loader.CACHE_ENV, str(tmp_path))
    loader._parse_cached(b"a: 1\n", "x.yaml", 1000)
    (entry,) = tmp_path.glob("*.pickle")
    entry.write_bytes(pickle.dumps(Path("/etc")))  # a class outside the allowed set
    assert loader._parse_cached(b"a: 1\n", "x.yaml", 1000) == {"a": 1}


# --- user overlay ---------------------------------------------------------------------


@pytest.fixture
def overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from inferplan.catalog import loader

    folder = tmp_path / "my-catalog"
    folder.mkdir()
    monkeypatch.setenv(loader.OVERLAY_ENV, str(folder))
    monkeypatch.setenv(loader.CACHE_ENV, "off")
    loader.clear_cache()
    yield folder
    loader.clear_cache()


def _write_models(folder: Path, *records: dict[str, object]) -> None:
    import yaml

    (folder / "models.yaml").write_text(yaml.safe_dump({"records": list(records)}))


def test_overlay_adds_records_to_the_shipped_ones(overlay: Path) -> None:
    shipped = len(load_models())
    _write_models(overlay, RECORD)
    models = load_models()
    assert len(models) == shipped + 1 and models.get("tiny").num_layers == 2
    assert "llama-3.1-8b" in models


def test_overlay_edit_is_seen_in_the_same_process(overlay: Path) -> None:
    _write_models(overlay, RECORD)
    assert load_models().get("tiny").num_layers == 2
    _write_models(overlay, {**RECORD, "num_layers": 3, "name": "Tiny three"})
    assert load_models().get("tiny").num_layers == 3


def test_overlay_id_conflict_names_both_files(overlay: Path) -> None:
    _write_models(overlay, {**RECORD, "id": "llama-3.1-8b"})
    with pytest.raises(CatalogError) as exc:
        load_models()
    msg = str(exc.value)
    assert "'llama-3.1-8b'" in msg and "models.yaml" in msg and str(overlay) in msg


def test_overlay_alias_conflict_names_both_files(overlay: Path) -> None:
    alias = load_models().get("llama-3.1-8b").aliases
    if not alias:
        pytest.skip("the shipped llama-3.1-8b record has no alias")
    _write_models(overlay, {**RECORD, "aliases": [alias[0]]})
    with pytest.raises(CatalogError, match=r"defined in both models\.yaml and"):
        load_models()


def test_overlay_file_with_an_unknown_name_is_an_error(overlay: Path) -> None:
    (overlay / "model.yaml").write_text("records: []\n")
    with pytest.raises(CatalogError, match=r"model\.yaml: not a catalog file name"):
        load_models()


def test_overlay_folder_must_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from inferplan.catalog import loader

    monkeypatch.setenv(loader.OVERLAY_ENV, str(tmp_path / "nope"))
    loader.clear_cache()
    with pytest.raises(CatalogError, match="is not a folder"):
        load_models()
    loader.clear_cache()


def test_overlay_applies_to_price_sections(overlay: Path) -> None:
    import yaml

    row = load_prices().api.ids()[0]
    base = load_prices().api.get(row).model_dump(mode="json")
    mine = {**base, "id": "my-negotiated-offer", "aliases": []}
    (overlay / "prices.yaml").write_text(yaml.safe_dump({"api": [mine]}))
    prices = load_prices()
    assert "my-negotiated-offer" in prices.api and row in prices.api
    (overlay / "prices.yaml").write_text(yaml.safe_dump({"api": [{**mine, "id": row}]}))
    with pytest.raises(CatalogError, match=f"api id '{row}' is defined in both prices.yaml"):
        load_prices()


def test_overlay_applies_to_any_kind(overlay: Path) -> None:
    from inferplan.catalog.loader import cached_catalog, shipped_files

    assert "engines.yaml" in shipped_files()
    engine = load_engines().get("vllm").model_dump(mode="json")
    import yaml

    (overlay / "engines.yaml").write_text(
        yaml.safe_dump({"records": [{**engine, "id": "my-vllm-fork", "aliases": []}]})
    )
    cat = cached_catalog("engine", "engines.yaml", type(load_engines().get("vllm")))
    assert "my-vllm-fork" in cat and "vllm" in cat
