"""The ``calendar_event`` syncable entity: wire record, scope, validation."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.calendar import CALENDAR_EVENT, CalendarEventRecord
from server.errors import NotFound, ValidationFailed
from server.sfa.accounts.models import Account
from server.sfa.calendar.models import CalendarEvent
from server.sfa.calendar.rules import union_of_reminders
from server.sfa.calendar.wire import check_owner, check_record, parse_uuid, typed
from server.sync.registry import ActionContext, EntitySpec, Policy, Rule, user_key

__all__ = ["CalendarEventRecord", "calendar_event_spec"]


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
    check_record(event)
    if event.account_id is not None and (
        old is None or old.get("account_id") != record["account_id"]
    ):
        await ensure_account(ctx.session, event.account_id)


def calendar_event_spec() -> EntitySpec:
    """The sync registration of calendar events."""
    return EntitySpec.of(
        CALENDAR_EVENT,
        table=CalendarEvent.__table__,
        scope=scope_of_event,
        scope_fields=frozenset({"owner_id"}),
        # owner_id: sent on create (the pusher), frozen afterwards; see validate_event
        policies={
            "notes": Policy.APPEND,
            "reminder_offsets": Rule("union_of_reminders", union_of_reminders),
        },
        validate=validate_event,
    )
