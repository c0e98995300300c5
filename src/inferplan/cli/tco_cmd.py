"""``inferplan tco SCENARIO.yaml``: compare deployment options by total cost of ownership."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from inferplan.cli.common import console, handle_errors, print_json
from inferplan.scenario_io import load_scenario
from inferplan.service.tco import MAX_DRAWS, price_scenario
from inferplan.tco.results import MonteCarloResult, TcoComparison, TornadoBar


def _usd(x: float | None) -> str:
    if x is None:
        return "-"
    return f"-${-x:,.0f}" if x < -0.5 else f"${abs(x):,.0f}"


def _num(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def _money(x: float | None, currency: str) -> str:
    if x is None:
        return "-"
    return f"{currency} {x:,.0f}"


def _summary_table(res: TcoComparison) -> Table:
    t = Table(title=f"TCO over {res.horizon_months} months, discount rate {res.discount_rate:.2%}")
    taxed = res.tax_rate is not None
    foreign = res.currency != "USD"
    cols = ["option", "kind", "TCO nominal", "NPV"]
    if taxed:
        cols.append(f"after-tax NPV ({res.tax_rate:.0%})")
    if foreign:
        cols.append(f"NPV {res.currency}")
    cols += ["$/1M tok", "levelised $/1M", "kWh/1M tok", "kg CO2/1M tok", "served"]
    for col in cols:
        t.add_column(col, justify="left" if col in ("option", "kind") else "right")
    for o in res.options:
        mark = " *" if o.name == res.cheapest_by_npv else ("" if o.ranked else " (not ranked)")
        row = [o.name + mark, o.kind, _usd(o.tco_nominal_usd), _usd(o.npv_usd)]
        if taxed:
            row.append(_usd(o.after_tax_npv_usd))
        if foreign:
            row.append(_money((o.in_currency or {}).get("npv"), res.currency))
        row += [
            _num(o.usd_per_million_tokens),
            _num(o.levelised_usd_per_million_tokens),
            _num(o.kwh_per_million_tokens),
            _num(o.kg_co2_per_million_tokens),
            f"{o.served_share:.1%}",
        ]
        t.add_row(*row)
    return t


def _baseline_table(res: TcoComparison) -> Table:
    t = Table(title=f"Against the baseline '{res.baseline}' (savings = baseline CF - option CF)")
    for col in ("option", "IRR", "after-tax IRR", "payback month", "discounted payback"):
        t.add_column(col, justify="left" if col == "option" else "right")

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.2%}"

    def month(x: int | None) -> str:
        return "never" if x is None else str(x)

    for o in res.options:
        if o.name == res.baseline:
            continue
        t.add_row(
            o.name,
            pct(o.irr_vs_baseline),
            pct(o.after_tax_irr_vs_baseline),
            month(o.payback_month_vs_baseline),
            month(o.discounted_payback_month_vs_baseline),
        )
    return t


def _breakdown_table(res: TcoComparison) -> Table:
    cats = sorted({c for o in res.options for c in o.breakdown_usd})
    t = Table(title="Cost breakdown (nominal USD)")
    t.add_column("category")
    for o in res.options:
        t.add_column(o.name, justify="right")
    for c in cats:
        t.add_row(
            c, *[_usd(o.breakdown_usd.get(c)) if c in o.breakdown_usd else "" for o in res.options]
        )
    return t


def _cashflow_table(res: TcoComparison, monthly: bool) -> Table:
    t = Table(title="Cash flows (USD; month 0 = order date)" + ("" if monthly else ", by year"))
    t.add_column("month" if monthly else "period")
    for o in res.options:
        t.add_column(o.name, justify="right")
    n = res.horizon_months
    if monthly:
        for m in range(n + 1):
            t.add_row(str(m), *[_usd(o.monthly_cash_flows_usd[m]) for o in res.options])
        return t
    t.add_row("month 0", *[_usd(o.monthly_cash_flows_usd[0]) for o in res.options])
    for y in range(n // 12):
        lo, hi = 12 * y + 1, 12 * y + 12
        t.add_row(
            f"year {y + 1} (m{lo}-{hi})",
            *[_usd(sum(o.monthly_cash_flows_usd[lo : hi + 1])) for o in res.options],
        )
    t.add_row("total", *[_usd(o.tco_nominal_usd) for o in res.options])
    return t


def _break_even_table(res: TcoComparison) -> Table:
    t = Table(title="Break-even month of ROW against COLUMN (nominal; '-' = never)")
    t.add_column("")
    for o in res.options:
        t.add_column(o.name, justify="right")
    for r in res.options:
        cells = []
        for o in res.options:
            m = r.break_even_month.get(o.name)
            cells.append("" if o.name == r.name else ("-" if m is None else str(m)))
        t.add_row(r.name, *cells)
    return t


def _tornado_table(bars: list[TornadoBar], limit: int = 8) -> Table:
    t = Table(title="Tornado: NPV swing per factor (others at base case)")
    for col in ("factor", "range", "source", "max NPV swing", "cheapest low", "cheapest high"):
        t.add_column(col, justify="right" if col == "max NPV swing" else "left")
    for b in bars[:limit]:
        t.add_row(
            b.factor,
            f"x{b.low:g}..x{b.high:g}",
            b.range_source,
            _usd(b.swing_usd),
            b.cheapest_low or "-",
            b.cheapest_high or "-",
        )
    return t


def _mc_table(mc: MonteCarloResult) -> Table:
    t = Table(title=f"Monte Carlo NPV ({mc.draws} draws, seed {mc.seed})")
    for col in ("option", "P10", "P50", "P90", "P(cheapest)"):
        t.add_column(col, justify="left" if col == "option" else "right")
    for name, d in mc.options.items():
        t.add_row(
            name,
            _usd(d.npv_p10_usd),
            _usd(d.npv_p50_usd),
            _usd(d.npv_p90_usd),
            f"{d.probability_cheapest:.0%}",
        )
    return t


def register(app: typer.Typer) -> None:
    """Add the ``tco`` command to ``app``."""

    @app.command("tco")
    @handle_errors
    def tco(
        scenario: Path = typer.Argument(..., help="Scenario YAML (see examples/)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
        monthly: bool = typer.Option(False, "--monthly", help="Show every month's cash flow."),
        sensitivity: bool = typer.Option(
            False, "--sensitivity", help="Add the tornado and the Monte Carlo."
        ),
        draws: int | None = typer.Option(
            None,
            "--draws",
            min=1,
            max=MAX_DRAWS,
            help=f"Monte Carlo draws (default: the scenario's, at most {MAX_DRAWS}).",
        ),
    ) -> None:
        """Compare on-prem, colocation, cloud, API and hybrid options by TCO."""
        spec = load_scenario(scenario)
        analysis = price_scenario(spec, sensitivity=sensitivity, draws=draws)
        res, bars, mc = analysis.comparison, analysis.tornado, analysis.monte_carlo
        if as_json:
            print_json(analysis.as_json())
            return
        console.print(f"[bold]{res.scenario}[/]  {spec.description}".rstrip())
        console.print(_summary_table(res))
        console.print(
            f"Cheapest by NPV: [bold]{escape(res.cheapest_by_npv or 'none ranked')}[/]; "
            f"by nominal TCO: [bold]{escape(res.cheapest_by_nominal or 'none ranked')}[/]"
        )
        if res.cheapest_by_after_tax_npv is not None:
            console.print(
                f"Cheapest by after-tax NPV: [bold]{escape(res.cheapest_by_after_tax_npv)}[/]"
            )
        if res.currency != "USD":
            console.print(
                escape(
                    f"{res.currency}: {res.usd_per_currency_unit:.6g} USD per {res.currency} "
                    f"({res.fx_source.split(' (')[0]}; as of {res.fx_as_of or 'scenario'})"
                ),
                style="dim",
            )
        if res.baseline is not None:
            console.print(_baseline_table(res))
        console.print(_breakdown_table(res))
        console.print(_cashflow_table(res, monthly))
        console.print(_break_even_table(res))
        for o in res.options:
            for w in o.warnings:
                console.print(f"[yellow]warning[/] {escape(o.name)}: {escape(w)}")
        if bars is not None and mc is not None:
            console.print(_tornado_table(bars))
            console.print(_mc_table(mc))
        for note in analysis.notes:
            console.print(f"[yellow]note[/] {escape(note)}")
        console.print(escape(res.conventions), style="dim")


__all__ = ["register"]
