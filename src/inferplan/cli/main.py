"""The ``inferplan`` command. Sub-command modules register themselves here."""

from __future__ import annotations

import importlib

import typer

from inferplan import __version__

app = typer.Typer(
    name="inferplan",
    help="Plan LLM inference: memory fit, latency, cost and data sovereignty.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines ``register(app: typer.Typer) -> None``.
COMMAND_MODULES = (
    "inferplan.cli.catalog_cmd",
    "inferplan.cli.fit_cmd",
    "inferplan.cli.validate_cmd",
    "inferplan.cli.tco_cmd",
    "inferplan.cli.perf_cmd",
    "inferplan.cli.plan_cmd",
    "inferplan.cli.bench_cmd",
    "inferplan.cli.serve_cmd",
    "inferplan.cli.db_cmd",
    "inferplan.cli.calibrate_cmd",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"inferplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """inferplan: what hardware, how much, which precision, where, at what cost."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    """Console-script entry point."""
    app()
