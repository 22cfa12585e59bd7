"""HubSpot's form submission API: a submitted form becomes one canonical message.

- `POST /submissions/v3/integration/submit/{portalId}/{formGuid}`: public, called by browsers
  (the embedded form) from any site, so every answer carries CORS headers and preflights are
  answered. The spam limit counts the connection's address.
- `POST /submissions/v3/integration/secure/submit/{portalId}/{formGuid}`: the same for servers,
  with the portal's Bearer access token; the spam limit counts `context.ipAddress` (the visitor
  the server submits for), and a submission without one is not limited per IP.

The body is HubSpot's: `fields[{objectTypeId?, name, value}]`, `context{hutk, pageUri, pageName,
ipAddress}`, `legalConsentOptions`, `submittedAt` (epoch ms). A field whose `objectTypeId` is not
the form field's is ignored, as are names the form does not have. The form's validation runs here
(`core.forms.check_submission`); each field error is one entry of HubSpot's `errors[]`, whose
message names the field as `fields.<name>`. A filled honeypot or a sender over the portal's
`form_submissions_per_minute` gets 429 and nothing is stored. An accepted submission is committed
to the inbox like every message and answered with the form's thank-you message (and its redirect).
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel

from hubtrail.api.auth import authenticated_portal, runtime_of
from hubtrail.api.object_models import Error
from hubtrail.core import forms as rules
from hubtrail.core.domains import origin_allowed
from hubtrail.core.errors import (
    AuthenticationError,
    ForbiddenOriginError,
    HubtrailError,
)
from hubtrail.core.forms import FieldType, Form
from hubtrail.core.messages import Kind, Message, PageView, Source, new_message_id
from hubtrail.core.plain_text import is_ascii_digits, without_nul
from hubtrail.ingest.asgi import read_body
from hubtrail.store import forms as form_store

PUBLIC_PATH = "/submissions/v3/integration/submit/{portalId}/{formGuid}"
SECURE_PATH = "/submissions/v3/integration/secure/submit/{portalId}/{formGuid}"
MAX_FIELDS = 1000  # HubSpot's limit on `fields`
MAX_TEXT_CHARS = 2048  # page URI and name, as the tracking code keeps them
MAX_IP_CHARS = 64
WINDOW_MS = 60_000
SUBMITTED_AT_PAST_MS = 30 * 86_400_000  # an older `submittedAt` is not believed: now is used
SUBMITTED_AT_FUTURE_MS = 5 * 60_000
_HEX32 = re.compile(r"[0-9a-f]{32}")
_OBJECT_TYPES = {v: k for k, v in rules.OBJECT_TYPE_IDS.items()}


# --- errors: HubSpot's submission error body ----------------------------------------------------


class SubmissionError(HubtrailError):
    """A refused submission; `field_errors` become `errors[]` (`message`, `errorType`)."""

    def __init__(
        self,
        status: int,
        message: str,
        error_type: str,
        field_errors: list[rules.FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, headers=headers)
        self.status = status
        self.error_type = error_type
        self.field_errors = field_errors or []


def invalid(field_errors: list[rules.FieldError]) -> SubmissionError:
    return SubmissionError(400, "The request is not valid", "INVALID_REQUEST", field_errors)


def bad_body(text: str) -> SubmissionError:
    return SubmissionError(400, "The request is not valid", "INVALID_JSON", [_plain(text)])


def _plain(text: str, error_type: str = "INVALID_JSON") -> rules.FieldError:
    return rules.FieldError("", error_type, text)


def error_body(error: HubtrailError, correlation_id: str) -> dict[str, Any]:
    """`{status, message, correlationId, errors[{message, errorType}]}`: field errors as
    listed, any other error as its one entry."""
    if isinstance(error, SubmissionError) and error.field_errors:
        errors = [{"message": e.message, "errorType": e.error_type} for e in error.field_errors]
    else:
        error_type = error.error_type if isinstance(error, SubmissionError) else error.category
        errors = [{"message": error.message, "errorType": error_type}]
    return {
        "status": "error",
        "message": error.message,
        "correlationId": correlation_id,
        "errors": errors,
    }


# --- pure parsing: HubSpot's body → what the form checks ----------------------------------------


@dataclass(frozen=True, slots=True)
class SubmittedField:
    name: str
    value: str
    object_type_id: str | None  # None: not given, the form field's type is assumed


@dataclass(frozen=True, slots=True)
class SubmissionBody:
    fields: list[SubmittedField]
    context: dict[str, str]
    submitted_at_ms: int | None


def _scalar(value: object) -> str | None:
    """A field value or context entry as text; None for null, and for objects (refused)."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(s for s in (_scalar(v) for v in value) if s is not None)
    return str(value)


def parse_body(raw: bytes) -> SubmissionBody:
    """HubSpot's submission body, or a 400 saying what is wrong with its shape."""
    try:
        body = without_nul(orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        raise bad_body(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise bad_body("The body must be a JSON object")
    items = body.get("fields")
    if not isinstance(items, list):
        raise bad_body("fields must be a list of {name, value} objects")
    if len(items) > MAX_FIELDS:
        raise bad_body(f"fields has {len(items)} entries; the limit is {MAX_FIELDS}")
    fields = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise bad_body(f"fields[{index}] must be an object with a name")
        if isinstance(item.get("value"), dict):
            raise bad_body(f"fields[{index}].value must be text")
        value = _scalar(item.get("value"))
        object_type_id = item.get("objectTypeId")
        fields.append(
            SubmittedField(
                item["name"],
                "" if value is None else value,
                None if object_type_id in (None, "") else str(object_type_id),
            )
        )
    context_raw = body.get("context") or {}
    if not isinstance(context_raw, dict):
        raise bad_body("context must be an object")
    context = {
        name: text[:MAX_TEXT_CHARS]
        for name in ("hutk", "pageUri", "pageName", "ipAddress")
        if (text := _scalar(context_raw.get(name)))
    }
    submitted_at = _scalar(body.get("submittedAt"))
    submitted_at_ms = int(submitted_at) if submitted_at and is_ascii_digits(submitted_at) else None
    return SubmissionBody(fields, context, submitted_at_ms)


def form_pairs(form: Form, fields: list[SubmittedField]) -> list[tuple[str, str]]:
    """The (name, value) pairs the form checks: a field sent for another object type than the
    form field's is left out, and a multiple-checkbox value `a;b` (HubSpot's way of sending
    several) counts as each of its options."""
    pairs: list[tuple[str, str]] = []
    for sent in fields:
        item = form.field(sent.name)
        if item is None:
            continue
        if sent.object_type_id is not None:
            wanted = _OBJECT_TYPES.get(sent.object_type_id)
            matching = [f for f in form.fields if f.name == sent.name and f.object_type is wanted]
            if not matching:
                continue
        if item.type is FieldType.CHECKBOX and item.options and ";" in sent.value:
            pairs.extend((sent.name, part) for part in sent.value.split(";"))
        else:
            pairs.append((sent.name, sent.value))
    return pairs


def occurred_at(submitted_at_ms: int | None, now_ms: int) -> int:
    """`submittedAt` when it is believable (not long ago, not in the future), else now."""
    if submitted_at_ms is None:
        return now_ms
    if now_ms - SUBMITTED_AT_PAST_MS <= submitted_at_ms <= now_ms + SUBMITTED_AT_FUTURE_MS:
        return submitted_at_ms
    return now_ms


def build_message(
    form: Form,
    body: SubmissionBody,
    checked: rules.CheckedSubmission,
    *,
    received_at_ms: int,
    ip_address: str,
) -> Message:
    """The canonical message of an accepted submission: an identify by the submitted email,
    from the `hutk` browser, carrying the form's contact and company values."""
    hutk = body.context.get("hutk", "").strip().lower()
    page_uri, page_name = body.context.get("pageUri", ""), body.context.get("pageName", "")
    context = {
        "hutk": hutk if _HEX32.fullmatch(hutk) else "",
        "pageUri": page_uri,
        "pageName": page_name,
        "ipAddress": ip_address[:MAX_IP_CHARS],
    }
    return Message(
        message_id="f:" + new_message_id(),
        portal_id=form.portal_id,
        source=Source.FORM,
        kind=Kind.IDENTIFY,
        received_at_ms=received_at_ms,
        occurred_at_ms=occurred_at(body.submitted_at_ms, received_at_ms),
        visitor_key=context["hutk"] or None,
        email=checked.email,
        # The email finds the contact; as a property write it would only be refused.
        contact_properties={k: v for k, v in checked.contact_values.items() if k != "email"},
        company_properties=dict(checked.company_values),
        page=PageView(url=page_uri, title=page_name) if page_uri or page_name else None,
        form_guid=form.guid,
        form_submitted=[[f.name, f.value] for f in body.fields],
        form_context=context,
    )


# --- the spam limit -----------------------------------------------------------------------------


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class SubmissionLimiter:
    """Submissions per (portal, IP address) in a sliding minute, in memory per process.

    `check` counts an allowed submission and refuses one over the limit without counting it, so
    a sender that waits gets through once the minute rolls on. `clock_ms` (epoch ms) may be
    replaced, e.g. by tests. Senders idle for a minute are forgotten once `max_senders` are kept.
    """

    def __init__(
        self, clock_ms: Callable[[], int] = wall_clock_ms, max_senders: int = 100_000
    ) -> None:
        self.clock_ms = clock_ms
        self._max_senders = max_senders
        self._sent: dict[tuple[int, str], deque[int]] = {}

    def check(self, portal_id: int, ip_address: str, per_minute: int) -> int:
        """0 when the submission may go ahead (it is counted), else seconds until one may."""
        now = self.clock_ms()
        key = (portal_id, ip_address)
        window = self._sent.get(key)
        if window is None:
            if len(self._sent) >= self._max_senders:
                self._forget_idle(now)
            window = self._sent[key] = deque()
        while window and window[0] <= now - WINDOW_MS:
            window.popleft()
        if len(window) >= per_minute:
            leaving = window[len(window) - per_minute]
            return max(1, math.ceil((leaving + WINDOW_MS - now) / 1000))
        window.append(now)
        return 0

    def _forget_idle(self, now_ms: int) -> None:
        self._sent = {k: w for k, w in self._sent.items() if w and w[-1] > now_ms - WINDOW_MS}


def submission_limiter(request: Request) -> SubmissionLimiter:
    """The app's limiter (one per app, so every test app starts with a fresh one)."""
    state = request.app.state
    limiter: SubmissionLimiter | None = getattr(state, "form_submission_limiter", None)
    if limiter is None:
        limiter = state.form_submission_limiter = SubmissionLimiter()
    return limiter


# --- the endpoints ------------------------------------------------------------------------------


class SubmissionAccepted(BaseModel):
    inlineMessage: str
    redirectUri: str | None = None


class SubmissionErrorEntry(BaseModel):
    message: str
    errorType: str


class SubmissionErrorBody(BaseModel):
    """HubSpot's submission error: `errors[]` names each field as `fields.<name>`. (A path no
    route matches gets the API's usual error, with `category` and no `errors`.)"""

    status: str
    message: str
    correlationId: str
    errors: list[SubmissionErrorEntry] | None = None
    category: str | None = None


_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["fields"],
                "properties": {
                    "fields": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "value"],
                            "properties": {
                                "objectTypeId": {"type": "string", "description": "0-1 or 0-2"},
                                "name": {"type": "string"},
                                "value": {"type": "string"},
                            },
                        },
                    },
                    "context": {
                        "type": "object",
                        "properties": {
                            name: {"type": "string"}
                            for name in ("hutk", "pageUri", "pageName", "ipAddress")
                        },
                    },
                    "legalConsentOptions": {"type": "object"},
                    "submittedAt": {"type": "string", "description": "epoch milliseconds"},
                },
            }
        }
    },
}


def _responses(secure: bool) -> dict[int | str, dict[str, Any]]:
    error = {"model": SubmissionErrorBody}
    found: dict[int | str, dict[str, Any]] = {
        400: {**error, "description": "Invalid body, or one entry per field error"},
        404: {**error, "description": "No such portal, or no such live form in it"},
        413: {**error, "description": "Body too large"},
        429: {**error, "description": "Spam: the honeypot was filled, or too many from one IP"},
        503: {**error, "description": "Could not commit; retry"},
    }
    if secure:
        found[401] = {"model": Error, "description": "Missing token, or a token of another portal"}
    else:
        found[403] = {**error, "description": "A site the portal does not allow"}
    return found


router = APIRouter(tags=["Form submissions"])
PortalPath = Annotated[str, Path(alias="portalId", description="hub id")]
GuidPath = Annotated[str, Path(alias="formGuid", description="the form's guid")]


@router.post(
    PUBLIC_PATH,
    response_model=SubmissionAccepted,
    response_model_exclude_none=True,
    responses=_responses(secure=False),
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def submit(request: Request, portal_id: PortalPath, guid: GuidPath) -> Response:
    """Submit a form from a browser (CORS); no credentials."""
    origin = request.headers.get("origin", "")
    return await _respond(request, portal_id, guid, origin=origin, secure=False)


@router.options(PUBLIC_PATH, include_in_schema=False)
async def preflight(request: Request) -> Response:
    headers = {
        **_cors(request.headers.get("origin", "")),
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "content-type",
        "Access-Control-Max-Age": "86400",
    }
    return Response(status_code=204, headers=headers)


@router.post(
    SECURE_PATH,
    response_model=SubmissionAccepted,
    response_model_exclude_none=True,
    responses=_responses(secure=True),
    openapi_extra={"requestBody": _REQUEST_BODY, "security": [{"bearer": []}]},
)
async def submit_secure(
    request: Request,
    portal_id: PortalPath,
    guid: GuidPath,
    token_portal: Annotated[int, Depends(authenticated_portal)],
) -> Response:
    """Submit a form from a server, with the portal's Bearer access token."""
    if not is_ascii_digits(portal_id, max_chars=15) or int(portal_id) != token_portal:
        raise AuthenticationError(f"the access token does not open portal {portal_id}")
    return await _respond(request, portal_id, guid, origin="", secure=True)


async def _respond(
    request: Request, portal_id: str, guid: str, *, origin: str, secure: bool
) -> Response:
    try:
        accepted = await _accept(request, portal_id, guid, origin=origin, secure=secure)
    except HubtrailError as error:
        path = SECURE_PATH if secure else PUBLIC_PATH
        runtime_of(request).metrics.rejected.labels(path, str(error.status)).inc()
        correlation_id = str(uuid.uuid4())
        headers = {"X-HubSpot-Correlation-Id": correlation_id, **error.headers, **_cors(origin)}
        return Response(
            orjson.dumps(error_body(error, correlation_id)),
            status_code=error.status,
            media_type="application/json;charset=utf-8",
            headers=headers,
        )
    body = accepted.model_dump(exclude_none=True)
    return Response(orjson.dumps(body), media_type="application/json", headers=_cors(origin))


async def _accept(
    request: Request, portal_id: str, guid: str, *, origin: str, secure: bool
) -> SubmissionAccepted:
    """Check the submission and commit its message; raises what the client is answered."""
    runtime = runtime_of(request)
    raw = await read_body(request.scope, request.receive, runtime.settings.max_body_bytes)
    body = parse_body(raw)
    hub_id = int(portal_id) if is_ascii_digits(portal_id, max_chars=15) else None
    settings = await runtime.directory.settings(hub_id) if hub_id is not None else None
    if hub_id is None or settings is None:
        raise SubmissionError(404, f"No portal has hub id {portal_id}", "PORTAL_NOT_FOUND")
    allowed = settings.allowed_site_domains
    if origin and allowed and not origin_allowed(origin, allowed):
        raise ForbiddenOriginError(f"site {origin} is not allowed for this portal")
    form = await runtime.db.read(lambda conn: form_store.get_form(conn, hub_id, guid))
    if form is None or form.archived:
        raise SubmissionError(404, f"No form {guid} in portal {hub_id}", "FORM_NOT_FOUND")
    if rules.is_spam([(f.name, f.value) for f in body.fields]):
        raise SubmissionError(429, "The submission looks like spam", "SPAM")
    client = request.client.host if request.client else ""
    ip_address = body.context.get("ipAddress", "") if secure else client
    if ip_address:
        limit = settings.form_submissions_per_minute
        retry_after_s = submission_limiter(request).check(hub_id, ip_address, limit)
        if retry_after_s:
            raise SubmissionError(
                429,
                f"More than {limit} submissions a minute from one address; retry later",
                "RATE_LIMIT",
                headers={"Retry-After": str(retry_after_s)},
            )
    checked = rules.check_submission(form, form_pairs(form, body.fields))
    if checked.errors:
        raise invalid(checked.errors)
    now = runtime.clock_ms()
    message = build_message(form, body, checked, received_at_ms=now, ip_address=ip_address)
    await runtime.committer.submit([message])
    runtime.metrics.received.labels(Source.FORM.value).inc()
    return SubmissionAccepted(
        inlineMessage=form.thank_you_message, redirectUri=form.redirect_url or None
    )


def _cors(origin: str) -> dict[str, str]:
    """A browser may read every answer (the embed shows errors beside their fields)."""
    if not origin:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "Retry-After",
        "Vary": "Origin",
    }
