"""The REST API under ``/api/v1``: its routes, description and common answers.

The application (API, web UI, security, limits, jobs) is assembled by
:func:`inferplan.server.create_app`, a module above both faces.
"""

from __future__ import annotations

from fastapi import APIRouter

from inferplan.api import (
    routes_analysis,
    routes_bench,
    routes_calibrations,
    routes_catalog,
    routes_plans,
    routes_scenarios,
)

API_PREFIX = "/api/v1"

DESCRIPTION = """\
Team service of inferplan: scenarios with their history, plans (run as jobs),
benchmark runs and calibration profiles, plus the catalog and the fit, perf and
TCO analyses. Errors: 422 lists field errors (`loc`, `field`, `msg`); 409 means
the record changed since the `version` your edit is based on.
"""


COMMON_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"description": "a request the service cannot take (e.g. a host name other "
          "than loopback on a server without tokens)"},
    401: {"description": "an access token is required"},
    403: {"description": "read-only token, or a cross-site write"},
    413: {"description": "the body is larger than 80 MiB"},
}
"""Answers any operation may give, before its handler runs (access, limits)."""


def api_router() -> APIRouter:
    """Every API route under ``/api/v1``."""
    router = APIRouter(prefix=API_PREFIX, responses=COMMON_RESPONSES)
    for module in (routes_catalog, routes_analysis, routes_scenarios, routes_plans,
                   routes_bench, routes_calibrations):
        router.include_router(module.router)
    return router


__all__ = ["API_PREFIX", "COMMON_RESPONSES", "DESCRIPTION", "api_router"]
