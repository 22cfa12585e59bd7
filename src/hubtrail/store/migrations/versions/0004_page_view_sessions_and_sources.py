"""page view sessions and sources

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:22:02.790587
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("page_views", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("page_id", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("session_number", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("view_in_session", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("is_bot", sa.Boolean(), server_default=sa.text("(false)"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("traffic_source", sa.String(length=30), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("traffic_source_data_1", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("traffic_source_data_2", sa.Text(), server_default="", nullable=False)
        )
    # Contact properties this revision's analytics write, for portals created before it.
    for name, label in (
        ("hs_latest_source_data_1", "Latest Traffic Source Drill-Down 1"),
        ("hs_latest_source_data_2", "Latest Traffic Source Drill-Down 2"),
    ):
        op.execute(
            sa.text(
                "INSERT INTO property_definitions (portal_id, object_type, name, label, type, "
                "field_type, group_name, hubspot_defined, read_only_value, has_unique_value, "
                "created_at_ms, updated_at_ms) SELECT p.id, 'contacts', :name, :label, 'string', "
                "'text', 'analyticsinformation', :yes, :yes, :no, p.created_at_ms, p.created_at_ms "
                "FROM portals p WHERE NOT EXISTS (SELECT 1 FROM property_definitions d WHERE "
                "d.portal_id = p.id AND d.object_type = 'contacts' AND d.name = :name)"
            ).bindparams(name=name, label=label, yes=True, no=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("page_views", schema=None) as batch_op:
        batch_op.drop_column("traffic_source_data_2")
        batch_op.drop_column("traffic_source_data_1")
        batch_op.drop_column("traffic_source")
        batch_op.drop_column("is_bot")
        batch_op.drop_column("view_in_session")
        batch_op.drop_column("session_number")
        batch_op.drop_column("page_id")
