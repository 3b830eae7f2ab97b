"""Named queries over payments, instalments and the accounts receivables are listed for."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.db import row_by_id
from server.sfa.accounts.models import Account
from server.sfa.collections.models import Payment
from server.sfa.collections.schemas import PaymentFilters
from server.sfa.collections.standing import open_instalments_statement
from server.sfa.contracts.models import Instalment
from server.sfa.scopes import Visibility

payments = cast(sa.Table, Payment.__table__)
accounts = cast(sa.Table, Account.__table__)
users = cast(sa.Table, User.__table__)
_instalments = cast(sa.Table, Instalment.__table__)


class PaymentRepository:
    """Queries of payments and the instalments they move."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, payment_id: uuid.UUID, *, lock: bool = False) -> Any:
        """One payment or refund (locked until commit when ``lock``)."""
        return await row_by_id(self.session, payments, payment_id, lock=lock)

    async def instalment(self, instalment_id: uuid.UUID, *, lock: bool = False) -> Any:
        """One instalment (locked until commit when ``lock``)."""
        return await row_by_id(self.session, _instalments, instalment_id, lock=lock)

    async def insert(self, values: dict[str, Any]) -> Any:
        """Record a payment or refund; returns its row."""
        result = await self.session.execute(
            sa.insert(payments).values(**values).returning(payments)
        )
        return result.one()

    async def add_refunded(self, payment_id: uuid.UUID, refunded: Any) -> None:
        """Set how much of a payment has been refunded."""
        await self.session.execute(
            sa.update(payments).where(payments.c.id == payment_id).values(refunded=refunded)
        )

    def payments_statement(self, filters: PaymentFilters, seen: Visibility) -> sa.Select[Any]:
        """Visible payments and refunds matching ``filters``."""
        statement = (
            sa.select(payments)
            .join(accounts, accounts.c.id == payments.c.account_id)
            .where(seen.account_filter(accounts.c.territory_id, accounts.c.owner_id))
        )
        return _filtered(statement, filters)

    def collecting_reps_statement(
        self, filters: PaymentFilters, seen: Visibility
    ) -> sa.Select[Any]:
        """Reps with visible payments matching ``filters`` (paginated by user id)."""
        moved = _filtered(
            sa.select(payments.c.id)
            .join(accounts, accounts.c.id == payments.c.account_id)
            .where(
                payments.c.rep_id == users.c.id,
                seen.account_filter(accounts.c.territory_id, accounts.c.owner_id),
            ),
            filters,
        )
        return sa.select(users.c.id).where(moved.exists())

    async def movements_of_reps(
        self, rep_ids: Sequence[uuid.UUID], filters: PaymentFilters, seen: Visibility
    ) -> Any:
        """(rep_id, currency, kind, amount) of the visible payments of ``rep_ids``."""
        statement = _filtered(
            sa.select(payments.c.rep_id, payments.c.currency, payments.c.kind, payments.c.amount)
            .join(accounts, accounts.c.id == payments.c.account_id)
            .where(
                payments.c.rep_id.in_(list(rep_ids)),
                seen.account_filter(accounts.c.territory_id, accounts.c.owner_id),
            ),
            filters,
        )
        return (await self.session.execute(statement)).all()


class ReceivableRepository:
    """Queries of open instalments grouped by account."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _open(due_from: dt.date | None, due_to: dt.date | None) -> sa.Select[Any]:
        statement = open_instalments_statement()
        if due_from is not None:
            statement = statement.where(_instalments.c.due_date >= due_from)
        if due_to is not None:
            statement = statement.where(_instalments.c.due_date <= due_to)
        return statement

    def accounts_statement(
        self,
        seen: Visibility,
        *,
        account_id: uuid.UUID | None,
        owner_id: uuid.UUID | None,
        territory_id: uuid.UUID | None,
        due_from: dt.date | None,
        due_to: dt.date | None,
    ) -> sa.Select[Any]:
        """Visible accounts with open instalments (due in the period), paginated by id."""
        owing = self._open(due_from, due_to).where(_instalments.c.account_id == accounts.c.id)
        statement = sa.select(
            accounts.c.id, accounts.c.name, accounts.c.owner_id, accounts.c.territory_id
        ).where(seen.account_filter(accounts.c.territory_id, accounts.c.owner_id), owing.exists())
        if account_id is not None:
            statement = statement.where(accounts.c.id == account_id)
        if owner_id is not None:
            statement = statement.where(accounts.c.owner_id == owner_id)
        if territory_id is not None:
            statement = statement.where(accounts.c.territory_id == territory_id)
        return statement

    async def visible_open_instalments(
        self,
        seen: Visibility,
        *,
        account_id: uuid.UUID | None,
        owner_id: uuid.UUID | None,
        territory_id: uuid.UUID | None,
        due_from: dt.date | None,
        due_to: dt.date | None,
    ) -> Any:
        """Open instalments of the visible accounts matching the filters (for totals)."""
        accounts_of = self.accounts_statement(
            seen,
            account_id=account_id,
            owner_id=owner_id,
            territory_id=territory_id,
            due_from=due_from,
            due_to=due_to,
        ).with_only_columns(accounts.c.id)
        statement = self._open(due_from, due_to).where(
            _instalments.c.account_id.in_(accounts_of.scalar_subquery())
        )
        return (await self.session.execute(statement)).all()

    async def open_instalments(
        self,
        account_ids: Sequence[uuid.UUID],
        due_from: dt.date | None,
        due_to: dt.date | None,
    ) -> Any:
        """Open instalments of ``account_ids`` due in the period."""
        statement = self._open(due_from, due_to).where(
            _instalments.c.account_id.in_(list(account_ids))
        )
        return (await self.session.execute(statement)).all()

    def accounts_to_age_statement(self) -> sa.Select[Any]:
        """Accounts whose receivables or arrears may change with the date: open instalments
        owed, or arrears still recorded (paginated by id)."""
        owing = open_instalments_statement().where(_instalments.c.account_id == accounts.c.id)
        return sa.select(accounts.c.id, accounts.c.arrears).where(
            sa.or_(owing.exists(), accounts.c.arrears != 0)
        )


def _filtered(statement: sa.Select[Any], filters: PaymentFilters) -> sa.Select[Any]:
    if filters.contract_id is not None:
        statement = statement.where(payments.c.contract_id == filters.contract_id)
    if filters.account_id is not None:
        statement = statement.where(payments.c.account_id == filters.account_id)
    if filters.rep_id is not None:
        statement = statement.where(payments.c.rep_id == filters.rep_id)
    if filters.territory_id is not None:
        statement = statement.where(accounts.c.territory_id == filters.territory_id)
    if filters.received_from is not None:
        statement = statement.where(payments.c.received_on >= filters.received_from)
    if filters.received_to is not None:
        statement = statement.where(payments.c.received_on <= filters.received_to)
    return statement
