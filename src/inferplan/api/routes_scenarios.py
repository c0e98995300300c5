"""``/api/v1/scenarios``: create, read, update (with history), delete, duplicate, diff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from inferplan.api.deps import PathId, QueryId, get_store
from inferplan.api.documents import (
    diff_documents,
    document_from,
    to_yaml,
    unified_diff,
    validate_document,
)
from inferplan.api.schemas import (
    DiffSide,
    DuplicateIn,
    ScenarioDiff,
    ScenarioIn,
    ScenarioList,
    ScenarioOut,
    ScenarioSummary,
    ScenarioUpdate,
    ScenarioVersionOut,
    ValidationOut,
)
from inferplan.store import scenarios as repo
from inferplan.store.database import Store
from inferplan.store.tables import Scenario

router = APIRouter(prefix="/scenarios", tags=["scenarios"])
StoreDep = Annotated[Store, Depends(get_store)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such scenario"}}


def _summary(row: Scenario) -> ScenarioSummary:
    return ScenarioSummary(
        id=row.id,
        name=row.name,
        version=row.version,
        description=row.description,
        updated_at=row.updated_at,
    )


@router.get("", response_model=ScenarioList, summary="List scenarios")
def list_scenarios(
    store: StoreDep,
    q: Annotated[str | None, Query(max_length=200, description="name contains")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> ScenarioList:
    rows, total = repo.list_scenarios(store, q, limit, offset)
    return ScenarioList(items=[_summary(r) for r in rows], total=total)


@router.post("", response_model=ScenarioOut, status_code=201, summary="Create a scenario")
def create_scenario(body: ScenarioIn, store: StoreDep, response: Response) -> Scenario:
    doc = document_from(body.document, body.yaml)
    validate_document(doc)
    row = repo.create_scenario(store, doc, body.comment)
    response.headers["Location"] = f"/api/v1/scenarios/{row.id}"
    response.headers["ETag"] = f'"{row.version}"'
    return row


@router.post("/validate", response_model=ValidationOut, summary="Validate without saving")
def validate(body: ScenarioIn) -> ValidationOut:
    spec = validate_document(document_from(body.document, body.yaml))
    return ValidationOut(valid=True, name=spec.name, plannable=bool(spec.models and spec.slo))


@router.get("/diff", response_model=ScenarioDiff, responses=NOT_FOUND,
            summary="Compare two scenarios (or two versions)")
def diff_scenarios(
    store: StoreDep,
    a: QueryId,
    b: QueryId,
    a_version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    b_version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> ScenarioDiff:
    sides = []
    for sid, ver in ((a, a_version), (b, b_version)):
        if ver is None:
            ver = repo.get_scenario(store, sid).version
        v = repo.get_version(store, sid, ver)
        sides.append((DiffSide(scenario_id=sid, version=ver, name=v.name), v.document))
    (sa, da), (sb, db) = sides
    return ScenarioDiff(
        a=sa,
        b=sb,
        changes=diff_documents(da, db),
        unified=unified_diff(da, db, f"{sa.name} v{sa.version}", f"{sb.name} v{sb.version}"),
    )


@router.get("/{scenario_id}", response_model=ScenarioOut, responses=NOT_FOUND,
            summary="Read a scenario")
def get_scenario(scenario_id: PathId, store: StoreDep, response: Response) -> Scenario:
    row = repo.get_scenario(store, scenario_id)
    response.headers["ETag"] = f'"{row.version}"'
    return row


@router.get("/{scenario_id}/yaml", summary="A scenario as YAML", response_class=Response,
            responses={**NOT_FOUND, 200: {"description": "the scenario document as YAML",
                                          "content": {"application/yaml":
                                                      {"schema": {"type": "string"}}}}})
def get_yaml(scenario_id: PathId, store: StoreDep) -> Response:
    row = repo.get_scenario(store, scenario_id)
    return Response(to_yaml(row.document), media_type="application/yaml")


@router.put(
    "/{scenario_id}",
    response_model=ScenarioOut,
    responses={**NOT_FOUND, 409: {"description": "the scenario changed since `version`"}},
    summary="Save a new version (optimistic concurrency)",
)
def update_scenario(
    scenario_id: PathId, body: ScenarioUpdate, store: StoreDep, response: Response
) -> Scenario:
    doc = document_from(body.document, body.yaml)
    validate_document(doc)
    row = repo.update_scenario(store, scenario_id, doc, body.version, body.comment)
    response.headers["ETag"] = f'"{row.version}"'
    return row


@router.delete(
    "/{scenario_id}",
    status_code=204,
    responses={**NOT_FOUND, 409: {"description": "the scenario changed since `version`"}},
    summary="Delete a scenario and its history",
)
def delete_scenario(
    scenario_id: PathId,
    store: StoreDep,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    repo.delete_scenario(store, scenario_id, version)
    return Response(status_code=204)


@router.post("/{scenario_id}/duplicate", response_model=ScenarioOut, status_code=201,
             responses=NOT_FOUND, summary="Copy a scenario into a new one")
def duplicate(
    scenario_id: PathId, store: StoreDep, body: DuplicateIn | None = None
) -> Scenario:
    return repo.duplicate_scenario(store, scenario_id, body.name if body else None)


@router.get("/{scenario_id}/versions", response_model=list[ScenarioVersionOut],
            responses=NOT_FOUND, summary="History of a scenario")
def versions(
    scenario_id: PathId,
    store: StoreDep,
    documents: Annotated[bool, Query(description="include each version's document")] = False,
) -> list[ScenarioVersionOut]:
    return [
        ScenarioVersionOut(
            version=v.version,
            name=v.name,
            comment=v.comment,
            created_at=v.created_at,
            document=v.document if documents else None,
        )
        for v in repo.list_versions(store, scenario_id)
    ]


@router.get("/{scenario_id}/versions/{version}", response_model=ScenarioVersionOut,
            responses=NOT_FOUND, summary="One version of a scenario")
def version(scenario_id: PathId, version: PathId, store: StoreDep) -> ScenarioVersionOut:
    v = repo.get_version(store, scenario_id, version)
    return ScenarioVersionOut(
        version=v.version, name=v.name, comment=v.comment, created_at=v.created_at,
        document=v.document,
    )


@router.get("/{scenario_id}/diff", response_model=ScenarioDiff, responses=NOT_FOUND,
            summary="Compare two versions of one scenario")
def diff_versions(
    scenario_id: PathId,
    store: StoreDep,
    from_version: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1)],
    to_version: Annotated[int | None, Query(alias="to", ge=1, le=2**31 - 1)] = None,
) -> ScenarioDiff:
    return diff_scenarios(store, scenario_id, scenario_id, from_version, to_version)
