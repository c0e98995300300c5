"""Read a scenario YAML file into a validated :class:`ScenarioSpec`.

Every failure becomes one :class:`~inferplan.errors.SpecError` whose field is the
path inside the file, written as ``options[1].capex.gpu_price_usd``.

Before the schema, the document itself is checked: UTF-8 text of at most
:data:`MAX_SCENARIO_BYTES`, no duplicate keys (see
:mod:`inferplan.catalog.loader`), and every number finite and within
``|x| <= MAX_ABS_NUMBER``: no quantity of a scenario (requests, tokens, dollars,
months) comes near 1e15, so a larger one is a typo or a unit mistake.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inferplan.catalog.loader import read_yaml
from inferplan.errors import CatalogError, SpecError
from inferplan.specs.scenario import ScenarioSpec

MAX_SCENARIO_BYTES = 4 * 2**20
"""Largest scenario file read (4 MiB; the bundled examples are under 10 kB)."""
MAX_ABS_NUMBER = 1e15
"""Largest magnitude of any number in a scenario document."""

_OPTION_TAGS = {"on_prem", "colocation", "cloud", "api", "hybrid", "metered"}
_RELATIVE = re.compile(r"^([A-Za-z_][\w\[\]\.]*): (.*)$", re.DOTALL)


_PLAIN_KEY = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")


def _key(part: Any) -> str:
    """A key as written in a field path; odd keys (spaces, newlines, empty) quoted."""
    text = str(part)
    return text if _PLAIN_KEY.match(text) else repr(text)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    prev: Any = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _OPTION_TAGS and (isinstance(prev, int) or prev == "facility"):
            pass  # discriminator tag added by pydantic, not a field of the file
        elif isinstance(part, str) and (part.startswith("function-") or part == "[key]"):
            pass
        else:
            out += f".{_key(part)}" if out else _key(part)
        prev = part
    return out


def validation_error_to_spec_error(exc: ValidationError, prefix: str = "") -> SpecError:
    """First pydantic error as a :class:`SpecError` with a ``a[1].b.c`` field path."""
    err = exc.errors()[0]
    field = _path(tuple(err["loc"]))
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
        m = _RELATIVE.match(msg)
        if m:
            field = f"{field}.{m.group(1)}" if field else m.group(1)
            msg = m.group(2)
    if err["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling; see examples/ for the format)"
    if prefix:
        field = f"{prefix}.{field}" if field else prefix
    return SpecError(field or "scenario", msg)


def check_numbers(raw: Any, path: str = "") -> None:
    """Raise :class:`SpecError` at the first non-finite or absurdly large number in ``raw``.

    >>> check_numbers({"workload": {"requests_per_day": 1e300}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    inferplan.errors.SpecError: workload.requests_per_day: 1e+300 is out of range; ...
    """
    if isinstance(raw, dict):
        for key, value in raw.items():
            check_numbers(value, f"{path}.{_key(key)}" if path else _key(key))
    elif isinstance(raw, list):
        for i, value in enumerate(raw):
            check_numbers(value, f"{path}[{i}]")
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        field = path or "scenario"
        if isinstance(raw, float) and not math.isfinite(raw):
            raise SpecError(field, f"must be a finite number, not {raw}")
        if abs(raw) > MAX_ABS_NUMBER:
            shown = repr(raw) if isinstance(raw, float) or len(str(raw)) <= 30 else (
                f"a number of {len(str(abs(raw)))} digits"
            )
            raise SpecError(
                field, f"{shown} is out of range; numbers in a scenario are at most "
                f"{MAX_ABS_NUMBER:g} in magnitude (check the unit)"
            )


_DATASET_FIELDS = (
    "input_tokens_mean",
    "output_tokens_mean",
    "input_tokens_p90",
    "output_tokens_p90",
)


def apply_workload_dataset(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with ``workload.dataset`` turned into the token fields it stands for.

    The dataset's published statistics (:mod:`inferplan.perf.datasets`) give the mean
    prompt and output lengths, and the 90th percentiles where the distribution has a
    spread; an unknown name, or a token field given beside ``dataset``, is one
    :class:`SpecError` on ``workload.dataset``.
    """
    work = raw.get("workload")
    if not isinstance(work, dict) or work.get("dataset") is None:
        return raw
    name = work["dataset"]
    if not isinstance(name, str) or not name.strip():
        raise SpecError("workload.dataset", "must be a dataset name")
    from inferplan.catalog.datasets import get_dataset
    from inferplan.perf.datasets import dataset_lengths, p90_of

    d = dataset_lengths(get_dataset(name, "workload.dataset"))
    filled: dict[str, Any] = {
        "input_tokens_mean": d.isl_mean,
        "output_tokens_mean": d.osl_mean,
    }
    for key, spec in (("input_tokens_p90", d.isl), ("output_tokens_p90", d.osl)):
        p90 = p90_of(spec)
        if p90 is not None:
            filled[key] = p90
    # a scenario written back after reading carries the filled values: those are no conflict
    given = [
        f for f in _DATASET_FIELDS
        if work.get(f) is not None and not (
            isinstance(work[f], int | float)
            and f in filled
            and math.isclose(work[f], filled[f], rel_tol=1e-9)
        )
    ]
    if given:
        raise SpecError(
            "workload.dataset", f"give dataset or {', '.join(given)}, not both"
        )
    return {**raw, "workload": {**work, **filled}}


def parse_scenario(raw: Any) -> ScenarioSpec:
    """Validate already-parsed YAML content; errors name the field path."""
    if not isinstance(raw, dict):
        raise SpecError("scenario", "expected a mapping with workload, finance and options")
    check_numbers(raw)
    raw = apply_workload_dataset(raw)
    try:
        return ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        raise validation_error_to_spec_error(exc) from None


def load_scenario(path: Path | str) -> ScenarioSpec:
    """Read and validate a scenario file.

    A missing file, malformed YAML or an invalid field raises :class:`SpecError`
    naming the file or the field.
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError("scenario", f"file not found: {p}")
    try:
        raw = read_yaml(p, MAX_SCENARIO_BYTES)
    except CatalogError as exc:
        raise SpecError("scenario", str(exc)) from None
    return parse_scenario(raw)


__all__ = [
    "MAX_SCENARIO_BYTES",
    "apply_workload_dataset",
    "check_numbers",
    "load_scenario",
    "parse_scenario",
    "validation_error_to_spec_error",
]
