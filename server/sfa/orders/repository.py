"""The queries orders need: the customer's standing, open orders, stock, the desk's lists and
the transition audit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.models import User
from server.db import new_id, utcnow
from server.errors import ValidationFailed
from server.sfa.accounts.models import Account
from server.sfa.orders.models import Order, OrderTransition
from server.sfa.orders.rules import OPEN_STATUSES
from server.sfa.scopes import Visibility
from server.sfa.stock.models import StockBalance, Warehouse
from server.sfa.territories.models import Territory
from server.sync.bulk import insert_rows

orders = cast(sa.Table, Order.__table__)
transitions = cast(sa.Table, OrderTransition.__table__)
_accounts = cast(sa.Table, Account.__table__)
_territories = cast(sa.Table, Territory.__table__)
_warehouses = cast(sa.Table, Warehouse.__table__)
_users = cast(sa.Table, User.__table__)
_WAREHOUSES_KEY = "outpost.orders.warehouses"


@dataclass(frozen=True)
class OrderFilters:
    """What the order desk's list filters on (all optional; ``since``/``until`` on the
    submission time, ``territory_id`` takes the node and everything under it)."""

    status: str | None = None
    hold_reason: str | None = None
    rep_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class Transition:
    """One row of the audit: ``action`` took the order from ``from_status`` to ``to_status``."""

    order_id: uuid.UUID
    action: str
    from_status: str
    to_status: str
    reasons: Sequence[str] = ()
    note: str = ""
    actor_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None


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

    async def lock_status(self, order_id: uuid.UUID) -> str | None:
        """The order's committed status, its row locked until commit (None: no such order).

        Every status change takes this lock first, so a desk decision and a device's action on
        one order queue, and the second sees the status the first left."""
        statement = sa.select(orders.c.status).where(orders.c.id == order_id).with_for_update()
        status = (await self.session.execute(statement)).scalar_one_or_none()
        return None if status is None else str(getattr(status, "value", status))

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
    ) -> dict[uuid.UUID, Decimal]:
        """On hand minus reserved per product (a product without a balance is absent)."""
        rows = await self.session.execute(
            sa.select(StockBalance.product_id, StockBalance.on_hand, StockBalance.reserved).where(
                StockBalance.warehouse_id == warehouse_id,
                StockBalance.product_id.in_(list(product_ids)),
            )
        )
        return {row.product_id: row.on_hand - row.reserved for row in rows}

    async def warehouse(self, warehouse_id: uuid.UUID) -> Any:
        """``active``, ``owner_id`` and ``allow_backorder`` of a warehouse, or None (read once
        per transaction: a push checks the warehouse of every order it carries)."""
        info: dict[str, Any] = self.session.info
        cached: dict[uuid.UUID, Any] = info.setdefault(_WAREHOUSES_KEY, {})
        if warehouse_id not in cached:
            statement = sa.select(
                _warehouses.c.active, _warehouses.c.owner_id, _warehouses.c.allow_backorder
            ).where(_warehouses.c.id == warehouse_id)
            row = (await self.session.execute(statement)).first()
            if row is None:
                return None
            cached[warehouse_id] = row
        return cached[warehouse_id]

    async def exists(self, table: sa.Table, record_id: uuid.UUID, **where: Any) -> bool:
        """True when ``table`` has a row with this id (and the given column values)."""
        statement = sa.select(table.c.id).where(table.c.id == record_id)
        for column, value in where.items():
            statement = statement.where(table.c[column] == value)
        return (await self.session.scalar(statement)) is not None

    async def add_transition(self, transition: Transition) -> None:
        """Append one transition to the audit (in the caller's transaction)."""
        await self.add_transitions([transition])

    async def add_transitions(self, items: Sequence[Transition]) -> None:
        """Append transitions to the audit in one statement (in the caller's transaction)."""
        now = utcnow()
        await insert_rows(
            self.session,
            transitions,
            [
                {
                    "id": new_id(),
                    "order_id": t.order_id,
                    "action": t.action,
                    "from_status": t.from_status,
                    "to_status": t.to_status,
                    "reasons": list(t.reasons),
                    "note": t.note,
                    "actor_id": t.actor_id,
                    "device_id": t.device_id,
                    "created_at": now,
                }
                for t in items
            ],
        )

    async def lock_standings(self, account_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """``lock_account_standing`` of many accounts at once (and their segment), locked in id
        order so two pushes locking overlapping customers wait instead of deadlocking."""
        ids = sorted(set(account_ids))
        if not ids:
            return {}
        statement = (
            sa.select(
                Account.id,
                Account.segment,
                Account.blacklisted,
                Account.arrears,
                Account.credit_limit,
            )
            .where(Account.id.in_(ids))
            .order_by(Account.id)
            .with_for_update()
        )
        return {row.id: row for row in await self.session.execute(statement)}

    async def segments(self, account_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """The segment of each of these accounts (an unknown id is absent)."""
        statement = sa.select(Account.id, Account.segment).where(
            Account.id.in_(sorted(set(account_ids)))
        )
        return {row.id: row.segment for row in await self.session.execute(statement)}

    async def open_orders(
        self, account_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[uuid.UUID, Decimal]]:
        """The open orders of these accounts: order id -> (account id, total)."""
        ids = sorted(set(account_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            sa.select(Order.id, Order.account_id, Order.total).where(
                Order.account_id.in_(ids), Order.status.in_(OPEN_STATUSES)
            )
        )
        return {row.id: (row.account_id, row.total) for row in rows}

    def transitions_statement(self, order_id: uuid.UUID) -> sa.Select[Any]:
        """The transitions of one order (paged by id: oldest first)."""
        return sa.select(transitions).where(transitions.c.order_id == order_id)

    async def visible_account(
        self, account_id: uuid.UUID, seen: Visibility
    ) -> tuple[bool, uuid.UUID | None]:
        """(whether ``seen`` allows the account, its owner) for an order written over REST."""
        statement = sa.select(_accounts.c.owner_id).where(
            _accounts.c.id == account_id,
            seen.account_filter(_accounts.c.territory_id, _accounts.c.owner_id),
        )
        row = (await self.session.execute(statement)).first()
        return (False, None) if row is None else (True, row.owner_id)

    async def active_user(self, user_id: uuid.UUID) -> bool:
        """True when the user exists and is active (an order's owner must be)."""
        statement = sa.select(_users.c.id).where(_users.c.id == user_id, _users.c.active)
        return (await self.session.scalar(statement)) is not None

    async def visible_order_ids(
        self, order_ids: Sequence[uuid.UUID], seen: Visibility
    ) -> set[uuid.UUID]:
        """The orders among ``order_ids`` whose account ``seen`` allows."""
        statement = (
            sa.select(orders.c.id)
            .join(_accounts, _accounts.c.id == orders.c.account_id)
            .where(
                orders.c.id.in_(list(order_ids)),
                seen.account_filter(_accounts.c.territory_id, _accounts.c.owner_id),
            )
        )
        return set((await self.session.scalars(statement)).all())

    def orders_statement(self, filters: OrderFilters, seen: Visibility) -> sa.Select[Any]:
        """The visible orders matching ``filters``."""
        statement = (
            sa.select(orders)
            .join(_accounts, _accounts.c.id == orders.c.account_id)
            .where(seen.account_filter(_accounts.c.territory_id, _accounts.c.owner_id))
        )
        if filters.status is not None:
            statement = statement.where(orders.c.status == filters.status)
        if filters.hold_reason is not None:
            # reasons are plain codes: the JSON text holds each one quoted, on both backends
            text = sa.cast(orders.c.hold_reasons, sa.Text)
            statement = statement.where(text.contains(f'"{filters.hold_reason}"', autoescape=True))
        if filters.rep_id is not None:
            statement = statement.where(orders.c.owner_id == filters.rep_id)
        if filters.account_id is not None:
            statement = statement.where(orders.c.account_id == filters.account_id)
        if filters.since is not None:
            statement = statement.where(orders.c.submitted_at >= filters.since)
        if filters.until is not None:
            statement = statement.where(orders.c.submitted_at < filters.until)
        if filters.territory_id is not None:
            statement = statement.where(
                _accounts.c.territory_id.in_(territory_subtree(filters.territory_id))
            )
        return statement


def territory_subtree(territory_id: uuid.UUID) -> sa.Select[Any]:
    """The ids of a territory and every territory below it (a desk list's ``territory_id``
    filter: orders, quotes)."""
    subtree = (
        sa.select(_territories.c.id)
        .where(_territories.c.id == territory_id)
        .cte("desk_subtree", recursive=True)
    )
    subtree = subtree.union(
        sa.select(_territories.c.id).join(subtree, _territories.c.parent_id == subtree.c.id)
    )
    return sa.select(subtree.c.id)
