"""Helpers the SFA sync adapters share: typed views of wire dicts and their field types."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from protocol.entities.definition import EntityDef
from protocol.entities.fields import AwareDateTime, Latitude, Longitude, Meters
from protocol.errors import INVALID_STATE, SERVER_OWNED_FIELD
from rules import records
from server.errors import Conflict, Forbidden, ValidationFailed

__all__ = ["AwareDateTime", "Latitude", "Longitude", "Meters"]

S = TypeVar("S", bound=msgspec.Struct)

_PATH = re.compile(r"at `\$\.?([\w.\[\]]*)`")
_NAMED = re.compile(r"^(\w+) must ")


def typed(value: Mapping[str, Any], struct_type: type[S]) -> S:
    """``value`` (JSON builtins or Python values) as ``struct_type``; 422 naming the bad field."""
    try:
        return msgspec.convert(value, struct_type, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc).split(" - at ")[0]
        match = _PATH.search(str(exc))
        field = match.group(1) if match else None
        named = _NAMED.match(message)
        if field is not None and named and not field.endswith(named.group(1)):
            field += "." + named.group(1)  # a __post_init__ check names its field in the message
        raise ValidationFailed(message, field=field) from exc


def check_record(record: msgspec.Struct) -> None:
    """Run the record's shared domain checks (``rules.records``; the SDK runs them too)."""
    try:
        records.check_record(record)
    except records.RuleViolation as exc:
        raise ValidationFailed(exc.message, field=exc.field) from exc


def parse_uuid(value: Any, field: str) -> uuid.UUID:
    """A UUID from a wire value; ``validation_error`` naming ``field`` when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"{field} must be a UUID", field=field) from exc


def require_non_negative(value: Decimal, field: str) -> None:
    """Refuse a negative or non-finite decimal (msgspec cannot constrain Decimal fields)."""
    if not value.is_finite() or value < 0:
        raise ValidationFailed(f"{field} must be a number >= 0", field=field)


def require_text(value: str, field: str) -> None:
    """Refuse an empty or blank text field."""
    if not value.strip():
        raise ValidationFailed(f"{field} must not be empty", field=field)


def transition_refusal(
    entity: str, action: str, status: str, allowed_from: Mapping[str, frozenset[str]]
) -> Conflict | None:
    """Why ``action`` cannot start from ``status`` (409 ``invalid_state`` naming the status and
    the action), or None when it can."""
    if status in allowed_from.get(action, frozenset()):
        return None
    return Conflict(
        f"cannot {action.replace('_', ' ')} a {entity} that is {status}",
        field="status",
        code=INVALID_STATE,
        data={"status": status, "action": action},
    )


def ensure_transition(
    entity: str, action: str, status: str, allowed_from: Mapping[str, frozenset[str]]
) -> None:
    """Refuse an action from a status it cannot start from (409 ``invalid_state``)."""
    refusal = transition_refusal(entity, action, status, allowed_from)
    if refusal is not None:
        raise refusal


def delete_guard(definition: EntityDef) -> Callable[[dict[str, Any]], Conflict | None]:
    """The ``may_delete`` hook of a shared entity whose device deletes are allowed only from
    the statuses of its ``deletable_from`` (``invalid_state`` otherwise)."""
    allowed = {"delete": definition.deletable_from or frozenset()}

    def refusal(record: dict[str, Any]) -> Conflict | None:
        status = str(record.get("status"))
        return transition_refusal(definition.name, "delete", status, allowed)

    return refusal


def appended(notes: str, addition: str | None) -> str:
    """``notes`` with ``addition`` on a new line (the APPEND policy, applied by an action)."""
    if not addition:
        return notes
    return f"{notes}\n{addition}" if notes else addition


def check_owner(
    principal_id: uuid.UUID,
    role: str,
    record: dict[str, Any],
    old: Mapping[str, Any] | None,
    field: str,
    *,
    frozen: bool = False,
) -> None:
    """The user a record belongs to: the pusher by default; reps may only name themselves, on
    the create and on every edit that changes it (a rep never hands a record to another rep).

    A ``frozen`` owner never changes after the create (``server_owned_field``).
    """
    if old is None:
        if record.get(field) is None:
            record[field] = str(principal_id)
        elif str(record[field]) != str(principal_id) and role == "rep":
            raise Forbidden(f"a rep can only set {field} to themselves", field=field)
        return
    if str(record.get(field)) == str(old.get(field)):
        return
    if frozen:
        raise Forbidden(f"{field} is set by the server", field=field, code=SERVER_OWNED_FIELD)
    if role == "rep" and str(record.get(field)) != str(principal_id):
        raise Forbidden(f"a rep can only set {field} to themselves", field=field)
