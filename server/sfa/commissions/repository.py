"""Named queries of the commissions area: plans, splits, statements, disputes, and the central
records a statement is computed from (confirmations, cancellations, payments, refunds, owners)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.db import row_by_id
from server.sfa.accounts.models import AccountAssignment
from server.sfa.catalog.models import Product, ProductCategory
from server.sfa.collections.models import Payment
from server.sfa.commissions.models import (
    CommissionDispute,
    CommissionPlan,
    CommissionStatement,
    CreditSplit,
    CreditSplitChange,
)
from server.sfa.orders.models import Order, OrderTransition
from server.sync.bulk import any_of, chunks

plans = cast(sa.Table, CommissionPlan.__table__)
splits = cast(sa.Table, CreditSplit.__table__)
split_changes = cast(sa.Table, CreditSplitChange.__table__)
statements = cast(sa.Table, CommissionStatement.__table__)
disputes = cast(sa.Table, CommissionDispute.__table__)
_orders = cast(sa.Table, Order.__table__)
_transitions = cast(sa.Table, OrderTransition.__table__)
_products = cast(sa.Table, Product.__table__)
_categories = cast(sa.Table, ProductCategory.__table__)
_payments = cast(sa.Table, Payment.__table__)
_assignments = cast(sa.Table, AccountAssignment.__table__)
_users = cast(sa.Table, User.__table__)


class CommissionRepository:
    """Named queries over the commission tables and the records they read."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _all(self, statement: Any) -> list[Any]:
        return list((await self.session.execute(statement)).all())

    async def _in_chunks(
        self, make: Any, column: sa.ColumnElement[Any], ids: Iterable[Any]
    ) -> list[Any]:
        """Rows of ``make(clause)`` for ``column`` among ``ids``, one query per chunk."""
        values = list(dict.fromkeys(ids))
        out: list[Any] = []
        for chunk in chunks(values, 5000):
            out += await self._all(make(any_of(self.session, column, chunk)))
        return out

    # plans
    async def all_plans(self) -> list[Any]:
        """Every plan, oldest first."""
        return await self._all(sa.select(plans).order_by(plans.c.valid_from, plans.c.id))

    async def plan_row(self, plan_id: uuid.UUID) -> Any:
        """One plan row, or None."""
        return await row_by_id(self.session, plans, plan_id)

    async def open_plan_of(self, role: str | None, rep_id: uuid.UUID | None) -> Any:
        """The plan of this role or rep still in force with no end (the one a new plan ends)."""
        target = plans.c.rep_id == rep_id if rep_id is not None else plans.c.role == role
        clause = sa.and_(target, plans.c.rep_id.is_(None)) if rep_id is None else target
        statement = (
            sa.select(plans)
            .where(clause, plans.c.valid_to.is_(None))
            .order_by(plans.c.valid_from.desc())
            .limit(1)
            .with_for_update()
        )
        return (await self.session.execute(statement)).first()

    async def insert_plan(self, values: dict[str, Any]) -> None:
        """Store a new plan."""
        await self.session.execute(sa.insert(plans).values(**values))

    async def end_plan(self, plan_id: uuid.UUID, valid_to: dt.date, definition: Any) -> None:
        """Set a plan's last day (exclusive) when its successor starts."""
        await self.session.execute(
            sa.update(plans)
            .where(plans.c.id == plan_id)
            .values(valid_to=valid_to, definition=definition)
        )

    async def last_closed_period_end(self) -> Any:
        """The latest period that has a closed (or approved) statement, or None."""
        statement = sa.select(sa.func.max(statements.c.period)).where(statements.c.status != "open")
        return (await self.session.execute(statement)).scalar()

    # users
    async def people(self) -> list[Any]:
        """(id, role, manager_id) of every active rep and manager."""
        return await self._all(
            sa.select(_users.c.id, _users.c.role, _users.c.manager_id).where(
                _users.c.active.is_(True), _users.c.role.in_(["rep", "manager"])
            )
        )

    async def person(self, user_id: uuid.UUID) -> Any:
        """(id, role, manager_id, active) of one user, or None."""
        statement = sa.select(
            _users.c.id, _users.c.role, _users.c.manager_id, _users.c.active
        ).where(_users.c.id == user_id)
        return (await self.session.execute(statement)).first()

    # splits
    async def order_owner(self, order_id: uuid.UUID) -> Any:
        """(id, owner_id) of an order, or None."""
        statement = sa.select(_orders.c.id, _orders.c.owner_id).where(_orders.c.id == order_id)
        return (await self.session.execute(statement)).first()

    async def split_of(self, order_id: uuid.UUID, *, lock: bool = False) -> Any:
        """The split row of an order, or None (the owner gets it all)."""
        statement = sa.select(splits).where(splits.c.order_id == order_id)
        if lock:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).first()

    async def put_split(self, order_id: uuid.UUID, values: dict[str, Any], exists: bool) -> None:
        """Write an order's split (insert or replace)."""
        if exists:
            await self.session.execute(
                sa.update(splits).where(splits.c.order_id == order_id).values(**values)
            )
        else:
            await self.session.execute(sa.insert(splits).values(order_id=order_id, **values))

    async def add_split_change(self, values: dict[str, Any]) -> None:
        """Append to the audit trail of splits."""
        await self.session.execute(sa.insert(split_changes).values(**values))

    async def split_changes_of(self, order_id: uuid.UUID) -> list[Any]:
        """The audit trail of an order's splits, oldest first."""
        return await self._all(
            sa.select(split_changes)
            .where(split_changes.c.order_id == order_id)
            .order_by(split_changes.c.id)
        )

    async def splits_of(self, order_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
        """The shares of the orders that have a split."""
        rows = await self._in_chunks(
            lambda clause: sa.select(splits.c.order_id, splits.c.shares).where(clause),
            splits.c.order_id,
            order_ids,
        )
        return {row.order_id: row.shares for row in rows}

    # the central records
    async def confirmations(self, start: dt.datetime, end: dt.datetime) -> list[Any]:
        """(order_id, at) of the orders first confirmed within ``start..end``."""
        first = sa.func.min(_transitions.c.created_at)
        statement = (
            sa.select(_transitions.c.order_id, first.label("at"))
            .where(_transitions.c.to_status == "confirmed")
            .group_by(_transitions.c.order_id)
            .having(sa.and_(first >= start, first < end))
        )
        return await self._all(statement)

    async def confirmations_of(self, order_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """When each of these orders was first confirmed (those that were)."""
        first = sa.func.min(_transitions.c.created_at)
        rows = await self._in_chunks(
            lambda clause: (
                sa.select(_transitions.c.order_id, first.label("at"))
                .where(clause, _transitions.c.to_status == "confirmed")
                .group_by(_transitions.c.order_id)
            ),
            _transitions.c.order_id,
            order_ids,
        )
        return {row.order_id: row.at for row in rows}

    async def cancellations(self, start: dt.datetime, end: dt.datetime) -> list[Any]:
        """(id, order_id, at) of the cancellations within ``start..end``."""
        return await self._all(
            sa.select(
                _transitions.c.id, _transitions.c.order_id, _transitions.c.created_at.label("at")
            ).where(
                _transitions.c.to_status == "cancelled",
                _transitions.c.created_at >= start,
                _transitions.c.created_at < end,
            )
        )

    async def cancellations_of(self, order_ids: Iterable[uuid.UUID]) -> list[Any]:
        """(id, order_id, at) of every cancellation of these orders."""
        return await self._in_chunks(
            lambda clause: sa.select(
                _transitions.c.id, _transitions.c.order_id, _transitions.c.created_at.label("at")
            ).where(clause, _transitions.c.to_status == "cancelled"),
            _transitions.c.order_id,
            order_ids,
        )

    async def orders(self, order_ids: Iterable[uuid.UUID]) -> list[Any]:
        """(id, owner_id, lines, order_discount_pct) of these orders."""
        return await self._in_chunks(
            lambda clause: sa.select(
                _orders.c.id, _orders.c.owner_id, _orders.c.lines, _orders.c.order_discount_pct
            ).where(clause),
            _orders.c.id,
            order_ids,
        )

    async def categories_of(self, product_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The category name of each of these products (those that have one)."""
        rows = await self._in_chunks(
            lambda clause: (
                sa.select(_products.c.id, _categories.c.name)
                .join(_categories, _categories.c.id == _products.c.category_id)
                .where(clause)
            ),
            _products.c.id,
            product_ids,
        )
        return {row.id: row.name for row in rows}

    def _money(self) -> Any:
        return sa.select(
            _payments.c.id,
            _payments.c.kind,
            _payments.c.account_id,
            _payments.c.rep_id,
            _payments.c.amount,
            _payments.c.refund_of,
            _payments.c.received_on,
            _payments.c.created_at,
        )

    async def money(self, kind: str, first: dt.date, after: dt.date) -> list[Any]:
        """Payments (or refunds) received on a day within ``first..after`` (exclusive)."""
        return await self._all(
            self._money().where(
                _payments.c.kind == kind,
                _payments.c.received_on >= first,
                _payments.c.received_on < after,
            )
        )

    async def payments_by_id(self, ids: Iterable[uuid.UUID]) -> list[Any]:
        """These payments."""
        return await self._in_chunks(lambda c: self._money().where(c), _payments.c.id, ids)

    async def refunds_of(self, payment_ids: Iterable[uuid.UUID]) -> list[Any]:
        """Every refund of these payments."""
        return await self._in_chunks(
            lambda c: self._money().where(c, _payments.c.kind == "refund"),
            _payments.c.refund_of,
            payment_ids,
        )

    async def assignments_of(self, account_ids: Iterable[uuid.UUID]) -> list[Any]:
        """The ownership history of these accounts (``account_assignments``)."""
        return await self._in_chunks(
            lambda clause: sa.select(
                _assignments.c.account_id,
                _assignments.c.owner_id,
                _assignments.c.valid_from,
                _assignments.c.valid_to,
            ).where(clause),
            _assignments.c.account_id,
            account_ids,
        )

    # statements
    async def statements_of(
        self, period: str, rep_ids: Sequence[uuid.UUID] | None = None, *, lock: bool = False
    ) -> list[Any]:
        """The stored statements of a period (of these reps)."""
        statement = sa.select(statements).where(statements.c.period == period)
        if rep_ids is not None:
            statement = statement.where(any_of(self.session, statements.c.rep_id, rep_ids))
        if lock:
            statement = statement.with_for_update()
        return await self._all(statement.order_by(statements.c.id))

    async def statement_row(self, statement_id: uuid.UUID, *, lock: bool = False) -> Any:
        """One statement, or None."""
        return await row_by_id(self.session, statements, statement_id, lock=lock)

    async def insert_statements(self, rows: list[dict[str, Any]]) -> None:
        """Store new statements."""
        if rows:
            await self.session.execute(sa.insert(statements), rows)

    async def update_statement(self, statement_id: uuid.UUID, values: dict[str, Any]) -> None:
        """Rewrite a statement's figures or status (the version goes up)."""
        await self.session.execute(
            sa.update(statements)
            .where(statements.c.id == statement_id)
            .values(version=statements.c.version + 1, **values)
        )

    def statements_statement(
        self, reps: frozenset[uuid.UUID] | None, rep_id: uuid.UUID | None, period: str | None
    ) -> sa.Select[Any]:
        """Statements of ``reps`` (None: everyone's), filtered by rep and period."""
        clauses: list[sa.ColumnElement[bool]] = []
        if reps is not None:
            clauses.append(statements.c.rep_id.in_(reps))
        if rep_id is not None:
            clauses.append(statements.c.rep_id == rep_id)
        if period is not None:
            clauses.append(statements.c.period == period)
        return sa.select(statements).where(*clauses)

    # disputes
    async def accepted_adjustments(self, period: str, rep_ids: Sequence[uuid.UUID]) -> list[Any]:
        """Accepted disputes whose adjustment is posted to these reps' ``period``."""
        return await self._all(
            sa.select(disputes)
            .where(
                disputes.c.status == "accepted",
                disputes.c.adjustment_period == period,
                any_of(self.session, disputes.c.rep_id, rep_ids),
            )
            .order_by(disputes.c.resolved_at, disputes.c.id)
        )

    async def dispute_row(self, dispute_id: uuid.UUID, *, lock: bool = False) -> Any:
        """One dispute, or None."""
        return await row_by_id(self.session, disputes, dispute_id, lock=lock)

    async def open_dispute_of(self, statement_id: uuid.UUID, line_no: int) -> Any:
        """The open dispute of a statement line, or None."""
        statement = sa.select(disputes.c.id).where(
            disputes.c.statement_id == statement_id,
            disputes.c.line_no == line_no,
            disputes.c.status == "open",
        )
        return (await self.session.execute(statement)).first()

    async def insert_dispute(self, values: dict[str, Any]) -> None:
        """Store a new dispute."""
        await self.session.execute(sa.insert(disputes).values(**values))

    async def resolve_dispute(self, dispute_id: uuid.UUID, values: dict[str, Any]) -> None:
        """Write a dispute's resolution."""
        await self.session.execute(
            sa.update(disputes).where(disputes.c.id == dispute_id).values(**values)
        )

    def disputes_statement(
        self, reps: frozenset[uuid.UUID] | None, status: str | None
    ) -> sa.Select[Any]:
        """Disputes of ``reps`` (None: everyone's), filtered by status."""
        clauses: list[sa.ColumnElement[bool]] = []
        if reps is not None:
            clauses.append(disputes.c.rep_id.in_(reps))
        if status is not None:
            clauses.append(disputes.c.status == status)
        return sa.select(disputes).where(*clauses)
