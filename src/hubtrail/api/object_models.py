"""The wire shapes of HubSpot's CRM object API (contacts, companies): request models and renderers.

Request bodies are pydantic models named as in HubSpot's OpenAPI spec; responses are built as plain
dicts by `render_object` and friends (HubSpot leaves out absent keys rather than sending nulls).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from hubtrail.core.associations import SINGULAR, association_type, v3_type_name
from hubtrail.core.properties import ObjectType, format_datetime_ms
from hubtrail.store.associations import Link
from hubtrail.store.objects import HistoryEntry, ObjectRow

PropertyValue = str | int | float | bool | None
MAX_BATCH_INPUTS = 100

# HubSpot's `sourceType` for each of hubtrail's sources; `sourceLabel` keeps hubtrail's own name.
SOURCE_TYPES = {
    "tracking_code": "ANALYTICS",
    "http_events": "API",
    "events_api": "API",
    "segment": "INTEGRATION",
    "crm_api": "API",
    "form": "FORM",
    "import": "IMPORT",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AssociationSpec(_Model):
    associationCategory: str = "HUBSPOT_DEFINED"
    associationTypeId: int


class ObjectRef(_Model):
    id: str


class AssociationForCreate(_Model):
    to: ObjectRef
    types: list[AssociationSpec] = Field(min_length=1)


class SimplePublicObjectInputForCreate(_Model):
    properties: dict[str, PropertyValue] = Field(default_factory=dict)
    associations: list[AssociationForCreate] = Field(default_factory=list)
    objectWriteTraceId: str | None = None


class SimplePublicObjectInput(_Model):
    properties: dict[str, PropertyValue] = Field(default_factory=dict)


class BatchReadInput(_Model):
    inputs: list[ObjectRef] = Field(max_length=MAX_BATCH_INPUTS)
    properties: list[str] = Field(default_factory=list)
    propertiesWithHistory: list[str] = Field(default_factory=list)
    idProperty: str | None = None


class BatchCreateInput(_Model):
    inputs: list[SimplePublicObjectInputForCreate] = Field(max_length=MAX_BATCH_INPUTS)


class BatchUpdateItem(_Model):
    id: str
    properties: dict[str, PropertyValue] = Field(default_factory=dict)
    idProperty: str | None = None
    objectWriteTraceId: str | None = None


class BatchUpdateInput(_Model):
    inputs: list[BatchUpdateItem] = Field(max_length=MAX_BATCH_INPUTS)


class BatchUpsertItem(_Model):
    id: str
    idProperty: str
    properties: dict[str, PropertyValue] = Field(default_factory=dict)
    objectWriteTraceId: str | None = None


class BatchUpsertInput(_Model):
    inputs: list[BatchUpsertItem] = Field(max_length=MAX_BATCH_INPUTS)


class BatchArchiveInput(_Model):
    inputs: list[ObjectRef] = Field(max_length=MAX_BATCH_INPUTS)


class Filter(_Model):
    propertyName: str
    operator: str
    value: Any = None
    highValue: Any = None
    values: list[Any] | None = None


class FilterGroup(_Model):
    filters: list[Filter] = Field(default_factory=list)


class PublicObjectSearchRequest(_Model):
    filterGroups: list[FilterGroup] = Field(default_factory=list)
    sorts: list[str | dict[str, str]] = Field(default_factory=list, max_length=1)
    query: str | None = None
    properties: list[str] = Field(default_factory=list)
    limit: int | None = None
    after: str | int | None = None


class PublicMergeInput(_Model):
    primaryObjectId: str
    objectIdToMerge: str


class PublicGdprDeleteInput(_Model):
    objectId: str
    idProperty: str | None = None


# --- response shapes, for /openapi.json (handlers build plain dicts, validated by these) ----

DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class ValueWithTimestamp(_Model):
    value: str
    timestamp: DateTime
    sourceType: str
    sourceLabel: str | None = None
    sourceId: str | None = None


class AssociatedId(_Model):
    id: str
    type: str


class AssociatedIds(_Model):
    results: list[AssociatedId]


class SimplePublicObject(_Model):
    id: str
    properties: dict[str, str | None]
    createdAt: DateTime
    updatedAt: DateTime
    archived: bool
    archivedAt: DateTime | None = None
    propertiesWithHistory: dict[str, list[ValueWithTimestamp]] | None = None
    associations: dict[str, AssociatedIds] | None = None
    objectWriteTraceId: str | None = None  # batch create: the input's, echoed


class SimplePublicUpsertObject(SimplePublicObject):
    new: bool


class NextPage(_Model):
    after: str
    link: str | None = None


class ForwardPaging(_Model):
    next: NextPage


class CollectionResponse(_Model):
    results: list[SimplePublicObject]
    paging: ForwardPaging | None = None


class CollectionResponseWithTotal(CollectionResponse):
    total: int


class StandardError(_Model):
    status: str
    category: str
    message: str
    context: dict[str, list[str]] = Field(default_factory=dict)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    links: dict[str, str] = Field(default_factory=dict)


class BatchResponse(_Model):
    status: str
    results: list[SimplePublicObject]
    startedAt: DateTime
    completedAt: DateTime
    numErrors: int | None = None
    errors: list[StandardError] | None = None


class BatchUpsertResponse(BatchResponse):
    results: list[SimplePublicUpsertObject]  # type: ignore[assignment]


class ErrorDetail(_Model):
    message: str
    code: str | None = None
    context: dict[str, list[str]] | None = None
    in_: str | None = Field(default=None, alias="in")


class Error(_Model):
    """HubSpot's error body, as every 4xx/5xx of the API carries it."""

    status: str
    message: str
    correlationId: str
    category: str
    errors: list[ErrorDetail] | None = None
    context: dict[str, list[str]] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Error, "description": description}
    for status, description in (
        (400, "Invalid input, in HubSpot's error shape"),
        (401, "Missing or unknown access token"),
        (404, "No such object in this portal"),
        (409, "Conflict (for example, an email another contact has)"),
        (429, "Rate limit reached (rate-limit emulation only)"),
    )
}


# --- responses ----------------------------------------------------------------------------


def render_object(
    object_type: ObjectType,
    row: ObjectRow,
    properties: dict[str, str | None],
    *,
    history: dict[str, list[HistoryEntry]] | None = None,
    links: dict[ObjectType, list[Link]] | None = None,
) -> dict[str, Any]:
    """A `SimplePublicObject` (with history and associations when asked for)."""
    body: dict[str, Any] = {
        "id": str(row.id),
        "properties": properties,
        "createdAt": format_datetime_ms(row.created_at_ms),
        "updatedAt": format_datetime_ms(row.updated_at_ms),
        "archived": row.archived_at_ms is not None,
    }
    if row.archived_at_ms is not None:
        body["archivedAt"] = format_datetime_ms(row.archived_at_ms)
    if history is not None:
        body["propertiesWithHistory"] = {
            name: [render_history(entry) for entry in entries] for name, entries in history.items()
        }
    if links:
        body["associations"] = {
            to_type.value: {"results": _association_results(object_type, to_type, found)}
            for to_type, found in links.items()
            if found
        }
    return body


def render_history(entry: HistoryEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "value": entry.value,
        "timestamp": format_datetime_ms(entry.timestamp_ms),
        "sourceType": SOURCE_TYPES.get(entry.source, "API"),
        "sourceLabel": entry.source,
    }
    if entry.source_id:
        item["sourceId"] = entry.source_id
    return item


def _association_results(
    from_type: ObjectType, to_type: ObjectType, found: list[Link]
) -> list[dict[str, str]]:
    results = []
    for link in found:
        kind = association_type(from_type, to_type, link.type_id)
        name = v3_type_name(kind) if kind else f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"
        results.append({"id": str(link.to_id), "type": name})
    return results


def standard_error(category: str, message: str, context: dict[str, list[str]]) -> dict[str, Any]:
    """One entry of a 207 response's `errors[]` (HubSpot's `StandardError`)."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
    }


def batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started_at_ms: int, done_at_ms: int
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": format_datetime_ms(started_at_ms),
        "completedAt": format_datetime_ms(done_at_ms),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return body
