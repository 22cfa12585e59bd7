"""The dashboard: server-rendered pages under /app (Jinja2, one CSS file, small plain scripts).

Each page module has one router; `ROUTERS` lists them for `app.py`. `page_errors` renders errors
on dashboard paths as pages (and a missing session as a redirect to sign in), leaving the API's
JSON errors alone.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from hubtrail.core.errors import HubtrailError
from hubtrail.web.dashboard import (
    assets,
    auth,
    companies,
    contacts,
    debugger,
    deliveries,
    events,
    forms,
    overview,
    properties,
    settings,
)
from hubtrail.web.dashboard.templating import render

ROUTERS = [
    auth.router,
    assets.router,
    overview.router,
    contacts.router,
    companies.router,
    events.router,
    forms.router,
    properties.router,
    debugger.router,
    deliveries.router,
    settings.router,
]
PAGE_PREFIXES = ("/app", "/login", "/logout")


def is_page(request: Request) -> bool:
    path = request.url.path
    return path == "/" or any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)


def page_errors(request: Request, error: HubtrailError) -> Response | None:
    if not is_page(request):
        return None
    titles = {403: "Not allowed", 404: "Not found", 405: "Not allowed"}
    title = titles.get(
        error.status, "Something went wrong" if error.status >= 500 else "Bad request"
    )
    context = {"title": title, "message": error.message, "status": error.status}
    return render(request, "error.html", context, status_code=error.status)
