"""Side by side with NVIDIA AIConfigurator on the published measurements both tools can predict.

Usage:
    python benchmarks/compare_aiconfigurator.py [CASES.csv] --peer-python /path/to/python [--json]

``CASES.csv`` defaults to ``../shared/validation/cases_dev.csv``. The peer (PyPI
``aiconfigurator``, 0.12) lives in its own virtualenv, never in inferplan's:
``python3 -m venv aic-venv && aic-venv/bin/pip install aiconfigurator==0.12.0``;
its interpreter comes from ``--peer-python`` or the ``INFERPLAN_PEER_PYTHON`` environment
variable. This script runs under inferplan's environment, predicts every case with
``inferplan.service.validation`` (what ``inferplan validate`` prints) and sends the cases the
peer can predict to a child process of the peer's interpreter (this same file with
``--peer-worker``: JSON requests on stdin, JSON answers on stdout; the worker imports only the
peer and the standard library). It prints one line per case, then the median absolute error of
both tools per regime and metric on the common cases, then the cases only one tool covers.

What the peer can predict (AIConfigurator 0.12.0, its ``systems/`` and ``model_configs/``):
NVIDIA GPUs with a performance database (H100 SXM, H200 SXM, A100 SXM 80 GB, L40S, B200, ...),
the engines TensorRT-LLM, vLLM and SGLang at the releases of its databases (TensorRT-LLM
1.3.0rc20, vLLM 0.24.0; on A100 1.0.0 and 0.14.0), models of the architectures it implements.
The development cases were measured on older releases (TensorRT-LLM 0.6 and 0.14, vLLM 0.5,
NIM 1.8): the peer predicts them with its database of the current release, the only one it
has, so part of its error on old rows is the change of the engine between releases.

How each regime is asked of the peer (its public ``aiconfigurator.cli.api.cli_estimate``):
- ``static_batch``: ``mode="static"`` at the case's batch, prompt and output lengths; E2E is
  its request latency, output tokens/s its ``tokens/s``, TTFT its context latency.
- ``max_throughput``: ``mode="agg"`` (its in-flight batching model) over running batches of
  16-1024 sequences with the context-token budget of its default (the prompt length) and of
  TensorRT-LLM's default ``max_num_tokens`` (8192); the best ``tokens/s`` of the points that
  fit the KV cache, which is how its own sweep answers "maximum throughput".
- ``closed_loop``: ``mode="agg"`` with the batch equal to the clients; its TTFT, TPOT (read
  as ITL) and ``tokens/s``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

PEER_ENV = "INFERPLAN_PEER_PYTHON"
PEER_PIN = "aiconfigurator==0.12.0"

# ---------------------------------------------------------------------------------------------
# Names in inferplan -> names in AIConfigurator 0.12.0
# ---------------------------------------------------------------------------------------------
PEER_SYSTEMS = {
    # inferplan accelerator id -> AIConfigurator system (same GPU, memory and bandwidth)
    "h100-sxm-80gb": "h100_sxm",
    "h200-sxm-141gb": "h200_sxm",
    "a100-sxm-80gb": "a100_sxm",
    "l40s-48gb": "l40s",
    "b200-sxm-180gb": "b200_sxm",
    # not mapped: a100-pcie-80gb (the peer lists a100_pcie but ships no database for it);
    # a100-sxm-40gb (its a100_sxm is the 80 GB part, 2.0 TB/s against 1.56); gh200 (its
    # gb200/gb300 are Blackwell); AMD, Apple, CPUs and consumer GPUs (no system file).
}
PEER_BACKENDS = {
    # inferplan engine id -> AIConfigurator backend
    "trtllm": "trtllm",
    "nim": "trtllm",  # NIM LLM's FP8 Llama profiles run TensorRT-LLM engines (case notes)
    "vllm": "vllm",
    "sglang": "sglang",
    # not mapped: llamacpp (the peer models no GGUF kernels)
}
PEER_MODELS = {
    # inferplan model id -> a model the peer ships a config.json for. Llama 3, 3.1 and 3.3 of
    # one size share every shape (layers, heads, KV heads, hidden, FFN, vocabulary); only the
    # RoPE scaling and the context limit differ, which no step time here depends on.
    "llama-3-8b": "meta-llama/Meta-Llama-3.1-8B",
    "llama-3.1-8b": "meta-llama/Meta-Llama-3.1-8B",
    "llama-3-70b": "meta-llama/Meta-Llama-3.1-70B",
    "llama-3.1-70b": "meta-llama/Meta-Llama-3.1-70B",
    "llama-3.3-70b": "meta-llama/Meta-Llama-3.1-70B",
    "llama-3.1-405b": "meta-llama/Meta-Llama-3.1-405B",
    # shipped in aiconfigurator_core/model_configs but not in its offline list: the worker
    # hands the peer that file from the peer's own package
    "mixtral-8x7b": "shipped:mistralai--Mixtral-8x7B-v0.1_config.json",
}
LLAMA_FAMILY = "llama"
"""Dense models of this catalog family the peer has no config for (Llama 2) are handed to it
as a ``LlamaForCausalLM`` config.json written from inferplan's catalog shapes (its documented
local-directory input); GPT-J's architecture is not one the peer implements."""
PEER_DTYPES = {
    # inferplan weight/KV precision -> AIConfigurator quant mode (its tables are bf16; fp16
    # runs the same tensor-core rate)
    "fp16": "bfloat16",
    "bf16": "bfloat16",
    "fp8": "fp8",
}
TRTLLM_MAX_NUM_TOKENS = 8192
"""TensorRT-LLM's default ``max_num_tokens`` (tokens per iteration), the second context-token
budget tried for max-throughput cases."""
MAX_THROUGHPUT_BATCHES = (16, 32, 64, 128, 256, 384, 512, 768, 1024)
"""Running batches tried for max throughput (the peer warns that its data thins out above
1024)."""

REGIME_OF_SCENARIO = {
    "static_batch": "static",
    "single_stream": "static",
    "max_throughput": "agg_max",
    "closed_loop": "agg",
}


# ---------------------------------------------------------------------------------------------
# Peer worker: runs under the peer's interpreter, standard library + aiconfigurator only
# ---------------------------------------------------------------------------------------------
def _peer_estimate(cache: dict[str, Any], req: dict[str, Any], batch: int,
                   ctx_tokens: int | None, mode: str) -> dict[str, Any]:
    from aiconfigurator.cli.api import cli_estimate

    kw: dict[str, Any] = dict(
        mode=mode, backend_name=req["backend"], isl=req["isl"], osl=req["osl"],
        batch_size=batch, tp_size=req["tp"], pp_size=req["pp"],
        gemm_quant_mode=req["gemm"], kvcache_quant_mode=req["kv"],
    )
    if req.get("moe"):
        kw.update(moe_tp_size=req["tp"], moe_ep_size=1, moe_quant_mode=req["gemm"])
    if ctx_tokens is not None and mode == "agg":
        kw["ctx_tokens"] = ctx_tokens
    key = json.dumps([req["model_path"], req["system"], kw], sort_keys=True)
    if key not in cache:
        try:
            r = cli_estimate(req["model_path"], req["system"], **kw)
            cache[key] = dict(
                ok=True, ttft_ms=float(r.ttft), tpot_ms=float(r.tpot),
                e2e_s=float(r.request_latency) / 1e3, tokens_per_s=float(r.tokens_per_second),
                version=str(r.backend_version), kv_fits=r.kv_cache_warning is None,
                batch=batch, ctx_tokens=ctx_tokens,
            )
        except Exception as exc:  # the peer's own refusal (OOM, no data): reported per case
            cache[key] = dict(ok=False, error=f"{type(exc).__name__}: {str(exc)[:160]}")
    return cache[key]


def _peer_model_path(req: dict[str, Any], tmp: str) -> str:
    """A HF id, or a local directory holding a config.json (the peer's two inputs)."""
    import importlib.resources

    src = req["model"]
    if isinstance(src, dict):  # config written from inferplan's catalog
        path = os.path.join(tmp, src["name"])
        config = src["config"]
    elif src.startswith("shipped:"):
        path = os.path.join(tmp, src.removeprefix("shipped:").removesuffix("_config.json"))
        shipped = importlib.resources.files("aiconfigurator_core") / "model_configs"
        config = json.loads((shipped / src.removeprefix("shipped:")).read_text())
    else:
        return str(src)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as fh:
        json.dump(config, fh)
    return path


def peer_worker() -> None:
    """Answer the JSON requests on stdin with the peer's estimates on stdout."""
    import logging
    import tempfile
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import aiconfigurator

    requests = json.load(sys.stdin)
    cache: dict[str, Any] = {}
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for req in requests:
            req["model_path"] = _peer_model_path(req, tmp)
            if req["regime"] == "static":
                ans = _peer_estimate(cache, req, req["batch"], None, "static")
            elif req["regime"] == "agg":
                ans = _peer_estimate(cache, req, req["batch"], None, "agg")
            else:  # agg_max: best tokens/s over running batches that fit the KV cache
                best: dict[str, Any] | None = None
                last_error = "no batch fits"
                budgets = sorted({req["isl"], max(req["isl"], TRTLLM_MAX_NUM_TOKENS)})
                for ctx in budgets:
                    for b in MAX_THROUGHPUT_BATCHES:
                        if req.get("max_batch") and b > req["max_batch"]:
                            break
                        if b > 1 and b - math.ceil(ctx / req["isl"]) < 1:
                            continue  # the peer needs one decoding sequence per mixed step
                        a = _peer_estimate(cache, req, b, ctx, "agg")
                        if not a["ok"] or not a["kv_fits"]:
                            last_error = a.get("error", f"batch {b} exceeds the KV cache")
                            break
                        if best is None or a["tokens_per_s"] > best["tokens_per_s"]:
                            best = a
                ans = best or dict(ok=False, error=last_error)
            out.append(dict(ans, case_id=req["case_id"]))
    json.dump(dict(peer_version=aiconfigurator.__version__ if hasattr(
        aiconfigurator, "__version__") else "", answers=out), sys.stdout)


# ---------------------------------------------------------------------------------------------
# Comparison: runs under inferplan's environment
# ---------------------------------------------------------------------------------------------
@dataclass
class Row:
    case_id: str
    group: str
    measured: float
    label: str
    inferplan: float | None = None
    peer: float | None = None
    peer_note: str = ""
    inferplan_note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def ape(self, pred: float | None) -> float | None:
        return None if pred is None else abs(pred - self.measured) / self.measured


def _llama_config(model: Any) -> dict[str, Any]:
    """A ``LlamaForCausalLM`` config.json from inferplan's catalog shapes (public configs)."""
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": model.hidden_size, "intermediate_size": model.intermediate_size,
        "num_attention_heads": model.num_attention_heads,
        "num_key_value_heads": model.num_kv_heads, "head_dim": model.head_dim,
        "num_hidden_layers": model.num_layers, "vocab_size": model.vocab_size,
        "max_position_embeddings": model.max_context, "hidden_act": "silu",
        "rms_norm_eps": 1e-5, "tie_word_embeddings": model.tie_word_embeddings,
        "torch_dtype": "float16",
    }


def peer_request(case: Any) -> tuple[dict[str, Any] | None, str]:
    """The JSON request for one case, or None and why the peer cannot predict it."""
    from inferplan.catalog import load_models
    from inferplan.errors import InferplanError

    system = PEER_SYSTEMS.get(case.hardware)
    if system is None:
        return None, f"no peer system for {case.hardware}"
    backend = PEER_BACKENDS.get(case.engine)
    if backend is None:
        return None, f"no peer backend for {case.engine}"
    regime = REGIME_OF_SCENARIO.get(case.scenario)
    if regime is None:
        return None, f"the peer models no {case.scenario} load"
    if case.scenario == "single_stream" and not case.isl:
        return None, "generation-only single stream (llama-bench) not modelled by the peer"
    gemm, kv = PEER_DTYPES.get(case.weight_dtype), PEER_DTYPES.get(case.kv_dtype or "fp16")
    if gemm is None or kv is None:
        return None, f"no peer quant mode for {case.weight_dtype}/{case.kv_dtype}"
    if case.isl is None or case.osl is None:
        return None, "lengths not given"
    model: Any = PEER_MODELS.get(case.model)
    try:
        spec = load_models().get(case.model)
    except InferplanError:
        return None, f"model {case.model} not in inferplan's catalog"
    if model is None:
        if spec.family != LLAMA_FAMILY or spec.is_moe:
            return None, f"the peer implements no architecture for {case.model}"
        model = {"name": case.model, "config": _llama_config(spec)}
    tp = case.tp or case.num_gpus
    osl = max(1, int(case.osl))
    batch = case.batch or 1
    if case.scenario == "closed_loop":
        batch = max(1, (case.concurrency or 1) // max(1, case.num_gpus // tp))
    return dict(
        case_id=case.case_id, system=system, backend=backend, model=model, regime=regime,
        isl=max(1, int(case.isl)), osl=osl, batch=batch, tp=tp, pp=1, gemm=gemm, kv=kv,
        moe=spec.is_moe, max_batch=case.concurrency if regime == "agg_max" else None,
        replicas=max(1, case.num_gpus // tp),
    ), ""


def peer_value(case: Any, req: dict[str, Any], ans: dict[str, Any]) -> float | None:
    """The peer's figure for the case's metric."""
    rep = req["replicas"]
    return {
        "e2e_latency_s": ans["e2e_s"],
        "ttft_ms": ans["ttft_ms"],
        "itl_ms": ans["tpot_ms"],
        "tpot_ms": ans["tpot_ms"],
        "output_tokens_per_s": ans["tokens_per_s"] * rep,
    }.get(case.metric)


def run_peer(peer_python: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
    proc = subprocess.run(
        [peer_python, os.path.abspath(__file__), "--peer-worker"],
        input=json.dumps(requests), capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"error: the peer worker failed: {tail}")
    return dict(json.loads(proc.stdout))


def peer_available(peer_python: str | None) -> str:
    """'' when the interpreter imports the peer, else why not (one line)."""
    how = (f"install it in its own virtualenv (python3 -m venv aic-venv && "
           f"aic-venv/bin/pip install {PEER_PIN}) and pass --peer-python or {PEER_ENV}")
    if not peer_python:
        return f"AIConfigurator not found: no --peer-python or {PEER_ENV} given; {how}"
    try:
        proc = subprocess.run([peer_python, "-c", "import aiconfigurator.cli.api"],
                              capture_output=True, text=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return f"AIConfigurator not found: cannot run {peer_python}; {how}"
    if proc.returncode != 0:
        return f"AIConfigurator not installed for {peer_python}; {how}"
    return ""


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def compare(cases_path: str, peer_python: str) -> dict[str, Any]:
    from inferplan.service.cases import read_cases
    from inferplan.service.validation import validate_cases

    cases = read_cases(cases_path)
    report = validate_cases(cases)
    ours = {r.case_id: r for r in report.cases}
    rows: dict[str, Row] = {}
    requests: list[dict[str, Any]] = []
    req_of: dict[str, dict[str, Any]] = {}
    for c in cases:
        r = ours[c.case_id]
        row = Row(c.case_id, f"{c.scenario} / {c.metric}", c.value,
                  f"{c.engine} {c.hardware} x{c.num_gpus} {c.model} {c.weight_dtype}",
                  inferplan=r.predicted, inferplan_note=r.skipped_reason or "")
        rows[c.case_id] = row
        req, why = peer_request(c)
        if req is None:
            row.peer_note = why
            continue
        requests.append(req)
        req_of[c.case_id] = req
    result = run_peer(peer_python, requests)
    by_id = {c.case_id: c for c in cases}
    versions: set[str] = set()
    for ans in result["answers"]:
        row = rows[ans["case_id"]]
        if not ans["ok"]:
            row.peer_note = ans["error"]
            continue
        row.peer = peer_value(by_id[ans["case_id"]], req_of[ans["case_id"]], ans)
        versions.add(f"{req_of[ans['case_id']]['backend']} {ans['version']}")
        if req_of[ans["case_id"]]["regime"] == "agg_max":
            row.peer_note = f"batch {ans['batch']}, ctx {ans['ctx_tokens']}"
        if isinstance(req_of[ans["case_id"]]["model"], dict):
            row.peer_note = (row.peer_note + "; " if row.peer_note else "") + "config from catalog"
    return dict(rows=list(rows.values()), peer_version=result.get("peer_version", ""),
                db_versions=sorted(versions))


def summarize(rows: list[Row]) -> dict[str, Any]:
    groups: dict[str, list[Row]] = defaultdict(list)
    common = [r for r in rows if r.inferplan is not None and r.peer is not None]
    for r in common:
        groups[r.group].append(r)

    def line(rs: list[Row]) -> dict[str, Any]:
        a = [x for x in (r.ape(r.inferplan) for r in rs) if x is not None]
        b = [x for x in (r.ape(r.peer) for r in rs) if x is not None]
        return dict(n=len(rs), inferplan_median=_median(a), peer_median=_median(b),
                    inferplan_within_25=sum(x <= 0.25 for x in a) / len(a) if a else None,
                    peer_within_25=sum(x <= 0.25 for x in b) / len(b) if b else None)

    return dict(
        by_group={k: line(v) for k, v in sorted(groups.items())},
        common=line(common),
        inferplan_only=[r.case_id for r in rows if r.inferplan is not None and r.peer is None],
        peer_only=[r.case_id for r in rows if r.peer is not None and r.inferplan is None],
        neither=[r.case_id for r in rows if r.peer is None and r.inferplan is None],
    )


def print_report(out: dict[str, Any], summary: dict[str, Any]) -> None:
    rows: list[Row] = out["rows"]
    print(f"AIConfigurator {out['peer_version']} (databases: {', '.join(out['db_versions'])})")
    print("note: inferplan's engine host times and all-reduce efficiency were fitted on "
          "cases_dev.csv, so on that file its errors are in-sample and the peer's are not")
    print(f"{'case':18} {'regime / metric':36} {'measured':>10} {'inferplan':>10} {'err':>7} "
          f"{'AIConfig.':>10} {'err':>7}  case / peer note")
    for r in rows:
        if r.peer is None and r.inferplan is None:
            continue
        ip = "-" if r.inferplan is None else f"{r.inferplan:10.4g}"
        pp = "-" if r.peer is None else f"{r.peer:10.4g}"
        print(f"{r.case_id:18} {r.group:36} {r.measured:10.4g} {ip:>10} "
              f"{_pct(r.ape(r.inferplan)):>7} {pp:>10} {_pct(r.ape(r.peer)):>7}  "
              f"{r.label}{' | ' + r.peer_note if r.peer_note else ''}")
    print()
    print(f"{'common cases: regime / metric':44} {'cases':>5} {'inferplan':>10} "
          f"{'AIConfig.':>10} {'<=25% ip':>9} {'<=25% AIC':>10}")
    items = [*summary["by_group"].items(), ("all common cases", summary["common"])]
    for k, g in items:
        print(f"{k:44} {g['n']:5d} {_pct(g['inferplan_median']):>10} "
              f"{_pct(g['peer_median']):>10} {_pct(g['inferplan_within_25']):>9} "
              f"{_pct(g['peer_within_25']):>10}")
    print()
    print(f"inferplan only: {len(summary['inferplan_only'])} cases "
          f"({_reasons(rows, summary['inferplan_only'])})")
    print(f"AIConfigurator only: {len(summary['peer_only'])} cases "
          f"{' '.join(summary['peer_only'])}".rstrip())
    if summary["neither"]:
        print(f"neither: {len(summary['neither'])} cases {' '.join(summary['neither'])}")


def _reasons(rows: list[Row], ids: list[str]) -> str:
    why: dict[str, int] = defaultdict(int)
    wanted = set(ids)
    for r in rows:
        if r.case_id in wanted:
            why[r.peer_note.split(":")[0] if r.peer_note else "?"] += 1
    return "; ".join(f"{n} {k}" for k, n in sorted(why.items(), key=lambda kv: -kv[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="?", default="../shared/validation/cases_dev.csv")
    ap.add_argument("--peer-python", default=os.environ.get(PEER_ENV))
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ap.add_argument("--json-out", help="also write the JSON to this file")
    args = ap.parse_args(argv)
    why = peer_available(args.peer_python)
    if why:
        print(why)
        return 2
    from inferplan.errors import InferplanError

    try:
        out = compare(args.cases, args.peer_python)
    except InferplanError as exc:
        print(f"error: {exc}")
        return 2
    summary = summarize(out["rows"])
    doc = json.dumps(dict(
        peer_version=out["peer_version"], db_versions=out["db_versions"], summary=summary,
        cases=[dict(case_id=r.case_id, group=r.group, label=r.label, measured=r.measured,
                    inferplan=r.inferplan, peer=r.peer, peer_note=r.peer_note)
               for r in out["rows"]]), indent=1)
    if args.json_out:
        with open(args.json_out, "w") as fh:
            fh.write(doc)
    if args.json:
        print(doc)
    else:
        print_report(out, summary)
    return 0


if __name__ == "__main__":
    if "--peer-worker" in sys.argv[1:]:
        peer_worker()
    else:
        sys.exit(main())
