"""Discount limits: the maximum discount a role, or one user (an override), may give alone."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Money, UTCDateTime, new_id, utcnow


class DiscountLimit(Base):
    """One limit (percent, 0..100): for a role (``user_id`` empty) or for one user.

    A user's own row replaces their role's limit, higher or lower; a role without a row keeps
    its default (``server.sfa.pricing.service.DEFAULT_ROLE_LIMITS``).
    """

    __tablename__ = "discount_limits"
    __table_args__ = (
        sa.CheckConstraint(
            "(role IS NULL) <> (user_id IS NULL)", name="ck_discount_limits_role_or_user"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    role: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    max_discount_pct: Mapped[decimal.Decimal] = mapped_column(Money)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
