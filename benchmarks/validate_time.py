"""Time predicting every validation case (target: under 10 s).

Usage: python benchmarks/validate_time.py ../shared/validation/cases_dev.csv
"""

from __future__ import annotations

import sys
import time

from inferplan.service.cases import read_cases
from inferplan.service.validation import validate_cases

TARGET_S = 10.0


def main() -> None:
    cases = read_cases(sys.argv[1] if len(sys.argv) > 1 else "../shared/validation/cases_dev.csv")
    # one cold run: simulated cases are cached within a process, so repeats are not honest
    t0 = time.perf_counter()
    report = validate_cases(cases)
    best = time.perf_counter() - t0
    s = report.summary
    print(f"cases {s.n_cases}  predicted {s.n_predicted}  median APE {s.median_ape:.3f}")
    print(f"wall seconds {best:.2f} (cold run)  ratio to the {TARGET_S:.0f} s target "
          f"{best / TARGET_S:.2f}")


if __name__ == "__main__":
    main()
