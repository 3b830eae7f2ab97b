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


def test_a_convert_the_server_refuses_leaves_no_ghost_order_on_the_device(world: World) -> None:
    """Two phones of the rep convert the same accepted quote offline; the server takes the
    first and refuses the second (``already_converted``): after sync the second phone holds the
    first phone's order and no ghost of its own, nor the edit it queued for it."""
    _manager, rep, ids = scope(world, accounts=1)
    world.update("account", ids[0], credit_limit=Decimal(100_000))
    products = catalog(world, ids[0])
    # one mutation per push: the edit queued for the ghost is still unsent when the convert's
    # refusal arrives, and is withdrawn (the contact behind it is renumbered and sent)
    first, second = world.device(rep, "phone"), world.device(rep, "tablet", push_batch=1)
    world.settle(first)
    quote_id = accepted_offline(first, ids[0], products)
    world.settle(first, second)  # both hold the accepted quote
    taken = convert_quote(first, quote_id)
    ghost = convert_quote(second, quote_id)
    second.update("order", ghost, {"notes": "deliver Monday"})
    second.create("contact", {"account_id": ids[0], "name": "Queued after the ghost"})
    world.settle(first)

    report = second.sync()
    [discarded] = report.discarded
    assert (discarded["entity"], discarded["record_id"], discarded["withdrawn"]) == (
        "order", ghost, 1
    )
    world.settle(second)  # holds exactly what the server says it should
    assert second.get("order", ghost) is None
    assert second.get("order", taken) == world.load("order", taken)
    assert second.get("quote", quote_id)["order_id"] == taken  # type: ignore[index]
    [refused] = [r for r in second.rejected_mutations() if r.op == "quote.convert"]
    assert (refused.code, refused.record_id) == ("already_converted", quote_id)
    assert not second.pending_mutations()  # the contact queued behind went through
    assert world.scalar("SELECT count(*) FROM contacts WHERE name = 'Queued after the ghost'") == 1
    assert world.load("order", ghost) is None


def test_a_convert_of_a_quote_that_expired_on_the_server_leaves_no_ghost(world: World) -> None:
    _manager, rep, ids = scope(world, accounts=1)
    products = catalog(world, ids[0])
    device = world.device(rep, "phone")
    world.settle(device)
    quote_id = device.create(
        "quote", {"account_id": ids[0], "lines": [line(products["pen"], "2")]}
    )
    device.action("quote", quote_id, "send", local={"status": "sent"})
    world.settle(device)
    # the validity ended on the server; the phone, offline, still shows the old quote
    long_ago = dt.date.today() - dt.timedelta(days=3)
    version = world.update("quote", quote_id, valid_until=long_ago)["version"]
    device.action("quote", quote_id, "accept", local={"status": "accepted"})
    order_id = convert_quote(device, quote_id)
    assert device.get("order", order_id) is not None

    report = device.sync()
    assert [d["record_id"] for d in report.discarded] == [order_id]
    device.sync()  # (the quote reads expired on the device: served_as, not the stored status)
    assert device.get("order", order_id) is None and device.count("order") == 0
    assert not device.pending_mutations()
    codes = {r.op: r.code for r in device.rejected_mutations()}
    assert codes == {"quote.accept": "quote_expired", "quote.convert": "invalid_state"}
    assert device.get("quote", quote_id)["version"] >= version  # type: ignore[index]
