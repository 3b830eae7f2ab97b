"""Local writes and queries checked offline against the entity definitions the server uses.

Every check here is the server's own: the record Structs, server-owned and create-only fields
and read-only flags come from ``protocol.entities`` (the server's ``EntitySpec`` is built from
the same objects), the domain checks from ``rules.records``, and quotes and orders are priced
from the local catalog by the server's engine (``rules.document_pricing``, see
``client_sdk.pricing``). A write the server would reject at sync time raises a typed
``LocalValidationError`` at once, and nothing is stored or queued.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from client_sdk.errors import (
    InvalidValue,
    LocalValidationError,
    NotDeletable,
    ReadOnlyEntity,
    ServerOwnedField,
    UnknownAction,
    UnknownEntity,
    UnknownField,
)
from client_sdk.pricing import LocalCatalog, PricingError, price_view
from protocol import errors as codes
from protocol.entities import CATALOG, EntityDef
from protocol.entities.documents import OrderRecord, QuoteRecord
from protocol.entities.partial import FieldProblem, convert_fields, problem
from rules.document_pricing import totals_of_lines
from rules.pricing import LinesInvalid, parse_lines, wire_totals
from rules.records import RECORD_RULES, RuleViolation, check_record

_BY_CODE: dict[str, type[LocalValidationError]] = {
    codes.UNKNOWN_FIELD: UnknownField,
    codes.VALIDATION_ERROR: InvalidValue,
}
# documents whose totals the SDK computes offline, as the server does on every write
_PRICED: frozenset[type[msgspec.Struct]] = frozenset({QuoteRecord, OrderRecord})


class LocalSchema:
    """The entities a client knows (by default every syncable entity of the protocol)."""

    def __init__(self, entities: Mapping[str, EntityDef] = CATALOG) -> None:
        self.entities = dict(entities)

    # -- names ------------------------------------------------------------------------------

    def entity(self, name: str) -> EntityDef:
        """The definition of ``name``; ``UnknownEntity`` when there is none."""
        definition = self.entities.get(name)
        if definition is None:
            raise UnknownEntity(
                f"unknown entity {name!r}", code=codes.UNKNOWN_ENTITY, field="entity"
            )
        return definition

    def deletable_now(self, definition: EntityDef, record: dict[str, Any]) -> None:
        """Refuse, as the server would (``invalid_state``), the delete of a record whose status
        is not one its entity may be deleted from (``EntityDef.deletable_from``)."""
        allowed = definition.deletable_from
        if allowed is None:
            return
        status = record.get("status")
        if status is None:  # a local create without a status has the record's default
            defaults = {f.name: f.default for f in msgspec.structs.fields(definition.record)}
            status = defaults.get("status")
        if str(status) not in allowed:
            raise NotDeletable(
                f"a {definition.name} that is {status} cannot be deleted",
                code=codes.INVALID_STATE,
                field="status",
                data={"status": str(status), "action": "delete"},
            )

    def fields(self, name: str, names: Iterable[str]) -> EntityDef:
        """The definition of ``name`` after checking that its record has every field in
        ``names`` (a query's filters and order); ``UnknownField`` naming the first that is not."""
        definition = self.entity(name)
        known = definition.fields
        for field in names:
            if field not in known:
                raise UnknownField(
                    f"{name} has no field {field!r}", code=codes.UNKNOWN_FIELD, field=field
                )
        return definition

    def writable(self, name: str) -> EntityDef:
        """The definition of an entity devices may create and edit."""
        definition = self.entity(name)
        if not definition.writable:
            raise ReadOnlyEntity(
                f"{name} is read-only on devices", code=codes.READ_ONLY_ENTITY, field="entity"
            )
        return definition

    def deletable(self, name: str) -> EntityDef:
        """The definition of an entity devices may delete."""
        definition = self.writable(name)
        if not definition.deletable:
            raise NotDeletable(
                f"{name} records cannot be deleted from a device",
                code=codes.NOT_DELETABLE,
                field="entity",
            )
        return definition

    # -- values -----------------------------------------------------------------------------

    @staticmethod
    def record_id(value: Any) -> str:
        """A record id given by the app, as the canonical UUID string."""
        try:
            return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except ValueError:
            raise InvalidValue(
                "id must be a UUID", code=codes.VALIDATION_ERROR, field="id"
            ) from None

    @staticmethod
    def changes(definition: EntityDef, changes: dict[str, Any], *, creating: bool) -> None:
        """Check a create's or an edit's fields (wire values): known, writable by a device
        (create-only fields on a create), of the right type and within their limits."""
        for name in changes:
            if name not in definition.fields:
                raise UnknownField(
                    f"{definition.name} has no field {name!r}",
                    code=codes.UNKNOWN_FIELD,
                    field=name,
                )
            if not definition.writable_field(name, creating=creating):
                raise ServerOwnedField(
                    f"{name} is set by the server", code=codes.SERVER_OWNED_FIELD, field=name
                )
        _convert(definition.record, changes)

    @staticmethod
    def shown(definition: EntityDef, values: dict[str, Any]) -> None:
        """Check values an action shows locally until the server answers (any field of the
        record, server-owned ones included, of the right type)."""
        _convert(definition.record, values)

    @staticmethod
    def params(definition: EntityDef, action: str, params: dict[str, Any]) -> None:
        """Check a domain action's name and parameters against the action's Struct."""
        params_type = definition.actions.get(action)
        if params_type is None:
            raise UnknownAction(
                f"unknown operation {definition.name}.{action}",
                code=codes.UNKNOWN_ACTION,
                field="op",
            )
        try:
            msgspec.convert(params, params_type, strict=False)
        except msgspec.ValidationError as exc:
            raise _error(problem(exc)) from exc

    @staticmethod
    def record(
        definition: EntityDef, view: dict[str, Any], catalog: LocalCatalog | None = None
    ) -> dict[str, Any]:
        """The local view after a write, checked by the entity's domain rules and, for quotes
        and orders, priced from ``catalog`` as the server will price it, ready to store."""
        if definition.record in _PRICED:
            try:
                lines = parse_lines(view.get("lines"))
            except LinesInvalid as exc:
                raise InvalidValue(str(exc), code=codes.VALIDATION_ERROR, field=exc.field) from exc
            try:
                priced = price_view(view, lines, catalog) if catalog is not None else None
            except PricingError as exc:
                raise InvalidValue(exc.message, code=exc.code, field=exc.field) from exc
            if priced is None:  # no catalog yet, or a closed document: totals of its lines
                view.update(wire_totals(totals_of_lines(lines, _order_discount(view))))
        if definition.record in RECORD_RULES:
            known = {k: v for k, v in view.items() if k in definition.fields}
            try:
                typed = msgspec.convert(known, definition.record, strict=False)
            except msgspec.ValidationError as exc:
                raise _error(problem(exc)) from exc
            try:
                check_record(typed)
            except RuleViolation as exc:
                raise InvalidValue(
                    exc.message, code=codes.VALIDATION_ERROR, field=exc.field
                ) from exc
        return view


def _order_discount(view: dict[str, Any]) -> Decimal:
    try:
        value = Decimal(str(view.get("order_discount_pct") or 0))
    except ArithmeticError:
        value = Decimal("NaN")
    if not (value.is_finite() and 0 <= value <= 100):
        raise InvalidValue(
            "a discount is between 0 and 100",
            code=codes.VALIDATION_ERROR,
            field="order_discount_pct",
        )
    return value


def _convert(record: type[msgspec.Struct], values: dict[str, Any]) -> None:
    try:
        convert_fields(record, values)
    except FieldProblem as exc:
        raise _error(exc) from exc


def _error(found: FieldProblem) -> LocalValidationError:
    cls = _BY_CODE.get(found.code, InvalidValue)
    return cls(found.message, code=found.code, field=found.field)
