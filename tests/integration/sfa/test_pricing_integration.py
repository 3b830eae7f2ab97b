"""Server-authoritative pricing of quotes and orders through POST /sync/push (issue 15).

The server prices every line of a draft from the account's price lists; the device's own
unit price and tax rate never stand. A device whose figures differ still has its mutation
applied, with the server's figures, and the result says so per line (``repriced``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from server.sfa.accounts.models import Segment
from server.sfa.catalog.models import PriceListEntry
from tests.builders import make_user
from tests.pricing_tools import insert_entry, insert_price_list, priced_product
from tests.synctools import device_for, insert_account

D = Decimal


def line(product_id: Any, quantity: str = "1", **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid7()), "product_id": str(product_id), "quantity": quantity, **extra}


def document(account_id: Any, rep: Any, lines: list[dict[str, Any]], **extra: Any) -> dict:
    return {"account_id": str(account_id), "owner_id": str(rep.id), "lines": lines, **extra}


async def test_an_order_line_at_a_cent_against_a_list_price_of_86_is_repriced(client, db) -> None:
    """The issue's defect: whatever unit price the device sent was confirmed."""
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    product_id = await priced_product(db, "86.00", "0.13")
    phone = await device_for(client, db, rep)
    order_id = uuid7()
    sent = line(product_id, "2", unit_price="0.01", tax_rate="0")
    mutations = (
        phone.mutation("order", order_id, "upsert", document(account_id, rep, [sent])),
        phone.mutation("order", order_id, "order.submit", {}),
    )
    created, submitted = await phone.push(*mutations)
    assert created["status"] == "applied"  # applied, with the server's figures
    (repriced,) = created["repriced"]
    assert repriced["line_id"] == sent["id"] and repriced["field"] == "lines[0].unit_price"
    assert (D(repriced["device_unit_price"]), D(repriced["server_unit_price"])) == (
        D("0.01"),
        D("86"),
    )
    assert (repriced["list_kind"], repriced["reason"]) == ("standard", "price_changed")
    assert D(created["server_changes"]["lines"][0]["unit_price"]) == D("86")
    assert submitted["record"]["total"] == "194.36"  # 172.00 + 13 % tax 22.36
    snapshot, _ = await phone.snapshot()
    held = snapshot[("order", str(order_id))]
    assert D(held["lines"][0]["unit_price"]) == D("86") and held["total"] == "194.36"
    replayed, _ = await phone.push(*mutations)  # a retried push answers from its receipts
    assert replayed["repriced"] == created["repriced"]


async def test_a_stale_price_list_yields_the_documented_per_line_diff(client, db) -> None:
    """The device priced from the standard list; the account's own deal decides now."""
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    product_id = await priced_product(db, "10.00", "0.13")
    standard_entry = await db_scalar(
        db, sa.select(PriceListEntry.id).where(PriceListEntry.product_id == product_id)
    )
    deal = await insert_price_list(db, currency="CNY", account_id=account_id)
    deal_entry = await insert_entry(db, deal, product_id, "8.00")
    other = await priced_product(db, "5.00", "0.13")  # priced the same on both sides
    phone = await device_for(client, db, rep)
    lines = [
        line(
            product_id, "3", unit_price="10.00", tax_rate="0.13", price_entry_id=str(standard_entry)
        ),
        line(other, "1", unit_price="5.00", tax_rate="0.13"),
    ]
    quote_id = uuid7()
    (created,) = await phone.push(
        phone.mutation("quote", quote_id, "upsert", document(account_id, rep, lines))
    )
    assert created["status"] == "applied"
    assert created["repriced"] == [
        {
            "line_id": lines[0]["id"],
            "field": "lines[0].unit_price",
            "device_unit_price": "10.00",
            "server_unit_price": "8.0000",
            "device_tax_rate": "0.13",
            "server_tax_rate": "0.1300",
            "entry_id": str(deal_entry),
            "price_list_id": str(deal),
            "list_kind": "account",
            "reason": "price_list_changed",
        }
    ]
    snapshot, _ = await phone.snapshot()
    held = snapshot[("quote", str(quote_id))]
    assert held["lines"][0]["price_entry_id"] == str(deal_entry)
    assert (held["subtotal"], held["tax_total"], held["total"]) == ("29.00", "3.77", "32.77")


async def test_segment_then_standard_and_quantity_breaks_decide(client, db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id, segment=Segment.EDUCATION)
    product_id = await priced_product(db, "10.00")  # standard
    segment_list = await insert_price_list(db, currency="CNY", segment=Segment.EDUCATION)
    await insert_entry(db, segment_list, product_id, "9.50")
    await insert_entry(db, segment_list, product_id, "9.00", minimum="10")
    phone = await device_for(client, db, rep)
    (created,) = await phone.push(
        phone.mutation(
            "order",
            uuid7(),
            "upsert",
            document(account_id, rep, [line(product_id, "9"), line(product_id, "12")]),
        )
    )
    prices = [D(entry["unit_price"]) for entry in created["server_changes"]["lines"]]
    assert prices == [D("9.50"), D("9.00")]
    assert "repriced" not in created  # the device sent no figures of its own: just priced


async def test_the_order_discount_applies_after_each_line_discount(client, db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    product_id = await priced_product(db, "9.50", "0.13")
    phone = await device_for(client, db, rep)
    record = document(
        account_id, rep, [line(product_id, "12", discount_pct="5")], order_discount_pct="2"
    )
    (created,) = await phone.push(phone.mutation("order", uuid7(), "upsert", record))
    changes = created["server_changes"]
    # 114.00 x 0.95 x 0.98 = 106.134 -> 106.13; tax 13.7969 -> 13.80 (docs/pricing.md)
    assert (changes["subtotal"], changes["tax_total"], changes["total"]) == (
        "106.13",
        "13.80",
        "119.93",
    )


async def bad_input_cases(db: Any, account_id: Any) -> list[tuple[dict, str, str]]:
    priced = await priced_product(db, "4.00")
    inactive = await priced_product(db, "4.00", active=False)
    usd = await priced_product(db, "4.00", currency="USD")
    later = await priced_product(
        db, "4.00", valid_from=dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    )
    return [
        ({"lines": [line(uuid7())]}, "unknown_product", "lines[0].product_id"),
        ({"lines": [line(inactive)]}, "inactive_product", "lines[0].product_id"),
        ({"lines": [line(priced), line(later)]}, "no_price", "lines[1].product_id"),
        ({"lines": [line(usd)]}, "currency_mismatch", "currency"),
        ({"lines": [line(priced, "0")]}, "validation_error", "lines[0].quantity"),
        ({"lines": [line(priced, "-2")]}, "validation_error", "lines[0].quantity"),
        (
            {"lines": [line(priced, discount_pct="100.01")]},
            "validation_error",
            "lines[0].discount_pct",
        ),
        ({"lines": [line(priced, discount_pct="-1")]}, "validation_error", "lines[0].discount_pct"),
        (
            {"lines": [line(priced)], "order_discount_pct": "101"},
            "validation_error",
            "order_discount_pct",
        ),
    ]


@pytest.mark.parametrize("entity", ["order", "quote"])
async def test_bad_lines_are_rejected_with_code_and_field_and_nothing_written(
    client, db, entity
) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    phone = await device_for(client, db, rep)
    for extra, code, field in await bad_input_cases(db, account_id):
        record = {"account_id": str(account_id), "owner_id": str(rep.id), **extra}
        result = await phone.push_one(entity, uuid7(), "upsert", record)
        assert result["status"] == "rejected", (extra, result)
        assert (result["error"]["code"], result["error"]["field"]) == (code, field), extra
    snapshot, _ = await phone.snapshot()
    assert not [key for key in snapshot if key[0] == entity]  # nothing half written


async def test_an_edit_of_a_draft_is_refused_whole_when_a_line_cannot_be_priced(client, db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    product_id = await priced_product(db, "4.00")
    phone = await device_for(client, db, rep)
    order_id = uuid7()
    (created,) = await phone.push(
        phone.mutation("order", order_id, "upsert", document(account_id, rep, [line(product_id)]))
    )
    edit = {"lines": [line(product_id), line(uuid7())], "notes": "more"}
    (refused,) = await phone.push(phone.mutation("order", order_id, "upsert", edit, base_version=1))
    assert (refused["status"], refused["error"]["code"]) == ("rejected", "unknown_product")
    assert refused["record"]["version"] == 1 and len(refused["record"]["lines"]) == 1


async def db_scalar(db: Any, statement: Any) -> Any:
    async with db.transaction() as session:
        return await session.scalar(statement)


async def test_a_push_reads_the_price_lists_in_bulk_not_per_line(client, db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id, credit_limit=D("1000000"))
    products = [await priced_product(db, f"{n}.00") for n in range(1, 6)]
    phone = await device_for(client, db, rep)
    mutations = []
    for _ in range(10):
        order_id = uuid7()
        lines = [line(product, "2") for product in products]
        mutations.append(
            phone.mutation("order", order_id, "upsert", document(account_id, rep, lines))
        )
        mutations.append(phone.mutation("order", order_id, "order.submit", {}))
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = sa.engine.Engine  # every engine: the app has its own (tests/conftest.py)
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        results = await phone.push(*mutations)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert all(r["status"] == "applied" for r in results)
    assert all(r["record"]["total"] == "30.00" for r in results[1::2])
    entry_reads = [s for s in statements if "FROM price_list_entries" in s]
    product_reads = [s for s in statements if "FROM products" in s and "category_id" not in s]
    # the order statistics keeper reads the lines' categories, once per push as well
    category_reads = [s for s in statements if "FROM products" in s and "category_id" in s]
    assert (len(entry_reads), len(product_reads)) == (1, 1)  # 20 documents, 100 lines
    assert len(category_reads) == 1
