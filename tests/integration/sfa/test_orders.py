"""Orders: server totals, frozen content after draft, and the submit decision at push time."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from server.errors import DomainError, ValidationFailed
from server.sfa.stock.models import StockBalance, Warehouse
from server.sync.registry import Policy
from tests.builders import make_user
from tests.pricing_tools import priced_product, without_entry
from tests.synctools import act_as, create_as, insert_account, registry, update_as, writer

D = Decimal


def order_line(product_id: uuid.UUID, quantity: str, unit_price: str, tax_rate: str = "0.13"):
    return {
        "id": str(uuid7()),
        "product_id": str(product_id),
        "quantity": quantity,
        "unit_price": unit_price,
        "discount_pct": "0",
        "tax_rate": tax_rate,
    }


async def insert_product(db, price: str = "1", tax_rate: str = "0.13") -> uuid.UUID:
    """A product the server prices at ``price`` (a standard list of its own)."""
    return await priced_product(db, price, tax_rate)


async def insert_warehouse(db, stock: dict[uuid.UUID, tuple[str, str]]) -> uuid.UUID:
    """A warehouse with balances {product: (on_hand, reserved)}."""
    warehouse_id = uuid7()
    async with db.transaction() as session:
        await session.execute(
            sa.insert(Warehouse.__table__).values(
                id=warehouse_id, code=warehouse_id.hex[-8:], name="Main"
            )
        )
        for product_id, (on_hand, reserved) in stock.items():
            await session.execute(
                sa.insert(StockBalance.__table__).values(
                    id=uuid7(),
                    warehouse_id=warehouse_id,
                    product_id=product_id,
                    on_hand=D(on_hand),
                    reserved=D(reserved),
                )
            )
    return warehouse_id


async def draft_order(db, rep, account_id, lines, **extra):
    return await create_as(
        db, rep, "order", {"account_id": str(account_id), "lines": lines, **extra}
    )


async def load(db, entity: str, record_id: str):
    async with db.transaction() as session:
        return await writer().load(session, entity, uuid.UUID(record_id))


# --- through the entity spec -------------------------------------------------------------


async def test_the_server_computes_totals_on_create_and_on_every_edit(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    product_id = await insert_product(db, "0.335")
    order = await draft_order(db, rep, account_id, [order_line(product_id, "3", "0.335")])
    assert (order["subtotal"], order["tax_total"], order["total"]) == ("1.01", "0.13", "1.14")
    assert order["status"] == "draft" and order["owner_id"] == str(rep.id)
    other = await insert_product(db, "10.00", tax_rate="0")
    lines = order["lines"] + [order_line(other, "1", "10.00", tax_rate="0")]
    edited = await update_as(db, rep, "order", order["id"], {"lines": lines})
    assert (edited["subtotal"], edited["tax_total"], edited["total"]) == ("11.01", "0.13", "11.14")
    assert without_entry(edited["lines"]) == without_entry(lines)


async def test_submit_confirms_an_order_within_credit(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id, credit_limit=D("1000"))
    product_id = await insert_product(db, "100")
    order = await draft_order(db, rep, account_id, [order_line(product_id, "2", "100")])
    done = await act_as(db, rep, "order", order["id"], "submit", {})
    assert done["status"] == "confirmed"
    assert done["hold_reason"] is None and done["reject_reason"] is None
    assert done["submitted_at"] is not None
    assert done["total"] == "226.00"


async def test_submit_over_the_credit_limit_puts_the_order_on_hold(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id, credit_limit=D("500"))
    product_id = await insert_product(db, "100", "0")
    first = await draft_order(db, rep, account_id, [order_line(product_id, "3", "100", "0")])
    assert (await act_as(db, rep, "order", first["id"], "submit", {}))["status"] == "confirmed"
    # 300 open + 201 > 500
    product_id = await insert_product(db, "201", "0")
    second = await draft_order(db, rep, account_id, [order_line(product_id, "1", "201", "0")])
    held = await act_as(db, rep, "order", second["id"], "submit", {})
    assert (held["status"], held["hold_reason"]) == ("on_hold", "credit_limit")
    assert held["hold_reasons"] == ["credit_limit"]
    # once the first is cancelled its exposure is gone
    await act_as(db, rep, "order", first["id"], "cancel", {})
    third = await draft_order(db, rep, account_id, [order_line(product_id, "1", "201", "0")])
    assert (await act_as(db, rep, "order", third["id"], "submit", {}))["status"] == "confirmed"


async def test_submit_for_an_account_in_arrears_is_held(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id, arrears=D("0.01"))
    product_id = await insert_product(db)
    order = await draft_order(db, rep, account_id, [order_line(product_id, "1", "1")])
    held = await act_as(db, rep, "order", order["id"], "submit", {})
    assert (held["status"], held["hold_reason"]) == ("on_hold", "arrears")


async def test_submit_for_a_blacklisted_account_is_rejected_but_applied(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id, blacklisted=True)
    product_id = await insert_product(db)
    order = await draft_order(db, rep, account_id, [order_line(product_id, "1", "1")])
    done = await act_as(db, rep, "order", order["id"], "submit", {})
    assert (done["status"], done["reject_reason"], done["hold_reason"]) == (
        "rejected",
        "blacklisted",
        None,
    )
    assert done["version"] == 2  # the action was applied; the status tells the outcome
    with pytest.raises(DomainError) as caught:
        await act_as(db, rep, "order", order["id"], "cancel", {})
    assert caught.value.code == "invalid_state"


async def test_submit_reserves_what_it_confirms_and_holds_what_is_short(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id, credit_limit=D("100000"))
    stocked, unstocked = await insert_product(db), await insert_product(db)
    warehouse = await insert_warehouse(db, {stocked: ("10", "4")})  # 6 available
    empty_warehouse = await insert_warehouse(db, {})

    async def submit(lines, warehouse_id):
        order = await draft_order(db, rep, account_id, lines, warehouse_id=str(warehouse_id))
        return await act_as(db, rep, "order", order["id"], "submit", {})

    ok = await submit([order_line(stocked, "4", "1"), order_line(stocked, "2", "1")], warehouse)
    assert ok["status"] == "confirmed"
    short = await submit([order_line(stocked, "4", "1"), order_line(stocked, "3", "1")], warehouse)
    assert (short["status"], short["hold_reason"]) == ("on_hold", "insufficient_stock")
    missing = await submit([order_line(unstocked, "1", "1")], warehouse)
    assert missing["hold_reason"] == "insufficient_stock"
    # a warehouse that holds no balance of a product has none of it to sell
    empty = await submit([order_line(unstocked, "1", "1")], empty_warehouse)
    assert empty["hold_reasons"] == ["insufficient_stock"]
    async with db.sessions() as session:
        reserved = await session.scalar(
            sa.select(StockBalance.reserved).where(
                StockBalance.warehouse_id == warehouse, StockBalance.product_id == stocked
            )
        )
    assert reserved == D("10")  # the confirmed order holds its 6, on top of the 4 before


async def test_submit_without_lines_and_from_a_wrong_state_is_refused(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    empty = await draft_order(db, rep, account_id, [])
    assert empty["total"] == "0.00"
    with pytest.raises(ValidationFailed) as caught:
        await act_as(db, rep, "order", empty["id"], "submit", {})
    assert caught.value.field == "lines"
    product_id = await insert_product(db)
    order = await draft_order(db, rep, account_id, [order_line(product_id, "1", "1")])
    await act_as(db, rep, "order", order["id"], "submit", {})
    before = await load(db, "order", order["id"])
    with pytest.raises(DomainError) as caught:
        await act_as(db, rep, "order", order["id"], "submit", {})
    assert caught.value.code == "invalid_state"
    assert await load(db, "order", order["id"]) == before
    with pytest.raises(ValidationFailed):
        await act_as(db, rep, "order", order["id"], "cancel", {"why": "unknown parameter"})


async def test_lines_are_frozen_once_submitted_but_notes_are_not(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    product_id = await insert_product(db)
    order = await draft_order(db, rep, account_id, [order_line(product_id, "1", "1")])
    await act_as(db, rep, "order", order["id"], "submit", {})
    with pytest.raises(DomainError) as caught:
        await update_as(
            db, rep, "order", order["id"], {"lines": [order_line(product_id, "9", "1")]}
        )
    assert (caught.value.code, caught.value.field) == ("invalid_state", "lines")
    noted = await update_as(db, rep, "order", order["id"], {"notes": "deliver Monday"})
    assert noted["notes"] == "deliver Monday"


@pytest.mark.parametrize(
    ("lines_override", "field"),
    [
        ({"quantity": "0"}, "lines[0].quantity"),
        ({"unit_price": "-1"}, "lines[0].unit_price"),  # a malformed figure is still refused
        ({"discount_pct": "150"}, "lines[0].discount_pct"),
    ],
)
async def test_bad_lines_are_refused_with_the_field(db, lines_override, field) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    product_id = await insert_product(db)
    with pytest.raises(ValidationFailed) as caught:
        await draft_order(
            db, rep, account_id, [{**order_line(product_id, "1", "1"), **lines_override}]
        )
    assert caught.value.field == field


async def test_references_must_exist(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    other_account = await insert_account(db, owner_id=rep.id)
    with pytest.raises(ValidationFailed) as caught:
        await draft_order(db, rep, account_id, [], warehouse_id=str(uuid7()))
    assert caught.value.field == "warehouse_id"
    quote = await create_as(db, rep, "quote", {"account_id": str(other_account)})
    with pytest.raises(ValidationFailed) as caught:
        await draft_order(db, rep, account_id, [], quote_id=quote["id"])
    assert caught.value.field == "quote_id"
    linked = await draft_order(db, rep, other_account, [], quote_id=quote["id"])
    assert linked["quote_id"] == quote["id"]


async def test_concurrent_submits_cannot_both_spend_the_same_credit(db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id, credit_limit=D("150"))
    product_id = await insert_product(db, "100", "0")
    orders = [
        await draft_order(db, rep, account_id, [order_line(product_id, "1", "100", "0")])
        for _ in range(2)
    ]
    results = await asyncio.gather(
        *(act_as(db, rep, "order", order["id"], "submit", {}) for order in orders)
    )
    assert sorted(r["status"] for r in results) == ["confirmed", "on_hold"]
    assert [r["hold_reason"] for r in results if r["status"] == "on_hold"] == ["credit_limit"]


def test_the_order_spec_declares_server_owned_fields_and_policies() -> None:
    spec = registry().entities["order"]
    owned = {"status", "hold_reason", "reject_reason", "subtotal", "tax_total", "total"}
    assert owned | {"submitted_at"} <= spec.server_fields
    assert "lines" not in spec.server_fields and "notes" not in spec.server_fields
    assert spec.policy("notes") is Policy.APPEND
    assert spec.policy("lines") is Policy.LWW  # one field, last writer wins as a whole
    assert spec.policy("status") is Policy.SERVER_WINS
    assert spec.parent == ("account", "account_id")


# --- through POST /sync/push -------------------------------------------------------------


async def test_orders_submitted_offline_get_the_servers_decision_in_the_push_result(
    client, db
) -> None:
    from tests.synctools import device_for

    rep = await make_user(db, "rep")
    good = await insert_account(db, owner_id=rep.id, credit_limit=D("1000"))
    small = await insert_account(db, owner_id=rep.id, credit_limit=D("50"))
    banned = await insert_account(db, owner_id=rep.id, blacklisted=True)
    product_id = await insert_product(db, "30", "0")
    phone = await device_for(client, db, rep)
    mutations, ids = [], {}
    for name, account_id in (("good", good), ("small", small), ("banned", banned)):
        ids[name] = uuid7()
        record = {
            "account_id": str(account_id),
            "owner_id": str(rep.id),
            "lines": [order_line(product_id, "2", "30", "0")],
        }
        mutations.append(phone.mutation("order", ids[name], "upsert", record))
        mutations.append(phone.mutation("order", ids[name], "order.submit", {}))
    results = await phone.push(*mutations)
    assert [r["status"] for r in results] == ["applied"] * 6  # an on-hold order is still applied
    outcomes = {
        name: (r["record"]["status"], r["record"]["hold_reason"], r["record"]["reject_reason"])
        for name, r in zip(ids, results[1::2], strict=True)
    }
    assert outcomes == {
        "good": ("confirmed", None, None),
        "small": ("on_hold", "credit_limit", None),
        "banned": ("rejected", None, "blacklisted"),
    }
    assert all(r["record"]["total"] == "60.00" for r in results[1::2])
    snapshot, _ = await phone.snapshot()
    assert snapshot[("order", str(ids["small"]))]["hold_reason"] == "credit_limit"
    again = await phone.push_one("order", ids["good"], "order.submit", {})
    assert (again["status"], again["error"]["code"]) == ("rejected", "invalid_state")
    assert again["record"]["status"] == "confirmed"  # the device can restore its copy


async def test_a_device_cannot_set_order_totals_or_status(client, db) -> None:
    from tests.synctools import device_for

    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    phone = await device_for(client, db, rep)
    for field, value in (("total", "0.01"), ("status", "confirmed"), ("hold_reason", None)):
        result = await phone.push_one(
            "order",
            uuid7(),
            "upsert",
            {"account_id": str(account_id), "owner_id": str(rep.id), field: value},
        )
        assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
            "rejected",
            "server_owned_field",
            field,
        )
    snapshot, _ = await phone.snapshot()
    assert not [key for key in snapshot if key[0] == "order"]  # nothing half written
