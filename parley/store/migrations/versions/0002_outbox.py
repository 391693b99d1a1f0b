"""Outbox: starts and signals accepted by the API, waiting for Temporal.

Alerts claimed before this revision whose workflow never ran (no history row: the workflow's
first step writes "created") get a queued start, so the relay starts them. Before the outbox,
such a claim was only started when the sender retried. A start is idempotent
(USE_EXISTING / REJECT_DUPLICATE), so an alert whose workflow is in fact running is unharmed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workflow_id", sa.String(255), nullable=False),
        sa.Column("alert_id", sa.String(128), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("signal", sa.String(128), nullable=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(255), nullable=False),
        sa.Column("response_url", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("available_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.alert_id"],
            name=op.f("fk_outbox_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("workflow_id", "key", name=op.f("uq_outbox_workflow_id_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_outbox_workflow_id_id"), "outbox", ["workflow_id", "id"])
    op.create_index(op.f("ix_outbox_alert_id_id"), "outbox", ["alert_id", "id"])

    alerts = sa.table("alerts", sa.column("alert_id"), sa.column("workflow_id"))
    history = sa.table("alert_history", sa.column("alert_id"))
    columns = [
        "workflow_id", "alert_id", "kind", "key", "payload", "summary",
        "created_at", "available_at", "attempts",
    ]  # fmt: skip
    outbox = sa.table("outbox", *(sa.column(name) for name in columns))
    # SQLite keeps naive UTC (see UTCDateTime); PostgreSQL takes the aware value.
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    never_ran = sa.select(
        alerts.c.workflow_id,
        alerts.c.alert_id,
        sa.literal("start"),
        sa.literal("start"),
        sa.literal({}, sa.JSON()),
        sa.literal("post the alert to its Slack channels"),
        sa.literal(now, TS),
        sa.literal(now, TS),
        sa.literal(0),
    ).where(~sa.exists().where(history.c.alert_id == alerts.c.alert_id))
    op.execute(outbox.insert().from_select(columns, never_ran))


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_alert_id_id"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_workflow_id_id"), table_name="outbox")
    op.drop_table("outbox")
