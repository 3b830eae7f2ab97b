"""Pure rules of purchasing: which transitions a purchase order allows, the status its
receipts give it, line values, shortfalls and due dates."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping

from server.sfa.purchasing.models import PurchaseOrderStatus as Status

ZERO = decimal.Decimal(0)
STORED = decimal.Decimal("0.0001")  # the scale money and quantities are stored at

# action -> the statuses it may start from (receiving: see RECEIVABLE)
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "edit": frozenset({Status.DRAFT}),
    "order": frozenset({Status.DRAFT}),
    "cancel": frozenset({Status.DRAFT, Status.ORDERED}),
    "receive": frozenset({Status.ORDERED, Status.PARTIALLY_RECEIVED}),
}


def status_after_receipt(lines: Iterable[tuple[decimal.Decimal, decimal.Decimal]]) -> Status:
    """``received`` when every (ordered, received) line is complete, else partially."""
    complete = all(received >= ordered for ordered, received in lines)
    return Status.RECEIVED if complete else Status.PARTIALLY_RECEIVED


def line_value(quantity: decimal.Decimal, unit_cost: decimal.Decimal) -> decimal.Decimal:
    """What a quantity costs at a unit cost, rounded half up to the stored four places."""
    return (quantity * unit_cost).quantize(STORED, rounding=decimal.ROUND_HALF_UP)


def due_on(received: dt.date, payment_terms_days: int) -> dt.date:
    """The due date of a payable raised on ``received`` under net ``payment_terms_days``."""
    return received + dt.timedelta(days=payment_terms_days)


def order_shortfall(
    demand: Mapping[uuid.UUID, decimal.Decimal],
    held: Mapping[uuid.UUID, decimal.Decimal],
    available: Mapping[uuid.UUID, decimal.Decimal],
) -> dict[uuid.UUID, decimal.Decimal]:
    """What the orders' ``demand`` still lacks: minus what the ledger holds for them and the
    free stock (available, never below zero), per product; products lacking nothing left out."""
    short = {}
    for product_id, wanted in demand.items():
        free = max(available.get(product_id, ZERO), ZERO)
        missing = wanted - held.get(product_id, ZERO) - free
        if missing > 0:
            short[product_id] = missing
    return short


def negative_available(
    available: Mapping[uuid.UUID, decimal.Decimal],
) -> dict[uuid.UUID, decimal.Decimal]:
    """The products whose available stock is below zero, with what brings them back to zero."""
    return {product_id: -value for product_id, value in available.items() if value < 0}
