"""``outpost plan-visits``: plans by value tier through the change writer, twice is once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from server.cli import main
from server.db import Database, create_engine
from server.sfa.visits.models import Visit
from tests.builders import make_user
from tests.integration.test_cli import empty_url  # noqa: F401  (the fixture)
from tests.synctools import insert_account


async def seed(url: str) -> uuid.UUID:
    db = Database(create_engine(url))
    try:
        rep = await make_user(db, "rep")
        return await insert_account(db, owner_id=rep.id, value_tier="vip")
    finally:
        await db.dispose()


async def planned(url: str, account_id: uuid.UUID) -> list[str]:
    db = Database(create_engine(url))
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(Visit.planned_at).where(Visit.account_id == account_id)
            )
            return sorted(str(moment) for (moment,) in rows)
    finally:
        await db.dispose()


def test_plan_visits_plans_once_and_reports_it(
    empty_url: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["migrate"]) == 0
    account = asyncio.run(seed(empty_url))
    capsys.readouterr()
    assert main(["plan-visits", "--days", "14", "--start", "2026-05-04"]) == 0
    out = capsys.readouterr().out
    assert "planned" in out and "over 14 days" in out
    first = asyncio.run(planned(empty_url, account))
    assert len(first) == 2  # a VIP every 7 days: the 4th and the 11th
    assert main(["plan-visits", "--days", "14", "--start", "2026-05-04"]) == 0
    assert capsys.readouterr().out.startswith("planned 0 visits")
    assert asyncio.run(planned(empty_url, account)) == first


def test_plan_visits_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as bad_days:
        main(["plan-visits", "--days", "0"])
    assert bad_days.value.code == 2
    with pytest.raises(SystemExit) as bad_start:
        main(["plan-visits", "--start", "tomorrow"])
    assert bad_start.value.code == 2
    assert "--start" in capsys.readouterr().err
