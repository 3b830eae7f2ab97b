"""Contracts, the orders they were made from, progress notes, attachments and instalments."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from protocol.entities.contracts import ContractStatus, InstalmentStatus
from server.db import Base, Money, UTCDateTime, new_id, str_enum, utcnow
from server.uploads import StoredFileColumns

# the enums are the wire's (protocol.entities); the columns store their values
__all__ = ["ContractStatus", "InstalmentStatus"]

ZERO = decimal.Decimal("0.0000")


class Contract(Base):
    """A signed (or to be signed) agreement with an account; syncs read-only to its devices."""

    __tablename__ = "contracts"
    __table_args__ = (sa.Index("ix_contracts_account_id_status", "account_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    signing_contact_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("contacts.id"))
    quote_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("quotes.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[ContractStatus] = mapped_column(
        str_enum(ContractStatus), default=ContractStatus.DRAFT
    )
    value: Mapped[decimal.Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    collected: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    outstanding: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    start_date: Mapped[dt.date] = mapped_column(sa.Date)
    end_date: Mapped[dt.date] = mapped_column(sa.Date)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ContractOrder(Base):
    """An order a contract was made from; an order goes into one contract at most."""

    __tablename__ = "contract_orders"

    contract_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contracts.id"), primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("orders.id"), primary_key=True, unique=True
    )


class ContractNote(Base):
    """A dated progress note on a contract (only ever added)."""

    __tablename__ = "contract_notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contract_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    noted_on: Mapped[dt.date] = mapped_column(sa.Date)
    text: Mapped[str] = mapped_column(sa.Text)
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContractAttachment(StoredFileColumns, Base):
    """A file attached to a contract; its bytes live in the file store under ``storage_key``
    (a deleted one keeps its row, with who deleted it and when)."""

    __tablename__ = "contract_attachments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contract_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contracts.id"), index=True)


class Instalment(Base):
    """One due date of a contract's payment schedule; ``paid`` moves with payments and refunds."""

    __tablename__ = "instalments"
    __table_args__ = (
        sa.UniqueConstraint("contract_id", "seq", name="uq_instalments_contract_seq"),
        sa.Index("ix_instalments_account_id_status", "account_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    contract_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("accounts.id"))
    seq: Mapped[int] = mapped_column()
    due_date: Mapped[dt.date] = mapped_column(sa.Date)
    amount: Mapped[decimal.Decimal] = mapped_column(Money)
    paid: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    outstanding: Mapped[decimal.Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[InstalmentStatus] = mapped_column(
        str_enum(InstalmentStatus), default=InstalmentStatus.OPEN
    )
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
