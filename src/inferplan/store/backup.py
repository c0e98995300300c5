"""``inferplan db backup|restore``: a portable JSON copy of the whole store.

The backup is one JSON document (gzip-compressed when the file name ends in
``.gz``) holding every row of every table, in foreign-key order, with the schema
revision it was taken at. It restores into SQLite or PostgreSQL alike, so it also
moves a store from one to the other. A restore replaces everything in the target
(only with ``replace=True`` when the target holds data) in one transaction: it
either completes or leaves the target as it was.

Before anything is written every value is checked: text holding a NUL character
(which PostgreSQL cannot store in text or JSON; older SQLite stores may hold it)
or a lone UTF-16 surrogate (not valid Unicode) stops the restore with one line
naming the table, the row id and the field to fix.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Table, delete, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from inferplan.errors import SpecError
from inferplan.store.database import Store, current_revision, head_revision
from inferplan.store.summaries import bench_headline, scenario_description
from inferplan.store.tables import TABLES_IN_ORDER, Base, UtcDateTime

_BAD = re.compile("[\x00\ud800-\udfff]")
FORMAT = "inferplan-store-backup"
FORMAT_VERSION = 1
OLDER_REVISIONS = ("0001", "0002")
"""Schema revisions whose backups restore too: the columns added since are
derived from the stored documents (scenario descriptions, bench headlines)."""


def _tables() -> list[Table]:
    return [Base.metadata.tables[name] for name in TABLES_IN_ORDER]


def _is_time(col: Any) -> bool:
    return isinstance(col.type, UtcDateTime | DateTime)


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def backup(store: Store, path: Path) -> dict[str, int]:
    """Write every row to ``path`` (atomically: a temporary file is renamed).

    Returns the row count per table.
    """
    counts: dict[str, int] = {}
    tables: dict[str, list[dict[str, Any]]] = {}
    with store.read() as s:
        for t in _tables():
            rows = [
                {k: _encode(v) for k, v in r._mapping.items()}
                for r in s.execute(select(t).order_by(*t.primary_key.columns))
            ]
            tables[t.name] = rows
            counts[t.name] = len(rows)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_revision": current_revision(store.engine),
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "backend": store.backend,
        "tables": tables,
    }
    data = json.dumps(doc).encode("utf-8")
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return counts


def read_backup(path: Path) -> dict[str, Any]:
    """Read and check a backup file; problems raise :class:`SpecError` on ``backup``."""
    if not path.is_file():
        raise SpecError("backup", f"file not found: {path}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                doc = json.load(fh)
        else:
            doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, EOFError) as exc:
        raise SpecError("backup", f"{path} is not a readable backup ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SpecError("backup", f"{path} is not an inferplan store backup")
    if doc.get("format_version") != FORMAT_VERSION:
        raise SpecError("backup", f"backup format version {doc.get('format_version')} is not "
                        f"supported (allowed: {FORMAT_VERSION})")
    if doc.get("schema_revision") not in (*OLDER_REVISIONS, head_revision()):
        raise SpecError(
            "backup",
            f"taken at schema revision {doc.get('schema_revision')}; this inferplan restores "
            f"revision {head_revision()} (restore it with the version that wrote it)",
        )
    if not isinstance(doc.get("tables"), dict):
        raise SpecError("backup", f"{path} has no tables")
    return doc


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name not in row:
            continue
        v = row[col.name]
        if v is not None and _is_time(col):
            v = dt.datetime.fromisoformat(v)
        out[col.name] = v
    if table.name == "scenarios" and "description" not in row:
        out["description"] = scenario_description(row.get("document"))
    if table.name == "bench_runs" and "headline" not in row:
        out["headline"] = bench_headline(row.get("summary"))
    return out


def _bad_text(value: Any, path: str) -> tuple[str, str] | None:
    """``(path, problem)`` of the first string in ``value`` that cannot be stored."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, str):
            m = _BAD.search(v)
            if m is not None:
                return p, ("holds a NUL character (U+0000)" if m.group(0) == "\x00"
                           else "holds a lone surrogate (not valid Unicode)")
        elif isinstance(v, dict):
            for k, item in v.items():
                bad = _bad_text(str(k), f"{p} key")
                if bad:
                    return bad
                stack.append((item, f"{p}.{k}"))
        elif isinstance(v, list):
            stack.extend((item, f"{p}[{i}]") for i, item in enumerate(v))
    return None


def check_rows(doc: dict[str, Any]) -> None:
    """Raise :class:`SpecError` naming the first row whose text cannot be stored."""
    for t in _tables():
        for row in doc["tables"].get(t.name, []):
            if not isinstance(row, dict):
                raise SpecError("backup", f"table {t.name}: a row is not a mapping")
            for col, value in row.items():
                bad = _bad_text(value, str(col))
                if bad:
                    where, problem = bad
                    raise SpecError(
                        "backup",
                        f"table {t.name}, row id {row.get('id')}: {where} {problem}, which "
                        f"{'PostgreSQL' if 'NUL' in problem else 'no database'} can store; "
                        "fix or delete that row in the source store and back up again",
                    )


def _source_rows(doc: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The backup's rows of ``table``; a revision 0001 backup kept plan payloads in
    the plans rows."""
    tables = doc["tables"]
    if table == "plan_payloads" and table not in tables:
        return [{"plan_id": r.get("id"), "scenario_document": r.get("scenario_document"),
                 "result": r.get("result")} for r in tables.get("plans", [])]
    rows: list[dict[str, Any]] = tables.get(table, [])
    return rows


def row_count(store: Store) -> int:
    """Rows in all the store's tables together."""
    with store.read() as s:
        return sum(int(s.scalar(select(func.count()).select_from(t)) or 0) for t in _tables())


def restore(store: Store, path: Path, replace: bool = False) -> dict[str, int]:
    """Replace the store's content by the backup at ``path``; returns rows per table.

    A store that holds data is only replaced with ``replace=True``.
    """
    doc = read_backup(path)
    check_rows(doc)
    if not replace and row_count(store) > 0:
        raise SpecError("force", "the target store holds data; pass --force to replace it")
    counts: dict[str, int] = {}
    with store.write() as s:
        for t in reversed(_tables()):
            s.execute(delete(t))
        for t in _tables():
            try:
                rows = [_decode(t, r) for r in _source_rows(doc, t.name)]
                if rows:
                    s.execute(insert(t), rows)
            except (DBAPIError, ValueError, TypeError) as exc:
                reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
                raise SpecError("backup", f"table {t.name} cannot be restored ({reason}); "
                                "nothing was changed") from None
            counts[t.name] = len(rows)
        if store.backend == "postgresql":
            for t in _tables():
                if "id" not in t.c:
                    continue
                s.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {t.name}), 0) + 1, false)"
                    )
                )
    return counts


__all__ = ["FORMAT", "backup", "check_rows", "read_backup", "restore", "row_count"]
