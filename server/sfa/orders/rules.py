"""Pure order rules: the status machine and the decision taken when an order reaches the server."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from rules.pricing import Line

# action -> the statuses it may start from (docs/orders.md, "The state machine")
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "submit": frozenset({"draft"}),
    "cancel": frozenset({"draft", "pending_approval", "submitted", "on_hold", "confirmed"}),
    "approve": frozenset({"pending_approval"}),  # the discount approval (server.sfa.pricing)
    "refuse": frozenset({"pending_approval"}),
    "release": frozenset({"on_hold"}),
    "confirm": frozenset({"submitted", "on_hold"}),
    "reject": frozenset({"submitted", "on_hold"}),
    "fulfil": frozenset({"confirmed"}),
}

# Orders that already commit the customer's credit. On-hold ones do not: they await a decision.
OPEN_STATUSES = ("submitted", "confirmed")

# the priced content of an order: frozen once it has left draft
OFFER_FIELDS = ("lines", "warehouse_id", "currency", "order_discount_pct")

REJECTED = "rejected"
ON_HOLD = "on_hold"
CONFIRMED = "confirmed"

BLACKLISTED = "blacklisted"
ARREARS = "arrears"
CREDIT_LIMIT = "credit_limit"
INSUFFICIENT_STOCK = "insufficient_stock"
# the reasons a manager may release (a judgement on the customer's standing); stock is a fact
# and a blacklist a refusal: both are checked again on every decision
RELEASABLE = frozenset({ARREARS, CREDIT_LIMIT})


@dataclass(frozen=True)
class Outcome:
    """The status an order's checks decide, with every hold reason (or the reject reason)."""

    status: str
    hold_reasons: tuple[str, ...] = ()
    reject_reason: str | None = None


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


def standing_reasons(
    *,
    arrears: Decimal,
    credit_limit: Decimal,
    open_total: Decimal,
    order_total: Decimal,
    overrides: Iterable[str] = (),
) -> list[str]:
    """The customer's reasons to hold an order, in order (arrears, then the credit exposure of
    the open orders plus this one against the limit), without those a manager released."""
    released = frozenset(overrides)
    reasons = []
    if arrears > 0:
        reasons.append(ARREARS)
    if open_total + order_total > credit_limit:
        reasons.append(CREDIT_LIMIT)
    return [reason for reason in reasons if reason not in released]


def submission_outcome(*, blacklisted: bool, standing: Iterable[str], stock_short: bool) -> Outcome:
    """Blacklisted customers are refused outright; otherwise every standing reason and a
    shortage of stock hold the order for a person to decide; with none it is confirmed."""
    if blacklisted:
        return Outcome(REJECTED, reject_reason=BLACKLISTED)
    reasons = [*standing, *([INSUFFICIENT_STOCK] if stock_short else [])]
    if reasons:
        return Outcome(ON_HOLD, hold_reasons=tuple(reasons))
    return Outcome(CONFIRMED)


def released_reasons(hold_reasons: Iterable[str], overrides: Iterable[str]) -> list[str]:
    """What a release overrides from now on: the releasable reasons of the hold, added to
    those released before (a second release after a stock hold keeps the first one's)."""
    kept = list(overrides)
    for reason in hold_reasons:
        if reason in RELEASABLE and reason not in kept:
            kept.append(reason)
    return kept
