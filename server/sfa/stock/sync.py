"""Warehouses and stock balances as read-only syncable entities every device holds."""

from __future__ import annotations

from protocol.entities.stock import STOCK_BALANCE, WAREHOUSE
from server.sfa.catalog.sync import reference_spec
from server.sfa.stock.models import StockBalance, Warehouse
from server.sync.registry import EntitySpec


def stock_specs() -> list[EntitySpec]:
    """``warehouse`` and ``stock_balance``."""
    return [
        reference_spec(WAREHOUSE, Warehouse),
        reference_spec(STOCK_BALANCE, StockBalance),
    ]
