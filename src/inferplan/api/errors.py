"""Error responses of the API, all JSON.

* 422: a malformed request or an invalid field, as a list of field errors
  ``{"detail": [{"loc": [...], "field": "workload.users", "msg": ..., "type": ...}]}``
  (the shape FastAPI uses, plus ``field``, the dotted path inside the body);
* 404: ``{"detail": "scenario 7 not found"}``;
* 409: a stale edit or a name in use: ``{"detail": ..., "current_version": 5}``;
* 403 / 401: access (see :mod:`inferplan.api.security`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from inferplan.api.jobs import QueueFull
from inferplan.api.limits import MAX_ERRORS
from inferplan.errors import BenchmarkError, InfeasibleError, InferplanError, SpecError
from inferplan.store.errors import ConflictError, NotFoundError

log = logging.getLogger("inferplan.api")


@dataclass(frozen=True)
class FieldError:
    """One invalid field; ``field`` is a dotted path like ``options[1].name``."""

    field: str
    msg: str
    type: str = "value_error"


class FieldErrors(InferplanError):
    """Several invalid fields of one request body part (``prefix`` locates the part)."""

    def __init__(self, errors: Sequence[FieldError], prefix: tuple[str, ...] = ("body",)) -> None:
        self.errors = list(errors)
        self.prefix = prefix
        super().__init__("; ".join(f"{e.field}: {e.msg}" for e in self.errors))


def field_loc(field: str) -> list[str | int]:
    """``a.b[2].c`` -> ``["a", "b", 2, "c"]``."""
    out: list[str | int] = []
    for part in field.replace("]", "").split("."):
        head, *idx = part.split("[")
        if head:
            out.append(head)
        out.extend(int(i) if i.isdigit() else i for i in idx)
    return out


def _item(prefix: tuple[str, ...], e: FieldError) -> dict[str, Any]:
    return {"loc": [*prefix, *field_loc(e.field)], "field": e.field, "msg": e.msg, "type": e.type}


def unprocessable(
    errors: Sequence[FieldError], prefix: tuple[str, ...] = ("body",)
) -> JSONResponse:
    """422 with at most ``MAX_ERRORS`` field errors (a last item says how many more)."""
    items = [_item(prefix, e) for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        items.append(_more(len(errors) - MAX_ERRORS))
    return JSONResponse(status_code=422, content={"detail": items})


def _more(n: int) -> dict[str, Any]:
    return {"loc": ["body"], "field": "body", "msg": f"{n} more errors not listed; fix "
            "these first", "type": "too_many_errors"}


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    items = []
    errors = exc.errors()
    for err in errors[:MAX_ERRORS]:
        loc = list(err.get("loc", ()))
        rel = loc[1:] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else loc
        items.append(
            {
                "loc": loc,
                "field": _dotted(rel) or (str(loc[0]) if loc else "body"),
                "msg": str(err.get("msg", "invalid")),
                "type": str(err.get("type", "value_error")),
            }
        )
    if len(errors) > MAX_ERRORS:
        items.append(_more(len(errors) - MAX_ERRORS))
    return JSONResponse(status_code=422, content=jsonable_encoder({"detail": items}))


async def _field_errors(_: Request, exc: FieldErrors) -> JSONResponse:
    return unprocessable(exc.errors, exc.prefix)


async def _spec(_: Request, exc: SpecError) -> JSONResponse:
    return unprocessable([FieldError(exc.field, exc.message)])


async def _infeasible(_: Request, exc: InfeasibleError) -> JSONResponse:
    return unprocessable([FieldError("scenario", str(exc), "infeasible")])


async def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": str(exc)})


async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
    body: dict[str, Any] = {"detail": str(exc)}
    if exc.current_version is not None:
        body["current_version"] = exc.current_version
    return JSONResponse(status_code=409, content=body)


async def _bench(_: Request, exc: BenchmarkError) -> JSONResponse:
    return JSONResponse(status_code=502, content={"detail": str(exc)})


async def _busy(_: Request, exc: QueueFull) -> JSONResponse:
    return JSONResponse(status_code=429, content={"detail": str(exc)},
                        headers={"Retry-After": "30"})


async def _inferplan(_: Request, exc: InferplanError) -> JSONResponse:
    log.warning("unhandled inferplan error: %s", exc)
    return JSONResponse(status_code=400, content={"detail": str(exc)})


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse(
        status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(FieldErrors, _field_errors)  # type: ignore[arg-type]
    app.add_exception_handler(SpecError, _spec)  # type: ignore[arg-type]
    app.add_exception_handler(InfeasibleError, _infeasible)  # type: ignore[arg-type]
    app.add_exception_handler(NotFoundError, _not_found)  # type: ignore[arg-type]
    app.add_exception_handler(ConflictError, _conflict)  # type: ignore[arg-type]
    app.add_exception_handler(BenchmarkError, _bench)  # type: ignore[arg-type]
    app.add_exception_handler(QueueFull, _busy)  # type: ignore[arg-type]
    app.add_exception_handler(InferplanError, _inferplan)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]


__all__ = ["FieldError", "FieldErrors", "field_loc", "install_error_handlers", "unprocessable"]
