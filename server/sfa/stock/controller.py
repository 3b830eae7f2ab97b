"""``/warehouses`` and ``/stock``: balances for everyone signed in, warehouse writes for admins,
the movement ledger (post, list, stocktakes, set a balance) for managers and admins."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from litestar import Controller, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import admins_only, managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.stock.movement_service import MovementService
from server.sfa.stock.repository import MovementFilters
from server.sfa.stock.schemas import (
    BalanceSet,
    MovementCreate,
    MovementRecord,
    MovementResult,
    PostedKind,
    ReferenceKindName,
    StockBalanceOut,
    StocktakeCreate,
    StocktakeResult,
    WarehouseCreate,
    WarehousePatch,
    WarehouseRecord,
)
from server.sfa.stock.service import StockService
from server.sync.registry import Principal


def provide_stock_service(state: State, principal: NamedDependency[Principal]) -> StockService:
    """The service for one request, wired from the app state."""
    return StockService(state.db, state.writer, principal, state.settings)


def provide_movement_service(
    state: State, principal: NamedDependency[Principal]
) -> MovementService:
    """The ledger service for one request."""
    return MovementService(state.db, state.writer, principal, state.settings)


_service = {
    "service": Provide(provide_stock_service, sync_to_thread=False),
    "movements": Provide(provide_movement_service, sync_to_thread=False),
}


class WarehouseController(Controller):
    """Warehouses and the stock each holds."""

    path = "/warehouses"
    tags = ["stock"]
    dependencies = _service

    @get("/")
    async def list_warehouses(
        self,
        service: NamedDependency[StockService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        active: FromQuery[bool | None] = None,
        city: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
    ) -> Page[WarehouseRecord]:
        """Warehouses, keyset-paginated by id."""
        return await service.list_warehouses(active, city, q, cursor=cursor, limit=limit)

    @get("/{warehouse_id:uuid}")
    async def get_warehouse(
        self, service: NamedDependency[StockService], warehouse_id: FromPath[uuid.UUID]
    ) -> WarehouseRecord:
        """One warehouse."""
        return await service.get_warehouse(warehouse_id)

    @post("/", guards=[admins_only])
    async def create_warehouse(
        self, service: NamedDependency[StockService], data: JSONBody[WarehouseCreate]
    ) -> WarehouseRecord:
        """Add a warehouse (code unique)."""
        return await service.create_warehouse(data)

    @patch("/{warehouse_id:uuid}", guards=[admins_only])
    async def update_warehouse(
        self,
        service: NamedDependency[StockService],
        warehouse_id: FromPath[uuid.UUID],
        data: JSONBody[WarehousePatch],
        if_match: IfMatch = None,
    ) -> WarehouseRecord:
        """Change some fields of a warehouse."""
        return await service.update_warehouse(
            warehouse_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{warehouse_id:uuid}", guards=[admins_only])
    async def delete_warehouse(
        self,
        service: NamedDependency[StockService],
        warehouse_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Delete a warehouse that holds no stock."""
        await service.delete_warehouse(warehouse_id, expected=expected_version(if_match))

    @get("/{warehouse_id:uuid}/stock")
    async def warehouse_stock(
        self,
        service: NamedDependency[StockService],
        warehouse_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        product_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[StockBalanceOut]:
        """Balances of one warehouse."""
        return await service.list_balances(
            warehouse_id=warehouse_id, product_id=product_id, cursor=cursor, limit=limit
        )

    @put("/{warehouse_id:uuid}/stock/{product_id:uuid}", guards=[managers_only])
    async def set_balance(
        self,
        movements: NamedDependency[MovementService],
        warehouse_id: FromPath[uuid.UUID],
        product_id: FromPath[uuid.UUID],
        data: JSONBody[BalanceSet],
    ) -> StockBalanceOut:
        """Set on hand to a counted figure: posts an ``adjustment`` movement of the difference."""
        return await movements.set_balance(warehouse_id, product_id, data)


class StockController(Controller):
    """Stock balances across warehouses."""

    path = "/stock"
    tags = ["stock"]
    dependencies = _service

    @get("/")
    async def list_stock(
        self,
        service: NamedDependency[StockService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        product_id: FromQuery[uuid.UUID | None] = None,
        warehouse_id: FromQuery[uuid.UUID | None] = None,
    ) -> Page[StockBalanceOut]:
        """Balances of a product (or all), keyset-paginated by id."""
        return await service.list_balances(
            warehouse_id=warehouse_id, product_id=product_id, cursor=cursor, limit=limit
        )

    @post("/movements", guards=[managers_only])
    async def post_movement(
        self, movements: NamedDependency[MovementService], data: JSONBody[MovementCreate]
    ) -> MovementResult:
        """Post inbound, outbound, transfer, adjustment or initial stock; idempotent on ``id``."""
        return await movements.post_movement(data)

    @get("/movements", guards=[managers_only])
    async def list_movements(
        self,
        movements: NamedDependency[MovementService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        warehouse_id: FromQuery[uuid.UUID | None] = None,
        product_id: FromQuery[uuid.UUID | None] = None,
        kind: FromQuery[PostedKind | Literal["stocktake"] | None] = None,
        reference_kind: FromQuery[ReferenceKindName | None] = None,
        reference_id: FromQuery[uuid.UUID | None] = None,
        since: FromQuery[dt.datetime | None] = None,
        until: FromQuery[dt.datetime | None] = None,
    ) -> Page[MovementRecord]:
        """The ledger, filtered, keyset-paginated by id."""
        filters = MovementFilters(
            warehouse_id=warehouse_id,
            product_id=product_id,
            kind=kind,
            reference_kind=reference_kind,
            reference_id=reference_id,
            since=since,
            until=until,
        )
        return await movements.list_movements(filters, cursor=cursor, limit=limit)

    @post("/stocktakes", guards=[managers_only])
    async def post_stocktake(
        self, movements: NamedDependency[MovementService], data: JSONBody[StocktakeCreate]
    ) -> StocktakeResult:
        """Count products of a warehouse; posts each difference; idempotent on ``id``."""
        return await movements.post_stocktake(data)

    @get("/stocktakes/{stocktake_id:uuid}", guards=[managers_only])
    async def get_stocktake(
        self, movements: NamedDependency[MovementService], stocktake_id: FromPath[uuid.UUID]
    ) -> StocktakeResult:
        """One stocktake with its lines."""
        return await movements.get_stocktake(stocktake_id)
