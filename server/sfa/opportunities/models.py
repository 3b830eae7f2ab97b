"""Opportunities: the sales funnel of an account."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.opportunities import Stage
from server.db import Base, Money, UTCDateTime, new_id, str_enum, utcnow

# the enums are the wire's (protocol.entities); the columns store their values
__all__ = ["Stage"]


class Opportunity(Base):
    """A potential deal with an account, moving through the funnel stages."""

    __tablename__ = "opportunities"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    stage: Mapped[Stage] = mapped_column(str_enum(Stage), default=Stage.INITIAL_CONTACT)
    amount: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal(0))
    probability: Mapped[int] = mapped_column(default=0)
    expected_close: Mapped[dt.date | None] = mapped_column(sa.Date)
    lost_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
