"""Expense reports: a rep's claims with their lines, synced to the rep's devices."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.expenses import ExpenseStatus
from server.db import Base, UTCDateTime, new_id, str_enum, utcnow
from server.sfa.quotes.lines import LinesJSON
from server.uploads import StoredFileColumns

# the enum is the wire's (protocol.entities); the column stores its values
__all__ = ["ExpenseStatus"]


class ExpenseReport(Base):
    """One expense report; its lines are one JSON field (the aggregate syncs as one record)."""

    __tablename__ = "expense_reports"
    __table_args__ = (sa.Index("ix_expense_reports_owner_id_status", "owner_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[ExpenseStatus] = mapped_column(
        str_enum(ExpenseStatus), default=ExpenseStatus.DRAFT
    )
    lines: Mapped[list[Any]] = mapped_column(LinesJSON, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ExpenseReceipt(StoredFileColumns, Base):
    """A receipt a rep uploaded for their expense lines (``receipt_attachment_id``); its bytes
    live in the file store. A deleted one keeps its row, with who deleted it and when."""

    __tablename__ = "expense_receipts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"), index=True)
