"""Posting movements and stocktakes over REST, listing the ledger, setting a balance."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from server.client_ids import client_chosen_id
from server.db import Database
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page, page_size
from server.settings import Settings
from server.sfa.inputs import check_decimal, plain
from server.sfa.stock.entries import Entry, Pair, StockReference
from server.sfa.stock.ledger import StockLedger
from server.sfa.stock.models import MovementKind, ReferenceKind
from server.sfa.stock.repository import MovementFilters, StockRepository, movements
from server.sfa.stock.schemas import (
    BalanceSet,
    MovementCreate,
    MovementRecord,
    MovementResult,
    StockBalanceOut,
    StocktakeCreate,
    StocktakeResult,
)
from server.sfa.stock.service import balance_out
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter


def movement_record(row: Any) -> MovementRecord:
    """A ledger row (or the dict posted) as its API record."""
    mapping = row._mapping if hasattr(row, "_mapping") else row
    return msgspec.convert(
        {k: mapping[k] for k in MovementRecord.__struct_fields__}, MovementRecord
    )


class MovementService:
    """The ledger over REST: managers and admins post movements and stocktakes."""

    def __init__(
        self, db: Database, writer: ChangeWriter, principal: Principal | None, settings: Settings
    ) -> None:
        self.db = db
        self.ledger = StockLedger(writer)
        self.principal = principal
        self.settings = settings

    async def post_movement(self, data: MovementCreate) -> MovementResult:
        """Post one movement (two ledger rows for a transfer); idempotent on ``id``."""
        movement_id = client_chosen_id(data.id)
        self._check_movement(data)
        try:
            async with self.db.transaction() as session:
                repo = StockRepository(session)
                existing = await repo.movements_of(movement_id)
                if existing:
                    return await self._replay(session, existing, data)
                await self._check_warehouse(repo, data.warehouse_id, "warehouse_id")
                if data.to_warehouse_id is not None:
                    await self._check_warehouse(repo, data.to_warehouse_id, "to_warehouse_id")
                await self.ledger.check_products(repo, [data.product_id], active_only=True)
                if data.kind == "initial" and await repo.has_movements(
                    data.warehouse_id, data.product_id
                ):
                    raise Conflict(
                        "the product already has stock movements in this warehouse",
                        field="kind",
                        code="already_stocked",
                    )
                rows = await self.ledger.post(
                    session, self._entries(movement_id, data), principal=self.principal
                )
                return MovementResult(
                    movements=[movement_record(r) for r in rows],
                    balances=await self._balances(session, _pairs(rows)),
                )
        except sa.exc.IntegrityError:
            # A concurrent request with the same id committed first: answer with its result.
            async with self.db.reading() as session:
                existing = await StockRepository(session).movements_of(movement_id)
                if not existing:
                    raise
                return await self._replay(session, existing, data)

    async def post_stocktake(self, data: StocktakeCreate) -> StocktakeResult:
        """Count a warehouse: each line posts the difference to the ledger; idempotent on ``id``."""
        stocktake_id = client_chosen_id(data.id)
        seen: set[uuid.UUID] = set()
        for index, line in enumerate(data.lines):
            check_decimal(line.counted, f"lines.{index}.counted", ge=0)
            if line.product_id in seen:
                raise ValidationFailed(
                    "a product is counted once per stocktake",
                    field=f"lines.{index}.product_id",
                    code="duplicate_product",
                )
            seen.add(line.product_id)
        try:
            async with self.db.transaction() as session:
                repo = StockRepository(session)
                if await repo.get_stocktake(stocktake_id) is not None:
                    return await self._stocktake(session, stocktake_id)
                await self._check_warehouse(repo, data.warehouse_id, "warehouse_id")
                for index, line in enumerate(data.lines):
                    await self.ledger.check_products(
                        repo,
                        [line.product_id],
                        active_only=False,
                        field=f"lines.{index}.product_id",
                    )
                await repo.insert_stocktake(
                    {
                        "id": stocktake_id,
                        "warehouse_id": data.warehouse_id,
                        "note": data.note,
                        "created_by": self.principal.user_id if self.principal else None,
                    }
                )
                reference = StockReference(ReferenceKind.STOCKTAKE, stocktake_id)
                pairs = [(data.warehouse_id, line.product_id) for line in data.lines]
                async with self.ledger.writer.batch(session):
                    locked = await self.ledger.lock(
                        session, pairs, create=True, principal=self.principal
                    )
                    entries = []
                    for line in data.lines:
                        expected = locked[(data.warehouse_id, line.product_id)].on_hand
                        entries.append(
                            Entry(
                                MovementKind.STOCKTAKE,
                                data.warehouse_id,
                                line.product_id,
                                line.counted - expected,
                                expected=plain(expected),
                                counted=plain(line.counted),
                                reference=reference,
                                note=data.note,
                                may_take_reserved=True,
                            )
                        )
                    await self.ledger.apply(session, locked, entries, principal=self.principal)
                return await self._stocktake(session, stocktake_id)
        except sa.exc.IntegrityError:
            async with self.db.reading() as session:
                if await StockRepository(session).get_stocktake(stocktake_id) is None:
                    raise
                return await self._stocktake(session, stocktake_id)

    async def get_stocktake(self, stocktake_id: uuid.UUID) -> StocktakeResult:
        """One stocktake with its lines as ledger rows."""
        async with self.db.reading() as session:
            if await StockRepository(session).get_stocktake(stocktake_id) is None:
                raise NotFound(f"stocktake {stocktake_id} not found", field="id")
            return await self._stocktake(session, stocktake_id)

    async def set_balance(
        self, warehouse_id: uuid.UUID, product_id: uuid.UUID, data: BalanceSet
    ) -> StockBalanceOut:
        """Set on hand to a counted figure: an ``adjustment`` movement of the difference."""
        check_decimal(data.on_hand, "on_hand", ge=0)
        async with self.db.transaction() as session:
            repo = StockRepository(session)
            await self._check_warehouse(repo, warehouse_id, "warehouse_id", active_only=False)
            await self.ledger.check_products(repo, [product_id], active_only=False)
            pair = (warehouse_id, product_id)
            async with self.ledger.writer.batch(session):
                locked = await self.ledger.lock(
                    session, [pair], create=True, principal=self.principal
                )
                difference = data.on_hand - locked[pair].on_hand
                if difference:
                    entry = Entry(
                        MovementKind.ADJUSTMENT,
                        warehouse_id,
                        product_id,
                        difference,
                        note=data.note,
                        may_take_reserved=True,
                    )
                    await self.ledger.apply(session, locked, [entry], principal=self.principal)
            [balance] = await self._balances(session, [pair])
        return balance

    async def list_movements(
        self, filters: MovementFilters, *, cursor: str | None, limit: int | None
    ) -> Page[MovementRecord]:
        """One page of the ledger, keyset-paginated by id."""
        size = page_size(limit, self.settings)
        for name in ("since", "until"):
            value = getattr(filters, name)
            if value is not None and value.tzinfo is None:
                raise ValidationFailed(f"{name} must carry a time zone", field=name)
        async with self.db.reading() as session:
            statement = StockRepository(session).movements_statement(filters)
            rows, nxt = await fetch_page(
                session, statement, movements.c.id, cursor=cursor, limit=size
            )
        return Page(items=[movement_record(r) for r in rows], next_cursor=nxt)

    def _check_movement(self, data: MovementCreate) -> None:
        if data.kind == "adjustment":
            check_decimal(data.quantity, "quantity")
            if data.quantity == 0:
                raise ValidationFailed("an adjustment changes on hand", field="quantity")
        else:
            check_decimal(data.quantity, "quantity", gt=0)
        if data.kind == "transfer":
            if data.to_warehouse_id is None:
                raise ValidationFailed("a transfer names to_warehouse_id", field="to_warehouse_id")
            if data.to_warehouse_id == data.warehouse_id:
                raise ValidationFailed(
                    "a transfer goes to another warehouse",
                    field="to_warehouse_id",
                    code="same_warehouse",
                )
        elif data.to_warehouse_id is not None:
            raise ValidationFailed("only a transfer names to_warehouse_id", field="to_warehouse_id")
        if (data.reference_kind is None) != (data.reference_id is None):
            field = "reference_id" if data.reference_id is None else "reference_kind"
            raise ValidationFailed("a reference has a kind and an id", field=field)

    def _entries(self, movement_id: uuid.UUID, data: MovementCreate) -> list[Entry]:
        reference = (
            StockReference(ReferenceKind(data.reference_kind), data.reference_id)
            if data.reference_kind is not None and data.reference_id is not None
            else None
        )
        kind = MovementKind(data.kind)
        common: dict[str, Any] = {"reference": reference, "note": data.note}
        if kind is MovementKind.TRANSFER:
            assert data.to_warehouse_id is not None
            return [
                Entry(
                    kind,
                    data.warehouse_id,
                    data.product_id,
                    -data.quantity,
                    id=movement_id,
                    transfer_id=movement_id,
                    counterpart_warehouse_id=data.to_warehouse_id,
                    **common,
                ),
                Entry(
                    kind,
                    data.to_warehouse_id,
                    data.product_id,
                    data.quantity,
                    transfer_id=movement_id,
                    counterpart_warehouse_id=data.warehouse_id,
                    **common,
                ),
            ]
        sign = -1 if kind is MovementKind.OUTBOUND else 1
        return [
            Entry(
                kind,
                data.warehouse_id,
                data.product_id,
                sign * data.quantity,
                id=movement_id,
                may_take_reserved=kind is MovementKind.ADJUSTMENT,
                **common,
            )
        ]

    async def _replay(
        self, session: AsyncSession, existing: Sequence[Any], data: MovementCreate
    ) -> MovementResult:
        first = existing[0]
        if (first.kind, first.warehouse_id, first.product_id) != (
            data.kind,
            data.warehouse_id,
            data.product_id,
        ) or abs(first.quantity) != abs(data.quantity):
            raise Conflict("this id was used for another movement", field="id", code="id_reused")
        return MovementResult(
            movements=[movement_record(r) for r in existing],
            balances=await self._balances(session, _pairs(existing)),
        )

    async def _stocktake(self, session: AsyncSession, stocktake_id: uuid.UUID) -> StocktakeResult:
        repo = StockRepository(session)
        header = await repo.get_stocktake(stocktake_id)
        assert header is not None
        rows = await repo.movements_of_reference(ReferenceKind.STOCKTAKE.value, stocktake_id)
        return StocktakeResult(
            id=header.id,
            warehouse_id=header.warehouse_id,
            note=header.note,
            created_by=header.created_by,
            created_at=header.created_at,
            movements=[movement_record(r) for r in rows],
            balances=await self._balances(session, _pairs(rows)),
        )

    async def _balances(
        self, session: AsyncSession, pairs: Iterable[Pair]
    ) -> list[StockBalanceOut]:
        repo = StockRepository(session)
        out = []
        for warehouse_id, product_id in pairs:
            row = await repo.get_balance(warehouse_id, product_id)
            if row is not None:
                out.append(balance_out(row))
        return out

    async def _check_warehouse(
        self,
        repo: StockRepository,
        warehouse_id: uuid.UUID,
        field: str,
        *,
        active_only: bool = True,
    ) -> None:
        row = await repo.get_warehouse(warehouse_id)
        if row is None:
            raise ValidationFailed(
                f"warehouse {warehouse_id} does not exist", field=field, code="unknown_warehouse"
            )
        if active_only and not row.active:
            raise ValidationFailed(
                f"warehouse {warehouse_id} is inactive", field=field, code="inactive_warehouse"
            )


def _pairs(rows: Iterable[Any]) -> list[Pair]:
    seen: dict[Pair, None] = {}
    for row in rows:
        mapping = row._mapping if hasattr(row, "_mapping") else row
        seen[(mapping["warehouse_id"], mapping["product_id"])] = None
    return list(seen)
