"""Lazy, validated loading of the YAML catalogs shipped in ``inferplan/catalog/data``,
merged with the user's own catalog folder.

Each catalog file is a mapping ``{"records": [...]}`` (or, like ``prices.yaml``, a
mapping of such lists); every record must carry ``source`` and ``as_of``
(enforced by :class:`~inferplan.specs.base.SourcedRecord`). Nothing is read at
import time: a catalog is read on first use and cached.

* **Strict reading.** Files must be UTF-8 text under a size limit; duplicate keys
  in a mapping are an error (YAML 1.2, section 3.2.1.1: keys are unique), never
  "last one wins". The C YAML parser (libyaml) is used when PyYAML has it.
* **User overlay.** The files of the folder named by ``$INFERPLAN_CATALOG_DIR``
  (``inferplan --catalog DIR``) are merged over the shipped files of the same
  name: ``DIR/models.yaml`` adds models, ``DIR/prices.yaml`` adds price rows.
  An id (or alias) that both define is an error naming both files.
* **Parsed-file cache.** The parsed content of each file is kept on disk under
  the user cache folder, keyed by the SHA-256 of the file's bytes, so an edited
  file is parsed again and an unchanged one is not (``INFERPLAN_CACHE_DIR``
  moves the cache; ``INFERPLAN_CACHE_DIR=off`` disables it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import pickle
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from inferplan.catalog.records import Catalog, format_validation_error
from inferplan.catalog.records import norm_key as _norm
from inferplan.errors import CatalogError

T = TypeVar("T", bound=BaseModel)
V = TypeVar("V")

OVERLAY_ENV = "INFERPLAN_CATALOG_DIR"
CACHE_ENV = "INFERPLAN_CACHE_DIR"
MAX_CATALOG_BYTES = 16 * 2**20
"""Largest catalog file read (16 MiB; the biggest shipped file is under 0.1 MiB)."""
_CACHE_VERSION = b"inferplan-yaml-cache-1"

_YamlBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping names the same key twice."""


class StrictLoader(_YamlBase):
    """YAML safe loader (C parser when available) that rejects duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key: the base class reports it
                    continue
                if first is not None:
                    raise _DuplicateKeyError(
                        problem=f"duplicate key '{key}' (first on line {first.line + 1})",
                        problem_mark=key_node.start_mark,
                    )
                seen[key] = key_node.start_mark
        result: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return result


def decode_text(data: bytes, origin: str, limit_bytes: int) -> str:
    """UTF-8 text of ``data`` or a one-line :class:`CatalogError` saying what it is instead.

    >>> decode_text(b"a: 1", "f.yaml", 100)
    'a: 1'
    >>> decode_text(b"\\xff\\xfea\\x00", "f.yaml", 100)
    Traceback (most recent call last):
    ...
    inferplan.errors.CatalogError: f.yaml: the file is UTF-16 text; save it as UTF-8
    """
    if len(data) > limit_bytes:
        raise CatalogError(
            f"{origin}: {len(data):,} bytes is over the limit of {limit_bytes:,} bytes"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CatalogError(f"{origin}: the file is UTF-16 text; save it as UTF-8")
    if b"\x00" in data:
        raise CatalogError(f"{origin}: the file is binary (NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CatalogError(
            f"{origin}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def parse_yaml_text(text: str, origin: str) -> Any:
    """Parse YAML text strictly; malformed YAML or a duplicate key is one line."""
    try:
        return yaml.load(io.StringIO(text), Loader=StrictLoader)  # StrictLoader is a safe loader
    except _DuplicateKeyError as exc:
        mark = exc.problem_mark
        where = f" line {mark.line + 1}:" if mark is not None else ""
        raise CatalogError(f"{origin}:{where} {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise CatalogError(f"{origin}:{where} malformed YAML") from None
    except RecursionError:
        raise CatalogError(f"{origin}: nested too deeply") from None


def read_yaml(path: Path | str, limit_bytes: int = MAX_CATALOG_BYTES) -> Any:
    """Read one YAML file strictly; every problem becomes a one-line :class:`CatalogError`."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limit_bytes:
            raise CatalogError(f"{p}: {size:,} bytes is over the limit of {limit_bytes:,} bytes")
        data = p.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{p}: cannot read ({exc.strerror})") from None
    return parse_yaml_text(decode_text(data, str(p), limit_bytes), str(p))


# --- parsed-file cache (keyed by content) ---------------------------------------------


class _DateUnpickler(pickle.Unpickler):
    """Unpickles only what YAML yields: builtins and datetime values."""

    _ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("datetime", "date"), ("datetime", "datetime"), ("datetime", "timezone"),
         ("datetime", "timedelta")}
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return getattr(dt, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the catalog cache")


def _cache_dir() -> Path | None:
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "none") else Path(configured)
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        return None
    return Path(user_cache_dir("inferplan")) / "catalog"


def _parse_cached(data: bytes, origin: str, limit_bytes: int) -> Any:
    """Parsed content of ``data``, from the on-disk cache when the same bytes were parsed."""
    folder = _cache_dir()
    key = hashlib.sha256(_CACHE_VERSION + data).hexdigest()
    entry = folder / f"{key}.pickle" if folder is not None else None
    if entry is not None and entry.is_file():
        try:
            with entry.open("rb") as fh:
                return _DateUnpickler(fh).load()
        except Exception:  # a broken cache entry is parsed again
            pass
    raw = parse_yaml_text(decode_text(data, origin, limit_bytes), origin)
    if entry is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = entry.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(raw, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, entry)
        except OSError:
            pass  # a read-only cache folder only costs speed
    return raw


# --- shipped files and the user overlay -----------------------------------------------


def _data_dir() -> Path:
    return Path(str(resources.files("inferplan.catalog") / "data"))


def shipped_files() -> list[str]:
    """Names of the shipped catalog files (``accelerators.yaml``, ...)."""
    return sorted(p.name for p in _data_dir().glob("*.yaml"))


def _overlay_folder() -> Path | None:
    value = os.environ.get(OVERLAY_ENV, "").strip()
    return Path(value).expanduser() if value else None


def overlay_dir() -> Path | None:
    """The user's catalog folder (``$INFERPLAN_CATALOG_DIR``), checked, or None when unset.

    A ``.yaml`` file there whose name is no shipped catalog's is an error (a typo
    such as ``model.yaml`` would otherwise be ignored).
    """
    folder = _overlay_folder()
    if folder is None:
        return None
    if not folder.is_dir():
        raise CatalogError(f"{OVERLAY_ENV} / --catalog: {folder} is not a folder")
    allowed = shipped_files()
    for p in sorted(folder.iterdir()):
        if p.suffix in (".yaml", ".yml") and p.name not in allowed:
            raise CatalogError(
                f"{p}: not a catalog file name; allowed: {', '.join(allowed)}"
            )
    return folder


def _read_bytes(path: Path, limit_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit_bytes:
            raise CatalogError(
                f"{path}: {size:,} bytes is over the limit of {limit_bytes:,} bytes"
            )
        return path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read ({exc.strerror})") from None


def catalog_parts(filename: str) -> list[tuple[str, Any]]:
    """``(origin, parsed content)`` of the shipped ``filename`` then the user's copy, if any."""
    parts: list[tuple[str, Any]] = []
    shipped = _data_dir() / filename
    if shipped.is_file():
        parts.append((filename, _parse_cached(_read_bytes(shipped, MAX_CATALOG_BYTES), filename,
                                              MAX_CATALOG_BYTES)))
    folder = overlay_dir()
    if folder is not None:
        user = folder / filename
        if user.is_file():
            parts.append((str(user), _parse_cached(_read_bytes(user, MAX_CATALOG_BYTES),
                                                   str(user), MAX_CATALOG_BYTES)))
    if not parts:
        raise CatalogError(f"{filename}: no such catalog file")
    return parts


def _row_keys(row: Any) -> list[str]:
    if not isinstance(row, dict):
        return []
    keys = [row["id"]] if isinstance(row.get("id"), str) else []
    aliases = row.get("aliases")
    if isinstance(aliases, list):
        keys += [a for a in aliases if isinstance(a, str)]
    return keys


def _merge_lists(section: str, lists: list[tuple[str, list[Any]]]) -> list[Any]:
    owner: dict[str, tuple[str, str]] = {}
    merged: list[Any] = []
    for origin, rows in lists:
        for row in rows:
            for key in _row_keys(row):
                prev = owner.get(_norm(key))
                if prev is not None and prev[0] != origin:
                    label = f"{section} " if section != "records" else ""
                    raise CatalogError(
                        f"{label}id '{key}' is defined in both {prev[0]} and {origin}; "
                        "give your record a new id"
                    )
                owner.setdefault(_norm(key), (origin, key))
            merged.append(row)
    return merged


def merge_parts(parts: list[tuple[str, Any]]) -> tuple[Any, str]:
    """Merge parsed catalog files (shipped first) into one content, and name the origin.

    Files are mappings of lists (``records:`` or sections such as ``servers:``); the
    lists are concatenated section by section. An id or alias defined by two files
    is an error naming both.
    """
    if len(parts) == 1:
        return parts[0][1], parts[0][0]
    for origin, raw in parts:
        if not isinstance(raw, dict):
            raise CatalogError(f"{origin}: expected a mapping with a 'records' list")
    sections: dict[str, list[tuple[str, list[Any]]]] = {}
    for origin, raw in parts:
        for name, rows in raw.items():
            if not isinstance(rows, list):
                if rows is None:
                    continue
                raise CatalogError(f"{origin}: section '{name}' must be a list of records")
            sections.setdefault(name, []).append((origin, rows))
    merged = {name: _merge_lists(name, lists) for name, lists in sections.items()}
    return merged, " + ".join(origin for origin, _ in parts)


def load_raw(filename: str) -> tuple[Any, str]:
    """Parsed content of a catalog file merged with the user's copy, and its origin."""
    return merge_parts(catalog_parts(filename))


# --- records --------------------------------------------------------------------------


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
    """Load ``inferplan/catalog/data/<filename>``, merged with the user's copy."""
    raw, origin = load_raw(filename)
    return Catalog(kind, parse_records(kind, raw, model, origin))


def _overlay_signature(filename: str) -> tuple[Any, ...]:
    """What the in-process cache depends on: the overlay folder and its file's state."""
    folder = _overlay_folder()
    if folder is None:
        return ()
    user = folder / filename
    try:
        st = user.stat()
    except OSError:
        return (str(folder),)
    return (str(folder), st.st_mtime_ns, st.st_size, st.st_ino)


_MEMO: dict[tuple[Any, ...], Any] = {}


def cached_parsed(filename: str, parse: Callable[[Any, str], V]) -> V:
    """``parse(merged content, origin)`` of a catalog file, computed once per content.

    The result is reused within the process until the user's overlay file (or the
    overlay folder) changes.
    """
    key = (filename, parse, _overlay_signature(filename))
    if key not in _MEMO:
        raw, origin = load_raw(filename)
        _MEMO[key] = parse(raw, origin)
    result: V = _MEMO[key]
    return result


def cached_catalog(kind: str, filename: str, model: type[T]) -> Catalog[T]:
    """The catalog of ``filename`` (shipped + the user's copy), loaded once and reused."""
    key = (kind, filename, model, _overlay_signature(filename))
    if key not in _MEMO:
        _MEMO[key] = load_packaged(kind, filename, model)
    result: Catalog[T] = _MEMO[key]
    return result


def clear_cache() -> None:
    """Forget every catalog loaded in this process (the on-disk cache stays valid)."""
    _MEMO.clear()
