"""The order submissions of one push, decided together.

Before a push's order mutations are applied (``EntitySpec.prepare``), everything their
submissions read is read once: the catalog and discount policy pricing needs, the customers'
rows (locked, in id order), their open orders, the warehouses, and the stock balances of every
line (locked, in (warehouse, product) order; customers first, then balances, as every other
decision locks them, so concurrent pushes queue instead of deadlocking). Each ``order.submit``
is then decided in memory against those rows plus what earlier submissions of the push queued,
and queues its reservations, its balance changes and its audit row; the engine rolls a rejected
mutation's entries back and has the queue written in bulk when it flushes. Any flush ends the
batch (what it read may be stale from then on): later submissions take the one-by-one path of
``OrderActor``, guarded by their own SAVEPOINT. See docs/orders.md, "Pushes of many orders".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from protocol.sync import Mutation
from rules.pricing import Line
from server.db import new_id, utcnow
from server.sfa.calendar.wire import parse_uuid
from server.sfa.inputs import plain
from server.sfa.orders.decision import Decision, decision_of, reference, usable_warehouse
from server.sfa.orders.repository import OrderRepository, Transition
from server.sfa.orders.rules import OPEN_STATUSES, requested_quantities, standing_reasons
from server.sfa.pricing.service import preload, preloaded
from server.sfa.stock.entries import ZERO, Pair, ShortLine
from server.sfa.stock.models import ReservationStatus
from server.sfa.stock.repository import StockRepository
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter

__all__ = ["OrderPushBatch", "prepare_order_push"]

_KEY = "outpost.orders.push_batch"
SUBMIT = "order.submit"


@dataclass
class Submission:
    """What one queued ``order.submit`` writes besides the order itself."""

    order_id: uuid.UUID
    account_id: uuid.UUID
    status: str
    total: Decimal
    held: dict[Pair, Decimal]
    transition: Transition


@dataclass
class OrderPushBatch:
    """The rows a push's submissions are decided against, and what they queued."""

    principal: Principal
    standing: dict[uuid.UUID, Any]  # account id -> blacklisted, arrears, credit_limit (locked)
    open_orders: dict[uuid.UUID, dict[uuid.UUID, Decimal]]  # account -> open order -> total
    balances: dict[Pair, Any]  # (warehouse, product) -> balance row (locked)
    warehouses: dict[uuid.UUID, Any]  # the usable warehouses' rows
    session: AsyncSession
    active: bool = True
    writer: ChangeWriter | None = None
    queue: list[Submission] = field(default_factory=list)
    held: dict[Pair, Decimal] = field(default_factory=dict)  # queued reservations per balance
    admitted: uuid.UUID | None = None

    @staticmethod
    def admitted_for(session: Any, order_id: uuid.UUID) -> OrderPushBatch | None:
        """The push's batch, when the engine let it queue this order's submission."""
        batch = session.info.get(_KEY)
        if isinstance(batch, OrderPushBatch) and batch.active and batch.admitted == order_id:
            batch.admitted = None
            return batch
        return None

    def queues(self, mutation: Mutation, current: dict[str, Any] | None) -> bool:
        """A submission of a draft whose every read this batch already holds."""
        self.admitted = None
        if not self.active or mutation.op != SUBMIT or current is None:
            return False
        if current.get("status") != "draft" or not current.get("lines"):
            return False  # refused the usual way (invalid_state, no lines)
        # a stored draft: what does not parse is refused by the one-by-one path, with its reason
        account_id = _uuid(current.get("account_id"))
        products = set(_products(current.get("lines")))
        warehouse = current.get("warehouse_id")
        warehouse_id = None if warehouse is None else _uuid(warehouse)
        if account_id is None or (warehouse is not None and warehouse_id is None):
            return False
        if account_id not in self.standing or not preloaded(self.session, products, account_id):
            return False
        if warehouse_id is not None:
            row = self.warehouses.get(warehouse_id)
            if row is None:
                return False
            # a backorder warehouse creates the balances it lacks: the one-by-one path does
            if row.allow_backorder and any(
                (warehouse_id, p) not in self.balances for p in products
            ):
                return False
        self.admitted = mutation.id
        return True

    def mark(self) -> int:
        """A point to roll the queue back to."""
        return len(self.queue)

    def rollback(self, mark: int) -> None:
        """Forget the submissions queued after ``mark``."""
        while len(self.queue) > mark:
            for pair, quantity in self.queue.pop().held.items():
                self.held[pair] -= quantity

    def open_total(self, account_id: uuid.UUID, *, excluding: uuid.UUID) -> Decimal:
        """The totals of the account's open orders, as this push left them."""
        queued = {s.order_id: s for s in self.queue if s.account_id == account_id}
        stored = self.open_orders.get(account_id, {})
        total = sum((t for o, t in stored.items() if o not in queued and o != excluding), ZERO)
        return total + sum(
            (s.total for o, s in queued.items() if s.status in OPEN_STATUSES and o != excluding),
            ZERO,
        )

    def available(self, pair: Pair) -> Decimal:
        """On hand minus reserved, counting what this push queued (no balance: none)."""
        row = self.balances.get(pair)
        if row is None:
            return ZERO
        return Decimal(row.on_hand - row.reserved - self.held.get(pair, ZERO))

    async def decide(
        self, record: dict[str, Any], lines: Iterable[Line]
    ) -> tuple[Decision, dict[Pair, Decimal]]:
        """``OrderActor.decide`` (no overrides: a submission) of ``record`` priced as ``lines``
        against the batch's rows; returns the decision and the quantities it would reserve.
        Nothing is queued yet."""
        order_id = parse_uuid(record["id"], "id")
        account_id = parse_uuid(record["account_id"], "account_id")
        standing = self.standing[account_id]
        reasons = standing_reasons(
            arrears=standing.arrears,
            credit_limit=standing.credit_limit,
            open_total=self.open_total(account_id, excluding=order_id),
            order_total=Decimal(str(record["total"])),
        )
        short: list[ShortLine] = []
        held: dict[Pair, Decimal] = {}
        if not standing.blacklisted and record.get("warehouse_id"):
            warehouse_id = await usable_warehouse(OrderRepository(self.session), record)
            backorder = bool(self.warehouses[warehouse_id].allow_backorder)
            for product_id, quantity in requested_quantities(lines).items():
                available = self.available((warehouse_id, product_id))
                if backorder or available >= quantity:
                    held[(warehouse_id, product_id)] = quantity
                else:
                    short.append(ShortLine(product_id, quantity, max(available, ZERO)))
            if reasons or short:
                held = {}  # a held order holds no stock; a short one reserves nothing
            if reasons:  # only looked at: listed by product, as the one-by-one path does
                short.sort(key=lambda line: line.product_id)
        return decision_of(record, standing.blacklisted, reasons, tuple(short), []), held

    def queue_submission(self, writer: ChangeWriter, submission: Submission) -> None:
        """Queue a decided submission (the last step of its mutation)."""
        self.writer = writer
        self.queue.append(submission)
        for pair, quantity in submission.held.items():
            self.held[pair] = self.held.get(pair, ZERO) + quantity

    async def flush(self, session: AsyncSession) -> None:
        """Write the queued balances, reservations and audit rows; the batch ends here."""
        self.active = False
        self.admitted = None
        session.info.pop(_KEY, None)
        queue, self.queue = self.queue, []
        if not queue:
            return
        assert self.writer is not None, "a queued submission brings the push's writer"
        now = utcnow()
        reserved = {
            self.balances[pair].id: {"reserved": plain(self.balances[pair].reserved + quantity)}
            for pair, quantity in self.held.items()
            if quantity
        }
        await self.writer.update_many(session, "stock_balance", reserved, principal=self.principal)
        await StockRepository(session).insert_reservations(
            [
                {
                    "id": new_id(),
                    "warehouse_id": warehouse_id,
                    "product_id": product_id,
                    "reference_kind": reference(s.order_id).kind.value,
                    "reference_id": s.order_id,
                    "quantity": plain(quantity),
                    "status": ReservationStatus.ACTIVE.value,
                    "created_by": self.principal.user_id,
                    "created_at": now,
                    "updated_at": now,
                }
                for s in queue
                for (warehouse_id, product_id), quantity in s.held.items()
            ]
        )
        await OrderRepository(session).add_transitions([s.transition for s in queue])


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _products(lines: Any) -> Iterable[uuid.UUID]:
    # device input, not checked yet: whatever does not parse is left to the mutation's checks
    for line in lines if isinstance(lines, list) else ():
        product_id = _uuid(line.get("product_id")) if isinstance(line, Mapping) else None
        if product_id is not None:
            yield product_id


async def prepare_order_push(
    session: AsyncSession,
    principal: Principal,
    mutations: list[Mutation],
    records: Mapping[uuid.UUID, dict[str, Any] | None],
) -> OrderPushBatch | None:
    """Read (and lock) once what the push's order mutations need; a batch when it submits."""
    accounts: dict[uuid.UUID, uuid.UUID] = {}  # order -> its account, as last named
    warehouses: dict[uuid.UUID, uuid.UUID] = {}
    products: dict[uuid.UUID, set[uuid.UUID]] = {}
    for order_id, record in records.items():
        if record is not None:
            _note(order_id, record, accounts, warehouses, products)
    for mutation in mutations:
        if mutation.op == "upsert":
            _note(mutation.id, mutation.changes, accounts, warehouses, products)
    submitted = {m.id for m in mutations if m.op == SUBMIT}
    repo = OrderRepository(session)
    customers = {accounts[o] for o in submitted if o in accounts}
    standing = await repo.lock_standings(customers)
    segments = {a: row.segment for a, row in standing.items()}
    others = set(accounts.values()) - customers
    segments |= await _segments(session, others)
    await preload(session, set().union(*products.values()), segments)
    usable: dict[uuid.UUID, Any] = {}
    for warehouse_id in sorted(set(warehouses.values())):
        row = await repo.warehouse(warehouse_id)
        if row is not None:
            usable[warehouse_id] = row
    if not submitted:
        return None
    pairs = {
        (warehouses[o], p)
        for o in submitted
        if warehouses.get(o) in usable
        for p in products.get(o, ())
    }
    balances = await StockRepository(session).lock_balances(pairs)
    open_orders: dict[uuid.UUID, dict[uuid.UUID, Decimal]] = {}
    for order_id, (account_id, total) in (await repo.open_orders(standing)).items():
        open_orders.setdefault(account_id, {})[order_id] = total
    batch = OrderPushBatch(principal, standing, open_orders, balances, usable, session)
    session.info[_KEY] = batch
    return batch


def _note(
    order_id: uuid.UUID,
    values: Mapping[str, Any],
    accounts: dict[uuid.UUID, uuid.UUID],
    warehouses: dict[uuid.UUID, uuid.UUID],
    products: dict[uuid.UUID, set[uuid.UUID]],
) -> None:
    account_id, warehouse_id = _uuid(values.get("account_id")), _uuid(values.get("warehouse_id"))
    if account_id is not None:
        accounts[order_id] = account_id
    if warehouse_id is not None:
        warehouses[order_id] = warehouse_id
    products.setdefault(order_id, set()).update(_products(values.get("lines")))


async def _segments(session: AsyncSession, account_ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    # the accounts of drafts the push only creates or edits: their pricing needs the segment
    return await OrderRepository(session).segments(account_ids) if account_ids else {}
