"""Orders: the central commercial record, an aggregate of lines that syncs as one record."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.documents import OrderStatus
from server.db import Base, Money, UTCDateTime, new_id, str_enum, utcnow
from server.sfa.quotes.lines import LinesJSON

# the enums are the wire's (protocol.entities); the columns store their values
__all__ = ["OrderStatus"]


class Order(Base):
    """A customer order; its status moves only through actions and server rules."""

    __tablename__ = "orders"
    __table_args__ = (sa.Index("ix_orders_account_id_status", "account_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    quote_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("quotes.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.DRAFT)
    hold_reason: Mapped[str | None] = mapped_column(sa.String(40))  # the first of hold_reasons
    hold_reasons: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # reasons a manager released: the checks run again without them (docs/orders.md)
    hold_overrides: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    desk_note: Mapped[str] = mapped_column(sa.Text, default="")
    fulfilled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(sa.String(40))
    warehouse_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("warehouses.id"), index=True
    )
    lines: Mapped[list[Any]] = mapped_column(LinesJSON, default=list)
    currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")
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
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OrderTransition(Base):
    """One change of an order's status: who, when, from, to, by which action and why.

    Written in the transaction of the change itself (a push's action, or the order desk)."""

    __tablename__ = "order_transitions"
    __table_args__ = (sa.Index("ix_order_transitions_order_id_id", "order_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # an order deleted (a device may delete a draft, docs/orders.md) takes its audit with it
    order_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(sa.String(40))
    from_status: Mapped[str] = mapped_column(sa.String(40))
    to_status: Mapped[str] = mapped_column(sa.String(40))
    # the hold reasons (or the reject reason) the order has after the transition
    reasons: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    device_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
