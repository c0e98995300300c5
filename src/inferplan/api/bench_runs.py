"""Benchmark runs in the service: check and scrub uploads, headline numbers, compare.

An upload is the ``summary.json`` object of an ``inferplan bench`` run
(:class:`~inferplan.bench.results.RunSummary`) and, optionally, the text of its
``records.jsonl``. Before anything is stored, every field that could hold a
credential (``api_key``, ``authorization``, ``password``, ``secret``, ``cookie``,
``access_token``, ...) is removed, the values those fields held are removed
wherever else they appear (a warning quoting a header, a note, any field), as are
``Bearer``/``Basic`` tokens, and URLs lose their user info and query, so the store
never holds the API key of a benchmarked server.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from inferplan.api.errors import FieldError, FieldErrors
from inferplan.api.limits import LimitError, check_value, text_problem
from inferplan.bench.results import RequestRecord, RunSummary
from inferplan.service.comparisons import bench_significance, compare_summaries
from inferplan.store.summaries import bench_headline as headline
from inferplan.store.summaries import stage_label
from inferplan.store.tables import BenchRun

MAX_RECORDS = 200_000
SECRET_KEY = re.compile(
    r"^(.*[_-])?(api[_-]?key|apikey|authorization|auth[_-]?header|password|passwd|secret|"
    r"access[_-]?token|bearer|cookie|set[_-]cookie|private[_-]?key)$",
    re.IGNORECASE,
)
ALLOWED_KEYS = frozenset({"api_key_env"})
URL_IN_TEXT = re.compile(r"\bhttps?://[^\s\"'<>]+", re.IGNORECASE)


def scrub_url(url: str) -> str:
    """``url`` without user info, query or fragment."""
    try:
        p = urlsplit(url)
        host = p.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host + (f":{p.port}" if p.port else "")
    except ValueError:
        return "<url removed>"
    return urlunsplit((p.scheme, netloc, p.path, "", ""))


BEARER = re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}", re.IGNORECASE)
REMOVED = "[removed]"
MIN_SECRET_CHARS = 6


def secret_values(value: Any, out: set[str] | None = None) -> set[str]:
    """Every string held under a credential field anywhere in ``value`` (and the
    token part of ``Bearer``/``Basic`` values), to be removed wherever else it
    appears."""
    out = set() if out is None else out
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, item in v.items():
                if str(k) not in ALLOWED_KEYS and SECRET_KEY.match(str(k)):
                    for s in _strings(item):
                        out.add(s)
                        out.update(m.group(0).split(None, 1)[1] for m in BEARER.finditer(s))
                else:
                    stack.append(item)
        elif isinstance(v, list):
            stack.extend(v)
    return {s for s in out if len(s) >= MIN_SECRET_CHARS}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _scrub_text(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s in text:
            text = text.replace(s, REMOVED)
    if "://" in text:
        text = URL_IN_TEXT.sub(lambda m: scrub_url(m.group(0)), text)
    return BEARER.sub(lambda m: m.group(1) + " " + REMOVED, text)


def scrub(value: Any, extra_secrets: set[str] | None = None) -> Any:
    """A copy of ``value`` without credential fields, with URLs scrubbed, and with
    every credential value (those of the removed fields, ``Bearer`` tokens and
    ``extra_secrets``) replaced wherever it appears: in warnings, notes, error
    messages or any other field, keys included."""
    found = secret_values(value) | {s for s in (extra_secrets or set())
                                    if len(s) >= MIN_SECRET_CHARS}
    return _scrub(value, sorted(found, key=len, reverse=True))


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {
            _scrub_text(str(k), secrets): _scrub(v, secrets)
            for k, v in value.items()
            if str(k) in ALLOWED_KEYS or not SECRET_KEY.match(str(k))
        }
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return _scrub_text(value, secrets)
    return value


def check_summary(summary: dict[str, Any]) -> RunSummary:
    """Validate an uploaded summary; problems are field errors under ``summary``."""
    try:
        return RunSummary.model_validate(summary)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "summary", str(e["msg"]),
                       str(e["type"]))
            for e in exc.errors()[:20]
        ]
        raise FieldErrors(errors, ("body", "summary")) from None


def parse_records(text: str) -> list[RequestRecord]:
    """Request records from JSON lines; a bad line is a field error naming it."""
    out: list[RequestRecord] = []
    lines = text.splitlines()
    if len(lines) > MAX_RECORDS:
        raise FieldErrors([FieldError("records_jsonl", f"more than {MAX_RECORDS} lines")])
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        _check_line(line, i + 1)
        try:
            out.append(RequestRecord.model_validate_json(line))
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"]
            raise FieldErrors(
                [FieldError("records_jsonl", f"line {i + 1} is not a request record: {msg}")]
            ) from None
    return out


ESCAPED_BAD = re.compile(r"\\u(0000|d[89a-f][0-9a-f]{2})", re.IGNORECASE)


def _check_line(line: str, number: int) -> None:
    """Refuse a records line whose text (raw or JSON-escaped) cannot be stored."""
    problem = text_problem(line)
    if problem is None and ESCAPED_BAD.search(line):
        try:
            check_value(json.loads(line), max_text=None)
        except LimitError as exc:
            problem = exc.message
        except ValueError:
            return  # not JSON: the record validation names the line
    if problem:
        raise FieldErrors([FieldError("records_jsonl", f"line {number} {problem}",
                                      "storable_text")])


def records_to_jsonl(records: list[RequestRecord], secrets: set[str] | None = None) -> str:
    """Records as JSON lines, scrubbed like the summary (``secrets``: values to
    remove wherever they appear, e.g. those found in the run's summary)."""
    return "".join(json.dumps(scrub(r.model_dump(mode="json"), secrets)) + "\n"
                   for r in records)


def url_host(summary: RunSummary) -> str:
    """``host:port`` of the benchmarked server."""
    try:
        p = urlsplit(summary.metadata.url)
        return f"{p.hostname or '?'}" + (f":{p.port}" if p.port else "")
    except ValueError:
        return "?"


def significance(a: BenchRun, b: BenchRun) -> dict[str, Any] | None:
    """Mann-Whitney U per metric and stage when both runs have their records."""
    if not a.records_jsonl or not b.records_jsonl:
        return None
    return bench_significance(parse_records(a.records_jsonl), parse_records(b.records_jsonl),
                              f"run {a.id}", f"run {b.id}")


__all__ = [
    "check_summary",
    "compare_summaries",
    "headline",
    "parse_records",
    "records_to_jsonl",
    "scrub",
    "scrub_url",
    "secret_values",
    "significance",
    "stage_label",
    "url_host",
]
