"""``/api/v1/fit``, ``/api/v1/perf``, ``/api/v1/tco``: the single-question analyses.

``perf`` answers with :func:`inferplan.service.perf.predict`: a static batch, a
closed-loop concurrency, Poisson arrivals or the saturated maximum throughput,
each figure with its interval from the validation residuals.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from inferplan.api.deps import get_store
from inferplan.api.documents import resolve_ref
from inferplan.api.errors import FieldError, FieldErrors
from inferplan.api.schemas import FitIn, PerfIn, TcoIn
from inferplan.deploy.deployment import fit_layout, resolve
from inferplan.errors import InfeasibleError
from inferplan.memory.fit import check_parallelism
from inferplan.results.memory import MemoryBreakdown
from inferplan.results.perf import PerfResult
from inferplan.service.calibration_db import DatabaseCalibrationStore
from inferplan.service.calibration_store import StoredCalibration, apply_calibration
from inferplan.service.perf import predict
from inferplan.service.tco import price_scenario
from inferplan.store.database import Store
from inferplan.store.errors import NotFoundError
from inferplan.store.records import json_safe

router = APIRouter(tags=["analysis"])
StoreDep = Annotated[Store, Depends(get_store)]


def profile_named(store: Store, name: str) -> StoredCalibration:
    """A stored profile by name; an unknown name is a field error on ``calibration``."""
    try:
        return DatabaseCalibrationStore(store).get(name)
    except NotFoundError:
        raise FieldErrors([FieldError("calibration", f"no calibration profile named "
                                      f"'{name}'; see GET /api/v1/calibrations")]) from None


@router.post("/fit", response_model=MemoryBreakdown, summary="Memory fit of a model")
def fit_model(body: FitIn) -> MemoryBreakdown:
    """Memory per device; without ``tp``/``pp``, on the fewest devices that fit."""
    d = resolve(body.model, body.gpu, body.engine, body.precision, body.kv_precision)
    layout = None if body.tp is None and body.pp is None else (body.tp or 1, body.pp or 1)
    return fit_layout(d, body.context_tokens, body.concurrency, layout)


@router.post("/perf", response_model=None, summary="Latency and throughput of a deployment",
             responses={200: {"model": PerfResult}})
def perf(body: PerfIn, store: StoreDep) -> JSONResponse:
    """:func:`inferplan.service.perf.predict` under one regime: a static ``batch``, a
    closed-loop ``concurrency``, a Poisson ``rate_rps``, or (none given) the
    saturated maximum throughput; with ``calibration``, that stored profile's
    efficiencies."""
    d = resolve(body.model, body.gpu, body.engine, body.precision, body.kv_precision,
                body.tp, body.pp, body.replicas)
    if body.calibration is not None:
        d = apply_calibration(d, profile_named(store, body.calibration))
    check_parallelism(d.model, d.accelerator, body.tp, body.pp)
    try:
        res = predict(d, body.input_tokens, body.output_tokens, batch=body.batch,
                      concurrency=body.concurrency, rate_rps=body.rate_rps,
                      slo_ttft_ms=body.slo_ttft_ms, slo_tpot_ms=body.slo_tpot_ms,
                      with_curve=body.with_curve)
    except InfeasibleError as exc:
        raise FieldErrors([FieldError("tp", str(exc), "infeasible")]) from None
    return JSONResponse(json_safe(res.model_dump(mode="json")))


@router.post("/tco", summary="Compare the scenario's deployment options by TCO",
             responses={404: {"description": "no such scenario or version"}})
def tco(body: TcoIn, store: StoreDep) -> dict[str, Any]:
    """The :class:`~inferplan.tco.results.TcoComparison` of the scenario's ``options``
    (monthly cash flows, NPV, cost per million tokens), optionally with sensitivity."""
    _, spec, _, _ = resolve_ref(store, body.scenario_id, body.scenario_version, body.document,
                                body.yaml)
    if not spec.options:
        raise FieldErrors([FieldError("options", "tco needs deployment options; "
                                      "use plan to search them")], ("body", "document"))
    return json_safe(price_scenario(spec, sensitivity=body.sensitivity).as_json())
