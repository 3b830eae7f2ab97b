"""Bounds on the decimals the wire accepts (money, quantities, rates).

A decimal string such as ``"1e30"`` decodes fine but breaks every computation after it
(``quantize`` raises ``InvalidOperation`` past the context's 28 digits) and overflows the
``NUMERIC(18, 4)`` columns. Every decimal a device or a client sends is checked here first:
finite, below ``10 ** MAX_INTEGER_DIGITS`` in magnitude, and with at most
``MAX_FRACTION_DIGITS`` decimal places (trailing zeros do not count). The checks use no
decimal context, so they cannot raise on any value.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec

MAX_INTEGER_DIGITS = 14  # NUMERIC(18, 4) holds values below 10**14
MAX_FRACTION_DIGITS = 10


def decimal_problem(value: Decimal) -> str | None:
    """Why ``value`` is out of bounds, or None when it is acceptable."""
    if not value.is_finite():
        return "must be a finite number"
    if value.is_zero():
        return None
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        return f"must be below 10^{MAX_INTEGER_DIGITS} in magnitude"
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent >= -MAX_FRACTION_DIGITS:
        return None  # few enough places whatever the trailing zeros
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if exponent + trailing < -MAX_FRACTION_DIGITS:
        return f"must have at most {MAX_FRACTION_DIGITS} decimal places"
    return None


def check_decimal(value: Decimal) -> Decimal:
    """``value`` itself; ValueError when it is out of bounds (usable in ``__post_init__``)."""
    problem = decimal_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def unbounded_decimal(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first out-of-bounds decimal inside ``value`` (Structs, lists, dicts walked), as
    ``(path, reason)`` with a dotted path (``lines.2.quantity``); None when all are fine."""
    if _all_bounded(value):  # the usual case, walked without building the paths
        return None
    for where, number in _decimals(value, path):
        problem = decimal_problem(number)
        if problem is not None:
            return where, problem
    return None


def _all_bounded(value: Any) -> bool:
    if isinstance(value, Decimal):
        return decimal_problem(value) is None
    if isinstance(value, msgspec.Struct):
        return all(_all_bounded(getattr(value, name)) for name in value.__struct_fields__)
    if isinstance(value, (list, tuple)):
        return all(_all_bounded(item) for item in value)
    if isinstance(value, dict):
        return all(_all_bounded(item) for item in value.values())
    return True


def _decimals(value: Any, path: str) -> Iterator[tuple[str, Decimal]]:
    if isinstance(value, Decimal):
        yield path, value
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            yield from _decimals(getattr(value, name), _join(path, name))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _decimals(item, _join(path, str(index)))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _decimals(item, _join(path, str(key)))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
