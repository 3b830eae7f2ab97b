"""The ``calendar_event`` syncable entity: wire record, scope, validation."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound, ValidationFailed
from server.sfa.accounts.models import Account
from server.sfa.calendar.models import CalendarEvent, EventKind, EventStatus
from server.sfa.calendar.rules import MAX_REMINDERS, union_of_reminders
from server.sfa.calendar.wire import (
    AwareDateTime,
    check_owner,
    parse_uuid,
    require_text,
    typed,
)
from server.sync.registry import ActionContext, EntitySpec, Policy, Rule, user_key

MAX_REMINDER_MINUTES = 7 * 24 * 60
ReminderOffset = Annotated[int, msgspec.Meta(ge=0, le=MAX_REMINDER_MINUTES)]


class CalendarEventRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A calendar event on the wire."""

    id: uuid.UUID
    version: int = 1
    owner_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    kind: EventKind = EventKind.TASK
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""
    starts_at: AwareDateTime | None = None
    ends_at: AwareDateTime | None = None
    all_day: bool = False
    reminder_offsets: Annotated[list[ReminderOffset], msgspec.Meta(max_length=MAX_REMINDERS)] = []
    notes: str = ""
    status: EventStatus = EventStatus.OPEN
    completed_at: AwareDateTime | None = None
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None


async def scope_of_event(session: AsyncSession, record: Mapping[str, Any]) -> str:
    """An event is private to its owner."""
    owner_id = record.get("owner_id")
    if owner_id is None:
        raise ValidationFailed("owner_id is required", field="owner_id")
    return user_key(parse_uuid(owner_id, "owner_id"))


async def ensure_account(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Refuse a reference to an account that does not exist."""
    found = await session.scalar(sa.select(Account.id).where(Account.id == account_id))
    if found is None:
        raise NotFound(f"account {account_id} not found", field="account_id")


async def validate_event(
    ctx: ActionContext, record: dict[str, Any], old: dict[str, Any] | None
) -> None:
    """Check an event after a merge; on create the server makes the pusher its owner."""
    check_owner(ctx.principal.user_id, ctx.principal.role, record, old, "owner_id", frozen=True)
    event = typed(record, CalendarEventRecord)
    require_text(event.title, "title")
    if event.starts_at is None:
        raise ValidationFailed("starts_at is required", field="starts_at")
    if event.ends_at is None:
        raise ValidationFailed("ends_at is required", field="ends_at")
    if event.ends_at <= event.starts_at:
        raise ValidationFailed("ends_at must be after starts_at", field="ends_at")
    if event.account_id is not None and (
        old is None or old.get("account_id") != record["account_id"]
    ):
        await ensure_account(ctx.session, event.account_id)


def calendar_event_spec() -> EntitySpec:
    """The sync registration of calendar events."""
    return EntitySpec(
        name="calendar_event",
        table=CalendarEvent.__table__,  # type: ignore[arg-type]
        record_type=CalendarEventRecord,
        scope=scope_of_event,
        scope_fields=frozenset({"owner_id"}),
        # owner_id: sent on create (the pusher), frozen afterwards; see validate_event
        policies={
            "notes": Policy.APPEND,
            "reminder_offsets": Rule("union_of_reminders", union_of_reminders),
        },
        validate=validate_event,
    )
