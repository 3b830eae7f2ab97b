"""Between request/response Structs and writer values, with the checks msgspec cannot express.

msgspec has no range constraints on ``Decimal``, so money and quantities are checked here:
finite, within bounds, and at most four decimal places (the NUMERIC(18, 4) of PostgreSQL would
otherwise round silently while SQLite kept every digit).
"""

from __future__ import annotations

import decimal
import enum
from typing import Annotated, Any, TypeVar

import msgspec

from server.db import new_id
from server.errors import ValidationFailed

R = TypeVar("R", bound=msgspec.Struct)

MAX_PLACES = 4
MAX_DIGITS_BEFORE_POINT = 14
_STORED_SCALE = decimal.Decimal(1).scaleb(-MAX_PLACES)

# The ``version`` of a PATCH body: the precondition of the write, like ``If-Match``.
Version = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        description="The version last read: the write is refused with 412 version_mismatch "
        "when the record has changed since (the If-Match header does the same).",
    ),
]


def decimal_problem(
    value: decimal.Decimal,
    *,
    ge: decimal.Decimal | int | None = None,
    gt: decimal.Decimal | int | None = None,
    le: decimal.Decimal | int | None = None,
) -> str | None:
    """Why ``value`` is not an acceptable stored decimal, or None when it is."""
    if not value.is_finite():
        return "must be a finite number"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        return f"must have at most {MAX_PLACES} decimal places"
    if value.adjusted() >= MAX_DIGITS_BEFORE_POINT:
        return "is too large"
    if ge is not None and value < ge:
        return f"must be >= {ge}"
    if gt is not None and value <= gt:
        return f"must be > {gt}"
    if le is not None and value > le:
        return f"must be <= {le}"
    return None


def check_decimal(
    value: decimal.Decimal | msgspec.UnsetType | None,
    field: str,
    **bounds: decimal.Decimal | int | None,
) -> None:
    """Raise ``ValidationFailed`` naming ``field`` when a sent decimal is not acceptable."""
    if value is None or value is msgspec.UNSET:
        return
    assert isinstance(value, decimal.Decimal)
    problem = decimal_problem(value, **bounds)
    if problem is not None:
        raise ValidationFailed(f"{field} {problem}", field=field)


def plain(value: Any) -> Any:
    """Writer values: enum members as their values, acceptable decimals at the stored scale."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, decimal.Decimal) and decimal_problem(value) is None:
        # PostgreSQL answers NUMERIC(18, 4) with four places and SQLite keeps the text it got;
        # storing four places everywhere makes both backends (and devices) see one string.
        return value.quantize(_STORED_SCALE)
    return value


def new_record(data: msgspec.Struct) -> dict[str, Any]:
    """Writer values of a create body, with a fresh time-ordered id (pages list oldest first)."""
    return {"id": new_id(), **sent_fields(data)}


def sent_fields(data: msgspec.Struct) -> dict[str, Any]:
    """The fields a request actually sent (``UNSET`` ones dropped), as writer values.

    A PATCH body's ``version`` is the precondition of the write, never a change: it is left out.
    """
    return {
        name: plain(value)
        for name in data.__struct_fields__
        if name != "version" and (value := getattr(data, name)) is not msgspec.UNSET
    }


def record_of(record_type: type[R], row: Any) -> R:
    """A table row (or the writer's wire dict) as the API record Struct."""
    mapping = row._mapping if hasattr(row, "_mapping") else row
    return msgspec.convert({k: mapping[k] for k in record_type.__struct_fields__}, record_type)
