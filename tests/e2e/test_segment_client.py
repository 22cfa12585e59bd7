"""Segment's Python library (`segment-analytics-python`), unmodified but for its host, against a
real `hubtrail serve` process on 127.0.0.1, on SQLite and on PostgreSQL.

The library posts every call to `{host}/v1/batch` with the portal's write key (HTTP Basic, and
`writeKey` in the body). A `sync_mode=True` client posts each call as it is made and raises the
library's `APIError` on a refusal; a queued client (the default) batches calls on its own thread
until `flush()`. Each test makes its own `Client`, never the module-level default one. What the
processor made of the calls is read back through the CRM API with the portal's access token,
polling while the processor applies them in the background.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import orjson
import pytest
from segment.analytics import Client
from segment.analytics.request import APIError

from tests.conftest import POSTGRES_URL, Database, _drop_schema, require_postgres
from tests.servers import cli, free_port, start_server, stop_server

pytestmark = pytest.mark.e2e

T = TypeVar("T")

CONTACT_FIELDS = [
    "email",
    "firstname",
    "lastname",
    "company",
    "jobtitle",
    "phone",
    "address",
    "city",
    "zip",
    "country",
    "lifecyclestage",
    "favorite_color",
    "shoe_size",
]
PAGE_FIELDS = [
    "hs_analytics_num_page_views",
    "hs_analytics_first_url",
    "hs_analytics_last_url",
    "hs_analytics_first_referrer",
]
# The skew correction of Segment's spec (`receivedAt - (sentAt - timestamp)`) may move a sent
# timestamp by the time the request spent between the library and the server.
SKEW = timedelta(minutes=1)


@dataclass
class Server:
    database: Database
    url: str


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One `hubtrail serve` per engine for the module; each test gets its own portal on it."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'hubtrail.db'}")
    else:
        require_postgres()
        database = Database(POSTGRES_URL, f"t_{uuid.uuid4().hex[:12]}")
    port = free_port()
    process = start_server(database, port)
    try:
        yield Server(database, f"http://127.0.0.1:{port}")
    finally:
        stop_server(process)
        if database.schema:
            _drop_schema(database.schema)


@dataclass
class Portal:
    """A fresh portal on the running server: its write key for Segment, its token for the CRM."""

    url: str
    hub_id: int
    write_key: str
    crm: httpx.Client

    def segment(self, **options: Any) -> Client:
        """The library's client with only its host changed."""
        return Client(self.write_key, host=self.url, **options)

    def contact(self, email: str, *properties: str) -> dict[str, Any] | None:
        """The contact with this email (None while there is none) and the named properties."""
        found = self.crm.get(
            f"/crm/v3/objects/contacts/{email}",
            params={"idProperty": "email", "properties": ",".join(properties or ["email"])},
        )
        if found.status_code == 404:
            return None
        assert found.status_code == 200, found.text
        body: dict[str, Any] = found.json()
        return body

    def events(self, contact_id: str) -> list[dict[str, Any]]:
        """The contact's event occurrences, oldest first."""
        found = self.crm.get(
            "/events/v3/events",
            params={"objectType": "contact", "objectId": contact_id, "sort": "occurredAt"},
        )
        assert found.status_code == 200, found.text
        results: list[dict[str, Any]] = found.json()["results"]
        return results

    def event_type(self, name: str) -> str:
        return f"pe{self.hub_id}_{name}"


@pytest.fixture
def portal(server: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    # `requests` (inside the library) honours proxy variables; loopback is never proxied.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    created = orjson.loads(cli(server.database, "portal", "create", "Segment", "--json"))
    headers = {"Authorization": f"Bearer {created['access_token']}"}
    with httpx.Client(base_url=server.url, headers=headers, trust_env=False, timeout=30) as crm:
        yield Portal(server.url, created["hub_id"], created["write_key"], crm)


def eventually(read: Callable[[], T], done: Callable[[T], bool], attempts: int = 600) -> T:
    """Read until `done` (the server's processor applies accepted calls in the background)."""
    for _ in range(attempts):
        value = read()
        if done(value):
            return value
        time.sleep(0.05)
    return value


def props(record: dict[str, Any] | None) -> dict[str, Any]:
    return record["properties"] if record else {}


def identified(portal: Portal, email: str) -> dict[str, Any]:
    """The contact once an identify with this email has been applied."""
    contact = eventually(lambda: portal.contact(email), lambda c: c is not None)
    assert contact is not None, f"no contact for {email}"
    return contact


def at_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_identify_maps_special_and_custom_traits(portal: Portal) -> None:
    custom = portal.crm.post(
        "/crm/v3/properties/contacts",
        json={
            "name": "favorite_color",
            "label": "Favorite color",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
        },
    )
    assert custom.status_code == 201, custom.text
    segment = portal.segment(sync_mode=True)
    segment.identify(
        "u-ada",
        {
            "email": "ada@example.com",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "company": {"name": "Analytical Engines", "industry": "Computing"},
            "position": "Analyst",
            "phone": "+44 20 7946 0000",
            "address": {
                "street": "12 St James's Square",
                "city": "London",
                "postalCode": "SW1Y 4LG",
                "country": "United Kingdom",
            },
            "lifecycle_stage": "lead",
            "Favorite Color": "green",  # a contact property once lowercased, spaces as `_`
            "Shoe Size": "38",  # `shoe_size` is no contact property: dropped
        },
    )
    contact = eventually(
        lambda: portal.contact("ada@example.com", *CONTACT_FIELDS),
        lambda c: props(c).get("favorite_color") is not None,
    )
    assert contact is not None
    assert {k: props(contact).get(k) for k in CONTACT_FIELDS} == {
        "email": "ada@example.com",
        "firstname": "Ada",
        "lastname": "Lovelace",
        "company": "Analytical Engines",
        "jobtitle": "Analyst",
        "phone": "+44 20 7946 0000",
        "address": "12 St James's Square",
        "city": "London",
        "zip": "SW1Y 4LG",
        "country": "United Kingdom",
        "lifecyclestage": "lead",
        "favorite_color": "green",
        "shoe_size": None,
    }
    # Dropped, not kept aside: defining the property afterwards shows no value for it.
    later = portal.crm.post(
        "/crm/v3/properties/contacts",
        json={
            "name": "shoe_size",
            "label": "Shoe size",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
        },
    )
    assert later.status_code == 201, later.text
    assert props(portal.contact("ada@example.com", "shoe_size")).get("shoe_size") is None

    # A later identify for the same email updates the same contact.
    segment.identify("u-ada", {"email": "ada@example.com", "lifecycle_stage": "customer"})
    updated = eventually(
        lambda: portal.contact("ada@example.com", "lifecyclestage", "firstname"),
        lambda c: props(c).get("lifecyclestage") == "customer",
    )
    assert updated is not None
    assert updated["id"] == contact["id"]
    assert props(updated)["lifecyclestage"] == "customer"
    assert props(updated)["firstname"] == "Ada"

    history = portal.crm.get(
        f"/crm/v3/objects/contacts/{contact['id']}",
        params={"propertiesWithHistory": "firstname"},
    )
    assert history.status_code == 200, history.text
    [change] = history.json()["propertiesWithHistory"]["firstname"]
    assert (change["value"], change["sourceType"], change["sourceLabel"]) == (
        "Ada",
        "INTEGRATION",
        "segment",
    )


def test_track_by_email_and_by_user_id_with_context_traits(portal: Portal) -> None:
    segment = portal.segment(sync_mode=True)
    ordered_at = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    segment.track(
        "u-grace",
        "Order Completed",
        {"email": "grace@example.com", "plan": "pro"},
        timestamp=ordered_at,
    )
    grace = identified(portal, "grace@example.com")
    [order] = eventually(lambda: portal.events(grace["id"]), bool)
    assert (order["eventType"], order["objectType"], order["objectId"]) == (
        portal.event_type("order_completed"),
        "CONTACT",
        grace["id"],
    )
    assert order["properties"]["plan"] == "pro"
    assert abs(at_time(order["occurredAt"]) - ordered_at) < SKEW

    # No email on the track: the userId an identify tied to the contact finds it, and the
    # `context.traits` update it.
    segment.identify("u-ada", {"email": "ada@example.com", "firstName": "Ada"})
    ada = identified(portal, "ada@example.com")
    segment.track(
        "u-ada",
        "Signed Up",
        {"source": "newsletter"},
        context={"traits": {"lastName": "Lovelace", "lifecycle_stage": "opportunity"}},
    )
    [signed_up] = eventually(lambda: portal.events(ada["id"]), bool)
    assert signed_up["eventType"] == portal.event_type("signed_up")
    assert signed_up["objectId"] == ada["id"]
    assert signed_up["properties"]["source"] == "newsletter"
    updated = eventually(
        lambda: portal.contact("ada@example.com", "firstname", "lastname", "lifecyclestage"),
        lambda c: props(c).get("lastname") is not None,
    )
    assert {k: props(updated).get(k) for k in ("firstname", "lastname", "lifecyclestage")} == {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "lifecyclestage": "opportunity",
    }
    # Grace's event stayed hers.
    assert [e["eventType"] for e in portal.events(grace["id"])] == [
        portal.event_type("order_completed")
    ]


def test_page_is_a_page_view_of_the_contact(portal: Portal) -> None:
    segment = portal.segment(sync_mode=True)
    segment.identify("u-ada", {"email": "ada@example.com"})
    identified(portal, "ada@example.com")
    segment.page(
        "u-ada",
        "Docs",
        "Pricing",
        {
            "url": "https://www.example.com/pricing?plan=pro",
            "title": "Pricing",
            "referrer": "https://www.google.com/",
        },
    )
    contact = eventually(
        lambda: portal.contact("ada@example.com", *PAGE_FIELDS),
        lambda c: props(c).get("hs_analytics_num_page_views") == "1",
    )
    assert {k: props(contact).get(k) for k in PAGE_FIELDS} == {
        "hs_analytics_num_page_views": "1",
        "hs_analytics_first_url": "https://www.example.com/pricing?plan=pro",
        "hs_analytics_last_url": "https://www.example.com/pricing?plan=pro",
        "hs_analytics_first_referrer": "https://www.google.com/",
    }


def test_group_with_website_makes_an_associated_company(portal: Portal) -> None:
    segment = portal.segment(sync_mode=True)
    segment.identify("u-ada", {"email": "ada@example.com"})
    ada = identified(portal, "ada@example.com")
    segment.group(
        "u-ada",
        "acme-1",
        {
            "name": "Acme",
            "website": "https://www.acme.io/about",
            "industry": "Software",
            "employees": 120,
            "city": "Berlin",
        },
    )
    fields = ["name", "domain", "website", "industry", "numberofemployees", "city"]

    def company() -> httpx.Response:
        return portal.crm.get(
            "/crm/v3/objects/companies/acme.io",
            params={"idProperty": "domain", "properties": ",".join(fields)},
        )

    found = eventually(company, lambda r: r.status_code != 404)
    assert found.status_code == 200, found.text
    acme = found.json()
    assert {k: acme["properties"].get(k) for k in fields} == {
        "name": "Acme",
        "domain": "acme.io",
        "website": "https://www.acme.io/about",
        "industry": "Software",
        "numberofemployees": "120",
        "city": "Berlin",
    }

    def links() -> list[dict[str, Any]]:
        read = portal.crm.get(f"/crm/v4/objects/contacts/{ada['id']}/associations/companies")
        assert read.status_code == 200, read.text
        results: list[dict[str, Any]] = read.json()["results"]
        return results

    [link] = eventually(links, bool)
    assert str(link["toObjectId"]) == acme["id"]

    # The same group again finds the same company by its domain.
    segment.group("u-ada", "acme-1", {"website": "https://acme.io", "industry": "Robotics"})
    again = eventually(company, lambda r: r.json()["properties"].get("industry") == "Robotics")
    assert again.json()["id"] == acme["id"]
    listed = portal.crm.get("/crm/v3/objects/companies")
    assert [c["id"] for c in listed.json()["results"]] == [acme["id"]]


def test_alias_joins_the_anonymous_history_to_the_user(portal: Portal) -> None:
    segment = portal.segment(sync_mode=True)
    anonymous = "anon-7f3a"
    segment.page(
        None, None, "Docs", {"url": "https://www.example.com/docs"}, anonymous_id=anonymous
    )
    segment.track(None, "Viewed Docs", {"section": "api"}, anonymous_id=anonymous)
    segment.identify("u-linus", {"email": "linus@example.com"})
    linus = identified(portal, "linus@example.com")

    segment.alias(anonymous, "u-linus")
    history = eventually(lambda: portal.events(linus["id"]), bool)
    assert [e["eventType"] for e in history] == [portal.event_type("viewed_docs")]
    views = eventually(
        lambda: portal.contact("linus@example.com", *PAGE_FIELDS),
        lambda c: props(c).get("hs_analytics_num_page_views") == "1",
    )
    assert props(views)["hs_analytics_last_url"] == "https://www.example.com/docs"

    # After the alias, the anonymous id alone finds the user's contact.
    segment.track(None, "Downloaded Whitepaper", anonymous_id=anonymous)
    later = eventually(lambda: portal.events(linus["id"]), lambda found: len(found) == 2)
    assert [e["eventType"] for e in later] == [
        portal.event_type("viewed_docs"),
        portal.event_type("downloaded_whitepaper"),
    ]


def test_queued_client_batches_gzipped_calls(portal: Portal) -> None:
    """The library's default mode: calls queue up and go as one gzipped `/v1/batch` on flush,
    identify first; the processor must apply them in that order."""
    errors: list[Exception] = []
    segment = portal.segment(
        gzip=True, max_retries=1, on_error=lambda error, batch: errors.append(error)
    )
    try:
        segment.identify(
            "u-grace",
            {
                "email": "grace@example.com",
                "companyName": "Navy",
                "address": "1 Harbour Road",
                "city": "Arlington",
                "zip": "22202",
            },
        )
        segment.track("u-grace", "Opened App", {"version": "6.9"})
        segment.page("u-grace", None, "Home", {"url": "https://www.example.com/"})
        segment.flush()
    finally:
        segment.join()
    assert errors == []
    fields = ["company", "address", "city", "zip", "hs_analytics_num_page_views"]
    grace = eventually(
        lambda: portal.contact("grace@example.com", *fields),
        lambda c: props(c).get("hs_analytics_num_page_views") == "1",
    )
    assert grace is not None
    assert {k: props(grace).get(k) for k in fields} == {
        "company": "Navy",
        "address": "1 Harbour Road",
        "city": "Arlington",
        "zip": "22202",
        "hs_analytics_num_page_views": "1",
    }
    [opened] = eventually(lambda: portal.events(grace["id"]), bool)
    assert opened["eventType"] == portal.event_type("opened_app")
    assert opened["properties"]["version"] == "6.9"


def test_wrong_write_key_is_refused_with_a_code(portal: Portal) -> None:
    segment = Client("not-a-write-key", host=portal.url, sync_mode=True)
    with pytest.raises(APIError) as refused:
        segment.track("u-ada", "Signed Up", {"email": "ada@example.com"})
    assert refused.value.status == 401
    # The library reads `code` and `message` from the error body; without them it says unknown.
    assert refused.value.code != "unknown"
    assert refused.value.message
    assert portal.contact("ada@example.com") is None
