"""The inferplan team service as one ASGI application: REST API, web UI, security.

``create_app(settings, store)`` assembles the faces (the API of
:mod:`inferplan.api` under ``/api/v1`` and the pages of :mod:`inferplan.web`
under ``/ui``) with the job manager, the access rules and the request limits;
``inferplan serve`` runs it with uvicorn. The OpenAPI document is at
``/api/v1/openapi.json`` (the interactive documentation pages are off: they load
scripts from a CDN).

Middleware, outermost first: trusted forwarded headers
(:mod:`inferplan.api.proxy`), the body limit (:mod:`inferplan.api.limits`), CORS
when configured, access and browser safety (:mod:`inferplan.api.security`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse

from inferplan import __version__
from inferplan.api.app import API_PREFIX, DESCRIPTION, api_router
from inferplan.api.errors import install_error_handlers
from inferplan.api.jobs import JobManager, server_name
from inferplan.api.limits import BodyLimit
from inferplan.api.proxy import ForwardedHeaders, parse_networks
from inferplan.api.security import install_security
from inferplan.api.settings import ServiceSettings
from inferplan.store.database import Store, open_store
from inferplan.web.pages import install_web

log = logging.getLogger("inferplan.server")


def create_app(settings: ServiceSettings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app; without ``store``, open (and migrate) the configured database."""
    settings = settings or ServiceSettings()
    settings.check()
    own_store = store is None
    the_store = store if store is not None else open_store(settings.database_url)
    jobs = JobManager(the_store, settings.plan_workers, server_name(settings.port),
                      settings.max_queued_jobs)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        n = jobs.start()
        if n:
            log.warning("%d plan(s) left unfinished by a stopped server marked interrupted", n)
        yield
        jobs.shutdown()
        if own_store:
            the_store.dispose()

    app = FastAPI(
        title="inferplan",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = the_store
    app.state.jobs = jobs
    install_error_handlers(app)
    app.include_router(api_router())

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    install_web(app)
    install_security(app, settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(BodyLimit)
    app.add_middleware(ForwardedHeaders,
                       networks=parse_networks(settings.trusted_proxies))
    return app


__all__ = ["create_app"]
