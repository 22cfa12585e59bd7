"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-01 23:13:44.460006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "portals",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("settings", sa.Text(), server_default="{}", nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portals")),
    )
    op.create_table(
        "companies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("domain_key", sa.String(length=255), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("archived_at_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_companies_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_companies_portal_domain", ["portal_id", "domain_key"], unique=False
        )

    op.create_table(
        "contacts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("external_id", sa.String(length=256), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("archived_at_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_contacts_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("portal_id", "email_key", name=op.f("uq_contacts_portal_id_email_key")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contacts_portal_external", ["portal_id", "external_id"], unique=False
        )

    op.create_table(
        "credentials",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_credentials_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_credentials_secret_sha256")),
    )
    op.create_table(
        "event_definitions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("primary_object", sa.String(length=20), server_default="CONTACT", nullable=False),
        sa.Column("created_by", sa.String(length=20), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("archived_at_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_event_definitions_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_definitions")),
        sa.UniqueConstraint("portal_id", "name", name=op.f("uq_event_definitions_portal_id_name")),
    )
    op.create_table(
        "inbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("partition", sa.SmallInteger(), nullable=False),
        sa.Column("received_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("processed_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_inbox_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_inbox")),
        sa.UniqueConstraint("portal_id", "message_id", name=op.f("uq_inbox_portal_id_message_id")),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_pending",
            ["partition", "seq"],
            unique=False,
            sqlite_where=sa.text("processed_at_ms IS NULL"),
            postgresql_where=sa.text("processed_at_ms IS NULL"),
        )

    op.create_table(
        "property_definitions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("field_type", sa.String(length=30), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("options", sa.Text(), server_default="[]", nullable=False),
        sa.Column("display_order", sa.Integer(), server_default="-1", nullable=False),
        sa.Column("hubspot_defined", sa.Boolean(), nullable=False),
        sa.Column("read_only_value", sa.Boolean(), nullable=False),
        sa.Column("has_unique_value", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("form_field", sa.Boolean(), server_default=sa.text("(true)"), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("archived_at_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_property_definitions_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_definitions")),
        sa.UniqueConstraint(
            "portal_id",
            "object_type",
            "name",
            name=op.f("uq_property_definitions_portal_id_object_type_name"),
        ),
    )
    op.create_table(
        "property_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_property_history_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_history")),
    )
    with op.batch_alter_table("property_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_property_history_object",
            ["portal_id", "object_type", "object_id", "name"],
            unique=False,
        )

    op.create_table(
        "property_values",
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_property_values_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint(
            "portal_id", "object_type", "object_id", "name", name=op.f("pk_property_values")
        ),
    )
    with op.batch_alter_table("property_values", schema=None) as batch_op:
        batch_op.create_index(
            "ix_property_values_name", ["portal_id", "object_type", "name"], unique=False
        )

    op.create_table(
        "contact_identities",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_identities_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_contact_identities_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_identities")),
        sa.UniqueConstraint(
            "portal_id",
            "kind",
            "value",
            "contact_id",
            name=op.f("uq_contact_identities_portal_id_kind_value_contact_id"),
        ),
    )
    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.create_index("ix_contact_identities_contact", ["contact_id"], unique=False)

    op.create_table(
        "visitors",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("visitor_key", sa.String(length=128), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("external_id", sa.String(length=256), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_visitors_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_visitors_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visitors")),
        sa.UniqueConstraint(
            "portal_id", "visitor_key", name=op.f("uq_visitors_portal_id_visitor_key")
        ),
    )
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visitors_portal_contact", ["portal_id", "contact_id"], unique=False
        )

    op.create_table(
        "event_occurrences",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("definition_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("visitor_id", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.String(length=40), nullable=True),
        sa.Column("properties", sa.Text(), server_default="{}", nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_event_occurrences_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["event_definitions.id"],
            name=op.f("fk_event_occurrences_definition_id_event_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_event_occurrences_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["visitors.id"], name=op.f("fk_event_occurrences_visitor_id_visitors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_occurrences")),
    )
    with op.batch_alter_table("event_occurrences", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_occurrences_contact",
            ["portal_id", "contact_id", "occurred_at_ms"],
            unique=False,
        )
        batch_op.create_index(
            "ix_event_occurrences_definition",
            ["portal_id", "definition_id", "occurred_at_ms"],
            unique=False,
        )
        batch_op.create_index("ix_event_occurrences_visitor", ["visitor_id"], unique=False)

    op.create_table(
        "page_views",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("visitor_id", sa.BigInteger(), nullable=True),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), server_default="", nullable=False),
        sa.Column("referrer", sa.Text(), server_default="", nullable=False),
        sa.Column("content_type", sa.String(length=40), server_default="", nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_page_views_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_page_views_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["visitors.id"], name=op.f("fk_page_views_visitor_id_visitors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_views")),
    )
    with op.batch_alter_table("page_views", schema=None) as batch_op:
        batch_op.create_index(
            "ix_page_views_contact", ["portal_id", "contact_id", "occurred_at_ms"], unique=False
        )
        batch_op.create_index(
            "ix_page_views_portal_time", ["portal_id", "occurred_at_ms"], unique=False
        )
        batch_op.create_index("ix_page_views_visitor", ["visitor_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("page_views", schema=None) as batch_op:
        batch_op.drop_index("ix_page_views_visitor")
        batch_op.drop_index("ix_page_views_portal_time")
        batch_op.drop_index("ix_page_views_contact")

    op.drop_table("page_views")
    with op.batch_alter_table("event_occurrences", schema=None) as batch_op:
        batch_op.drop_index("ix_event_occurrences_visitor")
        batch_op.drop_index("ix_event_occurrences_definition")
        batch_op.drop_index("ix_event_occurrences_contact")

    op.drop_table("event_occurrences")
    with op.batch_alter_table("visitors", schema=None) as batch_op:
        batch_op.drop_index("ix_visitors_portal_contact")

    op.drop_table("visitors")
    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_identities_contact")

    op.drop_table("contact_identities")
    with op.batch_alter_table("property_values", schema=None) as batch_op:
        batch_op.drop_index("ix_property_values_name")

    op.drop_table("property_values")
    with op.batch_alter_table("property_history", schema=None) as batch_op:
        batch_op.drop_index("ix_property_history_object")

    op.drop_table("property_history")
    op.drop_table("property_definitions")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_inbox_pending",
            sqlite_where=sa.text("processed_at_ms IS NULL"),
            postgresql_where=sa.text("processed_at_ms IS NULL"),
        )

    op.drop_table("inbox")
    op.drop_table("event_definitions")
    op.drop_table("credentials")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_portal_external")

    op.drop_table("contacts")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index("ix_companies_portal_domain")

    op.drop_table("companies")
    op.drop_table("portals")
