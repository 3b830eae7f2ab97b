"""Suppliers and their contacts: admins (back office) write, managers and admins read."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import new_id, utcnow
from server.errors import Conflict, NotFound
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.inputs import record_of, sent_fields
from server.sfa.purchasing.repository import (
    SupplierRepository,
    check_version,
    supplier_contacts,
    suppliers,
)
from server.sfa.purchasing.schemas import (
    ContactCreate,
    ContactPatch,
    SupplierContactRecord,
    SupplierCreate,
    SupplierPatch,
    SupplierRecord,
)


def _duplicate_code(code: object) -> Conflict:
    return Conflict(f"supplier code {code!s} is already used", field="code", code="duplicate_code")


class SupplierService(AreaService):
    """CRUD of suppliers and supplier contacts."""

    async def list_suppliers(
        self, active: bool | None, q: str | None, *, cursor: str | None, limit: int | None
    ) -> Page[SupplierRecord]:
        """One page of suppliers, ordered by id."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            statement = SupplierRepository(session).suppliers_statement(active, q)
            rows, nxt = await fetch_page(
                session, statement, suppliers.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(SupplierRecord, r) for r in rows], next_cursor=nxt)

    async def get_supplier(self, supplier_id: uuid.UUID) -> SupplierRecord:
        """One supplier."""
        async with self.db.reading() as session:
            return record_of(SupplierRecord, await self._supplier(session, supplier_id))

    async def create_supplier(self, data: SupplierCreate) -> SupplierRecord:
        """Add a supplier; ``duplicate_code`` (409) when the code is taken."""
        try:
            async with self.db.transaction() as session:
                repo = SupplierRepository(session)
                if await repo.supplier_id_by_code(data.code) is not None:
                    raise _duplicate_code(data.code)
                now = utcnow()
                row = await repo.insert_supplier(
                    {**sent_fields(data), "id": new_id(), "created_at": now, "updated_at": now}
                )
        except sa.exc.IntegrityError as exc:  # a concurrent create took the code first
            raise _duplicate_code(data.code) from exc
        return record_of(SupplierRecord, row)

    async def update_supplier(
        self, supplier_id: uuid.UUID, data: SupplierPatch, *, expected: frozenset[int] | None
    ) -> SupplierRecord:
        """Change the fields sent."""
        changes = sent_fields(data)
        try:
            async with self.db.transaction() as session:
                repo = SupplierRepository(session)
                row = await self._supplier(session, supplier_id, lock=True)
                check_version(row, expected, "supplier")
                if not changes:
                    return record_of(SupplierRecord, row)
                if "code" in changes:
                    holder = await repo.supplier_id_by_code(changes["code"])
                    if holder not in (None, supplier_id):
                        raise _duplicate_code(changes["code"])
                row = await repo.update_supplier(supplier_id, {**changes, "updated_at": utcnow()})
        except sa.exc.IntegrityError as exc:
            raise _duplicate_code(changes.get("code")) from exc
        return record_of(SupplierRecord, row)

    async def delete_supplier(
        self, supplier_id: uuid.UUID, *, expected: frozenset[int] | None
    ) -> None:
        """Delete a supplier no purchase order names (deactivate it otherwise)."""
        async with self.db.transaction() as session:
            repo = SupplierRepository(session)
            row = await self._supplier(session, supplier_id, lock=True)
            check_version(row, expected, "supplier")
            if await repo.has_purchase_orders(supplier_id):
                raise Conflict(
                    "the supplier has purchase orders; deactivate it instead",
                    field="id",
                    code="in_use",
                )
            await repo.delete_supplier(supplier_id)

    async def list_contacts(
        self, supplier_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[SupplierContactRecord]:
        """One page of a supplier's contacts."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            await self._supplier(session, supplier_id, field="supplier_id")
            statement = SupplierRepository(session).contacts_statement(supplier_id)
            rows, nxt = await fetch_page(
                session, statement, supplier_contacts.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(SupplierContactRecord, r) for r in rows], next_cursor=nxt)

    async def get_contact(
        self, supplier_id: uuid.UUID, contact_id: uuid.UUID
    ) -> SupplierContactRecord:
        """One contact of a supplier."""
        async with self.db.reading() as session:
            await self._supplier(session, supplier_id, field="supplier_id")
            return record_of(
                SupplierContactRecord, await self._contact(session, supplier_id, contact_id)
            )

    async def create_contact(
        self, supplier_id: uuid.UUID, data: ContactCreate
    ) -> SupplierContactRecord:
        """Add a contact to a supplier."""
        async with self.db.transaction() as session:
            await self._supplier(session, supplier_id, field="supplier_id")
            now = utcnow()
            row = await SupplierRepository(session).insert_contact(
                {
                    **sent_fields(data),
                    "id": new_id(),
                    "supplier_id": supplier_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        return record_of(SupplierContactRecord, row)

    async def update_contact(
        self,
        supplier_id: uuid.UUID,
        contact_id: uuid.UUID,
        data: ContactPatch,
        *,
        expected: frozenset[int] | None,
    ) -> SupplierContactRecord:
        """Change the fields sent of a contact."""
        changes = sent_fields(data)
        async with self.db.transaction() as session:
            await self._supplier(session, supplier_id, field="supplier_id")
            row = await self._contact(session, supplier_id, contact_id, lock=True)
            check_version(row, expected, "contact")
            if changes:
                row = await SupplierRepository(session).update_contact(
                    contact_id, {**changes, "updated_at": utcnow()}
                )
        return record_of(SupplierContactRecord, row)

    async def delete_contact(
        self, supplier_id: uuid.UUID, contact_id: uuid.UUID, *, expected: frozenset[int] | None
    ) -> None:
        """Remove a contact."""
        async with self.db.transaction() as session:
            await self._supplier(session, supplier_id, field="supplier_id")
            row = await self._contact(session, supplier_id, contact_id, lock=True)
            check_version(row, expected, "contact")
            await SupplierRepository(session).delete_contact(contact_id)

    async def _supplier(
        self,
        session: AsyncSession,
        supplier_id: uuid.UUID,
        *,
        lock: bool = False,
        field: str = "id",
    ) -> Any:
        row = await SupplierRepository(session).get_supplier(supplier_id, lock=lock)
        if row is None:
            raise NotFound(f"supplier {supplier_id} not found", field=field)
        return row

    async def _contact(
        self,
        session: AsyncSession,
        supplier_id: uuid.UUID,
        contact_id: uuid.UUID,
        *,
        lock: bool = False,
    ) -> Any:
        row = await SupplierRepository(session).get_contact(supplier_id, contact_id, lock=lock)
        if row is None:
            raise NotFound(f"contact {contact_id} not found", field="id")
        return row
