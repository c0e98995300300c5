"""Do two runs differ beyond noise? Mann-Whitney U per latency metric and stage.

The two-sided Mann-Whitney U test (Mann & Whitney 1947, "On a test of whether
one of two random variables is stochastically larger than the other", Ann. Math.
Statist. 18(1):50-60) compares per-request distributions without assuming a
shape; it is computed by ``scipy.stats.mannwhitneyu``. Small samples without ties
use the exact null distribution of U; otherwise the normal approximation with
continuity and tie correction, variance
``n1 n2 / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1)))`` (Lehmann, "Nonparametrics:
Statistical Methods Based on Ranks", 1975, eq. 1.28).

ITL gaps within one request are not independent, so their p-value is a guide
only. Each metric is tested at ``alpha`` on its own (no multiple-test correction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from inferplan.bench.results import (
    METADATA_FILE,
    RECORDS_FILE,
    WORKER_RECORDS_GLOB,
    Phase,
    RequestRecord,
    RunMetadata,
    read_records,
    read_run_records,
)
from inferplan.errors import SpecError

EXACT_MAX_TOTAL = 40
"""Largest n1 + n2 for the exact null distribution of U (no ties)."""
METRICS = ("ttft_s", "tpot_s", "e2e_s", "itl_s")


def rank_average(values: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """1-based ranks with ties averaged, and the sizes of the tie groups (> 1)."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    ranks = np.empty(len(values), dtype=float)
    ties: list[int] = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_vals[j + 1] == sorted_vals[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j + 2) / 2.0
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, str]:
    """``(U_a, two-sided p, method)``; U_a counts pairs with a > b (ties half).

    >>> mann_whitney_u([1, 2, 3], [4, 5, 6])
    (0.0, 0.1, 'exact')
    """
    from scipy.stats import mannwhitneyu

    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan, "none"
    _, ties = rank_average(np.concatenate([x, y]))
    method = "exact" if not ties and n1 + n2 <= EXACT_MAX_TOTAL else "normal"
    res = mannwhitneyu(x, y, alternative="two-sided", use_continuity=True,
                       method="exact" if method == "exact" else "asymptotic")
    p = float(res.pvalue)
    if math.isnan(p):  # every value equal: no evidence of a difference
        p = 1.0
    return float(res.statistic), round(min(1.0, p), 12), method


class MetricComparison(BaseModel):
    """One metric of one stage in runs A and B (values in s)."""

    stage: int
    metric: str
    n_a: int
    n_b: int
    median_a: float | None
    median_b: float | None
    change_fraction: float | None
    prob_a_greater: float | None
    p_value: float | None
    method: str
    significant: bool
    verdict: str


class ComparisonResult(BaseModel):
    """All metric comparisons of two runs, and what makes them less than comparable."""

    run_a: str
    run_b: str
    alpha: float
    metrics: list[MetricComparison]
    differs: bool
    warnings: list[str] = []


LOAD_KEYS = ("concurrency", "rate", "arrival", "gamma_shape", "max_concurrency", "trace",
             "trace_speedup")
LENGTH_KEYS = ("isl", "osl", "shared_prefix_tokens")


def comparability(a: RunMetadata | None, b: RunMetadata | None) -> tuple[list[str], list[str]]:
    """``(blocking, warnings)``: differences that make a comparison meaningless (the
    offered load, the requested lengths, the API endpoint) and ones a reader must
    know (model, engine or version, server URL, EOS handling, workers).

    >>> from inferplan.bench.results import RunMetadata as M
    >>> a = M(started_at="", url="http://a", endpoint="chat", model="m",
    ...       config={"concurrency": [4], "isl": "128", "osl": "128"})
    >>> b = a.model_copy(update={"config": {"concurrency": [8], "isl": "128", "osl": "128"},
    ...                          "engine_version": "0.6"})
    >>> comparability(a, b)
    (['load: concurrency [4] vs [8]'], ['engine version None vs 0.6'])
    """
    if a is None or b is None:
        return [], ["run.json missing for a run: load, lengths and model cannot be checked"]
    blocking: list[str] = []
    warnings: list[str] = []
    for key in LOAD_KEYS:
        va, vb = a.config.get(key), b.config.get(key)
        if va != vb:
            blocking.append(f"load: {key} {va} vs {vb}")
    for key in LENGTH_KEYS:
        va, vb = a.config.get(key), b.config.get(key)
        if va != vb:
            blocking.append(f"lengths: {key} {va} vs {vb}")
    if a.endpoint != b.endpoint:
        blocking.append(f"endpoint {a.endpoint} vs {b.endpoint}")
    if a.model != b.model:
        warnings.append(f"model {a.model} vs {b.model}")
    if a.engine != b.engine:
        warnings.append(f"engine {a.engine} vs {b.engine}")
    elif a.engine_version != b.engine_version:
        warnings.append(f"engine version {a.engine_version} vs {b.engine_version}")
    if a.url != b.url:
        warnings.append(f"server {a.url} vs {b.url}")
    eos_a, eos_b = a.server_info.get("ignore_eos_sent"), b.server_info.get("ignore_eos_sent")
    if eos_a != eos_b:
        warnings.append(f"ignore_eos sent {eos_a} vs {eos_b} (output lengths may differ)")
    wa, wb = a.config.get("workers", 1), b.config.get("workers", 1)
    if wa != wb:
        warnings.append(f"client workers {wa} vs {wb}")
    return blocking, warnings


def _values(records: list[RequestRecord], stage: int, metric: str) -> list[float]:
    ok = [r for r in records if r.phase is Phase.MEASURE and r.stage == stage and r.ok]
    if metric == "itl_s":
        return [g for r in ok for g in r.itl_gaps_s()[0]]
    return [v for r in ok if (v := getattr(r, metric)) is not None]


def compare_records(
    a: list[RequestRecord],
    b: list[RequestRecord],
    alpha: float = 0.05,
    name_a: str = "A",
    name_b: str = "B",
) -> ComparisonResult:
    """Compare every stage present in both runs, metric by metric."""
    if not 0 < alpha < 1:
        raise SpecError("alpha", "allowed: a number between 0 and 1, e.g. 0.05")
    stages = sorted(
        {r.stage for r in a if r.phase is Phase.MEASURE}
        & {r.stage for r in b if r.phase is Phase.MEASURE}
    )
    rows: list[MetricComparison] = []
    for stage in stages:
        for metric in METRICS:
            va, vb = _values(a, stage, metric), _values(b, stage, metric)
            med_a = float(np.median(va)) if va else None
            med_b = float(np.median(vb)) if vb else None
            u, p, method = mann_whitney_u(va, vb)
            valid = not math.isnan(p)
            change = (med_b - med_a) / med_a if med_a and med_b is not None else None
            significant = valid and p < alpha
            if not valid:
                verdict = "no data"
            elif significant and med_a is not None and med_b is not None:
                verdict = "B higher" if med_b > med_a else "B lower"
            else:
                verdict = "same within noise"
            rows.append(
                MetricComparison(
                    stage=stage,
                    metric=metric,
                    n_a=len(va),
                    n_b=len(vb),
                    median_a=med_a,
                    median_b=med_b,
                    change_fraction=change,
                    prob_a_greater=u / (len(va) * len(vb)) if valid else None,
                    p_value=p if valid else None,
                    method=method,
                    significant=significant,
                    verdict=verdict,
                )
            )
    return ComparisonResult(
        run_a=name_a,
        run_b=name_b,
        alpha=alpha,
        metrics=rows,
        differs=any(r.significant for r in rows),
    )


def load_run_records(path: Path, field: str) -> list[RequestRecord]:
    """Records of a run folder (or a ``records.jsonl`` path)."""
    if path.is_dir():
        if not (path / RECORDS_FILE).is_file() and not any(path.glob(WORKER_RECORDS_GLOB)):
            raise SpecError(field, f"{path} is neither a run folder nor a {RECORDS_FILE} file")
        return read_run_records(path)
    if not path.is_file():
        raise SpecError(field, f"{path} is neither a run folder nor a {RECORDS_FILE} file")
    return read_records(path)


def load_run_metadata(path: Path) -> RunMetadata | None:
    """``run.json`` of a run folder (or of the folder of a ``records.jsonl``), if any."""
    folder = path if path.is_dir() else path.parent
    meta = folder / METADATA_FILE
    if not meta.is_file():
        return None
    try:
        return RunMetadata.model_validate_json(meta.read_text(encoding="utf-8"))
    except ValueError:
        return None


def compare_runs(
    a: Path, b: Path, alpha: float = 0.05, allow_different: bool = False
) -> ComparisonResult:
    """Load two runs, check they are comparable, and compare them.

    Runs that differ in offered load, requested lengths or endpoint are refused
    (:class:`SpecError`) unless ``allow_different``; other differences become warnings.
    """
    blocking, warnings = comparability(load_run_metadata(a), load_run_metadata(b))
    if blocking and not allow_different:
        raise SpecError(
            "run_b", "the runs are not comparable: " + "; ".join(blocking)
            + " (--allow-different compares them anyway)"
        )
    result = compare_records(
        load_run_records(a, "run_a"), load_run_records(b, "run_b"), alpha, str(a), str(b)
    )
    result.warnings = [*(f"not comparable: {x}" for x in blocking), *warnings]
    return result
