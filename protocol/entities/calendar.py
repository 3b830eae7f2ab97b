"""The ``calendar_event`` record (private to its owner)."""

from __future__ import annotations

import enum
import uuid
from typing import Annotated

import msgspec

from protocol.entities.definition import EntityDef
from protocol.entities.fields import AwareDateTime, Notes, Title

MAX_REMINDERS = 20
MAX_REMINDER_MINUTES = 7 * 24 * 60
ReminderOffset = Annotated[int, msgspec.Meta(ge=0, le=MAX_REMINDER_MINUTES)]


class EventKind(enum.StrEnum):
    VISIT = "visit"
    CALL = "call"
    MEETING = "meeting"
    TASK = "task"
    FOLLOW_UP = "follow_up"


class EventStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class CalendarEventRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A calendar event on the wire."""

    id: uuid.UUID
    version: int = 1
    owner_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    kind: EventKind = EventKind.TASK
    title: Title = ""
    starts_at: AwareDateTime | None = None
    ends_at: AwareDateTime | None = None
    all_day: bool = False
    reminder_offsets: Annotated[list[ReminderOffset], msgspec.Meta(max_length=MAX_REMINDERS)] = []
    notes: Notes = ""
    status: EventStatus = EventStatus.OPEN
    completed_at: AwareDateTime | None = None
    created_at: AwareDateTime | None = None
    updated_at: AwareDateTime | None = None


# owner_id: sent on create (the pusher), frozen afterwards (the server's validator polices it)
CALENDAR_EVENT = EntityDef(name="calendar_event", record=CalendarEventRecord)
