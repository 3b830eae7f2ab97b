"""Commissions: plans (their definition as JSON), credit splits of orders, statements per rep and
period (their lines as JSON, locked once closed), and disputes of statement lines."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Money, UTCDateTime, new_id, utcnow


class CommissionPlan(Base):
    """One effective-dated plan; ``definition`` is ``rules.commission_plans.Plan`` as JSON
    (decimals as strings). Only ``valid_to`` is ever written after creation (by a successor)."""

    __tablename__ = "commission_plans"
    __table_args__ = (sa.Index("ix_commission_plans_valid_from", "valid_from"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str | None] = mapped_column(sa.String(20))
    rep_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(sa.Date)
    valid_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    replaces: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CreditSplit(Base):
    """The shares an order's credit is split by (``[{rep_id, share_pct}]``); without a row the
    order's owner gets it all."""

    __tablename__ = "credit_splits"

    order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    shares: Mapped[list[Any]] = mapped_column(sa.JSON)
    set_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CreditSplitChange(Base):
    """The audit trail of splits: every change, who made it, the shares before and after."""

    __tablename__ = "credit_split_changes"
    __table_args__ = (sa.Index("ix_credit_split_changes_order_id", "order_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    before: Mapped[list[Any] | None] = mapped_column(sa.JSON)
    after: Mapped[list[Any]] = mapped_column(sa.JSON)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommissionStatement(Base):
    """A rep's statement of one period: open (recomputed), closed (locked), approved."""

    __tablename__ = "commission_statements"
    __table_args__ = (
        sa.UniqueConstraint("rep_id", "period", name="uq_commission_statements_rep_period"),
        sa.Index("ix_commission_statements_period_status", "period", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    rep_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    period: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    plan_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("commission_plans.id"))
    total: Mapped[decimal.Decimal] = mapped_column(Money)
    lines: Mapped[list[Any]] = mapped_column(sa.JSON)
    attainment: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    by_category: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    by_tier: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)


class CommissionDispute(Base):
    """A rep's dispute of one line of a closed statement, and its resolution."""

    __tablename__ = "commission_disputes"
    __table_args__ = (sa.Index("ix_commission_disputes_statement_id", "statement_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    statement_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("commission_statements.id"))
    line_no: Mapped[int] = mapped_column()
    rep_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    resolution_note: Mapped[str] = mapped_column(sa.Text, default="")
    adjustment: Mapped[decimal.Decimal | None] = mapped_column(Money)
    # the rep's period the accepted adjustment line is posted to
    adjustment_period: Mapped[str | None] = mapped_column(sa.String(10))
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
