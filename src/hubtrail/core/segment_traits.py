"""Segment traits → HubSpot properties, by the rules of Segment's HubSpot destination.

- Contact traits: the special ones (`firstName`, `lastName`, `companyName`, `company.name`,
  `position`, `phone`, `zip`, `address`, `city`, and `lifecycle_stage`) map onto HubSpot's names;
  every other key is lowercased, spaces turned into underscores. `email` is identity, not a write.
- Company traits (group): `address`, `city`, `state`, `zip`, `country`, `description`, `employees`,
  `industry`, `phone`, `website`, `name`, then the same rule for the rest.
- Dates: HubSpot date and datetime properties take ISO-8601 strings from Segment; a unix timestamp
  (a number) is refused with a reason, as the destination's docs tell users.

The result still needs checking against the portal's property definitions (`coerce_properties`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hubtrail.core.properties import PropertyDefinition, PropertyError, PropertyType

CONTACT_SPECIAL = {
    "firstname": "firstname",
    "first_name": "firstname",
    "lastname": "lastname",
    "last_name": "lastname",
    "companyname": "company",
    "company_name": "company",
    "position": "jobtitle",
    "title": "jobtitle",
    "phone": "phone",
    "zip": "zip",
    "postalcode": "zip",
    "postal_code": "zip",
    "city": "city",
    "lifecycle_stage": "lifecyclestage",
    "lifecyclestage": "lifecyclestage",
}
COMPANY_SPECIAL = {
    "employees": "numberofemployees",
    "employee_count": "numberofemployees",
    "postalcode": "zip",
    "postal_code": "zip",
}
_ADDRESS_PARTS = {
    "street": "address",
    "city": "city",
    "state": "state",
    "postalcode": "zip",
    "postal_code": "zip",
    "country": "country",
}
IDENTITY_TRAITS = frozenset({"email", "id", "userid", "user_id", "anonymousid", "anonymous_id"})


def property_key(trait: str) -> str:
    """A custom trait's key as HubSpot needs it: lowercase, spaces (and dots) as underscores."""
    return re.sub(r"[\s.]+", "_", trait.strip()).lower()


def _flatten_address(value: Mapping[str, Any], out: dict[str, object]) -> None:
    for part, target in _ADDRESS_PARTS.items():
        for key, item in value.items():
            if property_key(key) == part and item not in (None, ""):
                out[target] = item


def contact_properties(traits: Mapping[str, Any]) -> dict[str, object]:
    """Identify (or `context.traits`) traits as HubSpot contact property writes."""
    out: dict[str, object] = {}
    for trait, value in traits.items():
        key = property_key(trait)
        if key in IDENTITY_TRAITS:
            continue
        if key == "address" and isinstance(value, Mapping):
            _flatten_address(value, out)
        elif key == "company" and isinstance(value, Mapping):
            if value.get("name") not in (None, ""):
                out["company"] = value["name"]
        else:
            out[CONTACT_SPECIAL.get(key, key)] = value
    return out


def company_properties(traits: Mapping[str, Any]) -> dict[str, object]:
    """Group traits as HubSpot company property writes (the website's domain is keyed apart)."""
    out: dict[str, object] = {}
    for trait, value in traits.items():
        key = property_key(trait)
        if key in IDENTITY_TRAITS:
            continue
        if key == "address" and isinstance(value, Mapping):
            _flatten_address(value, out)
        else:
            out[COMPANY_SPECIAL.get(key, key)] = value
    return out


def date_problems(
    definitions: Mapping[str, PropertyDefinition], values: Mapping[str, object]
) -> list[PropertyError]:
    """Unix timestamps sent for date or datetime properties: refused (send ISO-8601 instead)."""
    problems = []
    for name, value in values.items():
        definition = definitions.get(name)
        dated = definition is not None and definition.type in (
            PropertyType.DATE,
            PropertyType.DATETIME,
        )
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if dated and (numeric or (isinstance(value, str) and value.strip().isdigit())):
            problems.append(
                PropertyError(
                    name,
                    "INVALID_DATE",
                    f"{name} got the unix timestamp {value}; Segment traits for date properties "
                    "must be ISO-8601 strings",
                )
            )
    return problems


def flat_values(values: Mapping[str, object]) -> tuple[dict[str, object], list[PropertyError]]:
    """Split off values HubSpot cannot hold (objects and lists), each with a reason."""
    kept: dict[str, object] = {}
    refused = []
    for name, value in values.items():
        if isinstance(value, Mapping | list):
            refused.append(
                PropertyError(name, "INVALID_VALUE", f"{name} is an object or list; it was dropped")
            )
        else:
            kept[name] = value
    return kept, refused
