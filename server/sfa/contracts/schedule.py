"""A contract's payment schedule: set as a whole, amounts summing to the contract's value."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from protocol.entities.contracts import ContractStatus, InstalmentStatus
from server.db import new_id, utcnow
from server.errors import Conflict, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.area_service import AreaService
from server.sfa.collections import standing
from server.sfa.contracts.repository import ContractRepository, instalments
from server.sfa.contracts.rules import schedule_total
from server.sfa.contracts.schemas import InstalmentRecord, ScheduleSet
from server.sfa.contracts.service import visible_contract
from server.sfa.inputs import check_decimal, plain, record_of

SCHEDULABLE = frozenset({ContractStatus.DRAFT.value, ContractStatus.ACTIVE.value})


class ScheduleService(AreaService):
    """Instalments of the contracts the caller sees."""

    async def set_schedule(
        self, contract_id: uuid.UUID, data: ScheduleSet
    ) -> list[InstalmentRecord]:
        """Replace the schedule (before any payment); refused unless it sums to the value."""
        for index, item in enumerate(data.instalments):
            check_decimal(item.amount, f"instalments.{index}.amount", gt=0)
        async with self.db.transaction() as session:
            row = await visible_contract(session, self.principal, contract_id)
            account = await standing.lock_account(session, row.account_id)
            repo = ContractRepository(session)
            contract = (await repo.lock_contract(contract_id))._mapping
            self._check(contract, data)
            if await repo.has_payments(contract_id):
                raise Conflict(
                    "payments were recorded against the schedule: it can no longer change",
                    field="instalments",
                    code="schedule_has_payments",
                )
            for old_id in await repo.instalment_ids(contract_id):
                await self.writer.delete(session, "instalment", old_id, principal=self.principal)
            ordered = sorted(data.instalments, key=lambda item: item.due_date)
            created = []
            for seq, item in enumerate(ordered, start=1):
                amount = plain(item.amount)
                created.append(
                    await self.writer.create(
                        session,
                        "instalment",
                        {
                            "id": new_id(),
                            "contract_id": contract_id,
                            "account_id": contract["account_id"],
                            "seq": seq,
                            "due_date": item.due_date,
                            "amount": amount,
                            "paid": plain(Decimal(0)),
                            "outstanding": amount,
                            "currency": contract["currency"],
                            "status": InstalmentStatus.OPEN.value,
                        },
                        principal=self.principal,
                    )
                )
            await session.flush()
            await standing.refresh(
                session, self.writer, account, utcnow().date(), principal=self.principal
            )
        return [record_of(InstalmentRecord, wire) for wire in created]

    async def list_instalments(
        self, contract_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[InstalmentRecord]:
        """A contract's instalments (paginated by id: the schedule's order)."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            await visible_contract(session, self.principal, contract_id)
            statement = ContractRepository(session).instalments_statement(contract_id)
            rows, next_cursor = await fetch_page(
                session, statement, instalments.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(InstalmentRecord, r) for r in rows], next_cursor=next_cursor)

    @staticmethod
    def _check(contract: Any, data: ScheduleSet) -> None:
        if contract["status"] not in SCHEDULABLE:
            raise Conflict(
                f"a {contract['status']} contract's schedule cannot change",
                field="status",
                code="invalid_state",
            )
        for index, item in enumerate(data.instalments):
            if item.currency is not None and item.currency != contract["currency"]:
                raise ValidationFailed(
                    f"the contract is in {contract['currency']}",
                    field=f"instalments.{index}.currency",
                    code="currency_mismatch",
                )
        total = schedule_total(item.amount for item in data.instalments)
        if total != contract["value"]:
            raise ValidationFailed(
                f"the instalments sum to {total}, the contract's value is {contract['value']}",
                field="instalments",
                code="schedule_mismatch",
                data={"sum": str(total), "value": str(contract["value"])},
            )
