"""CRM search in SQL: a checked `Search` becomes one query for the page and one for the total.

Each filter on a stored property is an `id IN (SELECT object_id FROM property_values …)` over the
indexed search columns (`value_key` for text, `value_num` for numbers and dates), so both engines
start from the index rather than scanning objects. Strings compare case-insensitively, enumerations
exactly, as in HubSpot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from hubtrail.core.associations import parse_object_type
from hubtrail.core.errors import FieldError, ValidationError
from hubtrail.core.plain_text import is_ascii_digits
from hubtrail.core.properties import (
    ObjectType,
    PropertyDefinition,
    PropertyType,
    coerce_value,
    parse_instant_ms,
    value_key,
)
from hubtrail.core.search import ASSOCIATIONS_PREFIX, Filter, Operator, Search
from hubtrail.store.objects import TABLES, ObjectRow
from hubtrail.store.schema import associations, property_values

QUERY_PROPERTIES = {
    ObjectType.CONTACT: (
        "firstname",
        "lastname",
        "email",
        "phone",
        "mobilephone",
        "company",
        "hs_additional_emails",
    ),
    ObjectType.COMPANY: ("website", "phone", "name", "domain"),
}
WALK_IN_ORDER_ABOVE = 2_000  # matches; see `_Compiler._has_value`
_NUMERIC = (PropertyType.NUMBER, PropertyType.DATE, PropertyType.DATETIME)
_NEGATED = {
    Operator.NEQ: Operator.EQ,
    Operator.NOT_IN: Operator.IN,
    Operator.NOT_HAS_PROPERTY: Operator.HAS_PROPERTY,
    Operator.NOT_CONTAINS_TOKEN: Operator.CONTAINS_TOKEN,
}


def _bad(message: str, where: str = "filterGroups") -> ValidationError:
    return ValidationError(
        message, errors=[FieldError(message, "INVALID", {"field": [where]}, where)]
    )


class _Compiler:
    def __init__(
        self, portal_id: int, object_type: ObjectType, definitions: Mapping[str, PropertyDefinition]
    ) -> None:
        self.portal_id = portal_id
        self.object_type = object_type
        self.table = TABLES[object_type]
        self.definitions = definitions
        self.correlated = False
        self.system: dict[str, ColumnElement[Any]] = {
            "hs_object_id": self.table.c.id,
            "createdate": self.table.c.created_at_ms,
            "lastmodifieddate": self.table.c.updated_at_ms,
            "hs_lastmodifieddate": self.table.c.updated_at_ms,
        }

    def where(self, search: Search) -> list[ColumnElement[bool]]:
        t = self.table
        clauses: list[ColumnElement[bool]] = [
            t.c.portal_id == self.portal_id,
            t.c.archived_at_ms.is_(None),
            t.c.merged_into_id.is_(None),
        ]
        if search.groups:
            clauses.append(
                or_(*(and_(*(self.filter(f) for f in group)) for group in search.groups))
            )
        if search.query:
            pv = property_values.c
            clauses.append(
                self._has_value(
                    pv.name.in_(QUERY_PROPERTIES[self.object_type]),
                    pv.value_key.contains(search.query.lower(), autoescape=True),
                )
            )
        return clauses

    def _has_value(self, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        """The object has a stored value meeting `conditions`.

        Two SQL shapes with the same meaning: `id IN (SELECT object_id …)` starts from the value
        index (best when few objects match), a correlated EXISTS lets a scan in sort order stop
        after one page (best when many match). `correlated` picks one.
        """
        pv = property_values.c
        scope = (pv.portal_id == self.portal_id, pv.object_type == self.object_type.value)
        if self.correlated:
            return exists().where(*scope, pv.object_id == self.table.c.id, *conditions)
        return self.table.c.id.in_(select(pv.object_id).where(*scope, *conditions))

    def filter(self, f: Filter) -> ColumnElement[bool]:
        if f.operator in _NEGATED:
            positive = Filter(
                f.property_name, _NEGATED[f.operator], f.value, f.high_value, f.values
            )
            return ~self.filter(positive)
        if f.property_name.startswith(ASSOCIATIONS_PREFIX):
            return self._association(f)
        if f.property_name in self.system:
            return self._compare(self.system[f.property_name], f, numeric=True, system=True)
        definition = self.definitions.get(f.property_name)
        if definition is None:
            raise _bad(f"Property {f.property_name!r} does not exist", "filterGroups.propertyName")
        pv = property_values.c
        if f.operator is Operator.HAS_PROPERTY:
            return self._has_value(pv.name == definition.name, pv.value != "")
        numeric = definition.type in _NUMERIC
        column = pv.value_num if numeric else pv.value_key
        condition = self._compare(column, f, numeric=numeric, definition=definition)
        return self._has_value(pv.name == definition.name, condition)

    def _compare(
        self,
        column: ColumnElement[Any],
        f: Filter,
        *,
        numeric: bool,
        system: bool = False,
        definition: PropertyDefinition | None = None,
    ) -> ColumnElement[bool]:
        def convert(raw: str | None) -> Any:
            return self._operand(raw, f, numeric=numeric, system=system, definition=definition)

        op = f.operator
        if op is Operator.HAS_PROPERTY:
            return true()
        if op is Operator.EQ:
            equal: ColumnElement[bool] = column == convert(f.value)
            return equal
        if op is Operator.IN:
            return column.in_([convert(v) for v in f.values])
        if op is Operator.BETWEEN:
            return and_(column >= convert(f.value), column <= convert(f.high_value))
        if op is Operator.CONTAINS_TOKEN:
            return self._contains(column, f.value or "")
        comparisons = {
            Operator.LT: column.__lt__,
            Operator.LTE: column.__le__,
            Operator.GT: column.__gt__,
            Operator.GTE: column.__ge__,
        }
        compared: ColumnElement[bool] = comparisons[op](convert(f.value))
        return compared

    @staticmethod
    def _contains(column: ColumnElement[Any], token: str) -> ColumnElement[bool]:
        text = token.lower()
        if "*" not in text:
            return func.lower(column).contains(text, autoescape=True)
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return func.lower(column).like(escaped.replace("*", "%"), escape="\\")

    def _operand(
        self,
        raw: str | None,
        f: Filter,
        *,
        numeric: bool,
        system: bool,
        definition: PropertyDefinition | None,
    ) -> Any:
        text = "" if raw is None else str(raw)
        if system and f.property_name == "hs_object_id":
            if not is_ascii_digits(text):
                raise _bad(f"{f.property_name} compares with a number, not {text!r}")
            return int(text)
        if numeric:
            number = _number(text)
            if number is None:
                raise _bad(f"{f.property_name} compares with a number or a date, not {text!r}")
            return number
        if definition is not None and definition.type is PropertyType.BOOL:
            coerced = coerce_value(definition, text)
            return coerced if isinstance(coerced, str) else text
        kind = definition.type if definition is not None else PropertyType.STRING
        return value_key(kind, text)

    def _association(self, f: Filter) -> ColumnElement[bool]:
        """`associations.company` EQ/IN ids, or HAS_PROPERTY: objects linked to those."""
        to_type = parse_object_type(f.property_name[len(ASSOCIATIONS_PREFIX) :])
        if to_type is None:
            raise _bad(f"unknown association {f.property_name!r}")
        a = associations.c
        linked = select(a.from_id).where(
            a.portal_id == self.portal_id,
            a.from_type == self.object_type.value,
            a.to_type == to_type.value,
        )
        if f.operator is Operator.HAS_PROPERTY:
            return self.table.c.id.in_(linked)
        if f.operator not in (Operator.EQ, Operator.IN):
            raise _bad(f"{f.operator} is not supported on {f.property_name}")
        ids = [f.value or ""] if f.operator is Operator.EQ else list(f.values)
        if not all(is_ascii_digits(i) for i in ids):
            return false()
        return self.table.c.id.in_(linked.where(a.to_id.in_([int(i) for i in ids])))

    def ordered(self, query: Select[Any], search: Search) -> Select[Any]:
        """The query in the requested order (creation order by default), ties broken by id."""
        t = self.table
        if search.sort is None:
            return query.order_by(t.c.id.asc())
        name, descending = search.sort.property_name, search.sort.descending
        if name in self.system:
            column = self.system[name]
            return query.order_by(column.desc() if descending else column.asc(), t.c.id.asc())
        definition = self.definitions.get(name)
        if definition is None:
            raise _bad(f"cannot sort by {name!r}: no such property", "sorts")
        pv = property_values.alias("sort_value")
        query = query.outerjoin(
            pv,
            and_(
                pv.c.portal_id == self.portal_id,
                pv.c.object_type == self.object_type.value,
                pv.c.object_id == t.c.id,
                pv.c.name == definition.name,
            ),
        )
        key = pv.c.value_num if definition.type in _NUMERIC else pv.c.value_key
        direction = key.desc() if descending else key.asc()
        return query.order_by(direction.nulls_last(), t.c.id.asc())


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        ms = parse_instant_ms(text)
        return float(ms) if ms is not None else None


async def run(
    conn: AsyncConnection,
    portal_id: int,
    object_type: ObjectType,
    search: Search,
    definitions: Mapping[str, PropertyDefinition],
) -> tuple[int, list[ObjectRow]]:
    """(total matches, the requested page of objects)."""
    compiler = _Compiler(portal_id, object_type, definitions)
    table = compiler.table
    where = compiler.where(search)
    total = (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar()
    if (total or 0) > WALK_IN_ORDER_ABOVE:
        compiler.correlated = True  # many matches: walk in sort order, stop after the page
        where = compiler.where(search)
    query = compiler.ordered(select(table).where(*where), search)
    rows = await conn.execute(query.offset(search.offset).limit(search.limit))
    return int(total or 0), [
        ObjectRow(r.id, r.created_at_ms, r.updated_at_ms, r.archived_at_ms) for r in rows
    ]
