"""Payments and refunds against instalments, and each account's receivables by ageing bucket."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Money, UTCDateTime, new_id, str_enum, utcnow

ZERO = decimal.Decimal("0.0000")


class PaymentKind(enum.StrEnum):
    PAYMENT = "payment"  # money received: a positive amount
    REFUND = "refund"  # money given back: a negative amount, linked to its payment


class Payment(Base):
    """One movement of money on an instalment; rows are only ever added (a refund is a row)."""

    __tablename__ = "payments"
    __table_args__ = (sa.Index("ix_payments_rep_id_received_on", "rep_id", "received_on"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[PaymentKind] = mapped_column(str_enum(PaymentKind))
    instalment_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("instalments.id"), index=True)
    contract_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    # the rep the money is credited to (the contract's owner when it was received)
    rep_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    amount: Mapped[decimal.Decimal] = mapped_column(Money)  # signed: refunds are negative
    currency: Mapped[str] = mapped_column(sa.String(3))
    refund_of: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    refunded: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)  # on a payment
    received_on: Mapped[dt.date] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Receivable(Base):
    """What one account owes in one currency by ageing bucket, derived from its instalments."""

    __tablename__ = "receivables"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "currency", name="uq_receivables_account_currency"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    as_of: Mapped[dt.date] = mapped_column(sa.Date)
    current: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    days_1_30: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    days_31_60: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    days_61_90: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    over_90: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    overdue: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    total: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
