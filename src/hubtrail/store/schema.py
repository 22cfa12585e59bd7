"""The tables, as SQLAlchemy Core metadata: one schema for SQLite and PostgreSQL.

Every row carries its portal. Times are epoch milliseconds (`*_at_ms`). JSON documents are kept as
text (orjson in, orjson out) so both engines store them the same way. Alembic migrations under
`migrations/` create exactly these tables; a test checks they agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from hubtrail.core.properties import VALUE_KEY_CHARS

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _portal() -> Column[int]:
    return Column("portal_id", BigInteger, ForeignKey("portals.id"), nullable=False)


portals = Table(
    "portals",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("created_at_ms", BigInteger, nullable=False),
)

credentials = Table(
    "credentials",
    metadata,
    _id(),
    _portal(),
    Column("kind", String(20), nullable=False),
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("hint", String(16), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("revoked_at_ms", BigInteger),
)

inbox = Table(
    "inbox",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=True),
    _portal(),
    Column("message_id", String(128), nullable=False),
    Column("source", String(20), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("partition", SmallInteger, nullable=False),
    Column("received_at_ms", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
    Column("processed_at_ms", BigInteger),
    Column("outcome", Text),
    UniqueConstraint("portal_id", "message_id"),
    Index("ix_inbox_portal_seq", "portal_id", "seq"),  # the debugger reads a portal's newest
    Index(
        "ix_inbox_pending",
        "partition",
        "seq",
        sqlite_where=text("processed_at_ms IS NULL"),
        postgresql_where=text("processed_at_ms IS NULL"),
    ),
)

contacts = Table(
    "contacts",
    metadata,
    _id(),
    _portal(),
    Column("email", String(320)),
    Column("email_key", String(320)),
    Column("external_id", String(256)),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("archived_at_ms", BigInteger),
    Column("merged_into_id", BigInteger),
    UniqueConstraint("portal_id", "email_key"),
    Index("ix_contacts_portal_external", "portal_id", "external_id"),
    Index("ix_contacts_portal_created", "portal_id", "created_at_ms"),
    Index("ix_contacts_portal_updated", "portal_id", "updated_at_ms"),
    Index(
        "ix_contacts_merged",
        "portal_id",
        "merged_into_id",
        sqlite_where=text("merged_into_id IS NOT NULL"),
        postgresql_where=text("merged_into_id IS NOT NULL"),
    ),
)

visitors = Table(
    "visitors",
    metadata,
    _id(),
    _portal(),
    Column("visitor_key", String(128), nullable=False),
    Column("contact_id", BigInteger, ForeignKey("contacts.id")),
    Column("external_id", String(256)),
    # Segment traits identified before any contact could be found, applied when one is.
    Column("pending_traits", Text, nullable=False, server_default="{}"),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("last_seen_at_ms", BigInteger, nullable=False),
    UniqueConstraint("portal_id", "visitor_key"),
    Index("ix_visitors_portal_contact", "portal_id", "contact_id"),
)

contact_identities = Table(
    "contact_identities",
    metadata,
    _id(),
    _portal(),
    Column("contact_id", BigInteger, ForeignKey("contacts.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", String(320), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    UniqueConstraint("portal_id", "kind", "value", "contact_id"),
    Index("ix_contact_identities_contact", "contact_id"),
)

companies = Table(
    "companies",
    metadata,
    _id(),
    _portal(),
    Column("domain_key", String(255)),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("archived_at_ms", BigInteger),
    Column("merged_into_id", BigInteger),
    Index("ix_companies_portal_domain", "portal_id", "domain_key"),
    Index("ix_companies_portal_created", "portal_id", "created_at_ms"),
    Index("ix_companies_portal_updated", "portal_id", "updated_at_ms"),
    Index(
        "ix_companies_merged",
        "portal_id",
        "merged_into_id",
        sqlite_where=text("merged_into_id IS NOT NULL"),
        postgresql_where=text("merged_into_id IS NOT NULL"),
    ),
)

property_definitions = Table(
    "property_definitions",
    metadata,
    _id(),
    _portal(),
    Column("object_type", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("type", String(20), nullable=False),
    Column("field_type", String(30), nullable=False),
    Column("group_name", String(100), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("options", Text, nullable=False, server_default="[]"),
    Column("display_order", Integer, nullable=False, server_default="-1"),
    Column("hubspot_defined", Boolean, nullable=False),
    Column("read_only_value", Boolean, nullable=False),
    Column("has_unique_value", Boolean, nullable=False),
    Column("hidden", Boolean, nullable=False, server_default=text("false")),
    Column("form_field", Boolean, nullable=False, server_default=text("true")),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("archived_at_ms", BigInteger),
    UniqueConstraint("portal_id", "object_type", "name"),
)

property_values = Table(
    "property_values",
    metadata,
    Column("portal_id", BigInteger, ForeignKey("portals.id"), primary_key=True),
    Column("object_type", String(20), primary_key=True),
    Column("object_id", BigInteger, primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    # Search columns: a lowercased prefix for equality and text filters, and the value as a
    # number (numbers; epoch ms for dates and datetimes) for ranges and numeric sorting.
    Column("value_key", String(VALUE_KEY_CHARS), nullable=False, server_default=""),
    Column("value_num", Float),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("source", String(20), nullable=False),
    Index("ix_property_values_key", "portal_id", "object_type", "name", "value_key"),
    Index("ix_property_values_num", "portal_id", "object_type", "name", "value_num"),
)

property_groups = Table(
    "property_groups",
    metadata,
    _id(),
    _portal(),
    Column("object_type", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("display_order", Integer, nullable=False, server_default="-1"),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("archived_at_ms", BigInteger),
    UniqueConstraint("portal_id", "object_type", "name"),
)

property_history = Table(
    "property_history",
    metadata,
    _id(),
    _portal(),
    Column("object_type", String(20), nullable=False),
    Column("object_id", BigInteger, nullable=False),
    Column("name", String(100), nullable=False),
    Column("value", Text, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("source", String(20), nullable=False),
    Column("source_id", String(128)),
    Index("ix_property_history_object", "portal_id", "object_type", "object_id", "name"),
)

event_definitions = Table(
    "event_definitions",
    metadata,
    _id(),
    _portal(),
    Column("name", String(50), nullable=False),
    Column("label", String(100), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("primary_object", String(20), nullable=False, server_default="CONTACT"),
    Column("created_by", String(20), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("archived_at_ms", BigInteger),
    UniqueConstraint("portal_id", "name"),
)

event_definition_properties = Table(
    "event_definition_properties",
    metadata,
    _id(),
    _portal(),
    Column("definition_id", BigInteger, ForeignKey("event_definitions.id"), nullable=False),
    Column("name", String(50), nullable=False),
    Column("label", String(100), nullable=False),
    Column("type", String(20), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("options", Text, nullable=False, server_default="[]"),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("archived_at_ms", BigInteger),
    UniqueConstraint("definition_id", "name"),
)

event_occurrences = Table(
    "event_occurrences",
    metadata,
    _id(),
    _portal(),
    Column("definition_id", BigInteger, ForeignKey("event_definitions.id"), nullable=False),
    Column("contact_id", BigInteger, ForeignKey("contacts.id")),
    Column("visitor_id", BigInteger, ForeignKey("visitors.id")),
    Column("occurred_at_ms", BigInteger, nullable=False),
    Column("revenue", String(40)),
    Column("properties", Text, nullable=False, server_default="{}"),
    Column("source", String(20), nullable=False),
    Column("message_id", String(128), nullable=False),
    Index("ix_event_occurrences_contact", "portal_id", "contact_id", "occurred_at_ms"),
    Index("ix_event_occurrences_definition", "portal_id", "definition_id", "occurred_at_ms"),
    Index("ix_event_occurrences_visitor", "visitor_id"),
    Index("ix_event_occurrences_message", "portal_id", "message_id"),
)

page_views = Table(
    "page_views",
    metadata,
    _id(),
    _portal(),
    Column("visitor_id", BigInteger, ForeignKey("visitors.id")),
    Column("contact_id", BigInteger, ForeignKey("contacts.id")),
    Column("occurred_at_ms", BigInteger, nullable=False),
    Column("url", Text, nullable=False),
    Column("title", Text, nullable=False, server_default=""),
    Column("referrer", Text, nullable=False, server_default=""),
    Column("content_type", String(40), nullable=False, server_default=""),
    Column("page_id", String(64), nullable=False, server_default=""),
    Column("session_number", Integer, nullable=False, server_default="1"),
    Column("view_in_session", Integer, nullable=False, server_default="1"),
    Column("is_bot", Boolean, nullable=False, server_default=text("false")),
    # Where the visit came from (core/attribution.py), kept per view so analytics can be derived.
    Column("traffic_source", String(30), nullable=False, server_default=""),
    Column("traffic_source_data_1", Text, nullable=False, server_default=""),
    Column("traffic_source_data_2", Text, nullable=False, server_default=""),
    Column("source", String(20), nullable=False),
    Column("message_id", String(128), nullable=False),
    Index("ix_page_views_contact", "portal_id", "contact_id", "occurred_at_ms"),
    Index("ix_page_views_visitor", "visitor_id"),
    Index("ix_page_views_portal_time", "portal_id", "occurred_at_ms"),
    Index("ix_page_views_message", "portal_id", "message_id"),
)

associations = Table(
    "associations",
    metadata,
    _id(),
    _portal(),
    Column("from_type", String(20), nullable=False),
    Column("from_id", BigInteger, nullable=False),
    Column("to_type", String(20), nullable=False),
    Column("to_id", BigInteger, nullable=False),
    Column("category", String(30), nullable=False),
    Column("type_id", Integer, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    UniqueConstraint(
        "portal_id",
        "from_type",
        "from_id",
        "to_type",
        "to_id",
        "category",
        "type_id",
        name="uq_associations_pair",
    ),
    Index("ix_associations_to", "portal_id", "to_type", "to_id"),
)

# --- forwarding (forward/): where changes go, what is still to send, and the target's ids -------

destinations = Table(
    "destinations",
    metadata,
    _id(),
    _portal(),
    Column("kind", String(20), nullable=False),  # "hubspot"
    Column("base_url", Text, nullable=False),
    Column("token", Text, nullable=False),  # sent to the target, so kept as given, not hashed
    Column("rate_per_s", Float, nullable=False),
    Column("daily_budget", Integer, nullable=False),
    Column("send", String(200), nullable=False),  # comma-separated: contacts,companies,…
    Column("created_at_ms", BigInteger, nullable=False),
    Column("backfilled_at_ms", BigInteger),
    # Delivery state, shared by every worker through this row.
    Column("bucket_tokens", Float, nullable=False, server_default="1"),
    Column("bucket_at_ms", BigInteger, nullable=False, server_default="0"),
    Column("paused_until_ms", BigInteger, nullable=False, server_default="0"),
    Column("pause_reason", Text, nullable=False, server_default=""),
    Column("budget_day", Integer, nullable=False, server_default="0"),
    Column("calls_today", Integer, nullable=False, server_default="0"),
    Column("lease_owner", String(64), nullable=False, server_default=""),
    Column("lease_until_ms", BigInteger, nullable=False, server_default="0"),
    Column("sent_count", BigInteger, nullable=False, server_default="0"),
    Column("retried_count", BigInteger, nullable=False, server_default="0"),
    Column("calls_count", BigInteger, nullable=False, server_default="0"),
    Column("throttled_count", BigInteger, nullable=False, server_default="0"),
)

outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("destination_id", BigInteger, ForeignKey("destinations.id"), nullable=False),
    _portal(),
    Column("kind", String(20), nullable=False),  # contact, company, association, event, pageview
    Column("object_key", String(200), nullable=False),
    Column("status", String(10), nullable=False),  # pending, inflight, dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_batch", Integer, nullable=False, server_default="0"),  # 0: the kind's size
    Column("created_at_ms", BigInteger, nullable=False),
    Column("next_attempt_at_ms", BigInteger, nullable=False),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("dead_at_ms", BigInteger),
    Index("ix_outbox_due", "destination_id", "status", "next_attempt_at_ms"),
    # One pending row per object: further changes before it is sent coalesce into it.
    Index(
        "uq_outbox_pending",
        "destination_id",
        "kind",
        "object_key",
        unique=True,
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)

# Forms whose submissions a destination also sends to one of its HubSpot forms.
destination_forms = Table(
    "destination_forms",
    metadata,
    Column("destination_id", BigInteger, ForeignKey("destinations.id"), primary_key=True),
    Column("form_guid", String(36), primary_key=True),
    Column("remote_portal_id", BigInteger, nullable=False),
    Column("remote_form_guid", String(64), nullable=False),
    Column("base_url", Text, nullable=False),  # HubSpot's forms API: https://api.hsforms.com
)

destination_ids = Table(
    "destination_ids",
    metadata,
    Column("destination_id", BigInteger, ForeignKey("destinations.id"), primary_key=True),
    Column("object_type", String(20), primary_key=True),  # contact, company, event_definition
    Column("local_key", String(200), primary_key=True),
    Column("remote_id", Text, nullable=False),
    Column("detail", Text, nullable=False, server_default="{}"),
)

# --- the dashboard: users, who may see which portal, sign-in sessions, daily aggregates ---------

users = Table(
    "users",
    metadata,
    _id(),
    Column("email", String(320), nullable=False, unique=True),  # lowercased
    Column("password_hash", String(200), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)

user_portals = Table(
    "user_portals",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id"), primary_key=True),
    Column("portal_id", BigInteger, ForeignKey("portals.id"), primary_key=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),  # the cookie's value is never stored
    Column("user_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
)

# Counts per portal, UTC day and metric (page views, per page, per source, events per
# definition…), kept by the processor as it applies messages: the overview sums a few hundred
# rows instead of scanning every view and event.
daily_stats = Table(
    "daily_stats",
    metadata,
    Column("portal_id", BigInteger, ForeignKey("portals.id"), primary_key=True),
    Column("metric", String(20), primary_key=True),
    Column("day", Integer, primary_key=True),  # days since 1970-01-01 (UTC)
    Column("key", String(300), primary_key=True),  # "" for a metric's total
    Column("count", BigInteger, nullable=False),
)

# One row per visitor seen on a day (bots excluded): distinct visitors per day by index range.
daily_visitors = Table(
    "daily_visitors",
    metadata,
    Column("portal_id", BigInteger, ForeignKey("portals.id"), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("visitor_id", BigInteger, primary_key=True),
)

# --- forms: definitions (fields, validation, what happens after a submit) and submissions -------

forms = Table(
    "forms",
    metadata,
    _id(),
    _portal(),
    Column("guid", String(36), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("definition", Text, nullable=False),  # core/forms.py form_to_json
    Column("created_at_ms", BigInteger, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("archived_at_ms", BigInteger),
    Index("ix_forms_portal", "portal_id", "id"),
)

form_submissions = Table(
    "form_submissions",
    metadata,
    _id(),
    _portal(),
    Column("form_id", BigInteger, ForeignKey("forms.id"), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("submitted_at_ms", BigInteger, nullable=False),
    Column("submitted", Text, nullable=False),  # [[name, value], …] as sent
    Column("page_uri", Text, nullable=False, server_default=""),
    Column("page_name", Text, nullable=False, server_default=""),
    Column("hutk", String(64), nullable=False, server_default=""),
    Column("ip_address", String(64), nullable=False, server_default=""),
    Column("contact_id", BigInteger, ForeignKey("contacts.id")),
    Column("visitor_id", BigInteger, ForeignKey("visitors.id")),
    UniqueConstraint("portal_id", "message_id"),
    Index("ix_form_submissions_form", "portal_id", "form_id", "submitted_at_ms"),
    Index("ix_form_submissions_contact", "portal_id", "contact_id", "submitted_at_ms"),
)
