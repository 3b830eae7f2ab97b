"""Quote and order totals: exact decimals, each line rounded half-up to the cent.

The server computes these on every write and the SDK runs the same code offline, so a quote built
in airplane mode shows the server's totals to the cent. A line's net is rounded first, its tax is
computed on the rounded net and rounded again (tax per line); document totals are sums of those.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
MAX_LINES = 500


class LinesInvalid(ValueError):
    """Lines that cannot be priced; ``field`` names the bad value (``lines[2].quantity``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Line(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One line of a quote or an order, as it travels on the wire."""

    id: uuid.UUID
    product_id: uuid.UUID
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        # msgspec cannot constrain Decimal fields, and a ValueError here carries the field path.
        for name in ("quantity", "unit_price", "discount_pct", "tax_rate"):
            if not getattr(self, name).is_finite():
                raise ValueError(f"{name} must be a finite number")
        if self.quantity <= 0:
            raise ValueError("quantity must be greater than 0")
        if self.unit_price < 0:
            raise ValueError("unit_price must be at least 0")
        if not 0 <= self.discount_pct <= 100:
            raise ValueError("discount_pct must be between 0 and 100")
        if not 0 <= self.tax_rate <= 1:
            raise ValueError("tax_rate must be between 0 and 1")


class LineTotals(msgspec.Struct, frozen=True):
    """A priced line: net after discount, its tax, and net plus tax."""

    net: Decimal
    tax: Decimal
    total: Decimal


class Totals(msgspec.Struct, frozen=True):
    """Totals of a whole document."""

    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def round_cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up (commercial rounding) to two decimals."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def price_line(line: Line) -> LineTotals:
    """The net, tax and total of one line."""
    gross = line.quantity * line.unit_price
    net = round_cents(gross * (HUNDRED - line.discount_pct) / HUNDRED)
    tax = round_cents(net * line.tax_rate)
    return LineTotals(net=net, tax=tax, total=net + tax)


def document_totals(lines: Iterable[Line]) -> Totals:
    """Subtotal, tax total and total of a document's lines (all zero when there are none)."""
    subtotal = tax_total = ZERO
    for line in lines:
        priced = price_line(line)
        subtotal += priced.net
        tax_total += priced.tax
    return Totals(subtotal=subtotal, tax_total=tax_total, total=subtotal + tax_total)


_PATH = re.compile(r"at `\$((?:\[\d+\]|\.\w+)*)`")


def parse_lines(raw: Any) -> list[Line]:
    """Wire lines (JSON builtins) as typed ``Line`` values; ``LinesInvalid`` names the bad field."""
    if raw is None:
        return []
    if isinstance(raw, list) and len(raw) > MAX_LINES:
        raise LinesInvalid(f"at most {MAX_LINES} lines", "lines")
    try:
        lines = msgspec.convert(raw, list[Line], strict=False)
    except msgspec.ValidationError as exc:
        match = _PATH.search(str(exc))
        path = match.group(1) if match else ""
        message = str(exc).split(" - at ")[0]
        first_word = message.split(" ", 1)[0]
        if first_word in Line.__struct_fields__ and not path.endswith(first_word):
            path += "." + first_word  # raised by __post_init__, which msgspec reports per line
        raise LinesInvalid(message, "lines" + path) from exc
    seen: set[uuid.UUID] = set()
    for index, line in enumerate(lines):
        if line.id in seen:
            raise LinesInvalid("duplicate line id", f"lines[{index}].id")
        seen.add(line.id)
    return lines


def lines_to_wire(lines: Iterable[Line]) -> list[dict[str, Any]]:
    """Typed lines back to JSON builtins (decimals as strings)."""
    return msgspec.to_builtins(list(lines))  # type: ignore[no-any-return]
