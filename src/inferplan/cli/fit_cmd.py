"""``inferplan fit``: does a model fit, how many sequences at what context."""

from __future__ import annotations

from dataclasses import replace

import typer
from rich.table import Table

from inferplan.cli.common import (
    DP_ATTENTION_OPTION,
    EP_OPTION,
    REDUNDANT_EXPERTS_OPTION,
    console,
    err_console,
    handle_errors,
    print_json,
)
from inferplan.deploy.deployment import fit_layout, resolve, with_expert_parallel
from inferplan.deploy.layout import layout_of
from inferplan.errors import SpecError
from inferplan.memory.unified import soc_memory_note, soc_physical_memory_bytes
from inferplan.results.memory import MemoryBreakdown
from inferplan.specs.hardware import AcceleratorSpec, DeviceKind
from inferplan.units import GB

DEFAULT_CONTEXT = 4096
"""Tokens of context per sequence when --context is not given."""


def render(res: MemoryBreakdown) -> None:
    verdict = "[green]fits[/]" if res.fits else f"[red]does not fit[/]: {res.reason}"
    table = Table(
        title=f"{res.model} on {res.count} x {res.accelerator} "
        f"(tp={res.tp}, pp={res.pp}"
        + (f", ep={res.ep}" if res.ep > 1 else "")
        + (f", dp attention={res.dp_attention}" if res.dp_attention > 1 else "")
        + f", {res.precision}, KV {res.kv_precision}, {res.engine})"
    )
    table.add_column("per device", style="bold")
    table.add_column("GB", justify="right")
    for k, v in res.per_device_bytes.items():
        table.add_row(k.replace("_", " "), f"{v / 1e9:.2f}")
    table.add_row("engine budget", f"{res.engine_budget_bytes / 1e9:.2f}")
    table.add_row("device memory", f"{res.device_capacity_bytes / 1e9:.2f}")
    console.print(table)
    console.print(
        f"parameters {res.total_params / 1e9:.2f} B total, {res.active_params / 1e9:.2f} B active; "
        f"weights {res.weights_bytes / 1e9:.2f} GB; "
        f"KV {res.kv_cache_bytes_per_token / 1e3:.1f} kB/token"
    )
    console.print(
        f"{verdict}. KV capacity {res.kv_capacity_tokens:,} tokens per replica; at "
        f"{res.context_tokens:,} tokens of context at most {res.max_concurrency_at_context} "
        f"sequences; at concurrency {res.concurrency} at most "
        f"{res.max_context_at_concurrency:,} tokens of context."
    )


def with_gpu_memory_limit(a: AcceleratorSpec, limit_gb: float) -> AcceleratorSpec:
    """``a`` with the GPU's share of unified memory set to ``limit_gb`` (an Apple SoC whose
    ``iogpu.wired_limit_mb`` was raised)."""
    if a.kind is not DeviceKind.SOC:
        raise SpecError(
            "gpu-memory-limit-gb",
            f"applies to unified-memory (soc) accelerators only; {a.id} is a {a.kind.value}",
        )
    physical_gb = soc_physical_memory_bytes(a) / GB
    if not 0 < limit_gb <= physical_gb:
        raise SpecError(
            "gpu-memory-limit-gb",
            f"must be > 0 and at most {a.id}'s {physical_gb:.1f} GB of memory; got {limit_gb:g}",
        )
    return a.model_copy(update={"usable_memory_bytes": limit_gb * GB})


def register(app: typer.Typer) -> None:
    @app.command("fit")
    @handle_errors
    def fit_cmd(
        model: str = typer.Argument(..., help="model id or alias (inferplan catalog list models)"),
        gpu: str = typer.Option(..., "--gpu", help="accelerator id"),
        count: int = typer.Option(None, "--count", help="devices in the replica"),
        precision: str = typer.Option("bf16", "--precision", help="weight precision or GGUF type"),
        kv_precision: str = typer.Option(None, "--kv-precision", help="KV-cache precision"),
        context: int = typer.Option(
            None,
            "--context",
            help=f"tokens of context per sequence (default {DEFAULT_CONTEXT}, or the model's "
            "window when shorter)",
        ),
        concurrency: int = typer.Option(1, "--concurrency", help="sequences held at once"),
        tp: int = typer.Option(None, "--tp", help="tensor-parallel degree"),
        pp: int = typer.Option(None, "--pp", help="pipeline-parallel degree"),
        ep: int = EP_OPTION,
        dp_attention: bool = DP_ATTENTION_OPTION,
        redundant_experts: int = REDUNDANT_EXPERTS_OPTION,
        engine: str = typer.Option("vllm", "--engine", help="engine profile id"),
        gpu_memory_limit_gb: float = typer.Option(
            None, "--gpu-memory-limit-gb",
            help="Apple silicon: GB of unified memory the GPU may wire (after sudo sysctl "
            "iogpu.wired_limit_mb); default macOS's limit, 2/3 of memory up to 32 GB, 3/4 above",
        ),
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Memory fit of MODEL on --gpu; without --count, the fewest devices that fit."""
        d = resolve(model, gpu, engine, precision, kv_precision)
        if gpu_memory_limit_gb is not None:
            d = replace(d, accelerator=with_gpu_memory_limit(d.accelerator, gpu_memory_limit_gb))
        soc_note = soc_memory_note(d.accelerator)
        if soc_note:
            err_console.print(f"note: {soc_note}", highlight=False, soft_wrap=True)
        if context is None:
            context = min(DEFAULT_CONTEXT, d.model.max_context)
            if context < DEFAULT_CONTEXT:
                err_console.print(
                    f"note: --context not given; using {d.model.id}'s whole window of "
                    f"{context:,} tokens (the default {DEFAULT_CONTEXT:,} is longer)",
                    highlight=False,
                    soft_wrap=True,
                )
        if ep is not None or dp_attention or redundant_experts:
            d = with_expert_parallel(
                d, 1 if ep is None else ep, dp_attention, tp, pp, None, redundant_experts
            )
            if count is not None and count != d.devices:
                raise SpecError(
                    "count", f"must equal the expert-parallel replica's {d.devices} devices"
                )
            layout: tuple[int, int] | None = (d.tp, d.pp)
        else:
            layout = layout_of(count, tp, pp, d.accelerator.max_devices_per_node)
        res = fit_layout(d, context, concurrency, layout)
        if json_out:
            print_json(res)
        else:
            render(res)
        if not res.fits:
            raise typer.Exit(1)
