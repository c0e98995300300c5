"""The README's test command: what scripts/dev.py runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "scripts" / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_test_command_runs_doctests_and_fast_skips_slow_tests() -> None:
    dev = _dev()
    full, fast = dev.pytest_args(False), dev.pytest_args(True)
    # the docstring examples run as tests/test_doctests.py, one test per module
    assert "tests" in full and "tests" in fast
    doctests = (ROOT / "tests" / "test_doctests.py").read_text()
    assert "DocTestFinder" in doctests and "pytest.mark.slow" not in doctests
    assert "-m" not in full
    assert fast[fast.index("-m") + 1] == "not slow"
    for arg in full:
        if arg.startswith("--ignore="):
            assert (ROOT / arg.split("=", 1)[1]).is_dir()


def test_test_command_installs_every_extra() -> None:
    import tomllib

    text = (ROOT / "scripts" / "dev.py").read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert 'install("dev,service,ray")' in text
    assert set(extras) == {"dev", "service", "ray"}
