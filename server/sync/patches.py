"""Partial variants of record types: every field optional, unknown fields refused.

Device changes and action results are converted through them, so a wrong type or an unknown
field is refused with the field's name before anything is written.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from protocol.decimals import unbounded_decimal
from server.errors import DomainError, ValidationFailed
from server.sync.registry import EntitySpec

_cache: dict[type[msgspec.Struct], type[msgspec.Struct]] = {}
_PATH = re.compile(r"at `\$\.?([^`]*)`")
_UNKNOWN = re.compile(r"unknown field `([^`]*)`")


def patch_type(spec: EntitySpec) -> type[msgspec.Struct]:
    """The partial Struct of ``spec.record_type`` (built once per record type)."""
    record_type = spec.record_type
    if record_type not in _cache:
        fields = [
            (info.name, info.type | msgspec.UnsetType, msgspec.UNSET)
            for info in msgspec.structs.fields(record_type)
        ]
        _cache[record_type] = msgspec.defstruct(
            f"{record_type.__name__}Patch", fields, forbid_unknown_fields=True, omit_defaults=True
        )
    return _cache[record_type]


def to_python(spec: EntitySpec, values: dict[str, Any]) -> dict[str, Any]:
    """Wire (or Python) values of some fields as Python values; ValidationFailed with the field.

    Every decimal inside them (a line's quantity included) must be within the wire's bounds
    (``protocol.decimals``), so no computation after this step can overflow."""
    try:
        patch = msgspec.convert(values, patch_type(spec), strict=False)
    except msgspec.ValidationError as exc:
        raise _error(str(exc)) from exc
    converted = {
        name: getattr(patch, name)
        for name in values
        if getattr(patch, name, msgspec.UNSET) is not msgspec.UNSET
    }
    unbounded = unbounded_decimal(converted)
    if unbounded is not None:
        field, reason = unbounded
        raise ValidationFailed(f"{field} {reason}", field=field)
    return converted


def _error(message: str) -> DomainError:
    unknown = _UNKNOWN.search(message)
    if unknown:
        return ValidationFailed(message, field=unknown.group(1), code="unknown_field")
    path = _PATH.search(message)
    return ValidationFailed(message, field=path.group(1) if path else None)
