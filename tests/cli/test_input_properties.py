"""Property tests: whatever document a user writes, validation answers with a result or
one clean :class:`SpecError` line, never another exception.

Scenario documents are the bundled default with random mutations (a value replaced by
any YAML value, including NaN, infinities and huge numbers; a key deleted; a key
added); files are arbitrary bytes or the default encoded differently; case files are
CSV rows of arbitrary text under the real header.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferplan.cli.plan_cmd import default_scenario_text
from inferplan.errors import SpecError
from inferplan.scenario_io import load_scenario, parse_scenario
from inferplan.service.cases import read_cases

DEFAULT: dict[str, Any] = yaml.safe_load(default_scenario_text())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e300, -1e300, 97, 0.5, "", "fp8", "EU", "banana"]),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=8,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(DEFAULT)


@st.composite
def mutated_scenarios(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(DEFAULT)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(values)
            elif action == "delete" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or replaced this path
    return doc


def _clean(exc: SpecError) -> None:
    msg = str(exc)
    assert msg and "\n" not in msg and ": " in msg


@settings(max_examples=150, deadline=None)
@given(mutated_scenarios())
def test_any_scenario_document_validates_or_fails_cleanly(doc: Any) -> None:
    try:
        parse_scenario(doc)
    except SpecError as exc:
        _clean(exc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=400),
    st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252", "utf-8-sig"]).map(
        lambda enc: default_scenario_text().replace("eu-internal", "eu-intérnal").encode(enc)
    ),
))
def test_any_scenario_file_bytes_load_or_fail_cleanly(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_bytes(data)
        try:
            load_scenario(path)
        except SpecError as exc:
            _clean(exc)


HEADER = ["case_id", "scenario", "engine", "hardware", "num_gpus", "tp", "model",
          "weight_dtype", "kv_dtype", "isl", "osl", "batch", "concurrency", "request_rate",
          "metric", "statistic", "value", "trust"]
VALID_ROW = ["x-1", "static_batch", "vllm", "h100-sxm-80gb", "1", "1", "llama-3-8b", "fp16",
             "fp16", "128", "128", "1", "", "", "e2e_latency_s", "mean", "0.99", "medium"]
cells = st.one_of(st.text(max_size=10), st.sampled_from(["", "nan", "inf", "-1", "1e300",
                                                         "p97", "median", "0"]))


@st.composite
def case_rows(draw: st.DrawFn) -> list[str]:
    row = list(VALID_ROW)
    for i in draw(st.lists(st.integers(0, len(row) - 1), max_size=4)):
        row[i] = draw(cells)
    return row


@settings(max_examples=100, deadline=None)
@given(st.lists(case_rows(), min_size=1, max_size=3))
def test_any_cases_file_reads_or_fails_cleanly(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        try:
            cases = read_cases(path)
        except SpecError as exc:
            _clean(exc)
            return
        for case in cases:
            assert case.statistic in ("value", "mean", "median", "p99")
            assert math.isfinite(case.value) and case.value > 0
            for x in (case.isl, case.osl, case.request_rate):
                assert x is None or math.isfinite(x)


def test_a_key_ending_in_a_newline_is_quoted_in_the_error() -> None:
    # "$" in a regular expression also matches before a final newline: such a key must
    # still be quoted, or the one-line error would break over two lines
    from pathlib import Path

    import yaml

    from inferplan.errors import SpecError
    from inferplan.scenario_io import parse_scenario

    root = Path(__file__).resolve().parents[2]
    raw = yaml.safe_load((root / "examples/scenarios/03-us-startup.yaml").read_text())
    try:
        parse_scenario({**raw, "0\n": 1})
    except SpecError as exc:
        assert "\n" not in str(exc) and "'0\\n'" in str(exc)
    else:
        raise AssertionError("an unknown key must be refused")
