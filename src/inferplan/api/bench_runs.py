"""Benchmark runs in the service: check and scrub uploads, headline numbers, compare.

An upload is the ``summary.json`` object of an ``inferplan bench`` run
(:class:`~inferplan.bench.results.RunSummary`) and, optionally, the text of its
``records.jsonl``. Before anything is stored, every field that could hold a
credential (``api_key``, ``authorization``, ``password``, ``secret``, ``cookie``,
``access_token``, ...) is removed and URLs lose their user info and query, so the
store never holds the API key of a benchmarked server.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from inferplan.api.errors import FieldError, FieldErrors
from inferplan.api.limits import LimitError, check_value, text_problem
from inferplan.bench.compare import compare_records
from inferplan.bench.results import RequestRecord, RunSummary
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
STATS = ("mean", "p50", "p99")
LATENCY_METRICS = ("ttft_s", "tpot_s", "itl_s", "e2e_s")
RATE_METRICS = ("output_throughput_tok_per_s", "request_throughput_req_per_s",
                "goodput_req_per_s")


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


def scrub(value: Any) -> Any:
    """A copy of ``value`` without credential fields and with URLs scrubbed."""
    if isinstance(value, dict):
        return {
            k: scrub(v)
            for k, v in value.items()
            if str(k) in ALLOWED_KEYS or not SECRET_KEY.match(str(k))
        }
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return URL_IN_TEXT.sub(lambda m: scrub_url(m.group(0)), value)
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


def records_to_jsonl(records: list[RequestRecord]) -> str:
    """Records as JSON lines, scrubbed like the summary."""
    return "".join(json.dumps(scrub(r.model_dump(mode="json"))) + "\n" for r in records)


def url_host(summary: RunSummary) -> str:
    """``host:port`` of the benchmarked server."""
    try:
        p = urlsplit(summary.metadata.url)
        return f"{p.hostname or '?'}" + (f":{p.port}" if p.port else "")
    except ValueError:
        return "?"


def _stat(stage: dict[str, Any], metric: str, stat: str) -> float | None:
    v = (stage.get(metric) or {}).get(stat)
    return float(v) if isinstance(v, int | float) else None


def compare_summaries(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Mean/p50/p99 of TTFT, TPOT, ITL, E2E and the throughputs, stage by stage
    (stages matched by index): ``a``, ``b``, ``b - a`` and ``(b - a) / a``."""
    sa = {s.get("stage"): s for s in a.get("stages") or [] if isinstance(s, dict)}
    sb = {s.get("stage"): s for s in b.get("stages") or [] if isinstance(s, dict)}
    rows: list[dict[str, Any]] = []
    for idx in sorted(set(sa) & set(sb), key=lambda x: (x is None, x)):
        x, y = sa[idx], sb[idx]
        pairs: list[tuple[str, str, float | None, float | None]] = [
            (m, s, _stat(x, m, s), _stat(y, m, s)) for m in LATENCY_METRICS for s in STATS
        ]
        for m in RATE_METRICS:
            va, vb = x.get(m), y.get(m)
            pairs.append((m, "value", va if isinstance(va, int | float) else None,
                          vb if isinstance(vb, int | float) else None))
        for metric, stat, va, vb in pairs:
            diff = vb - va if va is not None and vb is not None else None
            rows.append(
                {
                    "stage": idx,
                    "label_a": stage_label(x),
                    "label_b": stage_label(y),
                    "metric": metric,
                    "stat": stat,
                    "a": va,
                    "b": vb,
                    "diff": diff,
                    "change_fraction": diff / va if diff is not None and va else None,
                }
            )
    return rows


def significance(a: BenchRun, b: BenchRun) -> dict[str, Any] | None:
    """Mann-Whitney U per metric and stage when both runs have their records."""
    if not a.records_jsonl or not b.records_jsonl:
        return None
    ra, rb = parse_records(a.records_jsonl), parse_records(b.records_jsonl)
    res = compare_records(ra, rb, 0.05, f"run {a.id}", f"run {b.id}")
    return res.model_dump(mode="json")


__all__ = [
    "check_summary",
    "compare_summaries",
    "headline",
    "parse_records",
    "records_to_jsonl",
    "scrub",
    "scrub_url",
    "significance",
    "stage_label",
    "url_host",
]
