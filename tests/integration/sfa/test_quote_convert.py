"""``quote.convert`` through ``/sync/push``: an accepted quote becomes its order, once."""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa

from protocol.ids import uuid7
from server.sfa.catalog.models import PriceListEntry
from server.sfa.orders.models import Order
from tests.builders import make_user
from tests.integration.sfa.quote_builders import priced_line
from tests.synctools import Device, device_for, insert_account

TOTALS = ("subtotal", "tax_total", "total")


async def accepted_quote(db, phone: Device, rep, **quote) -> tuple[uuid.UUID, dict]:
    """A quote the device creates, sends and gets accepted in one push."""
    account_id = quote.pop("account_id", None) or await insert_account(db, owner_id=rep.id)
    quote_id = uuid7()
    lines = quote.pop("lines", None) or [
        await priced_line(db, "3", "12.50", discount_pct="4", tax_rate="0.13"),
        await priced_line(db, "1.5", "4.99"),
    ]
    record = {"account_id": str(account_id), "lines": lines, "order_discount_pct": "3", **quote}
    results = await phone.push(
        phone.mutation("quote", quote_id, "upsert", record),
        phone.mutation("quote", quote_id, "quote.send", {}, base_version=1),
        phone.mutation("quote", quote_id, "quote.accept", {}, base_version=2),
    )
    assert [r["status"] for r in results] == ["applied"] * 3, results
    return quote_id, results[-1]["record"]


async def order_rows(db, quote_id: uuid.UUID) -> list[uuid.UUID]:
    async with db.reading() as session:
        return list(await session.scalars(sa.select(Order.id).where(Order.quote_id == quote_id)))


async def test_an_accepted_quote_becomes_its_order_with_the_accepted_prices(client, db) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    quote_id, quote = await accepted_quote(db, phone, rep)
    # the price list changes after the customer accepted: the order keeps the accepted prices
    async with db.transaction() as session:
        await session.execute(sa.update(PriceListEntry.__table__).values(unit_price=Decimal(99)))
    order_id = uuid7()
    [result] = await phone.push(
        phone.mutation("quote", quote_id, "quote.convert", {"order_id": str(order_id)}, 3)
    )
    assert result["status"] == "applied", result
    assert result["record"]["order_id"] == str(order_id)
    assert not result.get("repriced")
    snapshot, _ = await phone.snapshot()
    order = snapshot[("order", str(order_id))]
    assert order["quote_id"] == str(quote_id)
    assert order["lines"] == quote["lines"]  # unit prices, tax rates, discounts, line ids
    for name in ("account_id", "owner_id", "currency", "order_discount_pct", *TOTALS):
        assert order[name] == quote[name], name
    assert (order["status"], order["submitted_at"] is not None) == ("confirmed", True)
    assert snapshot[("quote", str(quote_id))]["order_id"] == str(order_id)
    assert await order_rows(db, quote_id) == [order_id]


async def test_a_second_convert_is_refused_with_the_existing_order(client, db) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    quote_id, _ = await accepted_quote(db, phone, rep)
    first, second = uuid7(), uuid7()
    one, two = await phone.push(
        phone.mutation("quote", quote_id, "quote.convert", {"order_id": str(first)}, 3),
        phone.mutation("quote", quote_id, "quote.convert", {"order_id": str(second)}, 4),
    )
    assert one["status"] == "applied"
    assert two["status"] == "rejected"
    assert (two["error"]["code"], two["error"]["field"]) == ("already_converted", "order_id")
    assert two["error"]["data"] == {"order_id": str(first)}
    assert await order_rows(db, quote_id) == [first]


async def test_a_retried_push_converts_exactly_once(client, db) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    quote_id, _ = await accepted_quote(db, phone, rep)
    convert = phone.mutation("quote", quote_id, "quote.convert", {"order_id": str(uuid7())}, 3)
    [first] = await phone.push(convert)
    [again] = await phone.push(convert)  # the response was lost: the same mutation again
    assert first == again and first["status"] == "applied"
    assert len(await order_rows(db, quote_id)) == 1


async def test_the_new_order_can_be_edited_in_the_same_push(client, db) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    quote_id, _ = await accepted_quote(db, phone, rep)
    order_id = uuid7()
    converted, noted = await phone.push(
        phone.mutation("quote", quote_id, "quote.convert", {"order_id": str(order_id)}, 3),
        phone.mutation("order", order_id, "upsert", {"notes": "deliver Monday"}, 1),
    )
    assert (converted["status"], noted["status"]) == ("applied", "applied"), noted
    snapshot, _ = await phone.snapshot()
    assert snapshot[("order", str(order_id))]["notes"] == "deliver Monday"


async def test_refused_conversions_write_nothing(client, db) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    account_id = await insert_account(db, owner_id=rep.id)
    sent_id = uuid7()
    await phone.push(
        phone.mutation(
            "quote",
            sent_id,
            "upsert",
            {"account_id": str(account_id), "lines": [await priced_line(db, "1", "10")]},
        ),
        phone.mutation("quote", sent_id, "quote.send", {}, base_version=1),
    )
    quote_id, _ = await accepted_quote(db, phone, rep, account_id=account_id)
    taken = uuid7()
    await phone.push(
        phone.mutation("order", taken, "upsert", {"account_id": str(account_id), "lines": []})
    )
    cases = [
        (sent_id, {"order_id": str(uuid7())}, "invalid_state", "status"),
        (quote_id, {"order_id": str(taken)}, "record_exists", "order_id"),
        (quote_id, {"order_id": str(uuid7()), "warehouse_id": str(uuid7())}, None, "warehouse_id"),
        (quote_id, {}, "validation_error", "order_id"),
        (quote_id, {"order_id": "not-a-uuid"}, "validation_error", "order_id"),
        (quote_id, {"order_id": str(uuid7()), "lines": []}, "unknown_field", "lines"),
    ]
    for target, params, code, field in cases:
        base = 2 if target == sent_id else 3
        [result] = await phone.push(phone.mutation("quote", target, "quote.convert", params, base))
        assert result["status"] == "rejected", (params, result)
        assert result["error"].get("field") == field, (params, result)
        if code is not None:
            assert result["error"]["code"] == code, (params, result)
    assert await order_rows(db, quote_id) == [] and await order_rows(db, sent_id) == []


async def test_another_rep_cannot_convert_a_quote_they_never_held(client, db) -> None:
    rep, other = await make_user(db, "rep"), await make_user(db, "rep")
    phone, intruder = await device_for(client, db, rep), await device_for(client, db, other)
    quote_id, _ = await accepted_quote(db, phone, rep)
    [result] = await intruder.push(
        intruder.mutation("quote", quote_id, "quote.convert", {"order_id": str(uuid7())}, 3)
    )
    assert (result["status"], result["error"]["code"]) == ("rejected", "not_held")
    assert await order_rows(db, quote_id) == []


async def test_a_converted_order_for_a_customer_over_credit_is_held(client, db) -> None:
    rep = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    account_id = await insert_account(db, owner_id=rep.id, credit_limit=Decimal("1"))
    quote_id, _ = await accepted_quote(db, phone, rep, account_id=account_id)
    order_id = uuid7()
    await phone.push(
        phone.mutation("quote", quote_id, "quote.convert", {"order_id": str(order_id)}, 3)
    )
    snapshot, _ = await phone.snapshot()
    order = snapshot[("order", str(order_id))]
    assert (order["status"], order["hold_reason"]) == ("on_hold", "credit_limit")


async def test_a_converted_order_reserves_stock_or_waits_for_it_and_is_audited(
    client, db, settings
) -> None:
    """The new order is decided like a submitted one: confirmed with its stock reserved in the
    warehouse, or held ``insufficient_stock`` when the warehouse is short; both are audited."""
    from tests.integration.sfa.order_desk_tools import make_desk

    desk = await make_desk(client, db, settings, stock="5")
    account_id = await desk.account()
    outcomes = []
    for _ in range(2):
        line = {"id": str(uuid7()), "product_id": str(desk.product), "quantity": "3"}
        quote_id, _ = await accepted_quote(
            db, desk.phone, desk.rep, account_id=account_id, lines=[line]
        )
        order_id = uuid7()
        params = {"order_id": str(order_id), "warehouse_id": str(desk.warehouse)}
        [result] = await desk.phone.push(
            desk.phone.mutation("quote", quote_id, "quote.convert", params, 3)
        )
        assert result["status"] == "applied", result
        snapshot, _ = await desk.phone.snapshot()
        order = snapshot[("order", str(order_id))]
        trail = await client.get(f"/orders/{order_id}/transitions", headers=desk.headers)
        steps = [(t["action"], t["from_status"], t["to_status"]) for t in trail.json()["items"]]
        outcomes.append((order["status"], order["hold_reasons"], steps))
    assert outcomes == [
        ("confirmed", [], [("convert", "draft", "confirmed")]),
        ("on_hold", ["insufficient_stock"], [("convert", "draft", "on_hold")]),
    ]
    assert await desk.figures() == (Decimal(5), Decimal(3))  # only the confirmed one holds
