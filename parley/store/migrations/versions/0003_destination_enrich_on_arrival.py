"""destinations.enrich_on_arrival: analyse an alert's IPs for that destination's message.

Revision ID: 0003
Revises: 0001 (the outbox's 0002 is being written alongside: whoever merges second re-points
this to it)
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A server default fills the rows that exist: every destination keeps today's behaviour.
    op.add_column(
        "destinations",
        sa.Column("enrich_on_arrival", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("destinations") as batch:
        batch.drop_column("enrich_on_arrival")
