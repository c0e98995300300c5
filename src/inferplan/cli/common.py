"""Helpers shared by every CLI command: JSON output, one-line errors, rich console."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape

from inferplan.catalog.loader import format_validation_error
from inferplan.errors import InferplanError

P = ParamSpec("P")
R = TypeVar("R")

console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on one line to stderr and exit with ``code``."""
    message = message.replace("\r", "\\r").replace("\n", "\\n")
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise SystemExit(code)


SERVICE_MODULES = ("fastapi", "uvicorn", "sqlalchemy", "alembic")


def require_extra(extra: str, modules: tuple[str, ...], command: str) -> None:
    """Fail with one line naming the extra to install when ``modules`` are missing."""
    from importlib.util import find_spec

    missing = [m for m in modules if find_spec(m) is None]
    if missing:
        fail(
            f"{command} needs the '{extra}' extra ({', '.join(missing)} not installed); "
            f"install it with: pip install 'inferplan[{extra}]'"
        )


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn inferplan and validation errors into one-line messages, exit code 2.

    Anything else is a bug: one line naming it, exit code 1 (``INFERPLAN_DEBUG=1``
    lets the traceback through).
    """

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except InferplanError as exc:
            fail(str(exc))
        except ValidationError as exc:
            fail(format_validation_error(exc))
        except UnicodeDecodeError as exc:
            fail(
                f"an input file is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                f"offset {exc.start}); save it as UTF-8"
            )
        except (KeyboardInterrupt, SystemExit, GeneratorExit, typer.Exit, click.exceptions.Exit):
            raise  # typer's and click's Exit: a chosen exit code, not an error
        except Exception as exc:
            if os.environ.get("INFERPLAN_DEBUG"):
                raise
            where = exc.__traceback__
            while where is not None and where.tb_next is not None:
                where = where.tb_next
            at = (
                f" at {Path(where.tb_frame.f_code.co_filename).name}:{where.tb_lineno}"
                if where is not None
                else ""
            )
            first = str(exc).splitlines()[0] if str(exc) else ""
            fail(
                f"internal error{at}: {type(exc).__name__}: {first} (a bug in inferplan; "
                "INFERPLAN_DEBUG=1 shows the traceback)",
                code=1,
            )

    return wrapper


def _default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout (no rich markup)."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")


# Options that ``fit`` and ``perf`` share (one definition, the same help text)
EP_OPTION = typer.Option(
    None, "--ep", help="expert-parallel degree (MoE): routed experts split over ep devices"
)
DP_ATTENTION_OPTION = typer.Option(
    False, "--dp-attention", help="attention data parallel over the ep devices (needs --ep)"
)
REDUNDANT_EXPERTS_OPTION = typer.Option(
    0, "--redundant-experts", help="extra copies of popular experts so ep divides the slots"
)
