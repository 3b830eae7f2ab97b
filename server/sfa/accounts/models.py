"""Accounts (customers) and their contacts."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.accounts import ContactRole, LifecycleStage, Segment, ValueTier
from server.db import Base, Money, UTCDateTime, new_id, str_enum, utcnow

# the enums are the wire's (protocol.entities); the columns store their values
__all__ = ["ContactRole", "LifecycleStage", "Segment", "ValueTier"]


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    segment: Mapped[Segment] = mapped_column(str_enum(Segment), default=Segment.SMALL_BUSINESS)
    value_tier: Mapped[ValueTier] = mapped_column(str_enum(ValueTier), default=ValueTier.REGULAR)
    lifecycle_stage: Mapped[LifecycleStage] = mapped_column(
        str_enum(LifecycleStage), default=LifecycleStage.PROSPECT
    )
    industry: Mapped[str] = mapped_column(sa.String(100), default="")
    credit_limit: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("0.0000"))
    arrears: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("0.0000"))
    blacklisted: Mapped[bool] = mapped_column(default=False)
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="", index=True)
    city: Mapped[str] = mapped_column(sa.String(100), default="", index=True)
    region: Mapped[str] = mapped_column(sa.String(100), default="")
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    # metres; None: the segment's radius, else the default (docs/visits.md)
    checkin_radius_m: Mapped[float | None] = mapped_column(sa.Float)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    territory_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("territories.id"), index=True
    )
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[ContactRole] = mapped_column(str_enum(ContactRole), default=ContactRole.OTHER)
    title: Mapped[str] = mapped_column(sa.String(100), default="")
    phone: Mapped[str] = mapped_column(sa.String(50), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AccountAssignment(Base):
    """One period of an account's ownership: who held it from ``valid_from`` to ``valid_to``.

    Rows are only ever added; the open one (``valid_to`` NULL) is closed when the account is
    reassigned, never rewritten otherwise. No foreign keys: the history outlives the account,
    its territory and its owner (commissions read it after the fact).
    """

    __tablename__ = "account_assignments"
    __table_args__ = (sa.Index("ix_account_assignments_account_from", "account_id", "valid_from"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    territory_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # "rule" (rule_id says which), "manual" (a manager set it: excluded from re-alignment),
    # or "default" (no rule matched: what the creator gave)
    cause: Mapped[str] = mapped_column(sa.String(20))
    rule_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    excluded_from_realignment: Mapped[bool] = mapped_column(default=False)
