"""The docstring examples of every inferplan module run as tests.

One test per module, so a failing example names its module. Modules whose imports need
an extra that is not installed are skipped with the reason.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import inferplan

SKIP_PREFIXES = ("inferplan.store.migrations",)


def _modules() -> list[str]:
    names = [inferplan.__name__]
    for info in pkgutil.walk_packages(inferplan.__path__, prefix="inferplan."):
        if not info.name.startswith(SKIP_PREFIXES):
            names.append(info.name)
    return sorted(names)


def _with_examples() -> list[str]:
    """Modules whose source has a docstring example (read as text: nothing imported)."""
    out = []
    for name in _modules():
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        with open(spec.origin, encoding="utf-8") as fh:
            if ">>> " in fh.read():
                out.append(name)
    return out


@pytest.mark.parametrize("name", _with_examples())
def test_docstring_examples(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        pytest.skip(f"{name} needs {exc.name}, not installed")
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name} mentions '>>> ' but has no runnable example"
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
