"""Boomerang questions (issue 13): what a typed DM answer is matched against, and what the
recipient's App Home lists.

Revision ID: 0007
Revises: 0006 (re-chained after merging main, which brought 0006_intake)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None

# Frozen copy of the column type (migrations must not import the live models).
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "boomerang_questions",
        sa.Column("boomerang_id", sa.String(255), nullable=False),
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("recipient_id", sa.String(32), nullable=False),
        sa.Column("asker_id", sa.String(255), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dm_channel", sa.String(32), nullable=True),
        sa.Column("dm_ts", sa.String(64), nullable=True),
        sa.Column("asked_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.alert_id"],
            name=op.f("fk_boomerang_questions_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("boomerang_id", name=op.f("pk_boomerang_questions")),
    )
    op.create_index(
        op.f("ix_boomerang_questions_recipient_id_status"),
        "boomerang_questions",
        ["recipient_id", "status"],
    )
    op.create_index(op.f("ix_boomerang_questions_alert_id"), "boomerang_questions", ["alert_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_boomerang_questions_alert_id"), table_name="boomerang_questions")
    op.drop_index(
        op.f("ix_boomerang_questions_recipient_id_status"), table_name="boomerang_questions"
    )
    op.drop_table("boomerang_questions")
