"""Visits to an account: planned, then checked in and out with GPS."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.visits import Approval, CheckInVerdict, MakeupReason, VisitStatus
from server.db import Base, UTCDateTime, new_id, str_enum, utcnow

# the enums are the wire's (protocol.entities); the columns store their values
__all__ = ["Approval", "CheckInVerdict", "MakeupReason", "VisitStatus"]


class Visit(Base):
    """A rep's visit at a customer; status changes only through actions."""

    __tablename__ = "visits"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    rep_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    planned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[VisitStatus] = mapped_column(str_enum(VisitStatus), default=VisitStatus.PLANNED)
    check_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    check_in_latitude: Mapped[float | None] = mapped_column(sa.Float)
    check_in_longitude: Mapped[float | None] = mapped_column(sa.Float)
    check_in_accuracy_m: Mapped[float | None] = mapped_column(sa.Float)
    check_in_distance_m: Mapped[float | None] = mapped_column(sa.Float)
    check_in_flagged: Mapped[bool] = mapped_column(default=False)
    # inside / outside / uncertain (rules.geo.checkin_verdict) and the radius it was judged by
    check_in_verdict: Mapped[CheckInVerdict | None] = mapped_column(str_enum(CheckInVerdict))
    check_in_radius_m: Mapped[float | None] = mapped_column(sa.Float)
    # a make-up check-in (补签): its reason, and the manager's decision
    makeup_reason: Mapped[MakeupReason | None] = mapped_column(str_enum(MakeupReason))
    makeup_note: Mapped[str] = mapped_column(sa.String(500), default="")
    approval: Mapped[Approval] = mapped_column(
        str_enum(Approval), default=Approval.NONE, index=True
    )
    approval_note: Mapped[str] = mapped_column(sa.String(500), default="")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    check_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    check_out_latitude: Mapped[float | None] = mapped_column(sa.Float)
    check_out_longitude: Mapped[float | None] = mapped_column(sa.Float)
    check_out_accuracy_m: Mapped[float | None] = mapped_column(sa.Float)
    check_out_distance_m: Mapped[float | None] = mapped_column(sa.Float)
    check_out_flagged: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    outcome: Mapped[str] = mapped_column(sa.String(500), default="")
    next_follow_up_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
