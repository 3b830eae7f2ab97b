"""The stock ledger: post movements and hold reservations inside the caller's transaction.

Balances are derived from the ledger and written in the same transaction as the movement or
reservation that changes them. Nothing here reads a balance and writes it back unprotected:
every balance row it changes is first locked (``SELECT ... FOR UPDATE`` on PostgreSQL; on
SQLite every writing transaction holds the database's write lock from ``BEGIN IMMEDIATE``),
so two concurrent reservations of the last units cannot both see them available.
"""

from __future__ import annotations

import decimal
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import new_id, utcnow
from server.errors import NotFound, ValidationFailed
from server.sfa.inputs import plain
from server.sfa.stock.entries import (
    ZERO,
    Entry,
    Held,
    InsufficientStock,
    Pair,
    ReserveResult,
    ShortLine,
    StockLine,
    StockReference,
    aggregate,
)
from server.sfa.stock.models import MovementKind, ReservationStatus
from server.sfa.stock.repository import StockRepository
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter


class StockLedger:
    """Movements, balances and reservations; every method runs in the caller's session."""

    def __init__(self, writer: ChangeWriter) -> None:
        self.writer = writer

    async def post(
        self,
        session: AsyncSession,
        entries: Sequence[Entry],
        *,
        principal: Principal | None,
        release: Mapping[Pair, decimal.Decimal] | None = None,
    ) -> list[dict[str, Any]]:
        """Append ``entries`` to the ledger and apply them to the (locked) balances.

        ``InsufficientStock`` when a decrease would take on hand below zero (below the reserved
        quantity for outbound and transfers) in a warehouse that allows no backorder; nothing
        is written then (the caller's transaction rolls back). Returns the ledger rows.
        """
        async with self.writer.batch(session):
            locked = await self.lock(
                session,
                [(e.warehouse_id, e.product_id) for e in entries],
                create=True,
                principal=principal,
            )
            return await self.apply(session, locked, entries, principal=principal, release=release)

    async def lock(
        self,
        session: AsyncSession,
        pairs: Iterable[Pair],
        *,
        create: bool,
        principal: Principal | None,
    ) -> dict[Pair, sa.Row[Any]]:
        """The balance rows of ``pairs``, locked until commit (created at zero if ``create``)."""
        repo = StockRepository(session)
        wanted = list(pairs)
        locked = await repo.lock_balances(wanted)
        missing = sorted(set(wanted) - set(locked))
        if not missing or not create:
            return locked
        for warehouse_id, product_id in missing:
            try:
                async with session.begin_nested():
                    await self.writer.create(
                        session,
                        "stock_balance",
                        {
                            "id": new_id(),
                            "warehouse_id": warehouse_id,
                            "product_id": product_id,
                            "on_hand": ZERO,
                            "reserved": ZERO,
                        },
                        principal=principal,
                    )
            except sa.exc.IntegrityError:
                pass  # a concurrent transaction created it first; it is locked below
        return await repo.lock_balances(wanted)

    async def apply(
        self,
        session: AsyncSession,
        locked: Mapping[Pair, sa.Row[Any]],
        entries: Sequence[Entry],
        *,
        principal: Principal | None,
        release: Mapping[Pair, decimal.Decimal] | None = None,
    ) -> list[dict[str, Any]]:
        """Post ``entries`` against balances already locked by ``lock``."""
        repo = StockRepository(session)
        backorder = await self._backorder(repo, {w for w, _ in locked})
        state = {pair: [row.on_hand, row.reserved] for pair, row in locked.items()}
        for pair, quantity in (release or {}).items():
            state[pair][1] = max(state[pair][1] - quantity, ZERO)
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for entry in entries:
            pair = (entry.warehouse_id, entry.product_id)
            on_hand, reserved = state[pair]
            after = on_hand + entry.quantity
            floor = ZERO if entry.may_take_reserved else reserved
            if entry.quantity < 0 and after < floor and not backorder[entry.warehouse_id]:
                raise InsufficientStock(
                    f"warehouse has {on_hand - reserved} available of product {entry.product_id}",
                    field="quantity",
                    data={
                        "warehouse_id": str(entry.warehouse_id),
                        "product_id": str(entry.product_id),
                        "on_hand": str(on_hand),
                        "reserved": str(reserved),
                    },
                )
            state[pair][0] = after
            rows.append(
                {
                    "id": entry.id or new_id(),
                    "kind": entry.kind.value,
                    "warehouse_id": entry.warehouse_id,
                    "product_id": entry.product_id,
                    "quantity": plain(entry.quantity),
                    "on_hand_after": plain(after),
                    "transfer_id": entry.transfer_id,
                    "counterpart_warehouse_id": entry.counterpart_warehouse_id,
                    "expected": entry.expected,
                    "counted": entry.counted,
                    "reference_kind": entry.reference.kind.value if entry.reference else None,
                    "reference_id": entry.reference.id if entry.reference else None,
                    "note": entry.note,
                    "created_by": principal.user_id if principal else None,
                    "created_at": now,
                }
            )
        await self._write_balances(session, locked, state, principal)
        await repo.insert_movements(rows)
        return rows

    async def reserve(
        self,
        session: AsyncSession,
        warehouse_id: uuid.UUID,
        lines: Iterable[StockLine],
        reference: StockReference,
        *,
        principal: Principal | None = None,
        partial: bool = False,
    ) -> ReserveResult:
        """Hold ``lines`` in a warehouse for ``reference``; the lines it cannot cover are short.

        All or nothing unless ``partial``: when any line is short nothing is held. A warehouse
        that allows backorders reserves every line. Call it once per document (release first
        to reserve again).
        """
        wanted = aggregate(lines)
        repo = StockRepository(session)
        warehouse = await _warehouse(session, repo, warehouse_id)
        if warehouse is None:
            raise NotFound(f"warehouse {warehouse_id} not found", field="warehouse_id")
        known = _seen(session)["products"]
        await self.check_products(repo, [p for p in wanted if p not in known], active_only=False)
        known.update(wanted)
        pairs = [(warehouse_id, product_id) for product_id in wanted]
        async with self.writer.batch(session):
            locked = await self.lock(
                session, pairs, create=warehouse.allow_backorder, principal=principal
            )
            held: list[StockLine] = []
            short: list[ShortLine] = []
            for product_id, quantity in wanted.items():
                row = locked.get((warehouse_id, product_id))
                available = row.on_hand - row.reserved if row is not None else ZERO
                if warehouse.allow_backorder or available >= quantity:
                    held.append(StockLine(product_id, quantity))
                else:
                    short.append(ShortLine(product_id, quantity, max(available, ZERO)))
            if short and not partial:
                return ReserveResult((), tuple(short))
            now = utcnow()
            await self.writer.update_many(
                session,
                "stock_balance",
                {
                    locked[(warehouse_id, line.product_id)].id: {
                        "reserved": plain(
                            locked[(warehouse_id, line.product_id)].reserved + line.quantity
                        )
                    }
                    for line in held
                },
                principal=principal,
            )
            await repo.insert_reservations(
                [
                    {
                        "id": new_id(),
                        "warehouse_id": warehouse_id,
                        "product_id": line.product_id,
                        "reference_kind": reference.kind.value,
                        "reference_id": reference.id,
                        "quantity": plain(line.quantity),
                        "status": ReservationStatus.ACTIVE.value,
                        "created_by": principal.user_id if principal else None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for line in held
                ]
            )
        return ReserveResult(tuple(held), tuple(short))

    async def release(
        self,
        session: AsyncSession,
        reference: StockReference,
        *,
        principal: Principal | None = None,
    ) -> list[Held]:
        """Give back everything still reserved for ``reference`` (a cancelled order)."""
        repo = StockRepository(session)
        held = await repo.lock_active_reservations(reference.kind.value, reference.id)
        if not held:
            return []
        totals = _totals(held)
        async with self.writer.batch(session):
            locked = await self.lock(session, totals, create=False, principal=principal)
            state = {
                pair: [row.on_hand, max(row.reserved - totals[pair], ZERO)]
                for pair, row in locked.items()
            }
            await self._write_balances(session, locked, state, principal)
            await repo.close_reservations(
                [r.id for r in held], ReservationStatus.RELEASED, utcnow()
            )
        return [Held(w, p, q) for (w, p), q in totals.items()]

    async def consume(
        self,
        session: AsyncSession,
        reference: StockReference,
        *,
        principal: Principal | None = None,
        note: str = "",
    ) -> list[dict[str, Any]]:
        """Fulfil ``reference``: its reservations become outbound movements referencing it."""
        repo = StockRepository(session)
        held = await repo.lock_active_reservations(reference.kind.value, reference.id)
        if not held:
            return []
        totals = _totals(held)
        entries = [
            Entry(
                MovementKind.OUTBOUND,
                w,
                p,
                -q,
                reference=reference,
                note=note,
                may_take_reserved=True,
            )
            for (w, p), q in totals.items()
        ]
        async with self.writer.batch(session):
            locked = await self.lock(session, totals, create=False, principal=principal)
            rows = await self.apply(session, locked, entries, principal=principal, release=totals)
            await repo.close_reservations(
                [r.id for r in held], ReservationStatus.CONSUMED, utcnow()
            )
        return rows

    async def check_products(
        self,
        repo: StockRepository,
        product_ids: Iterable[uuid.UUID],
        *,
        active_only: bool,
        field: str = "product_id",
    ) -> None:
        """``unknown_product`` (or ``inactive_product``) 422 naming ``field``."""
        ids = list(product_ids)
        found = await repo.products(ids)
        for product_id in ids:
            if product_id not in found:
                raise ValidationFailed(
                    f"product {product_id} does not exist", field=field, code="unknown_product"
                )
            if active_only and not found[product_id]:
                raise ValidationFailed(
                    f"product {product_id} is inactive", field=field, code="inactive_product"
                )

    async def _backorder(
        self, repo: StockRepository, warehouse_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, bool]:
        flags = {}
        for warehouse_id in warehouse_ids:
            row = await _warehouse(repo.session, repo, warehouse_id)
            flags[warehouse_id] = bool(row is not None and row.allow_backorder)
        return flags

    async def _write_balances(
        self,
        session: AsyncSession,
        locked: Mapping[Pair, sa.Row[Any]],
        state: Mapping[Pair, list[decimal.Decimal]],
        principal: Principal | None,
    ) -> None:
        # one bulk update per set of changed columns (on hand, reserved, or both)
        groups: dict[frozenset[str], dict[uuid.UUID, dict[str, Any]]] = {}
        for pair, (on_hand, reserved) in state.items():
            row = locked[pair]
            changes = {}
            if on_hand != row.on_hand:
                changes["on_hand"] = plain(on_hand)
            if reserved != row.reserved:
                changes["reserved"] = plain(reserved)
            if changes:
                groups.setdefault(frozenset(changes), {})[row.id] = changes
        for group in groups.values():
            await self.writer.update_many(session, "stock_balance", group, principal=principal)


_SEEN_KEY = "outpost.stock.seen"


def _seen(session: AsyncSession) -> dict[str, Any]:
    # what this transaction has read of warehouses and products (a push reserves for many
    # orders: each warehouse and product is read once; nothing here writes them)
    info: dict[str, Any] = session.info
    seen: dict[str, Any] = info.setdefault(_SEEN_KEY, {"warehouses": {}, "products": set()})
    return seen


async def _warehouse(
    session: AsyncSession, repo: StockRepository, warehouse_id: uuid.UUID
) -> sa.Row[Any] | None:
    cached: dict[uuid.UUID, sa.Row[Any]] = _seen(session)["warehouses"]
    if warehouse_id not in cached:
        row = await repo.get_warehouse(warehouse_id)
        if row is None:
            return None
        cached[warehouse_id] = row
    return cached[warehouse_id]


def _totals(held: Sequence[sa.Row[Any]]) -> dict[Pair, decimal.Decimal]:
    totals: dict[Pair, decimal.Decimal] = {}
    for row in held:
        pair = (row.warehouse_id, row.product_id)
        totals[pair] = totals.get(pair, ZERO) + row.quantity
    return totals
