"""Named queries over contracts, their notes, attachments, instalments and sources."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.sfa.accounts.models import Account, Contact
from server.sfa.collections.models import Payment
from server.sfa.contracts.models import (
    Contract,
    ContractAttachment,
    ContractNote,
    ContractOrder,
    Instalment,
)
from server.sfa.contracts.schemas import ContractFilters
from server.sfa.orders.models import Order
from server.sfa.quotes.models import Quote
from server.sfa.scopes import Visibility

contracts = cast(sa.Table, Contract.__table__)
notes = cast(sa.Table, ContractNote.__table__)
attachments = cast(sa.Table, ContractAttachment.__table__)
instalments = cast(sa.Table, Instalment.__table__)
contract_orders = cast(sa.Table, ContractOrder.__table__)
_accounts = cast(sa.Table, Account.__table__)
_contacts = cast(sa.Table, Contact.__table__)
_orders = cast(sa.Table, Order.__table__)
_quotes = cast(sa.Table, Quote.__table__)
_payments = cast(sa.Table, Payment.__table__)


class ContractRepository:
    """Queries of the contracts area."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def contracts_statement(self, filters: ContractFilters, seen: Visibility) -> sa.Select[Any]:
        """Visible contracts matching ``filters`` (not yet paginated)."""
        statement = (
            sa.select(contracts)
            .join(_accounts, _accounts.c.id == contracts.c.account_id)
            .where(seen.account_filter(_accounts.c.territory_id, _accounts.c.owner_id))
        )
        if filters.account_id is not None:
            statement = statement.where(contracts.c.account_id == filters.account_id)
        if filters.owner_id is not None:
            statement = statement.where(contracts.c.owner_id == filters.owner_id)
        if filters.territory_id is not None:
            statement = statement.where(_accounts.c.territory_id == filters.territory_id)
        if filters.status is not None:
            statement = statement.where(contracts.c.status == filters.status.value)
        if filters.period_from is not None:
            statement = statement.where(contracts.c.end_date >= filters.period_from)
        if filters.period_to is not None:
            statement = statement.where(contracts.c.start_date <= filters.period_to)
        return statement

    async def get_contract(self, contract_id: uuid.UUID) -> Any:
        """A contract with its account's territory and owner (for visibility)."""
        statement = (
            sa.select(
                contracts,
                _accounts.c.territory_id.label("account_territory_id"),
                _accounts.c.owner_id.label("account_owner_id"),
            )
            .join(_accounts, _accounts.c.id == contracts.c.account_id)
            .where(contracts.c.id == contract_id)
        )
        return (await self.session.execute(statement)).first()

    async def lock_contract(self, contract_id: uuid.UUID) -> Any:
        """The contract row, locked until commit (PostgreSQL; SQLite has one writer)."""
        statement = sa.select(contracts).where(contracts.c.id == contract_id).with_for_update()
        return (await self.session.execute(statement)).one()

    async def account(self, account_id: uuid.UUID) -> Any:
        """An account's id, territory and owner."""
        statement = sa.select(_accounts.c.id, _accounts.c.territory_id, _accounts.c.owner_id).where(
            _accounts.c.id == account_id
        )
        return (await self.session.execute(statement)).first()

    async def contact_account(self, contact_id: uuid.UUID) -> uuid.UUID | None:
        """The account a contact belongs to (None: no such contact)."""
        return cast(
            uuid.UUID | None,
            await self.session.scalar(
                sa.select(_contacts.c.account_id).where(_contacts.c.id == contact_id)
            ),
        )

    async def quote(self, quote_id: uuid.UUID) -> Any:
        """A quote's account, status, currency and total."""
        statement = sa.select(
            _quotes.c.account_id, _quotes.c.status, _quotes.c.currency, _quotes.c.total
        ).where(_quotes.c.id == quote_id)
        return (await self.session.execute(statement)).first()

    async def orders(self, order_ids: Sequence[uuid.UUID]) -> Any:
        """Orders' ids, accounts, statuses, currencies and totals."""
        statement = sa.select(
            _orders.c.id,
            _orders.c.account_id,
            _orders.c.status,
            _orders.c.currency,
            _orders.c.total,
        ).where(_orders.c.id.in_(list(order_ids)))
        return (await self.session.execute(statement)).all()

    async def orders_in_contracts(self, order_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        """Which of ``order_ids`` another contract was already made from."""
        rows = await self.session.scalars(
            sa.select(contract_orders.c.order_id).where(
                contract_orders.c.order_id.in_(list(order_ids))
            )
        )
        return list(rows)

    async def link_orders(self, contract_id: uuid.UUID, order_ids: Sequence[uuid.UUID]) -> None:
        """Record the orders a contract was made from."""
        await self.session.execute(
            sa.insert(contract_orders),
            [{"contract_id": contract_id, "order_id": order_id} for order_id in order_ids],
        )

    async def insert_note(self, values: dict[str, Any]) -> Any:
        """Add a progress note; returns its row."""
        result = await self.session.execute(sa.insert(notes).values(**values).returning(notes))
        return result.one()

    def notes_statement(self, contract_id: uuid.UUID) -> sa.Select[Any]:
        """A contract's notes (paginated by id: the order they were added in)."""
        return sa.select(notes).where(notes.c.contract_id == contract_id)

    def instalments_statement(self, contract_id: uuid.UUID) -> sa.Select[Any]:
        """A contract's instalments."""
        return sa.select(instalments).where(instalments.c.contract_id == contract_id)

    async def instalment_ids(self, contract_id: uuid.UUID) -> list[uuid.UUID]:
        """Ids of a contract's instalments."""
        rows = await self.session.scalars(
            sa.select(instalments.c.id).where(instalments.c.contract_id == contract_id)
        )
        return list(rows)

    async def schedule_total(self, contract_id: uuid.UUID) -> Any:
        """The amounts of a contract's instalments (None when it has no schedule)."""
        rows = list(
            await self.session.scalars(
                sa.select(instalments.c.amount).where(instalments.c.contract_id == contract_id)
            )
        )
        return sum(rows) if rows else None

    async def has_payments(self, contract_id: uuid.UUID) -> bool:
        """Has any money moved on this contract?"""
        found = await self.session.scalar(
            sa.select(_payments.c.id).where(_payments.c.contract_id == contract_id).limit(1)
        )
        return found is not None

    async def insert_attachment(self, values: dict[str, Any]) -> Any:
        """Record an attachment; returns its row."""
        result = await self.session.execute(
            sa.insert(attachments).values(**values).returning(attachments)
        )
        return result.one()

    def attachments_statement(self, contract_id: uuid.UUID) -> sa.Select[Any]:
        """A contract's attachments (not the deleted ones)."""
        return sa.select(attachments).where(
            attachments.c.contract_id == contract_id, attachments.c.deleted_at.is_(None)
        )

    async def get_attachment(
        self, contract_id: uuid.UUID, attachment_id: uuid.UUID, *, lock: bool = False
    ) -> Any:
        """One attachment of one contract (None when deleted); ``lock``: FOR UPDATE."""
        statement = self.attachments_statement(contract_id).where(attachments.c.id == attachment_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).first()

    async def mark_attachment_deleted(
        self, attachment_id: uuid.UUID, values: dict[str, Any]
    ) -> None:
        """Mark an attachment deleted (``values``: who and when)."""
        await self.session.execute(
            sa.update(attachments).where(attachments.c.id == attachment_id).values(**values)
        )
