"""Partial variants of the records, and what a failed conversion names.

A device's changes (on the server at push time, in the SDK at every local write) are converted
through the partial variant of the entity's record: every field optional, unknown fields
refused, each field's type and limits checked. Both sides use these, so they refuse the same
values with the same code and field.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from protocol import errors as codes
from protocol.decimals import unbounded_decimal

_cache: dict[type[msgspec.Struct], type[msgspec.Struct]] = {}
_PATH = re.compile(r"at `\$\.?([^`]*)`")
_UNKNOWN = re.compile(r"unknown field `([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]*)`")
_NAMED = re.compile(r"^(\w+) must ")  # a __post_init__ check names its field first


class FieldProblem(ValueError):
    """A value the record refuses: the wire ``code``, a message, and the offending ``field``."""

    def __init__(self, code: str, message: str, field: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def partial_type(record: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """The partial Struct of ``record`` (built once per record type)."""
    if record not in _cache:
        fields = [
            (info.name, info.type | msgspec.UnsetType, msgspec.UNSET)
            for info in msgspec.structs.fields(record)
        ]
        _cache[record] = msgspec.defstruct(
            f"{record.__name__}Patch", fields, forbid_unknown_fields=True, omit_defaults=True
        )
    return _cache[record]


def problem(exc: msgspec.ValidationError) -> FieldProblem:
    """``unknown_field`` or ``validation_error`` with the field a conversion error names."""
    message = str(exc)
    unknown = _UNKNOWN.search(message)
    if unknown:
        return FieldProblem(codes.UNKNOWN_FIELD, message, unknown.group(1))
    path = _PATH.search(message)
    missing = _MISSING.search(message)
    parts = [found.group(1) for found in (path, missing) if found is not None and found.group(1)]
    named = _NAMED.match(message)
    if named and parts and not missing and not parts[-1].endswith(named.group(1)):
        parts.append(named.group(1))  # a line's own check: lines[0] -> lines[0].quantity
    return FieldProblem(codes.VALIDATION_ERROR, message, ".".join(parts) or None)


def convert_fields(record: type[msgspec.Struct], values: dict[str, Any]) -> dict[str, Any]:
    """Wire (or Python) values of some fields of ``record`` as Python values, checked against
    their types and limits; ``FieldProblem`` naming the field otherwise."""
    try:
        patch = msgspec.convert(values, partial_type(record), strict=False)
    except msgspec.ValidationError as exc:
        raise problem(exc) from exc
    converted = {
        name: getattr(patch, name)
        for name in values
        if getattr(patch, name, msgspec.UNSET) is not msgspec.UNSET
    }
    # every decimal (a line's quantity included) within the wire's bounds, so nothing computed
    # from it can overflow, on the server and in the SDK alike
    unbounded = unbounded_decimal(converted)
    if unbounded is not None:
        field, reason = unbounded
        raise FieldProblem(codes.VALIDATION_ERROR, f"{field} {reason}", field)
    return converted
