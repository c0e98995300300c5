"""Backup and restore: a round trip keeps every row; a restore is all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferplan.errors import SpecError
from inferplan.store import records, scenarios
from inferplan.store.backup import backup, read_backup, restore, row_count
from inferplan.store.database import Store, open_store


def _fill(store: Store) -> None:
    s = scenarios.create_scenario(store, {"name": "alpha", "x": 1})
    scenarios.update_scenario(store, s.id, {"name": "alpha", "x": 2}, 1, "second")
    p = records.create_plan(store, {"name": "alpha", "x": 2}, s.id, 2)
    records.finish_plan(store, p.id, "succeeded", {"recommendation": {"option": "o",
                                                                       "npv_usd": 12.5}})
    records.create_bench_run(store, "run", "127.0.0.1:8000", "m", "vllm", {"stages": []},
                             '{"request_id": 0}\n', 1)
    records.create_calibration(store, "cal", "vllm", "h100-sxm-80gb", {"k": 0.5}, "n")


def _snapshot(store: Store) -> dict[str, object]:
    s = scenarios.get_scenario(store, 1)
    return {
        "scenario": (s.name, s.version, s.document, s.created_at),
        "versions": [(v.version, v.comment, v.document) for v in scenarios.list_versions(store, 1)],
        "plan": (lambda p: (p.status, p.npv_usd, p.result, p.scenario_id))(
            records.get_plan(store, 1)),
        "run": records.get_bench_run(store, 1).records_jsonl,
        "cal": records.list_calibrations(store)[0].parameters,
    }


@pytest.mark.parametrize("gz", [False, True])
def test_round_trip(store: Store, tmp_path: Path, gz: bool) -> None:
    _fill(store)
    path = tmp_path / ("b.json.gz" if gz else "b.json")
    counts = backup(store, path)
    assert counts == {"scenarios": 1, "scenario_versions": 2, "plans": 1, "plan_payloads": 1,
                      "bench_runs": 1, "calibrations": 1}
    target = open_store(f"sqlite:///{tmp_path / 'restored.db'}")
    assert restore(target, path) == counts
    assert _snapshot(target) == _snapshot(store)
    # ids continue after the restored ones
    assert scenarios.create_scenario(target, {"name": "next"}).id == 2
    target.dispose()


def test_sqlite_backup_restores_into_postgresql(tmp_path: Path, pg_url: str) -> None:
    pg = pg_url
    src = open_store(f"sqlite:///{tmp_path / 'src.db'}")
    _fill(src)
    backup(src, tmp_path / "b.json")
    target = open_store(pg)
    restore(target, tmp_path / "b.json")
    assert _snapshot(target) == _snapshot(src)
    assert scenarios.create_scenario(target, {"name": "next"}).id == 2
    src.dispose()
    target.dispose()


def test_restore_refuses_a_store_with_data_unless_forced(store: Store, tmp_path: Path) -> None:
    _fill(store)
    backup(store, tmp_path / "b.json")
    scenarios.create_scenario(store, {"name": "later"})
    with pytest.raises(SpecError) as err:
        restore(store, tmp_path / "b.json")
    assert err.value.field == "force"
    # _fill wrote 7 rows (1 scenario, 2 versions, 1 plan and its payload, 1 run,
    # 1 profile); "later" 2 more
    assert row_count(store) == 9
    restore(store, tmp_path / "b.json", replace=True)
    assert row_count(store) == 7 and scenarios.list_scenarios(store)[1] == 1


def test_bad_backup_files(store: Store, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        read_backup(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text('{"format": "something-else"}')
    with pytest.raises(SpecError, match="not an inferplan store backup"):
        read_backup(tmp_path / "x.json")
    backup(store, tmp_path / "old.json")
    doc = json.loads((tmp_path / "old.json").read_text())
    doc["schema_revision"] = "0000"
    (tmp_path / "old.json").write_text(json.dumps(doc))
    with pytest.raises(SpecError, match="revision 0000"):
        read_backup(tmp_path / "old.json")


def test_failed_restore_leaves_the_store_as_it_was(store: Store, tmp_path: Path) -> None:
    _fill(store)
    backup(store, tmp_path / "b.json")
    doc = json.loads((tmp_path / "b.json").read_text())
    doc["tables"]["calibrations"].append(dict(doc["tables"]["calibrations"][0]))  # same id
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    before = _snapshot(store)
    with pytest.raises(Exception):  # noqa: B017 - the database's integrity error
        restore(store, tmp_path / "bad.json", replace=True)
    assert _snapshot(store) == before


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"])
def test_a_row_that_cannot_be_stored_is_named(store: Store, tmp_path: Path, bad: str) -> None:
    """A backup of an older store holding a NUL (PostgreSQL refuses it) or a lone
    surrogate: the restore names the table, the row and the field, and writes nothing."""
    _fill(store)
    backup(store, tmp_path / "b.json")
    doc = json.loads((tmp_path / "b.json").read_text())
    doc["tables"]["scenario_versions"][1]["document"]["notes"] = [bad]
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    target = open_store(f"sqlite:///{tmp_path / 'target.db'}")
    row_id = doc["tables"]["scenario_versions"][1]["id"]
    with pytest.raises(SpecError) as err:
        restore(target, tmp_path / "bad.json")
    msg = str(err.value)
    assert f"table scenario_versions, row id {row_id}: document.notes[0]" in msg
    assert "\n" not in msg
    assert row_count(target) == 0
    target.dispose()
