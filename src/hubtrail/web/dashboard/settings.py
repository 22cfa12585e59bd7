"""Dashboard page: the portal's settings, credentials and install snippets.

- `GET /app/{hub}/settings`: the portal's name and hub id, the tracking code and Segment
  snippets, a form of every setting in `core.portal_settings` (built from `setting_fields()`, so
  a new setting needs no template change), and the credentials (kind, hint, created, revoked).
- `POST /app/{hub}/settings`: save the form; invalid values are shown beside their fields.
- `POST /app/{hub}/settings/credentials`: a new access token or write key, shown on the answer
  once (only its digest is stored).
- `POST /app/{hub}/settings/credentials/{id}/revoke`: revoke one.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from hubtrail.core.credentials import CredentialKind
from hubtrail.core.errors import NotFoundError, ValidationError
from hubtrail.core.portal_settings import (
    PortalSettings,
    SettingField,
    apply_changes,
    setting_fields,
)
from hubtrail.store import portals
from hubtrail.web.dashboard.auth import PortalContext, PortalView, checked_form, runtime_of
from hubtrail.web.dashboard.templating import render
from hubtrail.web.script import public_base

router = APIRouter(include_in_schema=False)

KIND_LABELS = {CredentialKind.ACCESS_TOKEN: "Access token", CredentialKind.WRITE_KEY: "Write key"}
REVOKED = "Credential revoked. Requests using it are refused within a few seconds."


_WORDS = {"ms": "(ms)", "days": "(days)", "sdk": "SDK"}


def _label(name: str) -> str:
    """`rate_limit_interval_ms` → "Rate limit interval (ms)"."""
    words = " ".join(_WORDS.get(word, word) for word in name.split("_"))
    return words[:1].upper() + words[1:]


def _choices(name: str) -> list[str]:
    """The values of a setting that is an enumeration (consent mode, Segment mode), else []."""
    annotation = PortalSettings.model_fields[name].annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return []


def _control(setting: SettingField, value: Any, error: str | None) -> dict[str, Any]:
    """One form control: a checkbox, a number, a choice, or text (a list as comma-separated)."""
    choices = _choices(setting.name)
    kind = "choice" if choices else setting.kind
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, Enum):
        value = value.value
    return {
        "name": setting.name,
        "label": _label(setting.name),
        "kind": kind,
        "value": value,
        "choices": choices,
        "help": setting.description,
        "default": _default_text(setting.default),
        "error": error,
    }


def _default_text(default: Any) -> str:
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, list):
        return ", ".join(str(v) for v in default) or "(none)"
    if isinstance(default, Enum):
        return str(default.value)
    return str(default)


def _submitted(form: FormData) -> dict[str, Any]:
    """The form's value of every setting: a checkbox is on when present, the rest as typed."""
    values: dict[str, Any] = {}
    for setting in setting_fields():
        if setting.kind == "bool":
            values[setting.name] = setting.name in form
        else:
            values[setting.name] = str(form.get(setting.name) or "").strip()
    return values


async def _page(
    request: Request,
    view: PortalContext,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    new_secret: tuple[CredentialKind, str] | None = None,
    notice: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    runtime = runtime_of(request)

    async def read(conn: Any) -> tuple[PortalSettings, list[portals.Credential], int | None]:
        settings = await portals.get_settings(conn, view.hub_id)
        found = await portals.list_credentials(conn, view.hub_id)
        portal = await portals.get_portal(conn, view.hub_id)
        return settings, found, portal.created_at_ms if portal else None

    current, credentials, created_at_ms = await runtime.db.read(read)
    shown = values if values is not None else current.model_dump()
    errors = errors or {}
    base = public_base(runtime.settings, request)
    write_key = new_secret[1] if new_secret and new_secret[0] is CredentialKind.WRITE_KEY else None
    context = {
        "portal": view.portal,
        "created_at_ms": created_at_ms,
        "controls": [_control(s, shown.get(s.name), errors.get(s.name)) for s in setting_fields()],
        "form_error": errors.get(""),
        "credentials": [{"c": c, "label": KIND_LABELS[c.kind]} for c in credentials],
        "new_secret": new_secret and {"label": KIND_LABELS[new_secret[0]], "value": new_secret[1]},
        "tracking_snippet": (
            '<script type="text/javascript" id="hs-script-loader" async defer '
            f'src="{base}/js/{view.hub_id}.js"></script>'
        ),
        "segment_snippet": (
            "AnalyticsBrowser.load({ writeKey: "
            f"'{write_key or '<a write key of this portal>'}', cdnURL: '{base}' }})"
        ),
        "public_base": base,
        "notice": notice,
        "settings_saved": saved,
    }
    return render(request, "settings.html", context, status_code=status_code)


@router.get("/app/{hub_id}/settings")
async def settings_page(request: Request, view: PortalView, done: str | None = None) -> Response:
    notice = REVOKED if done == "revoked" else None
    return await _page(request, view, notice=notice, saved=done == "saved")


@router.post("/app/{hub_id}/settings")
async def save_settings(request: Request, view: PortalView) -> Response:
    form = await checked_form(request, view.viewer)
    submitted = _submitted(form)

    async def save(conn: Any) -> None:
        current = await portals.get_settings(conn, view.hub_id)
        candidate = apply_changes(current, submitted)
        # Only what changed is stored: a setting left alone keeps following its default.
        changes = {
            name: value
            for name, value in submitted.items()
            if getattr(candidate, name) != getattr(current, name)
        }
        if changes:
            await portals.update_settings(conn, view.hub_id, changes)

    try:
        await runtime_of(request).db.write(save)
    except ValidationError as error:
        errors = {item.in_ or "": item.message for item in error.errors}
        errors = {name: message.removeprefix(f"{name}: ") for name, message in errors.items()}
        if not errors:
            errors[""] = error.message
        return await _page(request, view, values=submitted, errors=errors, status_code=400)
    return RedirectResponse(f"/app/{view.hub_id}/settings?done=saved", status_code=303)


@router.post("/app/{hub_id}/settings/credentials")
async def create_credential(request: Request, view: PortalView) -> Response:
    form = await checked_form(request, view.viewer)
    try:
        kind = CredentialKind(str(form.get("kind") or ""))
    except ValueError:
        raise ValidationError("Choose an access token or a write key.") from None
    runtime = runtime_of(request)
    now = runtime.clock_ms()
    secret = await runtime.db.write(
        lambda conn: portals.issue_credential(conn, view.hub_id, kind, now)
    )
    return await _page(request, view, new_secret=(kind, secret))


@router.post("/app/{hub_id}/settings/credentials/{credential_id}/revoke")
async def revoke_credential(request: Request, view: PortalView, credential_id: int) -> Response:
    await checked_form(request, view.viewer)
    runtime = runtime_of(request)
    now = runtime.clock_ms()
    revoked = await runtime.db.write(
        lambda conn: portals.revoke_credential(conn, view.hub_id, credential_id, now)
    )
    if not revoked:
        raise NotFoundError("This portal has no live credential with that id.")
    return RedirectResponse(f"/app/{view.hub_id}/settings?done=revoked", status_code=303)
