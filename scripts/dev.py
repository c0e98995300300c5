#!/usr/bin/env python3
"""The two quick-start commands, with nothing but Python 3.11 needed to start them.

    python3 scripts/dev.py run          # install inferplan in .venv, plan the default scenario
    python3 scripts/dev.py test         # install every extra; ruff, mypy, the import
                                        # contract (lint-imports), tests, doctests
    python3 scripts/dev.py test --fast  # the same without the slow tests (for development)

``test`` also runs ``scripts/ci-services.sh`` when it can (root with bash and apt):
it installs Debian's chromium and a local PostgreSQL for the browser and database
tests, which skip with a reason where those are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def sh(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def install(extras: str | None) -> None:
    """Create .venv and install the project (again only when pyproject.toml changed)."""
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        sh(PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime:
        return
    target = f".[{extras}]" if extras else "."
    sh(PY, "-m", "pip", "install", "-q", "-e", target)
    stamp.touch()


def services_env() -> dict[str, str]:
    """Environment with what ci-services.sh exports (nothing if it cannot run here)."""
    env = dict(os.environ)
    script = ROOT / "scripts" / "ci-services.sh"
    if shutil.which("bash") is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print("services: not root with bash; browser and PostgreSQL tests may skip")
        return env
    out = subprocess.run(["bash", str(script)], cwd=ROOT, capture_output=True, text=True)
    sys.stderr.write(out.stderr[-2000:])
    for line in out.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            key, _, value = line[len("export ") :].partition("=")
            env[key.strip()] = value.strip().strip("'\"")
    return env


def pytest_args(fast: bool) -> list[str]:
    """Every test under tests/ (tests/test_doctests.py runs the docstring examples of
    src/inferplan)."""
    args = ["-q", "tests"]
    return [*args, "-m", "not slow"] if fast else args


def main() -> None:
    task = sys.argv[1] if len(sys.argv) > 1 else ""
    if task == "run":
        install(None)
        sh(
            BIN / "inferplan",
            "plan",
            "--report",
            "inferplan-report.html",
            "--csv",
            "inferplan-options.csv",
        )
    elif task == "test":
        fast = "--fast" in sys.argv[2:]
        install("dev,service,ray")
        sh(BIN / "ruff", "check", "src", "tests", "benchmarks", "scripts")
        sh(BIN / "mypy", "src")
        sh(BIN / "lint-imports")  # the layer contract in pyproject.toml [tool.importlinter]
        sh(PY, "-m", "pytest", *pytest_args(fast), env=services_env())
    else:
        sys.exit("usage: python3 scripts/dev.py run | test [--fast]")


if __name__ == "__main__":
    main()
