"""Dashboard page: the live debugger, every message a portal received and what processing did.

- `GET /app/{hub}/debugger`: the latest messages, rendered on the server (the page works
  without scripts), filtered by `?source=&kind=&q=`.
- `GET /app/{hub}/debugger/stream`: Server-Sent Events, one per message once it is processed,
  polled from the inbox after a cursor (`?after=`, or `Last-Event-ID` when the browser
  reconnects). A stream ends when the client goes away and after `STREAM_LIFETIME_S`;
  `debugger.js` reconnects and resumes where it stopped. It shows at most
  `MAX_EVENTS_PER_POLL` messages a poll and jumps ahead when far behind, telling the page so
  with a `skipped` event: a burst or a backlog never floods the browser.

Both render a message through `shown`, so a row streamed in looks like one rendered on the page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.responses import Response, StreamingResponse

from hubtrail.core.messages import Kind, Source
from hubtrail.runtime import Runtime
from hubtrail.store import inbox_views
from hubtrail.store.inbox_views import InboxEntry
from hubtrail.web.dashboard.auth import PortalView, runtime_of
from hubtrail.web.dashboard.templating import SECURITY_HEADERS, render, shorten

router = APIRouter(include_in_schema=False)

SOURCE_LABELS: dict[str, str] = {
    Source.TRACKING_CODE: "Tracking code",
    Source.HTTP_EVENTS: "HTTP events",
    Source.EVENTS_API: "Events API",
    Source.SEGMENT: "Segment",
    Source.CRM_API: "CRM API",
    Source.FORM: "Forms",
    Source.IMPORT: "Import",
}
STATUS_BADGES = {"applied": "ok", "partial": "warn", "failed": "bad"}
PAGE_SIZE = 50
MAX_PAYLOAD_CHARS = 20_000  # a payload is cut on screen past this (the inbox keeps it whole)

POLL_S = 0.5
STREAM_LIFETIME_S = 600.0  # then the browser reconnects, with Last-Event-ID
KEEPALIVE_S = 15.0  # a comment line when nothing happened, so proxies keep the stream open
STREAM_BATCH = 200
MAX_EVENTS_PER_POLL = 50  # more at once is more than anyone reads live: the older are skipped
STALE_PENDING_MS = 60_000  # a message unprocessed this long no longer holds the stream back


# --- what a message shows -----------------------------------------------------------------------


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _part(document: dict[str, Any], name: str) -> dict[str, Any]:
    found = document.get(name)
    return found if isinstance(found, dict) else {}


def summary(entry: InboxEntry) -> str:
    """A few words that tell messages apart: an event name, a URL, an email or a name."""
    p = entry.payload
    traits, props, page = _part(p, "traits"), _part(p, "contact_properties"), _part(p, "page")
    who = _text(p.get("email")) or _text(traits.get("email")) or _text(props.get("email"))
    if entry.kind == Kind.TRACK:
        parts = [_text(p.get("event")) or "(no event name)", who]
    elif entry.kind == Kind.PAGE:
        parts = [_text(page.get("url")) or _text(page.get("title")), who]
    elif entry.kind == Kind.GROUP:
        named = next(
            filter(None, (_text(traits.get(k)) for k in ("name", "domain", "website"))), ""
        )
        parts = [named or f"group {_text(p.get('group_id'))}".strip(), who]
    elif entry.kind == Kind.ALIAS:
        parts = [f"{_text(p.get('previous_id'))} → {_text(p.get('external_id'))}"]
    else:
        named = " ".join(filter(None, (_text(props.get(k)) for k in ("firstname", "lastname"))))
        object_id = _text(p.get("object_id"))
        parts = [
            who
            or named
            or _text(p.get("external_id"))
            or (f"contact {object_id}" if object_id else _text(p.get("visitor_key")))
        ]
    return shorten(" · ".join(part for part in parts if part)) or "(nothing to show)"


def _object_link(entry: InboxEntry, hub_id: int) -> dict[str, str] | None:
    """The contact or company a message wrote, as a link: "Contact created", "Company updated"."""
    outcome = entry.outcome
    if outcome.get("object_type") == "companies" and outcome.get("object_id"):
        verb = "created" if outcome.get("created") else "updated"
        company_id = int(outcome["object_id"])
        return {
            "label": f"Company {verb}",
            "href": f"/app/{hub_id}/companies/{company_id}",
            "text": f"company {company_id}",
        }
    if outcome.get("contact_id"):
        contact_id = int(outcome["contact_id"])
        verb = "created" if outcome.get("contact_created") else "updated"
        return {
            "label": f"Contact {verb}",
            "href": f"/app/{hub_id}/contacts/{contact_id}",
            "text": f"contact {contact_id}",
        }
    return None


def _received(at_ms: int) -> str:
    """To the second: messages sent one after the other are told apart."""
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def shown(entry: InboxEntry, hub_id: int) -> dict[str, Any]:
    """One message as the page and the stream show it (the stream sends this as JSON)."""
    outcome = entry.outcome
    status = str(outcome.get("status") or ("pending" if entry.processed_at_ms is None else ""))
    found = _object_link(entry, hub_id)
    lines = []
    if found is None and status != "failed":
        anonymous = outcome.get("visitor_id") is not None
        lines.append("Anonymous visitor: no contact yet" if anonymous else "No contact written")
    if outcome.get("event_definition_created"):
        lines.append("Event definition created")
    notes = [
        {
            "code": str(n.get("code", "")),
            "field": str(n.get("field", "")),
            "reason": str(n.get("reason", "")),
        }
        for n in outcome.get("notes") or []
        if isinstance(n, dict)
    ]
    # Fields a message did not use (null, empty) are left out: what it carried stands out.
    carried = {k: v for k, v in entry.payload.items() if v not in (None, "", {}, [])}
    payload = orjson.dumps(carried, option=orjson.OPT_INDENT_2).decode()
    return {
        "seq": entry.seq,
        "source": entry.source,
        "source_label": SOURCE_LABELS.get(entry.source, entry.source),
        "kind": entry.kind,
        "received": _received(entry.received_at_ms),
        "received_at_ms": entry.received_at_ms,
        "summary": summary(entry),
        "status": status,
        "status_class": STATUS_BADGES.get(status, ""),
        "object": found,
        "lines": lines,
        "properties": [str(name) for name in outcome.get("properties_written") or []],
        "notes": notes,
        "error": str(outcome["error"]) if outcome.get("error") else None,
        "payload": shorten(payload, MAX_PAYLOAD_CHARS),
    }


# --- the page -----------------------------------------------------------------------------------


def _choice(value: str | None, allowed: list[str]) -> str:
    return value if value in allowed else ""


@router.get("/app/{hub_id}/debugger")
async def debugger_page(
    request: Request,
    view: PortalView,
    source: str | None = None,
    kind: str | None = None,
    q: str | None = None,
) -> Response:
    runtime = runtime_of(request)
    source = _choice(source, [s.value for s in Source])
    kind = _choice(kind, [k.value for k in Kind])
    text = (q or "").strip()[:200]

    async def read(conn: Any) -> tuple[int, list[InboxEntry]]:
        # The cursor first: a message processed in between is in both, and the script skips it.
        cursor = await inbox_views.start_cursor(conn, view.hub_id)
        found = await inbox_views.recent(
            conn, view.hub_id, source=source, kind=kind, text=text, limit=PAGE_SIZE
        )
        return cursor, found

    cursor, entries = await runtime.db.read(read)
    context = {
        "portal": view.portal,
        "messages": [shown(entry, view.hub_id) for entry in entries],
        "cursor": cursor,
        "sources": [(s.value, SOURCE_LABELS[s]) for s in Source],
        "kinds": [k.value for k in Kind],
        "source": source,
        "kind": kind,
        "q": text,
        "filtered": bool(source or kind or text),
        "window_rows": inbox_views.RECENT_WINDOW_ROWS,
    }
    return render(request, "debugger.html", context)


# --- the stream ---------------------------------------------------------------------------------


class Follower:
    """Which of a portal's messages the stream has sent.

    `cursor` is the highest seq up to which every message was sent (or skipped); messages
    processed beyond a still-unprocessed one are sent too and remembered in `sent`, so the
    cursor can move over them later without sending them twice. On PostgreSQL several
    processors apply partitions side by side, so messages can finish out of order.
    """

    def __init__(self, cursor: int) -> None:
        self.cursor = cursor
        self.sent: set[int] = set()

    def take(self, entries: list[InboxEntry], now_ms: int) -> list[tuple[InboxEntry, int]]:
        """The entries to send now (in seq order), each with the cursor to resume after it."""
        fresh = []
        held = False
        for entry in entries:
            if entry.processed_at_ms is None:
                stale = entry.received_at_ms < now_ms - STALE_PENDING_MS
                held = held or not stale
                if not held:
                    self.cursor = entry.seq
                continue
            if not held:
                self.cursor = entry.seq
            if entry.seq not in self.sent:
                self.sent.add(entry.seq)
                fresh.append((entry, self.cursor))
        self.sent = {seq for seq in self.sent if seq > self.cursor}
        return fresh

    def skip_to(self, cursor: int) -> bool:
        """Leave out everything up to `cursor`; True when that skipped anything."""
        if cursor <= self.cursor:
            return False
        self.cursor = cursor
        self.sent = {seq for seq in self.sent if seq > cursor}
        return True


def _cursor(last_event_id: str | None, after: int | None) -> int | None:
    if last_event_id and last_event_id.strip().isdigit():
        return int(last_event_id.strip())
    return after if after is not None and after >= 0 else None


def sse_event(data: dict[str, Any], event_id: int) -> bytes:
    """One Server-Sent Event: its id (where to resume) and its JSON data on one line."""
    return b"id: %d\ndata: %s\n\n" % (event_id, orjson.dumps(data))


async def _events(
    request: Request, runtime: Runtime, hub_id: int, cursor: int
) -> AsyncIterator[bytes]:
    follower = Follower(cursor)
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + STREAM_LIFETIME_S
    last_sent = loop.time()
    yield b"retry: 2000\n\n"
    while loop.time() < ends_at and not runtime.closing and not await request.is_disconnected():
        entries = await runtime.db.read(
            lambda conn: inbox_views.after(conn, hub_id, follower.cursor, STREAM_BATCH)
        )
        fresh = follower.take(entries, runtime.clock_ms())
        skipped = len(fresh) > MAX_EVENTS_PER_POLL
        if len(entries) == STREAM_BATCH:
            # Far behind (a burst, a backlog being applied): go on from the inbox's end.
            newest = await runtime.db.read(inbox_views.newest_seq)
            skipped = follower.skip_to(newest - STREAM_BATCH) or skipped
        for entry, resume_at in fresh[-MAX_EVENTS_PER_POLL:]:
            yield sse_event(shown(entry, hub_id), resume_at)
        if skipped:
            yield b"event: skipped\nid: %d\ndata: {}\n\n" % follower.cursor
        if fresh or skipped:
            last_sent = loop.time()
        elif loop.time() - last_sent >= KEEPALIVE_S:
            yield b": keep-alive\n\n"
            last_sent = loop.time()
        await asyncio.sleep(POLL_S)


@router.get("/app/{hub_id}/debugger/stream")
async def debugger_stream(
    request: Request,
    view: PortalView,
    after: int | None = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    runtime = runtime_of(request)
    cursor = _cursor(last_event_id, after)
    if cursor is None:
        cursor = await runtime.db.read(lambda conn: inbox_views.start_cursor(conn, view.hub_id))
    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}  # nginx: do not buffer the stream
    return StreamingResponse(
        _events(request, runtime, view.hub_id, cursor),
        media_type="text/event-stream",
        headers=headers,
    )
