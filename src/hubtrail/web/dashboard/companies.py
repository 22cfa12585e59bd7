"""Dashboard pages: the company list (search by name, domain, website or phone, as the CRM search
API's `query`) and a company's page (properties with history, contacts, property changes)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hubtrail.core.errors import ValidationError
from hubtrail.core.properties import ObjectType
from hubtrail.core.search import check_search
from hubtrail.store import crm_pages, timeline
from hubtrail.web.dashboard.auth import PortalView, runtime_of
from hubtrail.web.dashboard.contacts import (
    ASSOCIATED_COMPANY,
    HELPERS,
    NEWEST_FIRST,
    PAGE_SIZE,
    ListQuery,
    Redirect,
    load_record,
    pager,
    record_context,
)
from hubtrail.web.dashboard.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/app/{hub_id}/companies")
async def company_list(request: Request, view: PortalView) -> Response:
    hub = view.hub_id
    query = ListQuery.parse(request.query_params)
    query = ListQuery(query.text, [], query.offset_raw)  # search only: no property filters here
    context = {"portal": view.portal, "title": "Companies", "query": query, **HELPERS}
    try:
        search = check_search(
            groups=[],
            sort=NEWEST_FIRST,
            query=query.text or None,
            properties=None,
            limit=PAGE_SIZE,
            after=query.offset_raw or None,
        )
        listing = await runtime_of(request).db.read(
            lambda c: crm_pages.listing(c, hub, ObjectType.COMPANY, search, {})
        )
    except ValidationError as error:
        context.update(error=error.message, listing=None)
        return render(request, "companies.html", context, status_code=400)
    context.update(
        listing=listing,
        pager=pager(query, request.url.path, search, listing.total, len(listing.rows)),
        error=None,
    )
    return render(request, "companies.html", context)


@router.get("/app/{hub_id}/companies/{company_id}")
async def company_page(request: Request, view: PortalView, company_id: str) -> Response:
    try:
        loaded, before = await load_record(
            request, view.hub_id, ObjectType.COMPANY, company_id, timeline.COMPANY_SOURCES
        )
    except Redirect as moved:
        return RedirectResponse(moved.location, status_code=303)
    context = record_context(view, loaded, request.url.path, before)
    values = loaded.record.properties
    context["title"] = values.get("name") or values.get("domain") or f"Company {company_id}"
    context["all_contacts_url"] = (
        f"/app/{view.hub_id}/contacts?prop={ASSOCIATED_COMPANY}&op=EQ&value={loaded.record.row.id}"
    )
    return render(request, "company.html", context)
