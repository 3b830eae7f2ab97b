"""Quotes: an aggregate of priced lines that syncs as one record."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.documents import QuoteStatus
from server.db import Base, Money, UTCDateTime, new_id, str_enum, utcnow
from server.sfa.quotes.lines import LinesJSON

# the enums are the wire's (protocol.entities); the columns store their values
__all__ = ["QuoteStatus"]


class Quote(Base):
    """A priced offer to an account; totals are computed by the server from the lines."""

    __tablename__ = "quotes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    number: Mapped[str] = mapped_column(sa.String(40), default="")
    status: Mapped[QuoteStatus] = mapped_column(str_enum(QuoteStatus), default=QuoteStatus.DRAFT)
    currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")
    valid_until: Mapped[dt.date | None] = mapped_column(sa.Date)
    lines: Mapped[list[Any]] = mapped_column(LinesJSON, default=list)
    order_discount_pct: Mapped[decimal.Decimal] = mapped_column(
        Money, default=decimal.Decimal("0.0000")
    )
    # the discount approval (server.sfa.pricing): why it waits, the manager's note, the priced
    # content the request (then the approval) covers, who approved and when
    approval_reason: Mapped[str | None] = mapped_column(sa.String(40))
    approval_note: Mapped[str] = mapped_column(sa.Text, default="")
    approval_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    subtotal: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("0.00"))
    tax_total: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("0.00"))
    total: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("0.00"))
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # the order ``quote.convert`` made of it; no foreign key: orders.quote_id already points
    # back here, and both rows are written in the one transaction of the conversion
    order_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
