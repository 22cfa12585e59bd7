"""Dashboard page: deliveries, how forwarding this portal's changes to its destinations goes.

- `GET /app/{hub}/deliveries`: per destination its target, what it sends, the queue, counters,
  today's budget and any pause (as `hubtrail deliveries status` shows them), then the dead
  letter, a page at a time.
- `POST /app/{hub}/deliveries/replay`: queue dead-lettered changes again, all of a destination's
  (`destination`) or one (`row`); they send the current state of what they name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.errors import NotFoundError
from hubtrail.store import delivery_views, destinations, outbox
from hubtrail.store.destinations import Destination, Sends
from hubtrail.store.outbox import Kind, Row
from hubtrail.web.dashboard.auth import PortalView, checked_form, runtime_of
from hubtrail.web.dashboard.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
REPLAY_CHUNK = 500  # rows per write transaction, so a long replay never holds the writer long


def _object(row: Row, hub_id: int) -> list[dict[str, Any]]:
    """What a dead row names, as links: a contact, a company, both for an association, and the
    message of an event or page view (found in the live debugger)."""
    base = f"/app/{hub_id}"
    if row.kind is Kind.CONTACT:
        return [{"text": f"contact {row.object_key}", "href": f"{base}/contacts/{row.object_key}"}]
    if row.kind is Kind.COMPANY:
        return [{"text": f"company {row.object_key}", "href": f"{base}/companies/{row.object_key}"}]
    if row.kind is Kind.ASSOCIATION:
        contact, _, company = row.object_key.partition(":")
        return [
            {"text": f"contact {contact}", "href": f"{base}/contacts/{contact}"},
            {"text": f"company {company}", "href": f"{base}/companies/{company}"},
        ]
    href = f"{base}/debugger?q={quote(row.object_key)}"
    return [{"text": row.object_key, "href": href, "mono": True}]


def _page_number(raw: str | None) -> int:
    return max(1, int(raw)) if raw and raw.isdigit() and len(raw) < 7 else 1


@router.get("/app/{hub_id}/deliveries")
async def deliveries_page(
    request: Request, view: PortalView, page: str | None = None, replayed: str | None = None
) -> Response:
    runtime = runtime_of(request)
    number = _page_number(page)

    async def read(conn: Any) -> tuple[list[Destination], dict[int, outbox.Counts], list[Row]]:
        found = await destinations.all_destinations(conn, view.hub_id)
        ids = [d.id for d in found]
        counts = await delivery_views.counts(conn, ids)
        dead = await delivery_views.dead_page(conn, ids, (number - 1) * PAGE_SIZE, PAGE_SIZE + 1)
        return found, counts, dead

    found, counts, dead = await runtime.db.read(read)
    now = runtime.clock_ms()
    statuses = {row["destination"]: row for row in delivery_views.status_rows(found, counts, now)}
    shown = [
        {
            "id": d.id,
            "kind": "HubSpot" if d.kind == "hubspot" else d.kind,
            "base_url": d.base_url,
            "sends": [s.value for s in Sends if s in d.sends],
            "rate_per_s": d.rate_per_s,
            "daily_budget": d.daily_budget,
            "paused_until_ms": d.paused_until_ms if d.paused_until_ms > now else None,
            "oldest_queued_ms": counts.get(d.id, outbox.Counts()).oldest_pending_at_ms,
            **statuses[d.id],
        }
        for d in found
    ]
    notice = None
    if replayed and replayed.isdigit():
        count = int(replayed)
        notice = f"{count} change{'' if count == 1 else 's'} queued again."
    context = {
        "portal": view.portal,
        "destinations": shown,
        "dead": [{"row": row, "links": _object(row, view.hub_id)} for row in dead[:PAGE_SIZE]],
        "dead_total": sum(c.dead for c in counts.values()),
        "page": number,
        "has_next": len(dead) > PAGE_SIZE,
        "notice": notice,
    }
    return render(request, "deliveries.html", context)


def _replay(ids: list[int], now_ms: int) -> Callable[[AsyncConnection], Awaitable[None]]:
    return lambda conn: outbox.replay(conn, ids, now_ms)


@router.post("/app/{hub_id}/deliveries/replay")
async def replay(request: Request, view: PortalView) -> Response:
    form = await checked_form(request, view.viewer)
    runtime = runtime_of(request)
    destination_id = str(form.get("destination") or "")
    row_id = str(form.get("row") or "")

    async def dead_ids(conn: Any) -> list[int]:
        if row_id.isdigit():
            rows = await outbox.dead_rows(conn, row_id=int(row_id))
            return [r.id for r in rows if r.portal_id == view.hub_id]
        if destination_id.isdigit():
            found = await destinations.get(conn, int(destination_id))
            if found is None or found.portal_id != view.hub_id:
                raise NotFoundError(f"this portal has no destination {destination_id}")
            return [r.id for r in await outbox.dead_rows(conn, destination_id=found.id)]
        return []

    ids = await runtime.db.read(dead_ids)
    for start in range(0, len(ids), REPLAY_CHUNK):
        await runtime.db.write(_replay(ids[start : start + REPLAY_CHUNK], runtime.clock_ms()))
    return RedirectResponse(f"/app/{view.hub_id}/deliveries?replayed={len(ids)}", status_code=303)
