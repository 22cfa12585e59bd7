"""`/openapi.json`: FastAPI's document of the API, corrected to say what hubtrail really answers.

Two corrections: request-validation errors are HubSpot's 400 (never FastAPI's 422), and the
ingestion endpoints, which are plain ASGI handlers in front of FastAPI, are described here by hand.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_ERROR = {"$ref": "#/components/schemas/Error"}
_JSON_ERROR = {"application/json": {"schema": _ERROR}}
_PLAIN = {"text/plain": {"schema": {"type": "string"}}}

_OCCURRENCE = {
    "type": "object",
    "required": ["eventName"],
    "properties": {
        "eventName": {"type": "string", "description": "pe{hubId}_{name}, or the bare name"},
        "objectId": {"type": "string"},
        "email": {"type": "string"},
        "utk": {"type": "string"},
        "occurredAt": {"type": "string", "description": "ISO-8601 or epoch milliseconds"},
        "uuid": {"type": "string", "description": "a resend with the same uuid counts once"},
        "properties": {
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        },
    },
}


def _param(name: str, required: bool, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": {"type": "string"},
        "description": description,
    }


INGEST_PATHS: dict[str, Any] = {
    "/v1/event": {
        "get": {
            "tags": ["Ingestion"],
            "summary": "HubSpot's HTTP events API (also works as an <img>)",
            "operationId": "v1_event",
            "parameters": [
                _param("_a", True, "hub id"),
                _param("_n", True, "event id or name"),
                _param("email", False, "finds or creates the contact"),
                _param("_m", False, "revenue added to hs_analytics_revenue"),
                _param("id", False, "external id; never creates a contact"),
            ],
            "responses": {
                "200": {
                    "description": "Accepted: a 1×1 GIF",
                    "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}},
                },
                "400": {"description": "A parameter is missing or wrong", "content": _PLAIN},
                "414": {"description": "Query string too long", "content": _PLAIN},
                "503": {"description": "Could not commit; retry", "content": _PLAIN},
            },
        }
    },
}


def _v3_responses() -> dict[str, Any]:
    return {
        "204": {"description": "Committed"},
        "400": {"description": "Invalid body", "content": _JSON_ERROR},
        "401": {"description": "Missing or unknown token", "content": _JSON_ERROR},
        "413": {"description": "Body too large", "content": _JSON_ERROR},
    }


def _v3_send(batch: bool) -> dict[str, Any]:
    body: dict[str, Any] = (
        {
            "type": "object",
            "required": ["inputs"],
            "properties": {"inputs": {"type": "array", "items": _OCCURRENCE, "maxItems": 500}},
        }
        if batch
        else _OCCURRENCE
    )
    return {
        "post": {
            "tags": ["Ingestion"],
            "summary": "Send up to 500 occurrences, all or none"
            if batch
            else "Send one occurrence",
            "operationId": "events_v3_send_batch" if batch else "events_v3_send",
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": _v3_responses(),
        }
    }


def install_openapi(app: FastAPI) -> None:
    """Replace `app.openapi` with the corrected document (built once, on first request)."""
    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cache:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path_item in document.get("paths", {}).values():
                for operation in path_item.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = document.get("components", {}).get("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            document["paths"].update(INGEST_PATHS)
            document["paths"]["/events/v3/send"] = _v3_send(batch=False)
            document["paths"]["/events/v3/send/batch"] = _v3_send(batch=True)
            document.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
            }
            cache.update(document)
        return cache

    app.openapi = openapi  # type: ignore[method-assign]
