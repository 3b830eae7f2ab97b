"""``outpost age-receivables``: derives arrears from overdue instalments, with progress."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from server.cli import main
from server.db import Database, create_engine
from server.sfa.accounts.models import Account
from server.sfa.contracts.models import Contract, Instalment
from tests.integration.test_cli import empty_url  # noqa: F401  (the fixture)
from tests.synctools import insert_account


async def seed(url: str) -> uuid.UUID:
    """An account with an active contract and one instalment due on 2026-05-01."""
    db = Database(create_engine(url))
    try:
        account = await insert_account(db)
        contract, instalment = uuid.uuid4(), uuid.uuid4()
        async with db.transaction() as session:
            await session.execute(
                sa.insert(Contract.__table__).values(
                    id=contract,
                    account_id=account,
                    status="active",
                    value=Decimal("80"),
                    currency="CNY",
                    outstanding=Decimal("80"),
                    start_date=dt.date(2026, 1, 1),
                    end_date=dt.date(2026, 12, 31),
                )
            )
            await session.execute(
                sa.insert(Instalment.__table__).values(
                    id=instalment,
                    contract_id=contract,
                    account_id=account,
                    seq=1,
                    due_date=dt.date(2026, 5, 1),
                    amount=Decimal("80"),
                    outstanding=Decimal("80"),
                    currency="CNY",
                )
            )
        return account
    finally:
        await db.dispose()


async def arrears_of(url: str, account_id: uuid.UUID) -> Decimal:
    db = Database(create_engine(url))
    try:
        async with db.engine.connect() as conn:
            return (
                await conn.execute(sa.select(Account.arrears).where(Account.id == account_id))
            ).scalar_one()
    finally:
        await db.dispose()


def test_age_receivables_derives_arrears_and_reports_it(
    empty_url: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["migrate"]) == 0
    account = asyncio.run(seed(empty_url))
    capsys.readouterr()
    assert main(["age-receivables", "--date", "2026-05-01"]) == 0  # due that day: not overdue
    # the receivable row is written (all current), arrears stays 0
    assert capsys.readouterr().out.endswith("as of 2026-05-01: 1 changed, 0 in arrears\n")
    assert asyncio.run(arrears_of(empty_url, account)) == 0
    assert main(["age-receivables", "--date", "2026-05-02"]) == 0
    out = capsys.readouterr().out
    assert "  1 accounts aged" in out
    assert out.endswith(
        "aged receivables of 1 accounts as of 2026-05-02: 1 changed, 1 in arrears\n"
    )
    assert asyncio.run(arrears_of(empty_url, account)) == Decimal("80")


def test_age_receivables_refuses_a_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as bad:
        main(["age-receivables", "--date", "tomorrow"])
    assert bad.value.code == 2
