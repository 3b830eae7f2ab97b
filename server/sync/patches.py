"""Partial variants of record types: every field optional, unknown fields refused.

Device changes and action results are converted through them, so a wrong type, a text over its
length limit or an unknown field is refused with the field's name before anything is written.
The conversion is ``protocol.entities.partial``'s: the SDK checks local writes with it too.
"""

from __future__ import annotations

from typing import Any

import msgspec

from protocol.entities.partial import FieldProblem, convert_fields, partial_type
from server.errors import ValidationFailed
from server.sync.registry import EntitySpec


def patch_type(spec: EntitySpec) -> type[msgspec.Struct]:
    """The partial Struct of ``spec.record_type`` (built once per record type)."""
    return partial_type(spec.record_type)


def to_python(spec: EntitySpec, values: dict[str, Any]) -> dict[str, Any]:
    """Wire (or Python) values of some fields as Python values; ValidationFailed with the field.

    Every decimal inside them (a line's quantity included) must be within the wire's bounds
    (``protocol.decimals``), so no computation after this step can overflow."""
    try:
        return convert_fields(spec.record_type, values)
    except FieldProblem as exc:
        raise ValidationFailed(exc.message, field=exc.field, code=exc.code) from exc
