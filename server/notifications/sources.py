"""Where reminders come from: each rule's records read as facts for ``rules.reminders``.

A ``Source`` answers the reminders due within a window (the generator writes them to the
outbox) and, for the dispatcher, the reminders the given records call for now (a queued
reminder no longer among them is suppressed).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from rules import reminders as rr
from rules.reminders import Reminder
from server.auth.models import User
from server.notifications.outbox import among
from server.settings import Settings
from server.sfa.accounts.models import Account
from server.sfa.calendar.models import CalendarEvent
from server.sfa.orders.models import Order
from server.sfa.quotes.models import Quote
from server.sfa.visits.models import Visit

_EVENT_OFFSET_BOUND = dt.timedelta(days=30)  # events further out are not looked at yet
_GRACE = dt.timedelta(days=1)  # reminders due this long ago are still written (downtime)


class Source(Protocol):
    """The records behind one rule."""

    rule: str

    async def due(
        self, session: AsyncSession, now: dt.datetime, until: dt.datetime
    ) -> list[Reminder]: ...

    async def current(
        self, session: AsyncSession, record_ids: Sequence[uuid.UUID], now: dt.datetime
    ) -> dict[uuid.UUID, list[Reminder]]: ...


def _window(found: Iterable[Reminder], now: dt.datetime, until: dt.datetime) -> list[Reminder]:
    return [r for r in found if now - _GRACE <= r.due_at <= until]


def _by_record(found: Iterable[Reminder]) -> dict[uuid.UUID, list[Reminder]]:
    grouped: dict[uuid.UUID, list[Reminder]] = {}
    for reminder in found:
        grouped.setdefault(reminder.record_id, []).append(reminder)
    return grouped


class QuerySource:
    """A source from a query of fact rows, a window filter and a pure rule."""

    def __init__(
        self,
        rule: str,
        select: Callable[[], Any],
        id_column: Any,
        window: Callable[[dt.datetime, dt.datetime], list[Any]],
        remind: Callable[[Any, dt.datetime], list[Reminder]],
    ) -> None:
        self.rule = rule
        self.select, self.id_column, self.window, self.remind = select, id_column, window, remind

    async def _run(
        self, session: AsyncSession, where: list[Any], now: dt.datetime
    ) -> list[Reminder]:
        rows = (await session.execute(self.select().where(*where))).all()
        return [reminder for row in rows for reminder in self.remind(row, now)]

    async def due(
        self, session: AsyncSession, now: dt.datetime, until: dt.datetime
    ) -> list[Reminder]:
        return _window(await self._run(session, self.window(now, until), now), now, until)

    async def current(
        self, session: AsyncSession, record_ids: Sequence[uuid.UUID], now: dt.datetime
    ) -> dict[uuid.UUID, list[Reminder]]:
        if not record_ids:
            return {}
        dialect = session.get_bind().dialect.name
        return _by_record(
            await self._run(session, [among(self.id_column, record_ids, dialect)], now)
        )


_EVENT_COLUMNS = (
    CalendarEvent.id,
    CalendarEvent.owner_id,
    CalendarEvent.title,
    CalendarEvent.kind,
    CalendarEvent.status,
    CalendarEvent.starts_at,
    CalendarEvent.reminder_offsets,
)


def _today(now: dt.datetime, timezone: str) -> dt.date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _visit_select() -> Any:
    later = aliased(Visit)
    later_check_in = (
        sa.select(sa.func.max(later.check_in_at))
        .where(
            later.account_id == Visit.account_id,
            later.rep_id == Visit.rep_id,
            later.id != Visit.id,
            later.check_in_at.is_not(None),
        )
        .scalar_subquery()
    )
    return (
        sa.select(
            Visit,
            Account.name,
            User.timezone,
            User.manager_id,
            later_check_in.label("later_check_in_at"),
        )
        .join(Account, Account.id == Visit.account_id)
        .join(User, User.id == Visit.rep_id)
    )


def _visit_facts(row: Any) -> rr.VisitFacts:
    visit: Visit = row[0]
    return rr.VisitFacts(
        id=visit.id,
        rep_id=visit.rep_id,
        account_id=visit.account_id,
        account_name=row[1],
        status=visit.status,
        planned_at=visit.planned_at,
        approval=visit.approval,
        check_in_at=visit.check_in_at,
        next_follow_up_on=visit.next_follow_up_on,
        later_check_in_at=row[4],
        manager_id=row[3],
    )


def build_sources(settings: Settings) -> dict[str, Source]:
    """Every rule whose records exist, by rule name (``instalment_overdue`` has none yet)."""
    offsets = settings.notify_visit_offsets
    most = dt.timedelta(minutes=max(offsets, default=0))
    hour = settings.notify_follow_up_hour

    def event_row(row: Any, now: dt.datetime) -> list[Reminder]:
        event = row
        return rr.event_reminders(
            rr.EventFacts(
                id=event.id,
                owner_id=event.owner_id,
                title=event.title,
                kind=event.kind,
                status=event.status,
                starts_at=event.starts_at,
                reminder_offsets=tuple(
                    int(m) for m in event.reminder_offsets or () if isinstance(m, int)
                ),
            ),
            now,
        )

    def follow_up_row(row: Any, now: dt.datetime) -> list[Reminder]:
        return rr.follow_up_reminders(_visit_facts(row), row[2], hour)

    def quote_row(row: Any, now: dt.datetime) -> list[Reminder]:
        quote: Quote = row[0]
        facts = rr.QuoteFacts(
            id=quote.id,
            owner_id=quote.owner_id,
            number=quote.number,
            status=quote.status,
            valid_until=quote.valid_until,
        )
        return rr.quote_reminders(
            facts, settings.notify_quote_days_before, row[1], hour, _today(now, row[1])
        )

    def order_row(row: Any, now: dt.datetime) -> list[Reminder]:
        order: Order = row[0]
        facts = rr.OrderFacts(
            id=order.id,
            owner_id=order.owner_id,
            number=str(order.id)[:8],
            status=order.status,
            hold_reason=order.hold_reason,
            version=order.version,
        )
        return rr.order_hold_reminders(facts, order.updated_at)

    def vip_row(row: Any, now: dt.datetime) -> list[Reminder]:
        last = row[3]
        facts = rr.AccountFacts(
            id=row[0],
            owner_id=row[1],
            name=row[2],
            value_tier="vip",
            last_visit_on=last.astimezone(ZoneInfo(row[4])).date() if last is not None else None,
        )
        return rr.vip_reminders(facts, settings.visit_rhythm_vip_days, row[4], hour)

    last_visit = (
        sa.select(sa.func.max(Visit.check_in_at))
        .where(Visit.account_id == Account.id)
        .scalar_subquery()
    )
    sources: list[Source] = [
        QuerySource(
            rr.EVENT_UPCOMING,
            lambda: sa.select(*_EVENT_COLUMNS),
            CalendarEvent.id,
            lambda now, until: [
                CalendarEvent.status == "open",
                CalendarEvent.starts_at > now,
                CalendarEvent.starts_at <= until + _EVENT_OFFSET_BOUND,
            ],
            event_row,
        ),
        QuerySource(
            rr.VISIT_UPCOMING,
            _visit_select,
            Visit.id,
            lambda now, until: [
                Visit.status == "planned",
                Visit.planned_at > now,
                Visit.planned_at <= until + most,
            ],
            lambda row, now: rr.visit_reminders(_visit_facts(row), offsets, now),
        ),
        QuerySource(
            rr.FOLLOW_UP_DUE,
            _visit_select,
            Visit.id,
            lambda now, until: [
                Visit.next_follow_up_on.is_not(None),
                Visit.next_follow_up_on >= (now - _GRACE).date() - dt.timedelta(days=1),
                Visit.next_follow_up_on <= until.date() + dt.timedelta(days=1),
            ],
            follow_up_row,
        ),
        QuerySource(
            rr.APPROVAL_WAITING,
            _visit_select,
            Visit.id,
            lambda now, until: [Visit.approval == "pending"],
            lambda row, now: rr.approval_reminders(_visit_facts(row)),
        ),
        QuerySource(
            rr.QUOTE_EXPIRING,
            lambda: sa.select(Quote, User.timezone).join(User, User.id == Quote.owner_id),
            Quote.id,
            lambda now, until: [
                Quote.status == "sent",
                Quote.valid_until.is_not(None),
                Quote.valid_until >= now.date() - dt.timedelta(days=1),
                Quote.valid_until
                <= until.date() + dt.timedelta(days=settings.notify_quote_days_before + 1),
            ],
            quote_row,
        ),
        QuerySource(
            rr.ORDER_ON_HOLD,
            lambda: sa.select(Order),
            Order.id,
            lambda now, until: [Order.status == "on_hold"],
            order_row,
        ),
        QuerySource(
            rr.VIP_NOT_VISITED,
            lambda: sa.select(
                Account.id,
                Account.owner_id,
                Account.name,
                last_visit.label("last_visit"),
                User.timezone,
            ).join(User, User.id == Account.owner_id),
            Account.id,
            lambda now, until: [Account.value_tier == "vip", Account.owner_id.is_not(None)],
            vip_row,
        ),
    ]
    return {source.rule: source for source in sources}
