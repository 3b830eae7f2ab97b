"""A push's order submissions decided together (server/sfa/orders/push_batch.py): each one sees
what the earlier ones of the same push reserved and committed, a rejected mutation takes back
only its own, a flush in the middle of the push hands the rest to the one-by-one path, and
concurrent pushes of many orders never oversell."""

from __future__ import annotations

import asyncio
import decimal
import uuid
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from protocol.sync import SCHEMA_VERSION, PushRequest
from server.sfa.catalog.models import Product
from server.sfa.orders.decision import OrderActor, transition_of
from server.sfa.orders.push_batch import OrderPushBatch, Submission
from server.sfa.orders.repository import OrderRepository
from server.sync.engine import SyncEngine
from server.sync.registry import Principal
from tests.builders import make_user
from tests.integration.sfa.core_builders import count, make_warehouse
from tests.integration.sfa.order_desk_tools import figures, set_stock
from tests.pricing_tools import priced_product
from tests.synctools import Device, device_for, insert_account, registry, writer

D = decimal.Decimal


def _draft(
    device: Device, account: uuid.UUID, warehouse: uuid.UUID, lines: list[tuple[uuid.UUID, str]]
) -> list[dict[str, Any]]:
    """An order create and its submit, as two mutations."""
    order_id = uuid7()
    record = {
        "account_id": str(account),
        "warehouse_id": str(warehouse),
        "lines": [
            {"id": str(uuid7()), "product_id": str(product), "quantity": quantity}
            for product, quantity in lines
        ],
    }
    return [
        device.mutation("order", order_id, "upsert", record),
        device.mutation("order", order_id, "order.submit", {}),
    ]


async def _shop(client: Any, db: Any, settings: Any, on_hand: str) -> SimpleNamespace:
    rep = await make_user(db, "rep")
    product = await priced_product(db, "10.00")
    warehouse = await make_warehouse(db)
    await set_stock(db, settings, warehouse, product, on_hand)
    phone = await device_for(client, db, rep)
    return SimpleNamespace(rep=rep, product=product, warehouse=warehouse, phone=phone)


def _count_one_by_one(monkeypatch: Any) -> list[str]:
    """Record the submissions decided one by one (``OrderActor.decide``), not by the batch."""
    decided: list[str] = []
    decide = OrderActor.decide

    async def counted(self: OrderActor, record: dict[str, Any], **kwargs: Any) -> Any:
        decided.append(str(record["id"]))
        return await decide(self, record, **kwargs)

    monkeypatch.setattr(OrderActor, "decide", counted)
    return decided


async def test_later_submissions_of_a_push_see_the_stock_the_earlier_ones_reserved(
    client, db, settings, monkeypatch
) -> None:
    shop = await _shop(client, db, settings, "5")
    one_by_one = _count_one_by_one(monkeypatch)
    mutations = []
    for _ in range(3):
        account = await insert_account(db, owner_id=shop.rep.id, credit_limit=D("1000"))
        mutations += _draft(shop.phone, account, shop.warehouse, [(shop.product, "2")])
    results = await shop.phone.push(*mutations)
    assert [r["status"] for r in results] == ["applied"] * 6
    submitted = [r["record"] for r in results[1::2]]
    assert [o["status"] for o in submitted] == ["confirmed", "confirmed", "on_hold"]
    assert submitted[2]["hold_reasons"] == ["insufficient_stock"]
    assert await figures(db, shop.warehouse, shop.product) == (D(5), D(4))
    assert await count(db, "stock_reservations") == 2
    assert await count(db, "order_transitions") == 3
    assert one_by_one == []  # all three were decided by the push's batch


async def test_later_submissions_of_a_push_count_the_earlier_ones_against_credit(
    client, db, settings
) -> None:
    shop = await _shop(client, db, settings, "100")
    account = await insert_account(db, owner_id=shop.rep.id, credit_limit=D("150"))
    first = _draft(shop.phone, account, shop.warehouse, [(shop.product, "10")])
    second = _draft(shop.phone, account, shop.warehouse, [(shop.product, "10")])
    results = await shop.phone.push(*first, *second)
    assert [r["status"] for r in results] == ["applied"] * 4
    assert results[1]["record"]["status"] == "confirmed"
    assert results[3]["record"]["status"] == "on_hold"
    assert results[3]["record"]["hold_reasons"] == ["credit_limit"]
    # the held order holds no stock: only the first one's 10 units are reserved
    assert await figures(db, shop.warehouse, shop.product) == (D(100), D(10))


async def test_a_rejected_submission_of_the_push_takes_nothing_from_the_others(
    client, db, settings
) -> None:
    shop = await _shop(client, db, settings, "5")
    retired = await priced_product(db, "10.00")
    accounts = [await insert_account(db, owner_id=shop.rep.id) for _ in range(3)]
    bad = _draft(shop.phone, accounts[1], shop.warehouse, [(shop.product, "2"), (retired, "1")])
    assert (await shop.phone.push(bad[0]))[0]["status"] == "applied"
    async with db.transaction() as session:  # the product is withdrawn before the submit
        await session.execute(
            sa.update(Product.__table__).where(Product.id == retired).values(active=False)
        )
    good = _draft(shop.phone, accounts[0], shop.warehouse, [(shop.product, "2")])
    last = _draft(shop.phone, accounts[2], shop.warehouse, [(shop.product, "3")])
    # the refused submit sits between two that are queued: it takes back only its own entries
    mutations = [*good, bad[1], *last]
    for mid, mutation in enumerate(mutations, start=2):
        mutation["mid"] = mid
    results = await shop.phone.push(*mutations)
    assert [r["status"] for r in results] == [
        "applied",
        "applied",
        "rejected",
        "applied",
        "applied",
    ]
    assert results[2]["error"]["code"] == "inactive_product"
    assert results[2]["record"]["status"] == "draft"
    assert [results[1]["record"]["status"], results[4]["record"]["status"]] == ["confirmed"] * 2
    assert await figures(db, shop.warehouse, shop.product) == (D(5), D(5))
    assert await count(db, "stock_reservations") == 2
    assert await count(db, "order_transitions") == 2


async def test_a_cancel_in_the_middle_of_the_push_gives_its_stock_to_a_later_submission(
    client, db, settings, monkeypatch
) -> None:
    shop = await _shop(client, db, settings, "5")
    one_by_one = _count_one_by_one(monkeypatch)
    first = await insert_account(db, owner_id=shop.rep.id)
    later = await insert_account(db, owner_id=shop.rep.id)
    taken = _draft(shop.phone, first, shop.warehouse, [(shop.product, "5")])
    cancel = shop.phone.mutation("order", taken[0]["id"], "order.cancel", {})
    wanting = _draft(shop.phone, later, shop.warehouse, [(shop.product, "5")])
    results = await shop.phone.push(*taken, cancel, *wanting)
    assert [r["status"] for r in results] == ["applied"] * 5
    assert results[2]["record"]["status"] == "cancelled"
    assert results[4]["record"]["status"] == "confirmed"
    assert await figures(db, shop.warehouse, shop.product) == (D(5), D(5))
    assert await count(db, "order_transitions") == 3
    # the cancel flushed the batch: the submission after it read the stock it left
    assert one_by_one == [wanting[0]["id"]]


async def test_concurrent_pushes_of_many_orders_never_oversell(
    backend, client, db, settings, monkeypatch
) -> None:
    product = await priced_product(db, "1.00")
    warehouse = await make_warehouse(db)
    await set_stock(db, settings, warehouse, product, "7")
    pushes = []
    for _ in range(3):
        rep = await make_user(db, "rep")
        phone = await device_for(client, db, rep)
        mutations = []
        for _ in range(3):
            account = await insert_account(db, owner_id=rep.id, credit_limit=D("1000"))
            mutations += _draft(phone, account, warehouse, [(product, "1")])
        pushes.append((rep, phone, mutations))
    if backend == "postgresql":
        # every push has locked its orders before any of them locks customers and balances
        barrier = asyncio.Barrier(len(pushes))
        lock = OrderRepository.lock_standings

        async def lock_together(self: OrderRepository, *args: Any) -> Any:
            await barrier.wait()
            return await lock(self, *args)

        monkeypatch.setattr(OrderRepository, "lock_standings", lock_together)
    # the engine's push service, called from this loop: the pushes really run at once
    engine = SyncEngine(db, settings, registry(), writer())

    async def push(rep: Any, phone: Device, mutations: list[dict[str, Any]]) -> list[Any]:
        request = msgspec.convert(
            {
                "device_id": str(phone.device_id),
                "schema_version": SCHEMA_VERSION,
                "mutations": mutations,
            },
            PushRequest,
        )
        response = await engine.push.push(Principal(rep.id, "rep", phone.device_id), request)
        return [msgspec.to_builtins(r) for r in response.results]

    answers = await asyncio.gather(*(push(*p) for p in pushes))
    statuses = [r["record"]["status"] for results in answers for r in results[1::2]]
    assert statuses.count("confirmed") == 7
    assert statuses.count("on_hold") == 2
    assert await figures(db, warehouse, product) == (D(7), D(7))


def test_rolling_back_the_queue_gives_back_stock_and_credit() -> None:
    account, warehouse, product = uuid7(), uuid7(), uuid7()
    pair = (warehouse, product)
    balance = SimpleNamespace(id=uuid7(), on_hand=D(10), reserved=D(1))
    batch = OrderPushBatch(
        principal=Principal(uuid7(), "rep"),
        standing={account: SimpleNamespace(arrears=D(0), credit_limit=D(100))},
        open_orders={account: {uuid7(): D(30)}},
        balances={pair: balance},
        warehouses={},
        session=None,  # type: ignore[arg-type]
    )
    mark = batch.mark()
    order_id = uuid7()
    changes = {"status": "confirmed"}
    transition = transition_of(
        order_id, "submit", "draft", changes, "", principal=None, device_id=None
    )
    batch.queue_submission(
        None,  # type: ignore[arg-type]
        Submission(order_id, account, "confirmed", D(20), {pair: D(4)}, transition),
    )
    assert batch.available(pair) == D(5)
    assert batch.open_total(account, excluding=uuid7()) == D(50)
    assert batch.open_total(account, excluding=order_id) == D(30)
    batch.rollback(mark)
    assert batch.available(pair) == D(9)
    assert batch.open_total(account, excluding=uuid7()) == D(30)
    assert batch.queue == []


@pytest.mark.parametrize("op", ["order.cancel", "upsert"])
def test_only_a_draft_submission_is_queued(op: str) -> None:
    batch = OrderPushBatch(
        principal=Principal(uuid7(), "rep"),
        standing={},
        open_orders={},
        balances={},
        warehouses={},
        session=None,  # type: ignore[arg-type]
    )
    mutation = SimpleNamespace(op=op, id=uuid7())
    assert not batch.queues(mutation, {"status": "draft", "lines": [{}]})  # type: ignore[arg-type]
