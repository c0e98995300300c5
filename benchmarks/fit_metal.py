"""Fit llama.cpp's four Metal (Apple silicon) parameters on one half of the chips and report the
error on the other half.

Usage:
    python benchmarks/fit_metal.py [APPLE_CASES.csv]

The cases (``validation/apple_cases.csv`` by default: llama.cpp discussion 4167, LLaMA 7B
F16/Q8_0/Q4_0, pp512 and tg128) are split by chip family: M1 and M2 chips are fitted, M3 and M4
chips are held out. Generation rows fit the unified-memory bandwidth share and the per-layer
time of the GPU's small kernels (a grid, least squares of the relative error); with those held,
prompt rows fit the share of the FP16 ALU peak the GEMMs reach and the extra factor of
weight-only GGUF types. Every other parameter is the ``llamacpp`` profile's. The script prints
the fitted values and the median and worst error of each half; copy the values into
``engines.yaml`` by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fit_grid import best, report

from inferplan.catalog import load_engines
from inferplan.service.cases import read_cases

DEFAULT = Path(__file__).resolve().parents[1] / "validation" / "apple_cases.csv"
FIT_FAMILIES = ("apple-m1", "apple-m2")


def main(argv: list[str]) -> None:
    cases = read_cases(Path(argv[0]) if argv else DEFAULT)
    fit = [c for c in cases if c.hardware.startswith(FIT_FAMILIES)]
    held = [c for c in cases if not c.hardware.startswith(FIT_FAMILIES)]
    base = load_engines().get("llamacpp").efficiency
    tg = [c for c in fit if c.metric == "output_tokens_per_s"]
    pp = [c for c in fit if c.metric == "prompt_tokens_per_s"]
    eff = best(
        base,
        tg,
        {
            "soc_bandwidth_efficiency": [x / 100 for x in range(80, 97)],
            "soc_layer_latency_s": [x * 5e-6 for x in range(0, 31)],
        },
    )
    eff = best(
        eff,
        pp,
        {
            "soc_gemm_efficiency": [x / 100 for x in range(60, 91)],
            "soc_quantized_gemm_efficiency": [x / 100 for x in range(80, 101)],
        },
    )
    print(
        f"soc_bandwidth_efficiency {eff.soc_bandwidth_efficiency:.2f}  "
        f"soc_layer_latency_s {eff.soc_layer_latency_s * 1e6:.0f} us  "
        f"soc_gemm_efficiency {eff.soc_gemm_efficiency:.2f}  "
        f"soc_quantized_gemm_efficiency {eff.soc_quantized_gemm_efficiency:.2f}"
    )
    report("fitted (M1/M2)", eff, fit)
    report("held out (M3/M4)", eff, held)


if __name__ == "__main__":
    main(sys.argv[1:])
