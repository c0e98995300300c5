"""``inferplan plan``, ``inferplan init`` and ``inferplan schema``."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from inferplan.cli.common import console, err_console, handle_errors, print_json
from inferplan.errors import SpecError
from inferplan.executor import Executor
from inferplan.results.plan import PlanResult
from inferplan.specs.scenario import ScenarioSpec

DEFAULT_SCENARIO = "default.yaml"


def default_scenario_text() -> str:
    """The bundled default scenario (a commented YAML file)."""
    ref = resources.files("inferplan") / "examples" / DEFAULT_SCENARIO
    return ref.read_text(encoding="utf-8")


def _load(path: Path | None) -> ScenarioSpec:
    from inferplan.scenario_io import load_scenario, parse_scenario

    if path is None:
        import yaml

        return parse_scenario(yaml.safe_load(default_scenario_text()))
    return load_scenario(path)


def _money(x: float | None) -> str:
    return "-" if x is None else f"${x:,.0f}"


def render(r: PlanResult) -> None:
    rec = r.recommendation
    lines = [
        f"[bold]{escape(rec.headline or rec.option)}[/]",
        f"option: {escape(rec.option)}" + (f" ({rec.region})" if rec.region else ""),
    ]
    if rec.conditions:
        lines.append("[yellow]conditions (to fulfil, not passes):[/]")
        lines += [f"  ! {escape(c)}" for c in rec.conditions]
    if rec.stale_figures:
        lines.append("[yellow]figures behind this pick older than 12 months (check them):[/]")
        lines += [
            f"  ! {escape(f['item'])}: as of {f['as_of']} ({int(f['age_days']) // 30} months)"
            for f in rec.stale_figures
        ]
    if rec.hardware and rec.replicas:
        per = (rec.count or 0) // max(rec.replicas, 1)
        spare = f" ({rec.spare_replicas} spare)" if rec.spare_replicas else ""
        lines.append(
            f"{rec.replicas} replicas{spare} of {per} x {rec.hardware} at the peak, "
            f"{rec.precision} weights, {rec.engine}, model {rec.model}"
        )
    lines.append(
        f"TCO {_money(rec.tco_nominal_usd)} nominal, NPV {_money(rec.npv_usd)} over "
        f"{r.horizon_months} months; "
        + (
            f"{rec.usd_per_million_tokens:.3f} USD per 1M tokens"
            if rec.usd_per_million_tokens
            else ""
        )
    )
    lc = rec.latency_check
    if lc is not None:
        ok = "[green]meets the SLO[/]" if lc.meets_slo else "[red]misses the SLO[/]"
        lines.append(
            f"p{lc.percentile:g} TTFT {lc.p_ttft_ms:,.0f} ms "
            f"({lc.p_ttft_interval_ms[0]:,.0f}-{lc.p_ttft_interval_ms[1]:,.0f}), "
            f"TPOT {lc.p_tpot_ms:,.1f} ms "
            f"({lc.p_tpot_interval_ms[0]:,.1f}-{lc.p_tpot_interval_ms[1]:,.1f}) at "
            f"{lc.requests_per_s_per_replica:.2f} req/s per replica x {lc.replicas_at_peak}: {ok}"
        )
    lines += [f"- {escape(x)}" for x in rec.reasons]
    if r.runner_up is not None:
        lines.append(f"runner-up: {escape(r.why_not_runner_up or r.runner_up.name)}")
    console.print(Panel("\n".join(lines), title="recommendation", expand=False))
    t = Table(title=f"cheapest allowed options ({len(r.options)} priced)")
    for col in ("option", "NPV", "TCO", "$/1M tok", "peak devices", "sovereignty", "frontier"):
        t.add_column(col)
    for o in r.options[:10]:
        t.add_row(
            o.name,
            _money(o.npv_usd),
            _money(o.tco_nominal_usd),
            f"{o.usd_per_million_tokens:.3f}" if o.usd_per_million_tokens else "-",
            str(o.peak_devices or "-"),
            f"{o.sovereignty_score:.2f}",
            "yes" if o.name in r.frontier else "",
        )
    console.print(t)
    if r.rejected:
        rt = Table(title=f"rejected families ({len(r.rejected)})")
        for col in ("family", "stage", "reason"):
            rt.add_column(col)
        order = {"sovereignty": 0, "slo": 1, "capacity": 2, "memory": 3, "price": 4}
        shown = sorted(r.rejected, key=lambda x: order.get(x.stage, 5))
        for x in shown[:15]:
            rt.add_row(x.family, x.stage, x.reason)
        console.print(rt)
        if len(r.rejected) > 15:
            console.print(f"... {len(r.rejected) - 15} more in --json / the report")
    for n in r.quality_notes:
        console.print(f"[yellow]quality note:[/] {n}")
    if r.monte_carlo is None:
        console.print(
            "tornado, Monte Carlo and the latency curve of the pick: add --report R.html "
            "or --json", highlight=False,
        )


def _plan_portfolio(paths: list[Path], ex: Executor, out: Path, json_out: bool) -> None:
    """Plan every scenario of the files/folders, write per-scenario files and the summary."""
    from inferplan.planner.portfolio import load_portfolio, plan_portfolio, write_portfolio

    items = load_portfolio(paths)
    with err_console.status(f"planning {len(items)} scenarios ({ex.kind.value} executor)"):
        result = plan_portfolio(items, ex)

    def reports(key: str, p: PlanResult, spec: ScenarioSpec) -> None:
        from inferplan.report import html
        from inferplan.report.export import write_plan_csv

        writer = getattr(html, "write_plan_html", None)
        if writer is not None:
            writer(p, spec, out / f"{key}.html")
        write_plan_csv(p, out / f"{key}.csv")

    write_portfolio(result, out, reports)
    if json_out:
        print_json(result.summary)
        return
    t = Table(title=f"portfolio: {result.summary.planned} planned, {result.summary.failed} failed")
    for col in ("scenario", "recommendation", "peak devices", "NPV", "TCO"):
        t.add_column(col)
    for o in result.summary.scenarios:
        r = o.recommendation
        t.add_row(
            o.key,
            r.option if r else f"[red]{o.error}[/]",
            str(r.count or "-") if r else "-",
            _money(r.npv_usd if r else None),
            _money(r.tco_nominal_usd if r else None),
        )
    console.print(t)
    s = result.summary
    console.print(
        f"total spend: TCO {_money(s.total_tco_nominal_usd)}, NPV {_money(s.total_npv_usd)}"
    )
    for h in s.hardware_pool:
        console.print(
            f"pool {h.hardware} ({h.ownership}): {h.devices_at_own_peaks} devices at own peaks, "
            f"{h.devices_at_coincident_peak} at the coincident peak ({', '.join(h.scenarios)})"
        )
    for f in s.fleets:
        console.print(
            f"could share {f.kind} {f.provider} {f.location or ''} {f.hardware}: "
            f"{', '.join(f.scenarios)} ({f.devices_separate} -> {f.devices_pooled} devices)"
        )
    for n in s.notes:
        console.print(f"[yellow]note:[/] {n}")
    console.print(f"reports and summary written to {out}/ (portfolio.md, portfolio.json)")


def register(app: typer.Typer) -> None:
    @app.command("plan")
    @handle_errors
    def plan_cmd(
        scenario: list[Path] = typer.Argument(
            None,
            help="scenario YAML (default: the bundled one); several files or a folder "
            "plan a portfolio",
        ),
        report: Path = typer.Option(None, "--report", help="write the HTML report here"),
        csv_path: Path = typer.Option(None, "--csv", help="write the priced options as CSV"),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
        executor: str = typer.Option(
            "inprocess", "--executor", help="where candidates run: inprocess, process or ray"
        ),
        ray_address: str = typer.Option(
            None, "--ray-address", help="Ray cluster (auto, ray://HOST:10001); default local"
        ),
        workers: int = typer.Option(None, "--workers", help="processes / local Ray CPUs"),
        out: Path = typer.Option(
            None, "--out", help="portfolio: folder for reports and summary (./portfolio-out)"
        ),
        calibration: str = typer.Option(
            None,
            "--calibration",
            help="apply a calibration profile (inferplan calibrate) on its accelerator/engine",
        ),
    ) -> None:
        """Turn a scenario into a recommendation, with the frontier and the rejections."""
        from inferplan.executor import make_executor
        from inferplan.planner.search import plan

        ex = make_executor(executor, workers, ray_address)
        if scenario and (len(scenario) > 1 or scenario[0].is_dir()):
            if calibration is not None:
                raise SpecError("calibration", "applies to one scenario, not a portfolio")
            with ex:
                _plan_portfolio(scenario, ex, out or Path("portfolio-out"), json_out)
            return
        spec = _load(scenario[0] if scenario else None)
        hook = None
        if calibration is not None:
            from inferplan.service.calibration_profiles import efficiency_hook, load_profile

            hook = efficiency_hook(load_profile(calibration))
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            task = bar.add_task("planning", total=1.0)

            def tick(msg: str, frac: float) -> None:
                bar.update(task, completed=frac, description=msg)

            with ex:
                # the terminal summary shows neither the sensitivity nor the latency
                # curve: they are computed for the report and the JSON only
                result = plan(
                    spec, tick, efficiency_for=hook, executor=ex,
                    analyses=json_out or report is not None,
                )
        if report is not None:
            from inferplan.report.html import write_plan_html

            write_plan_html(result, spec, report)
        if csv_path is not None:
            from inferplan.report.export import write_plan_csv

            write_plan_csv(result, csv_path)
        if json_out:
            print_json(result)
            return
        render(result)
        if report is not None:
            console.print(f"report written to {report}")

    @app.command("init")
    @handle_errors
    def init_cmd(
        path: Path = typer.Argument(Path("scenario.yaml"), help="where to write it"),
        force: bool = typer.Option(False, "--force", help="overwrite an existing file"),
    ) -> None:
        """Write a commented starter scenario (the bundled default)."""
        if path.exists() and not force:
            raise SpecError("path", f"{path} exists; use --force to overwrite")
        path.write_text(default_scenario_text(), encoding="utf-8")
        console.print(f"wrote {path}; edit it, then run: inferplan plan {path}")

    @app.command("schema")
    @handle_errors
    def schema_cmd(
        what: str = typer.Argument("scenario", help="scenario"),
    ) -> None:
        """Print the JSON Schema of the scenario file."""
        if what != "scenario":
            raise SpecError("what", "allowed: scenario")
        print(json.dumps(ScenarioSpec.model_json_schema(), indent=2))
