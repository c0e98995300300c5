"""The ``inferplan`` command. Sub-command modules register themselves here, lazily.

``inferplan --help`` and every command import only what they need: the root group
knows each command's module and one-line help, and imports the module (numpy,
pydantic, the planner, the service stack...) only when that command runs or its
own help is asked for.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from inferplan import __version__

# command name -> (module defining ``register(app: typer.Typer) -> None``, one-line help).
# The help lines are what each command's docstring says (checked by tests/cli).
COMMANDS: dict[str, tuple[str, str]] = {
    "fit": (
        "inferplan.cli.fit_cmd",
        "Memory fit of MODEL on --gpu; without --count, the fewest devices that fit.",
    ),
    "validate": (
        "inferplan.cli.validate_cmd",
        "Predict every case in FILE.csv and print prediction, error and a summary.",
    ),
    "tco": (
        "inferplan.cli.tco_cmd",
        "Compare on-prem, colocation, cloud, API and hybrid options by TCO.",
    ),
    "perf": (
        "inferplan.cli.perf_cmd",
        "Predict TTFT, TPOT, ITL, E2E and throughput (no regime flag = max throughput).",
    ),
    "plan": (
        "inferplan.cli.plan_cmd",
        "Turn a scenario into a recommendation, with the frontier and the rejections.",
    ),
    "init": ("inferplan.cli.plan_cmd", "Write a commented starter scenario (the bundled default)."),
    "schema": ("inferplan.cli.plan_cmd", "Print the JSON Schema of the scenario file."),
    "serve": (
        "inferplan.cli.serve_cmd",
        "Serve the REST API (/api/v1) and the web UI (/ui) for a team.",
    ),
    "catalog": ("inferplan.cli.catalog_cmd", "Browse the sourced catalogs."),
    "model": ("inferplan.cli.catalog_cmd", "Model records."),
    "bench": (
        "inferplan.cli.bench_cmd",
        "Benchmark a running OpenAI-compatible server (vLLM, SGLang, TGI, TensorRT-LLM, "
        "llama.cpp, Ollama, ...).",
    ),
    "db": ("inferplan.cli.db_cmd", "Back up and restore the team service's store."),
    "calibrate": (
        "inferplan.cli.calibrate_cmd",
        "Fit the performance model to bench runs; list and show calibration profiles.",
    ),
}

# Kept for callers that import every command module (tests, docs).
COMMAND_MODULES = tuple(dict.fromkeys(module for module, _ in COMMANDS.values()))


def load_commands(module: str) -> dict[str, Any]:
    """Import ``module`` and return the click commands its ``register`` adds."""
    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @sub.callback()
    def _group() -> None:  # a callback makes ``sub`` a group even with one command
        pass

    importlib.import_module(module).register(sub)
    group = typer.main.get_command(sub)
    assert isinstance(group, TyperGroup)
    return dict(group.commands)


class LazyGroup(TyperGroup):
    """A root group that imports a command's module on first use."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in COMMANDS:
            return None
        module, short = COMMANDS[cmd_name]
        if self._listing:  # the root help only needs the name and the one-line help
            return TyperCommand(cmd_name, help=short, short_help=short)
        for name, cmd in load_commands(module).items():
            self.commands.setdefault(name, cmd)
        return self.commands.get(cmd_name)

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
        standalone_mode: bool = True, **kwargs: Any,
    ) -> Any:
        """Run the command; a usage error (bad option value, missing argument) is one line."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **kwargs)
        from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
        from typer.exceptions import Abort

        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:
            from typer import rich_utils

            rich_utils.rich_format_error(exc)
            sys.exit(exc.exit_code)
        except UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "inferplan"
            sys.stderr.write(f"error: {exc.format_message()} (see: {where} --help)\n")
            sys.exit(2)
        except ClickException as exc:
            sys.stderr.write(f"error: {exc.format_message()}\n")
            sys.exit(exc.exit_code)
        except Abort:
            sys.stderr.write("aborted\n")
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As click's, with suggestions among every command (loaded or not)."""
        from difflib import get_close_matches

        from typer._click.exceptions import UsageError

        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            if args and "Did you mean" not in exc.message:
                matches = get_close_matches(args[0], list(COMMANDS))
                if matches:
                    names = ", ".join(repr(m) for m in matches)
                    exc.message = f"{exc.message.rstrip('.')}. Did you mean {names}?"
            raise

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="inferplan",
    cls=LazyGroup,
    help="Plan LLM inference: memory fit, latency, cost and data sovereignty.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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
    catalog_dir: str = typer.Option(
        None,
        "--catalog",
        metavar="DIR",
        help="Your own catalog files (models.yaml, prices.yaml, ...) merged over the shipped "
        "data; default $INFERPLAN_CATALOG_DIR.",
    ),
) -> None:
    """inferplan: what hardware, how much, which precision, where, at what cost."""
    if catalog_dir is not None:
        # the environment carries the choice to every loader, worker process included
        os.environ["INFERPLAN_CATALOG_DIR"] = catalog_dir


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return app(args=argv)
