"""Pure order rules: the status machine and the decision taken when an order reaches the server."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal

from rules.pricing import Line

ALLOWED_FROM: dict[str, frozenset[str]] = {
    "submit": frozenset({"draft"}),
    "cancel": frozenset({"draft", "pending_approval", "submitted", "on_hold", "confirmed"}),
}

# Orders that already commit the customer's credit. On-hold ones do not: they await a decision.
OPEN_STATUSES = ("submitted", "confirmed")

# the priced content of an order: frozen once it has left draft
OFFER_FIELDS = ("lines", "warehouse_id", "currency", "order_discount_pct")

REJECTED = "rejected"
ON_HOLD = "on_hold"
CONFIRMED = "confirmed"


def requested_quantities(lines: Iterable[Line]) -> dict[uuid.UUID, Decimal]:
    """Total quantity per product over an order's lines."""
    totals: dict[uuid.UUID, Decimal] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, Decimal(0)) + line.quantity
    return totals


def short_products(
    requested: Mapping[uuid.UUID, Decimal], available: Mapping[uuid.UUID, Decimal]
) -> list[uuid.UUID]:
    """Products whose requested quantity exceeds what is available (missing means none)."""
    return sorted(
        product_id
        for product_id, quantity in requested.items()
        if quantity > available.get(product_id, Decimal(0))
    )


def submission_outcome(
    *,
    blacklisted: bool,
    arrears: Decimal,
    credit_limit: Decimal,
    open_total: Decimal,
    order_total: Decimal,
    stock_short: bool,
) -> tuple[str, str | None]:
    """(status, reason) of a submitted order; the first rule that applies decides.

    Blacklisted customers are refused outright; arrears, then the credit limit (exposure of the
    open orders plus this one), then stock put the order on hold for a person to decide.
    """
    if blacklisted:
        return REJECTED, "blacklisted"
    if arrears > 0:
        return ON_HOLD, "arrears"
    if open_total + order_total > credit_limit:
        return ON_HOLD, "credit_limit"
    if stock_short:
        return ON_HOLD, "insufficient_stock"
    return CONFIRMED, None
