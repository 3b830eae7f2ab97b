"""Push tokens, the notification outbox and users' notification preferences."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime, new_id, str_enum, utcnow


class PushToken(Base):
    """The FCM registration token of one device (one per device; a token lives on one device)."""

    __tablename__ = "push_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="CASCADE"), unique=True
    )
    token: Mapped[str] = mapped_column(sa.String(4096), unique=True)
    platform: Mapped[str] = mapped_column(sa.String(16), default="android")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its time (or its next attempt)
    SENT = "sent"  # FCM accepted it for every device of the user
    FAILED = "failed"  # permanently refused (INVALID_ARGUMENT, no device left)
    DEAD = "dead"  # transient errors on every one of its attempts
    MUTED = "muted"  # the user muted its rule
    SUPPRESSED = "suppressed"  # made moot before it was sent (visit checked in, event gone)
    FOLDED = "folded"  # over the hourly budget: counted in a digest instead


class Notification(Base):
    """One notification of the outbox, written once under its idempotency key."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.UniqueConstraint("rule", "record_id", "occurrence", name="uq_notifications_key"),
        sa.Index("ix_notifications_status_due_at", "status", "due_at"),
        sa.Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # set for a device-specific push (silent sync); reminders go to every device of the user
    device_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="CASCADE")
    )
    rule: Mapped[str] = mapped_column(sa.String(40))
    record_id: Mapped[uuid.UUID] = mapped_column()
    occurrence: Mapped[str] = mapped_column(sa.String(80))
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.String(1000), default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    collapse_key: Mapped[str] = mapped_column(sa.String(100), default="")
    silent: Mapped[bool] = mapped_column(default=False)
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus), default=NotificationStatus.QUEUED
    )
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # push-token ids that already took it (a retry sends to the others only)
    delivered_to: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    last_error: Mapped[str] = mapped_column(sa.String(200), default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationPreference(Base):
    """A user's quiet hours (their local time, minutes after midnight) and muted rules."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    quiet_start_minute: Mapped[int | None] = mapped_column()
    quiet_end_minute: Mapped[int | None] = mapped_column()
    muted_rules: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobLease(Base):
    """Which scheduler process runs a periodic job this interval (jobs that must not run in
    two processes at once: pruning, planning)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(80), default="")
    lease_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
