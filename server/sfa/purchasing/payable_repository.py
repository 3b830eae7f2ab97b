"""Queries of payables and the payments made against them (SQLAlchemy Core)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import row_by_id
from server.sfa.purchasing.models import Payable, PurchaseOrder, SupplierPayment
from server.sfa.purchasing.repository import bump
from server.sfa.stock.models import Warehouse
from server.sfa.territories.models import TerritoryMember

payables = cast(sa.Table, Payable.__table__)
payments = cast(sa.Table, SupplierPayment.__table__)
_orders = cast(sa.Table, PurchaseOrder.__table__)
_warehouses = cast(sa.Table, Warehouse.__table__)
_members = cast(sa.Table, TerritoryMember.__table__)


def _ordered_for(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """Payables whose purchase order's warehouse matches ``condition``."""
    orders = (
        sa.select(_orders.c.id)
        .join(_warehouses, _warehouses.c.id == _orders.c.warehouse_id)
        .where(condition)
    )
    return payables.c.purchase_order_id.in_(orders)


@dataclass(frozen=True)
class PayableFilters:
    """What ``GET /payables`` filters on: supplier, due dates in a period, open only, and the
    rep and territory of the purchase order's warehouse (its owner: the rep whose van it
    restocks, and the territories that rep is a member of). ``owners``: the caller's scope
    (None: every payable; else central warehouses' and the vans of these users)."""

    supplier_id: uuid.UUID | None = None
    due_from: dt.date | None = None
    due_until: dt.date | None = None
    open_only: bool = True
    rep_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None
    owners: frozenset[uuid.UUID] | None = None


class PayableRepository:
    """Named queries over payables and supplier payments."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_payable(self, values: dict[str, Any]) -> None:
        """Store a payable."""
        await self.session.execute(sa.insert(payables).values(**values))

    async def get_payable(self, payable_id: uuid.UUID, *, lock: bool = False) -> Any:
        """One payable, or None (locked FOR UPDATE with ``lock``)."""
        return await row_by_id(self.session, payables, payable_id, lock=lock)

    async def payable_of_receipt(self, receipt_id: uuid.UUID) -> Any:
        """The payable a receipt raised, or None."""
        statement = sa.select(payables).where(payables.c.receipt_id == receipt_id)
        return (await self.session.execute(statement)).first()

    def _where(self, filters: PayableFilters) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if filters.supplier_id is not None:
            clauses.append(payables.c.supplier_id == filters.supplier_id)
        if filters.due_from is not None:
            clauses.append(payables.c.due_on >= filters.due_from)
        if filters.due_until is not None:
            clauses.append(payables.c.due_on <= filters.due_until)
        if filters.open_only:
            clauses.append(payables.c.settled.is_(False))
        owner = _warehouses.c.owner_id
        if filters.rep_id is not None:
            clauses.append(_ordered_for(owner == filters.rep_id))
        if filters.territory_id is not None:
            members = sa.select(_members.c.user_id).where(
                _members.c.territory_id == filters.territory_id
            )
            clauses.append(_ordered_for(owner.in_(members)))
        if filters.owners is not None:
            mine = owner.in_(list(filters.owners)) if filters.owners else sa.false()
            clauses.append(_ordered_for(sa.or_(owner.is_(None), mine)))
        return clauses

    async def visible(self, payable_id: uuid.UUID, owners: frozenset[uuid.UUID] | None) -> bool:
        """Is this payable within ``owners`` (see ``PayableFilters.owners``)?"""
        statement = sa.select(payables.c.id).where(
            payables.c.id == payable_id,
            *self._where(PayableFilters(open_only=False, owners=owners)),
        )
        return (await self.session.execute(statement)).first() is not None

    def payables_statement(self, filters: PayableFilters) -> sa.Select[Any]:
        """Payables, filtered (the pager orders them by id)."""
        return sa.select(payables).where(*self._where(filters))

    async def open_amounts(self, filters: PayableFilters) -> list[Any]:
        """(currency, due date, amount, paid) of every payable the filters select, for the
        totals (amounts are summed in Python: SQLite stores them as exact text)."""
        statement = sa.select(
            payables.c.currency, payables.c.due_on, payables.c.amount, payables.c.paid
        ).where(*self._where(filters))
        return list((await self.session.execute(statement)).all())

    async def set_paid(
        self, payable_id: uuid.UUID, paid: Any, settled: bool, now: dt.datetime
    ) -> Any:
        """Set what has been paid of a payable (its version bumped); returns its row."""
        values = {"paid": paid, "settled": settled, "updated_at": now}
        statement = bump(payables, payable_id, values)
        return (await self.session.execute(statement)).one()

    async def get_payment(self, payment_id: uuid.UUID) -> Any:
        """One payment, or None."""
        statement = sa.select(payments).where(payments.c.id == payment_id)
        return (await self.session.execute(statement)).first()

    async def insert_payment(self, values: dict[str, Any]) -> Any:
        """Store a payment; returns its row."""
        statement = sa.insert(payments).values(**values).returning(*payments.c)
        return (await self.session.execute(statement)).one()

    def payments_statement(self, payable_id: uuid.UUID) -> sa.Select[Any]:
        """The payments of one payable."""
        return sa.select(payments).where(payments.c.payable_id == payable_id)
