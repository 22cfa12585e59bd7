"""Association types between contacts and companies, as HubSpot's v4 API numbers them."""

from __future__ import annotations

from dataclasses import dataclass

from hubtrail.core.properties import ObjectType

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"

_OBJECT_TYPES = {
    "contact": ObjectType.CONTACT,
    "contacts": ObjectType.CONTACT,
    "0-1": ObjectType.CONTACT,
    "company": ObjectType.COMPANY,
    "companies": ObjectType.COMPANY,
    "0-2": ObjectType.COMPANY,
}
OBJECT_TYPE_IDS = {ObjectType.CONTACT: "0-1", ObjectType.COMPANY: "0-2"}
SINGULAR = {ObjectType.CONTACT: "contact", ObjectType.COMPANY: "company"}


@dataclass(frozen=True, slots=True)
class AssociationType:
    from_type: ObjectType
    to_type: ObjectType
    type_id: int
    inverse_id: int
    label: str | None
    primary: bool


_TYPES = (
    AssociationType(ObjectType.CONTACT, ObjectType.COMPANY, 279, 280, None, False),
    AssociationType(ObjectType.CONTACT, ObjectType.COMPANY, 1, 2, "Primary", True),
    AssociationType(ObjectType.COMPANY, ObjectType.CONTACT, 280, 279, None, False),
    AssociationType(ObjectType.COMPANY, ObjectType.CONTACT, 2, 1, "Primary", True),
)
_BY_KEY = {(t.from_type, t.to_type, t.type_id): t for t in _TYPES}


def parse_object_type(raw: str) -> ObjectType | None:
    """`contact`, `contacts`, `0-1` → contacts; likewise for companies; None otherwise."""
    return _OBJECT_TYPES.get(raw.strip().lower())


def association_type(
    from_type: ObjectType, to_type: ObjectType, type_id: int
) -> AssociationType | None:
    return _BY_KEY.get((from_type, to_type, type_id))


def default_type(from_type: ObjectType, to_type: ObjectType) -> AssociationType | None:
    """The unlabeled type HubSpot uses for a default association (279 / 280)."""
    for candidate in _TYPES:
        if (candidate.from_type, candidate.to_type, candidate.primary) == (
            from_type,
            to_type,
            False,
        ):
            return candidate
    return None


def v3_type_name(kind: AssociationType) -> str:
    """The `type` v3 object responses use: `contact_to_company` (primary) or `…_unlabeled`."""
    name = f"{SINGULAR[kind.from_type]}_to_{SINGULAR[kind.to_type]}"
    return name if kind.primary else f"{name}_unlabeled"
