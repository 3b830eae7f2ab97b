"""Visit plans by value tier: ``outpost plan-visits`` (idempotent) and the overdue list."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from server.settings import Settings
from server.sfa.visits.models import Visit
from server.sfa.visits.planning import VisitPlanner
from tests.builders import auth_headers, make_user
from tests.synctools import act_as, create_as, device_for, insert_account, writer

START = dt.date(2026, 5, 4)  # a Monday
SHANGHAI = (31.2304, 121.4737)


async def planned_days(db, account_id: uuid.UUID) -> list[dt.date]:
    async with db.transaction() as session:
        rows = await session.execute(
            sa.select(Visit.planned_at)
            .where(Visit.account_id == account_id, Visit.status == "planned")
            .order_by(Visit.planned_at)
        )
        return [moment.date() for (moment,) in rows]


def planner(db, **settings) -> VisitPlanner:
    return VisitPlanner(db, writer(), Settings(**settings))


async def test_plan_visits_follows_each_tiers_rhythm_and_never_plans_twice(db) -> None:
    rep = await make_user(db, "rep")
    vip = await insert_account(db, owner_id=rep.id, value_tier="vip")
    key = await insert_account(db, owner_id=rep.id, value_tier="key")
    regular = await insert_account(db, owner_id=rep.id, value_tier="regular")
    churned = await insert_account(db, owner_id=rep.id, value_tier="vip", lifecycle_stage="churned")
    unowned = await insert_account(db, value_tier="vip")

    report = await planner(db).plan(days=28, start=START)
    assert [d - START for d in await planned_days(db, vip)] == [
        dt.timedelta(days=n) for n in (0, 7, 14, 21)
    ]
    assert [d - START for d in await planned_days(db, key)] == [
        dt.timedelta(days=n) for n in (0, 14)
    ]
    assert await planned_days(db, regular) == [START]
    assert await planned_days(db, churned) == [] and await planned_days(db, unowned) == []
    assert (report.planned, report.accounts) == (7, 3)  # the churned account is not planned

    again = await planner(db).plan(days=28, start=START)
    assert again.planned == 0  # idempotent: every plan exists already
    assert len(await planned_days(db, vip)) == 4

    longer = await planner(db).plan(days=35, start=START)
    assert longer.planned == 3  # only what falls in the new week: each one's next visit
    assert [d - START for d in await planned_days(db, vip)][-1] == dt.timedelta(days=28)
    assert [d - START for d in await planned_days(db, key)][-1] == dt.timedelta(days=28)
    assert [d - START for d in await planned_days(db, regular)][-1] == dt.timedelta(days=30)


async def test_plans_start_after_the_last_counted_visit_at_the_reps_hour(db) -> None:
    rep = await make_user(db, "rep", timezone="Asia/Shanghai")
    account = await insert_account(
        db, owner_id=rep.id, value_tier="vip", latitude=SHANGHAI[0], longitude=SHANGHAI[1]
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    visit = await create_as(
        db,
        rep,
        "visit",
        {"account_id": str(account), "planned_at": (now - dt.timedelta(minutes=30)).isoformat()},
    )
    checked = {"at": now.isoformat(), "latitude": SHANGHAI[0], "longitude": SHANGHAI[1]}
    await act_as(db, rep, "visit", visit["id"], "check_in", checked)
    today = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    await planner(db, visit_plan_hour=10).plan(days=10, start=today)
    async with db.transaction() as session:
        planned = (
            (
                await session.execute(
                    sa.select(Visit.planned_at).where(
                        Visit.account_id == account, Visit.status == "planned"
                    )
                )
            )
            .scalars()
            .all()
        )
    # visited today (Shanghai): next due in 7 days, at 10:00 Shanghai = 02:00 UTC
    assert planned == [dt.datetime.combine(today + dt.timedelta(days=7), dt.time(2), tzinfo=dt.UTC)]


async def test_a_refused_make_up_does_not_count_for_the_rhythm(client, db) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    account = await insert_account(
        db, owner_id=rep.id, value_tier="vip", latitude=SHANGHAI[0], longitude=SHANGHAI[1]
    )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    visit = await create_as(
        db, rep, "visit", {"account_id": str(account), "planned_at": now.isoformat()}
    )
    far = {
        "at": now.isoformat(),
        "latitude": SHANGHAI[0] + 0.05,
        "longitude": SHANGHAI[1],
        "makeup_reason": "plan_changed",
    }
    await act_as(db, rep, "visit", visit["id"], "check_in", far)
    headers = await auth_headers(db, manager)
    overdue = await client.get("/visits/overdue", params={"rep_id": str(rep.id)}, headers=headers)
    assert [a["account_id"] for a in overdue.json()] == [str(account)]  # pending: not counted
    await client.post(f"/visits/{visit['id']}/refuse", json={}, headers=headers)
    still = await client.get("/visits/overdue", params={"rep_id": str(rep.id)}, headers=headers)
    assert [a["account_id"] for a in still.json()] == [str(account)]
    assert still.json()[0]["last_visit_at"] is None


async def test_the_overdue_list_shows_accounts_past_their_rhythm(client, db) -> None:
    manager = await make_user(db, "manager")
    rep = await make_user(db, "rep", manager_id=manager.id)
    stranger = await make_user(db, "rep")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    visited = {}
    for tier, days_ago in (("vip", 10), ("key", 10), ("regular", 40), ("low", 1)):
        account = await insert_account(
            db, owner_id=rep.id, value_tier=tier, latitude=SHANGHAI[0], longitude=SHANGHAI[1]
        )
        when = now - dt.timedelta(days=days_ago)
        async with db.transaction() as session:  # a visit done then (inserted as history)
            await writer().create(
                session,
                "visit",
                {
                    "id": uuid.uuid4(),
                    "account_id": account,
                    "rep_id": rep.id,
                    "planned_at": when,
                    "status": "completed",
                    "check_in_at": when,
                },
                principal=None,
            )
        visited[tier] = account
    never = await insert_account(db, owner_id=rep.id, value_tier="key")
    await insert_account(db, owner_id=stranger.id, value_tier="vip")  # not the manager's
    headers = await auth_headers(db, manager)

    answer = await client.get("/visits/overdue", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [a["account_id"] for a in body] == [
        str(never),  # never visited: first
        str(visited["regular"]),  # 10 days overdue
        str(visited["vip"]),  # 3 days overdue
    ]  # the key account (due in 4 days) and the low one are not overdue
    assert [a["days_overdue"] for a in body] == [0, 10, 3]
    assert body[2]["due_on"] == (now - dt.timedelta(days=3)).date().isoformat()
    assert body[1]["value_tier"] == "regular" and body[1]["owner_id"] == str(rep.id)
    limited = await client.get("/visits/overdue", params={"limit": 1}, headers=headers)
    assert [a["account_id"] for a in limited.json()] == [str(never)]
    as_rep = await client.get("/visits/overdue", headers=await auth_headers(db, rep))
    assert as_rep.status_code == 403


async def test_planned_visits_reach_the_reps_device(client, db) -> None:
    rep = await make_user(db, "rep")
    account = await insert_account(db, owner_id=rep.id, value_tier="vip")
    phone = await device_for(client, db, rep)
    await phone.snapshot()
    await planner(db).plan(days=7, start=START)
    held, _ = await phone.snapshot()
    visits = [r for (entity, _id), r in held.items() if entity == "visit"]
    assert [(v["account_id"], v["status"], v["rep_id"]) for v in visits] == [
        (str(account), "planned", str(rep.id))
    ]


async def test_a_bad_period_or_plan_hour_is_refused_with_the_field(db) -> None:
    import pytest

    from server.errors import ValidationFailed

    for days, settings, field in ((0, {}, "days"), (7, {"visit_plan_hour": 24}, "visit_plan_hour")):
        with pytest.raises(ValidationFailed) as caught:
            await planner(db, **settings).plan(days=days, start=START)
        assert caught.value.field == field
