"""Discount approvals: a manager approves or refuses a quote or order waiting for approval.

An approval covers exactly the priced content the request recorded (its fingerprint): the
document is priced again now, and when its content changed since (a line, a discount, a price
list) the approval is refused ``approval_stale``. Approved, a quote is sent and an order goes
through the submission checks; refused, the document returns to draft with the note. Every
decision is written through the change writer, so it syncs to the rep's device.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from protocol.entities.documents import OrderRecord, QuoteRecord
from protocol.errors import INVALID_STATE
from rules.discount_authority import approval_fingerprint, check_discount_authority
from server.db import utcnow
from server.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.notifications.sync_push import request_sync
from server.sfa.area_service import AreaService
from server.sfa.inputs import check_decimal
from server.sfa.orders.sync import submission_decision
from server.sfa.pricing.repository import PricingRepository
from server.sfa.pricing.schemas import Decision, DiscountLimitRecord
from server.sfa.pricing.service import discount_policy, price_record

APPROVAL_STALE = "approval_stale"
REFUSED = "discount_refused"
ROLES = frozenset({"rep", "manager", "admin"})


class ApprovalService(AreaService):
    """Decisions on documents waiting for a discount approval, and the discount limits."""

    async def decide(
        self,
        entity: str,
        record_id: uuid.UUID,
        decision: Decision,
        *,
        approve: bool,
        expected: frozenset[int] | None = None,
    ) -> QuoteRecord | OrderRecord:
        """Approve or refuse ``record_id`` (a ``quote`` or an ``order``)."""
        async with self.db.transaction() as session:
            state = await self.writer.state(session, entity, record_id)
            keys = await self.writer.registry.scope_keys(session, self.principal)
            if state is None or state.deleted or state.scope_key not in keys:
                raise NotFound(f"{entity} {record_id} not found", field="id")
            await self.writer.check_version(session, entity, record_id, expected)
            current = await self.writer.load(session, entity, record_id)
            if current.get("status") != "pending_approval":
                raise Conflict(
                    f"the {entity} is not waiting for approval",
                    field="status",
                    code=INVALID_STATE,
                    data={"status": current.get("status")},
                )
            now = utcnow()
            if approve:
                changes = await self._approval(session, entity, current, decision, now)
            else:
                changes = {
                    "status": "draft",
                    "approval_reason": REFUSED,
                    "approval_note": decision.note,
                    "approval_fingerprint": None,
                    "approved_by": None,
                    "approved_at": None,
                }
                if entity == "order":  # audited with the order's other transitions
                    changes = await submission_decision(
                        session, current, **self._order_decision("refuse", decision, changes)
                    )
            record = await self.writer.update(
                session, entity, record_id, changes, principal=self.principal
            )
            await request_sync(session, [uuid.UUID(str(current["owner_id"]))])  # silent push
        record_type: type[QuoteRecord | OrderRecord] = (
            QuoteRecord if entity == "quote" else OrderRecord
        )
        return msgspec.convert(record, record_type, strict=False)

    async def _approval(
        self, session: Any, entity: str, current: dict[str, Any], decision: Decision, now: Any
    ) -> dict[str, Any]:
        _lines, priced = await price_record(session, current)
        if approval_fingerprint(priced) != current.get("approval_fingerprint"):
            raise Conflict(
                f"the {entity}'s priced content changed since approval was asked",
                field="lines",
                code=APPROVAL_STALE,
            )
        own = check_discount_authority(
            priced,
            user_id=self.principal.user_id,
            role=self.principal.role,
            policy=await discount_policy(session),
        )
        if own.needs_approval:  # above the approver's own limit too: someone higher decides
            raise Forbidden(
                f"a discount of {own.max_discount_pct} % is above your own limit of "
                f"{own.limit_pct} %",
                field=own.field,
                code="discount_above_authority",
            )
        changes: dict[str, Any] = {
            "approval_note": decision.note,
            "approved_by": self.principal.user_id,
            "approved_at": now,
        }
        if entity == "quote":
            return {**changes, "status": "sent"}
        return {
            **changes,
            **await submission_decision(
                session, current, **self._order_decision("approve", decision, None)
            ),
        }

    def _order_decision(
        self, action: str, decision: Decision, refused: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "writer": self.writer,
            "principal": self.principal,
            "action": action,
            "note": decision.note,
            "refused": refused,
        }

    async def list_limits(self) -> list[DiscountLimitRecord]:
        """Every configured limit (roles without a row keep their default)."""
        async with self.db.reading() as session:
            rows = await PricingRepository(session).discount_limits()
        return [
            DiscountLimitRecord(role=r.role, user_id=r.user_id, max_discount_pct=r.max_discount_pct)
            for r in rows
        ]

    async def set_limit(
        self, *, role: str | None = None, user_id: uuid.UUID | None = None, max_pct: Any
    ) -> DiscountLimitRecord:
        """Set the limit of a role or of one user (admins)."""
        check_decimal(max_pct, "max_discount_pct", ge=0, le=100)
        if role is not None and role not in ROLES:
            raise ValidationFailed(f"unknown role {role!r}", field="role")
        async with self.db.transaction() as session:
            repo = PricingRepository(session)
            if user_id is not None and not await repo.user_exists(user_id):
                raise NotFound(f"user {user_id} not found", field="user_id")
            await repo.set_limit(role=role, user_id=user_id, max_discount_pct=max_pct)
        return DiscountLimitRecord(role=role, user_id=user_id, max_discount_pct=max_pct)
