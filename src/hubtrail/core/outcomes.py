"""What processing did with one message: kept on the inbox row so a user can find out why.

Every drop or rejection becomes a `Note` with a code and a plain reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson


class Status(StrEnum):
    APPLIED = "applied"
    PARTIAL = "partial"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Note:
    """One thing that did not happen, and why. `field` names the parameter or property."""

    code: str
    field: str
    reason: str


@dataclass(slots=True)
class Outcome:
    """The effect of one message on the store."""

    contact_id: int | None = None
    contact_created: bool = False
    visitor_id: int | None = None
    event_definition_id: int | None = None
    event_definition_created: bool = False
    properties_written: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    error: str | None = None

    def note(self, code: str, field_name: str, reason: str) -> None:
        self.notes.append(Note(code, field_name, reason))

    @property
    def status(self) -> Status:
        if self.error:
            return Status.FAILED
        return Status.PARTIAL if self.notes else Status.APPLIED

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "status": self.status.value,
            "contact_id": self.contact_id,
            "contact_created": self.contact_created,
            "visitor_id": self.visitor_id,
            "event_definition_id": self.event_definition_id,
            "event_definition_created": self.event_definition_created,
            "properties_written": self.properties_written,
            "notes": self.notes,  # orjson writes dataclasses as objects
            "error": self.error,
        }
        return orjson.dumps(body).decode()
