"""Contact use cases for managers and admins; a contact is visible when its account is."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound, ValidationFailed
from server.pagination import Page
from server.sfa.accounts.repository import AccountRepository, contacts
from server.sfa.accounts.schemas import ContactCreate, ContactFilters, ContactPatch, ContactRecord
from server.sfa.area_service import AreaService
from server.sfa.inputs import new_record, record_of, sent_fields
from server.sfa.scopes import Visibility, visibility


def contact_record(row: Any) -> ContactRecord:
    """A contact row (or the writer's wire dict) as the API record."""
    return record_of(ContactRecord, row)


class ContactService(AreaService):
    """Contacts of the accounts the caller may see."""

    async def list_contacts(
        self, filters: ContactFilters, *, cursor: str | None, limit: int | None
    ) -> Page[ContactRecord]:
        """One page of visible contacts matching ``filters``."""
        return await self._visible_page(
            lambda session, seen: AccountRepository(session).contacts_statement(filters, seen),
            contacts.c.id,
            contact_record,
            cursor=cursor,
            limit=limit,
        )

    async def get_contact(self, contact_id: uuid.UUID) -> ContactRecord:
        """One visible contact; ``not_found`` when missing or outside the caller's scope."""
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            row = await self._visible_row(session, seen, contact_id)
        return contact_record(row)

    async def create_contact(self, data: ContactCreate) -> ContactRecord:
        """Add a contact to a visible account."""
        values = new_record(data)
        async with self.db.transaction() as session:
            seen = await visibility(session, self.principal)
            await self._check_account(session, seen, data.account_id)
            record = await self.writer.create(session, "contact", values, principal=self.principal)
        return contact_record(record)

    async def update_contact(
        self, contact_id: uuid.UUID, data: ContactPatch, *, expected: frozenset[int] | None = None
    ) -> ContactRecord:
        """Change the fields sent; moving to another account needs that account visible too."""
        changes = sent_fields(data)
        async with self.db.transaction() as session:
            seen = await visibility(session, self.principal)
            row = await self._visible_row(session, seen, contact_id)
            await self.writer.check_version(session, "contact", contact_id, expected)
            current = row._mapping
            changes = {k: v for k, v in changes.items() if current[k] != v}
            if not changes:
                return contact_record(row)
            if "account_id" in changes:
                await self._check_account(session, seen, changes["account_id"])
            record = await self.writer.update(
                session, "contact", contact_id, changes, principal=self.principal
            )
        return contact_record(record)

    async def delete_contact(
        self, contact_id: uuid.UUID, *, expected: frozenset[int] | None = None
    ) -> None:
        """Delete a visible contact (devices get a tombstone)."""
        async with self.db.transaction() as session:
            await self._visible_row(session, await visibility(session, self.principal), contact_id)
            await self.writer.check_version(session, "contact", contact_id, expected)
            await self.writer.delete(session, "contact", contact_id, principal=self.principal)

    async def _visible_row(
        self, session: AsyncSession, seen: Visibility, contact_id: uuid.UUID
    ) -> sa.Row[Any]:
        row = await AccountRepository(session).get_contact(contact_id)
        if row is None or not seen.allows(row.territory_id, row.owner_id):
            raise NotFound(f"contact {contact_id} not found", field="id")
        return row

    async def _check_account(
        self, session: AsyncSession, seen: Visibility, account_id: uuid.UUID
    ) -> None:
        account = await AccountRepository(session).get_account(account_id)
        if account is None or not seen.allows(account.territory_id, account.owner_id):
            raise ValidationFailed(f"account {account_id} not found", field="account_id")
