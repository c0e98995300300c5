"""UI pages for scenarios and plans (server-rendered; writes go through the REST API).

The pages read the store through the same repository the API uses; every change a
user makes (save, run, cancel, delete) is a ``fetch`` to ``/api/v1`` from
``static/app.js``, so the UI has no write path of its own.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from inferplan.catalog.prices import load_regions
from inferplan.http_shared import MAX_ID, PathId
from inferplan.service.comparisons import compare_plan_results, diff_documents, to_yaml
from inferplan.specs.plan import ALL_KINDS
from inferplan.specs.policy import DataClass
from inferplan.specs.scenario import ProfilePreset
from inferplan.store import records as plans_repo
from inferplan.store import scenarios as repo
from inferplan.store.errors import NotFoundError
from inferplan.web.render import (
    STATIC_DIR,
    Lookup,
    chart_labels,
    flatten,
    page,
    plan_chart_data,
    side_by_side,
)

router = APIRouter(prefix="/ui", include_in_schema=False)
FORM_SECTIONS = {"name", "description", "models", "region", "workload", "slo", "policy",
                 "finance", "candidates"}
OptId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _default_document() -> dict[str, Any]:
    from importlib import resources

    text = (resources.files("inferplan") / "examples" / "default.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return json.loads(json.dumps(doc, default=str))


def _text(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _facts(doc: dict[str, Any]) -> dict[str, str]:
    """One-line summaries of a scenario's sections for its page."""
    w = doc.get("workload") or {}
    slo, pol, fin = doc.get("slo") or {}, doc.get("policy") or {}, doc.get("finance") or {}
    if w.get("requests_per_day") is not None:
        volume = f"{w['requests_per_day']:,} requests/day"
    else:
        users = w.get("users")
        users_text = f"{users:,}" if isinstance(users, int) else "?"
        volume = f"{users_text} users × {w.get('requests_per_user_per_day', '?')}/day"
    shape = w.get("profile", "always_on")
    shape = shape if isinstance(shape, str) else "custom hourly weights"
    growth = w.get("growth_per_year", 0)
    return {
        "volume": f"{volume}; {shape}; growth {growth:.0%} a year" if w else "—",
        "tokens": f"{w.get('input_tokens_mean', '?')} in, {w.get('output_tokens_mean', '?')} "
        "out (mean per request)",
        "slo": f"TTFT {slo.get('ttft_ms')} ms, TPOT {slo.get('tpot_ms')} ms at "
        f"p{slo.get('percentile', 95)}" if slo else "none (a plan needs them)",
        "policy": "; ".join(f"{k.replace('_', ' ')} {_text(v)}" for k, v in pol.items())
        if pol else "none",
        "finance": f"{fin.get('horizon_years', '?')} years, discount rate "
        f"{fin.get('discount_rate', 0):.1%}" if fin else "—",
    }


PAGE_SIZE = 50
"""Rows per page of the scenario and plan lists (a page renders in a few milliseconds,
so list pages stay fast under concurrent use; see benchmarks/service_lists.py)."""


def _pager(page_no: int, total: int) -> dict[str, int | None]:
    """Current page, page count, and the previous and next page numbers (None at the ends).

    >>> _pager(2, 120)
    {'page': 2, 'pages': 3, 'prev': 1, 'next': 3}
    """
    pages = max(1, -(-total // PAGE_SIZE))
    return {
        "page": page_no,
        "pages": pages,
        "prev": page_no - 1 if page_no > 1 else None,
        "next": page_no + 1 if page_no < pages else None,
    }


@router.get("/", response_class=HTMLResponse)
def index(request: Request, q: Annotated[str | None, Query(max_length=200)] = None,
          page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1
          ) -> HTMLResponse:
    store = request.app.state.store
    rows, total = repo.list_scenarios(store, q, PAGE_SIZE, (page_no - 1) * PAGE_SIZE)
    scenarios = [{"id": r.id, "name": r.name, "version": r.version, "updated_at": r.updated_at,
                  "description": r.description} for r in rows]
    plans, _ = plans_repo.list_plans(store, None, 10)
    return page(request, "index.html", "scenarios", scenarios=scenarios, total=total,
                 plans=plans, q=q, pager=_pager(page_no, total))


def _editor(request: Request, doc: dict[str, Any], scenario: Any, origin: str) -> HTMLResponse:
    return page(
        request, "scenario_edit.html", "scenarios",
        doc=doc, v=Lookup(flatten(doc)), scenario=scenario, origin=origin,
        yaml_text=to_yaml(doc),
        regions=[r.id for r in load_regions()],
        profiles=[p.value for p in ProfilePreset],
        data_classes=[c.value for c in DataClass],
        kinds=list(ALL_KINDS),
        other_sections=[k for k in doc if k not in FORM_SECTIONS],
    )


@router.get("/scenarios/new", response_class=HTMLResponse)
def new_scenario(request: Request, copy_of: Annotated[OptId, Query(alias="from")] = None
                 ) -> HTMLResponse:
    if copy_of is not None:
        src = repo.get_scenario(request.app.state.store, copy_of)
        doc = dict(src.document)
        doc["name"] = f"{src.name} (copy)"
        return _editor(request, doc, None, f"a copy of {src.name} v{src.version}")
    return _editor(request, _default_document(), None, "the bundled example scenario")


@router.get("/scenarios/{scenario_id}", response_class=HTMLResponse)
def scenario_page(request: Request, scenario_id: PathId) -> HTMLResponse:
    store = request.app.state.store
    row = repo.get_scenario(store, scenario_id)
    others, _ = repo.list_scenarios(store, None, 200)
    plans, _ = plans_repo.list_plans(store, scenario_id, 20)
    return page(
        request, "scenario.html", "scenarios", scenario=row, doc=row.document,
        facts=_facts(row.document), yaml_text=to_yaml(row.document),
        history=repo.list_versions(store, scenario_id),
        others=[o for o in others if o.id != scenario_id], plans=plans,
    )


@router.get("/scenarios/{scenario_id}/edit", response_class=HTMLResponse)
def edit_scenario(request: Request, scenario_id: PathId) -> HTMLResponse:
    row = repo.get_scenario(request.app.state.store, scenario_id)
    return _editor(request, row.document, row, "")


def _compare_page(request: Request, title: str, a: int, av: int | None, b: int,
                  bv: int | None) -> HTMLResponse:
    store = request.app.state.store
    sides = []
    for sid, ver in ((a, av), (b, bv)):
        v = repo.get_version(store, sid, ver if ver is not None
                             else repo.get_scenario(store, sid).version)
        sides.append(({"scenario_id": sid, "version": v.version, "name": v.name}, v.document))
    (sa, doc_a), (sb, doc_b) = sides
    diff = {"a": sa, "b": sb, "changes": diff_documents(doc_a, doc_b)}
    side_a, side_b = side_by_side(to_yaml(doc_a), to_yaml(doc_b))
    return page(request, "compare_scenarios.html", "scenarios", title=title, diff=diff,
                 side_a=side_a, side_b=side_b)


@router.get("/scenarios/{scenario_id}/diff", response_class=HTMLResponse)
def scenario_diff(
    request: Request,
    scenario_id: PathId,
    from_version: Annotated[int, Query(alias="from", ge=1, le=MAX_ID)],
    to_version: Annotated[OptId, Query(alias="to")] = None,
) -> HTMLResponse:
    return _compare_page(request, "Changes between versions", scenario_id, from_version,
                         scenario_id, to_version)


@router.get("/compare/scenarios", response_class=HTMLResponse)
def compare_scenarios(
    request: Request,
    a: Annotated[int, Query(ge=1, le=MAX_ID)],
    b: Annotated[int, Query(ge=1, le=MAX_ID)],
    a_version: OptId = None,
    b_version: OptId = None,
) -> HTMLResponse:
    return _compare_page(request, "Compare scenarios", a, a_version, b, b_version)


@router.get("/plans", response_class=HTMLResponse)
def plans_page(
    request: Request, page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1
) -> HTMLResponse:
    rows, total = plans_repo.list_plans(
        request.app.state.store, None, PAGE_SIZE, (page_no - 1) * PAGE_SIZE
    )
    return page(request, "plans.html", "plans", plans=rows, total=total,
                pager=_pager(page_no, total))


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: PathId) -> HTMLResponse:
    store, jobs = request.app.state.store, request.app.state.jobs
    row = plans_repo.get_plan(store, plan_id)
    job = jobs.get(row.job_id) if row.job_id else None
    result = row.result if row.status == "succeeded" else None
    slo = row.scenario_document.get("slo") if isinstance(row.scenario_document, dict) else None
    others, _ = plans_repo.list_plans(store, None, 100)
    return page(
        request, "plan.html", "plans", plan=row, result=result,
        job_id=job.id if job is not None and job.status in ("queued", "running") else None,
        slo=slo if isinstance(slo, dict) else None,
        chart_data=plan_chart_data(result, slo if isinstance(slo, dict) else None)
        if result else {},
        charts=result is not None,
        other_plans=[o for o in others if o.id != plan_id and o.status == "succeeded"],
    )


@router.get("/plans/{plan_id}/report", response_class=HTMLResponse)
def plan_report(request: Request, plan_id: PathId) -> HTMLResponse:
    """The full self-contained HTML report of a finished plan."""
    row = plans_repo.get_plan(request.app.state.store, plan_id)
    if row.status != "succeeded" or row.result is None:
        raise HTTPException(409, f"plan {plan_id} is {row.status}; it has no report")
    try:
        from inferplan.report.html import render_plan_html
        from inferplan.results.plan import PlanResult
        from inferplan.scenario_io import parse_scenario

        html = render_plan_html(PlanResult.model_validate(row.result),
                                parse_scenario(row.scenario_document))
    except ImportError:
        summary = json.dumps(row.result.get("recommendation"), indent=2)
        return page(request, "report_fallback.html", "plans", plan=row, summary=summary)
    return HTMLResponse(html)


@router.get("/compare/plans", response_class=HTMLResponse)
def compare_plans_page(
    request: Request,
    a: Annotated[int, Query(ge=1, le=MAX_ID)],
    b: Annotated[int, Query(ge=1, le=MAX_ID)],
) -> HTMLResponse:
    store = request.app.state.store
    pa, pb = plans_repo.get_plan(store, a), plans_repo.get_plan(store, b)
    cmp = {"a": pa, "b": pb, "rows": compare_plan_results(pa.result, pb.result),
           "scenario_changes": diff_documents(pa.scenario_document, pb.scenario_document)}
    npv_a = {o["name"]: o["npv_usd"] for o in (pa.result or {}).get("options") or []}
    npv_b = {o["name"]: o["npv_usd"] for o in (pb.result or {}).get("options") or []}
    names = sorted(set(npv_a) | set(npv_b), key=lambda n: min(npv_a.get(n) or 1e30,
                                                              npv_b.get(n) or 1e30))[:15]
    chart = {"names": names, "labels": chart_labels(names), "a": [npv_a.get(n) for n in names],
             "b": [npv_b.get(n) for n in names], "label_a": f"#{a}", "label_b": f"#{b}"}
    return page(request, "compare_plans.html", "plans", cmp=cmp, chart_data={"npv2": chart},
                 charts=True)


def install_web(app: FastAPI) -> None:
    """Mount the UI pages, the static files and plotly.js on ``app``."""
    from inferplan.web import pages_more

    @app.exception_handler(NotFoundError)
    async def _missing(request: Request, exc: NotFoundError) -> Response:
        if request.url.path.startswith("/ui/"):
            body = Markup("<!doctype html><title>Not found</title><p>{}. "
                          "<a href='/ui/'>Back to the scenarios</a></p>").format(str(exc))
            return HTMLResponse(str(body), status_code=404)
        from fastapi.responses import JSONResponse

        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Pages under /ui answer errors (an unknown path included) with a page."""
        if request.url.path == "/ui" or request.url.path.startswith("/ui/"):
            title = "Not found" if exc.status_code == 404 else f"Error {exc.status_code}"
            text = ("There is no page at this address." if exc.status_code == 404
                    else str(exc.detail))
            body = Markup("<!doctype html><title>{}</title><link rel='stylesheet' "
                          "href='/ui/static/app.css'><main><h1>{}</h1><p>{} "
                          "<a href='/ui/'>Back to the scenarios</a></p></main>"
                          ).format(title, title, text)
            return HTMLResponse(str(body), status_code=exc.status_code, headers=exc.headers)
        from fastapi.responses import JSONResponse

        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=exc.headers)

    app.include_router(pages_more.static_router)
    app.mount("/ui/static", StaticFiles(directory=str(STATIC_DIR)), name="ui-static")
    app.include_router(router)
    app.include_router(pages_more.router)

    @app.get("/ui", include_in_schema=False)
    def _ui_root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)
