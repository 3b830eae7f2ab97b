"""Every change of an order's status is audited (issue 15), whatever the path: the device's
actions, a device's revision that withdraws a pending approval, the manager's decisions and
the order desk over REST, a quote's conversion. Each order's audit is a complete chain from
``draft`` to its status, and the device receives every status."""

from __future__ import annotations

import decimal

import sqlalchemy as sa

from protocol.ids import uuid7
from server.sfa.orders.models import OrderTransition
from tests.builders import make_user
from tests.integration.sfa.audit_tools import assert_audit_complete
from tests.integration.sfa.order_desk_tools import make_desk
from tests.integration.sfa.test_quote_convert import accepted_quote
from tests.synctools import insert_account

D = decimal.Decimal


def line(product, quantity: str, discount: str = "0") -> dict:
    return {"id": str(uuid7()), "product_id": str(product), "quantity": quantity,
            "discount_pct": discount}


async def trail(db, order_id) -> list[tuple]:
    async with db.reading() as session:
        rows = await session.execute(
            sa.select(
                OrderTransition.action,
                OrderTransition.from_status,
                OrderTransition.to_status,
                OrderTransition.actor_id,
                OrderTransition.device_id,
            )
            .where(OrderTransition.order_id == order_id)
            .order_by(OrderTransition.id)
        )
        return [tuple(row) for row in rows]


async def test_a_revision_that_withdraws_a_pending_approval_is_audited_and_synced(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings)
    account = await desk.account()
    order_id = uuid7()
    record = {"account_id": str(account), "lines": [line(desk.product, "1", "15")]}
    created, submitted = await desk.phone.push(
        desk.phone.mutation("order", order_id, "upsert", record),
        desk.phone.mutation("order", order_id, "order.submit", {}, base_version=1),
    )
    assert submitted["record"]["status"] == "pending_approval", submitted
    [edited] = await desk.phone.push(
        desk.phone.mutation(
            "order", order_id, "upsert", {"lines": [line(desk.product, "3", "15")]}, 2
        )
    )
    assert edited["status"] == "applied" and edited["server_changes"]["status"] == "draft"
    rep, phone = desk.rep.id, desk.phone.device_id
    assert await trail(db, order_id) == [
        ("submit", "draft", "pending_approval", rep, phone),
        ("revise", "pending_approval", "draft", rep, phone),
    ]
    answer = await client.get(f"/orders/{order_id}/transitions", headers=desk.headers)
    assert [t["action"] for t in answer.json()["items"]] == ["submit", "revise"]
    snapshot, _ = await desk.phone.snapshot()
    assert snapshot[("order", str(order_id))]["status"] == "draft"
    await assert_audit_complete(db)


async def test_a_revision_refused_after_the_validator_leaves_no_audit_row(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings)
    order_id = uuid7()
    record = {"account_id": str(await desk.account()), "lines": [line(desk.product, "1", "15")]}
    await desk.phone.push(
        desk.phone.mutation("order", order_id, "upsert", record),
        desk.phone.mutation("order", order_id, "order.submit", {}, base_version=1),
    )
    elsewhere = await insert_account(db, owner_id=(await make_user(db, "rep")).id)
    # the new lines withdraw the request, then the move to a customer the rep cannot see is
    # refused: the withdrawal's audit row goes with the rest of the mutation
    [moved] = await desk.phone.push(
        desk.phone.mutation(
            "order",
            order_id,
            "upsert",
            {"account_id": str(elsewhere), "lines": [line(desk.product, "2", "15")]},
            2,
        )
    )
    assert moved["status"] == "rejected" and moved["error"]["code"] == "out_of_scope", moved
    assert [step[0] for step in await trail(db, order_id)] == ["submit"]
    await assert_audit_complete(db)


async def test_a_revision_in_the_push_that_created_and_submitted_the_order_is_audited(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings)
    order_id = uuid7()
    record = {"account_id": str(await desk.account()), "lines": [line(desk.product, "1", "15")]}
    results = await desk.phone.push(  # one unsent outbox: every mutation on base version 0
        desk.phone.mutation("order", order_id, "upsert", record),
        desk.phone.mutation("order", order_id, "order.submit", {}),
        desk.phone.mutation("order", order_id, "upsert", {"notes": "call first",
                                                          "lines": [line(desk.product, "2")]}),
    )
    assert [r["status"] for r in results] == ["applied"] * 3, results
    assert [step[:3] for step in await trail(db, order_id)] == [
        ("submit", "draft", "pending_approval"),
        ("revise", "pending_approval", "draft"),
    ]
    await assert_audit_complete(db)


async def test_every_path_that_changes_an_order_status_leaves_a_complete_audit(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings, stock="100")
    admin_headers = await _admin_headers(db)
    account = await desk.account()
    phone = desk.phone
    # device: submit above authority, revise, submit; manager refuses, device submits again,
    # admin approves (confirmed, reserved), desk fulfils
    first = uuid7()
    draft = {"account_id": str(account), "lines": [line(desk.product, "1", "30")]}
    results = await phone.push(
        phone.mutation("order", first, "upsert", draft),
        phone.mutation("order", first, "order.submit", {}, 1),
        phone.mutation("order", first, "upsert", {"lines": [line(desk.product, "2", "30")]}, 2),
        phone.mutation("order", first, "order.submit", {}, 3),
    )
    assert results[-1]["record"]["status"] == "pending_approval", results
    refused = await client.post(f"/orders/{first}/refuse", json={"note": "no"},
                                headers=desk.headers)
    assert refused.json()["status"] == "draft", refused.text
    again = await phone.push_one("order", first, "order.submit", {}, base_version=5)
    assert again["record"]["status"] == "pending_approval", again
    approved = await client.post(f"/orders/{first}/approve", json={}, headers=admin_headers)
    assert approved.json()["status"] == "confirmed", approved.text
    assert (await desk.act(approved.json(), "fulfil")).json()["status"] == "fulfilled"
    # device: held for arrears, the desk releases it, the device cancels it
    owing = await desk.account(arrears=D("1"))
    held = await desk.submit(owing, "1")
    released = await desk.act(held, "release", {"note": "paid"})
    assert released.json()["status"] == "confirmed", released.text
    cancel = await phone.push_one("order", held["id"], "order.cancel", {},
                                  base_version=released.json()["version"])
    assert cancel["record"]["status"] == "cancelled", cancel
    # the desk rejects a held order; a quote converts into an order
    rejected = await desk.act(await desk.submit(owing, "1"), "reject", {"reason": "fraud"})
    assert rejected.json()["status"] == "rejected", rejected.text
    quote_id, _ = await accepted_quote(db, phone, desk.rep, account_id=account,
                                       lines=[line(desk.product, "1")])
    converted = await phone.push_one("quote", quote_id, "quote.convert",
                                     {"order_id": str(uuid7())}, base_version=3)
    assert converted["status"] == "applied", converted
    chains = await assert_audit_complete(db)
    assert {status for status, _ in chains.values()} == {
        "fulfilled", "cancelled", "rejected", "confirmed"
    }
    assert [step[0] for step in chains[str(first)][1]] == [
        "submit", "revise", "submit", "refuse", "submit", "approve", "fulfil"
    ]


async def _admin_headers(db):
    from tests.builders import auth_headers

    return await auth_headers(db, await make_user(db, "admin"))
