"""Per-channel pacing of Slack posts across worker processes.

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pace_slots",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pace_slots")),
    )


def downgrade() -> None:
    op.drop_table("pace_slots")
