"""An account's receivables and ``arrears``, derived from its open instalments.

``refresh`` runs inside the transaction that changed what the account owes (a payment, a
refund, a schedule, a contract's status) or that saw a due date pass (the daily ageing), after
``lock_account``: the account's row lock serializes every writer of its money figures, in the
same order as the order credit check takes it (account first), so two of them never derive
``arrears`` from each other's stale reads. Every write goes through the change writer, so the
devices holding the account see the new ``arrears`` and receivables at their next pull.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.ageing import Ageing, age
from server.errors import NotFound
from server.sfa.accounts.models import Account
from server.sfa.collections.models import Receivable
from server.sfa.contracts.models import Contract, Instalment, InstalmentStatus
from server.sfa.contracts.rules import RECEIVABLE_STATUSES
from server.sfa.inputs import plain
from server.sync import relocation
from server.sync.bulk import any_of, chunks
from server.sync.position import is_postgres
from server.sync.registry import Principal
from server.sync.writer import ChangeWriter

_accounts = cast(sa.Table, Account.__table__)
_contracts = cast(sa.Table, Contract.__table__)
_instalments = cast(sa.Table, Instalment.__table__)
receivables = cast(sa.Table, Receivable.__table__)
_FIGURES = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90", "overdue", "total")


async def lock_account(session: AsyncSession, account_id: uuid.UUID) -> Any:
    """The account's id, territory, owner and arrears, locked until commit."""
    row = (
        await session.execute(
            sa.select(
                _accounts.c.id, _accounts.c.territory_id, _accounts.c.owner_id, _accounts.c.arrears
            )
            .where(_accounts.c.id == account_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound(f"account {account_id} not found", field="account_id")
    return row


def open_instalments_statement() -> sa.Select[Any]:
    """Open instalments of contracts that are owed (active or completed), with their account."""
    return (
        sa.select(
            _instalments.c.id,
            _instalments.c.account_id,
            _instalments.c.contract_id,
            _instalments.c.due_date,
            _instalments.c.outstanding,
            _instalments.c.currency,
        )
        .join(_contracts, _contracts.c.id == _instalments.c.contract_id)
        .where(
            _instalments.c.status == InstalmentStatus.OPEN.value,
            _contracts.c.status.in_([s.value for s in RECEIVABLE_STATUSES]),
        )
    )


async def ageing_of(
    session: AsyncSession, account_ids: Sequence[uuid.UUID], today: dt.date
) -> dict[uuid.UUID, dict[str, Ageing]]:
    """Each account's open amounts by currency and bucket as seen on ``today``.

    On PostgreSQL the database sums them (one row per account and currency, whatever the
    number of instalments); SQLite keeps money as text (it has no exact decimal, and its SUM
    would add floats), so there the open instalments are read and summed here with the same
    rule (``rules.ageing.age``): both give the same exact figures.
    """
    if is_postgres(session):
        return await _summed_in_sql(session, account_ids, today)
    statement = open_instalments_statement().where(_instalments.c.account_id.in_(account_ids))
    open_amounts: dict[uuid.UUID, dict[str, list[tuple[dt.date, Decimal]]]] = {}
    for row in await session.execute(statement):
        by_currency = open_amounts.setdefault(row.account_id, {})
        by_currency.setdefault(row.currency, []).append((row.due_date, row.outstanding))
    return {
        account_id: {currency: age(pairs, today) for currency, pairs in by_currency.items()}
        for account_id, by_currency in open_amounts.items()
    }


def _bucket_bounds(today: dt.date) -> dict[str, sa.ColumnElement[bool]]:
    """Each bucket's condition on the due date, seen on ``today`` (``rules.ageing.bucket_of``:
    due today is current, 1..30 days overdue is ``days_1_30``, and so on)."""
    due = _instalments.c.due_date

    def ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    return {
        "current": due >= today,
        "days_1_30": sa.and_(due < today, due >= ago(30)),
        "days_31_60": sa.and_(due < ago(30), due >= ago(60)),
        "days_61_90": sa.and_(due < ago(60), due >= ago(90)),
        "over_90": due < ago(90),
    }


async def _summed_in_sql(
    session: AsyncSession, account_ids: Sequence[uuid.UUID], today: dt.date
) -> dict[uuid.UUID, dict[str, Ageing]]:
    found: dict[uuid.UUID, dict[str, Ageing]] = {}
    amount = _instalments.c.outstanding
    bounds = _bucket_bounds(today)
    sums = [
        sa.func.sum(sa.case((condition, amount), else_=0)).label(name)
        for name, condition in bounds.items()
    ]
    for chunk in chunks(account_ids):
        statement = (
            sa.select(_instalments.c.account_id, _instalments.c.currency, *sums)
            .join(_contracts, _contracts.c.id == _instalments.c.contract_id)
            .where(
                _instalments.c.status == InstalmentStatus.OPEN.value,
                _contracts.c.status.in_([s.value for s in RECEIVABLE_STATUSES]),
                any_of(session, _instalments.c.account_id, chunk),
            )
            .group_by(_instalments.c.account_id, _instalments.c.currency)
        )
        for row in await session.execute(statement):
            found.setdefault(row.account_id, {})[row.currency] = Ageing(
                **{name: Decimal(row._mapping[name]) for name in bounds}
            )
    return found


async def receivables_of(
    session: AsyncSession, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each account's receivable rows by currency."""
    statement = sa.select(receivables).where(receivables.c.account_id.in_(account_ids))
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for row in await session.execute(statement):
        found.setdefault(row.account_id, {})[row.currency] = row
    return found


def _figures(ageing: dict[str, Ageing], currency: str) -> dict[str, Decimal]:
    return {k: plain(v) for k, v in ageing.get(currency, Ageing()).as_dict().items()}


def _arrears(ageing: dict[str, Ageing]) -> Decimal:
    return plain(sum((a.overdue for a in ageing.values()), Decimal(0)))  # type: ignore[no-any-return]


def _differs(arrears: Decimal, ageing: dict[str, Ageing], existing: dict[str, Any]) -> bool:
    if arrears != _arrears(ageing):
        return True
    for currency in set(ageing) | set(existing):
        row, figures = existing.get(currency), _figures(ageing, currency)
        if row is None or any(getattr(row, name) != figures[name] for name in _FIGURES):
            return True
    return False


async def stale_accounts(
    session: AsyncSession, accounts: Sequence[Any], today: dt.date
) -> list[uuid.UUID]:
    """Which of ``accounts`` (rows with ``id`` and ``arrears``) would change if refreshed on
    ``today``: three queries for the lot, so an ageing run only writes where it must."""
    ids = [account.id for account in accounts]
    ageing, existing = await ageing_of(session, ids, today), await receivables_of(session, ids)
    return [
        account.id
        for account in accounts
        if _differs(account.arrears, ageing.get(account.id, {}), existing.get(account.id, {}))
    ]


async def refresh(
    session: AsyncSession,
    writer: ChangeWriter,
    account: sa.Row[Any],
    today: dt.date,
    *,
    principal: Principal | None,
) -> bool:
    """Re-derive the locked ``account``'s receivables and arrears; True when anything changed."""
    ageing = (await ageing_of(session, [account.id], today)).get(account.id, {})
    existing = (await receivables_of(session, [account.id])).get(account.id, {})
    changed = False
    for currency in sorted(set(ageing) | set(existing)):
        figures = _figures(ageing, currency)
        row = existing.get(currency)
        if row is None:
            await writer.create(
                session,
                "receivable",
                {"account_id": account.id, "currency": currency, "as_of": today, **figures},
                principal=principal,
            )
            changed = True
        elif any(getattr(row, name) != figures[name] for name in _FIGURES):
            await writer.update(
                session, "receivable", row.id, {"as_of": today, **figures}, principal=principal
            )
            changed = True
    arrears = _arrears(ageing)
    if account.arrears != arrears:
        await writer.update(
            session, "account", account.id, {"arrears": arrears}, principal=principal
        )
        changed = True
    return changed


async def lock_accounts(session: AsyncSession, account_ids: Sequence[uuid.UUID]) -> list[Any]:
    """``lock_account`` of many accounts: one locking read per chunk, in id order (the order in
    which one transaction taking them one by one would lock them); missing ones are left out."""
    locked: list[Any] = []
    for chunk in chunks(sorted(account_ids)):
        statement = (
            sa.select(_accounts.c.id, _accounts.c.arrears)
            .where(any_of(session, _accounts.c.id, chunk))
            .order_by(_accounts.c.id)
            .with_for_update()
        )
        locked.extend(await session.execute(statement))
    return locked


async def refresh_many(
    session: AsyncSession, writer: ChangeWriter, accounts: Sequence[Any], today: dt.date
) -> int:
    """``refresh`` of many locked ``accounts`` (rows with ``id`` and ``arrears``) at once: the
    open amounts summed for the lot, the new receivable rows inserted with one statement, the
    changed receivables and arrears updated with one statement each (the change writer's bulk
    calls, so the change log is written in this transaction). Returns how many accounts changed.
    """
    ids = [account.id for account in accounts]
    ageing, existing = await ageing_of(session, ids, today), await receivables_of(session, ids)
    created: list[dict[str, Any]] = []
    updated: dict[uuid.UUID, dict[str, Any]] = {}
    arrears: dict[uuid.UUID, dict[str, Any]] = {}
    changed: set[uuid.UUID] = set()
    for account in accounts:
        mine, rows = ageing.get(account.id, {}), existing.get(account.id, {})
        for currency in sorted(set(mine) | set(rows)):
            figures = _figures(mine, currency)
            row = rows.get(currency)
            if row is None:
                created.append(
                    {"account_id": account.id, "currency": currency, "as_of": today, **figures}
                )
                changed.add(account.id)
            elif any(getattr(row, name) != figures[name] for name in _FIGURES):
                updated[row.id] = {"as_of": today, **figures}
                changed.add(account.id)
        owed = _arrears(mine)
        if account.arrears != owed:
            arrears[account.id] = {"arrears": owed}
            changed.add(account.id)
    if created:
        await writer.create_many(session, "receivable", created, principal=None)
    if updated:
        await relocation.update_many(writer, session, "receivable", updated)
    if arrears:
        await relocation.update_many(writer, session, "account", arrears)
    return len(changed)


async def accounts_in_arrears(session: AsyncSession) -> int:
    """How many accounts have arrears now."""
    return int(
        await session.scalar(
            sa.select(sa.func.count()).select_from(_accounts).where(_accounts.c.arrears != 0)
        )
        or 0
    )
