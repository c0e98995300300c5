"""UI pages for the catalog, benchmark runs, calibration profiles and signing in,
plus plotly.js served from the package (the UI loads nothing from other hosts)."""

from __future__ import annotations

import functools
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from inferplan.catalog import load_accelerators, load_engines
from inferplan.http_shared import COOKIE, MAX_ID, PathId, token_is_valid
from inferplan.service.catalog_views import (
    CatalogKind,
    catalog_entry,
    catalog_kinds,
    search_catalog,
)
from inferplan.service.comparisons import bench_significance, compare_summaries
from inferplan.store import records as repo
from inferplan.web.render import bench_stage_rows, chart_labels, page

router = APIRouter(prefix="/ui", include_in_schema=False)
static_router = APIRouter(include_in_schema=False)

COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "accelerators": [("vendor", "vendor", ""), ("memory_bytes", "memory", "gb"),
                     ("memory_bandwidth_bytes_per_s", "bandwidth", "tbps"),
                     ("tdp_w", "TDP", "w")],
    "models": [("family", "family", ""), ("num_layers", "layers", ""),
               ("hidden_size", "hidden", ""), ("max_context", "max context", "")],
    "engines": [("name", "name", "")],
    "providers": [("name", "name", ""), ("kind", "kind", "")],
    "prices": [("accelerator", "accelerator", ""), ("provider", "provider", "")],
    "regions": [("name", "name", ""), ("country", "country", "")],
}
"""Columns of each catalog's table: record key, heading, display format."""


@functools.cache
def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


@static_router.get("/ui/static/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js from the installed plotly package, cached by the browser for a day."""
    return Response(_plotly_js(), media_type="text/javascript",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(request: Request) -> HTMLResponse:
    kinds = [{"kind": k, "count": n, "description": d} for k, n, d in catalog_kinds()]
    return page(request, "catalog.html", "catalog", kinds=kinds)


@router.get("/catalog/{kind}", response_class=HTMLResponse)
def catalog_list(request: Request, kind: CatalogKind,
                 q: Annotated[str | None, Query(max_length=100)] = None) -> HTMLResponse:
    items = search_catalog(kind, q)[:1000]
    columns = [{"key": k, "label": label, "fmt": f} for k, label, f in COLUMNS.get(kind, [])]
    return page(request, "catalog_list.html", "catalog", kind=kind, q=q, items=items,
                columns=columns)


@router.get("/catalog/{kind}/{record_id}", response_class=HTMLResponse)
def catalog_item(request: Request, kind: CatalogKind, record_id: str) -> HTMLResponse:
    entry = catalog_entry(kind, record_id) if len(record_id) <= 200 else None
    if entry is None:
        raise HTTPException(404, "no such record")
    return page(request, "catalog_item.html", "catalog", kind=kind, item=entry)


@router.get("/bench", response_class=HTMLResponse)
def bench_page(request: Request) -> HTMLResponse:
    runs, _ = repo.list_bench_runs(request.app.state.store, None, 200, 0)
    return page(request, "bench.html", "bench", runs=runs)


@router.get("/bench/compare", response_class=HTMLResponse)
def bench_compare(request: Request, a: Annotated[int, Query(ge=1, le=MAX_ID)],
                  b: Annotated[int, Query(ge=1, le=MAX_ID)]) -> HTMLResponse:
    store = request.app.state.store
    ra, rb = repo.get_bench_run(store, a), repo.get_bench_run(store, b)
    sig = None
    if ra.records_jsonl and rb.records_jsonl:
        from inferplan.bench.results import RequestRecord

        def recs(text: str) -> list[RequestRecord]:
            return [RequestRecord.model_validate_json(x) for x in text.splitlines() if x.strip()]

        sig = bench_significance(recs(ra.records_jsonl), recs(rb.records_jsonl),
                                 f"run {ra.id}", f"run {rb.id}")
    note = ("differences are b - a; change is (b - a) / a; stages are matched by index"
            + ("" if sig else "; upload records.jsonl of both runs for a significance test"))
    cmp = {"a": ra, "b": rb, "rows": compare_summaries(ra.summary, rb.summary),
           "significance": sig, "note": note}
    return page(request, "bench_compare.html", "bench", cmp=cmp)


@router.get("/bench/{run_id}", response_class=HTMLResponse)
def bench_run(request: Request, run_id: PathId) -> HTMLResponse:
    row = repo.get_bench_run(request.app.state.store, run_id)
    stages = bench_stage_rows(row.summary)
    chart = {"labels": chart_labels([s["label"] for s in stages], 40),
             "ttft_p50": [s["ttft_p50"] for s in stages],
             "ttft_p99": [s["ttft_p99"] for s in stages],
             "tpot_p50": [s["tpot_p50"] for s in stages],
             "output_tokens_per_s": [s["output_tokens_per_s"] for s in stages]}
    return page(request, "bench_run.html", "bench", run=row, summary=row.summary,
                 meta=row.summary.get("metadata") or {}, stages=stages,
                 chart_data={"bench": chart}, charts=True)


@router.get("/calibrations", response_class=HTMLResponse)
def calibrations_page(request: Request) -> HTMLResponse:
    return page(request, "calibrations.html", "calibrations",
                 profiles=repo.list_calibrations(request.app.state.store),
                 engines=load_engines().ids(), accelerators=load_accelerators().ids())


def _safe_next(target: str | None) -> str:
    """Only paths inside the UI are followed after signing in (no open redirect)."""
    if not target:
        return "/ui/"
    p = urlsplit(target)
    if p.scheme or p.netloc or not p.path.startswith("/ui/") or target.startswith("//"):
        return "/ui/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next_url: Annotated[str | None, Query(alias="next",
                                                                       max_length=500)] = None
               ) -> HTMLResponse:
    return page(request, "login.html", "", next=_safe_next(next_url), error=None)


@router.post("/login", response_model=None)
def login(request: Request, token: Annotated[str, Form(max_length=4096)],
          next_url: Annotated[str, Form(alias="next", max_length=500)] = "/ui/"
          ) -> Response:
    settings = request.app.state.settings
    if not settings.auth_required:
        return RedirectResponse(_safe_next(next_url), status_code=303)
    if not token_is_valid(settings, token):
        return page(request, "login.html", "", status=401, next=_safe_next(next_url),
                     error="That token is not valid.")
    resp = RedirectResponse(_safe_next(next_url), status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                    secure=request.url.scheme == "https", max_age=12 * 3600)
    return resp


@router.post("/logout")
def logout() -> RedirectResponse:
    resp = RedirectResponse("/ui/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


__all__ = ["router", "static_router"]
