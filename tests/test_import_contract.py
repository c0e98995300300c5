"""The layer contract in pyproject.toml (``[tool.importlinter]``) holds for the code,
and the README's Architecture section states the same layers."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

needs_linter = pytest.mark.skipif(
    importlib.util.find_spec("importlinter") is None,
    reason="import-linter is not installed (pip install -e '.[dev]')",
)


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


@needs_linter
def test_every_import_contract_is_kept() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    )
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, "
        "no_cache=True))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_the_layer_contract_places_every_package() -> None:
    layers = _contracts()["layers"]
    assert layers["exhaustive"] is True
    placed = {
        name.strip("()")
        for layer in layers["layers"]  # type: ignore[attr-defined]
        for name in layer.split(" | ")
    }
    src = ROOT / "src" / "inferplan"
    packages = {p.name for p in src.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in src.glob("*.py") if p.stem not in ("__init__", "__main__")}
    assert packages | modules <= placed


def test_the_readme_states_the_contracts_layers() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| *(\d+) *\| *([^|]+?) *\|", section, flags=re.M)
    stated = [
        " | ".join(sorted(re.findall(r"`inferplan\.(\w+)`", names))) for _, names in rows
    ]
    contract = [
        " | ".join(sorted(n.strip("()") for n in layer.split(" | ")))
        for layer in _contracts()["layers"]["layers"]  # type: ignore[attr-defined]
    ]
    assert stated == contract
