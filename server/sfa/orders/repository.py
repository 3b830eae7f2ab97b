"""The queries ``order.submit`` needs: the customer's standing, open orders and stock."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import ValidationFailed
from server.sfa.accounts.models import Account
from server.sfa.orders.models import Order
from server.sfa.orders.rules import OPEN_STATUSES
from server.sfa.stock.models import StockBalance


class OrderRepository:
    """Named queries over orders and the records an order is checked against."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_account_standing(self, account_id: uuid.UUID) -> Any:
        """The account's blacklist flag, arrears and credit limit, locked until commit.

        The row lock serializes concurrent submissions for one customer, so two orders cannot
        both pass the credit check against the same headroom (SQLite serializes writers anyway).
        """
        row = (
            await self.session.execute(
                sa.select(Account.blacklisted, Account.arrears, Account.credit_limit)
                .where(Account.id == account_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise ValidationFailed(f"account {account_id} does not exist", field="account_id")
        return row

    async def open_orders_total(self, account_id: uuid.UUID, *, excluding: uuid.UUID) -> Decimal:
        """The sum of the totals of the account's open orders (other than ``excluding``)."""
        # Summed in Python: SQLite stores Money as text and SUM() would go through floats.
        totals = await self.session.scalars(
            sa.select(Order.total).where(
                Order.account_id == account_id,
                Order.status.in_(OPEN_STATUSES),
                Order.id != excluding,
            )
        )
        return sum(totals, Decimal(0))

    async def available_stock(
        self, warehouse_id: uuid.UUID, product_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, Decimal] | None:
        """On hand minus reserved per product; None when the warehouse keeps no balances."""
        tracked = await self.session.scalar(
            sa.select(StockBalance.id).where(StockBalance.warehouse_id == warehouse_id).limit(1)
        )
        if tracked is None:
            return None
        rows = await self.session.execute(
            sa.select(StockBalance.product_id, StockBalance.on_hand, StockBalance.reserved).where(
                StockBalance.warehouse_id == warehouse_id,
                StockBalance.product_id.in_(list(product_ids)),
            )
        )
        return {row.product_id: row.on_hand - row.reserved for row in rows}

    async def exists(self, table: sa.Table, record_id: uuid.UUID, **where: Any) -> bool:
        """True when ``table`` has a row with this id (and the given column values)."""
        statement = sa.select(table.c.id).where(table.c.id == record_id)
        for column, value in where.items():
            statement = statement.where(table.c[column] == value)
        return (await self.session.scalar(statement)) is not None
