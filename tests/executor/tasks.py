"""Module-level task functions for the executor tests (worker processes import them)."""

from __future__ import annotations

import os
from pathlib import Path

from inferplan.errors import SpecError


def square(x: int) -> int:
    return x * x


def square_or_die_once(marker_dir: str, x: int) -> int:
    """Square ``x``; the first time it sees x == 5 its worker process exits at once."""
    marker = Path(marker_dir) / "died-at-5"
    if x == 5 and not marker.exists():
        marker.touch()
        os._exit(3)
    return x * x


def always_die(x: int) -> int:
    os._exit(4)


def reject_seven(x: int) -> int:
    if x == 7:
        raise SpecError("x", "seven is not allowed")
    return x


def worker_pid(x: int) -> int:
    return os.getpid()
