"""Every API error leaves in HubSpot's JSON shape, from one place.

`install_error_handlers` maps hubtrail's errors, FastAPI's request-validation errors, unknown
routes and unexpected failures to HubSpot's body (`status`, `message`, `correlationId`,
`category`, `errors[]`) with the correlation id also in `X-HubSpot-Correlation-Id`. A 429 from
the rate-limit emulation has HubSpot's own RATE_LIMIT body instead (`RateLimitError.body`), and
the headers that emulation adds reach error responses too (`ResponseHeadersMiddleware`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hubtrail.api.ratelimit import RateLimitError, ResponseHeadersMiddleware
from hubtrail.core.errors import FieldError, HubtrailError, ValidationError, hubspot_error_body

log = logging.getLogger("hubtrail.api.errors")


class InternalError(HubtrailError):
    status = 500
    category = "INTERNAL_ERROR"


class RouteNotFoundError(HubtrailError):
    status = 404
    category = "OBJECT_NOT_FOUND"


class MethodNotAllowedError(HubtrailError):
    status = 405
    category = "VALIDATION_ERROR"


def error_response(error: HubtrailError) -> JSONResponse:
    correlation_id = str(uuid.uuid4())
    headers = {"X-HubSpot-Correlation-Id": correlation_id, **error.headers}
    if isinstance(error, RateLimitError):
        body = error.body(correlation_id)
    else:
        body = hubspot_error_body(error, correlation_id)
    return JSONResponse(
        body,
        status_code=error.status,
        headers=headers,
        media_type="application/json;charset=utf-8",
    )


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


def validation_error(exc: RequestValidationError) -> ValidationError:
    """FastAPI's parsing errors as HubSpot's `VALIDATION_ERROR`, each naming its field."""
    errors = []
    for item in exc.errors():
        where = _location(tuple(item.get("loc", ())))
        errors.append(
            FieldError(
                f"{where}: {item.get('msg', 'invalid')}", "INVALID", {"field": [where]}, where
            )
        )
    fields = ", ".join(sorted({e.in_ or "" for e in errors}))
    return ValidationError(f"Invalid input JSON on fields: {fields}", errors=errors)


def _is_nul_error(exc: DBAPIError) -> bool:
    """PostgreSQL refuses NUL in text (SQLSTATE 22021); SQLite stores it. Both answer 400 here."""
    return getattr(exc.orig, "sqlstate", None) == "22021" or "0x00" in str(exc.orig)


# For requests that want a page, not JSON (the dashboard): a response for the error, or None.
PageErrors = Callable[[Request, HubtrailError], Response | None]


def install_error_handlers(app: FastAPI, page_errors: PageErrors | None = None) -> None:
    # Outside the exception handlers, so error responses get the rate-limit headers as well.
    app.add_middleware(ResponseHeadersMiddleware)

    def respond(request: Request, error: HubtrailError) -> Response:
        page = page_errors(request, error) if page_errors is not None else None
        return page if page is not None else error_response(error)

    @app.exception_handler(HubtrailError)
    async def _hubtrail(request: Request, exc: HubtrailError) -> Response:
        return respond(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return respond(
                request,
                MethodNotAllowedError(f"{request.method} is not supported on {request.url.path}"),
            )
        if exc.status_code == 404:
            return respond(request, RouteNotFoundError(f"No route for {request.url.path}"))
        error = HubtrailError(str(exc.detail))
        error.status = exc.status_code
        return respond(request, error)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if _is_nul_error(exc):
            return error_response(
                ValidationError("text in this request contains a NUL (\\u0000) character")
            )
        log.exception("database error on %s %s", request.method, request.url.path)
        return error_response(InternalError("hubtrail hit a database error; it has been logged"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return respond(request, InternalError("hubtrail hit an internal error; it has been logged"))
