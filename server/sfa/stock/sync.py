"""Warehouses and stock balances as read-only syncable entities every device holds."""

from __future__ import annotations

from server.sfa.catalog.sync import reference_spec
from server.sfa.stock.models import StockBalance, Warehouse
from server.sfa.stock.schemas import StockBalanceRecord, WarehouseRecord
from server.sync.registry import EntitySpec


def stock_specs() -> list[EntitySpec]:
    """``warehouse`` and ``stock_balance``."""
    return [
        reference_spec("warehouse", Warehouse, WarehouseRecord),
        reference_spec("stock_balance", StockBalance, StockBalanceRecord),
    ]
