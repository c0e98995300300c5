"""Measure this host's sustained memory bandwidth and fp32 GEMM rate (numpy only).

Prints the CPU model (from ``/proc/cpuinfo``), the logical CPU count, the best
memory bandwidth of STREAM-like kernels and the best fp32 GEMM rate.

Method (best of ``--runs`` repetitions each, after one warm-up):

* Memory: float64 arrays of ``--array-bytes`` each (default 1e9 bytes), far larger
  than any cache, split into one contiguous slice per thread (``--threads``, default
  every logical CPU; numpy releases the GIL inside ufunc loops, so the slices run in
  parallel). Bytes are counted the STREAM way (McCalpin, "STREAM: Sustainable
  Memory Bandwidth in High Performance Computers", https://www.cs.virginia.edu/stream/):
  each array element read or written once counts 8 bytes; write-allocate traffic
  is not counted.

  - copy:  ``a[:] = b``            -> 2 x 8 B per element
  - add:   ``a[:] = b + c``        -> 3 x 8 B per element
  - triad: ``a[:] = b + s * c``    -> numpy needs two passes (``a = s*c``;
    ``a += b``), which move 5 x 8 B per element; that real traffic is counted, so
    the figure is comparable with the single-pass kernels.

* Compute: ``numpy.matmul`` of two float32 ``--gemm-n`` x ``--gemm-n`` matrices
  (default 4096); FLOP = 2 n^3 (one multiply and one add per inner-product term).

Usage::

    python benchmarks/measure_host.py            # ~1 GB arrays, 4096 GEMM, 5 runs
    python benchmarks/measure_host.py --runs 3 --array-bytes 2e8
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

FLOAT64_BYTES = 8


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The first ``model name`` in ``/proc/cpuinfo`` (``unknown`` where absent)."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU feature flags of the first processor in ``/proc/cpuinfo``."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def best_time_s(fn: Callable[[], object], runs: int) -> float:
    """Shortest wall time in seconds of ``runs`` calls of ``fn`` after one warm-up."""
    fn()
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_memory_bandwidth(array_bytes: float, runs: int, threads: int) -> dict[str, float]:
    """Best bandwidth in bytes/s of the copy, add and triad kernels (see module doc)."""
    n = int(array_bytes // FLOAT64_BYTES)
    a = np.zeros(n)
    b = np.full(n, 1.0)
    c = np.full(n, 2.0)
    scalar = 3.0
    bounds = np.linspace(0, n, threads + 1).astype(int)
    slices = [slice(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]

    def copy(s: slice) -> None:
        np.copyto(a[s], b[s])

    def add(s: slice) -> None:
        np.add(b[s], c[s], out=a[s])

    def triad(s: slice) -> None:
        np.multiply(c[s], scalar, out=a[s])
        np.add(a[s], b[s], out=a[s])

    element_bytes = {
        "copy": 2 * FLOAT64_BYTES,
        "add": 3 * FLOAT64_BYTES,
        "triad": 5 * FLOAT64_BYTES,
    }
    kernels: dict[str, Callable[[slice], None]] = {"copy": copy, "add": add, "triad": triad}
    out: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for name, kernel in kernels.items():

            def run_all(kernel: Callable[[slice], None] = kernel) -> None:
                list(pool.map(kernel, slices))

            out[name] = element_bytes[name] * n / best_time_s(run_all, runs)
    if not np.allclose(a[:8], b[:8] + scalar * c[:8]):
        raise RuntimeError("triad result is wrong")
    return out


def measure_gemm_flops(n: int, runs: int) -> float:
    """Best fp32 GEMM rate in FLOP/s of ``numpy.matmul`` on n x n matrices (2 n^3 FLOP)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, n), dtype=np.float32)
    y = rng.standard_normal((n, n), dtype=np.float32)
    z = np.empty((n, n), dtype=np.float32)

    def gemm() -> None:
        np.matmul(x, y, out=z)

    return 2.0 * n**3 / best_time_s(gemm, runs)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run both measurements and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--array-bytes", type=float, default=1e9, help="bytes per array")
    ap.add_argument("--gemm-n", type=int, default=4096, help="GEMM matrix size")
    ap.add_argument("--runs", type=int, default=5, help="repetitions (best is kept)")
    ap.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="threads for the memory kernels (default: logical CPUs)",
    )
    args = ap.parse_args(argv)

    flags = cpu_flags()
    print(f"date: {dt.date.today().isoformat()}")
    print(f"cpu_model: {cpu_model()}")
    print(f"logical_cpus: {os.cpu_count()}")
    print(f"avx512f: {'avx512f' in flags}  avx512_bf16: {'avx512_bf16' in flags}")
    print(f"numpy: {np.__version__}")

    print(f"memory_threads: {args.threads}")
    bw = measure_memory_bandwidth(args.array_bytes, args.runs, args.threads)
    for name, value in bw.items():
        print(f"mem_bw_{name}_bytes_per_s: {value:.4g}  ({value / 1e9:.1f} GB/s)")
    best_name = max(bw, key=lambda k: bw[k])
    print(f"mem_bw_best_bytes_per_s: {bw[best_name]:.4g}  ({best_name})")

    flops = measure_gemm_flops(args.gemm_n, args.runs)
    print(f"gemm_fp32_n{args.gemm_n}_flop_per_s: {flops:.4g}  ({flops / 1e9:.1f} GFLOP/s)")


if __name__ == "__main__":
    main()
