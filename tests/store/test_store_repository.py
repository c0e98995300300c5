"""The store on its own: migrations, versions without gaps, conflicts, records."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from inferplan.errors import SpecError
from inferplan.store import records, scenarios
from inferplan.store.database import (
    Store,
    current_revision,
    head_revision,
    migrate,
    resolve_database_url,
)
from inferplan.store.errors import ConflictError, NotFoundError


def test_migrations_create_every_table_and_are_idempotent(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    migrate(store.engine)  # a second start applies nothing and fails on nothing
    tables = set(inspect(store.engine).get_table_names())
    assert {"scenarios", "scenario_versions", "plans", "bench_runs", "calibrations",
            "alembic_version"} <= tables


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    from inferplan.store.database import open_store

    s = open_store(f"sqlite:///{tmp_path}/w.db")  # type: ignore[str-bytes-safe]
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    s.dispose()


def test_urls() -> None:
    assert resolve_database_url("postgresql://u:p@h/db").startswith("postgresql+psycopg://")
    assert resolve_database_url("postgres://u:p@h/db").startswith("postgresql+psycopg://")
    with pytest.raises(SpecError) as err:
        resolve_database_url("mysql://u:p@h/db")
    assert err.value.field == "database_url"


def test_versions_are_contiguous_and_conflicts_detected(store: Store) -> None:
    row = scenarios.create_scenario(store, {"name": "a", "n": 0})
    for n in range(1, 4):
        row = scenarios.update_scenario(store, row.id, {"name": "a", "n": n}, n, f"n={n}")
    assert row.version == 4
    with pytest.raises(ConflictError) as err:
        scenarios.update_scenario(store, row.id, {"name": "a", "n": 99}, 2)
    assert err.value.current_version == 4
    history = scenarios.list_versions(store, row.id)
    assert [(v.version, v.document["n"]) for v in history] == [(1, 0), (2, 1), (3, 2), (4, 3)]
    assert scenarios.get_scenario(store, row.id).document == {"name": "a", "n": 3}
    with pytest.raises(NotFoundError):
        scenarios.update_scenario(store, 12345, {"name": "x"}, 1)


def test_deleting_a_scenario_keeps_its_plans(store: Store) -> None:
    row = scenarios.create_scenario(store, {"name": "a"})
    plan = records.create_plan(store, {"name": "a"}, row.id, 1)
    scenarios.delete_scenario(store, row.id)
    kept = records.get_plan(store, plan.id)
    assert kept.scenario_id is None and kept.scenario_document == {"name": "a"}
    with pytest.raises(NotFoundError):
        scenarios.list_versions(store, row.id)


def test_non_finite_numbers_are_stored_as_null(store: Store) -> None:
    plan = records.create_plan(store, {"name": "a"})
    records.finish_plan(store, plan.id, "succeeded", {
        "recommendation": {"option": "x", "npv_usd": float("inf")},
        "curve": [1.0, float("nan")]})
    got = records.get_plan(store, plan.id)
    assert got.npv_usd is None and got.result == {
        "recommendation": {"option": "x", "npv_usd": None}, "curve": [1.0, None]}


def test_running_plan_cannot_be_deleted(store: Store) -> None:
    plan = records.create_plan(store, {"name": "a"})
    with pytest.raises(ConflictError):
        records.delete_plan(store, plan.id)
    assert records.interrupt_active_plans(store) == 1
    records.delete_plan(store, plan.id)


def test_upgrade_from_0001_fills_the_summary_columns(db_url: str) -> None:
    """A store created before jobs and summary columns existed upgrades in place:
    descriptions and bench headlines are derived from the stored documents."""
    import json as _json

    from alembic import command
    from sqlalchemy import text

    from inferplan.store.database import alembic_config, make_engine, resolve_database_url

    engine = make_engine(resolve_database_url(db_url))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    summary = {"stages": [{"stage": 0, "concurrency": 4, "counts": {"ok": 9},
                           "ttft_s": {"p50": 0.5, "p99": 0.9},
                           "output_throughput_tok_per_s": 120.0}]}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO scenarios (id, name, version, document, created_at, "
                          "updated_at) VALUES (1, 'old', 1, :d, :t, :t)"),
                     {"d": _json.dumps({"name": "old", "description": "kept"}),
                      "t": "2026-01-01 00:00:00"})
        conn.execute(text("INSERT INTO bench_runs (id, name, url_host, model, engine, summary, "
                          "record_count, created_at) VALUES (1, 'r', 'h', 'm', 'e', :s, 0, :t)"),
                     {"s": _json.dumps(summary), "t": "2026-01-01 00:00:00"})
        conn.execute(text("INSERT INTO plans (id, scenario_name, scenario_document, status, "
                          "progress, message, result, created_at) VALUES (1, 'old', :d, "
                          "'succeeded', 1.0, 'done', :r, :t)"),
                     {"d": _json.dumps({"name": "old"}), "r": _json.dumps({"answer": 42}),
                      "t": "2026-01-01 00:00:00"})
        conn.execute(text("INSERT INTO plans (id, scenario_name, scenario_document, status, "
                          "progress, message, rerun_of, created_at) VALUES (2, 'old', :d, "
                          "'failed', 0.0, 'x', 1, :t)"),
                     {"d": _json.dumps({"name": "old"}), "t": "2026-01-01 00:00:00"})
    migrate(engine)
    store = Store(engine)
    (row,), _ = scenarios.list_scenarios(store)
    assert row.description == "kept"
    (run,), _ = records.list_bench_runs(store)
    assert run.headline is not None
    assert run.headline[0]["label"] == "concurrency 4" and run.headline[0]["ok"] == 9
    assert run.headline[0]["ttft_p99_s"] == 0.9
    plan = records.get_plan(store, 1)  # the result moved to plan_payloads with the plan
    assert plan.result == {"answer": 42} and plan.scenario_document == {"name": "old"}
    assert records.get_plan(store, 2).rerun_of == 1  # rebuilding plans kept the links
    engine.dispose()


def test_inferplan_home_moves_the_default_store(tmp_path: object,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERPLAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("INFERPLAN_HOME", str(tmp_path))
    assert resolve_database_url() == f"sqlite:///{tmp_path}/inferplan.db"


def test_lists_never_load_results_or_documents(store: Store) -> None:
    """Plan, scenario and bench-run lists read summary columns only."""
    from sqlalchemy.exc import InvalidRequestError

    s = scenarios.create_scenario(store, {"name": "big", "description": "d", "x": [1] * 1000})
    p = records.create_plan(store, {"name": "big"}, s.id, 1)
    records.finish_plan(store, p.id, "succeeded", {"recommendation": {"option": "o"},
                                                    "pad": [0.5] * 10_000})
    records.create_bench_run(store, "r", "h:1", "m", "vllm", {"stages": []}, "{}\n", 1)
    (plan,), _ = records.list_plans(store)
    assert plan.recommended_option == "o"
    with pytest.raises(InvalidRequestError):
        _ = plan.result  # the payload is not loaded (lazy="raise")
    (scen,), _ = scenarios.list_scenarios(store)
    assert scen.description == "d" and "document" in inspect(scen).unloaded
    (run,), _ = records.list_bench_runs(store)
    assert {"summary", "records_jsonl"} <= inspect(run).unloaded
    assert records.get_plan(store, p.id).result["pad"][0] == 0.5  # type: ignore[index]
