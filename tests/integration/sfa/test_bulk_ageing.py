"""The set-based daily ageing gives exactly what the per-account path (``standing.refresh``,
which a payment runs) gives, on random data, on both backends."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from rules.ageing import age
from server.db import Database
from server.sfa.accounts.models import Account
from server.sfa.collections import standing
from server.sfa.collections.models import Receivable
from server.sfa.collections.receivables import age_receivables
from server.sfa.contracts.models import Contract, Instalment
from server.sync.models import sync_records
from tests.synctools import insert_account, writer

TODAY = dt.date(2027, 3, 1)
NOW = dt.datetime.combine(TODAY, dt.time(6), tzinfo=dt.UTC)
# due dates on every bucket boundary (days before TODAY) besides random ones
EDGES = (0, 1, 30, 31, 60, 61, 90, 91, -1)
STATUSES = ("active", "completed", "draft", "terminated")


async def random_book(db: Database, rng: random.Random, accounts: int) -> dict[uuid.UUID, Any]:
    """Accounts with random contracts (every status, two currencies) and instalments (open,
    partly paid, paid), some with arrears typed by hand; returns the open instalments kept by
    account as (currency, due date, outstanding, contract status, instalment status)."""
    book: dict[uuid.UUID, Any] = {}
    for _ in range(accounts):
        typed = Decimal(rng.choice(["0", "0", "12.5", "300"]))
        account = await insert_account(db, arrears=typed)
        book[account] = []
        contracts, due = [], []
        for _ in range(rng.randint(0, 3)):
            contract, status = uuid.uuid4(), rng.choice(STATUSES)
            currency = rng.choice(["CNY", "CNY", "USD"])
            contracts.append(
                {
                    "id": contract,
                    "account_id": account,
                    "status": status,
                    "value": Decimal(1),
                    "currency": currency,
                    "outstanding": Decimal(1),
                    "start_date": TODAY - dt.timedelta(days=400),
                    "end_date": TODAY + dt.timedelta(days=400),
                }
            )
            for seq in range(1, rng.randint(1, 6) + 1):
                ago = rng.choice([*EDGES, rng.randint(-60, 200)])
                amount = Decimal(rng.randint(1, 10**7)) / 10 ** rng.choice([0, 2, 4])
                paid = rng.choice([Decimal(0), amount / 2, amount])
                outstanding = (amount - paid).quantize(Decimal("0.0001"))
                state = "open" if outstanding > 0 else "paid"
                due.append(
                    {
                        "id": uuid.uuid4(),
                        "contract_id": contract,
                        "account_id": account,
                        "seq": seq,
                        "due_date": TODAY - dt.timedelta(days=ago),
                        "amount": amount,
                        "paid": amount - outstanding,
                        "outstanding": outstanding,
                        "currency": currency,
                        "status": state,
                    }
                )
                book[account].append((currency, due[-1]["due_date"], outstanding, status, state))
        async with db.transaction() as session:
            if contracts:
                await session.execute(sa.insert(Contract.__table__), contracts)
            if due:
                await session.execute(sa.insert(Instalment.__table__), due)
    return book


async def figures(db: Database) -> tuple[dict[Any, Any], dict[uuid.UUID, Decimal]]:
    """Every receivable row's figures by (account, currency), and every account's arrears."""
    async with db.reading() as session:
        rows = (await session.execute(sa.select(Receivable.__table__))).all()
        arrears = dict((await session.execute(sa.select(Account.id, Account.arrears))).all())
    names = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90", "overdue", "total")
    return {(r.account_id, r.currency): tuple(getattr(r, n) for n in names) for r in rows}, arrears


async def refresh_each(db: Database, accounts: list[uuid.UUID], today: dt.date) -> int:
    """The per-account path on every account, one by one; how many it changed."""
    changed = 0
    for account_id in accounts:
        async with db.transaction() as session, writer().batch(session):
            account = await standing.lock_account(session, account_id)
            changed += await standing.refresh(session, writer(), account, today, principal=None)
    return changed


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_bulk_ageing_equals_the_per_account_path(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    book = await random_book(db, rng, 25)
    for today in (TODAY, TODAY + dt.timedelta(days=31)):  # a second day moves the buckets
        now = dt.datetime.combine(today, dt.time(6), tzinfo=dt.UTC)
        await age_receivables(db, writer(), now, batch_size=7)  # batches of 7 accounts
        bulk = await figures(db)
        # the per-account path finds nothing to change after the bulk run ...
        assert await refresh_each(db, list(book), today) == 0
        assert await figures(db) == bulk
        # ... and the figures are those of the pure rule, summed independently here
        owed = {
            account: {
                currency: age(
                    [
                        (due, left)
                        for cur, due, left, contract, state in kept
                        if cur == currency
                        and state == "open"
                        and contract in ("active", "completed")
                    ],
                    today,
                )
                for currency in {
                    k[0] for k in kept if k[3] in ("active", "completed") and k[4] == "open"
                }
            }
            for account, kept in book.items()
        }
        receivables, arrears = bulk
        for account, by_currency in owed.items():
            assert arrears[account] == sum(a.overdue for a in by_currency.values())
            for currency, ageing in by_currency.items():
                values = ageing.as_dict()
                assert receivables[(account, currency)] == tuple(
                    values[n]
                    for n in ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")
                ) + (ageing.overdue, ageing.total)
        # nothing else is owed: a receivable without an open instalment behind it is all 0
        for (account, currency), values in receivables.items():
            if currency not in owed[account]:
                assert set(values) == {0}


@pytest.mark.parametrize("seed", [4, 5])
async def test_after_the_per_account_path_the_bulk_ageing_changes_nothing(
    db: Database, seed: int
) -> None:
    book = await random_book(db, random.Random(seed), 25)
    assert await refresh_each(db, list(book), TODAY) > 0
    before = await figures(db)
    summary = await age_receivables(db, writer(), NOW, batch_size=6)
    assert summary.changed == 0
    assert await figures(db) == before


async def test_the_bulk_ageing_writes_through_the_change_log(db: Database) -> None:
    book = await random_book(db, random.Random(6), 12)
    await age_receivables(db, writer(), NOW, batch_size=5)
    async with db.reading() as session:
        rows = (
            await session.execute(sa.select(Receivable.__table__.c.id, Receivable.version))
        ).all()
        tracked = dict(
            (
                await session.execute(
                    sa.select(sync_records.c.record_id, sync_records.c.version).where(
                        sync_records.c.entity == "receivable"
                    )
                )
            ).all()
        )
        accounts = set(
            (
                await session.execute(
                    sa.select(sync_records.c.record_id).where(sync_records.c.entity == "account")
                )
            ).scalars()
        )
    assert rows and {r.id: r.version for r in rows} == tracked
    # every account whose arrears changed (typed by hand, or now overdue) is tracked now
    _, arrears = await figures(db)
    assert {a for a in book if arrears[a] != 0} <= accounts
