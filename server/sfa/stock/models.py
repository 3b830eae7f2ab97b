"""Warehouses, the stock movement ledger, the balances derived from it and reservations."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Money, UTCDateTime, new_id, str_enum, utcnow


class MovementKind(enum.StrEnum):
    """What a ledger row records; its ``quantity`` is the signed change of on hand."""

    INITIAL = "initial"
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    TRANSFER = "transfer"
    STOCKTAKE = "stocktake"
    ADJUSTMENT = "adjustment"


class ReferenceKind(enum.StrEnum):
    """The document a movement or reservation belongs to."""

    ORDER = "order"
    PURCHASE_RECEIPT = "purchase_receipt"
    STOCKTAKE = "stocktake"
    TRANSFER = "transfer"
    OTHER = "other"


class ReservationStatus(enum.StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    CONSUMED = "consumed"


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    active: Mapped[bool] = mapped_column(default=True)
    # a van: the rep whose vehicle it is (its stock syncs to that rep and their managers only)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # may on hand go below zero here (orders taken against stock still to arrive)?
    allow_backorder: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class StockBalance(Base):
    """On-hand and reserved quantity of one product in one warehouse (derived from the ledger)."""

    __tablename__ = "stock_balances"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("warehouses.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id"), index=True)
    on_hand: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("0.0000"))
    reserved: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("0.0000"))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("warehouse_id", "product_id"),)


class StockMovement(Base):
    """One ledger row: a signed change of on hand of one product in one warehouse."""

    __tablename__ = "stock_movements"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[MovementKind] = mapped_column(str_enum(MovementKind))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("warehouses.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id"), index=True)
    quantity: Mapped[decimal.Decimal] = mapped_column(Money)
    on_hand_after: Mapped[decimal.Decimal] = mapped_column(Money)
    # a transfer's two legs share ``transfer_id`` (the id of the outbound leg)
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    counterpart_warehouse_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("warehouses.id")
    )
    # a stocktake line: what the ledger expected and what was counted
    expected: Mapped[decimal.Decimal | None] = mapped_column(Money)
    counted: Mapped[decimal.Decimal | None] = mapped_column(Money)
    reference_kind: Mapped[ReferenceKind | None] = mapped_column(str_enum(ReferenceKind))
    reference_id: Mapped[uuid.UUID | None] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.Index("ix_stock_movements_warehouse_product", "warehouse_id", "product_id"),
        sa.Index("ix_stock_movements_reference", "reference_kind", "reference_id"),
    )


class Stocktake(Base):
    """A count of a warehouse; its lines are ``stocktake`` movements referencing it."""

    __tablename__ = "stocktakes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockReservation(Base):
    """Quantity of a product held in a warehouse for a document (an order) until released."""

    __tablename__ = "stock_reservations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("warehouses.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id"))
    reference_kind: Mapped[ReferenceKind] = mapped_column(str_enum(ReferenceKind))
    reference_id: Mapped[uuid.UUID] = mapped_column()
    quantity: Mapped[decimal.Decimal] = mapped_column(Money)
    status: Mapped[ReservationStatus] = mapped_column(
        str_enum(ReservationStatus), default=ReservationStatus.ACTIVE
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.Index("ix_stock_reservations_reference", "reference_kind", "reference_id"),
        sa.Index("ix_stock_reservations_warehouse_product", "warehouse_id", "product_id"),
    )
