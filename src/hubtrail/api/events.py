"""HubSpot's events read API and event definitions API, over hubtrail's store.

`GET /events/v3/events` pages through a portal's contact-bound event occurrences;
`/events/v3/event-definitions` creates, reads, changes and deletes definitions and their custom
properties. `{eventName}` is the internal name or the fully qualified `pe{hubId}_{name}`. The wire
models below carry HubSpot's camelCase field names; the rules live in `core.events`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from hubtrail.api.auth import PortalId, RuntimeDep
from hubtrail.api.object_models import ERROR_RESPONSES
from hubtrail.core import events as rules
from hubtrail.core.errors import FieldError, ValidationError
from hubtrail.core.plain_text import is_ascii_digits
from hubtrail.core.properties import format_datetime_ms
from hubtrail.store import event_queries
from hubtrail.store import events as event_store
from hubtrail.store.event_queries import EventDefinitionRecord, EventProperty

router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)

LIMIT = 100  # the default and the maximum: a larger limit is served as this, not refused
_TRACKING_TYPES = {"crm_api": "MANUAL", "tracking_code": "CUSTOM_SCRIPT", "import": "IMPORT"}


class _Wire(BaseModel):
    """HubSpot's JSON: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class OptionModel(_Wire):
    label: str
    value: str
    hidden: bool = False
    display_order: int = -1
    description: str = ""

    def option(self) -> rules.EventOption:
        return rules.EventOption(**self.model_dump())


class PropertyCreate(_Wire):
    label: str
    type: str
    name: str | None = None
    description: str = ""
    options: list[OptionModel] = Field(default_factory=list)

    def raw(self) -> rules.EventPropertyInput:
        options = tuple(option.option() for option in self.options)
        return rules.EventPropertyInput(self.label, self.type, self.name, self.description, options)


class DefinitionCreate(_Wire):
    """`ExternalBehavioralEventTypeDefinitionEgg`; default `hs_*` properties are not listed."""

    label: str
    name: str | None = None
    description: str = ""
    primary_object: str = "CONTACT"
    include_default_properties: bool = True
    property_definitions: list[PropertyCreate] = Field(default_factory=list)
    custom_matching_id: None = None  # unsupported: occurrences match by objectId, email, utk

    def spec(self) -> rules.EventDefinitionSpec:
        return rules.check_definition(
            label=self.label,
            name=self.name,
            description=self.description,
            primary_object=self.primary_object,
            properties=[p.raw() for p in self.property_definitions],
        )


class DefinitionPatch(_Wire):
    label: str | None = None
    description: str | None = None


class PropertyPatch(DefinitionPatch):
    options: list[OptionModel] | None = None


class PropertyOut(_Wire):
    """HubSpot's `Property` for a custom event property."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str = "event_properties"
    description: str
    options: list[OptionModel]
    display_order: int = -1
    hidden: bool = False
    hubspot_defined: bool = False
    archived: bool = False
    created_at: str


class DefinitionOut(_Wire):
    """`ExternalBehavioralEventTypeDefinition`, with every field HubSpot's spec requires."""

    id: str
    name: str
    fully_qualified_name: str
    labels: dict[str, str]  # singular, plural
    description: str
    primary_object: str
    object_type_id: str
    primary_object_id: str
    tracking_type: str
    archived: bool = False
    created_at: str
    associations: list[dict[str, Any]] = Field(default_factory=list)
    properties: list[PropertyOut]


class NextPage(_Wire):
    after: str
    link: str


class Paging(_Wire):
    next: NextPage


class DefinitionsOut(_Wire):
    total: int
    results: list[DefinitionOut]
    paging: Paging | None = None


class EventOut(_Wire):
    """`ExternalUnifiedEvent`: one occurrence; property values are strings."""

    object_type: str
    object_id: str
    event_type: str
    occurred_at: str
    id: str
    properties: dict[str, str]


class EventsOut(_Wire):
    results: list[EventOut]
    paging: Paging | None = None


class EventTypesOut(_Wire):
    event_types: list[str]


# --- rendering ---------------------------------------------------------------------------------


def _property_out(prop: EventProperty) -> PropertyOut:
    return PropertyOut(
        name=prop.name,
        label=prop.label,
        type=prop.type.value,
        field_type=rules.FIELD_TYPES[prop.type],
        description=prop.description,
        options=[OptionModel(**asdict(o)) for o in prop.options],
        created_at=format_datetime_ms(prop.created_at_ms),
    )


def _definition_out(hub_id: int, record: EventDefinitionRecord) -> DefinitionOut:
    return DefinitionOut(
        id=str(record.id),
        name=record.name,
        fully_qualified_name=rules.qualified_event_name(hub_id, record.name),
        labels={"singular": record.label, "plural": record.label},
        description=record.description,
        primary_object=record.primary_object,
        object_type_id=rules.CONTACT_OBJECT_TYPE_ID,
        primary_object_id=rules.CONTACT_OBJECT_TYPE_ID,
        tracking_type=_TRACKING_TYPES.get(record.created_by, "MANUAL"),
        created_at=format_datetime_ms(record.created_at_ms),
        properties=[_property_out(p) for p in record.properties],
    )


def _paging(request: Request, cursor: str | None) -> Paging | None:
    if cursor is None:
        return None
    link = str(request.url.include_query_params(after=cursor))
    return Paging(next=NextPage(after=cursor, link=link))


def _event_out(hub_id: int, occurrence: event_store.Occurrence) -> EventOut:
    texts = {name: rules.property_text(value) for name, value in occurrence.properties.items()}
    return EventOut(
        object_type="CONTACT",
        object_id=str(occurrence.contact_id),
        event_type=rules.qualified_event_name(hub_id, occurrence.event_name),
        occurred_at=format_datetime_ms(occurrence.occurred_at_ms),
        id=str(occurrence.id),
        properties={name: text for name, text in texts.items() if text is not None},
    )


# --- reading occurrences -----------------------------------------------------------------------


def _ms(raw: str | None, field: str) -> int | None:
    return rules.instant_param_ms(raw, field) if raw else None


class EventsQuery(_Wire):
    """The fixed parameters of `GET /events/v3/events`; `objectProperty.*` and `property.*`
    are read from the raw query string."""

    object_type: str | None = None
    object_id: int | None = None
    event_type: str | None = None
    occurred_after: str | None = None
    occurred_before: str | None = None
    limit: int = Field(LIMIT, ge=1)
    after: str | None = None
    sort: list[str] = Field(default_factory=list)
    ids: list[str] | None = Field(None, alias="id")

    def occurrence_filter(
        self, params: list[tuple[str, str]], hub_id: int
    ) -> event_store.OccurrenceFilter:
        """The store's filter for these parameters, or a ValidationError naming the bad one."""
        email, properties = rules.record_and_property_filters(params)
        if (self.object_id is not None or email is not None) and self.object_type is None:
            raise ValidationError(
                "objectType is required with objectId or objectProperty",
                errors=[FieldError("required", "REQUIRED", {}, in_="objectType")],
            )
        cursor = rules.decode_cursor(self.after, 2, numbers=True) if self.after else None
        return event_store.OccurrenceFilter(
            limit=min(self.limit, LIMIT),
            descending=rules.sort_descending(self.sort),
            after=(int(cursor[0]), int(cursor[1])) if cursor else None,
            event_name=rules.event_name_of(self.event_type, hub_id) if self.event_type else None,
            object_type_id=rules.object_type_id(self.object_type) if self.object_type else None,
            contact_id=self.object_id,
            contact_email=email,
            ids=tuple(int(i) for i in self.ids if is_ascii_digits(i)) if self.ids else None,
            occurred_after_ms=_ms(self.occurred_after, "occurredAfter"),
            occurred_before_ms=_ms(self.occurred_before, "occurredBefore"),
            properties=tuple(properties),
        )


@router.get("/events/v3/events", response_model_exclude_none=True)
@router.get("/events/v3/events/", response_model_exclude_none=True, include_in_schema=False)
async def list_events(
    request: Request, params: Annotated[EventsQuery, Query()], portal: PortalId, rt: RuntimeDep
) -> EventsOut:
    """Occurrences bound to a contact, newest first unless `sort=occurredAt`."""
    query = params.occurrence_filter(request.query_params.multi_items(), portal)
    page = await rt.db.read(lambda conn: event_store.find_occurrences(conn, portal, query))
    last = page.occurrences[-1] if page.has_more else None
    cursor = rules.encode_cursor(last.occurred_at_ms, last.id) if last else None
    return EventsOut(
        results=[_event_out(portal, o) for o in page.occurrences],
        paging=_paging(request, cursor),
    )


@router.get("/events/v3/events/event-types")
async def list_event_types(portal: PortalId, rt: RuntimeDep) -> EventTypesOut:
    """The fully qualified names of the portal's live event definitions."""
    names = await rt.db.read(lambda conn: event_queries.live_event_names(conn, portal))
    return EventTypesOut(event_types=[rules.qualified_event_name(portal, name) for name in names])


# --- event definitions -------------------------------------------------------------------------

DEFINITIONS = "/events/v3/event-definitions"
PROPERTY = DEFINITIONS + "/{event_name}/property/{property_name}"


def _event_name(event_name: str, portal: PortalId) -> str:
    """The internal name in the `{eventName}` path segment."""
    return rules.event_name_of(event_name, portal)


EventName = Annotated[str, Depends(_event_name)]


class DefinitionsQuery(_Wire):
    after: str | None = None
    limit: int = Field(LIMIT, ge=1)
    include_properties: bool = False
    search_string: str | None = None
    sort_order: Literal["ASC", "DESC", "asc", "desc"] = "ASC"


@router.get(DEFINITIONS, response_model_exclude_none=True)
async def list_definitions(
    request: Request, params: Annotated[DefinitionsQuery, Query()], portal: PortalId, rt: RuntimeDep
) -> DefinitionsOut:
    """Live definitions by name, `sortOrder` ASC (default) or DESC, with their total."""
    after_name = rules.decode_cursor(params.after, 1)[0] if params.after else None
    page = await rt.db.read(
        lambda conn: event_queries.list_definitions(
            conn,
            portal,
            limit=min(params.limit, LIMIT),
            after_name=after_name,
            search=params.search_string,
            descending=params.sort_order.upper() == "DESC",
            include_properties=params.include_properties,
        )
    )
    cursor = rules.encode_cursor(page.last_name) if page.last_name else None
    return DefinitionsOut(
        total=page.total,
        results=[_definition_out(portal, record) for record in page.definitions],
        paging=_paging(request, cursor),
    )


@router.post(DEFINITIONS, status_code=201)
async def create_definition(
    body: DefinitionCreate, request: Request, response: Response, portal: PortalId, rt: RuntimeDep
) -> DefinitionOut:
    """Create a definition (201 with `Location`); 409 if its name is or ever was in use."""
    spec = body.spec()
    at_ms = rt.clock_ms()
    record = await rt.db.write(lambda c: event_queries.create_definition(c, portal, spec, at_ms))
    response.headers["Location"] = str(request.url_for("event_definition", event_name=record.name))
    return _definition_out(portal, record)


@router.get(DEFINITIONS + "/{event_name}", name="event_definition")
async def get_definition(name: EventName, portal: PortalId, rt: RuntimeDep) -> DefinitionOut:
    record = await rt.db.read(lambda conn: event_queries.get_definition(conn, portal, name))
    return _definition_out(portal, record)


@router.patch(DEFINITIONS + "/{event_name}", status_code=201)
async def update_definition(
    name: EventName, body: DefinitionPatch, portal: PortalId, rt: RuntimeDep
) -> DefinitionOut:
    """Change the label and/or description; HubSpot answers this with 201."""
    record = await rt.db.write(
        lambda conn: event_queries.update_definition(
            conn, portal, name, body.label, body.description
        )
    )
    return _definition_out(portal, record)


@router.delete(DEFINITIONS + "/{event_name}", status_code=204)
async def delete_definition(name: EventName, portal: PortalId, rt: RuntimeDep) -> None:
    """Delete the definition and all its occurrences; the name can never be used again."""
    at_ms = rt.clock_ms()
    await rt.db.write(lambda conn: event_queries.archive_definition(conn, portal, name, at_ms))


@router.post(DEFINITIONS + "/{event_name}/property", status_code=201)
async def create_property(
    name: EventName, body: PropertyCreate, portal: PortalId, rt: RuntimeDep
) -> PropertyOut:
    spec = rules.check_property(body.raw())
    at_ms = rt.clock_ms()
    prop = await rt.db.write(lambda c: event_queries.add_property(c, portal, name, spec, at_ms))
    return _property_out(prop)


@router.patch(PROPERTY, status_code=201)
async def update_property(
    name: EventName, property_name: str, body: PropertyPatch, portal: PortalId, rt: RuntimeDep
) -> PropertyOut:
    """Change a property's label, description or options; HubSpot answers this with 201."""
    options = tuple(o.option() for o in body.options) if body.options is not None else None
    prop = await rt.db.write(
        lambda conn: event_queries.update_property(
            conn, portal, name, property_name, body.label, body.description, options
        )
    )
    return _property_out(prop)


@router.delete(PROPERTY, status_code=204)
async def delete_property(
    name: EventName, property_name: str, portal: PortalId, rt: RuntimeDep
) -> None:
    at_ms = rt.clock_ms()
    await rt.db.write(
        lambda conn: event_queries.archive_property(conn, portal, name, property_name, at_ms)
    )
