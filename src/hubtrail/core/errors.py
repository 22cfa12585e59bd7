"""hubtrail's error hierarchy and HubSpot's error body, rendered in one place.

Errors carry data (status, category, message, per-field errors); `hubspot_error_body` is the only
function that knows HubSpot's JSON shape for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of HubSpot's `errors[]`."""

    message: str
    code: str
    context: dict[str, list[str]] = field(default_factory=dict)
    in_: str | None = None


class HubtrailError(Exception):
    """An error a client caused or may retry, with what HubSpot would answer."""

    status = 400
    category = "VALIDATION_ERROR"

    def __init__(
        self,
        message: str,
        *,
        errors: list[FieldError] | None = None,
        context: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.context = context or {}
        self.headers = headers or {}


class ValidationError(HubtrailError):
    status = 400
    category = "VALIDATION_ERROR"


class AuthenticationError(HubtrailError):
    status = 401
    category = "INVALID_AUTHENTICATION"

    @classmethod
    def missing_credentials(cls) -> AuthenticationError:
        """HubSpot's answer to a missing, malformed or unknown token."""
        return cls(
            "Authentication credentials not found. This API supports OAuth 2.0 authentication "
            "and you can find more details at "
            "https://developers.hubspot.com/docs/methods/auth/oauth-overview"
        )


class ForbiddenOriginError(HubtrailError):
    """A browser request from a site the portal does not list in `allowed_site_domains`."""

    status = 403
    category = "FORBIDDEN"


class NotFoundError(HubtrailError):
    status = 404
    category = "OBJECT_NOT_FOUND"


class ConflictError(HubtrailError):
    status = 409
    category = "CONFLICT"


class PayloadTooLargeError(HubtrailError):
    status = 413
    category = "VALIDATION_ERROR"


class UriTooLongError(HubtrailError):
    status = 414
    category = "VALIDATION_ERROR"


class UnavailableError(HubtrailError):
    """The store could not commit: the client should retry (HubSpot answers 503 the same way)."""

    status = 503
    category = "SERVICE_UNAVAILABLE"


class OverloadedError(HubtrailError):
    """Too much is waiting to be committed: the client should back off and send again later."""

    status = 429
    category = "RATE_LIMITS"

    def __init__(self, message: str, retry_after_s: int = 1) -> None:
        super().__init__(
            message,
            headers={"Retry-After": str(retry_after_s), "X-RateLimit-Reset": str(retry_after_s)},
        )


def hubspot_error_body(error: HubtrailError, correlation_id: str) -> dict[str, Any]:
    """The JSON body HubSpot sends for `error`."""
    body: dict[str, Any] = {
        "status": "error",
        "message": error.message,
        "correlationId": correlation_id,
        "category": error.category,
    }
    if error.errors:
        body["errors"] = [_field_error(item) for item in error.errors]
    if error.context:
        body["context"] = error.context
    return body


def _field_error(item: FieldError) -> dict[str, Any]:
    entry: dict[str, Any] = {"message": item.message, "code": item.code}
    if item.context:
        entry["context"] = item.context
    if item.in_:
        entry["in"] = item.in_
    return entry
