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
from server.sfa.contracts.models import Contract, Instalment
from server.sfa.expenses.models import ExpenseReport
from server.sfa.orders.models import Order, OrderTransition
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


class UnionSource:
    """One rule whose records live in several tables (a quote's or an order's approval)."""

    def __init__(self, rule: str, parts: Sequence[Source]) -> None:
        self.rule, self.parts = rule, list(parts)

    async def due(
        self, session: AsyncSession, now: dt.datetime, until: dt.datetime
    ) -> list[Reminder]:
        return [r for part in self.parts for r in await part.due(session, now, until)]

    async def current(
        self, session: AsyncSession, record_ids: Sequence[uuid.UUID], now: dt.datetime
    ) -> dict[uuid.UUID, list[Reminder]]:
        found: dict[uuid.UUID, list[Reminder]] = {}
        for part in self.parts:
            found.update(await part.current(session, record_ids, now))
        return found


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


def _order_select() -> Any:
    """Orders with their latest transition (transition ids are UUIDv7: time-ordered)."""
    step = aliased(OrderTransition)
    latest = (
        sa.select(step.id)
        .where(step.order_id == Order.id)
        .order_by(step.id.desc())
        .limit(1)
        .correlate(Order)
        .scalar_subquery()
    )
    return sa.select(
        Order.id,
        Order.owner_id,
        Order.status,
        Order.hold_reason,
        OrderTransition.id,
        OrderTransition.action,
        OrderTransition.to_status,
        OrderTransition.created_at,
        OrderTransition.actor_id,
    ).join(OrderTransition, OrderTransition.id == latest)


def _order_facts(row: Any) -> rr.OrderFacts:
    return rr.OrderFacts(
        id=row[0],
        owner_id=row[1],
        number=str(row[0])[:8],
        status=str(row[2]),
        hold_reason=row[3],
        transition_id=row[4],
        action=row[5],
        to_status=row[6],
        moved_at=row[7],
        actor_id=row[8],
    )


def _order_window(now: dt.datetime, until: dt.datetime) -> list[Any]:
    return [OrderTransition.created_at >= now - _GRACE, OrderTransition.created_at <= until]


def _instalment_select() -> Any:
    return (
        sa.select(Instalment, Contract.owner_id, Contract.status, Account.name, User.timezone)
        .join(Contract, Contract.id == Instalment.contract_id)
        .join(Account, Account.id == Instalment.account_id)
        .join(User, User.id == Contract.owner_id)
    )


PENDING = "pending_approval"


def _pending_select(model: Any, requested_at: Any, occurrence: Any) -> Callable[[], Any]:
    """A document's approval request: its owner's manager, its time and occurrence."""
    return lambda: sa.select(
        model.id,
        model.owner_id,
        model.status,
        requested_at,
        occurrence,
        User.manager_id,
        User.name,
    ).join(User, User.id == model.owner_id)


def _approval_row(entity: str, pending: str) -> Callable[[Any, dt.datetime], list[Reminder]]:
    def remind(row: Any, now: dt.datetime) -> list[Reminder]:
        return rr.approval_request_reminders(
            rr.ApprovalRequestFacts(
                id=row[0],
                entity=entity,
                requester_id=row[1],
                manager_id=row[5],
                label=f"from {row[6]}",
                pending=str(row[2]) == pending,
                requested_at=row[3] or now,
                occurrence=row[4].isoformat() if isinstance(row[4], dt.datetime) else row[4],
            )
        )

    return remind


def _approval_source(
    rule: str, model: Any, entity: str, pending: str, requested_at: Any, occurrence: Any
) -> QuerySource:
    """Documents of ``model`` waiting (``status == pending``) since at most a day ago."""
    return QuerySource(
        rule,
        _pending_select(model, requested_at, occurrence),
        model.id,
        lambda now, until: [model.status == pending, requested_at >= now - _GRACE],
        _approval_row(entity, pending),
    )


def build_sources(settings: Settings) -> dict[str, Source]:
    """Every rule with its records, by rule name."""
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

    def instalment_row(row: Any, now: dt.datetime) -> list[Reminder]:
        instalment: Instalment = row[0]
        facts = rr.InstalmentFacts(
            id=instalment.id,
            owner_id=row[1],
            account_name=row[3],
            contract_status=str(row[2]),
            seq=instalment.seq,
            due_date=instalment.due_date,
            outstanding=instalment.outstanding,
            currency=instalment.currency,
            status=str(instalment.status),
        )
        return rr.instalment_reminders(facts, row[4], hour)

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
            _order_select,
            Order.id,
            lambda now, until: [Order.status == "on_hold", *_order_window(now, until)],
            lambda row, now: rr.order_hold_reminders(_order_facts(row)),
        ),
        QuerySource(
            rr.ORDER_RELEASED,
            _order_select,
            Order.id,
            lambda now, until: [OrderTransition.action == "release", *_order_window(now, until)],
            lambda row, now: rr.order_release_reminders(_order_facts(row)),
        ),
        QuerySource(
            rr.INSTALMENT_OVERDUE,
            _instalment_select,
            Instalment.id,
            lambda now, until: [
                Instalment.status == "open",
                Instalment.due_date >= (now - _GRACE).date() - dt.timedelta(days=2),
                Instalment.due_date <= until.date(),
            ],
            instalment_row,
        ),
        UnionSource(
            rr.DISCOUNT_APPROVAL_WAITING,
            [
                _approval_source(rr.DISCOUNT_APPROVAL_WAITING, *part)
                for part in (
                    (Quote, "quote", PENDING, Quote.updated_at, Quote.approval_fingerprint),
                    (Order, "order", PENDING, Order.updated_at, Order.approval_fingerprint),
                )
            ],
        ),
        _approval_source(
            rr.EXPENSE_APPROVAL_WAITING,
            ExpenseReport,
            "expense",
            "submitted",
            ExpenseReport.submitted_at,
            ExpenseReport.submitted_at,
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
