"""The calibration profile a plan ran with (by name; none means engine defaults).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as b:
        b.add_column(sa.Column("calibration", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans") as b:
        b.drop_column("calibration")
