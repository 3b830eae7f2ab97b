"""Queries of warehouses, balances, the movement ledger and reservations (SQLAlchemy Core)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.sfa.catalog.models import Product
from server.sfa.stock.models import (
    ReservationStatus,
    StockBalance,
    StockMovement,
    StockReservation,
    Stocktake,
    Warehouse,
)
from server.sync.bulk import insert_rows

warehouses = cast(sa.Table, Warehouse.__table__)
balances = cast(sa.Table, StockBalance.__table__)
movements = cast(sa.Table, StockMovement.__table__)
stocktakes = cast(sa.Table, Stocktake.__table__)
reservations = cast(sa.Table, StockReservation.__table__)
_products = cast(sa.Table, Product.__table__)
_users = cast(sa.Table, User.__table__)


@dataclass(frozen=True)
class MovementFilters:
    """What ``GET /stock/movements`` filters on (all optional)."""

    warehouse_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    kind: str | None = None
    reference_kind: str | None = None
    reference_id: uuid.UUID | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


class StockRepository:
    """Named queries over warehouses, balances, movements and reservations."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_warehouse(self, warehouse_id: uuid.UUID) -> sa.Row[Any] | None:
        """One warehouse row, or None."""
        statement = sa.select(warehouses).where(warehouses.c.id == warehouse_id)
        return (await self.session.execute(statement)).first()

    async def warehouse_id_by_code(self, code: str) -> uuid.UUID | None:
        """The warehouse holding ``code``, if any."""
        statement = sa.select(warehouses.c.id).where(warehouses.c.code == code)
        return (await self.session.execute(statement)).scalar_one_or_none()

    def warehouses_statement(
        self,
        active: bool | None,
        city: str | None,
        q: str | None,
        *,
        vans_of: uuid.UUID | None = None,
    ) -> sa.Select[Any]:
        """Warehouses matching the filters (with ``vans_of``: shared ones and that user's vans)."""
        statement = sa.select(warehouses)
        if vans_of is not None:
            statement = statement.where(
                sa.or_(warehouses.c.owner_id.is_(None), warehouses.c.owner_id == vans_of)
            )
        if active is not None:
            statement = statement.where(warehouses.c.active == active)
        if city:
            statement = statement.where(warehouses.c.city == city)
        if q:
            statement = statement.where(
                sa.or_(
                    warehouses.c.name.icontains(q, autoescape=True),
                    warehouses.c.code.icontains(q, autoescape=True),
                )
            )
        return statement

    async def has_balances(self, warehouse_id: uuid.UUID) -> bool:
        """Does the warehouse hold any balance or ledger row?"""
        for table in (balances, movements):
            statement = sa.select(table.c.id).where(table.c.warehouse_id == warehouse_id).limit(1)
            if (await self.session.execute(statement)).first() is not None:
                return True
        return False

    def balances_statement(
        self,
        warehouse_id: uuid.UUID | None,
        product_id: uuid.UUID | None,
        vans_of: uuid.UUID | None = None,
    ) -> sa.Select[Any]:
        """Balances of a warehouse and/or a product (with ``vans_of``: of shared warehouses
        and that user's own vans only)."""
        statement = sa.select(balances)
        if vans_of is not None:
            statement = statement.join(
                warehouses, warehouses.c.id == balances.c.warehouse_id
            ).where(sa.or_(warehouses.c.owner_id.is_(None), warehouses.c.owner_id == vans_of))
        if warehouse_id is not None:
            statement = statement.where(balances.c.warehouse_id == warehouse_id)
        if product_id is not None:
            statement = statement.where(balances.c.product_id == product_id)
        return statement

    async def balance_id(self, warehouse_id: uuid.UUID, product_id: uuid.UUID) -> uuid.UUID | None:
        """The balance row of a product in a warehouse, if any."""
        statement = sa.select(balances.c.id).where(
            balances.c.warehouse_id == warehouse_id, balances.c.product_id == product_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_balance(
        self, warehouse_id: uuid.UUID, product_id: uuid.UUID
    ) -> sa.Row[Any] | None:
        """The balance row of a product in a warehouse, if any."""
        statement = sa.select(balances).where(
            balances.c.warehouse_id == warehouse_id, balances.c.product_id == product_id
        )
        return (await self.session.execute(statement)).first()

    async def user_exists(self, user_id: uuid.UUID) -> bool:
        """Is there a user with this id (a van's owner)?"""
        statement = sa.select(_users.c.id).where(_users.c.id == user_id)
        return (await self.session.execute(statement)).first() is not None

    async def lock_balances(
        self, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]
    ) -> dict[tuple[uuid.UUID, uuid.UUID], sa.Row[Any]]:
        """The balance rows of (warehouse, product) pairs, locked FOR UPDATE until commit.

        Rows are locked in (warehouse, product) order so two transactions locking overlapping
        sets wait for each other instead of deadlocking. On SQLite the transaction already
        holds the database's write lock (BEGIN IMMEDIATE), so FOR UPDATE is not needed there.
        """
        wanted = sorted(set(pairs))
        if not wanted:
            return {}
        warehouse_ids = sorted({w for w, _ in wanted})
        product_ids = sorted({p for _, p in wanted})
        statement = (
            sa.select(balances)
            .where(
                balances.c.warehouse_id.in_(warehouse_ids), balances.c.product_id.in_(product_ids)
            )
            .order_by(balances.c.warehouse_id, balances.c.product_id)
            .with_for_update()
        )
        rows = (await self.session.execute(statement)).all()
        found = {(r.warehouse_id, r.product_id): r for r in rows}
        return {pair: found[pair] for pair in wanted if pair in found}

    async def products(self, product_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bool]:
        """``{product id: active}`` of the products among ``product_ids`` that exist."""
        ids = list(set(product_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            sa.select(_products.c.id, _products.c.active).where(_products.c.id.in_(ids))
        )
        return {r.id: bool(r.active) for r in rows}

    async def insert_movements(self, rows: list[dict[str, Any]]) -> None:
        """Append ledger rows."""
        if rows:
            await self.session.execute(sa.insert(movements), rows)

    async def movements_of(self, movement_id: uuid.UUID) -> Sequence[sa.Row[Any]]:
        """The movement ``movement_id`` and, for a transfer, its other leg."""
        statement = (
            sa.select(movements)
            .where(sa.or_(movements.c.id == movement_id, movements.c.transfer_id == movement_id))
            .order_by(movements.c.id)
        )
        return (await self.session.execute(statement)).all()

    async def movements_of_reference(
        self, reference_kind: str, reference_id: uuid.UUID
    ) -> Sequence[sa.Row[Any]]:
        """Every ledger row posted for one document, oldest first."""
        statement = (
            sa.select(movements)
            .where(
                movements.c.reference_kind == reference_kind,
                movements.c.reference_id == reference_id,
            )
            .order_by(movements.c.id)
        )
        return (await self.session.execute(statement)).all()

    def movements_statement(self, filters: MovementFilters) -> sa.Select[Any]:
        """Ledger rows matching the filters."""
        statement = sa.select(movements)
        exact = {
            "warehouse_id": filters.warehouse_id,
            "product_id": filters.product_id,
            "kind": filters.kind,
            "reference_kind": filters.reference_kind,
            "reference_id": filters.reference_id,
        }
        for name, value in exact.items():
            if value is not None:
                statement = statement.where(movements.c[name] == value)
        if filters.since is not None:
            statement = statement.where(movements.c.created_at >= filters.since)
        if filters.until is not None:
            statement = statement.where(movements.c.created_at < filters.until)
        return statement

    async def get_stocktake(self, stocktake_id: uuid.UUID) -> sa.Row[Any] | None:
        """One stocktake header, or None."""
        statement = sa.select(stocktakes).where(stocktakes.c.id == stocktake_id)
        return (await self.session.execute(statement)).first()

    async def insert_stocktake(self, values: dict[str, Any]) -> None:
        """Record a stocktake header."""
        await self.session.execute(sa.insert(stocktakes).values(**values))

    async def lock_active_reservations(
        self, reference_kind: str, reference_id: uuid.UUID
    ) -> Sequence[sa.Row[Any]]:
        """The document's active reservations, locked FOR UPDATE, in a stable order."""
        statement = (
            sa.select(reservations)
            .where(
                reservations.c.reference_kind == reference_kind,
                reservations.c.reference_id == reference_id,
                reservations.c.status == ReservationStatus.ACTIVE.value,
            )
            .order_by(reservations.c.warehouse_id, reservations.c.product_id, reservations.c.id)
            .with_for_update()
        )
        return (await self.session.execute(statement)).all()

    async def insert_reservations(self, rows: list[dict[str, Any]]) -> None:
        """Hold quantities for a document."""
        await insert_rows(self.session, reservations, rows)

    async def close_reservations(
        self, reservation_ids: Sequence[uuid.UUID], status: ReservationStatus, now: dt.datetime
    ) -> None:
        """Mark reservations released or consumed."""
        if reservation_ids:
            await self.session.execute(
                sa.update(reservations)
                .where(reservations.c.id.in_(list(reservation_ids)))
                .values(status=status.value, updated_at=now)
            )

    async def has_movements(self, warehouse_id: uuid.UUID, product_id: uuid.UUID) -> bool:
        """Has the ledger any row of this product in this warehouse?"""
        statement = (
            sa.select(movements.c.id)
            .where(movements.c.warehouse_id == warehouse_id, movements.c.product_id == product_id)
            .limit(1)
        )
        return (await self.session.execute(statement)).first() is not None
