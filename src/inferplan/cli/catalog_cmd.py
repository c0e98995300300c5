"""``inferplan catalog list|show`` and ``inferplan model import``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from rich.table import Table

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.cli.common import console, handle_errors, print_json
from inferplan.errors import SpecError

KINDS = ("accelerators", "models", "engines", "providers", "prices", "regions")


def _catalog(kind: str) -> Any:
    if kind == "accelerators":
        return load_accelerators()
    if kind == "models":
        return load_models()
    if kind == "engines":
        return load_engines()
    if kind == "providers":
        from inferplan.catalog.providers import load_providers

        return load_providers()
    if kind == "prices":
        from inferplan.catalog.prices import load_prices

        return load_prices()
    if kind == "regions":
        from inferplan.catalog.prices import load_regions

        return load_regions()
    raise SpecError("kind", f"unknown catalog '{kind}'; allowed: {', '.join(KINDS)}")


def _summary(kind: str, rec: BaseModel) -> list[str]:
    d = rec.model_dump(mode="json")
    if kind == "accelerators":
        pf = d["peak_flops"]
        return [
            f"{d['memory_bytes'] / 1e9:.0f} GB",
            f"{d['memory_bandwidth_bytes_per_s'] / 1e12:.2f} TB/s",
            f"{(pf.get('bf16') or pf.get('fp16') or pf.get('fp32') or 0) / 1e12:.0f}",
            f"{(pf.get('fp8') or 0) / 1e12:.0f}" if pf.get("fp8") else "-",
            f"{d['tdp_w']:.0f} W",
        ]
    if kind == "models":
        return [
            d["family"],
            f"{d['num_layers']}",
            f"{d['hidden_size']}",
            f"{d['num_experts']}x{d['experts_per_token']}" if d["num_experts"] else "dense",
            f"{d['max_context']}",
        ]
    return [str(d.get("name", ""))]


_HEADERS = {
    "accelerators": ["memory", "bandwidth", "16-bit TFLOP/s", "fp8 TFLOP/s", "TDP"],
    "models": ["family", "layers", "hidden", "experts", "max context"],
}


def register(app: typer.Typer) -> None:
    catalog_app = typer.Typer(help="Browse the sourced catalogs.", no_args_is_help=True)
    model_app = typer.Typer(help="Model records.", no_args_is_help=True)

    @catalog_app.command("list")
    @handle_errors
    def list_cmd(
        kind: str = typer.Argument("accelerators", help=f"one of: {', '.join(KINDS)}"),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """List a catalog's records with their source date."""
        cat = _catalog(kind)
        if json_out:
            print_json([r.model_dump(mode="json") for r in cat])
            return
        headers = _HEADERS.get(kind, ["name"])
        table = Table(title=f"{kind} ({len(cat)})")
        table.add_column("id", style="bold")
        for h in headers:
            table.add_column(h)
        table.add_column("as of")
        for r in cat:
            table.add_row(r.id, *_summary(kind, r), str(r.as_of))
        console.print(table)

    @catalog_app.command("show")
    @handle_errors
    def show_cmd(
        kind: str = typer.Argument(..., help=f"one of: {', '.join(KINDS)}"),
        record_id: str = typer.Argument(..., help="id or alias"),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Show one record with all its fields, source and date."""
        rec = _catalog(kind).get(record_id, kind.rstrip("s"))
        data = rec.model_dump(mode="json")
        if json_out:
            print_json(data)
            return
        table = Table(title=f"{kind.rstrip('s')} {rec.id}", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for k, v in data.items():
            table.add_row(k, str(v))
        console.print(table)

    @model_app.command("import")
    @handle_errors
    def import_cmd(
        config: Path = typer.Argument(..., help="a local Hugging Face config.json"),
        model_id: str = typer.Option(None, "--id", help="id for the new record"),
        output: Path = typer.Option(None, "--output", "-o", help="write the record as YAML"),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Turn a local Hugging Face config.json into a model record (no network)."""
        import yaml

        from inferplan.catalog.hf_import import import_hf_config

        spec = import_hf_config(config, model_id)
        data = spec.model_dump(mode="json", exclude_defaults=True)
        data.setdefault("source", spec.source)
        data.setdefault("as_of", str(spec.as_of))
        if output is not None:
            if output.exists():
                raise SpecError("output", f"{output} exists; choose a new file")
            output.write_text(yaml.safe_dump({"records": [data]}, sort_keys=False))
        if json_out:
            print_json(data)
        else:
            console.print(yaml.safe_dump(data, sort_keys=False))

    app.add_typer(catalog_app, name="catalog")
    app.add_typer(model_app, name="model")
