"""Property-based fuzzing of every operation in the OpenAPI document (schemathesis):
no input may make the service answer with a 5xx, and every answer conforms to the
document (status codes, media types, response schemas and headers; schema-invalid
requests refused; unsupported methods answered 405)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from inferplan.api.settings import ServiceSettings
from inferplan.server import create_app
from inferplan.store import records, scenarios
from inferplan.store.database import Store

MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, negative_data_rejection,
          unsupported_method]
"""schemathesis' conformance checks; not ``positive_data_acceptance``: a schema
cannot say which catalog ids exist, so a schema-valid unknown model id gets 422."""

@pytest.fixture
def app(store: Store) -> Iterator[Any]:
    """The app with ``testserver`` admitted: the in-process client's host name (the app
    otherwise admits only loopback names)."""
    app = create_app(ServiceSettings(extra_hosts=("testserver", "localhost")), store)
    yield app
    app.state.jobs.shutdown()


def _seed(app: Any, doc: dict[str, Any], make_run: Any) -> dict[str, Any]:
    """One record of every kind, so that fuzzed requests also reach existing rows."""
    store = app.state.store
    sc = scenarios.create_scenario(store, doc)
    plan = records.create_plan(store, doc, sc.id, 1)
    records.finish_plan(store, plan.id, "failed", error="seeded")
    summary, jsonl = make_run([0.1, 0.2])
    run = records.create_bench_run(store, "seeded", "127.0.0.1:8000", "m", "vllm", summary,
                                   jsonl, 2)
    cal = records.create_calibration(store, "seeded", "vllm", "h100-sxm-80gb", {"a": 1.0}, "")
    job_id = app.state.jobs.submit("plan", lambda ctx: None)
    app.state.jobs.wait_idle(10)
    return {"scenario_id": sc.id, "plan_id": plan.id, "run_id": run.id, "cal_id": cal.id,
            "version": 1, "job_id": job_id}


def _fuzz(op: Any, ids: dict[str, Any]) -> None:
    """Run one operation ``MAX_EXAMPLES`` times; path ids in ``ids`` replace generated ones."""

    @given(case=op.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        for key in list(case.path_parameters or {}):
            if key in ids:
                case.path_parameters[key] = ids[key]
        case.call_and_validate(checks=CHECKS)

    fuzz()


def test_no_server_errors(app: Any, default_doc: dict[str, Any], make_run: Any) -> None:
    """Every operation of the app's own OpenAPI document, with generated inputs
    (``MAX_EXAMPLES`` each, once with generated ids and once with the ids of stored
    records), answers below 500 and as the document says (CHECKS)."""
    ids = _seed(app, {**default_doc, "candidates": {"kinds": ["api"]}}, make_run)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for op in operations:
        for use_ids in (False, True):
            if use_ids and not any(k in op.path for k in ids):
                continue

            _fuzz(op, ids if use_ids else {})
    app.state.jobs.wait_idle(60)


def test_the_openapi_document_names_every_resource(tmp_path: Path, store: Store) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(ServiceSettings(), store), base_url="http://127.0.0.1") as c:
        doc = c.get("/api/v1/openapi.json").json()
    paths = set(doc["paths"])
    for p in ("/api/v1/catalog/{kind}", "/api/v1/fit", "/api/v1/perf", "/api/v1/tco",
              "/api/v1/plans", "/api/v1/jobs/{job_id}", "/api/v1/scenarios/{scenario_id}",
              "/api/v1/scenarios/{scenario_id}/diff", "/api/v1/bench-runs/compare",
              "/api/v1/calibrations/{cal_id}"):
        assert p in paths
    assert doc["info"]["title"] == "inferplan"
    # the rules the handlers enforce are stated
    comp = doc["components"]["schemas"]
    assert [set(alt["required"]) for alt in comp["ScenarioIn"]["oneOf"]] == [{"document"},
                                                                          {"yaml"}]
    assert {r for alt in comp["PlanIn"]["oneOf"] for r in alt["required"]} == {
        "scenario_id", "document", "yaml"}
    yaml_op = doc["paths"]["/api/v1/scenarios/{scenario_id}/yaml"]["get"]
    assert "application/yaml" in yaml_op["responses"]["200"]["content"]
    for path, op in (("/api/v1/plans", "post"), ("/api/v1/tco", "post")):
        assert {"400", "401", "403", "404", "413", "422"} <= set(doc["paths"][path][op]
                                                                 ["responses"])
    assert "429" in doc["paths"]["/api/v1/plans"]["post"]["responses"]
