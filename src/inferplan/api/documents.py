"""Scenario documents in the API: parse, validate every field, compare two versions.

A document arrives as a JSON object or as YAML text. It is validated against
:class:`~inferplan.specs.scenario.ScenarioSpec` (every error, each with its field
path, so a form can show them all beside their fields) and its catalog ids are
looked up. The document is stored as given (JSON-normalised), not as the model's
dump, so fields left at their defaults stay absent.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import yaml
from pydantic import ValidationError

from inferplan.api.errors import FieldError, FieldErrors
from inferplan.api.limits import LimitError, check_value, load_yaml
from inferplan.catalog import load_accelerators, load_engines, load_models
from inferplan.catalog.prices import load_regions
from inferplan.catalog.providers import load_providers
from inferplan.errors import SpecError, UnknownIdError
from inferplan.scenario_io import _RELATIVE, _path  # the scenario file's own path rules
from inferplan.service.comparisons import diff_documents, to_yaml, unified_diff
from inferplan.specs.scenario import ScenarioSpec
from inferplan.store.database import Store
from inferplan.store.scenarios import get_scenario, get_version

MAX_YAML_CHARS = 1_000_000


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN and infinite numbers are not allowed")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def normalise(raw: Any, field: str) -> dict[str, Any]:
    """``raw`` as plain JSON types (dates become ISO strings); a mapping is required."""
    if not isinstance(raw, dict):
        raise FieldErrors([FieldError(field, "expected a mapping (workload, finance, ...)")])
    try:
        check_value(raw, field)
    except LimitError as exc:
        raise FieldErrors([FieldError(exc.path, exc.message, exc.kind)]) from None
    try:
        out = json.loads(json.dumps(_finite(raw), default=_json_default))
    except (TypeError, ValueError) as exc:
        raise FieldErrors([FieldError(field, f"not representable as JSON ({exc})")]) from None
    assert isinstance(out, dict)
    return out


def parse_yaml(text: str) -> dict[str, Any]:
    """YAML text -> document; malformed YAML is a field error on ``yaml``."""
    if len(text) > MAX_YAML_CHARS:
        raise FieldErrors([FieldError("yaml", f"longer than {MAX_YAML_CHARS} characters")])
    try:
        raw = load_yaml(text)
    except LimitError as exc:
        raise FieldErrors([FieldError("yaml", exc.message)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise FieldErrors([FieldError("yaml", f"{problem}{where}")]) from None
    except RecursionError:
        raise FieldErrors([FieldError("yaml", "nested too deeply")]) from None
    return normalise(raw, "yaml")


def document_from(document: dict[str, Any] | None, yaml_text: str | None) -> dict[str, Any]:
    """The document from exactly one of ``document`` and ``yaml``."""
    if (document is None) == (yaml_text is None):
        raise FieldErrors([FieldError("document", "give exactly one of document or yaml")])
    if yaml_text is not None:
        return parse_yaml(yaml_text)
    return normalise(document, "document")


def _field_error(err: Any) -> FieldError:
    field = _path(tuple(err.get("loc", ())))
    msg = str(err.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        m = _RELATIVE.match(msg)
        if m:
            field = f"{field}.{m.group(1)}" if field else m.group(1)
            msg = m.group(2)
    if err.get("type") == "extra_forbidden":
        msg = "unknown field (check the spelling)"
    return FieldError(field or "scenario", msg, str(err.get("type", "value_error")))


def _ids(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]


def catalog_errors(doc: dict[str, Any]) -> list[FieldError]:
    """Unknown catalog ids in the document (checked on the raw mapping, so they are
    reported together with the other field errors)."""
    out: list[FieldError] = []

    def check(cat: Any, value: str, field: str) -> None:
        try:
            cat.get(value, field)
        except UnknownIdError as exc:
            out.append(FieldError(field, exc.message, "unknown_id"))

    for i, m in _ids(doc.get("models")):
        check(load_models(), m, f"models[{i}]")
    if isinstance(doc.get("region"), str):
        check(load_regions(), doc["region"], "region")
    cand = doc.get("candidates") if isinstance(doc.get("candidates"), dict) else {}
    assert isinstance(cand, dict)
    for key, loader in (("accelerators", load_accelerators), ("engines", load_engines),
                        ("providers", load_providers)):
        for i, v in _ids(cand.get(key)):
            check(loader(), v, f"candidates.{key}[{i}]")
    return out


def validate_document(doc: dict[str, Any]) -> ScenarioSpec:
    """Validate ``doc``; every problem is reported at once as :class:`FieldErrors`."""
    unknown = catalog_errors(doc)
    try:
        spec = ScenarioSpec.model_validate(doc)
    except ValidationError as exc:
        errors = [_field_error(e) for e in exc.errors()]
        raise FieldErrors(errors + unknown, ("body", "document")) from None
    except SpecError as exc:
        errors = [FieldError(exc.field, exc.message)]
        raise FieldErrors(errors + unknown, ("body", "document")) from None
    if unknown:
        raise FieldErrors(unknown, ("body", "document"))
    return spec


def require_plannable(spec: ScenarioSpec) -> None:
    """A plan needs candidate models and latency targets."""
    errors = []
    if not spec.models:
        errors.append(FieldError("models", "plan needs at least one candidate model id"))
    if spec.slo is None:
        errors.append(FieldError("slo", "plan needs latency targets (slo.ttft_ms, slo.tpot_ms)"))
    if errors:
        raise FieldErrors(errors, ("body", "document"))


__all__ = [
    "diff_documents",
    "document_from",
    "normalise",
    "parse_yaml",
    "require_plannable",
    "resolve_ref",
    "to_yaml",
    "unified_diff",
    "validate_document",
]


def resolve_ref(
    store: Store,
    scenario_id: int | None,
    scenario_version: int | None,
    document: dict[str, Any] | None,
    yaml_text: str | None,
) -> tuple[dict[str, Any], ScenarioSpec, int | None, int | None]:
    """The document a request names, validated: ``(document, spec, id, version)``.

    Exactly one of a stored scenario (``scenario_id``, optionally a version), an
    inline ``document`` and ``yaml`` must be given.
    """
    given = sum(x is not None for x in (scenario_id, document, yaml_text))
    if given != 1:
        raise FieldErrors(
            [FieldError("scenario_id", "give exactly one of scenario_id, document or yaml")]
        )
    if scenario_version is not None and scenario_id is None:
        raise FieldErrors([FieldError("scenario_version", "needs scenario_id")])
    if scenario_id is not None:
        if scenario_version is None:
            row = get_scenario(store, scenario_id)
            doc, version = row.document, row.version
        else:
            doc = get_version(store, scenario_id, scenario_version).document
            version = scenario_version
    else:
        doc, version = document_from(document, yaml_text), None
    return doc, validate_document(doc), scenario_id, version
