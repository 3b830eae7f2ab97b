"""The read model of order statistics: one row per order and one per order line.

Kept in the transaction of every order write by ``statistics_keeper`` (a write observer of the
sync registry). Figures are integers (cents, ten-thousandths of a unit) so sums are exact on
both backends; the company-time-zone day, week and month of each order are stored keys
(computed in Python with the zone's rules, so right across DST on SQLite too).
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class OrderStatColumns:
    """What both statistics tables say of the order: filters, groups and time buckets."""

    status: Mapped[str] = mapped_column(sa.String(20))
    rep_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    # the account's territory when the order was last written (who made the sale)
    territory_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    account_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    currency: Mapped[str] = mapped_column(sa.String(3))
    # submitted_at, or created_at for an order never submitted
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    local_day: Mapped[dt.date] = mapped_column(sa.Date)
    local_week: Mapped[dt.date] = mapped_column(sa.Date)  # the Monday of local_day's week
    local_month: Mapped[dt.date] = mapped_column(sa.Date)  # the first of local_day's month
    quantity: Mapped[int] = mapped_column(sa.BigInteger)  # in 1/10,000 of a unit
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)  # net of every discount, no tax
    total_cents: Mapped[int] = mapped_column(sa.BigInteger)  # net plus tax


class OrderStat(OrderStatColumns, Base):
    """One order's figures (its lines summed)."""

    __tablename__ = "order_stats"
    __table_args__ = (
        # covers the month x rep figures (the benchmark's query, the managers' usual view): read
        # in group order from the index alone, no sort (docs/benchmarks.md, issue 15)
        sa.Index(
            "ix_order_stats_month_rep",
            "local_month",
            "rep_id",
            "currency",
            "status",
            "quantity",
            "amount_cents",
            "total_cents",
        ),
        sa.Index("ix_order_stats_day", "local_day"),
        sa.Index("ix_order_stats_account", "account_id"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )


class OrderLineStat(OrderStatColumns, Base):
    """One order line's figures, with its product and the product's category."""

    __tablename__ = "order_line_stats"
    __table_args__ = (
        sa.Index("ix_order_line_stats_product", "product_id", "local_day"),
        sa.Index("ix_order_line_stats_category", "category_id", "local_day"),
        sa.Index("ix_order_line_stats_day", "local_day"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    category_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
