"""HubSpot's official Python client (`hubspot-api-client`), unmodified but for its host, against a
real `hubtrail serve` process on 127.0.0.1, on SQLite and on PostgreSQL.

The client is synchronous (urllib3 and requests), so the tests call it directly. Only `host=`
(the generated APIs) and `base_url=` (the generic `api_request`) point it here; every request it
sends goes to the loopback server started below.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import hubspot
import orjson
import pytest
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyInputForCreate
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputUpsert,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import NotFoundException, UnauthorizedException
from hubspot.crm.properties import Option, PropertyCreate
from hubspot.events.send import BehavioralEventHttpCompletionRequest

from tests.conftest import POSTGRES_URL, Database, _drop_schema, require_postgres
from tests.servers import cli, free_port, start_server, stop_server

pytestmark = pytest.mark.e2e

T = TypeVar("T")


@dataclass
class Server:
    database: Database
    url: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One `hubtrail serve` per engine for the module (a start costs seconds); each test gets
    its own portal on it, so tests share no data."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'hubtrail.db'}")
    else:
        require_postgres()
        database = Database(POSTGRES_URL, f"t_{uuid.uuid4().hex[:12]}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_server(database, port)
    try:
        yield Server(database, url)
    finally:
        stop_server(process)
        if database.schema:
            _drop_schema(database.schema)


@dataclass
class Hubtrail:
    """A running server and a fresh portal on it."""

    url: str
    hub_id: int
    access_token: str

    def client(self, access_token: str | None = None) -> hubspot.Client:
        """The official client with only its hosts changed."""
        return hubspot.Client.create(
            access_token=access_token or self.access_token, host=self.url, base_url=self.url
        )


@pytest.fixture
def hubtrail(server: Server, monkeypatch: pytest.MonkeyPatch) -> Hubtrail:
    # `requests` (behind `api_request`) honours proxy variables; loopback is never proxied.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    created = orjson.loads(cli(server.database, "portal", "create", "Client", "--json"))
    return Hubtrail(server.url, created["hub_id"], created["access_token"])


def eventually(read: Callable[[], T], done: Callable[[T], bool], attempts: int = 300) -> T:
    """Read until `done` (the server's processor applies sent events in the background)."""
    for _ in range(attempts):
        value = read()
        if done(value):
            return value
        time.sleep(0.05)
    return value


def create_contact(client: hubspot.Client, **properties: str) -> Any:
    body = SimplePublicObjectInputForCreate(properties=properties)
    return client.crm.contacts.basic_api.create(simple_public_object_input_for_create=body)


def error_body(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(exc.body)
    assert body["status"] == "error"
    assert body["correlationId"]
    return body


def test_contact_create_read_update_search(hubtrail: Hubtrail) -> None:
    client = hubtrail.client()
    contacts = client.crm.contacts
    created = create_contact(client, email="ada@example.com", firstname="Ada")
    assert created.id.isdigit()
    assert created.properties["email"] == "ada@example.com"
    assert created.properties["hs_object_id"] == created.id
    assert created.archived is False
    assert created.created_at.tzinfo is not None

    by_id = contacts.basic_api.get_by_id(created.id, properties=["email", "firstname"])
    assert (by_id.id, by_id.properties["firstname"]) == (created.id, "Ada")
    # The client percent-encodes `@` in the path and sends `archived=False` capitalised.
    by_email = contacts.basic_api.get_by_id(
        "ada@example.com", id_property="email", properties=["firstname"], archived=False
    )
    assert by_email.id == created.id

    updated = contacts.basic_api.update(
        created.id,
        simple_public_object_input=SimplePublicObjectInput(
            properties={"lastname": "Lovelace", "lifecyclestage": "customer"}
        ),
    )
    assert updated.properties["lastname"] == "Lovelace"
    assert updated.updated_at >= created.updated_at
    patched_by_email = contacts.basic_api.update(
        "ada@example.com",
        id_property="email",
        simple_public_object_input=SimplePublicObjectInput(properties={"jobtitle": "Analyst"}),
    )
    assert patched_by_email.id == created.id

    other = create_contact(client, email="grace@example.com", lifecyclestage="customer")
    create_contact(client, email="linus@example.com", lifecyclestage="lead")
    request = PublicObjectSearchRequest(
        filter_groups=[
            {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}]}
        ],
        sorts=[{"propertyName": "createdate", "direction": "DESCENDING"}],
        properties=["email", "lastname", "lifecyclestage"],
        limit=10,
    )
    found = contacts.search_api.do_search(public_object_search_request=request)
    assert found.total == 2
    assert [r.id for r in found.results] == [other.id, created.id]
    assert found.results[1].properties["lastname"] == "Lovelace"
    assert found.paging is None

    by_email_filter = PublicObjectSearchRequest(
        filter_groups=[
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": "ADA@example.com"}]}
        ],
        sorts=[{"propertyName": "createdate", "direction": "ASCENDING"}],
    )
    [hit] = contacts.search_api.do_search(public_object_search_request=by_email_filter).results
    assert hit.id == created.id
    assert hit.properties["email"] == "ada@example.com"


def test_errors_are_the_clients_exceptions(hubtrail: Hubtrail) -> None:
    client = hubtrail.client()
    created = create_contact(client, email="ada@example.com")

    with pytest.raises(UnauthorizedException) as unauthorized:
        hubtrail.client(
            "pat-na1-00000000-0000-0000-0000-000000000000"
        ).crm.contacts.basic_api.get_page()
    assert unauthorized.value.status == 401
    assert error_body(unauthorized.value)["category"] == "INVALID_AUTHENTICATION"

    with pytest.raises(NotFoundException) as missing:
        client.crm.contacts.basic_api.get_by_id("999999999")
    assert missing.value.status == 404
    assert error_body(missing.value)["category"] == "OBJECT_NOT_FOUND"
    with pytest.raises(NotFoundException):
        client.crm.contacts.basic_api.get_by_id("nobody@example.com", id_property="email")

    with pytest.raises(ApiException) as conflict:
        create_contact(client, email="ada@example.com", firstname="Again")
    assert conflict.value.status == 409
    body = error_body(conflict.value)
    assert body["message"] == f"Contact already exists. Existing ID: {created.id}"
    assert body["category"] == "CONFLICT"


def test_batch_upsert_and_paging_through_all_contacts(hubtrail: Hubtrail) -> None:
    contacts = hubtrail.client().crm.contacts
    first = create_contact(hubtrail.client(), email="u0@example.com", firstname="Before")

    def upsert(label: str) -> Any:
        inputs = [
            SimplePublicObjectBatchInputUpsert(
                id=f"u{i}@example.com", id_property="email", properties={"firstname": label}
            )
            for i in range(100)
        ]
        batch = BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
        return contacts.batch_api.upsert(batch_input_simple_public_object_batch_input_upsert=batch)

    created = upsert("One")
    assert created.status == "COMPLETE"
    assert len(created.results) == 100
    by_email = {r.properties["email"]: r for r in created.results}
    assert by_email["u0@example.com"].id == first.id
    assert by_email["u0@example.com"].new is False
    assert sum(r.new for r in created.results) == 99
    assert created.started_at <= created.completed_at
    again = upsert("Two")
    assert not any(r.new for r in again.results)
    assert {r.properties["firstname"] for r in again.results} == {"Two"}

    everyone = contacts.get_all(properties=["email", "firstname"])
    assert len(everyone) == 100
    assert {c.properties["email"] for c in everyone} == set(by_email)
    assert {c.properties["firstname"] for c in everyone} == {"Two"}

    seen: list[str] = []
    after = None
    for _ in range(10):
        page = contacts.basic_api.get_page(limit=30, after=after, archived=False)
        seen += [c.id for c in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == 100
    assert sorted(seen) == sorted(r.id for r in created.results)
    assert seen == sorted(seen, key=int)


def test_company_association_v4(hubtrail: Hubtrail) -> None:
    client = hubtrail.client()
    contact = create_contact(client, email="ada@example.com")
    company = client.crm.companies.basic_api.create(
        simple_public_object_input_for_create=CompanyInputForCreate(
            properties={"name": "Acme", "domain": "acme.io"}
        )
    )
    assert company.properties["domain"] == "acme.io"
    v4 = client.crm.associations.v4.basic_api

    default = v4.create_default("contacts", contact.id, "companies", company.id)
    assert default.status == "COMPLETE"
    specs = {r.association_spec.association_type_id for r in default.results}
    assert specs == {279, 280}
    assert {(r._from.id, r.to.id) for r in default.results} >= {(contact.id, company.id)}

    primary = v4.create(
        "contacts",
        contact.id,
        "companies",
        company.id,
        association_spec=[
            AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)
        ],
    )
    assert (primary.from_object_type_id, primary.to_object_type_id) == ("0-1", "0-2")
    assert (primary.from_object_id, primary.to_object_id) == (contact.id, company.id)
    assert primary.labels == ["Primary"]

    [link] = v4.get_page("contacts", contact.id, "companies").results
    assert str(link.to_object_id) == company.id
    assert {t.type_id for t in link.association_types} == {1, 279}
    [back] = v4.get_page("companies", company.id, "contacts").results
    assert str(back.to_object_id) == contact.id
    assert {t.type_id for t in back.association_types} == {2, 280}

    read = client.crm.contacts.basic_api.get_by_id(contact.id, associations=["companies"])
    assert {a.id for a in read.associations["companies"].results} == {company.id}

    v4.archive("contacts", contact.id, "companies", company.id)
    assert v4.get_page("contacts", contact.id, "companies").results == []


def test_custom_property_created_then_written(hubtrail: Hubtrail) -> None:
    client = hubtrail.client()
    core = client.crm.properties.core_api
    created = core.create(
        "contacts",
        property_create=PropertyCreate(
            name="favorite_color",
            label="Favorite color",
            type="enumeration",
            field_type="select",
            group_name="contactinformation",
            options=[
                Option(label="Blue", value="blue", hidden=False, display_order=0),
                Option(label="Green", value="green", hidden=False, display_order=1),
            ],
        ),
    )
    assert (created.name, created.type, created.field_type) == (
        "favorite_color",
        "enumeration",
        "select",
    )
    assert [o.value for o in created.options] == ["blue", "green"]
    assert created.hubspot_defined is False
    assert core.get_by_name("contacts", "favorite_color").label == "Favorite color"
    names = {p.name for p in core.get_all("contacts").results}
    assert {"favorite_color", "email", "lifecyclestage"} <= names

    contact = create_contact(client, email="ada@example.com", favorite_color="blue")
    assert contact.properties["favorite_color"] == "blue"
    client.crm.contacts.basic_api.update(
        contact.id,
        simple_public_object_input=SimplePublicObjectInput(properties={"favorite_color": "green"}),
    )
    read = client.crm.contacts.basic_api.get_by_id(contact.id, properties=["favorite_color"])
    assert read.properties["favorite_color"] == "green"
    with pytest.raises(ApiException) as invalid:
        client.crm.contacts.basic_api.update(
            contact.id,
            simple_public_object_input=SimplePublicObjectInput(
                properties={"favorite_color": "purple"}
            ),
        )
    assert invalid.value.status == 400
    assert error_body(invalid.value)["category"] == "VALIDATION_ERROR"


def test_event_definition_send_and_read_back(hubtrail: Hubtrail) -> None:
    client = hubtrail.client()
    full_name = f"pe{hubtrail.hub_id}_signed_up"
    # hubspot-api-client 12 has no event-definitions API: its generic request does it.
    definition = {
        "label": "Signed up",
        "name": "signed_up",
        "includeDefaultProperties": True,
        "propertyDefinitions": [
            {
                "name": "plan",
                "label": "Plan",
                "type": "enumeration",
                "options": [{"label": "Free", "value": "free"}, {"label": "Pro", "value": "pro"}],
            }
        ],
    }
    created = client.api_request(
        {"method": "POST", "path": "/events/v3/event-definitions", "body": definition}
    )
    assert created.status_code == 201, created.text
    assert created.json()["fullyQualifiedName"] == full_name
    assert created.headers["location"].startswith(hubtrail.url)
    read = client.api_request(
        {"method": "GET", "path": f"/events/v3/event-definitions/{full_name}"}
    )
    assert read.status_code == 200, read.text
    assert [p["name"] for p in read.json()["properties"]] == ["plan"]
    assert full_name in client.events.events_api.get_types().event_types

    contact = create_contact(client, email="ada@example.com")
    at = datetime(2026, 1, 20, 21, 14, 16, 512000, tzinfo=UTC)
    client.events.send.basic_api.send(
        behavioral_event_http_completion_request=BehavioralEventHttpCompletionRequest(
            event_name=full_name,
            email="ada@example.com",
            occurred_at=at,
            properties={"plan": "pro"},
        )
    )
    events = client.events.events_api
    page = eventually(
        lambda: events.get_page(object_type="contact", object_id=int(contact.id)),
        lambda page: bool(page.results),
    )
    [event] = page.results
    assert (event.event_type, event.object_type, event.object_id) == (
        full_name,
        "CONTACT",
        contact.id,
    )
    assert event.occurred_at == at
    assert event.properties == {"plan": "pro"}
    by_type = events.get_page(event_type=full_name, object_type="contact")
    assert [e.id for e in by_type.results] == [event.id]
