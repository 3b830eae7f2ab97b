"""Warehouses (admins write, everyone signed in reads) and stock balances (read).

Movements, stocktakes and set-balance adjustments are in ``movement_service``; reservations
in ``ledger``.
"""

from __future__ import annotations

import decimal
import uuid
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page, page_size
from server.settings import Settings
from server.sfa.inputs import record_of, sent_fields
from server.sfa.stock.repository import StockRepository, balances, warehouses
from server.sfa.stock.schemas import (
    StockBalanceOut,
    WarehouseCreate,
    WarehousePatch,
    WarehouseRecord,
)
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter


def balance_out(row: Any) -> StockBalanceOut:
    """A balance row (or wire dict) with its availability."""
    mapping = row._mapping if hasattr(row, "_mapping") else row
    on_hand = decimal.Decimal(str(mapping["on_hand"]))
    reserved = decimal.Decimal(str(mapping["reserved"]))
    values = {k: mapping[k] for k in StockBalanceOut.__struct_fields__ if k != "available"}
    return msgspec.convert({**values, "available": on_hand - reserved}, StockBalanceOut)


def _duplicate_code(code: object) -> Conflict:
    return Conflict(f"warehouse code {code!s} is already used", field="code", code="duplicate_code")


class StockService:
    """Warehouses and what they hold."""

    def __init__(
        self, db: Database, writer: ChangeWriter, principal: Principal | None, settings: Settings
    ) -> None:
        self.db = db
        self.writer = writer
        self.principal = principal
        self.settings = settings

    def _limit(self, limit: int | None) -> int:
        return page_size(limit, self.settings)

    async def list_warehouses(
        self,
        active: bool | None,
        city: str | None,
        q: str | None,
        *,
        cursor: str | None,
        limit: int | None,
    ) -> Page[WarehouseRecord]:
        """One page of warehouses."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            statement = StockRepository(session).warehouses_statement(
                active, city, q, vans_of=self._vans_of()
            )
            rows, nxt = await fetch_page(
                session, statement, warehouses.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(WarehouseRecord, r) for r in rows], next_cursor=nxt)

    async def get_warehouse(self, warehouse_id: uuid.UUID) -> WarehouseRecord:
        """One warehouse."""
        async with self.db.reading() as session:
            row = await self._warehouse_row(session, warehouse_id)
        vans_of = self._vans_of()
        if vans_of is not None and row.owner_id not in (None, vans_of):
            raise NotFound(f"warehouse {warehouse_id} not found", field="id")
        return record_of(WarehouseRecord, row)

    async def create_warehouse(self, data: WarehouseCreate) -> WarehouseRecord:
        """Add a warehouse; ``duplicate_code`` (409) when the code is taken."""
        try:
            async with self.db.transaction() as session:
                await self._check_code(session, None, data.code)
                await self._check_owner(session, data.owner_id)
                record = await self.writer.create(
                    session, "warehouse", sent_fields(data), principal=self.principal
                )
        except sa.exc.IntegrityError as exc:
            raise _duplicate_code(data.code) from exc
        return record_of(WarehouseRecord, record)

    async def update_warehouse(
        self,
        warehouse_id: uuid.UUID,
        data: WarehousePatch,
        *,
        expected: frozenset[int] | None = None,
    ) -> WarehouseRecord:
        """Change some fields of a warehouse."""
        changes = sent_fields(data)
        try:
            async with self.db.transaction() as session:
                await self._warehouse_row(session, warehouse_id)
                await self.writer.check_version(session, "warehouse", warehouse_id, expected)
                if "code" in changes:
                    await self._check_code(session, warehouse_id, changes["code"])
                if changes.get("owner_id") is not None:
                    await self._check_owner(session, changes["owner_id"])
                if changes:
                    record = await self.writer.update(
                        session, "warehouse", warehouse_id, changes, principal=self.principal
                    )
                else:
                    record = await self.writer.load(session, "warehouse", warehouse_id)
        except sa.exc.IntegrityError as exc:
            raise _duplicate_code(changes.get("code")) from exc
        return record_of(WarehouseRecord, record)

    async def delete_warehouse(
        self, warehouse_id: uuid.UUID, *, expected: frozenset[int] | None = None
    ) -> None:
        """Delete a warehouse that holds no stock rows (deactivate it otherwise)."""
        try:
            async with self.db.transaction() as session:
                await self._warehouse_row(session, warehouse_id)
                await self.writer.check_version(session, "warehouse", warehouse_id, expected)
                if await StockRepository(session).has_balances(warehouse_id):
                    raise Conflict(
                        "warehouse holds stock; deactivate it instead", field="id", code="in_use"
                    )
                await self.writer.delete(
                    session, "warehouse", warehouse_id, principal=self.principal
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict("warehouse is still referenced", field="id", code="in_use") from exc

    async def list_balances(
        self,
        *,
        warehouse_id: uuid.UUID | None,
        product_id: uuid.UUID | None,
        cursor: str | None,
        limit: int | None,
    ) -> Page[StockBalanceOut]:
        """One page of balances of a warehouse and/or a product."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            if warehouse_id is not None:
                await self._warehouse_row(session, warehouse_id, "warehouse_id")
            statement = StockRepository(session).balances_statement(
                warehouse_id, product_id, self._vans_of()
            )
            rows, nxt = await fetch_page(
                session, statement, balances.c.id, cursor=cursor, limit=size
            )
        return Page(items=[balance_out(r) for r in rows], next_cursor=nxt)

    async def _warehouse_row(
        self, session: AsyncSession, warehouse_id: uuid.UUID, field: str = "id"
    ) -> sa.Row[Any]:
        row = await StockRepository(session).get_warehouse(warehouse_id)
        if row is None:
            raise NotFound(f"warehouse {warehouse_id} not found", field=field)
        return row

    def _vans_of(self) -> uuid.UUID | None:
        # Over REST as on devices, a rep sees shared warehouses and their own van only.
        if self.principal is not None and self.principal.role == "rep":
            return self.principal.user_id
        return None

    async def _check_owner(self, session: AsyncSession, owner_id: uuid.UUID | None) -> None:
        if owner_id is not None and not await StockRepository(session).user_exists(owner_id):
            raise ValidationFailed(f"user {owner_id} does not exist", field="owner_id")

    async def _check_code(
        self, session: AsyncSession, warehouse_id: uuid.UUID | None, code: str
    ) -> None:
        holder = await StockRepository(session).warehouse_id_by_code(code)
        if holder is not None and holder != warehouse_id:
            raise _duplicate_code(code)
