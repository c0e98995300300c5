"""A stand-alone ``inferplan``-like app with only ``bench`` registered (for subprocess tests)."""

from __future__ import annotations

import typer

from inferplan.cli import bench_cmd

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def _root() -> None:
    """inferplan (bench only)."""


bench_cmd.register(app)

if __name__ == "__main__":
    app()
