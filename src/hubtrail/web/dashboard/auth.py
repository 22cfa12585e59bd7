"""Signing in and out, and what every dashboard page depends on.

- `Viewer`: the signed-in user (a session cookie: `HttpOnly`, `SameSite=Lax`, `Secure` when the
  request came over https), with the portals they were given. Without one, a page answers with a
  redirect to the sign-in form.
- `PortalView`: the viewer and the portal in the URL; a portal they were not given is a 404,
  exactly as one that does not exist.
- `checked_form`: a form posted with the session's CSRF token, or 403.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from hubtrail.core.errors import HubtrailError, NotFoundError
from hubtrail.core.passwords import verify_password
from hubtrail.runtime import Runtime
from hubtrail.store import users
from hubtrail.store.users import PortalEntry
from hubtrail.web.dashboard.templating import render

router = APIRouter(include_in_schema=False)

COOKIE = "hubtrail_session"
SESSION_LIFETIME_MS = 14 * 86_400_000
_DUMMY_HASH = "scrypt$16384$8$1$00$00"  # compared against when the email is unknown (same cost)


class SignInRequired(Exception):
    """Raised by `Viewer` without a session; answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class ForbiddenError(HubtrailError):
    status = 403
    category = "FORBIDDEN"


@dataclass(frozen=True, slots=True)
class ViewerInfo:
    user_id: int
    email: str
    csrf_token: str
    portals: list[PortalEntry]


@dataclass(frozen=True, slots=True)
class PortalContext:
    viewer: ViewerInfo
    portal: PortalEntry

    @property
    def hub_id(self) -> int:
        return self.portal.hub_id


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _viewer(request: Request) -> ViewerInfo:
    cookie = request.cookies.get(COOKIE, "")
    runtime = runtime_of(request)
    session = None
    if cookie:
        now = runtime.clock_ms()
        session = await runtime.db.read(lambda c: users.session_for(c, cookie, now))
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    portals = await runtime.db.read(lambda c: users.portals_of(c, session.user_id))
    viewer = ViewerInfo(session.user_id, session.email, session.csrf_token, portals)
    request.state.viewer = viewer
    return viewer


Viewer = Annotated[ViewerInfo, Depends(_viewer)]


async def _portal_view(hub_id: int, viewer: Viewer) -> PortalContext:
    for portal in viewer.portals:
        if portal.hub_id == hub_id:
            return PortalContext(viewer, portal)
    raise NotFoundError(f"no portal has hub id {hub_id}")


PortalView = Annotated[PortalContext, Depends(_portal_view)]


async def checked_form(request: Request, viewer: ViewerInfo) -> FormData:
    """The posted form, once its `csrf_token` matches the session's; else 403."""
    form = await request.form()
    token = str(form.get("csrf_token") or "")
    if not token or not hmac.compare_digest(token, viewer.csrf_token):
        raise ForbiddenError("The form has expired or did not come from this dashboard.")
    return form


def safe_next(path: str | None) -> str:
    """Only a path on this site is followed after signing in."""
    if not path or not path.startswith("/") or path.startswith("//"):
        return "/app"
    parts = urlsplit(path)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next), "error": None, "email": ""})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email") or "").strip().lower()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    runtime = runtime_of(request)
    user = await runtime.db.read(lambda c: users.find_user(c, email)) if email else None
    valid = verify_password(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not valid:
        context = {"next": target, "error": "That email and password do not match.", "email": email}
        return render(request, "login.html", context, status_code=401)
    now = runtime.clock_ms()

    async def start(conn: Any) -> str:
        await users.end_expired(conn, now)
        return await users.start_session(conn, user.id, now, SESSION_LIFETIME_MS)

    cookie = await runtime.db.write(start)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=SESSION_LIFETIME_MS // 1000,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, viewer: Viewer) -> Response:
    await checked_form(request, viewer)
    cookie = request.cookies.get(COOKIE, "")
    await runtime_of(request).db.write(lambda c: users.end_session(c, cookie))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/app", status_code=303)


@router.get("/app")
async def first_portal(viewer: Viewer) -> Response:
    if not viewer.portals:
        raise NotFoundError("This account was given no portal: ask for `hubtrail user create`.")
    return RedirectResponse(f"/app/{viewer.portals[0].hub_id}", status_code=303)


def sign_in_redirect(next_path: str) -> Response:
    return RedirectResponse(f"/login?next={quote(next_path, safe='/')}", status_code=303)
