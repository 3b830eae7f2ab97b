"""Pure quote rules the server and the SDK share: expiry as read, and the order a quote becomes.

A quote is valid through its ``valid_until`` day in the company's time zone; from the next day
it reads as ``expired`` at once (before ``outpost expire-quotes`` writes the status), for the
statuses that still wait on the customer. ``order_from_quote`` builds the order a
``quote.convert`` creates, field by field, so the device's offline copy and the server's are
the same record (docs/orders.md, "Quotes").
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from protocol.errors import ALREADY_CONVERTED, INVALID_STATE, QUOTE_EXPIRED

# statuses that expire when the validity ends: the customer has not answered yet
EXPIRING_STATUSES = frozenset({"draft", "pending_approval", "sent"})
EXPIRED = "expired"
ACCEPTED = "accepted"
# the order a converted quote becomes: submitted at once (the customer already accepted it)
CONVERTED_ORDER_STATUS = "submitted"
# copied from the quote to its order unchanged: what the customer accepted
CARRIED_FIELDS = ("account_id", "owner_id", "currency", "lines", "order_discount_pct")
TOTAL_FIELDS = ("subtotal", "tax_total", "total")


class QuoteRefusal(ValueError):
    """A quote action the rules refuse (expired, not accepted, already converted): the
    stable ``code``, the ``field`` and ``data``."""

    def __init__(self, code: str, message: str, field: str, data: dict[str, Any]) -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.data = code, message, field, data


def company_today(now: dt.datetime, zone: str) -> dt.date:
    """The calendar day ``now`` (aware) falls on in the time zone ``zone``."""
    return now.astimezone(zoneinfo.ZoneInfo(zone)).date()


def is_expired(valid_until: dt.date | None, today: dt.date) -> bool:
    """True when a quote's validity ended before ``today``."""
    return valid_until is not None and valid_until < today


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def effective_status(status: str, valid_until: Any, today: dt.date) -> str:
    """The status a quote reads as on ``today``: ``expired`` once its validity ended while it
    still waited on the customer, else its stored status."""
    if status in EXPIRING_STATUSES and is_expired(_date(valid_until), today):
        return EXPIRED
    return status


def as_read(quote: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """A quote's wire dict as it reads on ``today`` (a copy when its status changes)."""
    status = str(quote.get("status") or "draft")
    shown = effective_status(status, quote.get("valid_until"), today)
    return quote if shown == status else {**quote, "status": shown}


def check_action_in_time(action: str, quote: dict[str, Any], today: dt.date) -> None:
    """Refuse ``send`` or ``accept`` of a quote whose validity ended (``quote_expired``)."""
    status = str(quote.get("status") or "draft")
    if effective_status(status, quote.get("valid_until"), today) == EXPIRED:
        raise QuoteRefusal(
            QUOTE_EXPIRED,
            f"cannot {action} a quote that expired after {quote.get('valid_until')}",
            "valid_until",
            {"status": EXPIRED, "valid_until": str(quote.get("valid_until"))},
        )


def check_convertible(quote: dict[str, Any]) -> None:
    """Refuse the conversion of a quote already converted, or not accepted."""
    if quote.get("order_id"):
        raise QuoteRefusal(
            ALREADY_CONVERTED,
            "this quote was already converted to an order",
            "order_id",
            {"order_id": str(quote["order_id"])},
        )
    status = str(quote.get("status") or "draft")
    if status != ACCEPTED:
        raise QuoteRefusal(
            INVALID_STATE,
            f"only an accepted quote can be converted, this one is {status}",
            "status",
            {"status": status, "action": "convert"},
        )


def order_from_quote(
    quote: dict[str, Any], order_id: str, warehouse_id: str | None
) -> dict[str, Any]:
    """The wire fields of the order an accepted quote becomes: its account, owner, currency,
    lines (unit prices, tax rates and discounts as accepted, never repriced), order discount
    and totals, the quote it came from, and ``submitted`` as its status."""
    order: dict[str, Any] = {name: quote.get(name) for name in CARRIED_FIELDS}
    order["lines"] = [dict(line) for line in quote.get("lines") or []]
    for name in TOTAL_FIELDS:
        order[name] = quote.get(name)
    order.update(
        id=order_id,
        quote_id=str(quote["id"]),
        warehouse_id=warehouse_id,
        status=CONVERTED_ORDER_STATUS,
    )
    return order
