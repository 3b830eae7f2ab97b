"""Order statistics over REST: counts, quantities and amounts of the orders a manager may see,
by day, week or month of the company's time zone and by rep, territory, account, product or
category (docs/orders.md, "Statistics")."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from decimal import Decimal

import msgspec

from protocol.entities.documents import OrderStatus
from protocol.errors import INVALID_CURSOR
from server.errors import ValidationFailed
from server.sfa.area_service import AreaService
from server.sfa.orders.statistics_repository import (
    GroupBy,
    Interval,
    OrderStatsRepository,
    StatsFilters,
)
from server.sfa.scopes import visibility

# what counts by default: orders the company is committed to deliver, or delivered
COMMITTED_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.FULFILLED)
CENTS = Decimal(100)
QUANTITY_SCALE = Decimal(10_000)


class StatsRow(msgspec.Struct, kw_only=True):
    """One bucket (and group) of figures, in one currency."""

    bucket: dt.date  # the first day of the day, week (Monday) or month
    key: uuid.UUID | None  # the rep, territory, account, product or category; None: no group
    currency: str
    orders: int
    quantity: Decimal
    amount: Decimal  # net of line and order discounts, without tax
    total: Decimal  # amount plus tax


class StatsPage(msgspec.Struct, kw_only=True):
    """One page of statistics rows, ordered by bucket, key and currency."""

    items: list[StatsRow]
    next_cursor: str | None
    interval: Interval
    group_by: GroupBy | None
    time_zone: str
    statuses: list[OrderStatus]


class StatsRequest(msgspec.Struct, kw_only=True):
    """The parameters of ``GET /orders/statistics``."""

    interval: Interval = Interval.MONTH
    group_by: GroupBy | None = None
    day_from: str | None = None  # YYYY-MM-DD, as the client wrote it (``from``)
    day_to: str | None = None  # (``to``)
    statuses: list[OrderStatus] | None = None
    rep_id: uuid.UUID | None = None
    territory_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"stats:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        offset = int(number)
        if prefix != "stats" or offset < 0:
            raise ValueError(text)
        return offset
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid", field="cursor", code=INVALID_CURSOR) from exc


class OrderStatisticsService(AreaService):
    """Statistics of the orders in the caller's scope (managers: their subtree; admins: all)."""

    async def statistics(
        self, request: StatsRequest, *, cursor: str | None, limit: int | None
    ) -> StatsPage:
        """One page of grouped figures; 422 naming the parameter for a bad one."""
        size = self._limit(limit)
        offset = _offset(cursor)
        day_from, day_to = _day_param(request.day_from, "from"), _day_param(request.day_to, "to")
        if day_from and day_to and day_from > day_to:
            raise ValidationFailed("from is after to", field="from")
        statuses = request.statuses or list(COMMITTED_STATUSES)
        async with self.db.reading() as session:
            repo = OrderStatsRepository(session)
            territories = None
            if request.territory_id is not None:
                territories = await repo.territory_subtree(request.territory_id)
                if not territories:
                    raise ValidationFailed("territory does not exist", field="territory_id")
            filters = StatsFilters(
                statuses=tuple(str(s.value) for s in statuses),
                day_from=day_from,
                day_to=day_to,
                rep_id=request.rep_id,
                territory_ids=territories,
                account_id=request.account_id,
                product_id=request.product_id,
                category_id=request.category_id,
            )
            seen = await visibility(session, self.principal)
            rows = await repo.figures(
                request.interval,
                request.group_by,
                filters,
                seen,
                offset=offset,
                limit=size + 1,
            )
        items = [
            StatsRow(
                bucket=_day(row.bucket),
                key=row.key,
                currency=row.currency,
                orders=int(row.orders),
                quantity=(Decimal(row.quantity) / QUANTITY_SCALE).normalize(),
                amount=Decimal(row.amount_cents) / CENTS,
                total=Decimal(row.total_cents) / CENTS,
            )
            for row in rows[:size]
        ]
        return StatsPage(
            items=items,
            next_cursor=_cursor(offset + size) if len(rows) > size else None,
            interval=request.interval,
            group_by=request.group_by,
            time_zone=self.settings.company_timezone,
            statuses=statuses,
        )


def _day_param(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be a day, YYYY-MM-DD", field=name) from exc


def _day(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
