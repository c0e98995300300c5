"""``inferplan calibrate``: fit efficiency parameters from bench runs; list and show profiles.

``inferplan calibrate RUN... --gpu ID [--engine E] [--name NAME]`` fits (the default
sub-command, also spelt ``calibrate fit``); ``calibrate list`` and ``calibrate show
NAME`` read the saved profiles. ``perf`` and ``plan`` apply one with
``--calibration NAME``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from inferplan.cli.common import console, handle_errors, print_json
from inferplan.errors import SpecError
from inferplan.service.calibration_profiles import (
    CalibrationProfile,
    ComparisonEntry,
    calibrate,
    list_profiles,
    load_profile,
    profile_path,
    save_profile,
)

_UNITS = {"ttft_s": ("TTFT mean", "ms", 1e3), "tpot_s": ("TPOT mean", "ms", 1e3)}
_TPS = ("output", "tok/s", 1.0)


class _FitByDefault(TyperGroup):
    """A group whose first argument, when not a sub-command, belongs to ``fit``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # click.Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["fit", *args]
        return super().parse_args(ctx, args)


calibrate_app = typer.Typer(
    cls=_FitByDefault,
    no_args_is_help=True,
    help="Fit the performance model to bench runs; list and show calibration profiles.",
)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+.1%}"


def _val(metric: str, x: float | None) -> str:
    if x is None:
        return "-"
    _, _, scale = _UNITS.get(metric, _TPS)
    return f"{x * scale:,.1f}"


def render(p: CalibrationProfile, path: Path | None = None) -> None:
    """Parameters, then measured vs predicted before and after, per stage and metric."""
    console.print(
        f"[bold]{p.name}[/]: {p.engine} on {p.accelerator}, fitted on {p.model} "
        f"{p.precision}/KV {p.kv_precision} ({p.as_of})"
    )
    t = Table(title="fitted parameters")
    for col in ("parameter", "engine profile", "calibrated"):
        t.add_column(col, justify="left" if col == "parameter" else "right")
    for k, v in p.parameters.items():
        t.add_row(k, f"{p.prior.get(k, float('nan')):.4g}", f"{v:.4g}")
    console.print(t)
    c = Table(title="measured vs predicted (same load, model before and after the fit)")
    for col in ("run", "stage", "load", "metric", "measured", "before", "after", "err before",
                "err after"):
        c.add_column(col, justify="left" if col in ("run", "load", "metric") else "right")
    for r in p.comparison:
        name, unit, _ = _UNITS.get(r.metric, _TPS)
        c.add_row(*_row(r, f"{name} {unit}"))
    console.print(c)
    console.print(
        f"mean |error| {p.error_before:.1%} before, {p.error_after:.1%} after. "
        "TTFT: sent -> first token; TPOT: (E2E - TTFT) / (output tokens - 1); "
        "output: tokens / measured window."
    )
    for n in p.notes:
        console.print(f"note: {n}", highlight=False)
    if path is not None:
        console.print(f"saved {path}; use it with --calibration {p.name} (perf, plan)")


def _row(r: ComparisonEntry, metric: str) -> list[str]:
    return [
        Path(r.run).name,
        str(r.stage),
        r.load,
        metric,
        _val(r.metric, r.measured),
        _val(r.metric, r.before),
        _val(r.metric, r.after),
        _pct(r.error_before),
        _pct(r.error_after),
    ]


@calibrate_app.command("fit")
@handle_errors
def fit_cmd(
    results: list[Path] = typer.Argument(..., help="bench run folders (inferplan bench -o)"),
    gpu: str = typer.Option(..., "--gpu", help="accelerator id the runs were measured on"),
    engine: str = typer.Option(None, "--engine", help="engine id (default: the detected one)"),
    model: str = typer.Option(None, "--model", help="model id (default: the run's model)"),
    precision: str = typer.Option(None, "--precision", help="weights (default: from the run)"),
    kv_precision: str = typer.Option(None, "--kv-precision"),
    name: str = typer.Option(None, "--name", help="profile name (default: GPU-ENGINE)"),
    fit: str = typer.Option(
        None, "--fit", help="parameters to fit, comma-separated (default: chosen from the data)"
    ),
    force: bool = typer.Option(False, "--force", help="replace a profile of the same name"),
    dry_run: bool = typer.Option(False, "--dry-run", help="fit and show, do not save"),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Fit efficiency parameters to bench runs and save them as a calibration profile."""
    params = [x.strip() for x in fit.split(",") if x.strip()] if fit else None
    _, profile = calibrate(results, gpu, engine, model, precision, kv_precision, name, params)
    path = None
    if not dry_run:
        path = save_profile(profile, force)
    if json_out:
        out: dict[str, Any] = profile.model_dump(mode="json")
        out["path"] = None if path is None else str(path)
        print_json(out)
    else:
        render(profile, path)


@calibrate_app.command("list")
@handle_errors
def list_cmd(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The saved calibration profiles."""
    profiles = list_profiles()
    if json_out:
        print_json([p.model_dump(mode="json") for p in profiles])
        return
    if not profiles:
        console.print(f"no calibration profiles in {profile_path('x').parent}")
        return
    t = Table(title="calibration profiles")
    for col in ("name", "engine", "accelerator", "model", "fitted", "error before/after",
                "as of"):
        t.add_column(col)
    for p in profiles:
        t.add_row(
            p.name,
            p.engine,
            p.accelerator,
            f"{p.model} {p.precision}",
            ", ".join(p.parameters) or "-",
            f"{p.error_before:.0%} / {p.error_after:.0%}",
            str(p.as_of),
        )
    console.print(t)


@calibrate_app.command("show")
@handle_errors
def show_cmd(
    name: str = typer.Argument(..., help="profile name"),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One calibration profile: parameters and measured vs predicted."""
    if not name:
        raise SpecError("name", "give a profile name")
    p = load_profile(name)
    if json_out:
        print_json(p)
    else:
        render(p)


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` (fit by default, plus ``list`` and ``show``) to ``app``."""
    app.add_typer(calibrate_app, name="calibrate")
