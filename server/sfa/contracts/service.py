"""Contract use cases for managers and the back office: create, list, read, change, notes."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from protocol.entities.contracts import ContractStatus
from protocol.entities.documents import OrderStatus, QuoteStatus
from server.db import new_id, utcnow
from server.errors import Conflict, NotFound, ValidationFailed
from server.pagination import Page, fetch_page
from server.sfa.accounts.repository import AccountRepository
from server.sfa.area_service import AreaService
from server.sfa.collections import standing
from server.sfa.contracts.repository import ContractRepository, contracts, notes
from server.sfa.contracts.rules import dates_in_order, may_move
from server.sfa.contracts.schemas import (
    ContractCreate,
    ContractFilters,
    ContractPatch,
    ContractRecord,
    NoteCreate,
    NoteRecord,
)
from server.sfa.inputs import check_decimal, plain, record_of, sent_fields
from server.sfa.scopes import Visibility, visibility

# orders a contract may be made from: confirmed by the server's rules (or already delivered)
CONTRACTABLE_ORDERS = frozenset({OrderStatus.CONFIRMED.value, OrderStatus.FULFILLED.value})
OWNER_ROLES = frozenset({"rep", "manager"})


def contract_record(row: Any) -> ContractRecord:
    """A contract row (or the writer's wire dict) as its API record."""
    return record_of(ContractRecord, row)


class ContractService(AreaService):
    """Contracts of the accounts the caller sees (a manager's subtree; admins everything)."""

    async def list_contracts(
        self, filters: ContractFilters, *, cursor: str | None, limit: int | None
    ) -> Page[ContractRecord]:
        """One page of visible contracts, with value, collected and outstanding."""
        return await self._visible_page(
            lambda session, seen: ContractRepository(session).contracts_statement(filters, seen),
            contracts.c.id,
            contract_record,
            cursor=cursor,
            limit=limit,
        )

    async def get_contract(self, contract_id: uuid.UUID) -> ContractRecord:
        """One visible contract."""
        async with self.db.reading() as session:
            row = await visible_contract(session, self.principal, contract_id)
        return contract_record(row)

    async def create_contract(self, data: ContractCreate) -> ContractRecord:
        """A draft contract from an accepted quote, from confirmed orders, or blank."""
        if data.quote_id is not None and data.order_ids:
            raise ValidationFailed(
                "a contract is made from a quote or from orders, not both", field="order_ids"
            )
        if len(set(data.order_ids)) != len(data.order_ids):
            raise ValidationFailed("an order is listed twice", field="order_ids")
        check_decimal(data.value, "value", gt=0)
        if not dates_in_order(data.start_date, data.end_date):
            raise ValidationFailed(
                "end_date is before start_date", field="end_date", code="end_before_start"
            )
        async with self.db.transaction() as session:
            repo = ContractRepository(session)
            values = await self._source_values(repo, data)
            account = await repo.account(values["account_id"])
            seen = await visibility(session, self.principal)
            if account is None or not seen.allows(account.territory_id, account.owner_id):
                raise ValidationFailed("no such account", field="account_id")
            await self._check_contact(repo, data.signing_contact_id, account.id)
            owner_id = data.owner_id if data.owner_id is not None else account.owner_id
            if data.owner_id is not None:
                await _check_owner(session, data.owner_id)
            values.update(
                id=new_id(),
                owner_id=owner_id,
                signing_contact_id=data.signing_contact_id,
                title=data.title,
                status=ContractStatus.DRAFT.value,
                collected=plain(Decimal(0)),
                outstanding=values["value"],
                start_date=data.start_date,
                end_date=data.end_date,
                created_by=self.principal.user_id,
            )
            try:
                async with session.begin_nested():
                    record = await self.writer.create(
                        session, "contract", values, principal=self.principal
                    )
                    if data.order_ids:
                        await repo.link_orders(values["id"], data.order_ids)
            except sa.exc.IntegrityError as exc:  # a concurrent contract took an order
                raise Conflict(
                    "an order is already in another contract",
                    field="order_ids",
                    code="order_in_contract",
                ) from exc
        return contract_record(record)

    async def update_contract(
        self, contract_id: uuid.UUID, data: ContractPatch, *, expected: frozenset[int] | None
    ) -> ContractRecord:
        """Change the fields sent; a status change must be allowed from the current one."""
        changes = sent_fields(data)
        check_decimal(data.value, "value", gt=0)
        async with self.db.transaction() as session:
            row = await visible_contract(session, self.principal, contract_id)
            account = await standing.lock_account(session, row.account_id)
            await self.writer.check_version(session, "contract", contract_id, expected)
            current = (await ContractRepository(session).lock_contract(contract_id))._mapping
            changes = {k: v for k, v in changes.items() if current[k] != v}
            if not changes:
                return contract_record(current)
            await self._check_change(session, current, changes)
            if "value" in changes:
                changes["outstanding"] = plain(changes["value"] - current["collected"])
            record = await self.writer.update(
                session, "contract", contract_id, changes, principal=self.principal
            )
            if "status" in changes:  # what the account owes depends on the contract's status
                await standing.refresh(
                    session, self.writer, account, utcnow().date(), principal=self.principal
                )
        return contract_record(record)

    async def add_note(self, contract_id: uuid.UUID, data: NoteCreate) -> NoteRecord:
        """Add a dated progress note."""
        async with self.db.transaction() as session:
            await visible_contract(session, self.principal, contract_id)
            row = await ContractRepository(session).insert_note(
                {
                    "id": new_id(),
                    "contract_id": contract_id,
                    "noted_on": data.noted_on,
                    "text": data.text,
                    "author_id": self.principal.user_id,
                    "created_at": utcnow(),
                }
            )
        return record_of(NoteRecord, row)

    async def list_notes(
        self, contract_id: uuid.UUID, *, cursor: str | None, limit: int | None
    ) -> Page[NoteRecord]:
        """A contract's notes, oldest first."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            await visible_contract(session, self.principal, contract_id)
            statement = ContractRepository(session).notes_statement(contract_id)
            rows, next_cursor = await fetch_page(
                session, statement, notes.c.id, cursor=cursor, limit=size
            )
        return Page(items=[record_of(NoteRecord, r) for r in rows], next_cursor=next_cursor)

    async def _source_values(
        self, repo: ContractRepository, data: ContractCreate
    ) -> dict[str, Any]:
        """account_id, quote_id, value and currency from the quote, the orders or the body."""
        if data.quote_id is not None:
            quote = await repo.quote(data.quote_id)
            if quote is None:
                raise ValidationFailed("no such quote", field="quote_id")
            if quote.status != QuoteStatus.ACCEPTED.value:
                raise ValidationFailed(
                    "only an accepted quote becomes a contract",
                    field="quote_id",
                    code="quote_not_accepted",
                )
            return self._sourced(
                data, quote.account_id, quote.currency, quote.total, "quote_id"
            ) | {"quote_id": data.quote_id}
        if data.order_ids:
            orders = await repo.orders(data.order_ids)
            found = {o.id: o for o in orders}
            for index, order_id in enumerate(data.order_ids):
                order = found.get(order_id)
                field = f"order_ids.{index}"
                if order is None:
                    raise ValidationFailed("no such order", field=field)
                if order.status not in CONTRACTABLE_ORDERS:
                    raise ValidationFailed(
                        "only confirmed orders become a contract",
                        field=field,
                        code="order_not_confirmed",
                    )
                if order.account_id != orders[0].account_id:
                    raise ValidationFailed("the orders are of different accounts", field=field)
                if order.currency != orders[0].currency:
                    raise ValidationFailed(
                        "the orders are in different currencies",
                        field=field,
                        code="currency_mismatch",
                    )
            taken = await repo.orders_in_contracts(data.order_ids)
            if taken:
                raise Conflict(
                    f"order {taken[0]} is already in another contract",
                    field=f"order_ids.{data.order_ids.index(taken[0])}",
                    code="order_in_contract",
                )
            total = sum((o.total for o in orders), Decimal(0))
            return self._sourced(data, orders[0].account_id, orders[0].currency, total, "order_ids")
        if data.account_id is None or data.value is None or data.currency is None:
            missing = next(
                n for n in ("account_id", "value", "currency") if getattr(data, n) is None
            )
            raise ValidationFailed(f"{missing} is required for a blank contract", field=missing)
        return {
            "account_id": data.account_id,
            "quote_id": None,
            "value": plain(data.value),
            "currency": data.currency,
        }

    @staticmethod
    def _sourced(
        data: ContractCreate, account_id: uuid.UUID, currency: str, total: Decimal, field: str
    ) -> dict[str, Any]:
        if data.account_id is not None and data.account_id != account_id:
            raise ValidationFailed(f"the {field} belong to another account", field="account_id")
        if data.currency is not None and data.currency != currency:
            raise ValidationFailed(
                f"the {field} are in {currency}", field="currency", code="currency_mismatch"
            )
        value = data.value if data.value is not None else total
        if value <= 0:
            raise ValidationFailed("value must be > 0", field="value")
        return {
            "account_id": account_id,
            "quote_id": None,
            "value": plain(value),
            "currency": currency,
        }

    @staticmethod
    async def _check_contact(
        repo: ContractRepository, contact_id: uuid.UUID | None, account_id: uuid.UUID
    ) -> None:
        if contact_id is None:
            return
        if await repo.contact_account(contact_id) != account_id:
            raise ValidationFailed(
                "the signing contact is not a contact of the account",
                field="signing_contact_id",
                code="contact_not_of_account",
            )

    async def _check_change(
        self, session: AsyncSession, current: Any, changes: dict[str, Any]
    ) -> None:
        repo = ContractRepository(session)
        if "status" in changes and not may_move(
            ContractStatus(current["status"]), ContractStatus(changes["status"])
        ):
            raise Conflict(
                f"a {current['status']} contract cannot become {changes['status']}",
                field="status",
                code="invalid_state",
            )
        start = changes.get("start_date", current["start_date"])
        if not dates_in_order(start, changes.get("end_date", current["end_date"])):
            raise ValidationFailed(
                "end_date is before start_date", field="end_date", code="end_before_start"
            )
        if "signing_contact_id" in changes:
            await self._check_contact(repo, changes["signing_contact_id"], current["account_id"])
        if changes.get("owner_id") is not None:
            await _check_owner(session, changes["owner_id"])
        if "value" in changes and changes["value"] < current["collected"]:
            raise ValidationFailed(
                f"{current['collected']} is already collected",
                field="value",
                code="below_collected",
            )
        if "value" in changes:
            scheduled = await repo.schedule_total(current["id"])
            if scheduled is not None and scheduled != changes["value"]:
                raise ValidationFailed(
                    f"the schedule sums to {scheduled}: set a new schedule first",
                    field="value",
                    code="schedule_mismatch",
                )


async def visible_contract(
    session: AsyncSession, principal: Any, contract_id: uuid.UUID, seen: Visibility | None = None
) -> Any:
    """A contract the caller may see; ``not_found`` otherwise (existence is not disclosed)."""
    row = await ContractRepository(session).get_contract(contract_id)
    seen = seen or await visibility(session, principal)
    if row is None or not seen.allows(row.account_territory_id, row.account_owner_id):
        raise NotFound(f"contract {contract_id} not found", field="id")
    return row


async def _check_owner(session: AsyncSession, owner_id: uuid.UUID) -> None:
    role = await AccountRepository(session).user_role(owner_id)
    if role is None or role[0] not in OWNER_ROLES or not role[1]:
        raise ValidationFailed("owner must be an active rep or manager", field="owner_id")
