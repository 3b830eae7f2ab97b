"""Queries of warehouses and stock balances (SQLAlchemy Core on the tables)."""

from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.sfa.stock.models import StockBalance, Warehouse

warehouses = cast(sa.Table, Warehouse.__table__)
balances = cast(sa.Table, StockBalance.__table__)


class StockRepository:
    """Named queries over warehouses and balances."""

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
        self, active: bool | None, city: str | None, q: str | None
    ) -> sa.Select[Any]:
        """Warehouses matching the filters."""
        statement = sa.select(warehouses)
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
        """Does the warehouse hold any balance row?"""
        statement = sa.select(balances.c.id).where(balances.c.warehouse_id == warehouse_id).limit(1)
        return (await self.session.execute(statement)).first() is not None

    def balances_statement(
        self, warehouse_id: uuid.UUID | None, product_id: uuid.UUID | None
    ) -> sa.Select[Any]:
        """Balances of a warehouse and/or a product."""
        statement = sa.select(balances)
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
