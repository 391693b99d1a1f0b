"""Storms: storms and storm_members tables, alerts.received_at (intake's storm count) and
destinations.storm_includes_high.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

# Frozen copy of the column type (migrations must not import the live models).
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Alerts stored before this migration keep NULL: they are older than any storm window.
    op.add_column("alerts", sa.Column("received_at", TS, nullable=True))
    op.create_index(op.f("ix_alerts_rule_id_received_at"), "alerts", ["rule_id", "received_at"])
    op.add_column(
        "destinations",
        sa.Column("storm_includes_high", sa.Boolean(), nullable=False, server_default=sa.false()),
    )

    op.create_table(
        "storms",
        sa.Column("storm_id", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(400), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("destination_id", sa.String(32), nullable=False),
        sa.Column("destination_name", sa.String(100), nullable=False),
        sa.Column("rule_id", sa.String(255), nullable=False),
        sa.Column("rule_name", sa.String(500), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("last_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("digest_ts", sa.String(64), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("storm_id", name=op.f("pk_storms")),
    )
    op.create_index(op.f("ix_storms_rule_id_ended_at"), "storms", ["rule_id", "ended_at"])
    op.create_index(op.f("ix_storms_started_at_storm_id"), "storms", ["started_at", "storm_id"])

    op.create_table(
        "storm_members",
        sa.Column("storm_id", sa.String(64), nullable=False),
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("joined_at", TS, nullable=False),
        sa.Column("posted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["storm_id"],
            ["storms.storm_id"],
            name=op.f("fk_storm_members_storm_id_storms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.alert_id"],
            name=op.f("fk_storm_members_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("storm_id", "alert_id", name=op.f("pk_storm_members")),
    )
    op.create_index(op.f("ix_storm_members_alert_id"), "storm_members", ["alert_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_storm_members_alert_id"), table_name="storm_members")
    op.drop_table("storm_members")
    op.drop_index(op.f("ix_storms_started_at_storm_id"), table_name="storms")
    op.drop_index(op.f("ix_storms_rule_id_ended_at"), table_name="storms")
    op.drop_table("storms")
    with op.batch_alter_table("destinations") as batch:
        batch.drop_column("storm_includes_high")
    op.drop_index(op.f("ix_alerts_rule_id_received_at"), table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("received_at")
