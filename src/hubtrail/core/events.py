"""Behavioral event names: how a name or id sent by a client finds (or makes) a definition.

HubSpot fires an event by numeric id or by name; a name with no definition creates one, once.
Internal names follow HubSpot's event rule `^[a-z][a-z0-9_]*$`, at most 50 characters; the
fully qualified name is `pe{hubId}_{name}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_EVENT_NAME_CHARS = 50
MAX_EVENT_LABEL_CHARS = 100
_QUALIFIED_RE = re.compile(r"^pe(\d+)_(.+)$")


@dataclass(frozen=True, slots=True)
class EventRef:
    """What a client named: a definition id (digits) and/or an internal name, with its label."""

    definition_id: int | None
    name: str | None
    label: str


def internal_event_name(label: str) -> str | None:
    """HubSpot's internal name for a label, or None when nothing usable is left.

    `"Clicked Buy Button"` → `"clicked_buy_button"`; a name that would start with a digit gets an
    `e_` prefix so it stays valid.
    """
    name = re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")
    if not name:
        return None
    if not name[0].isalpha():
        name = "e_" + name
    return name[:MAX_EVENT_NAME_CHARS].rstrip("_")


def parse_event_ref(raw: str, hub_id: int) -> EventRef | None:
    """Read `_n`, `eventName` or a Segment event name. None when it names nothing usable.

    All digits: a definition id (HubSpot's `000000001625` form included); if no definition has it,
    the processor falls back to the name. `pe{hubId}_name` is unwrapped to `name`.
    """
    text = raw.strip()
    if not text:
        return None
    qualified = _QUALIFIED_RE.match(text)
    if qualified and int(qualified.group(1)) == hub_id:
        text = qualified.group(2)
    definition_id = int(text) if text.isdigit() and len(text) <= 18 else None
    return EventRef(
        definition_id=definition_id,
        name=internal_event_name(text),
        label=text[:MAX_EVENT_LABEL_CHARS],
    )


def qualified_event_name(hub_id: int, name: str) -> str:
    return f"pe{hub_id}_{name}"
