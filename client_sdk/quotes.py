"""Offline quote helpers: the status a quote reads as, and ``quote.convert`` made offline.

They use the server's own rules (``rules.quotes``): a quote past its ``valid_until`` reads as
expired at once, and a converted quote's order is built field by field as the server builds it,
so the local order has the server's lines, prices and totals before any sync.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from client_sdk.errors import QuoteRefused, RecordNotFound
from protocol import errors as codes
from protocol.entities.documents import OrderRecord, QuoteRecord
from protocol.ids import uuid7
from rules.quotes import QuoteRefusal, as_read, check_convertible, company_today, order_from_quote


def _today(zone: str | None) -> dt.date:
    return company_today(dt.datetime.now(dt.UTC), zone or "UTC")


def _local_quote(client: Any, quote_id: str) -> dict[str, Any]:
    """The local quote with every field (defaults for those a local create left out)."""
    quote = client.get("quote", quote_id)
    if quote is None:
        raise RecordNotFound(f"no local quote {quote_id}", code=codes.NOT_FOUND)
    full: dict[str, Any] = msgspec.to_builtins(msgspec.convert(quote, QuoteRecord, strict=False))
    return full


def quote_view(client: Any, quote_id: str, *, zone: str | None = None) -> dict[str, Any]:
    """The local quote as it reads today in ``zone`` (the server's
    ``OUTPOST_COMPANY_TIMEZONE``, default UTC): ``expired`` once its validity ended while it
    still waited on the customer, as the server answers it."""
    return as_read(_local_quote(client, quote_id), _today(zone))


def convert_quote(
    client: Any,
    quote_id: str,
    *,
    order_id: str | None = None,
    warehouse_id: str | None = None,
) -> str:
    """Convert a local accepted quote into an order, offline; returns the order's id.

    The order (the quote's account, owner, currency, lines and prices as accepted, order
    discount and totals; status ``submitted``) is in the local store at once, and
    ``quote.convert`` is queued with its id; the server's decision on the order (confirmed, on
    hold, rejected) arrives with the next sync. ``QuoteRefused`` when the server would refuse:
    the quote is not accepted (``invalid_state``) or already converted (``already_converted``).
    """
    quote = _local_quote(client, quote_id)
    try:
        check_convertible(quote)
    except QuoteRefusal as exc:
        raise QuoteRefused(exc.message, code=exc.code, field=exc.field, data=exc.data) from exc
    new_id = order_id or str(uuid7())
    params: dict[str, Any] = {"order_id": new_id}
    if warehouse_id is not None:
        params["warehouse_id"] = warehouse_id
    order = msgspec.to_builtins(
        msgspec.convert(order_from_quote(quote, new_id, warehouse_id), OrderRecord, strict=False)
    )
    order["version"] = 0
    client.action(
        "quote", quote_id, "convert", params, local={"order_id": new_id}, creates=[("order", order)]
    )
    return new_id
