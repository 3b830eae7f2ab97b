"""The rep's side of the order desk (issue 15) through the SDK: orders submitted offline get the
server's decision (confirmed, on hold with every reason, rejected) in the push result and the
next pull; the desk's later release and fulfilment arrive by pull."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from protocol.ids import uuid7
from tests.builders import TEST_PASSWORD
from tests.e2e.conftest import World
from tests.e2e.test_pricing_parity import Recording
from tests.e2e.test_sdk_server import scope
from tests.integration.sfa.order_desk_tools import figures, set_stock

D = Decimal


def manager_headers(world: World, manager: Any) -> dict[str, str]:
    response = world.app_client.post(
        "/auth/login",
        json={"email": manager.email, "password": TEST_PASSWORD, "device_id": str(uuid.uuid4())},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def stocked_catalog(world: World, on_hand: str) -> tuple[str, uuid.UUID]:
    """A product at 10.00 (no tax) and a warehouse holding ``on_hand`` of it."""
    product = world.create("product", sku="TEA", name="Tea", tax_rate=D("0"))
    standard = world.create("price_list", name="Standard", currency="CNY")
    world.create(
        "price_list_entry",
        price_list_id=uuid.UUID(standard["id"]),
        product_id=uuid.UUID(product["id"]),
        unit_price=D("10.00"),
        min_quantity=D("1"),
    )
    warehouse = uuid.UUID(world.create("warehouse", code="MAIN", name="Main")["id"])
    settings = world.app.state.settings
    world.run(set_stock, world.db, settings, warehouse, uuid.UUID(product["id"]), on_hand)
    return product["id"], warehouse


def test_offline_orders_learn_the_outcome_then_the_desks_decisions(world: World) -> None:
    manager, rep, ids = scope(world, accounts=3)
    good, owing, banned = ids
    for account_id in ids:
        world.update("account", account_id, credit_limit=D("100000"))
    world.update("account", owing, arrears=D("25"))
    world.update("account", banned, blacklisted=True)
    product, warehouse = stocked_catalog(world, "5")
    relay = Recording(world.app_client)
    device = world.device(rep, "phone", transport=relay)
    world.settle(device)

    def order_for(account_id: str, quantity: str) -> str:
        line = {"id": str(uuid7()), "product_id": product, "quantity": quantity}
        record = {"account_id": account_id, "warehouse_id": str(warehouse), "lines": [line]}
        order_id = device.create("order", record)
        device.action("order", order_id, "submit")
        return order_id

    pushed_before = len(relay.results)
    orders = {
        "confirmed": order_for(good, "3"),
        "arrears": order_for(owing, "4"),  # and 4 > the 2 left once the first is confirmed
        "banned": order_for(banned, "1"),
    }
    assert len(relay.results) == pushed_before  # all of it offline so far
    assert all(world.load("order", order_id) is None for order_id in orders.values())

    report = device.sync()
    assert report.rejected == 0
    records = [r["record"] for r in relay.results[pushed_before:] if r.get("record")]
    submitted = {record["id"]: record for record in records if record["status"] != "draft"}
    assert submitted[orders["confirmed"]]["status"] == "confirmed"
    assert submitted[orders["arrears"]]["hold_reasons"] == ["arrears", "insufficient_stock"]
    assert submitted[orders["arrears"]]["hold_reason"] == "arrears"  # for older clients
    assert (
        submitted[orders["banned"]]["status"],
        submitted[orders["banned"]]["reject_reason"],
    ) == (
        "rejected",
        "blacklisted",
    )
    world.settle(device)
    for name, order_id in orders.items():
        assert device.get("order", order_id) == world.load("order", order_id), name
    assert world.run(figures, world.db, warehouse, uuid.UUID(product)) == (D(5), D(3))

    # the office: the confirmed order ships; the customer in arrears paid, stock arrived
    headers = manager_headers(world, manager)
    shipped = world.app_client.post(
        f"/orders/{orders['confirmed']}/fulfil", json={"note": "van 2"}, headers=headers
    )
    assert shipped.status_code == 200, shipped.text
    settings = world.app.state.settings
    world.run(set_stock, world.db, settings, warehouse, uuid.UUID(product), "10")
    released = world.app_client.post(
        f"/orders/{orders['arrears']}/release", json={"note": "paid in full"}, headers=headers
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "confirmed"

    device.sync()
    world.settle(device)
    fulfilled = device.get("order", orders["confirmed"])
    assert fulfilled is not None and fulfilled["status"] == "fulfilled"
    assert fulfilled["desk_note"] == "van 2" and fulfilled["fulfilled_at"]
    confirmed = device.get("order", orders["arrears"])
    assert confirmed is not None
    assert (confirmed["status"], confirmed["hold_reasons"], confirmed["desk_note"]) == (
        "confirmed",
        [],
        "paid in full",
    )
    assert confirmed["hold_overrides"] == ["arrears"]
    assert world.run(figures, world.db, warehouse, uuid.UUID(product)) == (D(10), D(4))


def test_an_order_past_draft_cannot_be_deleted_offline_or_by_a_stale_device(world: World) -> None:
    """Only a draft order may be deleted: the SDK refuses it offline as the server does; a
    device whose copy still says draft is refused by the server and gets the order back with
    its reservation untouched."""
    import pytest

    from client_sdk.errors import NotDeletable

    _manager, rep, ids = scope(world, accounts=1)
    world.update("account", ids[0], credit_limit=D("100000"))
    product, warehouse = stocked_catalog(world, "5")
    phone, tablet = world.device(rep, "phone"), world.device(rep, "tablet")
    world.settle(phone)
    line = {"id": str(uuid7()), "product_id": product, "quantity": "2"}
    order = phone.create("order", {"account_id": ids[0], "warehouse_id": str(warehouse),
                                   "lines": [line]})
    world.settle(phone, tablet)  # the tablet holds the draft
    phone.action("order", order, "submit")
    world.settle(phone)
    assert phone.get("order", order)["status"] == "confirmed"  # type: ignore[index]
    with pytest.raises(NotDeletable) as refused:
        phone.delete("order", order)
    assert (refused.value.code, refused.value.field) == ("invalid_state", "status")
    assert refused.value.data == {"status": "confirmed", "action": "delete"}
    assert not phone.pending_mutations()

    tablet.delete("order", order)  # its copy is a draft: allowed offline, refused on the server
    tablet.sync()
    [rejected] = tablet.rejected_mutations()
    assert (rejected.op, rejected.code) == ("delete", "invalid_state")
    world.settle(tablet)
    assert tablet.get("order", order) == world.load("order", order)
    assert world.run(figures, world.db, warehouse, uuid.UUID(product)) == (D(5), D(2))
    draft = tablet.create("order", {"account_id": ids[0], "lines": [line]})
    tablet.delete("order", draft)  # a draft goes, offline and on the server
    world.settle(tablet)
    assert tablet.get("order", draft) is None and world.load("order", draft) is None
