"""The canonical message: what every ingestion wire format is turned into before it is stored.

A message is plain data. Ingest builds it, the inbox stores it as JSON, the processor applies it.
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

PARTITION_COUNT = 64
"""Inbox rows are spread over this many partitions; one partition is applied in order."""


def new_message_id() -> str:
    """A fresh id for a message whose wire format carries none.

    Time-ordered (nanoseconds, then random bits) so the inbox's unique index grows at its end:
    random keys make every insert touch a random B-tree page, three times slower on SQLite.
    """
    return f"{time.time_ns():016x}{os.urandom(5).hex()}"


class Source(StrEnum):
    """Where a message or a change came from; kept on property history and the timeline."""

    TRACKING_CODE = "tracking_code"
    HTTP_EVENTS = "http_events"
    EVENTS_API = "events_api"
    SEGMENT = "segment"
    CRM_API = "crm_api"
    FORM = "form"
    IMPORT = "import"


class Kind(StrEnum):
    """What a message asks for."""

    IDENTIFY = "identify"
    PAGE = "page"
    TRACK = "track"
    GROUP = "group"
    ALIAS = "alias"


@dataclass(frozen=True, slots=True)
class PageView:
    """The page a tracking-code hit was sent from, and where the visitor is in their session."""

    url: str
    title: str = ""
    referrer: str = ""
    content_type: str = ""
    page_id: str = ""
    session_number: int = 1
    view_in_session: int = 1
    campaign: str = ""  # UTM parameters sent apart from the URL (Segment's context.campaign)


@dataclass(frozen=True, slots=True)
class Message:
    """One canonical message.

    `event` is an event name or numeric definition id (track only). `contact_properties` are raw
    values to write on the resolved contact, still uncoerced. `event_properties` travel with the
    event occurrence. `revenue` is added to the contact's `hs_analytics_revenue`. `traits` are
    Segment traits (identify, `context.traits`, group), mapped by `core.segment_traits` on use.
    `company_properties` are a form's company fields, raw like `contact_properties`.
    """

    message_id: str
    portal_id: int
    source: Source
    kind: Kind
    received_at_ms: int
    occurred_at_ms: int
    visitor_key: str | None = None
    email: str | None = None
    external_id: str | None = None
    object_id: str | None = None
    event: str | None = None
    revenue: str | None = None
    contact_properties: dict[str, str] = field(default_factory=dict)
    event_properties: dict[str, Any] = field(default_factory=dict)
    page: PageView | None = None
    is_bot: bool = False
    traits: dict[str, Any] = field(default_factory=dict)
    group_id: str | None = None
    previous_id: str | None = None
    # Segment's browser library in device mode: hubtrail's HubSpot plugin delivered this same
    # call through the tracking code, so this copy is kept on the inbox but not applied.
    device_mode_copy: bool = False
    # Form submissions (`Source.FORM`): the form, its company fields, the (name, value) pairs as
    # sent, and the submission's context (hutk, pageUri, pageName, ipAddress).
    form_guid: str | None = None
    company_properties: dict[str, str] = field(default_factory=dict)
    form_submitted: list[list[str]] = field(default_factory=list)
    form_context: dict[str, str] = field(default_factory=dict)

    def partition(self) -> int:
        """The inbox partition: one visitor's (or email's) messages share one, so keep order."""
        key = self.visitor_key or (self.email or "").strip().lower() or self.message_id
        return zlib.crc32(key.encode()) % PARTITION_COUNT

    def to_json(self) -> bytes:
        return orjson.dumps(self)  # orjson serializes dataclasses and enums natively

    @classmethod
    def from_json(cls, data: bytes | str) -> Message:
        raw = orjson.loads(data)
        raw["source"] = Source(raw["source"])
        raw["kind"] = Kind(raw["kind"])
        if raw.get("page") is not None:
            raw["page"] = PageView(**raw["page"])
        return cls(**raw)
