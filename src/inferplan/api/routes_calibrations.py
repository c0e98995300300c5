"""``/api/v1/calibrations``: named calibration profiles (engine, accelerator, parameters).

A profile records efficiency parameters fitted from benchmark runs for one engine
on one accelerator: fields of ``EngineEfficiency``, numbers within their ranges
(checked by :func:`inferplan.service.calibration_store.check_parameters`).
``POST /plans`` and ``POST /perf`` apply a profile they name (``calibration``).
Engine and accelerator must be catalog ids (aliases are stored as the canonical
id). Updates name the version they are based on (409 when it is stale), like
scenarios.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from inferplan.api.deps import PathId, get_store
from inferplan.api.documents import normalise
from inferplan.api.errors import FieldError, FieldErrors
from inferplan.api.schemas import CalibrationIn, CalibrationOut, CalibrationUpdate
from inferplan.catalog import load_accelerators, load_engines
from inferplan.errors import UnknownIdError
from inferplan.service.calibration_store import check_parameters
from inferplan.store import records as repo
from inferplan.store.database import Store
from inferplan.store.tables import Calibration

router = APIRouter(prefix="/calibrations", tags=["calibration profiles"])
StoreDep = Annotated[Store, Depends(get_store)]
RESPONSES: dict[int | str, dict[str, Any]] = {404: {"description": "no such profile"},
             409: {"description": "stale version or name in use"}}


def _canonical(engine: str | None, accelerator: str | None) -> tuple[str | None, str | None]:
    errors: list[FieldError] = []
    out: list[str | None] = []
    for field, value, loader in (("engine", engine, load_engines),
                                 ("accelerator", accelerator, load_accelerators)):
        if value is None:
            out.append(None)
            continue
        try:
            out.append(loader().get(value, field).id)
        except UnknownIdError as exc:
            errors.append(FieldError(field, exc.message, "unknown_id"))
            out.append(None)
    if errors:
        raise FieldErrors(errors)
    return out[0], out[1]


@router.get("", response_model=list[CalibrationOut], summary="List calibration profiles")
def list_profiles(store: StoreDep) -> list[Calibration]:
    return repo.list_calibrations(store)


@router.post("", response_model=CalibrationOut, status_code=201, responses=RESPONSES,
             summary="Create a calibration profile")
def create_profile(body: CalibrationIn, store: StoreDep, response: Response) -> Calibration:
    engine, acc = _canonical(body.engine, body.accelerator)
    assert engine is not None and acc is not None
    params = normalise(body.parameters, "parameters")
    check_parameters(engine, params)
    row = repo.create_calibration(store, body.name, engine, acc, params, body.notes)
    response.headers["Location"] = f"/api/v1/calibrations/{row.id}"
    return row


@router.get("/{cal_id}", response_model=CalibrationOut, responses=RESPONSES,
            summary="One calibration profile")
def get_profile(cal_id: PathId, store: StoreDep) -> Calibration:
    return repo.get_calibration(store, cal_id)


@router.put("/{cal_id}", response_model=CalibrationOut, responses=RESPONSES,
            summary="Change a calibration profile (optimistic concurrency)")
def update_profile(cal_id: PathId, body: CalibrationUpdate, store: StoreDep) -> Calibration:
    engine, acc = _canonical(body.engine, body.accelerator)
    if engine is not None or body.parameters is not None:
        old = repo.get_calibration(store, cal_id)
        params: dict[str, Any] = (body.parameters if body.parameters is not None
                                  else old.parameters)
        check_parameters(engine or old.engine, params)
    changes = {
        "name": body.name,
        "engine": engine,
        "accelerator": acc,
        "parameters": normalise(body.parameters, "parameters") if body.parameters is not None
        else None,
        "notes": body.notes,
    }
    return repo.update_calibration(store, cal_id, body.version, changes)


@router.delete("/{cal_id}", status_code=204, responses=RESPONSES,
               summary="Delete a calibration profile")
def delete_profile(cal_id: PathId, store: StoreDep) -> Response:
    repo.delete_calibration(store, cal_id)
    return Response(status_code=204)
