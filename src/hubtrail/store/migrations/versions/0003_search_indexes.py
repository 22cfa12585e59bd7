"""search indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:07:30.023881
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_companies_merged",
            ["portal_id", "merged_into_id"],
            unique=False,
            sqlite_where=sa.text("merged_into_id IS NOT NULL"),
            postgresql_where=sa.text("merged_into_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_companies_portal_created", ["portal_id", "created_at_ms"], unique=False
        )
        batch_op.create_index(
            "ix_companies_portal_updated", ["portal_id", "updated_at_ms"], unique=False
        )

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contacts_merged",
            ["portal_id", "merged_into_id"],
            unique=False,
            sqlite_where=sa.text("merged_into_id IS NOT NULL"),
            postgresql_where=sa.text("merged_into_id IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_contacts_portal_created", ["portal_id", "created_at_ms"], unique=False
        )
        batch_op.create_index(
            "ix_contacts_portal_updated", ["portal_id", "updated_at_ms"], unique=False
        )
    # Enumeration and bool values are searched case-sensitively: their key is the exact value.
    op.execute(
        "UPDATE property_values SET value_key = substr(value, 1, 200) WHERE EXISTS ("
        "SELECT 1 FROM property_definitions d WHERE d.portal_id = property_values.portal_id "
        "AND d.object_type = property_values.object_type AND d.name = property_values.name "
        "AND d.type IN ('enumeration', 'bool'))"
    )


def downgrade() -> None:

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_portal_updated")
        batch_op.drop_index("ix_contacts_portal_created")
        batch_op.drop_index(
            "ix_contacts_merged",
            sqlite_where=sa.text("merged_into_id IS NOT NULL"),
            postgresql_where=sa.text("merged_into_id IS NOT NULL"),
        )

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index("ix_companies_portal_updated")
        batch_op.drop_index("ix_companies_portal_created")
        batch_op.drop_index(
            "ix_companies_merged",
            sqlite_where=sa.text("merged_into_id IS NOT NULL"),
            postgresql_where=sa.text("merged_into_id IS NOT NULL"),
        )
