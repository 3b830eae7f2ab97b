"""The server's decision on an order and the stock it holds, shared by the push and the desk.

Every decision (a submission, a discount approval, a hold released or confirmed by the desk)
locks the customer's row, runs the checks a manager has not released, and reserves the
order's lines in its warehouse when nothing else holds it: the reservation is what confirms
it, so two orders racing for the last units cannot both be confirmed (``StockLedger.reserve``
locks the balance rows). Cancelling gives the reservation back; fulfilling consumes it into
an outbound movement referencing the order. Each change of status is appended to the audit
(``order_transitions``) in the same transaction. See docs/orders.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from protocol.errors import INVALID_STATE
from server.db import utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.sfa.calendar.wire import parse_uuid
from server.sfa.orders.repository import OrderRepository, Transition
from server.sfa.orders.rules import (
    ALLOWED_FROM,
    Outcome,
    requested_quantities,
    short_products,
    standing_reasons,
    submission_outcome,
)
from server.sfa.quotes.lines import checked_lines
from server.sfa.stock.entries import ZERO, ShortLine, StockLine, StockReference
from server.sfa.stock.ledger import StockLedger
from server.sfa.stock.models import ReferenceKind
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter

__all__ = ["Decision", "OrderActor"]


@dataclass(frozen=True)
class Decision:
    """What the checks decided, the order fields that say so, and the lines short of stock."""

    outcome: Outcome
    changes: dict[str, Any]
    short: tuple[ShortLine, ...] = ()


def reference(order_id: uuid.UUID) -> StockReference:
    """The ledger reference of an order's reservations and movements."""
    return StockReference(ReferenceKind.ORDER, order_id)


async def usable_warehouse(repo: OrderRepository, record: dict[str, Any]) -> uuid.UUID:
    """The order's warehouse; ``unknown_warehouse`` / ``inactive_warehouse`` (422) when it is
    gone or closed, or when it is a van of someone other than the order's rep."""
    warehouse_id = parse_uuid(record["warehouse_id"], "warehouse_id")
    row = await repo.warehouse(warehouse_id)
    owner = row.owner_id if row is not None else None
    if row is None or (owner is not None and str(owner) != str(record.get("owner_id"))):
        raise ValidationFailed(
            "warehouse does not exist", field="warehouse_id", code="unknown_warehouse"
        )
    if not row.active:
        raise ValidationFailed(
            "warehouse is inactive", field="warehouse_id", code="inactive_warehouse"
        )
    return warehouse_id


def _when(value: Any) -> dt.datetime | None:
    # a wire record's time is ISO text; the writer takes datetimes
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def decision_of(
    record: dict[str, Any],
    blacklisted: bool,
    standing: list[str],
    short: tuple[ShortLine, ...],
    released: list[str],
) -> Decision:
    """The decision the checks' findings make, with the order fields that say so."""
    outcome = submission_outcome(
        blacklisted=blacklisted, standing=standing, stock_short=bool(short)
    )
    changes = {
        "status": outcome.status,
        "hold_reasons": list(outcome.hold_reasons),
        "hold_reason": outcome.hold_reasons[0] if outcome.hold_reasons else None,
        "reject_reason": outcome.reject_reason,
        "hold_overrides": released,
        "submitted_at": _when(record.get("submitted_at")) or utcnow(),
    }
    return Decision(outcome, changes, short)


def transition_of(
    order_id: uuid.UUID,
    action: str,
    from_status: str,
    changes: dict[str, Any],
    note: str,
    *,
    principal: Principal | None,
    device_id: uuid.UUID | None,
) -> Transition:
    """The audit row of the transition ``changes`` make (a change of status)."""
    to_status = str(changes.get("status", from_status))
    reasons = list(changes.get("hold_reasons") or [])
    if changes.get("reject_reason"):
        reasons = [str(changes["reject_reason"])]
    return Transition(
        order_id=order_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reasons=reasons,
        note=note,
        actor_id=principal.user_id if principal else None,
        device_id=device_id,
    )


class OrderActor:
    """Decides and moves orders inside the caller's transaction, writing through ``writer``."""

    def __init__(
        self,
        session: Any,
        writer: ChangeWriter,
        principal: Principal | None,
        *,
        device_id: uuid.UUID | None = None,
    ) -> None:
        self.session, self.writer, self.principal = session, writer, principal
        self.device_id = device_id
        self.repo = OrderRepository(session)

    async def lock(self, order_id: uuid.UUID, action: str) -> str:
        """Lock the order and refuse ``action`` from its committed status (409
        ``invalid_state`` with the status in ``data``); returns the status."""
        status = await self.repo.lock_status(order_id)
        if status is None:
            raise NotFound(f"order {order_id} not found", field="id")
        if status not in ALLOWED_FROM[action]:
            raise Conflict(
                f"cannot {action} an order that is {status}",
                field="status",
                code=INVALID_STATE,
                data={"status": status, "action": action},
            )
        return status

    async def decide(self, record: dict[str, Any], *, overrides: Iterable[str] = ()) -> Decision:
        """The checks on ``record`` (a wire dict with the server's totals), first the customer's
        standing without the ``overrides``, then stock: reserved when nothing else holds the
        order, only looked at when it is held anyway (a held order holds no stock)."""
        released = list(overrides)
        lines = checked_lines(record.get("lines"))
        order_id = parse_uuid(record["id"], "id")
        account_id = parse_uuid(record["account_id"], "account_id")
        standing = await self.repo.lock_account_standing(account_id)
        reasons = standing_reasons(
            arrears=standing.arrears,
            credit_limit=standing.credit_limit,
            open_total=await self.repo.open_orders_total(account_id, excluding=order_id),
            order_total=Decimal(str(record["total"])),
            overrides=released,
        )
        short: tuple[ShortLine, ...] = ()
        if not standing.blacklisted and record.get("warehouse_id"):
            warehouse_id = await usable_warehouse(self.repo, record)
            requested = requested_quantities(lines)
            if reasons:
                short = await self._shortage(warehouse_id, requested)
            else:
                result = await StockLedger(self.writer).reserve(
                    self.session,
                    warehouse_id,
                    [StockLine(product, quantity) for product, quantity in requested.items()],
                    reference(order_id),
                    principal=self.principal,
                )
                short = result.short
        return decision_of(record, standing.blacklisted, reasons, short, released)

    async def _shortage(
        self, warehouse_id: uuid.UUID, requested: dict[uuid.UUID, Decimal]
    ) -> tuple[ShortLine, ...]:
        row = await self.repo.warehouse(warehouse_id)
        if row.allow_backorder:
            return ()
        available = await self.repo.available_stock(warehouse_id, requested)
        return tuple(
            ShortLine(product, requested[product], max(available.get(product, ZERO), ZERO))
            for product in short_products(requested, available)
        )

    async def release_stock(self, order_id: uuid.UUID) -> None:
        """Give back what the order holds (nothing when it holds nothing)."""
        await StockLedger(self.writer).release(
            self.session, reference(order_id), principal=self.principal
        )

    async def consume_stock(self, order_id: uuid.UUID, note: str) -> None:
        """Ship what the order holds: outbound movements referencing it
        (``insufficient_stock`` 409 when on hand no longer covers it)."""
        await StockLedger(self.writer).consume(
            self.session, reference(order_id), principal=self.principal, note=note
        )

    async def audit(
        self, order_id: uuid.UUID, action: str, from_status: str, changes: dict[str, Any], note: str
    ) -> None:
        """Append the transition ``changes`` make (a change of status) to the audit."""
        await self.repo.add_transition(
            transition_of(
                order_id,
                action,
                from_status,
                changes,
                note,
                principal=self.principal,
                device_id=self.device_id,
            )
        )
