"""The server side: detect the engine, scrape Prometheus ``/metrics``, record metadata.

Detection reads public, side-effect-free endpoints (each a GET with a short
timeout) and trusts the most specific evidence first:

1. ``/metrics`` metric-name prefixes: ``vllm:`` (vLLM), ``sglang:`` (SGLang,
   with ``--enable-metrics``), ``tgi_`` (TGI), ``llamacpp:`` (llama.cpp server with
   ``--metrics``); a JSON body is TensorRT-LLM's ``trtllm-serve`` iteration stats
   (https://nvidia.github.io/TensorRT-LLM/commands/trtllm-serve.html);
2. ``/api/version`` (Ollama), ``/get_server_info`` (SGLang), ``/info`` with
   ``model_id`` (TGI), ``/props`` with ``default_generation_settings`` (llama.cpp),
   the OpenAPI title "llama.cpp Python API" (llama-cpp-python);
3. ``/v1/models`` ``owned_by`` (``vllm``, ``sglang``, ``llamacpp``), then ``/version``
   (vLLM).

Metric names per engine are those listed in the vLLM, SGLang, TGI and llama.cpp
server documentation (summarised in inferplan's measuring notes). Counters and
histograms are differenced between the scrapes before and after a stage; gauges
keep the value after.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx

PROBE_PATHS = (
    "/metrics",
    "/version",
    "/v1/models",
    "/props",
    "/info",
    "/get_server_info",
    "/api/version",
    "/openapi.json",
)
PROBE_BODY_LIMIT = 2_000_000


class Engine(StrEnum):
    """Serving engines inferplan recognises."""

    VLLM = "vllm"
    SGLANG = "sglang"
    TGI = "tgi"
    LLAMA_CPP = "llama.cpp"
    LLAMA_CPP_PYTHON = "llama-cpp-python"
    OLLAMA = "ollama"
    TENSORRT_LLM = "tensorrt-llm"
    UNKNOWN = "unknown"


METRIC_PREFIXES = {
    "vllm:": Engine.VLLM,
    "sglang:": Engine.SGLANG,
    "tgi_": Engine.TGI,
    "llamacpp:": Engine.LLAMA_CPP,
}
OWNED_BY = {"vllm": Engine.VLLM, "sglang": Engine.SGLANG, "llamacpp": Engine.LLAMA_CPP}
IGNORE_EOS_ENGINES = frozenset({Engine.VLLM, Engine.SGLANG, Engine.LLAMA_CPP})
"""Engines whose OpenAI endpoints accept ``ignore_eos`` (vLLM and SGLang sampling
parameters, llama.cpp server ``/completion`` options)."""


@dataclass
class ServerInfo:
    """What the probes found."""

    engine: Engine = Engine.UNKNOWN
    engine_version: str | None = None
    evidence: str | None = None
    models: list[str] = field(default_factory=list)
    max_context_tokens: int | None = None
    metrics_available: bool = False
    reachable: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    """HTTP status of each probe path that answered."""
    html_paths: list[str] = field(default_factory=list)
    """Probe paths that answered with an HTML page (a web site or proxy, not an API)."""


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


async def _get(http: httpx.AsyncClient, url: str, timeout_s: float) -> tuple[int, str] | None:
    try:
        resp = await http.get(url, timeout=timeout_s)
    except httpx.HTTPError:
        return None
    return resp.status_code, resp.text[:PROBE_BODY_LIMIT]


async def probe_server(
    http: httpx.AsyncClient, base_url: str, timeout_s: float = 3.0
) -> ServerInfo:
    """GET the probe endpoints concurrently and infer engine, version, models, context."""
    base = base_url.rstrip("/")
    answers = await asyncio.gather(*(_get(http, base + p, timeout_s) for p in PROBE_PATHS))
    got: dict[str, Any] = {}
    info = ServerInfo()
    for path, answer in zip(PROBE_PATHS, answers, strict=True):
        if answer is None:
            continue
        info.reachable = True
        status, text = answer
        info.statuses[path] = status
        if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
            info.html_paths.append(path)
        if 200 <= status < 300:
            got[path] = text if path == "/metrics" else _json(text)
    models = got.get("/v1/models")
    entries = models.get("data") if isinstance(models, dict) else None
    if isinstance(entries, list):
        info.models = [str(m.get("id")) for m in entries if isinstance(m, dict) and m.get("id")]
        first = entries[0] if entries and isinstance(entries[0], dict) else {}
        if isinstance(first.get("max_model_len"), int):
            info.max_context_tokens = first["max_model_len"]
    _detect(info, got, first if isinstance(entries, list) and entries else {})
    return info


def _detect(info: ServerInfo, got: dict[str, Any], first_model: dict[str, Any]) -> None:
    metrics = got.get("/metrics")
    if isinstance(metrics, str):
        stripped = metrics.lstrip()
        if stripped[:1] in ("[", "{"):
            info.engine, info.evidence = Engine.TENSORRT_LLM, "/metrics returns JSON"
        else:
            names = {
                ln.split("{", 1)[0].split(" ", 1)[0]
                for ln in metrics.splitlines()
                if ln and ln[0] != "#"
            }
            for prefix, engine in METRIC_PREFIXES.items():
                if any(n.startswith(prefix) for n in names):
                    info.engine, info.evidence = engine, f"/metrics names start with {prefix}"
                    info.metrics_available = True
                    break
    props, tgi, sgl, ollama = (
        got.get(p) for p in ("/props", "/info", "/get_server_info", "/api/version")
    )
    openapi, version = got.get("/openapi.json"), got.get("/version")
    if info.engine is Engine.UNKNOWN:
        if isinstance(ollama, dict) and "version" in ollama:
            info.engine, info.evidence = Engine.OLLAMA, "/api/version"
        elif isinstance(sgl, dict):
            info.engine, info.evidence = Engine.SGLANG, "/get_server_info"
        elif isinstance(tgi, dict) and "model_id" in tgi:
            info.engine, info.evidence = Engine.TGI, "/info model_id"
        elif isinstance(props, dict) and "default_generation_settings" in props:
            info.engine, info.evidence = Engine.LLAMA_CPP, "/props"
        elif isinstance(openapi, dict) and "llama.cpp" in str(openapi.get("info", {}).get("title")):
            info.engine, info.evidence = Engine.LLAMA_CPP_PYTHON, "/openapi.json title"
        elif str(first_model.get("owned_by")) in OWNED_BY:
            owner = str(first_model.get("owned_by"))
            info.engine, info.evidence = OWNED_BY[owner], f"/v1/models owned_by={owner}"
        elif isinstance(version, dict) and "version" in version:
            info.engine, info.evidence = Engine.VLLM, "/version"
    engine = info.engine
    if engine in (Engine.VLLM, Engine.TENSORRT_LLM) and isinstance(version, dict):
        info.engine_version = str(version.get("version"))
    elif engine is Engine.OLLAMA and isinstance(ollama, dict):
        info.engine_version = str(ollama.get("version"))
    elif engine is Engine.SGLANG and isinstance(sgl, dict):
        info.engine_version = str(sgl.get("version")) if sgl.get("version") else None
        ctx = sgl.get("context_length")
        info.max_context_tokens = info.max_context_tokens or (ctx if isinstance(ctx, int) else None)
    elif engine is Engine.TGI and isinstance(tgi, dict):
        info.engine_version = str(tgi.get("version"))
        ctx = tgi.get("max_total_tokens")
        info.max_context_tokens = info.max_context_tokens or (ctx if isinstance(ctx, int) else None)
    elif engine is Engine.LLAMA_CPP and isinstance(props, dict):
        info.engine_version = str(props.get("build_info")) if props.get("build_info") else None
        settings = props.get("default_generation_settings")
        ctx = settings.get("n_ctx") if isinstance(settings, dict) else props.get("n_ctx")
        info.max_context_tokens = info.max_context_tokens or (ctx if isinstance(ctx, int) else None)
    elif engine is Engine.LLAMA_CPP_PYTHON and isinstance(openapi, dict):
        info.engine_version = str(openapi.get("info", {}).get("version"))
    for key, value in (("props", props), ("info", tgi), ("server_info", sgl)):
        if isinstance(value, dict):
            info.details[key] = {k: v for k, v in value.items() if isinstance(v, str | int | float)}


# --- Prometheus text exposition format -------------------------------------
# https://prometheus.io/docs/instrumenting/exposition_formats/ (text format 0.0.4)

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?\s*$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')


@dataclass
class MetricsSnapshot:
    """One scrape: sample values keyed ``name{label="v",...}`` and declared types."""

    values: dict[str, float] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)


def parse_prometheus(text: str) -> MetricsSnapshot:
    """Parse the text exposition format; unparsable lines are skipped.

    >>> parse_prometheus('# TYPE a counter\\na_total{x="1"} 3\\n').values
    {'a_total{x="1"}': 3.0}
    """
    snap = MetricsSnapshot()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                snap.types[parts[2]] = parts[3]
            continue
        m = _SAMPLE.match(line)
        if m is None:
            continue
        name, labels, value = m.group(1), m.group(2), m.group(3)
        try:
            number = float(value)
        except ValueError:
            continue
        if labels:
            pairs = sorted(_LABEL.findall(labels))
            key = name + "{" + ",".join(f'{k}="{v}"' for k, v in pairs) + "}"
        else:
            key = name
        snap.values[key] = number
    return snap


def _family(name: str, types: dict[str, str]) -> str:
    for suffix in ("_bucket", "_sum", "_count", "_total", "_created"):
        if name.endswith(suffix) and name[: -len(suffix)] in types:
            return name[: -len(suffix)]
    return name


def metrics_delta(before: MetricsSnapshot, after: MetricsSnapshot) -> dict[str, float]:
    """Counters, histograms and summaries: after - before; gauges: the value after."""
    out: dict[str, float] = {}
    for key, value in after.values.items():
        name = key.split("{", 1)[0]
        kind = after.types.get(_family(name, after.types), "untyped")
        cumulative = kind in ("counter", "histogram", "summary") or name.endswith("_total")
        if name.endswith("_created"):
            continue
        if cumulative and not (kind == "summary" and "quantile=" in key):
            out[key] = value - before.values.get(key, 0.0)
        else:
            out[key] = value
    return out


def _total(delta: dict[str, float], name: str) -> float | None:
    """Sum of one metric over all its label sets (``None`` when absent)."""
    hits = [v for k, v in delta.items() if k == name or k.startswith(name + "{")]
    return sum(hits) if hits else None


def _first(delta: dict[str, float], *names: str) -> float | None:
    for name in names:
        value = _total(delta, name)
        if value is not None:
            return value
    return None


def _hist_mean(delta: dict[str, float], *bases: str) -> float | None:
    for base in bases:
        total, count = _total(delta, base + "_sum"), _total(delta, base + "_count")
        if total is not None and count:
            return total / count
    return None


def derive_server_metrics(engine: Engine, delta: dict[str, float]) -> dict[str, float]:
    """Engine-neutral names (tokens, s, fractions) from a metrics delta."""
    out: dict[str, float | None] = {}
    if engine is Engine.VLLM or engine is Engine.SGLANG:
        p = "vllm:" if engine is Engine.VLLM else "sglang:"
        out["prompt_tokens"] = _first(delta, p + "prompt_tokens_total")
        out["generation_tokens"] = _first(delta, p + "generation_tokens_total")
        out["ttft_mean_s"] = _hist_mean(delta, p + "time_to_first_token_seconds")
        out["e2e_mean_s"] = _hist_mean(delta, p + "e2e_request_latency_seconds")
        out["itl_mean_s"] = _hist_mean(
            delta, p + "inter_token_latency_seconds", p + "time_per_output_token_seconds"
        )
        out["queue_mean_s"] = _hist_mean(delta, p + "request_queue_time_seconds")
        out["prefill_mean_s"] = _hist_mean(delta, p + "request_prefill_time_seconds")
        out["decode_mean_s"] = _hist_mean(delta, p + "request_decode_time_seconds")
        out["preemptions"] = _first(delta, p + "num_preemptions_total")
        out["requests_success"] = _first(delta, p + "request_success_total")
        hits = _first(delta, p + "prefix_cache_hits_total", p + "prefix_cache_hits")
        queries = _first(delta, p + "prefix_cache_queries_total", p + "prefix_cache_queries")
        out["prefix_cache_hit_fraction"] = hits / queries if hits is not None and queries else None
        out["kv_cache_usage_fraction"] = _first(
            delta, p + "kv_cache_usage_perc", p + "gpu_cache_usage_perc", p + "token_usage"
        )
    elif engine is Engine.TGI:
        out["prompt_tokens"] = _first(delta, "tgi_request_input_length_sum")
        out["generation_tokens"] = _first(delta, "tgi_request_generated_tokens_sum")
        out["e2e_mean_s"] = _hist_mean(delta, "tgi_request_duration")
        out["queue_mean_s"] = _hist_mean(delta, "tgi_request_queue_duration")
        out["itl_mean_s"] = _hist_mean(delta, "tgi_request_mean_time_per_token_duration")
        out["requests_success"] = _first(delta, "tgi_request_success")
    elif engine is Engine.LLAMA_CPP:
        prompt_n = _first(delta, "llamacpp:prompt_tokens_total")
        gen_n = _first(delta, "llamacpp:tokens_predicted_total")
        prompt_s = _first(delta, "llamacpp:prompt_seconds_total")
        gen_s = _first(delta, "llamacpp:tokens_predicted_seconds_total")
        out["prompt_tokens"], out["generation_tokens"] = prompt_n, gen_n
        out["prefill_tok_per_s"] = prompt_n / prompt_s if prompt_n and prompt_s else None
        out["decode_tok_per_s"] = gen_n / gen_s if gen_n and gen_s else None
    return {k: float(v) for k, v in out.items() if v is not None}


async def scrape_metrics(
    http: httpx.AsyncClient, base_url: str, timeout_s: float = 5.0
) -> MetricsSnapshot | None:
    """One scrape of ``/metrics``, or ``None`` when there is none."""
    answer = await _get(http, base_url.rstrip("/") + "/metrics", timeout_s)
    if answer is None or not 200 <= answer[0] < 300 or answer[1].lstrip()[:1] in ("[", "{"):
        return None
    return parse_prometheus(answer[1])


# --- client and host metadata ----------------------------------------------


def is_loopback(url: str) -> bool:
    """True when ``url`` targets this machine (127.0.0.0/8, ::1, localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    return host == "localhost" or host.startswith("127.") or host == "::1"


def cpu_model() -> str | None:
    """The first ``model name`` in ``/proc/cpuinfo`` (Linux), else the platform's."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def local_gpus(timeout_s: float = 3.0) -> list[dict[str, str]]:
    """NVIDIA GPUs visible to ``nvidia-smi`` on this host (empty when none)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    gpus = []
    for line in out.stdout.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            gpus.append({"name": parts[0], "memory": parts[1], "driver": parts[2]})
    return gpus


def client_metadata(target_url: str) -> dict[str, Any]:
    """The benchmark host: OS, Python, CPU, versions; local GPUs when the server is local."""
    from inferplan import __version__

    meta: dict[str, Any] = {
        "inferplan_version": __version__,
        "httpx_version": httpx.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "server_is_local": is_loopback(target_url),
    }
    if meta["server_is_local"]:
        meta["local_gpus"] = local_gpus()
    return meta
