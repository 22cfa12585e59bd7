"""forms and form submissions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("guid", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("archived_at_ms", sa.BigInteger()),
        sa.ForeignKeyConstraint(["portal_id"], ["portals.id"], name="fk_forms_portal_id_portals"),
        sa.PrimaryKeyConstraint("id", name="pk_forms"),
        sa.UniqueConstraint("guid", name="uq_forms_guid"),
    )
    op.create_index("ix_forms_portal", "forms", ["portal_id", "id"])
    op.create_table(
        "form_submissions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("form_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("submitted_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("submitted", sa.Text(), nullable=False),
        sa.Column("page_uri", sa.Text(), server_default="", nullable=False),
        sa.Column("page_name", sa.Text(), server_default="", nullable=False),
        sa.Column("hutk", sa.String(64), server_default="", nullable=False),
        sa.Column("ip_address", sa.String(64), server_default="", nullable=False),
        sa.Column("contact_id", sa.BigInteger()),
        sa.Column("visitor_id", sa.BigInteger()),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name="fk_form_submissions_portal_id_portals"
        ),
        sa.ForeignKeyConstraint(
            ["form_id"], ["forms.id"], name="fk_form_submissions_form_id_forms"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_form_submissions_contact_id_contacts"
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["visitors.id"], name="fk_form_submissions_visitor_id_visitors"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_form_submissions"),
        sa.UniqueConstraint(
            "portal_id", "message_id", name="uq_form_submissions_portal_id_message_id"
        ),
    )
    op.create_index(
        "ix_form_submissions_form", "form_submissions", ["portal_id", "form_id", "submitted_at_ms"]
    )
    op.create_index(
        "ix_form_submissions_contact",
        "form_submissions",
        ["portal_id", "contact_id", "submitted_at_ms"],
    )


def downgrade() -> None:
    op.drop_table("form_submissions")
    op.drop_table("forms")
