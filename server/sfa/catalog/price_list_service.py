"""Price lists and their entries: admins write; anyone signed in reads the general lists and
those negotiated with an account they may see (the same visibility as sync)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.accounts.repository import AccountRepository
from server.sfa.area_service import AreaService
from server.sfa.catalog.repository import CatalogRepository, entries, price_lists
from server.sfa.catalog.schemas import (
    EntryCreate,
    EntryPatch,
    PriceListCreate,
    PriceListEntryRecord,
    PriceListFilters,
    PriceListPatch,
    PriceListRecord,
)
from server.sfa.inputs import check_decimal, record_of, sent_fields
from server.sfa.scopes import visibility


def _duplicate_entry() -> Conflict:
    return Conflict(
        "this price list already has an entry for that product and minimum quantity",
        field="min_quantity",
        code="duplicate_entry",
    )


class PriceListService(AreaService):
    """Price lists per segment or account, with quantity-tiered entries."""

    async def list_price_lists(
        self, filters: PriceListFilters, *, cursor: str | None, limit: int | None
    ) -> Page[PriceListRecord]:
        """One page of price lists matching ``filters``."""
        return await self._visible_page(
            lambda session, seen: CatalogRepository(session).price_lists_statement(filters, seen),
            price_lists.c.id,
            lambda row: record_of(PriceListRecord, row),
            cursor=cursor,
            limit=limit,
        )

    async def get_price_list(self, price_list_id: uuid.UUID) -> PriceListRecord:
        """One price list."""
        async with self.db.reading() as session:
            row = await self._price_list_row(session, price_list_id)
        return record_of(PriceListRecord, row)

    async def create_price_list(self, data: PriceListCreate) -> PriceListRecord:
        """Add a price list for everyone, a segment, or one account."""
        values = sent_fields(data)
        async with self.db.transaction() as session:
            await self._check_price_list(session, values, values)
            record = await self.writer.create(
                session, "price_list", values, principal=self.principal
            )
        return record_of(PriceListRecord, record)

    async def update_price_list(
        self,
        price_list_id: uuid.UUID,
        data: PriceListPatch,
        *,
        expected: frozenset[int] | None = None,
    ) -> PriceListRecord:
        """Change some fields; the list as a whole is validated again."""
        changes = sent_fields(data)
        async with self.db.transaction() as session:
            row = await self._price_list_row(session, price_list_id)
            await self.writer.check_version(session, "price_list", price_list_id, expected)
            await self._check_price_list(session, {**row._mapping, **changes}, changes)
            record = await self._update(session, "price_list", price_list_id, changes)
        return record_of(PriceListRecord, record)

    async def delete_price_list(
        self, price_list_id: uuid.UUID, *, expected: frozenset[int] | None = None
    ) -> None:
        """Delete a price list; the writer deletes its entries too (tombstones for each)."""
        async with self.db.transaction() as session:
            await self._price_list_row(session, price_list_id)
            await self.writer.check_version(session, "price_list", price_list_id, expected)
            await self.writer.delete(session, "price_list", price_list_id, principal=self.principal)

    async def list_entries(
        self,
        price_list_id: uuid.UUID,
        product_id: uuid.UUID | None,
        *,
        cursor: str | None,
        limit: int | None,
    ) -> Page[PriceListEntryRecord]:
        """One page of a price list's entries."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            await self._price_list_row(session, price_list_id)
            statement = CatalogRepository(session).entries_statement(price_list_id, product_id)
            rows, nxt = await fetch_page(
                session, statement, entries.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(PriceListEntryRecord, r) for r in rows], next_cursor=nxt)

    async def create_entry(
        self, price_list_id: uuid.UUID, data: EntryCreate
    ) -> PriceListEntryRecord:
        """Add a price tier; ``duplicate_entry`` (409) for a product and quantity already priced."""
        values = {**sent_fields(data), "price_list_id": price_list_id}
        try:
            async with self.db.transaction() as session:
                await self._price_list_row(session, price_list_id)
                await self._check_entry(session, price_list_id, None, values, values)
                record = await self.writer.create(
                    session, "price_list_entry", values, principal=self.principal
                )
        except sa.exc.IntegrityError as exc:  # a concurrent create took the same tier
            raise _duplicate_entry() from exc
        return record_of(PriceListEntryRecord, record)

    async def update_entry(
        self,
        price_list_id: uuid.UUID,
        entry_id: uuid.UUID,
        data: EntryPatch,
        *,
        expected: frozenset[int] | None = None,
    ) -> PriceListEntryRecord:
        """Change a price tier."""
        changes = sent_fields(data)
        try:
            async with self.db.transaction() as session:
                row = await self._entry_row(session, price_list_id, entry_id)
                await self.writer.check_version(session, "price_list_entry", entry_id, expected)
                state = {**row._mapping, **changes}
                await self._check_entry(session, price_list_id, entry_id, state, changes)
                record = await self._update(session, "price_list_entry", entry_id, changes)
        except sa.exc.IntegrityError as exc:
            raise _duplicate_entry() from exc
        return record_of(PriceListEntryRecord, record)

    async def delete_entry(
        self,
        price_list_id: uuid.UUID,
        entry_id: uuid.UUID,
        *,
        expected: frozenset[int] | None = None,
    ) -> None:
        """Remove a price tier."""
        async with self.db.transaction() as session:
            await self._entry_row(session, price_list_id, entry_id)
            await self.writer.check_version(session, "price_list_entry", entry_id, expected)
            await self.writer.delete(
                session, "price_list_entry", entry_id, principal=self.principal
            )

    async def _update(
        self, session: AsyncSession, entity: str, record_id: uuid.UUID, changes: dict[str, Any]
    ) -> dict[str, Any]:
        if not changes:
            return await self.writer.load(session, entity, record_id)
        return await self.writer.update(
            session, entity, record_id, changes, principal=self.principal
        )

    async def _price_list_row(self, session: AsyncSession, price_list_id: uuid.UUID) -> sa.Row[Any]:
        # A list the caller may not read answers like a missing id: existence is not disclosed.
        seen = await visibility(session, self.principal)
        row = await CatalogRepository(session).get_price_list(price_list_id, seen)
        if row is None:
            raise NotFound(f"price list {price_list_id} not found", field="id")
        return row

    async def _entry_row(
        self, session: AsyncSession, price_list_id: uuid.UUID, entry_id: uuid.UUID
    ) -> sa.Row[Any]:
        row = await CatalogRepository(session).get_entry(price_list_id, entry_id)
        if row is None:
            raise NotFound(f"entry {entry_id} not found in price list {price_list_id}", field="id")
        return row

    async def _check_price_list(
        self, session: AsyncSession, state: dict[str, Any], changed: dict[str, Any]
    ) -> None:
        if state.get("segment") is not None and state.get("account_id") is not None:
            field = "account_id" if "account_id" in changed else "segment"
            raise ValidationFailed(
                "a price list is for a segment or an account, not both", field=field
            )
        account_id = changed.get("account_id")
        if (
            account_id is not None
            and await AccountRepository(session).get_account(account_id) is None
        ):
            raise ValidationFailed(f"account {account_id} does not exist", field="account_id")
        start, end = state.get("valid_from"), state.get("valid_to")
        if start is not None and end is not None and start >= end:
            raise ValidationFailed("valid_from must be before valid_to", field="valid_to")

    async def _check_entry(
        self,
        session: AsyncSession,
        price_list_id: uuid.UUID,
        entry_id: uuid.UUID | None,
        state: dict[str, Any],
        changed: dict[str, Any],
    ) -> None:
        check_decimal(changed.get("min_quantity"), "min_quantity", gt=0)
        check_decimal(changed.get("unit_price"), "unit_price", ge=0)
        repo = CatalogRepository(session)
        if "product_id" in changed and await repo.get_product(changed["product_id"]) is None:
            raise ValidationFailed(
                f"product {changed['product_id']} does not exist", field="product_id"
            )
        tiers = await repo.entry_tiers(price_list_id, state["product_id"])
        if any(t.id != entry_id and t.min_quantity == state["min_quantity"] for t in tiers):
            raise _duplicate_entry()
