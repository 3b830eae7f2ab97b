"""Suppliers and their contacts, purchase orders with lines, receipts, payables and payments."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Money, UTCDateTime, new_id, str_enum, utcnow

ZERO = decimal.Decimal("0.0000")


class PurchaseOrderStatus(enum.StrEnum):
    """draft -> ordered -> partially_received -> received; cancelled from draft or ordered."""

    DRAFT = "draft"
    ORDERED = "ordered"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class Supplier(Base):
    """A company Outpost buys from; ``payment_terms_days`` sets the due date of its payables."""

    __tablename__ = "suppliers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    phone: Mapped[str] = mapped_column(sa.String(50), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    active: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SupplierContact(Base):
    """A person at a supplier."""

    __tablename__ = "supplier_contacts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    supplier_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("suppliers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str] = mapped_column(sa.String(100), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    phone: Mapped[str] = mapped_column(sa.String(50), default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PurchaseOrder(Base):
    """An order to a supplier, delivered to one warehouse, in one currency."""

    __tablename__ = "purchase_orders"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    supplier_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("suppliers.id"), index=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[PurchaseOrderStatus] = mapped_column(
        str_enum(PurchaseOrderStatus), default=PurchaseOrderStatus.DRAFT, index=True
    )
    expected_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    ordered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PurchaseOrderLine(Base):
    """A product of a purchase order: quantity ordered, unit cost, quantity received so far."""

    __tablename__ = "purchase_order_lines"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    purchase_order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("purchase_orders.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id"), index=True)
    quantity: Mapped[decimal.Decimal] = mapped_column(Money)
    unit_cost: Mapped[decimal.Decimal] = mapped_column(Money)
    received_quantity: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)

    __table_args__ = (sa.UniqueConstraint("purchase_order_id", "product_id"),)


class PurchaseReceipt(Base):
    """Goods received against a purchase order; its lines are inbound ledger movements
    referencing it (``purchase_receipt``) and it raises one payable."""

    __tablename__ = "purchase_receipts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    purchase_order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("purchase_orders.id"), index=True
    )
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PurchaseReceiptLine(Base):
    """What one receipt took in of one purchase order line."""

    __tablename__ = "purchase_receipt_lines"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    receipt_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("purchase_receipts.id", ondelete="CASCADE"), index=True
    )
    line_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("purchase_order_lines.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id"))
    quantity: Mapped[decimal.Decimal] = mapped_column(Money)
    unit_cost: Mapped[decimal.Decimal] = mapped_column(Money)


class Payable(Base):
    """What Outpost owes a supplier for one receipt: its received value, due after the
    supplier's payment terms."""

    __tablename__ = "payables"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    supplier_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("suppliers.id"), index=True)
    purchase_order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("purchase_orders.id"), index=True
    )
    receipt_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("purchase_receipts.id"), unique=True
    )
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[decimal.Decimal] = mapped_column(Money)
    paid: Mapped[decimal.Decimal] = mapped_column(Money, default=ZERO)
    # paid in full (a column, not ``paid < amount``: SQLite stores money as text)
    settled: Mapped[bool] = mapped_column(default=False, index=True)
    issued_on: Mapped[dt.date] = mapped_column(sa.Date)
    due_on: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SupplierPayment(Base):
    """A payment made against a payable (its ``id`` makes the request idempotent)."""

    __tablename__ = "supplier_payments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    payable_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payables.id"), index=True)
    amount: Mapped[decimal.Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    paid_on: Mapped[dt.date] = mapped_column(sa.Date)
    reference: Mapped[str] = mapped_column(sa.String(100), default="")
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
