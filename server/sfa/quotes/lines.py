"""Document lines shared by quotes and orders: the JSON column and server-side totals."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from rules.pricing import Line, LinesInvalid, document_totals, parse_lines, wire_totals
from server.errors import ValidationFailed


class LinesJSON(sa.TypeDecorator[list[Any]]):
    """A JSON list of lines; typed values (Decimal, UUID, Structs) are stored as JSON builtins."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return []
        return msgspec.to_builtins(value)


def checked_lines(raw: Any) -> list[Line]:
    """Typed lines from a wire record; ``ValidationFailed`` naming the bad line field."""
    try:
        return parse_lines(raw)
    except LinesInvalid as exc:
        raise ValidationFailed(str(exc), field=exc.field) from exc


def apply_totals(record: dict[str, Any]) -> list[Line]:
    """Recompute ``subtotal``/``tax_total``/``total`` of a wire record from its lines, in place."""
    lines = checked_lines(record.get("lines"))
    record.update(wire_totals(document_totals(lines)))
    return lines
