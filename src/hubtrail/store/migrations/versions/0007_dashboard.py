"""dashboard: users, portal access, sessions, daily aggregates (backfilled from what is stored)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index("ix_inbox_portal_seq", "inbox", ["portal_id", "seq"])
    op.create_table(
        "users",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "user_portals",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_portals_user_id_users"),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name="fk_user_portals_portal_id_portals"
        ),
        sa.PrimaryKeyConstraint("user_id", "portal_id", name="pk_user_portals"),
    )
    op.create_table(
        "sessions",
        sa.Column("id_sha256", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_sessions_user_id_users"),
        sa.PrimaryKeyConstraint("id_sha256", name="pk_sessions"),
    )
    op.create_table(
        "daily_stats",
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("metric", sa.String(20), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name="fk_daily_stats_portal_id_portals"
        ),
        sa.PrimaryKeyConstraint("portal_id", "metric", "day", "key", name="pk_daily_stats"),
    )
    op.create_table(
        "daily_visitors",
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name="fk_daily_visitors_portal_id_portals"
        ),
        sa.PrimaryKeyConstraint("portal_id", "day", "visitor_id", name="pk_daily_visitors"),
    )
    _backfill()


# Days since the epoch: integer division on both engines (occurred_at_ms is an integer).
_BACKFILL = [
    "INSERT INTO daily_stats (portal_id, metric, day, key, count) "
    "SELECT portal_id, 'pageviews', occurred_at_ms / 86400000, '', count(*) FROM page_views "
    "WHERE is_bot = false GROUP BY portal_id, occurred_at_ms / 86400000",
    "INSERT INTO daily_stats (portal_id, metric, day, key, count) "
    "SELECT portal_id, 'page', occurred_at_ms / 86400000, substr(url, 1, 300), count(*) "
    "FROM page_views WHERE is_bot = false "
    "GROUP BY portal_id, occurred_at_ms / 86400000, substr(url, 1, 300)",
    "INSERT INTO daily_stats (portal_id, metric, day, key, count) "
    "SELECT portal_id, 'source', occurred_at_ms / 86400000, traffic_source, count(*) "
    "FROM page_views WHERE is_bot = false AND traffic_source != '' "
    "GROUP BY portal_id, occurred_at_ms / 86400000, traffic_source",
    "INSERT INTO daily_visitors (portal_id, day, visitor_id) "
    "SELECT DISTINCT portal_id, occurred_at_ms / 86400000, visitor_id FROM page_views "
    "WHERE is_bot = false AND visitor_id IS NOT NULL",
    "INSERT INTO daily_stats (portal_id, metric, day, key, count) "
    "SELECT portal_id, 'events', occurred_at_ms / 86400000, '', count(*) "
    "FROM event_occurrences GROUP BY portal_id, occurred_at_ms / 86400000",
    "INSERT INTO daily_stats (portal_id, metric, day, key, count) "
    "SELECT portal_id, 'event', occurred_at_ms / 86400000, CAST(definition_id AS VARCHAR(20)), "
    "count(*) FROM event_occurrences "
    "GROUP BY portal_id, occurred_at_ms / 86400000, definition_id",
]


def _backfill() -> None:
    """Aggregates for what was stored before this version (bots excluded, as the processor does)."""
    for statement in _BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    for table in ("daily_visitors", "daily_stats", "sessions", "user_portals", "users"):
        op.drop_table(table)
    op.drop_index("ix_inbox_portal_seq", table_name="inbox")
