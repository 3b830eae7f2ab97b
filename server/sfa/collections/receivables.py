"""Receivables by account with ageing buckets, collections per rep, and the daily ageing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from rules.ageing import age
from server.db import Database, utcnow
from server.pagination import fetch_page
from server.sfa.area_service import AreaService
from server.sfa.collections import standing
from server.sfa.collections.models import PaymentKind
from server.sfa.collections.repository import (
    PaymentRepository,
    ReceivableRepository,
    accounts,
    users,
)
from server.sfa.collections.schemas import (
    CollectionPage,
    CollectionRow,
    PaymentFilters,
    ReceivablePage,
    ReceivableRow,
    ReceivableTotal,
    ReceivableTotals,
)
from server.sfa.inputs import plain
from server.sfa.scopes import visibility
from server.sync.writer import ChangeWriter

AGE_BATCH = 500


@dataclass(frozen=True)
class AgeingSummary:
    """What one ageing run did."""

    as_of: dt.date
    accounts: int  # accounts looked at
    changed: int  # accounts whose receivables or arrears changed
    in_arrears: int  # accounts left with arrears


class ReceivablesService(AreaService):
    """Receivables and collections as a manager (their subtree) or an admin sees them."""

    async def list_receivables(
        self,
        *,
        account_id: uuid.UUID | None = None,
        owner_id: uuid.UUID | None = None,
        territory_id: uuid.UUID | None = None,
        due_from: dt.date | None = None,
        due_to: dt.date | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        today: dt.date | None = None,
    ) -> ReceivablePage:
        """A page of accounts (``limit`` counts accounts) with what each owes per currency."""
        size = self._limit(limit)
        today = today or utcnow().date()
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            repo = ReceivableRepository(session)
            statement = repo.accounts_statement(
                seen,
                account_id=account_id,
                owner_id=owner_id,
                territory_id=territory_id,
                due_from=due_from,
                due_to=due_to,
            )
            rows, next_cursor = await fetch_page(
                session, statement, accounts.c.id, cursor=cursor, limit=size
            )
            due = await repo.open_instalments([r.id for r in rows], due_from, due_to)
        # account -> currency -> (due date, outstanding) of its open instalments
        grouped: dict[uuid.UUID, dict[str, list[tuple[dt.date, Decimal]]]] = {}
        for item in due:
            grouped.setdefault(item.account_id, {}).setdefault(item.currency, []).append(
                (item.due_date, item.outstanding)
            )
        items = []
        for row in rows:
            for currency, pairs in sorted(grouped.get(row.id, {}).items()):
                figures = {k: plain(v) for k, v in age(pairs, today).as_dict().items()}
                items.append(
                    ReceivableRow(
                        account_id=row.id,
                        account_name=row.name,
                        owner_id=row.owner_id,
                        territory_id=row.territory_id,
                        currency=currency,
                        open_instalments=len(pairs),
                        **figures,
                    )
                )
        return ReceivablePage(as_of=today, items=items, next_cursor=next_cursor)

    async def receivable_totals(
        self,
        *,
        account_id: uuid.UUID | None = None,
        owner_id: uuid.UUID | None = None,
        territory_id: uuid.UUID | None = None,
        due_from: dt.date | None = None,
        due_to: dt.date | None = None,
        today: dt.date | None = None,
    ) -> ReceivableTotals:
        """The buckets summed over every matching account, per currency."""
        today = today or utcnow().date()
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            due = await ReceivableRepository(session).visible_open_instalments(
                seen,
                account_id=account_id,
                owner_id=owner_id,
                territory_id=territory_id,
                due_from=due_from,
                due_to=due_to,
            )
        pairs: dict[str, list[tuple[dt.date, Decimal]]] = {}
        owing: dict[str, set[uuid.UUID]] = {}
        for item in due:
            pairs.setdefault(item.currency, []).append((item.due_date, item.outstanding))
            owing.setdefault(item.currency, set()).add(item.account_id)
        totals = [
            ReceivableTotal(
                currency=currency,
                accounts=len(owing[currency]),
                open_instalments=len(pairs[currency]),
                **{k: plain(v) for k, v in age(pairs[currency], today).as_dict().items()},
            )
            for currency in sorted(pairs)
        ]
        return ReceivableTotals(as_of=today, totals=totals)

    async def collections(
        self, filters: PaymentFilters, *, cursor: str | None, limit: int | None
    ) -> CollectionPage:
        """Money collected per rep and currency over the period (payments less refunds)."""
        size = self._limit(limit)
        async with self.db.reading() as session:
            seen = await visibility(session, self.principal)
            repo = PaymentRepository(session)
            reps, next_cursor = await fetch_page(
                session,
                repo.collecting_reps_statement(filters, seen),
                users.c.id,
                cursor=cursor,
                limit=size,
            )
            movements = await repo.movements_of_reps([r.id for r in reps], filters, seen)
        sums: dict[tuple[uuid.UUID, str], list[Decimal]] = {}
        counts: dict[tuple[uuid.UUID, str], int] = {}
        for move in movements:
            key = (move.rep_id, move.currency)
            total = sums.setdefault(key, [Decimal(0), Decimal(0)])
            if move.kind == PaymentKind.PAYMENT.value:
                total[0] += move.amount
                counts[key] = counts.get(key, 0) + 1
            else:
                total[1] -= move.amount
        items = [
            CollectionRow(
                rep_id=rep_id,
                currency=currency,
                collected=plain(collected),
                refunded=plain(refunded),
                net=plain(collected - refunded),
                payments=counts.get((rep_id, currency), 0),
            )
            for (rep_id, currency), (collected, refunded) in sorted(
                sums.items(), key=lambda kv: (kv[0][0], kv[0][1])
            )
        ]
        return CollectionPage(items=items, next_cursor=next_cursor)


async def age_receivables(
    db: Database,
    writer: ChangeWriter,
    now: dt.datetime,
    *,
    progress: Callable[[int], None] | None = None,
    batch_size: int = AGE_BATCH,
) -> AgeingSummary:
    """Re-derive every owing account's receivables and arrears as of ``now`` (the daily job).

    Set-based: accounts are read ``batch_size`` at a time and their open amounts summed per
    account, currency and bucket for the lot; the ones whose figures would change are, in one
    transaction per batch, locked (one locking read, in id order, as a payment locks one),
    summed again under the lock (so an account a payment changed meanwhile is derived from the
    fresh rows) and written with the change writer's bulk calls: a few statements per batch,
    not a few per account. A payment waits for one batch at most. ``progress`` gets the number
    of accounts done after each batch.
    """
    today = now.astimezone(dt.UTC).date()
    seen = changed = 0
    cursor: str | None = None
    while True:
        async with db.reading() as session:
            statement = ReceivableRepository(session).accounts_to_age_statement()
            rows, cursor = await fetch_page(
                session, statement, accounts.c.id, cursor=cursor, limit=batch_size
            )
            stale = await standing.stale_accounts(session, rows, today)
        if stale:
            async with db.transaction() as session, writer.batch(session):
                locked = await standing.lock_accounts(session, stale)
                changed += await standing.refresh_many(session, writer, locked, today)
        seen += len(rows)
        if progress is not None:
            progress(seen)
        if cursor is None:
            async with db.reading() as session:
                in_arrears = await standing.accounts_in_arrears(session)
            return AgeingSummary(today, seen, changed, in_arrears)
