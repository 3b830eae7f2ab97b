"""Recording payments and refunds against instalments, and listing them.

Each write locks the account (the order in which every writer of an account's money figures
takes its locks, see ``standing``), then the instalment, then checks what is still due against
the locked row: two payments racing for one instalment are serialized, and the second sees the
first's amount, so an instalment is never overpaid. Requests are idempotent on the payment's
``id``, like stock movements: the same id again answers the payment already recorded.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.contracts import InstalmentStatus
from server.client_ids import client_chosen_id
from server.db import utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page
from server.sfa.area_service import AreaService
from server.sfa.collections import standing
from server.sfa.collections.models import PaymentKind
from server.sfa.collections.repository import PaymentRepository, payments
from server.sfa.collections.schemas import (
    PaymentCreate,
    PaymentFilters,
    PaymentRecord,
    RefundCreate,
)
from server.sfa.contracts.repository import ContractRepository
from server.sfa.contracts.rules import RECEIVABLE_STATUSES
from server.sfa.inputs import check_decimal, plain, record_of
from server.sfa.scopes import visibility

OWED = frozenset(status.value for status in RECEIVABLE_STATUSES)


def payment_record(row: Any) -> PaymentRecord:
    """A payment row as its API record."""
    return record_of(PaymentRecord, row)


class PaymentService(AreaService):
    """Payments of the accounts the caller sees."""

    async def record_payment(self, data: PaymentCreate) -> PaymentRecord:
        """Money received on an instalment: at most what is still due, in its currency."""
        payment_id = client_chosen_id(data.id)
        check_decimal(data.amount, "amount", gt=0)
        try:
            async with self.db.transaction() as session:
                repo = PaymentRepository(session)
                existing = await repo.get(payment_id)
                found = await repo.instalment(data.instalment_id)
                if found is None or not await self._sees(session, found.account_id):
                    raise ValidationFailed("no such instalment", field="instalment_id")
                if existing is not None:  # a retry (of a payment the caller may see)
                    return _replayed(existing, PaymentKind.PAYMENT, data.instalment_id, data.amount)
                account = await standing.lock_account(session, found.account_id)
                instalment = await repo.instalment(data.instalment_id, lock=True)
                contract = await ContractRepository(session).lock_contract(instalment.contract_id)
                if contract.status not in OWED:
                    raise Conflict(
                        f"the contract is {contract.status}: nothing is collected on it",
                        field="instalment_id",
                        code="invalid_state",
                    )
                if data.currency != instalment.currency:
                    raise ValidationFailed(
                        f"the instalment is in {instalment.currency}",
                        field="currency",
                        code="currency_mismatch",
                    )
                if data.amount > instalment.outstanding:
                    raise ValidationFailed(
                        f"only {instalment.outstanding} is still due on the instalment",
                        field="amount",
                        code="overpayment",
                        data={"outstanding": str(instalment.outstanding)},
                    )
                row = await repo.insert(
                    {
                        "id": payment_id,
                        "kind": PaymentKind.PAYMENT.value,
                        "instalment_id": instalment.id,
                        "contract_id": contract.id,
                        "account_id": contract.account_id,
                        "rep_id": contract.owner_id,
                        "amount": plain(data.amount),
                        "currency": data.currency,
                        "received_on": data.received_on,
                        "note": data.note,
                        "recorded_by": self.principal.user_id,
                        "created_at": utcnow(),
                    }
                )
                await self._move(session, instalment, contract, data.amount, account)
                return payment_record(row)
        except sa.exc.IntegrityError:
            # the same id committed concurrently: answer with what it recorded
            replayed = await self._after_race(
                payment_id, PaymentKind.PAYMENT, data.instalment_id, data.amount
            )
            if replayed is None:
                raise
            return replayed

    async def record_refund(self, payment_id: uuid.UUID, data: RefundCreate) -> PaymentRecord:
        """Money given back on a payment: a negative movement, at most what it still holds."""
        refund_id = client_chosen_id(data.id)
        check_decimal(data.amount, "amount", gt=0)
        try:
            async with self.db.transaction() as session:
                repo = PaymentRepository(session)
                original = await repo.get(payment_id)
                if original is None or not await self._sees(session, original.account_id):
                    raise NotFound(f"payment {payment_id} not found", field="id")
                existing = await repo.get(refund_id)
                if existing is not None:
                    return _replayed(
                        existing,
                        PaymentKind.REFUND,
                        original.instalment_id,
                        -data.amount,
                        refund_of=payment_id,
                    )
                if original.kind != PaymentKind.PAYMENT.value:
                    raise ValidationFailed("a refund cannot be refunded", field="id")
                account = await standing.lock_account(session, original.account_id)
                original = await repo.get(payment_id, lock=True)
                refundable = original.amount - original.refunded
                if data.amount > refundable:
                    raise ValidationFailed(
                        f"only {refundable} of the payment can still be refunded",
                        field="amount",
                        code="refund_exceeds_payment",
                        data={"refundable": str(refundable)},
                    )
                instalment = await repo.instalment(original.instalment_id, lock=True)
                contract = await ContractRepository(session).lock_contract(original.contract_id)
                row = await repo.insert(
                    {
                        "id": refund_id,
                        "kind": PaymentKind.REFUND.value,
                        "instalment_id": original.instalment_id,
                        "contract_id": original.contract_id,
                        "account_id": original.account_id,
                        "rep_id": original.rep_id,
                        "amount": plain(-data.amount),
                        "currency": original.currency,
                        "refund_of": payment_id,
                        "received_on": data.received_on,
                        "note": data.note,
                        "recorded_by": self.principal.user_id,
                        "created_at": utcnow(),
                    }
                )
                await repo.add_refunded(payment_id, plain(original.refunded + data.amount))
                await self._move(session, instalment, contract, -data.amount, account)
                return payment_record(row)
        except sa.exc.IntegrityError:
            async with self.db.reading() as session:
                original = await PaymentRepository(session).get(payment_id)
            if original is None:
                raise
            replayed = await self._after_race(
                refund_id,
                PaymentKind.REFUND,
                original.instalment_id,
                -data.amount,
                refund_of=payment_id,
            )
            if replayed is None:
                raise
            return replayed

    async def list_payments(
        self, filters: PaymentFilters, *, cursor: str | None, limit: int | None
    ) -> Page[PaymentRecord]:
        """Visible payments and refunds, oldest first."""
        return await self._visible_page(
            lambda session, seen: PaymentRepository(session).payments_statement(filters, seen),
            payments.c.id,
            payment_record,
            cursor=cursor,
            limit=limit,
        )

    async def get_payment(self, payment_id: uuid.UUID) -> PaymentRecord:
        """One visible payment or refund."""
        async with self.db.reading() as session:
            row = await PaymentRepository(session).get(payment_id)
            if row is None or not await self._sees(session, row.account_id):
                raise NotFound(f"payment {payment_id} not found", field="id")
        return payment_record(row)

    async def _move(
        self,
        session: AsyncSession,
        instalment: Any,
        contract: Any,
        amount: Decimal,
        account: Any,
    ) -> None:
        """Apply a signed amount to the instalment and its contract, then re-derive what the
        account owes (receivables, arrears), all through the change writer."""
        paid = instalment.paid + amount
        outstanding = instalment.amount - paid
        status = InstalmentStatus.PAID if outstanding == 0 else InstalmentStatus.OPEN
        await self.writer.update(
            session,
            "instalment",
            instalment.id,
            {"paid": plain(paid), "outstanding": plain(outstanding), "status": status.value},
            principal=self.principal,
        )
        collected = contract.collected + amount
        await self.writer.update(
            session,
            "contract",
            contract.id,
            {"collected": plain(collected), "outstanding": plain(contract.value - collected)},
            principal=self.principal,
        )
        await standing.refresh(
            session, self.writer, account, utcnow().date(), principal=self.principal
        )

    async def _sees(self, session: AsyncSession, account_id: uuid.UUID) -> bool:
        account = await ContractRepository(session).account(account_id)
        seen = await visibility(session, self.principal)
        return account is not None and seen.allows(account.territory_id, account.owner_id)

    async def _after_race(
        self,
        payment_id: uuid.UUID,
        kind: PaymentKind,
        instalment_id: uuid.UUID,
        amount: Decimal,
        refund_of: uuid.UUID | None = None,
    ) -> PaymentRecord | None:
        """The payment a concurrent request with the same id recorded (None: the database
        refused the row for another reason, which the caller re-raises)."""
        async with self.db.reading() as session:
            existing = await PaymentRepository(session).get(payment_id)
        if existing is None:
            return None
        return _replayed(existing, kind, instalment_id, amount, refund_of=refund_of)


def _replayed(
    existing: Any,
    kind: PaymentKind,
    instalment_id: uuid.UUID,
    amount: Decimal,
    *,
    refund_of: uuid.UUID | None = None,
) -> PaymentRecord:
    """The recorded payment when a retry asks for the same thing; 409 when the id was used for
    something else."""
    same = (
        existing.kind == kind.value
        and existing.instalment_id == instalment_id
        and existing.amount == amount
        and existing.refund_of == refund_of
    )
    if not same:
        raise Conflict("this id was already used for another payment", field="id", code="id_reused")
    return payment_record(existing)
