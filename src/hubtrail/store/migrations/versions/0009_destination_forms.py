"""destination forms: submissions sent on to a mapped HubSpot form

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "destination_forms",
        sa.Column("destination_id", sa.BigInteger(), nullable=False),
        sa.Column("form_guid", sa.String(36), nullable=False),
        sa.Column("remote_portal_id", sa.BigInteger(), nullable=False),
        sa.Column("remote_form_guid", sa.String(64), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["destinations.id"],
            name="fk_destination_forms_destination_id_destinations",
        ),
        sa.PrimaryKeyConstraint("destination_id", "form_guid", name="pk_destination_forms"),
    )


def downgrade() -> None:
    op.drop_table("destination_forms")
