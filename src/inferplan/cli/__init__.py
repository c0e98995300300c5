"""Command-line face of inferplan (Typer)."""
