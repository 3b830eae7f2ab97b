"""Product categories, products and price lists with their entries."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, Money, UTCDateTime, new_id, str_enum, utcnow
from server.sfa.accounts.models import Segment


class ProductCategory(Base):
    __tablename__ = "product_categories"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("product_categories.id"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    sku: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("product_categories.id"), index=True
    )
    unit: Mapped[str] = mapped_column(sa.String(20), default="each")
    tax_rate: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("0.0000"))
    list_price: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("0.0000"))
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PriceList(Base):
    """A price list applies to a segment, to one account, or to everyone when both are empty."""

    __tablename__ = "price_lists"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")
    segment: Mapped[Segment | None] = mapped_column(str_enum(Segment))
    account_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    valid_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    valid_to: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PriceListEntry(Base):
    __tablename__ = "price_list_entries"
    __table_args__ = (sa.UniqueConstraint("price_list_id", "product_id", "min_quantity"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    price_list_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("price_lists.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("products.id"), index=True)
    min_quantity: Mapped[decimal.Decimal] = mapped_column(Money, default=decimal.Decimal("1.0000"))
    unit_price: Mapped[decimal.Decimal] = mapped_column(Money)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
