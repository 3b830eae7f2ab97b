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

from protocol.entities.lines import MAX_LINES, Line

# the line is the wire's (protocol.entities.lines); these rules price it
__all__ = [
    "MAX_LINES",
    "Line",
    "LinesInvalid",
    "LineTotals",
    "Totals",
    "document_totals",
    "lines_to_wire",
    "parse_lines",
    "price_line",
    "round_cents",
    "wire_totals",
]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


class LinesInvalid(ValueError):
    """Lines that cannot be priced; ``field`` names the bad value (``lines[2].quantity``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


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


def wire_totals(totals: Totals) -> dict[str, str]:
    """``subtotal``, ``tax_total`` and ``total`` as the wire fields of a document."""
    return {
        "subtotal": str(totals.subtotal),
        "tax_total": str(totals.tax_total),
        "total": str(totals.total),
    }


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
    """Typed lines back to JSON builtins (decimals as strings); a line priced by no known entry
    travels without ``price_entry_id``, as before the field existed."""
    wire: list[dict[str, Any]] = msgspec.to_builtins(list(lines))
    for line in wire:
        if line.get("price_entry_id") is None:
            line.pop("price_entry_id", None)
    return wire
