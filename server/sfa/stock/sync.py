"""Warehouses and stock balances as read-only syncable entities every device holds."""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa

from server.sfa.catalog.sync import global_scope
from server.sfa.stock.models import StockBalance, Warehouse
from server.sfa.stock.schemas import StockBalanceRecord, WarehouseRecord
from server.sync.registry import EntitySpec


def stock_specs() -> list[EntitySpec]:
    """``warehouse`` and ``stock_balance``."""
    return [
        EntitySpec(
            name="warehouse",
            table=cast(sa.Table, Warehouse.__table__),
            record_type=WarehouseRecord,
            scope=global_scope,
            writable=False,
        ),
        EntitySpec(
            name="stock_balance",
            table=cast(sa.Table, StockBalance.__table__),
            record_type=StockBalanceRecord,
            scope=global_scope,
            writable=False,
        ),
    ]
