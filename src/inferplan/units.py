"""SI units and byte widths (layer 0).

Everything inside inferplan is SI: bytes, seconds, FLOP/s, watts, US dollars.
Convert only when rendering. Decimal prefixes follow SI (``GB = 1e9``); binary
prefixes are spelled out (``GiB = 2**30``).
"""

from __future__ import annotations

KB = 1e3
MB = 1e6
GB = 1e9
TB = 1e12
KiB = 2**10
MiB = 2**20
GiB = 2**30
TFLOPS = 1e12
MS = 1e-3
US = 1e-6
HOURS_PER_YEAR = 8760.0
HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0

__all__ = [
    "GB",
    "HOURS_PER_MONTH",
    "HOURS_PER_YEAR",
    "KB",
    "MB",
    "MS",
    "SECONDS_PER_DAY",
    "SECONDS_PER_HOUR",
    "TB",
    "TFLOPS",
    "US",
    "GiB",
    "KiB",
    "MiB",
]
