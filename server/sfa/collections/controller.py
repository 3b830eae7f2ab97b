"""``/payments``, ``/receivables`` and ``/finance/collections``: thin handlers over the
collections services (managers in their subtree and admins; reps are refused)."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import managers_only
from server.pagination import Page
from server.sfa.collections.payment_service import PaymentService
from server.sfa.collections.receivables import ReceivablesService
from server.sfa.collections.schemas import (
    CollectionPage,
    PaymentCreate,
    PaymentFilters,
    PaymentRecord,
    ReceivablePage,
    ReceivableTotals,
    RefundCreate,
)
from server.sync.registry import Principal


def provide_payment_service(state: State, principal: NamedDependency[Principal]) -> PaymentService:
    """The payment service for one request."""
    return PaymentService(state.db, state.writer, principal, state.settings)


def provide_receivables_service(
    state: State, principal: NamedDependency[Principal]
) -> ReceivablesService:
    """The receivables service for one request."""
    return ReceivablesService(state.db, state.writer, principal, state.settings)


class PaymentController(Controller):
    """Payments and refunds against instalments."""

    path = "/payments"
    tags = ["finance"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_payment_service, sync_to_thread=False)}

    @get("/")
    async def list_payments(
        self,
        service: NamedDependency[PaymentService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        contract_id: FromQuery[uuid.UUID | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        rep_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        received_from: FromQuery[dt.date | None] = None,
        received_to: FromQuery[dt.date | None] = None,
    ) -> Page[PaymentRecord]:
        """Payments and refunds, oldest first."""
        filters = PaymentFilters(
            contract_id=contract_id,
            account_id=account_id,
            rep_id=rep_id,
            territory_id=territory_id,
            received_from=received_from,
            received_to=received_to,
        )
        return await service.list_payments(filters, cursor=cursor, limit=limit)

    @post("/")
    async def record_payment(
        self, service: NamedDependency[PaymentService], data: JSONBody[PaymentCreate]
    ) -> PaymentRecord:
        """Record money received on an instalment (idempotent on ``id``)."""
        return await service.record_payment(data)

    @get("/{payment_id:uuid}")
    async def get_payment(
        self, service: NamedDependency[PaymentService], payment_id: FromPath[uuid.UUID]
    ) -> PaymentRecord:
        """One payment or refund."""
        return await service.get_payment(payment_id)

    @post("/{payment_id:uuid}/refunds")
    async def record_refund(
        self,
        service: NamedDependency[PaymentService],
        payment_id: FromPath[uuid.UUID],
        data: JSONBody[RefundCreate],
    ) -> PaymentRecord:
        """Record money given back on a payment (idempotent on ``id``)."""
        return await service.record_refund(payment_id, data)


class FinanceController(Controller):
    """Receivables with ageing, and collections per rep."""

    path = "/"
    tags = ["finance"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_receivables_service, sync_to_thread=False)}

    @get("/receivables")
    async def list_receivables(
        self,
        service: NamedDependency[ReceivablesService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        owner_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        due_from: FromQuery[dt.date | None] = None,
        due_to: FromQuery[dt.date | None] = None,
    ) -> ReceivablePage:
        """Accounts with open instalments, what each owes per currency by days overdue."""
        return await service.list_receivables(
            account_id=account_id,
            owner_id=owner_id,
            territory_id=territory_id,
            due_from=due_from,
            due_to=due_to,
            cursor=cursor,
            limit=limit,
        )

    @get("/receivables/totals")
    async def receivable_totals(
        self,
        service: NamedDependency[ReceivablesService],
        account_id: FromQuery[uuid.UUID | None] = None,
        owner_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        due_from: FromQuery[dt.date | None] = None,
        due_to: FromQuery[dt.date | None] = None,
    ) -> ReceivableTotals:
        """What the matching accounts owe together per currency, by days overdue."""
        return await service.receivable_totals(
            account_id=account_id,
            owner_id=owner_id,
            territory_id=territory_id,
            due_from=due_from,
            due_to=due_to,
        )

    @get("/finance/collections")
    async def collections(
        self,
        service: NamedDependency[ReceivablesService],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        rep_id: FromQuery[uuid.UUID | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
        account_id: FromQuery[uuid.UUID | None] = None,
        received_from: FromQuery[dt.date | None] = None,
        received_to: FromQuery[dt.date | None] = None,
    ) -> CollectionPage:
        """Money collected per rep and currency over the period, keyset-paginated by rep."""
        filters = PaymentFilters(
            account_id=account_id,
            rep_id=rep_id,
            territory_id=territory_id,
            received_from=received_from,
            received_to=received_to,
        )
        return await service.collections(filters, cursor=cursor, limit=limit)
