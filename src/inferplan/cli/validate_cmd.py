"""``inferplan validate``: predict published measurements and report the error."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from inferplan.cli.common import console, handle_errors, print_json
from inferplan.service.cases import read_cases
from inferplan.service.validation import ValidationReport, validate_cases


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def render(report: ValidationReport, show_cases: bool) -> None:
    if show_cases:
        t = Table(title="cases")
        for col in ("case", "regime", "metric", "measured", "predicted", "error"):
            t.add_column(col)
        for c in report.cases:
            t.add_row(
                c.case_id,
                c.scenario,
                c.metric,
                f"{c.measured:.4g}",
                "-" if c.predicted is None else f"{c.predicted:.4g}",
                _pct(c.ape) if c.ape is not None else f"skipped: {c.skipped_reason}",
            )
        console.print(t)
    s = report.summary
    t = Table(title="error by regime and metric (absolute % error)")
    for col in ("regime/metric", "cases", "predicted", "median", "within 25%"):
        t.add_column(col)
    for k, g in s.by_regime_metric.items():
        t.add_row(k, str(g.n_cases), str(g.n_predicted), _pct(g.median_ape), _pct(g.within_25pct))
    for k, g in s.by_slice.items():
        t.add_row(
            f"[italic]{k}[/]",
            str(g.n_cases),
            str(g.n_predicted),
            _pct(g.median_ape),
            _pct(g.within_25pct),
        )
    t.add_row(
        "[bold]all[/]", str(s.n_cases), str(s.n_predicted), _pct(s.median_ape), _pct(s.within_25pct)
    )
    console.print(t)
    console.print(f"coverage {_pct(s.coverage)} of {s.n_cases} cases")


def register(app: typer.Typer) -> None:
    @app.command("validate")
    @handle_errors
    def validate_cmd(
        cases: Path = typer.Option(..., "--cases", help="validation cases CSV"),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
        show_cases: bool = typer.Option(True, "--cases-table/--summary-only"),
    ) -> None:
        """Predict every case in FILE.csv and print prediction, error and a summary."""
        report = validate_cases(read_cases(cases))
        if json_out:
            print_json(report)
        else:
            render(report, show_cases)
