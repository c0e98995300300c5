"""Record fields, derived latencies, JSONL durability and CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from inferplan.bench.results import (
    CSV_COLUMNS,
    JsonlWriter,
    RequestRecord,
    read_records,
    write_csv,
)
from inferplan.errors import BenchmarkError


def _rec(i: int = 0, **kw: object) -> RequestRecord:
    base: dict[str, object] = dict(
        request_id=i,
        sent_s=1.0,
        first_token_s=1.2,
        last_token_s=1.8,
        end_s=1.81,
        output_tokens=4,
        token_times_s=[1.2, 1.4, 1.6, 1.8],
    )
    base.update(kw)
    return RequestRecord.model_validate(base)


def test_derived_latencies_by_hand() -> None:
    r = _rec()
    assert r.ttft_s == pytest.approx(0.2) and r.e2e_s == pytest.approx(0.8)
    # TPOT = (E2E - TTFT) / (n - 1) = (0.8 - 0.2) / 3 = 0.2
    assert r.tpot_s == pytest.approx(0.2)
    assert _rec(output_tokens=1).tpot_s is None


def test_itl_gaps_split_multi_token_chunks_when_counts_are_known() -> None:
    r = _rec(token_times_s=[1.0, 1.3], chunk_tokens=[1, 3], output_tokens=4)
    gaps, basis = r.itl_gaps_s()
    assert basis == "token" and gaps == pytest.approx([0.1, 0.1, 0.1])  # 0.3 s / 3 tokens
    gaps, basis = _rec(token_times_s=[1.0, 1.3], output_tokens=4).itl_gaps_s()
    assert basis == "chunk" and gaps == pytest.approx([0.3])


def test_jsonl_lines_are_on_disk_after_each_write(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    writer = JsonlWriter(path).open()
    writer.write(_rec(0))
    assert [r.request_id for r in read_records(path)] == [0]  # readable while still open
    writer.write(_rec(1))
    writer.close()
    assert [r.request_id for r in read_records(path)] == [0, 1]


def test_a_cut_last_line_is_skipped_but_a_bad_middle_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    good = _rec(0).model_dump_json()
    path.write_text(good + "\n" + good[:20])
    assert len(read_records(path)) == 1
    path.write_text(good + "\n{}\n" + good + "\n")
    with pytest.raises(BenchmarkError, match=":2:"):
        read_records(path)


def test_csv_has_one_row_per_record(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_csv([_rec(0), _rec(1, error_kind="timeout")], path)
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[1]["error_kind"] == "timeout" and float(rows[0]["ttft_s"]) == pytest.approx(0.2)
