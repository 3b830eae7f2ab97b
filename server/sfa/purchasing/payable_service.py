"""Payables (one per receipt, its received value) and the payments made against them."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.ageing import BUCKETS, bucket_of, days_overdue
from server.client_ids import client_chosen_id
from server.db import utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.inputs import check_decimal, plain, record_of
from server.sfa.purchasing.payable_repository import (
    PayableFilters,
    PayableRepository,
    payables,
    payments,
)
from server.sfa.purchasing.payable_schemas import (
    AgeingTotals,
    PayablePage,
    PayableRecord,
    PaymentCreate,
    PaymentRecord,
    PaymentResult,
)
from server.sfa.purchasing.repository import SupplierRepository
from server.sfa.scopes import managed_users

OVERPAYMENT = "overpayment"
ZERO = decimal.Decimal("0.0000")


def payable_record(row: Any, as_of: dt.date) -> PayableRecord:
    """A payable row as the API record, aged on ``as_of``."""
    return PayableRecord(
        id=row.id,
        supplier_id=row.supplier_id,
        purchase_order_id=row.purchase_order_id,
        receipt_id=row.receipt_id,
        currency=row.currency,
        amount=row.amount,
        paid=row.paid,
        outstanding=row.amount - row.paid,
        settled=row.settled,
        issued_on=row.issued_on,
        due_on=row.due_on,
        days_overdue=0 if row.settled else max(days_overdue(row.due_on, as_of), 0),
        bucket="current" if row.settled else bucket_of(row.due_on, as_of),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def ageing_totals(rows: list[Any], as_of: dt.date) -> list[AgeingTotals]:
    """Outstanding amounts per currency and bucket (currencies in alphabetical order)."""
    sums: dict[str, dict[str, Any]] = {}
    for row in rows:
        figures = sums.setdefault(row.currency, {**dict.fromkeys(BUCKETS, ZERO), "count": 0})
        outstanding = decimal.Decimal(str(row.amount)) - decimal.Decimal(str(row.paid))
        figures[bucket_of(row.due_on, as_of)] += outstanding
        figures["count"] += 1
    return [
        AgeingTotals(
            currency=currency,
            total=plain(sum((figures[n] for n in BUCKETS), ZERO)),
            **{k: plain(v) if k != "count" else v for k, v in figures.items()},
        )
        for currency, figures in sorted(sums.items())
    ]


class PayableService(AreaService):
    """The payables ledger: lists with ageing, payments against one payable."""

    async def list_payables(
        self,
        filters: PayableFilters,
        as_of: dt.date | None,
        *,
        cursor: str | None,
        limit: int | None,
    ) -> PayablePage:
        """One page of payables, with the ageing totals of all those the filters select."""
        size = self._limit(limit)
        day = as_of or utcnow().date()
        if filters.due_from and filters.due_until and filters.due_from > filters.due_until:
            raise ValidationFailed("due_from is after due_until", field="due_from")
        async with self.db.reading() as session:
            filters = replace(filters, owners=await managed_users(session, self.principal))
            supplier_id = filters.supplier_id
            if (
                supplier_id is not None
                and await SupplierRepository(session).get_supplier(supplier_id) is None
            ):
                raise NotFound(f"supplier {supplier_id} not found", field="supplier_id")
            repo = PayableRepository(session)
            rows, nxt = await fetch_page(
                session, repo.payables_statement(filters), payables.c.id, cursor=cursor, limit=size
            )
            open_rows = await repo.open_amounts(
                PayableFilters(**{**vars(filters), "open_only": True})
            )
        return PayablePage(
            items=[payable_record(r, day) for r in rows],
            next_cursor=nxt,
            as_of=day,
            totals=ageing_totals(open_rows, day),
        )

    async def get_payable(self, payable_id: uuid.UUID) -> PayableRecord:
        """One payable."""
        async with self.db.reading() as session:
            row = await self._payable(session, payable_id)
        return payable_record(row, utcnow().date())

    async def list_payments(
        self, payable_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[PaymentRecord]:
        """One page of the payments made against a payable."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            await self._payable(session, payable_id)
            statement = PayableRepository(session).payments_statement(payable_id)
            rows, nxt = await fetch_page(
                session, statement, payments.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(PaymentRecord, r) for r in rows], next_cursor=nxt)

    async def pay(self, payable_id: uuid.UUID, data: PaymentCreate) -> PaymentResult:
        """Record a payment; never more than outstanding (the payable row is locked first)."""
        payment_id = client_chosen_id(data.id)
        check_decimal(data.amount, "amount", gt=0)
        try:
            async with self.db.transaction() as session:
                repo = PayableRepository(session)
                row = await self._payable(session, payable_id, lock=True)
                existing = await repo.get_payment(payment_id)
                if existing is not None:
                    return self._replay(existing, row, data)
                if data.currency != row.currency:
                    raise ValidationFailed(
                        f"the payable is in {row.currency}",
                        field="currency",
                        code="currency_mismatch",
                        data={"currency": row.currency},
                    )
                outstanding = row.amount - row.paid
                if data.amount > outstanding:
                    raise ValidationFailed(
                        f"only {outstanding} {row.currency} is outstanding",
                        field="amount",
                        code=OVERPAYMENT,
                        data={"outstanding": str(outstanding)},
                    )
                now = utcnow()
                payment = await repo.insert_payment(
                    {
                        "id": payment_id,
                        "payable_id": payable_id,
                        "amount": plain(data.amount),
                        "currency": data.currency,
                        "paid_on": data.paid_on or now.date(),
                        "reference": data.reference,
                        "note": data.note,
                        "created_by": self.principal.user_id,
                        "created_at": now,
                    }
                )
                paid = row.paid + data.amount
                row = await repo.set_paid(payable_id, plain(paid), paid >= row.amount, now)
        except sa.exc.IntegrityError:
            # the same payment id committed concurrently: answer with it
            async with self.db.reading() as session:
                existing = await PayableRepository(session).get_payment(payment_id)
                if existing is None:
                    raise
                return self._replay(existing, await self._payable(session, payable_id), data)
        return PaymentResult(
            payment=record_of(PaymentRecord, payment), payable=payable_record(row, now.date())
        )

    def _replay(self, payment: Any, payable: Any, data: PaymentCreate) -> PaymentResult:
        if payment.payable_id != payable.id or payment.amount != data.amount:
            raise Conflict("this id was used for another payment", field="id", code="id_reused")
        return PaymentResult(
            payment=record_of(PaymentRecord, payment),
            payable=payable_record(payable, utcnow().date()),
        )

    async def _payable(
        self, session: AsyncSession, payable_id: uuid.UUID, *, lock: bool = False
    ) -> Any:
        repo = PayableRepository(session)
        row = await repo.get_payable(payable_id, lock=lock)
        owners = await managed_users(session, self.principal) if row is not None else None
        if row is None or (owners is not None and not await repo.visible(payable_id, owners)):
            raise NotFound(f"payable {payable_id} not found", field="id")
        return row
