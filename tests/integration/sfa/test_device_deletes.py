"""A device's sync delete is refused once a record's state makes it history (issue 15): an
order past draft (it may hold stock), a quote past draft, a visit checked in. The engine asks
the entity's ``may_delete`` hook under the push's row lock; the refusal is a rejected mutation
with ``invalid_state``, the current status and the record, and nothing is written."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from server.sfa.orders.models import Order
from tests.builders import make_user
from tests.integration.sfa.core_builders import count
from tests.integration.sfa.order_desk_tools import make_desk
from tests.integration.sfa.quote_builders import priced_line
from tests.synctools import device_for, insert_account

D = decimal.Decimal


async def order_exists(db, order_id: str) -> bool:
    async with db.reading() as session:
        found = await session.scalar(sa.select(Order.id).where(Order.id == uuid.UUID(order_id)))
    return found is not None


def refused_as(result: dict, status: str) -> None:
    assert result["status"] == "rejected", result
    error = result["error"]
    assert (error["code"], error["field"]) == ("invalid_state", "status")
    assert error["data"] == {"status": status, "action": "delete"}
    assert result["record"]["status"] == status  # the device restores its copy


async def test_a_confirmed_order_deleted_by_sync_keeps_the_order_and_its_reservation(
    client, db, settings
) -> None:
    desk = await make_desk(client, db, settings, stock="10")
    order = await desk.submit(await desk.account(), "4")
    assert order["status"] == "confirmed"
    assert await desk.figures() == (D(10), D(4))
    [result] = await desk.phone.push(
        desk.phone.mutation("order", order["id"], "delete", base_version=order["version"])
    )
    refused_as(result, "confirmed")
    assert await order_exists(db, order["id"])
    assert await desk.figures() == (D(10), D(4))  # the reservation is still held
    assert await count(db, "stock_reservations") == 1
    snapshot, _ = await desk.phone.snapshot()
    assert snapshot[("order", order["id"])]["status"] == "confirmed"


async def test_a_held_order_cannot_be_deleted_but_a_draft_can(client, db, settings) -> None:
    desk = await make_desk(client, db, settings, stock="10")
    held = await desk.submit(await desk.account(arrears=D("5")), "1")
    assert held["status"] == "on_hold"
    draft_id = uuid7()
    line = {"id": str(uuid7()), "product_id": str(desk.product), "quantity": "2"}
    record = {"account_id": str(await desk.account()), "lines": [line]}
    created, on_hold, draft = await desk.phone.push(
        desk.phone.mutation("order", draft_id, "upsert", record),
        desk.phone.mutation("order", held["id"], "delete", base_version=held["version"]),
        desk.phone.mutation("order", draft_id, "delete", base_version=1),
    )
    assert created["status"] == "applied", created
    refused_as(on_hold, "on_hold")
    assert draft["status"] == "applied", draft  # a draft holds nothing: it may go
    assert await order_exists(db, held["id"]) and not await order_exists(db, str(draft_id))


async def quote_through(db, phone, rep, ops: tuple[str, ...]) -> tuple[uuid.UUID, dict]:
    """A quote the device creates and takes through ``ops`` in one push: its last record."""
    quote_id = uuid7()
    account_id = await insert_account(db, owner_id=rep.id)
    record = {"account_id": str(account_id), "lines": [await priced_line(db, "2", "10")]}
    mutations = [phone.mutation("quote", quote_id, "upsert", record)]
    mutations += [
        phone.mutation("quote", quote_id, f"quote.{op}", {}, base_version=n)
        for n, op in enumerate(ops, start=1)
    ]
    results = await phone.push(*mutations)
    assert [r["status"] for r in results] == ["applied"] * len(results), results
    return quote_id, results[-1].get("record") or {}


@pytest.mark.parametrize(
    ("ops", "status"),
    [(("send",), "sent"), (("send", "accept"), "accepted"), (("send", "reject"), "rejected")],
    ids=["sent", "accepted", "rejected"],
)
async def test_a_quote_shown_to_the_customer_cannot_be_deleted(client, db, ops, status) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    quote_id, quote = await quote_through(db, phone, rep, ops)
    [result] = await phone.push(
        phone.mutation("quote", quote_id, "delete", base_version=quote["version"])
    )
    refused_as(result, status)
    assert await count(db, "quotes") == 1


async def test_a_converted_quote_and_its_order_cannot_be_deleted(client, db) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    quote_id, quote = await quote_through(db, phone, rep, ("send", "accept"))
    order_id = uuid7()
    converted, gone_quote, gone_order = await phone.push(
        phone.mutation("quote", quote_id, "quote.convert", {"order_id": str(order_id)}, 3),
        phone.mutation("quote", quote_id, "delete", base_version=4),
        phone.mutation("order", order_id, "delete", base_version=1),
    )
    assert converted["status"] == "applied", converted
    refused_as(gone_quote, "accepted")
    refused_as(gone_order, converted_status := gone_order["record"]["status"])
    assert converted_status != "draft"
    assert await count(db, "quotes") == 1 and await order_exists(db, str(order_id))


async def test_a_draft_quote_can_be_deleted(client, db) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    quote_id, _ = await quote_through(db, phone, rep, ())
    [result] = await phone.push(phone.mutation("quote", quote_id, "delete", base_version=1))
    assert result["status"] == "applied", result
    assert await count(db, "quotes") == 0


async def test_a_checked_in_visit_cannot_be_deleted_a_planned_one_can(client, db) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    account_id = await insert_account(db, owner_id=rep.id, latitude=31.23, longitude=121.47)
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    visited, planned = uuid7(), uuid7()
    record = {"account_id": str(account_id), "planned_at": at}
    check_in = {"at": at, "latitude": 31.23, "longitude": 121.47, "accuracy_m": 10}
    results = await phone.push(
        phone.mutation("visit", visited, "upsert", record),
        phone.mutation("visit", visited, "visit.check_in", check_in, base_version=1),
        phone.mutation("visit", planned, "upsert", record),
        phone.mutation("visit", visited, "delete", base_version=2),
        phone.mutation("visit", planned, "delete", base_version=1),
    )
    assert [r["status"] for r in results[:3]] == ["applied"] * 3, results
    refused_as(results[3], "checked_in")
    assert results[4]["status"] == "applied", results[4]
    assert await count(db, "visits") == 1
