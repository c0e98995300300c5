"""The in-memory shape of a catalog: :class:`Catalog`, id-indexed records with alias
lookup. Pure: no file, no YAML; :mod:`inferplan.catalog.loader` fills catalogs from
the shipped files, and the analytical core receives them as arguments.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from inferplan.errors import CatalogError, UnknownIdError

T = TypeVar("T", bound=BaseModel)


def norm_key(key: str) -> str:
    """An id or alias as compared: lower case, ``_`` and spaces as ``-``.

    >>> norm_key(" H100_SXM 80gb")
    'h100-sxm-80gb'
    """
    return key.strip().lower().replace("_", "-").replace(" ", "-")


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
                k = norm_key(key)
                if k in self._index and self._index[k] is not rec:
                    raise CatalogError(f"{kind}: id or alias '{key}' is used twice")
                self._index[k] = rec

    def __iter__(self) -> Iterator[T]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and norm_key(key) in self._index

    def ids(self) -> list[str]:
        return [getattr(r, "id") for r in self._records]  # noqa: B009

    def get(self, key: str, field: str | None = None) -> T:
        """Record by id or alias; unknown ids raise with the closest suggestions."""
        rec = self._index.get(norm_key(key))
        if rec is None:
            close = difflib.get_close_matches(norm_key(key), list(self._index), n=3, cutoff=0.5)
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


__all__ = ["Catalog", "format_validation_error", "norm_key"]
