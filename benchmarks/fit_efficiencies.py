"""Fit the step-time model's few physical efficiency parameters to validation cases.

Usage: python benchmarks/fit_efficiencies.py ../shared/validation/cases_dev.csv

Fits parameters shared by every accelerator and model (GEMM efficiency and its
token/width ramps, weight and KV bandwidth efficiency, attention efficiency,
all-reduce efficiency and latency) plus each engine's fixed overheads, by
minimising a robust loss of log(predicted / measured) (low-trust rows weigh half).
Prints the fitted values to copy into src/inferplan/catalog/data/engines.yaml.
Never per-case corrections.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
from scipy.optimize import minimize

from inferplan.catalog import load_engines
from inferplan.errors import InferplanError
from inferplan.service.cases import read_cases
from inferplan.service.validation import predict_case
from inferplan.specs.engine import EngineEfficiency

# (name, lower, upper, start)
GLOBAL = [
    ("gemm_efficiency", 0.3, 1.0, 0.744),
    ("gemm_half_tokens", 0.0, 512.0, 17.6),
    ("gemm_half_width", 0.0, 2048.0, 32.0),
    ("bandwidth_efficiency", 0.5, 0.95, 0.797),
    ("kv_bandwidth_efficiency", 0.2, 0.95, 0.754),
    ("attention_efficiency", 0.1, 0.75, 0.7),
    ("comm_efficiency", 0.2, 1.0, 0.42),
    ("allreduce_latency_s", 1e-6, 30e-6, 25e-6),
]
PER_ENGINE = {
    "trtllm": [("step_overhead_s", 0.0, 20e-3, 3.2e-3), ("seq_overhead_s", 0.0, 100e-6, 6e-6)],
    "vllm": [("step_overhead_s", 0.0, 20e-3, 3.3e-3), ("seq_overhead_s", 0.0, 100e-6, 22e-6)],
    "nim": [("step_overhead_s", 0.0, 20e-3, 1e-3), ("seq_overhead_s", 0.0, 100e-6, 5e-6)],
    "llamacpp": [
        ("step_overhead_s", 0.0, 20e-3, 2.75e-3),
        ("layer_overhead_s", 0.0, 200e-6, 37e-6),
        ("quantized_bandwidth_efficiency", 0.3, 1.0, 0.95),
    ],
}
TRUST_WEIGHT = {"high": 1.0, "medium": 1.0, "low": 0.5}


def unpack(x: np.ndarray) -> dict[str, EngineEfficiency]:
    names = [n for n, *_ in GLOBAL]
    glob = dict(zip(names, x[: len(GLOBAL)], strict=True))
    out, i = {}, len(GLOBAL)
    for eng in load_engines():
        base = eng.efficiency.model_dump()
        base.update(glob)
        for name, *_ in PER_ENGINE.get(eng.id, []):
            base[name] = x[i]
            i += 1
        out[eng.id] = EngineEfficiency(**base)
    return out


def bounds() -> list[tuple[float, float]]:
    b = [(lo, hi) for _, lo, hi, _ in GLOBAL]
    for eng in load_engines():
        b += [(lo, hi) for _, lo, hi, _ in PER_ENGINE.get(eng.id, [])]
    return b


def start() -> np.ndarray:
    s = [v for *_, v in GLOBAL]
    for eng in load_engines():
        s += [v for *_, v in PER_ENGINE.get(eng.id, [])]
    return np.array(s)


def to_params(u: np.ndarray) -> np.ndarray:
    """Map the optimiser's unit cube onto each parameter's physical range."""
    lo, hi = np.array(bounds()).T
    return lo + np.clip(u, 0.0, 1.0) * (hi - lo)


def to_unit(x: np.ndarray) -> np.ndarray:
    lo, hi = np.array(bounds()).T
    return (x - lo) / (hi - lo)


def loss(u: np.ndarray, cases: list) -> float:  # type: ignore[type-arg]
    try:
        effs = unpack(to_params(u))
    except ValueError:
        return 1e9
    total, wsum = 0.0, 0.0
    for c in cases:
        try:
            p = predict_case(c, effs).value
        except InferplanError:
            continue
        r = abs(math.log(p / c.value))
        w = TRUST_WEIGHT.get(c.trust, 1.0)
        total += w * (r * r if r < 0.25 else 0.5 * r - 0.0625)  # Huber on log-ratio
        wsum += w
    return total / wsum


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    cases = read_cases(args[0] if args else "../shared/validation/cases_dev.csv")
    if "--fast" in sys.argv:
        # simulated regimes are slow to evaluate thousands of times
        cases = [c for c in cases if c.scenario not in ("closed_loop", "server")]
    t0 = time.perf_counter()
    u0 = to_unit(start())
    print(f"start loss {loss(u0, cases):.5f}")
    res = minimize(
        loss,
        u0,
        args=(cases,),
        method="Nelder-Mead",
        options={"maxfev": int(args[1]) if len(args) > 1 else 3000, "adaptive": True},
    )
    print(
        f"final loss {res.fun:.5f} after {res.nfev} evaluations, {time.perf_counter() - t0:.0f} s"
    )
    x = to_params(res.x)
    names = [n for n, *_ in GLOBAL]
    print("global:", {n: float(f"{v:.4g}") for n, v in zip(names, x, strict=False)})
    i = len(GLOBAL)
    for eng in load_engines():
        params = PER_ENGINE.get(eng.id, [])
        print(eng.id, {n: float(f"{v:.4g}") for (n, *_), v in zip(params, x[i:], strict=False)})
        i += len(params)


if __name__ == "__main__":
    main()
