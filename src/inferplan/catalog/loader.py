"""Lazy, validated loading of the YAML catalogs shipped in ``inferplan/catalog/data``.

Each catalog file is a mapping ``{"records": [...]}``; every record must carry
``source`` and ``as_of`` (enforced by :class:`~inferplan.specs.base.SourcedRecord`).
Nothing is read at import time: a catalog is read on first use and cached.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from inferplan.errors import CatalogError, UnknownIdError

T = TypeVar("T", bound=BaseModel)


def _norm(key: str) -> str:
    return key.strip().lower().replace("_", "-").replace(" ", "-")


def read_yaml(path: Path | str) -> Any:
    """Read one YAML file; malformed YAML becomes a one-line :class:`CatalogError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{p}: cannot read ({exc.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise CatalogError(f"{p}:{where} malformed YAML") from None


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """First pydantic error as ``field.path: message``."""
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
    return f"{field}: {err['msg']}"


class Catalog(Generic[T]):
    """An id-indexed collection of validated records with alias lookup."""

    def __init__(self, kind: str, records: list[T]) -> None:
        self.kind = kind
        self._records = records
        self._index: dict[str, T] = {}
        for rec in records:
            rid = getattr(rec, "id")  # noqa: B009
            for key in (rid, *getattr(rec, "aliases", ())):
                k = _norm(key)
                if k in self._index and self._index[k] is not rec:
                    raise CatalogError(f"{kind}: id or alias '{key}' is used twice")
                self._index[k] = rec

    def __iter__(self) -> Iterator[T]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _norm(key) in self._index

    def ids(self) -> list[str]:
        return [getattr(r, "id") for r in self._records]  # noqa: B009

    def get(self, key: str, field: str | None = None) -> T:
        """Record by id or alias; unknown ids raise with the closest suggestions."""
        rec = self._index.get(_norm(key))
        if rec is None:
            close = difflib.get_close_matches(_norm(key), list(self._index), n=3, cutoff=0.5)
            ids = []
            for c in close:
                rid = getattr(self._index[c], "id")  # noqa: B009
                if rid not in ids:
                    ids.append(rid)
            raise UnknownIdError(field or self.kind, key, ids)
        return rec

    def with_records(self, extra: list[T]) -> Catalog[T]:
        """A new catalog with ``extra`` records added (user imports, overrides)."""
        return Catalog(self.kind, [*self._records, *extra])


def parse_records(kind: str, raw: Any, model: type[T], origin: str) -> list[T]:
    """Validate raw YAML content ``{"records": [...]}`` into records of ``model``."""
    if not isinstance(raw, dict) or not isinstance(raw.get("records"), list):
        raise CatalogError(f"{origin}: expected a mapping with a 'records' list")
    out: list[T] = []
    for i, item in enumerate(raw["records"]):
        rid = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            raise CatalogError(
                f"{origin}: {kind} '{rid}': {format_validation_error(exc)}"
            ) from None
    return out


def load_packaged(kind: str, filename: str, model: type[T]) -> Catalog[T]:
    """Load ``inferplan/catalog/data/<filename>`` into a :class:`Catalog`."""
    ref = resources.files("inferplan.catalog") / "data" / filename
    with resources.as_file(ref) as path:
        raw = read_yaml(path)
    return Catalog(kind, parse_records(kind, raw, model, filename))


@functools.cache
def _cached(kind: str, filename: str, model: type[BaseModel]) -> Catalog[Any]:
    return load_packaged(kind, filename, model)


def cached_catalog(kind: str, filename: str, model: type[T]) -> Catalog[T]:
    """Load once per process and reuse (catalogs are immutable)."""
    return _cached(kind, filename, model)
