"""`/openapi.json` is a valid OpenAPI 3 document of the HubSpot-compatible API, and the API keeps
to it: a bounded schemathesis run finds no 5xx, no undocumented status code and no response that
breaks its documented schema.

The run is in-process, through schemathesis' ASGI transport. That transport drives the app (and
its lifespan: store, inbox writer) on an event-loop thread of its own, so these tests are plain
sync functions, the portal is created before the app starts, and the lifespan is shut down before
the database fixture drops its PostgreSQL schema.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.app import HubtrailApp, create_app
from hubtrail.config import Settings
from hubtrail.core.credentials import CredentialKind
from hubtrail.process.processor import now_ms
from hubtrail.store import portals
from hubtrail.store.db import Database
from hubtrail.store.migrate import upgrade

# Generated requests per operation and generation mode (positive and negative): about 50
# operations x 2 modes x this, a minute or so per engine on a 2-core machine.
EXAMPLES_PER_OPERATION = 12

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.response_schema_conformance,
]

# Every path HubSpot's client libraries call, with path parameters written as `{}`.
EXPECTED_PATHS = {
    ("get", "/crm/v3/objects/{}"),
    ("post", "/crm/v3/objects/{}"),
    ("get", "/crm/v3/objects/{}/{}"),
    ("patch", "/crm/v3/objects/{}/{}"),
    ("delete", "/crm/v3/objects/{}/{}"),
    ("post", "/crm/v3/objects/{}/search"),
    ("post", "/crm/v3/objects/{}/merge"),
    ("post", "/crm/v3/objects/contacts/gdpr-delete"),
    ("post", "/crm/v3/objects/{}/batch/read"),
    ("post", "/crm/v3/objects/{}/batch/create"),
    ("post", "/crm/v3/objects/{}/batch/update"),
    ("post", "/crm/v3/objects/{}/batch/upsert"),
    ("post", "/crm/v3/objects/{}/batch/archive"),
    ("put", "/crm/v4/objects/{}/{}/associations/default/{}/{}"),
    ("put", "/crm/v4/objects/{}/{}/associations/{}/{}"),
    ("delete", "/crm/v4/objects/{}/{}/associations/{}/{}"),
    ("get", "/crm/v4/objects/{}/{}/associations/{}"),
    ("post", "/crm/v4/associations/{}/{}/batch/associate/default"),
    ("post", "/crm/v4/associations/{}/{}/batch/create"),
    ("post", "/crm/v4/associations/{}/{}/batch/read"),
    ("post", "/crm/v4/associations/{}/{}/batch/archive"),
    ("get", "/crm/v3/properties/{}"),
    ("post", "/crm/v3/properties/{}"),
    ("get", "/crm/v3/properties/{}/{}"),
    ("patch", "/crm/v3/properties/{}/{}"),
    ("delete", "/crm/v3/properties/{}/{}"),
    ("post", "/crm/v3/properties/{}/batch/read"),
    ("get", "/crm/v3/properties/{}/groups"),
    ("get", "/events/v3/events"),
    ("get", "/events/v3/events/event-types"),
    ("get", "/events/v3/event-definitions"),
    ("post", "/events/v3/event-definitions"),
    ("get", "/events/v3/event-definitions/{}"),
    ("patch", "/events/v3/event-definitions/{}"),
    ("delete", "/events/v3/event-definitions/{}"),
}


def without_parameter_names(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


async def test_openapi_json_is_valid_openapi_3_listing_the_api(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    assert document["openapi"].startswith("3.")
    # Validates the document against the OpenAPI meta-schema of its version.
    schemathesis.openapi.from_dict(document).validate()
    listed = {
        (method, without_parameter_names(path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert EXPECTED_PATHS - listed == set()
    assert "/crm/v3/objects/{objectType}" in document["paths"]


@dataclass
class Fuzzed:
    schema: Any
    headers: dict[str, str]


async def _new_portal(settings: Settings) -> str:
    """A portal's access token, written before the app starts (migrating the store first)."""
    db = Database(settings)

    async def run(conn: AsyncConnection) -> str:
        at = now_ms()
        portal = await portals.create_portal(conn, "Fuzz", at)
        return await portals.issue_credential(conn, portal.hub_id, CredentialKind.ACCESS_TOKEN, at)

    try:
        await upgrade(db)
        return await db.write(run)
    finally:
        await db.close()


def _seed(schema: Any, headers: dict[str, str]) -> None:
    """A contact, a company, their association, a custom property and an event definition, so
    that some generated ids and names (small numbers, short words) hit real records."""
    paths = {without_parameter_names(path): path for path in schema.raw_schema["paths"]}

    def call(path: str, method: str, *values: str, body: Any = None) -> None:
        real = paths[path]
        names = re.findall(r"\{([^}]*)\}", real)
        parameters = dict(zip(names, values, strict=True))
        extra = {} if body is None else {"body": body}
        case = schema[real][method].Case(path_parameters=parameters, **extra)
        response = case.call(headers=headers)
        assert response.status_code < 300, f"{method} {real}: {response.text}"

    contact = {"email": "a@example.com", "firstname": "A"}
    call("/crm/v3/objects/{}", "POST", "contacts", body={"properties": contact})
    company = {"name": "A", "domain": "a.io"}
    call("/crm/v3/objects/{}", "POST", "companies", body={"properties": company})
    default = "/crm/v4/objects/{}/{}/associations/default/{}/{}"
    call(default, "PUT", "contacts", "1", "companies", "1")
    prop = {
        "name": "a",
        "label": "A",
        "type": "string",
        "fieldType": "text",
        "groupName": "contactinformation",
    }
    call("/crm/v3/properties/{}", "POST", "contacts", body=prop)
    definition = {"label": "A", "name": "a", "propertyDefinitions": []}
    call("/events/v3/event-definitions", "POST", body=definition)


@pytest.fixture
def fuzzed(settings: Settings) -> Iterator[Fuzzed]:
    token = asyncio.run(_new_portal(settings))
    app: HubtrailApp = create_app(settings, run_processor=False)
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        headers = {"Authorization": f"Bearer {token}"}
        _seed(schema, headers)
        yield Fuzzed(schema, headers)
    finally:
        shutdown_lifespans()


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure here is reproducible
        phases=[Phase.explicit, Phase.generate],  # no shrinking: keeps the run bounded
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except AssertionError:  # schemathesis' check failures
            raise
        except Exception as exc:
            # The app raised: Starlette answered 500 and re-raised it to the ASGI caller.
            raise AssertionError(
                f"500, the app raised {type(exc).__name__}: {exc}\n"
                f"on {case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"
            ) from exc

    run()


def _shortened(exc: BaseException, limit: int = 1500) -> str:
    """The failure's text, with its (long, random) reproduction request cut short."""
    text = str(exc) if not isinstance(exc, BaseExceptionGroup) else _group_text(exc)
    return text if len(text) <= limit else text[:limit] + " …"


def _group_text(group: BaseExceptionGroup[Any]) -> str:
    return "; ".join(str(e).strip() for e in group.exceptions)


# On SQLite and PostgreSQL both: each takes well under a minute here.
def test_schemathesis_finds_no_server_errors_or_schema_violations(fuzzed: Fuzzed) -> None:
    failures: list[str] = []
    operations = 0
    for result in fuzzed.schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, fuzzed.headers)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to break: no parameters
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
                failures.append(f"{operation.label} ({mode.value}): {_shortened(exc)}")
    assert operations >= len(EXPECTED_PATHS)
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
