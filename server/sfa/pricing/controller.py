"""Discount approvals over REST: managers approve or refuse quotes and orders waiting for one
(``POST /orders/{id}/approve|refuse``, the same for quotes); admins set the discount limits."""

from __future__ import annotations

import uuid
from typing import TypeVar

from litestar import Controller, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from protocol.entities.documents import OrderRecord, QuoteRecord
from server.auth.guards import admins_only, managers_only
from server.http.concurrency import IfMatch, expected_version
from server.sfa.pricing.approval_service import ApprovalService
from server.sfa.pricing.schemas import Decision, DiscountLimitRecord, DiscountLimitSet
from server.sync.registry import Principal


def provide_approval_service(
    state: State, principal: NamedDependency[Principal]
) -> ApprovalService:
    """The service for one request, wired from the app state."""
    return ApprovalService(state.db, state.writer, principal, state.settings)


_service = {"service": Provide(provide_approval_service, sync_to_thread=False)}


class ApprovalController(Controller):
    """Decisions on discounts above a seller's authority (managers in their scope, admins)."""

    path = "/"
    tags = ["pricing"]
    guards = [managers_only]
    dependencies = _service

    @post("/orders/{order_id:uuid}/approve", status_code=200)
    async def approve_order(
        self,
        service: NamedDependency[ApprovalService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
        if_match: IfMatch = None,
    ) -> OrderRecord:
        """Approve the order's discount: it goes through the submission checks."""
        return await _decided(service, OrderRecord, order_id, data, True, if_match)

    @post("/orders/{order_id:uuid}/refuse", status_code=200)
    async def refuse_order(
        self,
        service: NamedDependency[ApprovalService],
        order_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
        if_match: IfMatch = None,
    ) -> OrderRecord:
        """Refuse the order's discount: it returns to draft with the note."""
        return await _decided(service, OrderRecord, order_id, data, False, if_match)

    @post("/quotes/{quote_id:uuid}/approve", status_code=200)
    async def approve_quote(
        self,
        service: NamedDependency[ApprovalService],
        quote_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
        if_match: IfMatch = None,
    ) -> QuoteRecord:
        """Approve the quote's discount: it is sent."""
        return await _decided(service, QuoteRecord, quote_id, data, True, if_match)

    @post("/quotes/{quote_id:uuid}/refuse", status_code=200)
    async def refuse_quote(
        self,
        service: NamedDependency[ApprovalService],
        quote_id: FromPath[uuid.UUID],
        data: JSONBody[Decision],
        if_match: IfMatch = None,
    ) -> QuoteRecord:
        """Refuse the quote's discount: it returns to draft with the note."""
        return await _decided(service, QuoteRecord, quote_id, data, False, if_match)

    @get("/discount-limits")
    async def list_limits(
        self, service: NamedDependency[ApprovalService]
    ) -> list[DiscountLimitRecord]:
        """The configured limits (a role without one keeps its default: rep 10, manager 25,
        admin 100)."""
        return await service.list_limits()

    @put("/discount-limits/roles/{role:str}", guards=[admins_only])
    async def set_role_limit(
        self,
        service: NamedDependency[ApprovalService],
        role: FromPath[str],
        data: JSONBody[DiscountLimitSet],
    ) -> DiscountLimitRecord:
        """Set a role's maximum discount."""
        return await service.set_limit(role=role, max_pct=data.max_discount_pct)

    @put("/discount-limits/users/{user_id:uuid}", guards=[admins_only])
    async def set_user_limit(
        self,
        service: NamedDependency[ApprovalService],
        user_id: FromPath[uuid.UUID],
        data: JSONBody[DiscountLimitSet],
    ) -> DiscountLimitRecord:
        """Set one user's own maximum discount (replacing their role's, higher or lower)."""
        return await service.set_limit(user_id=user_id, max_pct=data.max_discount_pct)


R = TypeVar("R", OrderRecord, QuoteRecord)


async def _decided(
    service: ApprovalService,
    record_type: type[R],
    record_id: uuid.UUID,
    data: Decision,
    approve: bool,
    if_match: str | None,
) -> R:
    """One approval decision on an order or a quote, answered as its record."""
    entity = "order" if record_type is OrderRecord else "quote"
    record = await service.decide(
        entity, record_id, data, approve=approve, expected=expected_version(if_match)
    )
    assert isinstance(record, record_type)
    return record
