"""Intake (issue 11): alerts.event_count (alerts that grow) and destinations.reopen_on_growth.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for alerts stored before: intake reads their count from the payload.
    op.add_column("alerts", sa.Column("event_count", sa.BigInteger(), nullable=True))
    op.add_column(
        "destinations",
        sa.Column("reopen_on_growth", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("destinations") as batch:
        batch.drop_column("reopen_on_growth")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("event_count")
