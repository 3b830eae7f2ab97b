"""The stock ledger's values: document lines, references, ledger entries and outcomes."""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from server.errors import Conflict
from server.sfa.inputs import check_decimal
from server.sfa.stock.models import MovementKind, ReferenceKind

ZERO = decimal.Decimal("0.0000")
Pair = tuple[uuid.UUID, uuid.UUID]  # (warehouse id, product id)


class InsufficientStock(Conflict):
    """A decrease or reservation the warehouse cannot cover (and it allows no backorder)."""

    code = "insufficient_stock"


@dataclass(frozen=True)
class StockLine:
    """A quantity of one product (a document line, as the ledger sees it)."""

    product_id: uuid.UUID
    quantity: decimal.Decimal


@dataclass(frozen=True)
class StockReference:
    """The document a movement or reservation belongs to (an order, a purchase receipt ...)."""

    kind: ReferenceKind
    id: uuid.UUID


@dataclass(frozen=True)
class ShortLine:
    """A product the warehouse could not reserve: what was asked and what was available."""

    product_id: uuid.UUID
    requested: decimal.Decimal
    available: decimal.Decimal


@dataclass(frozen=True)
class Held:
    """A reservation released or consumed."""

    warehouse_id: uuid.UUID
    product_id: uuid.UUID
    quantity: decimal.Decimal


@dataclass(frozen=True)
class ReserveResult:
    """What ``reserve`` held (``reserved``) and what the warehouse could not cover (``short``)."""

    reserved: tuple[StockLine, ...]
    short: tuple[ShortLine, ...]

    @property
    def complete(self) -> bool:
        """Was every line reserved?"""
        return not self.short


@dataclass
class Entry:
    """One ledger row to post: a signed change of on hand of a product in a warehouse."""

    kind: MovementKind
    warehouse_id: uuid.UUID
    product_id: uuid.UUID
    quantity: decimal.Decimal
    id: uuid.UUID | None = None
    transfer_id: uuid.UUID | None = None
    counterpart_warehouse_id: uuid.UUID | None = None
    expected: decimal.Decimal | None = None
    counted: decimal.Decimal | None = None
    reference: StockReference | None = None
    note: str = ""
    # Outbound and transfers may only take available stock (on hand - reserved); stocktakes,
    # adjustments and consuming a reservation record facts and may go down to zero on hand.
    may_take_reserved: bool = False


def aggregate(lines: Iterable[StockLine]) -> dict[uuid.UUID, decimal.Decimal]:
    """Quantities summed per product, in first-seen order; each must be > 0."""
    wanted: dict[uuid.UUID, decimal.Decimal] = {}
    for index, line in enumerate(lines):
        check_decimal(line.quantity, f"lines.{index}.quantity", gt=0)
        wanted[line.product_id] = wanted.get(line.product_id, ZERO) + line.quantity
    return wanted
