"""Reservations (the order desk's API): reserve, release, consume; never oversell under races."""

from __future__ import annotations

import asyncio
import decimal
import uuid

import pytest
import sqlalchemy as sa

from protocol.ids import uuid7
from server.app import build_registry
from server.db import Database
from server.sfa.stock.entries import InsufficientStock, StockLine, StockReference
from server.sfa.stock.ledger import StockLedger
from server.sfa.stock.models import ReferenceKind
from server.sfa.stock.movement_service import MovementService
from server.sfa.stock.repository import StockRepository
from server.sfa.stock.schemas import BalanceSet, MovementCreate
from server.sync.writer import ChangeWriter
from tests.integration.sfa.core_builders import count, make_product, make_warehouse

D = decimal.Decimal
writer = ChangeWriter(build_registry())
ledger = StockLedger(writer)


def order() -> StockReference:
    return StockReference(ReferenceKind.ORDER, uuid.uuid4())


async def stock(db: Database, settings, warehouse, product, on_hand) -> None:
    await MovementService(db, writer, None, settings).set_balance(
        warehouse, product, BalanceSet(on_hand=D(on_hand))
    )


async def figures(db: Database, warehouse, product) -> tuple[D, D]:
    """(on hand, reserved) of a balance."""
    async with db.sessions() as session:
        row = await StockRepository(session).get_balance(warehouse, product)
    assert row is not None
    return row.on_hand, row.reserved


async def test_reserve_release_consume(db, settings) -> None:
    warehouse, tea, rice = await make_warehouse(db), await make_product(db), await make_product(db)
    await stock(db, settings, warehouse, tea, 5)
    await stock(db, settings, warehouse, rice, 1)
    first, second = order(), order()
    async with db.transaction() as session:
        held = await ledger.reserve(
            session, warehouse, [StockLine(tea, D(2)), StockLine(tea, D(1))], first
        )
    assert held.complete and held.reserved == (StockLine(tea, D(3)),)  # lines summed per product
    assert await figures(db, warehouse, tea) == (D(5), D(3))

    async with db.transaction() as session:  # all or nothing: rice is short, tea is not held
        refused = await ledger.reserve(
            session, warehouse, [StockLine(tea, D(2)), StockLine(rice, D(2))], second
        )
    assert not refused.complete and refused.reserved == ()
    [short] = refused.short
    assert (short.product_id, short.requested, short.available) == (rice, D(2), D(1))
    assert await figures(db, warehouse, tea) == (D(5), D(3))
    async with db.transaction() as session:
        partial = await ledger.reserve(
            session,
            warehouse,
            [StockLine(tea, D(2)), StockLine(rice, D(2))],
            second,
            partial=True,
        )
    assert partial.reserved == (StockLine(tea, D(2)),) and len(partial.short) == 1
    assert await figures(db, warehouse, tea) == (D(5), D(5))

    async with db.transaction() as session:
        released = await ledger.release(session, second)
    assert [(r.product_id, r.quantity) for r in released] == [(tea, D(2))]
    async with db.transaction() as session:
        assert await ledger.release(session, second) == []  # released once only
    assert await figures(db, warehouse, tea) == (D(5), D(3))

    async with db.transaction() as session:
        [outbound] = await ledger.consume(session, first, note="delivered")
    assert outbound["kind"] == "outbound" and outbound["quantity"] == D("-3.0000")
    assert (outbound["reference_kind"], outbound["reference_id"]) == ("order", first.id)
    assert await figures(db, warehouse, tea) == (D(2), D(0))
    async with db.transaction() as session:
        assert await ledger.consume(session, first) == []  # consumed once only
    assert await count(db, "stock_movements") == 3  # two set-balance adjustments, one outbound


async def test_reserve_refuses_bad_lines_and_holds_nothing(db, settings) -> None:
    warehouse, tea = await make_warehouse(db), await make_product(db)
    await stock(db, settings, warehouse, tea, 5)
    for line, field in (
        (StockLine(tea, D(0)), "lines.0.quantity"),
        (StockLine(tea, D(-1)), "lines.0.quantity"),
        (StockLine(uuid.uuid4(), D(1)), "product_id"),
    ):
        with pytest.raises(Exception) as refused:
            async with db.transaction() as session:
                await ledger.reserve(session, warehouse, [line], order())
        assert getattr(refused.value, "field", None) == field
    with pytest.raises(Exception) as unknown:
        async with db.transaction() as session:
            await ledger.reserve(session, uuid.uuid4(), [StockLine(tea, D(1))], order())
    assert getattr(unknown.value, "field", None) == "warehouse_id"
    assert await figures(db, warehouse, tea) == (D(5), D(0))
    assert await count(db, "stock_reservations") == 0


async def test_backorder_warehouse_reserves_beyond_stock_and_consumes_below_zero(
    db, settings
) -> None:
    warehouse, tea = await make_warehouse(db, allow_backorder=True), await make_product(db)
    reference = order()
    async with db.transaction() as session:  # no balance row yet: created at zero
        held = await ledger.reserve(session, warehouse, [StockLine(tea, D(4))], reference)
    assert held.complete
    assert await figures(db, warehouse, tea) == (D(0), D(4))
    async with db.transaction() as session:
        await ledger.consume(session, reference)
    assert await figures(db, warehouse, tea) == (D(-4), D(0))


async def test_consume_refuses_stock_that_is_gone_and_writes_nothing(db, settings) -> None:
    warehouse, tea = await make_warehouse(db), await make_product(db)
    await stock(db, settings, warehouse, tea, 3)
    reference = order()
    async with db.transaction() as session:
        assert (
            await ledger.reserve(session, warehouse, [StockLine(tea, D(3))], reference)
        ).complete
    await stock(db, settings, warehouse, tea, 1)  # a stocktake found two missing
    with pytest.raises(InsufficientStock):
        async with db.transaction() as session:
            await ledger.consume(session, reference)
    assert await figures(db, warehouse, tea) == (D(1), D(3))
    assert await count(db, "stock_movements") == 2


async def _race(db: Database, backend: str, warehouse, product, wants: list[D]) -> list[bool]:
    """Each want reserved by its own task in its own transaction (and connection)."""
    # On PostgreSQL every transaction has taken its snapshot before any reserves; on SQLite
    # writers queue at BEGIN IMMEDIATE, so a barrier there would wait forever.
    barrier = asyncio.Barrier(len(wants)) if backend == "postgresql" else None

    async def one(quantity: D) -> bool:
        async with db.transaction() as session:
            await session.execute(sa.text("SELECT 1"))
            if barrier is not None:
                await barrier.wait()
            result = await ledger.reserve(
                session, warehouse, [StockLine(product, quantity)], order()
            )
            return result.complete

    return list(await asyncio.gather(*(one(q) for q in wants)))


async def test_concurrent_reservations_of_the_last_units_never_oversell(
    backend, db, settings
) -> None:
    warehouse, tea = await make_warehouse(db), await make_product(db)
    await stock(db, settings, warehouse, tea, 5)
    outcomes = await _race(db, backend, warehouse, tea, [D(1)] * 8)
    assert outcomes.count(True) == 5 and outcomes.count(False) == 3
    assert await figures(db, warehouse, tea) == (D(5), D(5))
    assert await count(db, "stock_reservations") == 5


async def test_concurrent_reservations_of_uneven_quantities_reserve_what_fits(
    backend, db, settings
) -> None:
    warehouse, tea = await make_warehouse(db), await make_product(db)
    await stock(db, settings, warehouse, tea, 7)
    outcomes = await _race(db, backend, warehouse, tea, [D(3)] * 6)
    assert outcomes.count(True) == 2  # 6 of 7 reserved; one unit left, the rest short
    on_hand, reserved = await figures(db, warehouse, tea)
    assert (on_hand, reserved) == (D(7), D(6))
    async with db.sessions() as session:
        held = await session.scalars(sa.text("SELECT quantity FROM stock_reservations"))
        assert sum(D(str(q)) for q in held) == reserved


async def test_concurrent_repeats_of_one_movement_post_it_once(
    backend, db, settings, monkeypatch
) -> None:
    warehouse, tea = await make_warehouse(db), await make_product(db)
    service = MovementService(db, writer, None, settings)
    if backend == "postgresql":  # both look for the id before either posts it
        barrier = asyncio.Barrier(2)
        looked = StockRepository.movements_of

        calls = []

        async def movements_of(self, movement_id):
            found = await looked(self, movement_id)
            calls.append(movement_id)
            if len(calls) <= 2:  # the two first looks; the loser's replay reads freely
                await barrier.wait()
            return found

        monkeypatch.setattr(StockRepository, "movements_of", movements_of)
    body = MovementCreate(
        id=uuid7(), kind="inbound", warehouse_id=warehouse, product_id=tea, quantity=D(4)
    )
    first, second = await asyncio.gather(service.post_movement(body), service.post_movement(body))
    assert first.movements == second.movements
    assert await figures(db, warehouse, tea) == (D(4), D(0))
    assert await count(db, "stock_movements") == 1


async def test_opposite_concurrent_transfers_neither_deadlock_nor_lose_stock(db, settings) -> None:
    north, south, tea = await make_warehouse(db), await make_warehouse(db), await make_product(db)
    service = MovementService(db, writer, None, settings)
    await stock(db, settings, north, tea, 10)
    await stock(db, settings, south, tea, 10)

    def transfer(source, target) -> MovementCreate:
        return MovementCreate(
            kind="transfer",
            warehouse_id=source,
            product_id=tea,
            quantity=D(1),
            to_warehouse_id=target,
        )

    await asyncio.gather(
        *(service.post_movement(transfer(north, south)) for _ in range(5)),
        *(service.post_movement(transfer(south, north)) for _ in range(3)),
    )
    assert await figures(db, north, tea) == (D(8), D(0))
    assert await figures(db, south, tea) == (D(12), D(0))
