"""crm api

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 23:34:12.349107
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "associations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("from_type", sa.String(length=20), nullable=False),
        sa.Column("from_id", sa.BigInteger(), nullable=False),
        sa.Column("to_type", sa.String(length=20), nullable=False),
        sa.Column("to_id", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_associations_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_associations")),
        sa.UniqueConstraint(
            "portal_id",
            "from_type",
            "from_id",
            "to_type",
            "to_id",
            "category",
            "type_id",
            name="uq_associations_pair",
        ),
    )
    with op.batch_alter_table("associations", schema=None) as batch_op:
        batch_op.create_index("ix_associations_to", ["portal_id", "to_type", "to_id"], unique=False)

    op.create_table(
        "property_groups",
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
        sa.Column("display_order", sa.Integer(), server_default="-1", nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("archived_at_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_property_groups_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_groups")),
        sa.UniqueConstraint(
            "portal_id",
            "object_type",
            "name",
            name=op.f("uq_property_groups_portal_id_object_type_name"),
        ),
    )
    op.create_table(
        "event_definition_properties",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("portal_id", sa.BigInteger(), nullable=False),
        sa.Column("definition_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("options", sa.Text(), server_default="[]", nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("archived_at_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["event_definitions.id"],
            name=op.f("fk_event_definition_properties_definition_id_event_definitions"),
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_event_definition_properties_portal_id_portals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_definition_properties")),
        sa.UniqueConstraint(
            "definition_id", "name", name=op.f("uq_event_definition_properties_definition_id_name")
        ),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("property_values", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("value_key", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("value_num", sa.Float(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_property_values_name"))
        batch_op.create_index(
            "ix_property_values_key",
            ["portal_id", "object_type", "name", "value_key"],
            unique=False,
        )
        batch_op.create_index(
            "ix_property_values_num",
            ["portal_id", "object_type", "name", "value_num"],
            unique=False,
        )
    _seed_groups_and_search_columns()


# Frozen copy of the default groups as of this revision (later revisions may add more).
_GROUPS = {
    "contacts": [
        ("contactinformation", "Contact information"),
        ("sales_properties", "Sales properties"),
        ("contact_activity", "Contact activity"),
        ("conversioninformation", "Conversion information"),
        ("analyticsinformation", "Web analytics history"),
    ],
    "companies": [
        ("companyinformation", "Company information"),
        ("analyticsinformation", "Web analytics history"),
    ],
}


def _seed_groups_and_search_columns() -> None:
    """Give portals that existed before this revision their groups and searchable values."""
    from hubtrail.core.properties import PropertyType, value_key, value_number

    bind = op.get_bind()
    portal_rows = bind.execute(sa.text("SELECT id, created_at_ms FROM portals")).all()
    for portal_id, created_at_ms in portal_rows:
        for object_type, group in (
            ("contacts", "contactinformation"),
            ("companies", "companyinformation"),
        ):
            bind.execute(
                sa.text(
                    "INSERT INTO property_definitions (portal_id, object_type, name, label, type, "
                    "field_type, group_name, hubspot_defined, read_only_value, has_unique_value, "
                    "created_at_ms, updated_at_ms) VALUES (:p, :t, 'hs_merged_object_ids', "
                    "'Merged IDs', 'string', 'text', :g, :yes, :yes, :no, :c, :c)"
                ),
                {
                    "p": portal_id,
                    "t": object_type,
                    "g": group,
                    "yes": True,
                    "no": False,
                    "c": created_at_ms,
                },
            )
        for object_type, groups in _GROUPS.items():
            for order, (name, label) in enumerate(groups):
                bind.execute(
                    sa.text(
                        "INSERT INTO property_groups (portal_id, object_type, name, label, "
                        "display_order, created_at_ms) VALUES (:p, :t, :n, :l, :o, :c)"
                    ),
                    {
                        "p": portal_id,
                        "t": object_type,
                        "n": name,
                        "l": label,
                        "o": order,
                        "c": created_at_ms,
                    },
                )
    values = bind.execute(
        sa.text(
            "SELECT v.portal_id, v.object_type, v.object_id, v.name, v.value, d.type "
            "FROM property_values v JOIN property_definitions d ON d.portal_id = v.portal_id "
            "AND d.object_type = v.object_type AND d.name = v.name"
        )
    ).all()
    for portal_id, object_type, object_id, name, value, kind in values:
        bind.execute(
            sa.text(
                "UPDATE property_values SET value_key = :k, value_num = :n WHERE portal_id = :p "
                "AND object_type = :t AND object_id = :o AND name = :name"
            ),
            {
                "k": value_key(PropertyType(kind), value),
                "n": value_number(PropertyType(kind), value),
                "p": portal_id,
                "t": object_type,
                "o": object_id,
                "name": name,
            },
        )


def downgrade() -> None:

    with op.batch_alter_table("property_values", schema=None) as batch_op:
        batch_op.drop_index("ix_property_values_num")
        batch_op.drop_index("ix_property_values_key")
        batch_op.create_index(
            batch_op.f("ix_property_values_name"),
            ["portal_id", "object_type", "name"],
            unique=False,
        )
        batch_op.drop_column("value_num")
        batch_op.drop_column("value_key")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("merged_into_id")

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("merged_into_id")

    op.drop_table("event_definition_properties")
    op.drop_table("property_groups")
    with op.batch_alter_table("associations", schema=None) as batch_op:
        batch_op.drop_index("ix_associations_to")

    op.drop_table("associations")
