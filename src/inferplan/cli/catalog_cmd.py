"""``inferplan catalog list|show`` and ``inferplan model import``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from rich.table import Table

from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.cli.common import console, handle_errors, print_json
from inferplan.errors import SpecError, UnknownIdError

KINDS = ("accelerators", "models", "engines", "providers", "prices", "regions", "datasets")


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
    if kind == "datasets":
        from inferplan.catalog.datasets import load_datasets

        return load_datasets()
    raise SpecError("kind", f"unknown catalog '{kind}'; allowed: {', '.join(KINDS)}")


def _rows(kind: str) -> list[tuple[str | None, BaseModel]]:
    """``(section, record)`` of every record of ``kind``; prices carry their section."""
    cat = _catalog(kind)
    if kind == "prices":
        return [(name, r) for name, sec in cat.sections().items() for r in sec]
    return [(None, r) for r in cat]


def _find(kind: str, record_id: str) -> tuple[str | None, BaseModel]:
    cat = _catalog(kind)
    if kind != "prices":
        return None, cat.get(record_id, kind.rstrip("s"))
    found = cat.find(record_id)
    if found is None:
        import difflib

        ids = [str(getattr(r, "id")) for _, r in _rows(kind)]  # noqa: B009
        close = difflib.get_close_matches(record_id, ids, n=3, cutoff=0.5)
        raise UnknownIdError("price", record_id, close)
    return found


def _append_record(output: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as a one-record catalog file, or append it to an existing one.

    An existing file is kept byte for byte and the record appended at its end; the
    result is parsed back to prove it holds every old record and the new one.
    """
    import yaml

    from inferplan.catalog.loader import read_yaml

    block = yaml.safe_dump({"records": [data]}, sort_keys=False)
    if not output.exists():
        output.write_text(block, encoding="utf-8")
        return
    old = read_yaml(output)
    if not isinstance(old, dict) or not isinstance(old.get("records"), list):
        raise SpecError("output", f"{output} exists and is not a catalog file with 'records'")
    if any(isinstance(r, dict) and r.get("id") == data["id"] for r in old["records"]):
        raise SpecError("output", f"{output} already has id '{data['id']}'; choose another --id")
    text = output.read_text(encoding="utf-8")
    new_text = text + ("" if text.endswith("\n") else "\n") + block.split("\n", 1)[1]
    try:
        merged = yaml.load(new_text, Loader=yaml.CSafeLoader if hasattr(yaml, "CSafeLoader")
                           else yaml.SafeLoader)
    except yaml.YAMLError:
        merged = None
    if not (isinstance(merged, dict) and merged.get("records") == [*old["records"], data]):
        raise SpecError(
            "output", f"cannot append to {output} (records is not its last block); "
            "write to a new file"
        )
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(new_text, encoding="utf-8")
    tmp.replace(output)


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
    if kind == "datasets":
        from inferplan.perf.datasets import dataset_lengths
        from inferplan.specs.dataset import DatasetSpec

        assert isinstance(rec, DatasetSpec)
        lengths = dataset_lengths(rec)
        return [
            d["name"],
            f"{lengths.isl_published} ({lengths.isl_basis})",
            f"{lengths.osl_published} ({lengths.osl_basis})",
        ]
    return [str(d.get("name", ""))]


_HEADERS = {
    "datasets": ["name", "prompt (published; used)", "output (published; used)"],
    "accelerators": ["memory", "bandwidth", "16-bit TFLOP/s", "fp8 TFLOP/s", "TDP"],
    "models": ["family", "layers", "hidden", "experts", "max context"],
    "prices": ["section"],
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
        rows = _rows(kind)
        if json_out:
            print_json([
                {**({"section": sec} if sec else {}), **r.model_dump(mode="json")}
                for sec, r in rows
            ])
            return
        headers = _HEADERS.get(kind, ["name"])
        table = Table(title=f"{kind} ({len(rows)})")
        table.add_column("id", style="bold")
        for h in headers:
            table.add_column(h)
        table.add_column("as of")
        for sec, r in rows:
            summary = [sec or ""] if kind == "prices" else _summary(kind, r)
            table.add_row(str(getattr(r, "id")), *summary, str(getattr(r, "as_of")))  # noqa: B009
        console.print(table)

    @catalog_app.command("show")
    @handle_errors
    def show_cmd(
        kind: str = typer.Argument(..., help=f"one of: {', '.join(KINDS)}"),
        record_id: str = typer.Argument(..., help="id or alias"),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Show one record with all its fields, source and date."""
        section, rec = _find(kind, record_id)
        data = {**({"section": section} if section else {}), **rec.model_dump(mode="json")}
        if json_out:
            print_json(data)
            return
        rid = getattr(rec, "id")  # noqa: B009
        table = Table(title=f"{kind.rstrip('s')} {rid}", show_header=False)
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
        output: Path = typer.Option(
            None, "--output", "-o",
            help="catalog file to write or append to, e.g. DIR/models.yaml of your "
            "--catalog DIR / $INFERPLAN_CATALOG_DIR folder",
        ),
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
            _append_record(output, data)
        if json_out:
            print_json(data)
        else:
            console.print(yaml.safe_dump(data, sort_keys=False), highlight=False)
            if output is not None and output.name != "models.yaml":
                console.print(
                    f"note: commands read models.yaml in a catalog folder, not {output.name}",
                    highlight=False, soft_wrap=True,
                )
            elif output is not None:
                console.print(
                    f"wrote '{data['id']}' to {output}; use it with: inferplan --catalog "
                    f"{output.parent} fit {data['id']} --gpu ...", highlight=False, soft_wrap=True
                )

    app.add_typer(catalog_app, name="catalog")
    app.add_typer(model_app, name="model")
