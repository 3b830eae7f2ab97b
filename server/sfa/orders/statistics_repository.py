"""The grouped query over the order statistics read model (``statistics_models``)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.sfa.accounts.models import Account
from server.sfa.orders.statistics_models import OrderLineStat, OrderStat
from server.sfa.scopes import Visibility
from server.sfa.territories.models import Territory

_orders = cast(sa.Table, OrderStat.__table__)
_lines = cast(sa.Table, OrderLineStat.__table__)
_accounts = cast(sa.Table, Account.__table__)
_territories = cast(sa.Table, Territory.__table__)


class Interval(enum.StrEnum):
    """The time bucket of a statistics row, in the company's time zone."""

    DAY = "day"
    WEEK = "week"  # ISO weeks, named by their Monday
    MONTH = "month"  # named by their first day


class GroupBy(enum.StrEnum):
    """The second dimension of a statistics row."""

    REP = "rep"
    TERRITORY = "territory"
    ACCOUNT = "account"
    PRODUCT = "product"
    CATEGORY = "category"


_BUCKET = {Interval.DAY: "local_day", Interval.WEEK: "local_week", Interval.MONTH: "local_month"}
_KEY = {
    GroupBy.REP: "rep_id",
    GroupBy.TERRITORY: "territory_id",
    GroupBy.ACCOUNT: "account_id",
    GroupBy.PRODUCT: "product_id",
    GroupBy.CATEGORY: "category_id",
}
_LINE_LEVEL = frozenset({GroupBy.PRODUCT, GroupBy.CATEGORY})


@dataclass(frozen=True)
class StatsFilters:
    """What a statistics request counts (every field optional but the statuses)."""

    statuses: tuple[str, ...]
    day_from: dt.date | None = None
    day_to: dt.date | None = None
    rep_id: uuid.UUID | None = None
    territory_ids: frozenset[uuid.UUID] | None = None  # a territory and its descendants
    account_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None

    @property
    def line_level(self) -> bool:
        """Do the filters need the lines (a product or a category)?"""
        return self.product_id is not None or self.category_id is not None


class OrderStatsRepository:
    """Grouped figures of the orders a caller may see."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def territory_subtree(self, territory_id: uuid.UUID) -> frozenset[uuid.UUID]:
        """A territory and every territory below it (empty when it does not exist)."""
        tree = (
            sa.select(_territories.c.id)
            .where(_territories.c.id == territory_id)
            .cte("tree", recursive=True)
        )
        tree = tree.union(
            sa.select(_territories.c.id).join(tree, _territories.c.parent_id == tree.c.id)
        )
        return frozenset(await self.session.scalars(sa.select(tree.c.id)))

    async def figures(
        self,
        interval: Interval,
        group_by: GroupBy | None,
        filters: StatsFilters,
        visibility: Visibility,
        *,
        offset: int,
        limit: int,
    ) -> Sequence[sa.Row[Any]]:
        """Rows (bucket, key, currency, orders, quantity, amount_cents, total_cents) ordered by
        bucket, key and currency; ``limit`` rows from ``offset``."""
        lines = filters.line_level or group_by in _LINE_LEVEL
        table = _lines if lines else _orders
        bucket = table.c[_BUCKET[interval]].label("bucket")
        key = (table.c[_KEY[group_by]] if group_by else sa.null()).label("key")
        orders = sa.func.count(sa.distinct(table.c.order_id)) if lines else sa.func.count()
        statement = sa.select(
            bucket,
            key,
            table.c.currency,
            orders.label("orders"),
            sa.func.sum(table.c.quantity).label("quantity"),
            sa.func.sum(table.c.amount_cents).label("amount_cents"),
            sa.func.sum(table.c.total_cents).label("total_cents"),
        ).where(*self._conditions(table, filters))
        if not visibility.everything:
            # scope is the account's as it is now (a manager sees the orders of the accounts
            # they may see), like every other read of orders; a semi-join on the visible
            # accounts (built once) rather than a join that tests the scope on every row
            visible = sa.select(_accounts.c.id).where(
                visibility.account_filter(_accounts.c.territory_id, _accounts.c.owner_id)
            )
            statement = statement.where(table.c.account_id.in_(visible))
        grouping = [bucket, key, table.c.currency] if group_by else [bucket, table.c.currency]
        statement = statement.group_by(*grouping).order_by(
            bucket, *([key.nulls_first()] if group_by else []), table.c.currency
        )
        # the page bounds and the statuses are rendered into the SQL: with them as parameters,
        # PostgreSQL's generic plan (after five runs of a prepared statement) guesses a small
        # share of the rows and walks the month index row by row, several times slower than
        # the hash aggregate over a scan that the real figures choose
        page = statement.offset(sa.literal(offset, literal_execute=True))
        page = page.limit(sa.literal(limit, literal_execute=True))
        return (await self.session.execute(page)).all()

    @staticmethod
    def _conditions(table: sa.Table, filters: StatsFilters) -> list[sa.ColumnElement[bool]]:
        c = table.c
        statuses: sa.BindParameter[list[str]] = sa.bindparam(
            "statuses", list(filters.statuses), expanding=True
        )
        conditions: list[sa.ColumnElement[bool]] = [c.status.in_(statuses.render_literal_execute())]
        if filters.day_from is not None:
            conditions.append(c.local_day >= filters.day_from)
        if filters.day_to is not None:
            conditions.append(c.local_day <= filters.day_to)
        if filters.territory_ids is not None:
            conditions.append(c.territory_id.in_(sorted(filters.territory_ids)))
        for name in ("rep_id", "account_id", "product_id", "category_id"):
            value = getattr(filters, name)
            if value is not None:
                conditions.append(c[name] == value)
        return conditions
