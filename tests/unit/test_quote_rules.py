"""``rules.quotes``: which quotes convert, and the order a quote becomes (shared with the SDK)."""

from __future__ import annotations

import datetime as dt

import pytest

from rules.quotes import QuoteRefusal, check_action_in_time, check_convertible, order_from_quote

QUOTE = {
    "id": "q1",
    "status": "accepted",
    "account_id": "a1",
    "owner_id": "u1",
    "currency": "EUR",
    "order_discount_pct": "2.5",
    "lines": [{"id": "l1", "product_id": "p1", "quantity": "3", "unit_price": "9.99"}],
    "subtotal": "29.22",
    "tax_total": "3.80",
    "total": "33.02",
    "valid_until": "2026-01-31",
    "notes": "not carried",
    "order_id": None,
}


def test_only_an_accepted_unconverted_quote_converts() -> None:
    check_convertible(QUOTE)
    for status in ("draft", "pending_approval", "sent", "rejected", "expired"):
        with pytest.raises(QuoteRefusal) as caught:
            check_convertible({**QUOTE, "status": status})
        assert (caught.value.code, caught.value.field) == ("invalid_state", "status")
    with pytest.raises(QuoteRefusal) as caught:
        check_convertible({**QUOTE, "order_id": "o1"})
    assert (caught.value.code, caught.value.data) == ("already_converted", {"order_id": "o1"})


def test_the_order_carries_what_the_customer_accepted() -> None:
    order = order_from_quote(QUOTE, "o9", "w1")
    assert order == {
        "id": "o9",
        "quote_id": "q1",
        "warehouse_id": "w1",
        "status": "submitted",
        "account_id": "a1",
        "owner_id": "u1",
        "currency": "EUR",
        "order_discount_pct": "2.5",
        "lines": QUOTE["lines"],
        "subtotal": "29.22",
        "tax_total": "3.80",
        "total": "33.02",
    }
    assert order["lines"][0] is not QUOTE["lines"][0]  # a copy: the quote stays as it was


def test_expiry_refuses_send_and_accept_after_the_last_valid_day() -> None:
    sent = {**QUOTE, "status": "sent"}
    check_action_in_time("accept", sent, dt.date(2026, 1, 31))
    with pytest.raises(QuoteRefusal) as caught:
        check_action_in_time("accept", sent, dt.date(2026, 2, 1))
    assert (caught.value.code, caught.value.field) == ("quote_expired", "valid_until")
