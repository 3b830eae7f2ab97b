"""Queries of suppliers and their contacts (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import row_by_id
from server.errors import PreconditionFailed
from server.sfa.purchasing.models import PurchaseOrder, Supplier, SupplierContact

suppliers = cast(sa.Table, Supplier.__table__)
supplier_contacts = cast(sa.Table, SupplierContact.__table__)
_purchase_orders = cast(sa.Table, PurchaseOrder.__table__)


def bump(table: sa.Table, row_id: uuid.UUID, values: dict[str, Any]) -> sa.Update:
    """An UPDATE of one row that raises its ``version`` and returns the row."""
    return (
        sa.update(table)
        .where(table.c.id == row_id)
        .values(**values, version=table.c.version + 1)
        .returning(*table.c)
    )


class SupplierRepository:
    """Named queries over suppliers and supplier contacts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_supplier(self, supplier_id: uuid.UUID, *, lock: bool = False) -> Any:
        """One supplier row, or None (locked FOR UPDATE with ``lock``)."""
        return await row_by_id(self.session, suppliers, supplier_id, lock=lock)

    async def supplier_id_by_code(self, code: str) -> uuid.UUID | None:
        """The supplier holding ``code``, if any."""
        statement = sa.select(suppliers.c.id).where(suppliers.c.code == code)
        return cast(uuid.UUID | None, (await self.session.execute(statement)).scalar())

    def suppliers_statement(self, active: bool | None, q: str | None) -> sa.Select[Any]:
        """Suppliers, filtered (the pager orders them by id)."""
        statement = sa.select(suppliers)
        if active is not None:
            statement = statement.where(suppliers.c.active.is_(active))
        if q:
            pattern = f"%{q.lower()}%"
            statement = statement.where(
                sa.or_(
                    sa.func.lower(suppliers.c.name).like(pattern),
                    sa.func.lower(suppliers.c.code).like(pattern),
                )
            )
        return statement

    async def insert_supplier(self, values: dict[str, Any]) -> Any:
        """Store a new supplier; returns its row."""
        statement = sa.insert(suppliers).values(**values).returning(*suppliers.c)
        return (await self.session.execute(statement)).one()

    async def update_supplier(self, supplier_id: uuid.UUID, values: dict[str, Any]) -> Any:
        """Change a supplier (its version bumped); returns its row."""
        return (await self.session.execute(bump(suppliers, supplier_id, values))).one()

    async def delete_supplier(self, supplier_id: uuid.UUID) -> None:
        """Remove a supplier and its contacts."""
        await self.session.execute(
            sa.delete(supplier_contacts).where(supplier_contacts.c.supplier_id == supplier_id)
        )
        await self.session.execute(sa.delete(suppliers).where(suppliers.c.id == supplier_id))

    async def has_purchase_orders(self, supplier_id: uuid.UUID) -> bool:
        """Has any purchase order (whatever its status) been made to this supplier?"""
        statement = sa.select(_purchase_orders.c.id).where(
            _purchase_orders.c.supplier_id == supplier_id
        )
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def get_contact(
        self, supplier_id: uuid.UUID, contact_id: uuid.UUID, *, lock: bool = False
    ) -> Any:
        """One contact of a supplier, or None."""
        statement = sa.select(supplier_contacts).where(
            supplier_contacts.c.id == contact_id, supplier_contacts.c.supplier_id == supplier_id
        )
        if lock:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).first()

    def contacts_statement(self, supplier_id: uuid.UUID) -> sa.Select[Any]:
        """The contacts of a supplier."""
        return sa.select(supplier_contacts).where(supplier_contacts.c.supplier_id == supplier_id)

    async def insert_contact(self, values: dict[str, Any]) -> Any:
        """Store a new contact; returns its row."""
        statement = sa.insert(supplier_contacts).values(**values).returning(*supplier_contacts.c)
        return (await self.session.execute(statement)).one()

    async def update_contact(self, contact_id: uuid.UUID, values: dict[str, Any]) -> Any:
        """Change a contact (its version bumped); returns its row."""
        return (await self.session.execute(bump(supplier_contacts, contact_id, values))).one()

    async def delete_contact(self, contact_id: uuid.UUID) -> None:
        """Remove a contact."""
        await self.session.execute(
            sa.delete(supplier_contacts).where(supplier_contacts.c.id == contact_id)
        )


def check_version(row: Any, expected: frozenset[int] | None, what: str) -> None:
    """412 ``version_mismatch`` unless the (locked) row is at one of the ``expected`` versions."""
    if expected is not None and int(row.version) not in expected:
        raise PreconditionFailed(
            f"{what} {row.id} has changed: it is at version {row.version}",
            field="version",
            data={"version": int(row.version)},
        )
