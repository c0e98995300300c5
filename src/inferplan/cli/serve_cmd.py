"""``inferplan serve``: the team service (REST API and web UI) on one port."""

from __future__ import annotations

import logging

import typer

from inferplan.cli.common import SERVICE_MODULES, console, handle_errors, require_extra


def serve(
    host: str,
    port: int,
    database_url: str | None,
    cors_origins: list[str] | None,
    bench_allow: list[str] | None,
    log_level: str = "info",
    trusted_proxies: list[str] | None = None,
) -> None:
    """Check the settings, open and migrate the store, then run uvicorn until stopped."""
    import uvicorn

    from inferplan.api.settings import ServiceSettings
    from inferplan.server import create_app
    from inferplan.store.database import open_store, redact_url, resolve_database_url

    settings = ServiceSettings.from_env(host, port, database_url, cors_origins, bench_allow,
                                        trusted_proxies)
    from inferplan.cli.db_cmd import database_errors

    url = resolve_database_url(settings.database_url)
    with database_errors():
        store = open_store(url)
    app = create_app(settings, store)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"inferplan serving on http://{shown}:{port}/ui/  (store: {redact_url(url)})",
                  highlight=False, soft_wrap=True)
    if settings.auth_required:
        console.print("access tokens required (read-write and/or read-only)", highlight=False)
    logging.basicConfig(level=log_level.upper())
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False,
                    server_header=False)
    finally:
        store.dispose()


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""

    @app.command("serve")
    @handle_errors
    def serve_cmd(
        host: str = typer.Option(
            "127.0.0.1", "--host",
            help="Address to bind. Anything but loopback needs INFERPLAN_API_TOKEN "
            "(read-write) and/or INFERPLAN_API_READ_TOKEN (read-only).",
        ),
        port: int = typer.Option(8321, "--port", min=0, max=65535, help="Port to listen on."),
        database_url: str = typer.Option(
            None, "--database-url",
            help="sqlite:///PATH or postgresql://USER:PASS@HOST/DB (default: "
            "$INFERPLAN_DATABASE_URL, else inferplan.db in the user data folder).",
        ),
        cors_origin: list[str] = typer.Option(
            None, "--cors-origin", help="Web origin allowed to call the API (repeatable)."
        ),
        bench_allow: list[str] = typer.Option(
            None, "--bench-allow",
            help="Server URL the API may benchmark (repeatable; none by default).",
        ),
        log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
        trusted_proxy: list[str] = typer.Option(
            None, "--trusted-proxy",
            help="Address or network of a reverse proxy whose X-Forwarded-Proto/-Host/-For "
            "headers are honoured (repeatable; none by default).",
        ),
    ) -> None:
        """Serve the REST API (/api/v1) and the web UI (/ui) for a team."""
        require_extra("service", SERVICE_MODULES, "inferplan serve")
        serve(host, port, database_url, cors_origin or None, bench_allow or None, log_level,
              trusted_proxy or None)


__all__ = ["register", "serve"]
