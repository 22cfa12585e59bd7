"""forwarding: destinations, outbox, the target's ids

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index(
        "ix_event_occurrences_message", "event_occurrences", ["portal_id", "message_id"]
    )
    op.create_index("ix_page_views_message", "page_views", ["portal_id", "message_id"])
    op.create_table(
        "destinations",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("rate_per_s", sa.Float(), nullable=False),
        sa.Column("daily_budget", sa.Integer(), nullable=False),
        sa.Column("send", sa.String(200), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("backfilled_at_ms", sa.BigInteger()),
        sa.Column("bucket_tokens", sa.Float(), server_default="1", nullable=False),
        sa.Column("bucket_at_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("paused_until_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("pause_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("budget_day", sa.Integer(), server_default="0", nullable=False),
        sa.Column("calls_today", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_owner", sa.String(64), server_default="", nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("sent_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("retried_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("calls_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("throttled_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name="fk_destinations_portal_id_portals"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_destinations"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("destination_id", sa.BigInteger(), nullable=False),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("object_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_batch", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("dead_at_ms", sa.BigInteger()),
        sa.ForeignKeyConstraint(
            ["destination_id"], ["destinations.id"], name="fk_outbox_destination_id_destinations"
        ),
        sa.ForeignKeyConstraint(["portal_id"], ["portals.id"], name="fk_outbox_portal_id_portals"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_due", "outbox", ["destination_id", "status", "next_attempt_at_ms"])
    op.create_index(
        "uq_outbox_pending",
        "outbox",
        ["destination_id", "kind", "object_key"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "destination_ids",
        sa.Column("destination_id", sa.BigInteger(), nullable=False),
        sa.Column("object_type", sa.String(20), nullable=False),
        sa.Column("local_key", sa.String(200), nullable=False),
        sa.Column("remote_id", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["destinations.id"],
            name="fk_destination_ids_destination_id_destinations",
        ),
        sa.PrimaryKeyConstraint(
            "destination_id", "object_type", "local_key", name="pk_destination_ids"
        ),
    )


def downgrade() -> None:
    op.drop_table("destination_ids")
    op.drop_index("uq_outbox_pending", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("destinations")
    op.drop_index("ix_page_views_message", table_name="page_views")
    op.drop_index("ix_event_occurrences_message", table_name="event_occurrences")
