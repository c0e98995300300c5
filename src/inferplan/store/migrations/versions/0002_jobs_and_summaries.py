"""Jobs in the store; summary columns so lists never load whole documents.

* ``jobs``: plan and benchmark jobs with their state, the server that runs them
  (``owner``) and its last sign of life (``heartbeat_at``), and a cancel request
  any server can set;
* ``plans.job_id``: the job of a plan;
* ``plan_payloads``: a plan's scenario document and result, moved out of its row
  (SQLite reads through a row's overflow pages to reach the columns after a
  large value, so listing plans read every result);
* ``scenarios.description`` and ``bench_runs.headline``: what the lists show,
  filled here from the stored documents.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("bench_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_status"), "jobs", ["status"])
    op.create_index(op.f("ix_jobs_created_at"), "jobs", ["created_at"])
    op.create_index(op.f("ix_jobs_plan_id"), "jobs", ["plan_id"])
    op.create_table(
        "plan_payloads",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("scenario_document", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"],
                                name=op.f("fk_plan_payloads_plan_id_plans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_payloads")),
    )
    op.execute("INSERT INTO plan_payloads (plan_id, scenario_document, result) "
               "SELECT id, scenario_document, result FROM plans")
    with op.batch_alter_table("plans") as b:
        b.add_column(sa.Column("job_id", sa.String(length=32), nullable=True))
        b.drop_column("scenario_document")
        b.drop_column("result")
    with op.batch_alter_table("scenarios") as b:
        b.add_column(sa.Column("description", sa.String(length=300), nullable=False,
                               server_default=""))
    with op.batch_alter_table("bench_runs") as b:
        b.add_column(sa.Column("headline", sa.JSON(), nullable=True))

    from inferplan.store.summaries import bench_headline, scenario_description

    conn = op.get_bind()
    scen = sa.table("scenarios", sa.column("id", sa.Integer), sa.column("document", sa.JSON),
                    sa.column("description", sa.String))
    for sid, doc in conn.execute(sa.select(scen.c.id, scen.c.document)).all():
        conn.execute(scen.update().where(scen.c.id == sid)
                     .values(description=scenario_description(_json(doc))))
    runs = sa.table("bench_runs", sa.column("id", sa.Integer), sa.column("summary", sa.JSON),
                    sa.column("headline", sa.JSON))
    for rid, summary in conn.execute(sa.select(runs.c.id, runs.c.summary)).all():
        conn.execute(runs.update().where(runs.c.id == rid)
                     .values(headline=bench_headline(_json(summary))))


def downgrade() -> None:
    with op.batch_alter_table("bench_runs") as b:
        b.drop_column("headline")
    with op.batch_alter_table("scenarios") as b:
        b.drop_column("description")
    with op.batch_alter_table("plans") as b:
        b.drop_column("job_id")
        b.add_column(sa.Column("scenario_document", sa.JSON(), nullable=True))
        b.add_column(sa.Column("result", sa.JSON(), nullable=True))
    op.execute("UPDATE plans SET scenario_document = (SELECT scenario_document FROM "
               "plan_payloads WHERE plan_id = plans.id), result = (SELECT result FROM "
               "plan_payloads WHERE plan_id = plans.id)")
    op.drop_table("plan_payloads")
    op.drop_table("jobs")
