"""Calendar events: visits, calls, meetings, tasks and follow-ups with reminders."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.calendar import EventKind, EventStatus
from server.db import Base, UTCDateTime, new_id, str_enum, utcnow

# the enums are the wire's (protocol.entities); the columns store their values
__all__ = ["EventKind", "EventStatus"]


class CalendarEvent(Base):
    """One entry of a user's calendar; private to its owner."""

    __tablename__ = "calendar_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind), default=EventKind.TASK)
    title: Mapped[str] = mapped_column(sa.String(200))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    all_day: Mapped[bool] = mapped_column(default=False)
    # minutes before starts_at; read by the reminder scheduler
    reminder_offsets: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[EventStatus] = mapped_column(str_enum(EventStatus), default=EventStatus.OPEN)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
