"""CRM search requests as HubSpot defines them, checked without I/O.

Filters inside a group are ANDed, groups are ORed; at most 5 groups, 6 filters in a group and 18 in
all; one sort; `limit` up to 200; `after` an integer offset; no more than 10,000 results reachable.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hubtrail.core.errors import FieldError, ValidationError
from hubtrail.core.plain_text import is_ascii_digits

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
MAX_LIMIT = 200
DEFAULT_LIMIT = 10
MAX_RESULTS = 10_000
ASSOCIATIONS_PREFIX = "associations."


class Operator(StrEnum):
    EQ = "EQ"
    NEQ = "NEQ"
    LT = "LT"
    LTE = "LTE"
    GT = "GT"
    GTE = "GTE"
    BETWEEN = "BETWEEN"
    IN = "IN"
    NOT_IN = "NOT_IN"
    HAS_PROPERTY = "HAS_PROPERTY"
    NOT_HAS_PROPERTY = "NOT_HAS_PROPERTY"
    CONTAINS_TOKEN = "CONTAINS_TOKEN"
    NOT_CONTAINS_TOKEN = "NOT_CONTAINS_TOKEN"


_NEEDS_VALUE = {
    Operator.EQ,
    Operator.NEQ,
    Operator.LT,
    Operator.LTE,
    Operator.GT,
    Operator.GTE,
    Operator.BETWEEN,
    Operator.CONTAINS_TOKEN,
    Operator.NOT_CONTAINS_TOKEN,
}


@dataclass(frozen=True, slots=True)
class Filter:
    property_name: str
    operator: Operator
    value: str | None = None
    high_value: str | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sort:
    property_name: str
    descending: bool


@dataclass(frozen=True, slots=True)
class Search:
    groups: tuple[tuple[Filter, ...], ...]
    sort: Sort | None
    query: str | None
    properties: tuple[str, ...] | None
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class RawFilter:
    """A filter as the client sent it, before checking."""

    property_name: str
    operator: str
    value: str | None = None
    high_value: str | None = None
    values: tuple[str, ...] | None = None


def _invalid(message: str, where: str) -> ValidationError:
    return ValidationError(
        message, errors=[FieldError(message, "INVALID", {"field": [where]}, where)]
    )


def check_filter(raw: RawFilter, where: str) -> Filter:
    try:
        operator = Operator(raw.operator.upper())
    except ValueError:
        allowed = ", ".join(op.value for op in Operator)
        raise _invalid(
            f"{where}.operator: {raw.operator!r} is not one of {allowed}", f"{where}.operator"
        ) from None
    if operator in _NEEDS_VALUE and raw.value is None:
        raise _invalid(f"{where}.value is required for {operator}", f"{where}.value")
    if operator is Operator.BETWEEN and raw.high_value is None:
        raise _invalid(f"{where}.highValue is required for BETWEEN", f"{where}.highValue")
    if operator in (Operator.IN, Operator.NOT_IN) and not raw.values:
        raise _invalid(
            f"{where}.values must list at least one value for {operator}", f"{where}.values"
        )
    return Filter(raw.property_name, operator, raw.value, raw.high_value, tuple(raw.values or ()))


def check_search(
    groups: list[list[RawFilter]],
    sort: Sort | None,
    query: str | None,
    properties: list[str] | None,
    limit: int | None,
    after: str | None,
) -> Search:
    """A valid `Search`, or a `ValidationError` naming what is wrong."""
    if len(groups) > MAX_GROUPS:
        raise _invalid(
            f"at most {MAX_GROUPS} filterGroups are allowed, not {len(groups)}", "filterGroups"
        )
    total = 0
    checked = []
    for g, group in enumerate(groups):
        if len(group) > MAX_FILTERS_PER_GROUP:
            raise _invalid(
                f"filterGroups[{g}] has {len(group)} filters; "
                f"at most {MAX_FILTERS_PER_GROUP} are allowed",
                f"filterGroups[{g}].filters",
            )
        total += len(group)
        checked.append(
            tuple(check_filter(f, f"filterGroups[{g}].filters[{i}]") for i, f in enumerate(group))
        )
    if total > MAX_FILTERS:
        raise _invalid(
            f"at most {MAX_FILTERS} filters are allowed in all, not {total}", "filterGroups"
        )
    size = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= size <= MAX_LIMIT:
        raise _invalid(f"limit must be between 1 and {MAX_LIMIT}, not {size}", "limit")
    offset = 0
    if after not in (None, ""):
        if not is_ascii_digits(after, max_chars=9):
            raise _invalid(f"after must be formatted as an integer, not {after!r}", "after")
        offset = int(after)
    if offset + size > MAX_RESULTS:
        raise _invalid(f"search can page through at most {MAX_RESULTS} results", "after")
    return Search(
        groups=tuple(checked),
        sort=sort,
        query=query.strip() or None if query else None,
        properties=tuple(properties) if properties else None,
        limit=size,
        offset=offset,
    )


def parse_sort(raw: str | dict[str, str]) -> Sort:
    """A sort given as `"prop"`, `"-prop"` or `{propertyName, direction}`."""
    if isinstance(raw, str):
        return Sort(raw.lstrip("-"), raw.startswith("-"))
    direction = raw.get("direction", "ASCENDING").upper()
    if direction not in ("ASCENDING", "DESCENDING"):
        raise _invalid(
            f"sorts[0].direction must be ASCENDING or DESCENDING, not {direction}", "sorts"
        )
    name = raw.get("propertyName")
    if not name:
        raise _invalid("sorts[0].propertyName is required", "sorts")
    return Sort(name, direction == "DESCENDING")
