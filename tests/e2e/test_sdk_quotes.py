"""Quotes with the SDK, offline then synced: expiry as read, and ``quote.convert`` whose local
order is the server's order (lines, prices and totals) before and after sync."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from client_sdk import OutpostClient, QuoteRefused
from client_sdk.quotes import convert_quote, quote_view
from tests.e2e.conftest import World
from tests.e2e.test_pricing_parity import TOTALS, catalog, line
from tests.e2e.test_sdk_server import scope


def accepted_offline(device: OutpostClient, account_id: str, products: dict) -> str:
    """A quote built, sent and accepted on the device with no network."""
    lines = [line(products["pen"], "12", "5"), line(products["book"], "2.5", "7.5")]
    quote_id = device.create(
        "quote", {"account_id": account_id, "lines": lines, "order_discount_pct": "2"}
    )
    device.action("quote", quote_id, "send", local={"status": "sent"})
    device.action("quote", quote_id, "accept", local={"status": "accepted"})
    return quote_id


def test_a_quote_converted_offline_is_the_servers_order_after_sync(world: World) -> None:
    _manager, rep, ids = scope(world, accounts=1)
    world.update("account", ids[0], credit_limit=Decimal(100_000))
    products = catalog(world, ids[0])
    device = world.device(rep, "phone")
    world.settle(device)
    quote_id = accepted_offline(device, ids[0], products)
    order_id = convert_quote(device, quote_id)
    quote, order = device.get("quote", quote_id), device.get("order", order_id)
    assert quote is not None and order is not None
    assert quote["order_id"] == order_id
    assert (order["status"], order["quote_id"]) == ("submitted", quote_id)
    assert order["lines"] == quote["lines"]
    assert {k: order[k] for k in TOTALS} == {k: quote[k] for k in TOTALS}
    with pytest.raises(QuoteRefused) as caught:  # offline too, the second convert is refused
        convert_quote(device, quote_id)
    assert (caught.value.code, caught.value.data) == ("already_converted", {"order_id": order_id})
    world.settle(device)
    server = world.load("order", order_id)
    assert server is not None and device.get("order", order_id) == server
    assert {k: server[k] for k in TOTALS} == {k: order[k] for k in TOTALS}
    assert server["lines"] == order["lines"]  # priced as accepted, the same figures
    assert server["status"] == "confirmed"
    assert world.load("quote", quote_id)["order_id"] == order_id  # type: ignore[index]
    assert not device.rejected_mutations()


def test_an_order_converted_offline_can_be_edited_before_sync(world: World) -> None:
    _manager, rep, ids = scope(world, accounts=1)
    products = catalog(world, ids[0])
    device = world.device(rep, "phone")
    world.settle(device)
    quote_id = accepted_offline(device, ids[0], products)
    order_id = str(uuid.uuid4())
    assert convert_quote(device, quote_id, order_id=order_id) == order_id
    device.update("order", order_id, {"notes": "deliver Monday"})
    world.settle(device)
    server = world.load("order", order_id)
    assert server is not None and server["notes"] == "deliver Monday"
    assert device.get("order", order_id) == server


def test_a_quote_not_accepted_is_refused_offline(world: World) -> None:
    _manager, rep, ids = scope(world, accounts=1)
    products = catalog(world, ids[0])
    device = world.device(rep, "phone")
    world.settle(device)
    quote_id = device.create("quote", {"account_id": ids[0], "lines": [line(products["pen"], "1")]})
    with pytest.raises(QuoteRefused) as caught:
        convert_quote(device, quote_id)
    assert (caught.value.code, caught.value.field) == ("invalid_state", "status")
    assert device.count("order") == 0 and len(device.pending_mutations()) == 1


def test_a_quote_past_its_validity_reads_as_expired_on_the_device(world: World) -> None:
    _manager, rep, ids = scope(world, accounts=1)
    device = world.device(rep, "phone")
    world.settle(device)
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).date().isoformat()
    old = device.create("quote", {"account_id": ids[0], "valid_until": yesterday})
    current = device.create("quote", {"account_id": ids[0]})
    assert quote_view(device, old)["status"] == "expired"
    assert device.get("quote", old).get("status", "draft") == "draft"  # type: ignore[union-attr]
    assert quote_view(device, current)["status"] == "draft"
