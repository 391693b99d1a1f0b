"""Initial schema: alerts, alert_history, destinations, slack_messages.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types (migrations must not import the live models).
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee_id", sa.String(255), nullable=True),
        sa.Column("assignee_name", sa.String(255), nullable=False),
        sa.Column("rule_id", sa.String(255), nullable=False),
        sa.Column("rule_name", sa.String(500), nullable=False),
        sa.Column("log_type", sa.String(255), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("resolution_comment", sa.Text(), nullable=True),
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alerts")),
    )
    for cols in (
        ["created_at", "alert_id"],
        ["status", "created_at"],
        ["severity", "created_at"],
        ["assignee_id", "created_at"],
    ):
        op.create_index(op.f("ix_alerts_" + "_".join(cols)), "alerts", cols)

    op.create_table(
        "alert_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_source", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(255), nullable=False),
        sa.Column("actor_name", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("from_value", sa.Text(), nullable=True),
        sa.Column("to_value", sa.Text(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.alert_id"],
            name=op.f("fk_alert_history_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_history")),
        sa.UniqueConstraint("alert_id", "key", name=op.f("uq_alert_history_alert_id_key")),
    )
    op.create_index(op.f("ix_alert_history_alert_id_at"), "alert_history", ["alert_id", "at"])

    op.create_table(
        "destinations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("min_severity", sa.String(16), nullable=True),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("log_types", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destinations")),
        sa.UniqueConstraint("name", name=op.f("uq_destinations_name")),
    )

    op.create_table(
        "slack_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(128), nullable=False),
        sa.Column("destination_id", sa.String(32), nullable=False),
        sa.Column("destination_name", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(64), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("failed", sa.String(255), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.alert_id"],
            name=op.f("fk_slack_messages_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_messages")),
        sa.UniqueConstraint(
            "alert_id",
            "destination_id",
            name=op.f("uq_slack_messages_alert_id_destination_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("slack_messages")
    op.drop_table("destinations")
    op.drop_index(op.f("ix_alert_history_alert_id_at"), table_name="alert_history")
    op.drop_table("alert_history")
    for name in (
        "ix_alerts_assignee_id_created_at",
        "ix_alerts_severity_created_at",
        "ix_alerts_status_created_at",
        "ix_alerts_created_at_alert_id",
    ):
        op.drop_index(op.f(name), table_name="alerts")
    op.drop_table("alerts")
