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
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from rules.ageing import Ageing, age
from server.errors import NotFound
from server.sfa.accounts.inputs import plain
from server.sfa.accounts.models import Account
from server.sfa.collections.models import Receivable
from server.sfa.contracts.models import Contract, Instalment, InstalmentStatus
from server.sfa.contracts.rules import RECEIVABLE_STATUSES
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


async def ageing_by_currency(
    session: AsyncSession, account_id: uuid.UUID, today: dt.date
) -> dict[str, Ageing]:
    """The account's open amounts by currency and bucket as seen on ``today``."""
    statement = open_instalments_statement().where(_instalments.c.account_id == account_id)
    open_amounts: dict[str, list[tuple[dt.date, Decimal]]] = {}
    for row in await session.execute(statement):
        open_amounts.setdefault(row.currency, []).append((row.due_date, row.outstanding))
    return {currency: age(pairs, today) for currency, pairs in open_amounts.items()}


async def refresh(
    session: AsyncSession,
    writer: ChangeWriter,
    account: sa.Row[Any],
    today: dt.date,
    *,
    principal: Principal | None,
) -> bool:
    """Re-derive the locked ``account``'s receivables and arrears; True when anything changed."""
    ageing = await ageing_by_currency(session, account.id, today)
    existing = {
        row.currency: row
        for row in await session.execute(
            sa.select(receivables).where(receivables.c.account_id == account.id)
        )
    }
    changed = False
    for currency in sorted(set(ageing) | set(existing)):
        figures = {k: plain(v) for k, v in ageing.get(currency, Ageing()).as_dict().items()}
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
    arrears = plain(sum((a.overdue for a in ageing.values()), Decimal(0)))
    if account.arrears != arrears:
        await writer.update(
            session, "account", account.id, {"arrears": arrears}, principal=principal
        )
        changed = True
    return changed


async def current_arrears(session: AsyncSession, account_id: uuid.UUID) -> Decimal:
    """The account's arrears as this transaction sees them."""
    value = await session.scalar(sa.select(_accounts.c.arrears).where(_accounts.c.id == account_id))
    return value if value is not None else Decimal(0)
