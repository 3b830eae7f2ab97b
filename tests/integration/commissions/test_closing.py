"""Closing a period (the service, ``outpost close-commissions`` and the scheduler job): it is
idempotent, a closed statement is locked against later orders, splits and plans, and the rep's
manager (or an admin) approves it."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import msgspec
import pytest

from server.cli import main
from server.db import Database, create_engine
from server.notifications.clock import FixedClock
from server.notifications.scheduler import JOBS, Workers, run_job
from server.notifications.senders import LoggingSender
from server.settings import Settings
from server.sfa.commissions.plan_service import PlanService
from server.sfa.commissions.schemas import PlanInput
from server.sfa.commissions.statement_service import close_period
from server.sync.registry import Principal
from tests.builders import auth_headers, make_user
from tests.integration.commissions.builders import (
    category_product,
    compute,
    confirmed_order,
    plan_body,
    post_plan,
)
from tests.integration.test_cli import empty_url  # noqa: F401  (the fixture)
from tests.synctools import writer

D = Decimal
AFTER_NOVEMBER = dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC)


async def seeded(db: Database, settings: Settings) -> tuple[object, object]:
    """A rep plan, a manager and their rep with a November order of 100 hardware (8.00)."""
    admin = await make_user(db, "admin")
    service = PlanService(db, writer(), Principal(user_id=admin.id, role="admin"), settings)
    await service.create_plan(msgspec.convert(plan_body(), PlanInput, strict=False))
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    hardware = await category_product(db, "hardware")
    await confirmed_order(db, rep.id, [(hardware, "1", "100")])
    return manager, rep


async def test_a_closed_statement_is_locked_and_approved_by_the_manager(
    client, db, settings
) -> None:
    manager, rep = await seeded(db, settings)
    rep_headers, boss = await auth_headers(db, rep), await auth_headers(db, manager)
    [open_one] = await compute(client, rep_headers, "2026-11")
    url = f"/commissions/statements/{open_one['id']}"
    early = await client.post(f"{url}/approve", headers=boss)
    assert early.status_code == 409 and early.json()["code"] == "invalid_state"
    with pytest.raises(Exception, match="has not ended"):
        await close_period(db, settings, "2026-11", dt.datetime(2026, 11, 30, 23, tzinfo=dt.UTC))

    lines: list[str] = []
    assert await close_period(db, settings, "2026-11", AFTER_NOVEMBER, lines.append) == 1
    assert lines[-1] == "1 statements of 2026-11 closed"
    assert await close_period(db, settings, "2026-11", AFTER_NOVEMBER) == 0  # idempotent
    closed = (await client.get(url, headers=rep_headers)).json()
    assert closed["status"] == "closed" and closed["lines"] == open_one["lines"]

    # a late November order, a split of the closed order, and a plan change leave it alone
    hardware = await category_product(db, "hardware")
    late = await confirmed_order(db, rep.id, [(hardware, "1", "1000")])
    admin = await auth_headers(db, await make_user(db, "admin"))
    again = await client.post(
        "/commissions/plans", json=plan_body(valid_from="2026-11-15"), headers=admin
    )
    assert again.status_code == 409 and again.json()["code"] == "period_closed"
    await post_plan(client, admin, valid_from="2026-12-01", default_rate_pct="50")
    shares = {"shares": [{"rep_id": str(manager.id), "share_pct": "100"}]}
    split = await client.put(f"/orders/{late}/credit-splits", json=shares, headers=boss)
    assert split.status_code == 409 and split.json()["code"] == "period_closed"
    [recomputed] = await compute(client, rep_headers, "2026-11")
    assert recomputed["lines"] == open_one["lines"] and recomputed["version"] == closed["version"]
    assert await close_period(db, settings, "2026-11", AFTER_NOVEMBER) == 0
    assert (await client.get(url, headers=rep_headers)).json()["total"] == closed["total"]

    as_rep = await client.post(f"{url}/approve", headers=rep_headers)
    assert as_rep.status_code == 403
    stranger = await auth_headers(db, await make_user(db, "manager"))
    assert (await client.post(f"{url}/approve", headers=stranger)).status_code == 404
    approved = await client.post(f"{url}/approve", headers=boss)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["approved_by"]) == ("approved", str(manager.id))
    twice = await client.post(f"{url}/approve", headers=boss)
    assert twice.status_code == 409


async def test_the_scheduler_closes_the_previous_period_once(db, settings) -> None:
    await seeded(db, settings)
    clock = FixedClock(AFTER_NOVEMBER)
    one, two = (Workers(db, settings, writer(), LoggingSender(), clock) for _ in range(2))
    [job] = [job for job in JOBS if job.name == "close_commissions"]
    assert await run_job(one, job) == 1
    assert await run_job(two, job) is None  # leased: one process per interval


def test_close_commissions_command(empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    assert main(["migrate"]) == 0

    async def seed() -> None:
        db = Database(create_engine(empty_url))
        try:
            await seeded(db, Settings(database_url=empty_url))
        finally:
            await db.dispose()

    asyncio.run(seed())
    capsys.readouterr()
    assert main(["close-commissions", "--period", "2026-11"]) == 0
    out = capsys.readouterr().out
    assert "computing the statements of 2026-11" in out
    assert out.endswith("  1 statements of 2026-11 closed\n")
    assert main(["close-commissions", "--period", "2026-11"]) == 0
    assert capsys.readouterr().out.endswith("  0 statements of 2026-11 closed\n")
    assert main(["close-commissions", "--period", "2026-13"]) == 1  # refused, naming the flag
    assert "--period" in capsys.readouterr().err
