"""The root command: lazy loading of sub-commands, help text, the --catalog option."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inferplan.cli.main import COMMANDS, app, load_commands

runner = CliRunner()
SRC = Path(__file__).resolve().parents[2] / "src"

# Imports that --help must not pay for (each costs tens to hundreds of ms).
HEAVY = ("numpy", "pydantic", "scipy", "httpx", "fastapi", "sqlalchemy", "inferplan.planner",
         "inferplan.bench", "inferplan.service", "jinja2", "plotly", "yaml")


def _modules_after(*argv: str) -> set[str]:
    code = (
        "import sys\n"
        "from inferplan.cli.main import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.__stdout__.write('\\n@@' + ' '.join(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    return set(out.rsplit("@@", 1)[1].split())


def test_root_help_imports_no_command_module_and_no_heavy_library() -> None:
    mods = _modules_after("--help")
    loaded = [m for m in mods if m.split(".")[0] in {h.split(".")[0] for h in HEAVY}
              and any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []
    assert not any(m.endswith("_cmd") for m in mods)


def test_a_command_imports_only_its_own_module() -> None:
    mods = _modules_after("catalog", "--help")
    assert "inferplan.cli.catalog_cmd" in mods
    assert "inferplan.cli.bench_cmd" not in mods and "inferplan.cli.plan_cmd" not in mods
    assert "fastapi" not in mods and "sqlalchemy" not in mods


@pytest.mark.parametrize("name", list(COMMANDS))
def test_root_help_line_is_the_command_docstring(name: str) -> None:
    module, short = COMMANDS[name]
    cmd = load_commands(module)[name]
    assert cmd.get_short_help_str(limit=500) == short


def test_every_command_module_registers_what_the_table_says() -> None:
    for module in {m for m, _ in COMMANDS.values()}:
        names = set(load_commands(module))
        assert names == {n for n, (m, _) in COMMANDS.items() if m == module}


def test_root_help_lists_every_command() -> None:
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for name in COMMANDS:
        assert f" {name} " in res.stdout


def test_unknown_command_exit_2_with_a_suggestion() -> None:
    res = runner.invoke(app, ["fitt"])
    assert res.exit_code == 2 and "No such command 'fitt'. Did you mean 'fit'?" in res.stderr
    assert res.stderr.strip().count("\n") == 0


def test_catalog_option_sets_the_overlay_for_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inferplan.catalog import loader

    monkeypatch.delenv(loader.OVERLAY_ENV, raising=False)
    (tmp_path / "models.yaml").write_text(
        "records:\n  - id: tiny-overlay\n    name: Tiny\n    family: llama\n"
        "    hidden_size: 64\n    num_layers: 2\n    num_attention_heads: 4\n"
        "    num_kv_heads: 2\n    head_dim: 16\n    intermediate_size: 128\n"
        "    vocab_size: 1000\n    max_context: 512\n"
        "    source: https://example.org/config.json\n    as_of: 2026-01-01\n"
    )
    loader.clear_cache()
    try:
        res = runner.invoke(app, ["--catalog", str(tmp_path), "catalog", "show", "models",
                                  "tiny-overlay", "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["num_layers"] == 2
    finally:
        os.environ.pop(loader.OVERLAY_ENV, None)
        loader.clear_cache()

