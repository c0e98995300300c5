"""Write prediction intervals from validation residuals.

Usage: python benchmarks/write_uncertainty.py ../shared/validation/cases_dev.csv

For each metric, the 10th and 90th percentiles of measured / predicted over the
validation cases go to src/inferplan/catalog/data/perf_uncertainty.yaml, which
``inferplan.deploy.uncertainty.interval`` reads. TPOT has no direct cases: it
pools the ITL cases and the decode-dominated end-to-end latencies, and says so.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import yaml

from inferplan.service.cases import read_cases
from inferplan.service.validation import validate_cases

OUT = Path(__file__).resolve().parents[1] / "src/inferplan/catalog/data/perf_uncertainty.yaml"
POOLS = {
    "ttft_ms": ["ttft_ms"],
    "tpot_ms": ["itl_ms", "tpot_ms", "e2e_latency_s"],
    "itl_ms": ["itl_ms", "tpot_ms"],
    "e2e_latency_s": ["e2e_latency_s"],
    "output_tokens_per_s": ["output_tokens_per_s"],
    "prompt_tokens_per_s": ["prompt_tokens_per_s"],
}
MIN_CASES = 4


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "../shared/validation/cases_dev.csv"
    report = validate_cases(read_cases(path))
    metrics = {}
    for name, pool in POOLS.items():
        ratios = np.array(
            [c.measured / c.predicted for c in report.cases if c.predicted and c.metric in pool]
        )
        if len(ratios) < MIN_CASES:
            continue
        lo, hi = np.percentile(ratios, [10, 90])
        metrics[name] = {
            "ratio_p10": round(float(min(lo, 1.0)), 4),
            "ratio_p90": round(float(max(hi, 1.0)), 4),
            "n": int(len(ratios)),
            "pooled_from": pool,
        }
        print(f"{name:22s} n={len(ratios):3d}  measured/predicted p10 {lo:.3f}  p90 {hi:.3f}")
    doc = {
        "source": f"inferplan validate on {Path(path).name} (benchmarks/write_uncertainty.py)",
        "as_of": dt.date.today().isoformat(),
        "metrics": metrics,
    }
    OUT.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
